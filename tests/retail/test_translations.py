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


def po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr (first form) of a .po file."""
    import json

    entries, key, field = {}, None, None
    parts: dict[str, list[str]] = {}
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("msgid "):
            if key is not None:
                entries[key] = "".join(parts.get("msgstr", []))
            parts, field = {"msgid": [json.loads(line[6:])]}, "msgid"
            key = None
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            field = "msgstr"
            parts["msgstr"] = [json.loads(line.split(" ", 1)[1])]
            key = "".join(parts["msgid"])
        elif line.startswith(("msgstr[", "msgid_plural")):
            field = None
        elif line.startswith('"') and field:
            parts[field].append(json.loads(line))
    if key is not None:
        entries[key] = "".join(parts.get("msgstr", []))
    entries.pop("", None)
    return entries


def test_every_catalogue_entry_is_translated_and_compiled():
    entries = po_entries(PO)
    assert len(entries) > 100
    untranslated = [k for k, v in entries.items() if not v.strip()]
    assert untranslated == []
    compiled = gettext.GNUTranslations(MO.open("rb"))
    stale = [k for k, v in entries.items() if compiled.gettext(k) != v]
    assert stale == [], "run `make messages` to compile the catalogue"


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
