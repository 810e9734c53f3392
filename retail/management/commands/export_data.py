"""`manage.py export_data KIND [-o FILE] [--format csv|xlsx]`: what Aisle holds of a
kind, in the columns `import_data` reads (edit it and import it back: only what was
edited changes). Without -o, CSV goes to stdout."""

from __future__ import annotations

import io
import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from retail.imports import base, formats, runner


class Command(BaseCommand):
    help = "Exports one kind (catalog, categories, stores, staff, locations, stock) as CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=base.codes())
        parser.add_argument("-o", "--output", default=None, help="The file to write.")
        parser.add_argument("--format", choices=formats.FORMATS, default=None)

    def handle(self, *args, kind, output=None, format=None, **options):
        if output:
            fmt = format or os.path.splitext(output)[1].lstrip(".").lower() or "csv"
            if fmt not in formats.FORMATS:
                raise CommandError(
                    _("Write CSV or XLSX; give --format or a .csv or .xlsx file name."),
                    returncode=2,
                )
            try:
                with open(output, "wb") as out:
                    count = runner.export(kind, out, fmt)
            except OSError as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stderr.write(
                ngettext("Wrote %(n)s row to %(file)s.", "Wrote %(n)s rows to %(file)s.", count)
                % {"n": count, "file": output}
            )
            return
        if format == "xlsx":
            raise CommandError(_("Give a file (-o) to write XLSX."), returncode=2)
        target = getattr(self.stdout._out, "buffer", None)
        if target is not None and self.stdout._out is sys.stdout:
            runner.export(kind, target, "csv")
            target.flush()
            return
        buffer = io.BytesIO()
        runner.export(kind, buffer, "csv")
        self.stdout.write(buffer.getvalue().decode("utf-8-sig"), ending="")
