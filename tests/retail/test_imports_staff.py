"""Staff in bulk: new people invited by e-mail to choose a password, never a password
in a file; unknown stores and roles refused."""

from __future__ import annotations

import pytest
from django.core import mail

from retail.models import Role, User
from tests.retail.import_files import column, csv_file, export_to, run

pytestmark = pytest.mark.django_db

HEADER = ["email", "first_name", "last_name", "role", "stores", "active"]


def test_a_new_staff_member_is_invited_to_choose_a_password(
    tmp_path, store, other_store, hq_user, django_capture_on_commit_callbacks, client
):
    path = csv_file(
        tmp_path,
        [HEADER, ["Lea.Martin@Example.com", "Léa", "Martin", "associate", "S01 S02", ""]],
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = run("staff", path, by=hq_user)
    assert report.summary()["created"] == 1, report.errors
    user = User.objects.get(email="lea.martin@example.com")
    assert not user.has_usable_password()
    profile = user.staff_profile
    assert (profile.role, profile.home_store, list(profile.other_stores.all())) == (
        Role.ASSOCIATE,
        store,
        [other_store],
    )
    assert list(user.groups.values_list("name", flat=True)) == ["associate"]
    [invite] = mail.outbox
    assert invite.to == ["lea.martin@example.com"]
    assert "choose your password" in invite.subject
    link = next(
        line for line in invite.body.splitlines() if "/accounts/password/reset/key/" in line
    )
    page = client.get(link.strip().removeprefix("http://localhost:8000"), follow=True)
    assert page.status_code == 200
    assert b"password1" in page.content  # the link opens the form to choose a password


def test_an_import_never_sends_an_invite_twice_and_the_second_run_changes_nothing(
    tmp_path, store, django_capture_on_commit_callbacks
):
    path = csv_file(
        tmp_path, [HEADER, ["a@example.com", "Ann", "Lee", "store_manager", "S01", "yes"]]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run("staff", path)
    with django_capture_on_commit_callbacks(execute=True):
        report = run("staff", path)
    assert report.summary() == {"created": 0, "updated": 0, "unchanged": 1}
    assert len(mail.outbox) == 1


def test_unknown_stores_and_roles_are_refused_by_row_and_column(tmp_path, store):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            ["a@example.com", "Ann", "Lee", "associate", "S01 S99", ""],
            ["b@example.com", "Bo", "Ng", "cashier", "S01", ""],
            ["c@example.com", "Cy", "Oh", "store_manager", "", ""],
            ["d@example.com", "Di", "Ma", "kiosk", "S01", ""],
            ["not-an-email", "Ed", "Ko", "associate", "S01", ""],
        ],
    )
    report = run("staff", path)
    assert report.state == "refused"
    assert report.errors[2] == {"stores": ["Unknown store: S99."]}
    assert report.errors[3]["role"][0].startswith("“cashier” is not one of:")
    assert "at least one store" in report.errors[4]["stores"][0]
    assert "Kiosk accounts" in report.errors[5]["role"][0]
    assert list(report.errors[6]) == ["email"]
    assert not User.objects.filter(email__endswith="@example.com").exists()


def test_round_trip_changes_only_the_edited_role_and_stores(
    tmp_path, store, other_store, associate, manager, kiosk_user
):
    def edit(rows):
        [row] = [r for r in rows if r[0] == associate.email]
        row[column(rows, "role")] = "store_manager"
        row[column(rows, "stores")] = "S02 S01"

    path = export_to(tmp_path, "staff", edit=edit)
    assert kiosk_user.email not in path.read_text()  # kiosks are devices, kept in admin
    report = run("staff", path)
    assert report.summary() == {"created": 0, "updated": 1, "unchanged": 1}
    [change] = report.changes
    assert change.changes == {
        "role": ("associate", "store_manager"),
        "stores": ("S01", "S02 S01"),
    }
    associate.refresh_from_db()
    assert associate.staff_profile.home_store == other_store
    assert list(associate.groups.values_list("name", flat=True)) == ["store_manager"]


def test_active_no_stops_a_staff_member_signing_in(tmp_path, store, associate):
    path = csv_file(
        tmp_path,
        [
            HEADER,
            [associate.email, associate.first_name, associate.last_name, "associate", "S01", "no"],
        ],
    )
    report = run("staff", path)
    assert report.changes[0].changes == {"active": (True, False)}
    associate.refresh_from_db()
    assert not associate.is_active


def test_a_staff_file_has_no_password_column(tmp_path, store):
    path = csv_file(
        tmp_path,
        [[*HEADER, "password"], ["a@example.com", "A", "B", "associate", "S01", "", "secret"]],
    )
    report = run("staff", path)
    assert report.state == "refused"
    assert "Unknown column “password”" in report.errors[1]["password"][0]
