"""Bulk import and export of a retailer's own data (issue 22): catalog, categories,
stores, staff here; stock locations and stock from `inventory.imports`.

- `base`: what a kind is, and the registry (`register`, `get`, `follow`).
- `formats`: CSV and XLSX read as rows of text, and written formula-safe.
- `runner`: validate the whole file, then apply it (or a dry run, rolled back).
- `jobs`: an uploaded file as an `ImportJob`, run by `retail.tasks.import_job_run`.
- the kinds: `categories`, `stores`, `staff`, `catalog`.

`manage.py import_data KIND FILE [--dry-run]` and `manage.py export_data KIND` run the
same code from the command line (README "Imports").
"""

from retail.imports.base import (  # noqa: F401
    CREATED,
    UNCHANGED,
    UPDATED,
    Batch,
    Column,
    Kind,
    Row,
    RowChange,
    RowErrors,
    codes,
    follow,
    get,
    kinds,
    register,
)


def register_retail_kinds() -> None:
    """Called from `RetailConfig.ready()`."""
    from retail.imports.catalog import CatalogKind
    from retail.imports.categories import CategoriesKind
    from retail.imports.staff import StaffKind
    from retail.imports.stores import StoresKind

    for kind in (CatalogKind, CategoriesKind, StoresKind, StaffKind):
        register(kind)
