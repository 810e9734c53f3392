"""The customer 360 panel, its actions, and the home screen's follow-ups panel."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from clienteling import recommendations, views
from clienteling.models import FollowUpTask, Note, Outreach
from retail import fragments
from retail.models import AuditLog, Customer, OutboundMessage
from tests import factories
from tests.clienteling.factories import BrowsingEventFactory, sale

pytestmark = pytest.mark.django_db


def panel_url(customer):
    """The customer page, which renders the 360 section in the same response."""
    return f"/store/customers/{customer.pk}/"


def _history(customer, store, n):
    variants = [factories.VariantFactory() for _ in range(4)]
    for variant in variants:
        factories.give_stock(factories.store_location(store), variant, 3)
    now = timezone.now()
    for i in range(n):
        variant = variants[i % 4]
        kind = ("product_view", "add_to_cart", "wishlist_add", "product_view")[i % 4]
        BrowsingEventFactory(
            customer=customer, variant=variant, kind=kind, occurred_at=now - dt.timedelta(hours=i)
        )
        BrowsingEventFactory(
            customer=customer,
            variant=None,
            sku="",
            kind="search",
            query=f"q{i % 7}",
            occurred_at=now - dt.timedelta(hours=i),
        )
    for i in range(max(1, n // 10)):
        sale(customer, variants[i % 4], store=store)


def _section(response) -> str:
    """The 360 section, each CSRF token (masked anew on every response) and each
    form's one-time nonce (new on every response) blanked."""
    section = response.content.decode().split('id="customer-360"')[1]
    return re.sub(r'name="(csrfmiddlewaretoken|nonce)" value="[^"]+"', r"\1", section)


@pytest.mark.parametrize("size", [4, 60])
def test_the_panel_runs_in_a_fixed_number_of_queries(
    client, associate, store, size, django_assert_max_num_queries, settings
):
    # As deployed with Redis (one test process shares its locmem cache): sessions and the
    # signed-in user are read from the cache, whatever database the suite runs on.
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    customer = factories.CustomerFactory(sizes={"top": "M"})
    _history(customer, store, size)
    recommendations.rebuild()
    client.force_login(associate)
    client.get(panel_url(customer))  # warm the network and product caches
    # The profile changed: every section of the page is rendered again (cold).
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now())
    with django_assert_max_num_queries(30):
        response = client.get(panel_url(customer))
    assert response.status_code == 200
    # Rendered once and kept until something changes: session, user, customer, the
    # audit row and the panel's stamp.
    with django_assert_max_num_queries(6):
        again = client.get(panel_url(customer))
    panel = _section(response)
    assert 'id="recommendations"' in panel
    assert _section(again) == panel
    with django_assert_max_num_queries(10):
        assert (
            client.get(f"/store/clienteling/customers/{customer.pk}/purchases/?page=2").status_code
            == 200
        )


def test_every_view_of_the_page_is_audit_logged(client, associate, store):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    client.get(panel_url(customer))
    client.get(panel_url(customer))
    actions = list(
        AuditLog.objects.filter(target_id=str(customer.pk), actor=associate).values_list(
            "action", flat=True
        )
    )
    assert actions == ["customer.view", "customer.view"]


def test_the_customer_page_renders_the_360_section_in_the_same_response(client, associate):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    html = client.get(panel_url(customer)).content.decode()
    section = html.split('id="customer-360"')[1]
    for part in ('id="journey"', 'id="recommendations"', 'id="notes"', 'id="tasks"'):
        assert part in section
    assert 'hx-trigger="load"' not in html


def test_the_cached_panel_carries_each_readers_own_csrf_token_and_nonce(associate, store):
    """The panel is kept once for every associate; its forms must post with the
    token of whoever reads it, never the one of who happened to render it."""
    from django.test import Client

    customer = factories.CustomerFactory(tracking_consent=True, marketing_consent=True)
    other = factories.StaffFactory(role="associate", home_store=store)
    nonces = []
    for user in (associate, other):
        c = Client(enforce_csrf_checks=True)
        c.force_login(user)
        html = c.get(panel_url(customer)).content.decode()
        section = html.split('id="customer-360"')[1]
        assert fragments.CSRF_SLOT not in section and views.NONCE_SLOT not in section
        nonces.append(section.split('name="nonce" value="')[1].split('"')[0])
        token = section.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        posted = c.post(
            f"/store/clienteling/customers/{customer.pk}/notes/",
            {"text": f"by {user.pk}", "csrfmiddlewaretoken": token},
        )
        assert posted.status_code == 302
    assert Note.objects.filter(customer=customer).count() == 2
    # Each reader's message form is its own: a second associate's message is not
    # mistaken for a double tap on the first one's.
    assert len(set(nonces)) == 2


def test_a_note_is_added_and_audit_logged(client, associate):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/notes/", {"text": "Prefers linen"}
    )
    assert response.status_code == 302
    note = Note.objects.get()
    assert (note.text, note.author, note.customer) == ("Prefers linen", associate, customer)
    assert AuditLog.objects.filter(action="customer.note_add", detail__note_id=note.pk).exists()
    assert "Prefers linen" in client.get(panel_url(customer)).content.decode()


def test_a_note_of_100_kb_is_refused_clearly(client, associate):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/notes/", {"text": "x" * 100_000}
    )
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert not Note.objects.exists()


def test_a_follow_up_appears_on_the_home_panel_and_can_be_done(client, associate, store):
    customer = factories.CustomerFactory(name="Ada Fern")
    client.force_login(associate)
    due = store.local_now().date() + dt.timedelta(days=1)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/tasks/",
        {"title": "Call about the jacket", "due_on": due.isoformat()},
    )
    assert response.status_code == 302
    panel = client.get("/store/clienteling/tasks/").content.decode()
    assert "Call about the jacket" in panel and "Ada Fern" in panel
    task = FollowUpTask.objects.get()
    client.post(f"/store/clienteling/tasks/{task.pk}/done/", {"next": "home"})
    client.post(f"/store/clienteling/tasks/{task.pk}/done/", {"next": "home"})  # double tap
    task.refresh_from_db()
    assert task.state == "done"
    assert AuditLog.objects.filter(action="customer.task_done").count() == 1
    assert "Call about the jacket" not in client.get("/store/clienteling/tasks/").content.decode()


def test_a_bad_due_date_is_refused(client, associate):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/tasks/", {"title": "x", "due_on": "soon"}
    )
    assert response.status_code == 400
    assert not FollowUpTask.objects.exists()


def test_outreach_previews_then_sends_once_with_marketing_consent(
    client, associate, django_capture_on_commit_callbacks
):
    customer = factories.CustomerFactory(marketing_consent=True, name="Mei Chen")
    client.force_login(associate)
    form = {"subject": "Your jacket is in", "body": "We kept a size M for you.", "nonce": "n1"}
    preview = client.post(
        f"/store/clienteling/customers/{customer.pk}/outreach/preview/", form
    ).content.decode()
    assert "Hello Mei," in preview and "We kept a size M for you." in preview
    assert not OutboundMessage.objects.exists()
    for _ in range(2):  # a double tap sends once
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/store/clienteling/customers/{customer.pk}/outreach/", form)
        assert response.status_code == 302
    assert Outreach.objects.count() == 1 and OutboundMessage.objects.count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Your jacket is in"


def test_outreach_is_refused_without_marketing_consent(client, associate):
    customer = factories.CustomerFactory(marketing_consent=False)
    client.force_login(associate)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/outreach/",
        {"subject": "Hi", "body": "Sale!", "nonce": "n2"},
    )
    assert response.status_code == 400
    assert "not agreed to marketing" in response.content.decode()
    assert not OutboundMessage.objects.exists()


def test_wishlist_item_back_in_stock_creates_a_follow_up(store, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(preferred_store=store, sizes={"top": "M"})
    variant = factories.VariantFactory(size="M", product__name="Trench coat")
    BrowsingEventFactory(customer=customer, variant=variant, kind="wishlist_add")
    shelf = factories.store_location(store)
    with django_capture_on_commit_callbacks(execute=True):
        factories.give_stock(shelf, variant, 2)
    task = FollowUpTask.objects.get()
    assert task.customer == customer and task.store == store
    assert (
        "Trench coat" in task.title
        and task.source == f"stock_replenished:{store.code}:{variant.sku}"
    )


def test_the_panel_shows_new_browsing_and_new_affinities_at_once(client, associate, store):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    assert "Harbour raincoat" not in client.get(panel_url(customer)).content.decode()
    raincoat = factories.VariantFactory(product__name="Harbour raincoat")
    BrowsingEventFactory(customer=customer, variant=raincoat)
    assert "Harbour raincoat" in client.get(panel_url(customer)).content.decode()


def test_a_preview_without_a_message_says_what_is_missing(client, associate):
    customer = factories.CustomerFactory(marketing_consent=True)
    client.force_login(associate)
    response = client.post(
        f"/store/clienteling/customers/{customer.pk}/outreach/preview/",
        {"subject": "Hello", "body": "", "nonce": "n3"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not OutboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("path", "fields", "model"),
    [
        ("notes", {"text": "Prefers linen"}, Note),
        ("tasks", {"title": "Call about the linen shirt", "due_on": "2030-01-02"}, FollowUpTask),
    ],
)
def test_a_double_tap_on_add_note_or_follow_up_saves_once(client, associate, path, fields, model):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    html = client.get(panel_url(customer)).content.decode()
    form = html.split(f'action="/store/clienteling/customers/{customer.pk}/{path}/"')[1]
    nonce = form.split('name="nonce" value="')[1].split('"')[0]
    url = f"/store/clienteling/customers/{customer.pk}/{path}/"
    for _tap in range(2):
        assert client.post(url, {**fields, "nonce": nonce}).status_code == 302
    assert model.objects.filter(customer=customer).count() == 1
    # The next page brings a new form: the same words sent from it are saved again.
    html = client.get(panel_url(customer)).content.decode()
    form = html.split(f'action="/store/clienteling/customers/{customer.pk}/{path}/"')[1]
    fresh = form.split('name="nonce" value="')[1].split('"')[0]
    assert fresh != nonce
    assert client.post(url, {**fields, "nonce": fresh}).status_code == 302
    assert model.objects.filter(customer=customer).count() == 2


def test_a_stock_feed_sends_one_event_for_many_skus_and_follows_up_the_wished_one(
    store, django_capture_on_commit_callbacks
):
    from inventory import feed
    from retail.models import OutboxEntry

    customer = factories.CustomerFactory(preferred_store=store, sizes={"top": "M"})
    wished = factories.VariantFactory(size="M", product__name="Trench coat")
    others = [factories.VariantFactory(size="M") for _ in range(3)]
    BrowsingEventFactory(customer=customer, variant=wished, kind="wishlist_add")
    factories.store_location(store)
    lines = [feed.MovementLine(v.sku, 4) for v in [*others, wished]]
    with django_capture_on_commit_callbacks(execute=True):
        feed.stock_movement_apply(
            movement_ref="ERP-9", location=store.code, kind="receipt", lines=lines
        )
    event = OutboxEntry.objects.get(name="stock_replenished", receiver="")
    assert sorted(event.payload["variant_ids"]) == sorted(v.pk for v in [*others, wished])
    task = FollowUpTask.objects.get()
    assert task.source == f"stock_replenished:{store.code}:{wished.sku}"
