"""`manage.py import_data KIND FILE [--dry-run] [--format csv|xlsx]`: a scheduled feed.

Progress goes to stderr (a line about every 5%), the summary to stdout. Exit codes:
0 applied (or nothing to change), 1 refused (every error listed on stderr by row and
column; nothing applied), 2 a usage or file error (no such file, too large, not CSV
or XLSX). Running the same file again changes nothing (stock skips the batches it
already applied, so a run stopped half-way is finished by running it again)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retail.imports import base, formats, runner


class Command(BaseCommand):
    help = (
        "Imports a CSV or XLSX file of one kind "
        "(catalog, categories, stores, staff, locations, stock)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=base.codes())
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and try the file, then roll everything back: shows what would change.",
        )
        parser.add_argument("--format", choices=formats.FORMATS, default=None)

    def handle(self, *args, kind, file, dry_run=False, format=None, verbosity=1, **options):
        try:
            source = formats.source_from_path(file, format)
            report = runner.run(
                kind,
                source,
                dry_run=dry_run,
                progress=self._progress(verbosity),
                on_step=self._step,
            )
        except formats.FileRefused as exc:
            raise CommandError(str(exc), returncode=2) from None
        if report.refused:
            self._refused(report)
        counts = {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rows": report.rows,
            "file": source.name,
        }
        if verbosity >= 2:
            for change in report.changes:
                self.stdout.write(self._change_line(change))
        if dry_run:
            self.stdout.write(
                ngettext(
                    "Dry run of %(file)s: %(created)s to create, %(updated)s to update, "
                    "%(unchanged)s unchanged (%(rows)s row); nothing was applied.",
                    "Dry run of %(file)s: %(created)s to create, %(updated)s to update, "
                    "%(unchanged)s unchanged (%(rows)s rows); nothing was applied.",
                    report.rows,
                )
                % counts
            )
        else:
            self.stdout.write(
                ngettext(
                    "Imported %(file)s: %(created)s created, %(updated)s updated, "
                    "%(unchanged)s unchanged (%(rows)s row).",
                    "Imported %(file)s: %(created)s created, %(updated)s updated, "
                    "%(unchanged)s unchanged (%(rows)s rows).",
                    report.rows,
                )
                % counts
            )

    def _step(self, name: str) -> None:
        self._step_name = name
        self._shown = -1

    def _progress(self, verbosity: int):
        def show(done: int, total: int) -> None:
            if verbosity < 1 or not total:
                return
            percent = 100 * done // total
            if self._shown >= 0 and percent < 100 and percent - self._shown < 5:
                return
            self._shown = percent
            self.stderr.write(
                _("%(step)s: %(done)s of %(total)s rows (%(percent)s%%)")
                % {
                    "step": _("validating")
                    if self._step_name == runner.VALIDATING
                    else _("applying"),
                    "done": done,
                    "total": total,
                    "percent": percent,
                }
            )

        self._step_name, self._shown = "", -1
        return show

    def _change_line(self, change) -> str:
        if change.action == base.CREATED:
            what = _("created")
        else:
            what = "; ".join(
                f"{column}: {base.as_text(old)} → {base.as_text(new)}"
                for column, (old, new) in change.changes.items()
            )
        return _("row %(row)s, %(label)s: %(what)s") % {
            "row": change.row,
            "label": change.label,
            "what": what,
        }

    def _refused(self, report: runner.Report) -> None:
        for row, column, message in report.error_lines():
            where = (
                _("the file")
                if row == 0
                else _("row %(row)s, %(column)s") % {"row": row, "column": column}
                if column
                else _("row %(row)s") % {"row": row}
            )
            self.stderr.write(f"{where}: {message}")
        listed = sum(1 for _line in report.error_lines())
        if report.error_count > listed:
            more = report.error_count - listed
            self.stderr.write(
                ngettext("… and %(n)s more error.", "… and %(n)s more errors.", more) % {"n": more}
            )
        if report.applied_rows:
            self.stdout.write(
                ngettext(
                    "Refused: %(n)s error. The %(applied)s rows before it were applied; fix "
                    "the file and import it again (what was applied is skipped).",
                    "Refused: %(n)s errors. The %(applied)s rows before them were applied; "
                    "fix the file and import it again (what was applied is skipped).",
                    report.error_count,
                )
                % {"n": report.error_count, "applied": report.applied_rows}
            )
        else:
            self.stdout.write(
                ngettext(
                    "Refused: %(n)s error; nothing was applied.",
                    "Refused: %(n)s errors; nothing was applied.",
                    report.error_count,
                )
                % {"n": report.error_count}
            )
        raise CommandError(_("The file was refused."), returncode=1)
