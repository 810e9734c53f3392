"""Uploaded pictures work with DEBUG off (issue #21, finding 4): Aisle serves its
local media files to signed-in users by the access rules (return photos to staff
only), makes thumbnails sized for the tablet, and can keep them in an S3-compatible
store instead (signed URLs, short timeouts)."""

from __future__ import annotations

import io

import environ
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from retail import media
from retail.storage_settings import storages
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.DEBUG = False
    media._known.clear()
    return tmp_path


def png(width=400, height=300, colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def files():
    return {
        "product": default_storage.save("products/coat-red.png", ContentFile(png())),
        "photo": default_storage.save("returns/2026/12/scuffed.png", ContentFile(png(50, 50))),
    }


def test_a_product_picture_is_served_with_debug_off_to_staff_and_kiosks(
    files, associate, kiosk_user
):
    for user in (associate, kiosk_user):
        response = signed_in(user).get(f"/media/{files['product']}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == png()
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, max-age=86400"


def test_nobody_signed_out_learns_that_a_file_exists(client, files):
    assert client.get(f"/media/{files['product']}").status_code == 404
    assert client.get(f"/media/{files['photo']}").status_code == 404


def test_return_photos_are_for_staff_not_for_the_kiosk(files, associate, kiosk_user, hq_client):
    response = signed_in(associate).get(f"/media/{files['photo']}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"  # a customer's item: never kept
    assert hq_client.get(f"/media/{files['photo']}").status_code == 200
    assert signed_in(kiosk_user).get(f"/media/{files['photo']}").status_code == 403


def test_paths_outside_the_media_folders_are_refused(files, associate, media_root):
    (media_root / "secret.txt").write_text("not for you")
    client = signed_in(associate)
    assert client.get("/media/secret.txt").status_code == 403
    assert client.get("/media/products/../secret.txt").status_code == 403
    assert client.get("/media/products/./coat-red.png").status_code == 403
    assert client.get("/media/products//coat-red.png").status_code == 403
    assert client.get("/media/products/missing.png").status_code == 404


def test_a_thumbnail_is_made_once_sized_for_the_tablet_and_served(files, associate):
    url = media.thumbnail_url(files["product"], 192)
    assert url == "/media/thumbs/192/products/coat-red.webp"
    with default_storage.open("thumbs/192/products/coat-red.webp", "rb") as f:
        thumb = Image.open(f)
        assert thumb.format == "WEBP" and thumb.size == (192, 144)  # 400×300 kept in ratio
    stamp = default_storage.get_modified_time("thumbs/192/products/coat-red.webp")
    media._known.clear()
    assert media.thumbnail_url(files["product"], 190) == url  # the nearest size, not remade
    assert default_storage.get_modified_time("thumbs/192/products/coat-red.webp") == stamp
    response = signed_in(associate).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"


def test_a_missing_picture_falls_back_to_its_own_url_and_no_picture_to_nothing(db):
    assert media.thumbnail_url("products/gone.png", 192) == "/media/products/gone.png"
    assert media.thumbnail_url("", 192) == ""
    assert media.thumbnail_url(None, 192) == ""


def test_the_endless_aisle_shows_thumbnails(files, associate, store):
    product = factories.ProductFactory(style_code="COAT-1", name="Red coat")
    product.image = files["product"]
    product.save()
    factories.VariantFactory(product=product, sku="COAT-1-M")
    html = signed_in(associate).get("/store/aisle/COAT-1/").content.decode()
    assert 'src="/media/thumbs/320/products/coat-red.webp"' in html


def test_the_s3_choice_uses_django_storages_with_signed_urls_and_short_timeouts(monkeypatch):
    monkeypatch.setenv("AISLE_MEDIA_STORAGE", "s3")
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "aisle-media")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "https://objects.example.net")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    config = storages(environ.Env())
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    from storages.backends.s3 import S3Storage

    storage = S3Storage(**config["OPTIONS"])
    url = storage.url("products/coat-red.png")  # signed locally: no network call
    assert url.startswith("https://objects.example.net/aisle-media/media/products/coat-red.png?")
    assert "Signature" in url and "Expires" in url
    client_config = config["OPTIONS"]["client_config"]
    assert client_config.connect_timeout <= 2 and client_config.read_timeout <= 5


def test_an_unknown_storage_choice_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("AISLE_MEDIA_STORAGE", "ftp")
    with pytest.raises(ValueError, match="local' or 's3"):
        storages(environ.Env())
