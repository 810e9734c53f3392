"""Abuse signals: how each customer returns, across every channel and store.

- `models`: HQ's settings (thresholds, occasion-wear categories), the per-customer
  monthly tallies, what each order or return added to them, and HQ's or a manager's
  clearances.
- `tally`: keeps the tallies up to date from the order and return domain events
  (idempotent: a re-delivered event counts once) and rebuilds them from history.
- `assess`: the signals in words with the figures behind them, for the associate's
  return screen and HQ. Never for the customer (kiosk, receipts, API, e-mails).
- `services`: clearing a customer's flag (audited).
"""
