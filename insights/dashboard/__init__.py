"""The dashboards: HQ's network dashboard (`/hq/`, every store) and a store manager's
(`/store/insights/`, their current store).

`filters` reads the page's filters into a scope; `board` computes a scope's figures
once (`Dashboard`), `headlines` and `tables` turn them into what the page shows (each
table also a chart and a CSV, `formats` saying how a value reads); `views` serves the
pages and their CSVs."""
