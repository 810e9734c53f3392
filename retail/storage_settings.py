"""The media storage the settings choose (`AISLE_MEDIA_STORAGE`): read by
`retail/settings.py`, so it imports nothing of Django's models. What each choice
means is in `retail.media`."""

from __future__ import annotations


def storages(env) -> dict:
    """The `STORAGES["default"]` entry for the `AISLE_MEDIA_STORAGE` setting."""
    kind = env.str("AISLE_MEDIA_STORAGE", default="local")
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ValueError(f"AISLE_MEDIA_STORAGE must be 'local' or 's3', not {kind!r}")
    from botocore.config import Config

    options = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "location": env.str("AWS_LOCATION", default="media"),
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,  # signed URLs: return photos stay private
        "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=3600),
        # Every external call has a short timeout (README "Failure").
        "client_config": Config(
            connect_timeout=env.float("AWS_S3_CONNECT_TIMEOUT", default=2.0),
            read_timeout=env.float("AWS_S3_READ_TIMEOUT", default=5.0),
            retries={"max_attempts": 2},
        ),
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
