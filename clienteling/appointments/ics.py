"""The calendar file (`.ics`, RFC 5545) sent with an appointment's e-mails.

One VEVENT whose UID is the appointment's reference (so a moved appointment updates
the same entry, with a higher SEQUENCE, and a cancelled one removes it), its times in
UTC, CRLF line endings, text values escaped and long lines folded at 75 octets.
"""

from __future__ import annotations

import datetime as dt

PRODID = "-//Aisle//Appointments//EN"


def escape(text: str) -> str:
    """A TEXT value: backslashes, semicolons and commas escaped, newlines as \\n."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded so no line is longer than 75 octets (UTF-8 characters are
    never split), continuation lines starting with a space."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode())
        limit = 75 if not out else 74  # a continuation line starts with one space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += ch
        size += width
    out.append(current)
    return "\r\n ".join(out)


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(
    *,
    uid: str,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    location: str,
    description: str = "",
    sequence: int = 0,
    stamp: dt.datetime,
    cancelled: bool = False,
) -> str:
    """The whole VCALENDAR as text (encode it as UTF-8 to attach it)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{escape(uid)}",
        f"DTSTAMP:{utc(stamp)}",
        f"DTSTART:{utc(start)}",
        f"DTEND:{utc(end)}",
        f"SEQUENCE:{int(sequence)}",
        f"SUMMARY:{escape(summary)}",
        f"LOCATION:{escape(location)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    lines += [
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
