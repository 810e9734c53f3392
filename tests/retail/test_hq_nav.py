"""HQ's navigation marks the page HQ is on, never "Network" everywhere, and links to
training (issue #18: "Fix the HQ nav (current item, training link) and the sales table
header"; the header is checked in tests/clienteling/test_attribution.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def nav_of(html: str) -> str:
    return html.split('<nav class="mainnav"')[1].split("</nav>")[0]


@pytest.mark.parametrize(
    ("url_name", "label"),
    [
        ("insights_hq:dashboard", "Dashboard"),
        ("retail:hq_overview", "Network"),
        ("returns_hq:overview", "Returns"),
        ("returns_hq:risk", "Return risk"),
        ("audit_hq:log", "Audit"),
        ("training_hq:network", "Training"),
        ("clienteling_hq:sales", "Influenced sales"),
        ("insights_incentives_hq:network", "Incentives"),
    ],
)
def test_the_hq_nav_marks_the_current_page(hq_client, url_name, label):
    response = hq_client.get(reverse(url_name))
    assert response.status_code == 200
    nav = nav_of(response.content.decode())
    assert nav.count('aria-current="page"') == 1
    assert f'<a href="{reverse(url_name)}" aria-current="page">{label}</a>' in nav
    assert f'href="{reverse("training_hq:network")}"' in nav


def test_a_page_under_an_item_marks_that_item_and_the_nav_speaks_chinese(hq_client):
    response = hq_client.get(reverse("hq_customers:retention"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    nav = nav_of(response.content.decode())
    assert f'<a href="{reverse("hq_customers:search")}" aria-current="page">' in nav
    assert "培训" in nav
