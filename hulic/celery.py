"""The Celery app: Redis broker in production, eager tasks in the embedded default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")

app = Celery("hulic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
