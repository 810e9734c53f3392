"""`manage.py run_scheduler`: runs what Celery beat schedules, for the embedded default.

With no broker (Celery eager), `make run` starts this beside the web server so
republishing, expiry and reminders happen in the demo too. With Redis configured,
run `celery -A retail worker` and `celery -A retail beat` instead.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from retail.celery import app


class Command(BaseCommand):
    help = "Runs the due entries of CELERY_BEAT_SCHEDULE eagerly, every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every entry once and stop.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks.")

    def handle(self, *args, once: bool = False, tick: float = 5.0, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        last_run: dict[str, float] = {}
        self.stdout.write(f"Scheduler: {len(schedule)} periodic task(s); Ctrl-C stops it.")
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                period = entry["schedule"]
                every = period.total_seconds() if hasattr(period, "total_seconds") else period
                if once or now - last_run.get(name, -every) >= every:
                    last_run[name] = now
                    self._run(name, entry)
            if once:
                return
            time.sleep(tick)

    def _run(self, name: str, entry: dict) -> None:
        task = app.tasks[entry["task"]]
        started = time.monotonic()
        try:
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            value = result.get(propagate=True)
        except Exception as exc:  # one failing task must not stop the others
            self.stderr.write(f"[scheduler] {name}: failed ({type(exc).__name__}: {exc})")
            return
        elapsed = (time.monotonic() - started) * 1000
        self.stdout.write(f"[scheduler] {name} ({entry['task']}) ran in {elapsed:.0f} ms: {value}")
