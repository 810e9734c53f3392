"""Nothing Aisle renders needs what the Content-Security-Policy refuses (issue #19):
no template, and no markup written in Python, holds an inline `<script>` with code,
a `<style>` element, an inline event handler (`onclick=`…), an `hx-on` attribute, a
`javascript:` URL, a `style=` attribute, or htmx that needs eval (`hx-vars`, a
`js:` value, an event filter `click[…]`). A `<script src=…>` and a JSON data block
(`type="application/json"`) are fine.

The e-mail templates (`templates/messages/`, `templates/<app>/email/`) are left
out: mail clients need inline styles, and no CSP applies to mail.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
EMAIL_DIRS = ("messages", "email")

# Template syntax that can hold ">" or quotes: comments go, tags and variables are
# replaced by something neutral, so only the HTML around them is read.
_COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_COMMENT = re.compile(r"{#.*?#}", re.S)
_TAG = re.compile(r"{%.*?%}", re.S)
_VARIABLE = re.compile(r"{{.*?}}", re.S)

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_DATA_SCRIPT = re.compile(r"""\btype\s*=\s*["']?application/(?:ld\+)?json""", re.I)
_HTML_TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.S)
_TAG_RULES = [
    ("a <style> element", re.compile(r"^<style\b", re.I)),
    ("an inline event handler", re.compile(r"\son[a-z]+\s*=", re.I)),
    ("an hx-on attribute", re.compile(r"\s(?:data-)?hx-on", re.I)),
    ("a style attribute", re.compile(r"\sstyle\s*=", re.I)),
    ("a javascript: URL", re.compile(r"javascript\s*:", re.I)),
    ("hx-vars (evaluated)", re.compile(r"\s(?:data-)?hx-vars\s*=", re.I)),
    ("a js: value (evaluated)", re.compile(r"""\s(?:data-)?hx-[a-z-]+\s*=\s*["']\s*js:""", re.I)),
    (
        "an htmx event filter (evaluated)",
        re.compile(r"""\s(?:data-)?hx-trigger\s*=\s*["'](?:[^"']*,)?\s*[\w:.-]+\[""", re.I),
    ),
]


def _neutral(text: str) -> str:
    text = _COMMENT_BLOCK.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _TAG.sub(" ", text)
    return _VARIABLE.sub("x", text)


def findings(html: str) -> list[str]:
    """What in this markup the policy would block (template syntax left out)."""
    html = _neutral(html)
    found = []
    for match in _SCRIPT.finditer(html):
        attrs, body = match.group(1), match.group(2)
        if _DATA_SCRIPT.search(attrs):
            continue
        if body.strip() or not re.search(r"\ssrc\s*=", attrs, re.I):
            found.append("an inline <script>")
    for tag in _HTML_TAG.findall(html):
        found += [what for what, rule in _TAG_RULES if rule.search(tag)]
    return found


def _own_app_dirs() -> list[Path]:
    return sorted(
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
    )


def template_dirs() -> list[Path]:
    dirs = [Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", [])]
    dirs += [d / "templates" for d in _own_app_dirs() if (d / "templates").is_dir()]
    return dirs


def _is_email(path: Path, base: Path) -> bool:
    return any(part in EMAIL_DIRS for part in path.relative_to(base).parts[:-1])


def test_the_scan_sees_what_the_policy_blocks():
    assert findings('<button onclick="window.print()">') == ["an inline event handler"]
    assert findings('<div hx-on::before-swap="x()">') == ["an hx-on attribute"]
    assert findings('<form hx-on:submit="x()">') == ["an hx-on attribute"]
    assert findings('<span style="width: {{ n }}%">') == ["a style attribute"]
    assert findings('<a href="javascript:void(0)">') == ["a javascript: URL"]
    assert findings("<script>alert(1)</script>") == ["an inline <script>"]
    assert findings("<style>p { color: red }</style>") == ["a <style> element"]
    assert findings("<div hx-vals='js:{a: 1}'>") == ["a js: value (evaluated)"]
    assert findings("<input hx-trigger=\"keyup[key=='Enter']\">") == [
        "an htmx event filter (evaluated)"
    ]
    # Fine: a script file, a JSON data block, look-alikes and template syntax.
    assert findings('<script src="/static/js/app.js" defer></script>') == []
    assert findings('<script type="application/json" id="d">{"a": 1}</script>') == []
    assert findings('<a data-style="PK-1" class="x">') == []
    assert findings('<input hx-trigger="input changed delay:250ms from:input[name=q]">') == []
    assert (
        findings("<p>{% blocktranslate with online=x %}Sold online{% endblocktranslate %}</p>")
        == []
    )
    assert findings("<p>{# <b onclick=x> #}</p>{% if a > b %}<b>{% endif %}") == []


def test_no_template_holds_inline_code_or_style():
    scanned, problems = 0, []
    for base in template_dirs():
        for path in sorted(base.rglob("*.html")) + sorted(base.rglob("*.svg")):
            if _is_email(path, base):
                continue
            scanned += 1
            for what in findings(path.read_text(encoding="utf-8")):
                problems.append(f"{path.relative_to(ROOT)}: {what}")
    assert scanned > 100
    assert problems == [], "\n".join(problems)


def _python_strings(path: Path):
    """(line, text) of each string literal but docstrings; adjacent literals come
    joined (as Python joins them) and an f-string's fields read as "x"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(v) for v in node.values)
            text = "".join(v.value if isinstance(v, ast.Constant) else "x" for v in node.values)
            yield node.lineno, text
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and id(node) not in inside_fstrings
        ):
            yield node.lineno, node.value


def test_no_markup_written_in_python_holds_inline_code_or_style():
    """format_html, mark_safe and the SVG charts (insights.charts, training's cells)."""
    problems = []
    for app_dir in _own_app_dirs():
        for path in sorted(app_dir.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, text in _python_strings(path):
                if "<" not in text:
                    continue
                problems += [f"{path.relative_to(ROOT)}:{line}: {what}" for what in findings(text)]
    assert problems == [], "\n".join(problems)
