"""Every user-facing string is marked for translation and translated to Chinese."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCES = (
    "retail",
    "inventory",
    "training",
    "orders",
    "clienteling",
    "returns",
    "kiosk",
    "insights",
)


def po_entries(path: Path, *, fuzzy: list | None = None) -> dict[str, str]:
    """msgid -> msgstr (first form) of a .po file; an entry with a context is keyed
    "context\x04msgid" (as gettext keeps it). Fuzzy entries' keys go to `fuzzy`."""
    import json

    entries, key, field, context, flagged = {}, None, None, None, False
    parts: dict[str, list[str]] = {}

    def close():
        if key is not None:
            entries[key] = "".join(parts.get("msgstr", []))
            if flagged and fuzzy is not None:
                fuzzy.append(key)

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#,"):
            close()
            key, field, parts, context, flagged = None, None, {}, None, "fuzzy" in line
        elif line.startswith("msgctxt "):
            if key is not None:
                close()
                key, flagged = None, False
            context, field = json.loads(line[8:]), "msgctxt"
            parts = {"msgctxt": [context]}
        elif line.startswith("msgid "):
            if key is not None:
                close()
                flagged, context = False, None
                parts = {}
            parts["msgid"], field, key = [json.loads(line[6:])], "msgid", None
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            field = "msgstr"
            parts["msgstr"] = [json.loads(line.split(" ", 1)[1])]
            msgid = "".join(parts["msgid"])
            ctx = "".join(parts.get("msgctxt", []))
            key = f"{ctx}\x04{msgid}" if "msgctxt" in parts else msgid
        elif line.startswith(("msgstr[", "msgid_plural")):
            field = None
        elif line.startswith('"') and field:
            parts[field].append(json.loads(line))
    close()
    entries.pop("", None)
    return entries


def _compiled(translations: gettext.GNUTranslations, key: str) -> str:
    if "\x04" in key:
        context, msgid = key.split("\x04", 1)
        return translations.pgettext(context, msgid)
    return translations.gettext(key)


def test_every_catalogue_entry_is_translated_and_compiled():
    fuzzy: list[str] = []
    entries = po_entries(PO, fuzzy=fuzzy)
    assert len(entries) > 100
    untranslated = [k for k, v in entries.items() if not v.strip()]
    assert untranslated == []
    assert fuzzy == [], "fuzzy entries are not used: translate them and drop the flag"
    compiled = gettext.GNUTranslations(MO.open("rb"))
    stale = [k for k, v in entries.items() if _compiled(compiled, k) != v]
    assert stale == [], "run `make messages` to compile the catalogue"


def test_ambiguous_words_are_translated_in_their_sense():
    """Finding 5: an order's "Open" read 营业 (open for business)."""
    from clienteling.models import CartState, TaskState
    from orders.models import OrderStatus

    with translation.override("zh-hans"):
        assert str(OrderStatus.OPEN.label) == "进行中"
        assert str(TaskState.OPEN.label) == "待处理"
        assert str(CartState.OPEN.label) == "进行中"
        assert translation.pgettext("button: open a page", "Open") == "打开"
        assert translation.pgettext("a store open for business", "Open") == "营业中"
        assert translation.pgettext("button: mark a task done", "Done") == "完成"
        # A period's "From"/"To" is not a transfer's 调出/调入 (the audit page's filters).
        from retail.audit_views import AuditFilterForm

        fields = AuditFilterForm().fields
        assert (str(fields["start"].label), str(fields["end"].label)) == ("开始日期", "结束日期")


def test_catalogue_holds_every_marked_string(tmp_path):
    """makemessages over a copy of the tree finds nothing the catalogue lacks."""
    for name in (*SOURCES, "templates"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "retail.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = set(po_entries(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = sorted(found - set(po_entries(PO)))
    assert missing == [], f"strings missing from the zh_Hans catalogue (make messages): {missing}"


def test_navigation_is_translated():
    with translation.override("zh-hans"):
        assert translation.gettext("Home") == "首页"
        assert translation.gettext("Customers") == "顾客"
