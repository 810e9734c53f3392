"""Appointments: a customer books time with an associate at a store (issue #24).

- `models`: topics and where they are offered, associates' working hours and
  exceptions, appointments with their history and the items set aside for them;
- `slots`: the bookable slots of a store for a topic (pure functions over rows loaded
  in a fixed number of queries);
- `services`: booking, cancelling, reassigning, the end of an appointment, the
  inventory shortage handler and the customer-data handlers;
- `shapes`: the appointment as the API and webhooks show it; `webhooks`; `api`.
"""
