"""`manage.py run_scheduler`: runs what Celery beat schedules, for the embedded default.

With no broker (Celery eager), `make run` starts this beside the web server so
republishing, expiry and reminders happen in the demo too. With Redis configured,
run `celery -A retail worker` and `celery -A retail beat` instead.

It reads `settings.CELERY_BEAT_SCHEDULE` and understands the same schedules as
beat (seconds, timedeltas, `crontab`): an interval entry runs at start and then
every period, a crontab entry when it is due. Each run prints one line.
"""

from __future__ import annotations

import datetime as dt
import time

from celery.schedules import maybe_schedule, schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retail.celery import app


class Command(BaseCommand):
    help = "Runs the due entries of CELERY_BEAT_SCHEDULE eagerly, every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every entry once and stop.")
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks.")

    def handle(self, *args, once: bool = False, tick: float = 5.0, **options):
        if tick <= 0:
            raise CommandError("--tick must be a positive number of seconds.")
        # Import every app's tasks.py, as a worker or beat does at start (Django alone
        # does not), so each scheduled task is registered under its name.
        app.loader.import_default_modules()
        entries = {
            name: (entry, maybe_schedule(entry["schedule"], app=app))
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        }
        self.stdout.write(f"Scheduler: {len(entries)} periodic task(s); Ctrl-C stops it.")
        if not app.conf.task_always_eager:
            self.stdout.write(
                "A broker is configured: in a deployment run `celery -A retail worker` and "
                "`celery -A retail beat` instead of this command."
            )
        started_at = app.now()
        last_run: dict[str, dt.datetime] = {}
        while True:
            for name, (entry, when) in entries.items():
                last = last_run.get(name)
                if once or (last is None and isinstance(when, schedule)):
                    due = True
                else:
                    due = when.is_due(last or started_at)[0]
                if due:
                    last_run[name] = app.now()
                    self._run(name, entry)
            if once:
                return
            time.sleep(tick)

    def _run(self, name: str, entry: dict) -> None:
        started = time.monotonic()
        try:
            task = app.tasks[entry["task"]]
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            value = result.get(propagate=True)
        except Exception as exc:  # one failing task must not stop the others
            self.stderr.write(f"[scheduler] {name}: failed ({type(exc).__name__}: {exc})")
            return
        elapsed = (time.monotonic() - started) * 1000
        self.stdout.write(f"[scheduler] {name} ({entry['task']}) ran in {elapsed:.0f} ms: {value}")
