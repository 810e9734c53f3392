"""Aisle's Celery app: tasks are discovered in every app's tasks.py.

With no broker configured (the embedded default) tasks run eagerly.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail.settings")

app = Celery("aisle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
