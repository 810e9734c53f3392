"""`manage.py training_import [PATH ...] [--dry-run]`: create or update courses from
their files (README, "Writing a course"). A PATH is a folder of course files or any
one file of a course; without one, the courses that ship with Aisle.

A skill framework not yet installed is installed first (`framework.toml`). Every
file is checked before anything is written: one problem anywhere and nothing
is imported. Updating changes the existing rows in place, so enrolments, quiz
attempts and certificates stay as they were; importing the same files again changes
nothing. `--dry-run` reports what would change and writes nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from training.content.files import COURSES_DIR, ContentErrors, load_courses
from training.services.catalog import courses_import, framework_sync


class Command(BaseCommand):
    help = "Create or update training courses from course files (a folder or files)."

    def add_arguments(self, parser):
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help="Folders of course files, or files of the courses to import "
            "(default: the courses that ship with Aisle).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the files and say what would change, without writing anything.",
        )

    def handle(self, *args, paths: list[Path], dry_run: bool, **options):
        try:
            courses = load_courses(paths or [COURSES_DIR])
            self.stdout.write(
                ngettext("%(count)s course read.", "%(count)s courses read.", len(courses))
                % {"count": len(courses)}
            )
            with transaction.atomic():
                installed = framework_sync()
                if any(installed.values()):
                    self.stdout.write(
                        _("The skill framework was missing; installed: %(installed)s.")
                        % {"installed": ", ".join(f"{k} {v}" for k, v in installed.items())}
                    )
                outcomes = courses_import(courses=courses, update=True)
                if dry_run:
                    transaction.set_rollback(True)
        except ContentErrors as problems:
            for error in problems.errors:
                self.stderr.write(f"  {error.path.parent}/{error}")
            raise CommandError(
                ngettext(
                    "%(count)s problem in the course files; nothing was imported.",
                    "%(count)s problems in the course files; nothing was imported.",
                    len(problems.errors),
                )
                % {"count": len(problems.errors)}
            ) from None
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for outcome in outcomes:
            if outcome.created:
                counts["created"] += 1
                line = _("%(code)s: created") % {"code": outcome.code}
            elif outcome.changes:
                counts["updated"] += 1
                line = _("%(code)s: updated (%(changes)s)") % {
                    "code": outcome.code,
                    "changes": ", ".join(outcome.changes),
                }
            else:
                counts["unchanged"] += 1
                line = _("%(code)s: unchanged") % {"code": outcome.code}
            self.stdout.write(f"  {line}")
        summary = _("%(created)s created, %(updated)s updated, %(unchanged)s unchanged.") % counts
        if dry_run:
            summary += " " + _("Dry run: nothing was written.")
        self.stdout.write(self.style.SUCCESS(summary))
