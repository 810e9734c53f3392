"""The dashboards: HQ's network dashboard (`/hq/`) and a store manager's (`/store/insights/`).

`filters` reads the page's filters into a scope, `sections` builds the headline figures,
tables and charts from the KPI functions, `views` serves the pages and their CSVs."""
