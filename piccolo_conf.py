"""Piccolo's configuration: the engine comes from DATABASE_URL (SQLite in var/ by default)."""

from piccolo.conf.apps import AppRegistry

from app.db import engine_from_url
from app.settings import settings

DB = engine_from_url(settings.database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.calendar.piccolo_app",
        "app.jobs.piccolo_app",
        "app.notify.piccolo_app",
        "app.catalogue.piccolo_app",
        "app.cases.piccolo_app",
        "app.reports.piccolo_app",
        "app.inspections.piccolo_app",
        "app.circulars.piccolo_app",
        "app.documents.piccolo_app",
        "app.staff.piccolo_app",
        "app.supervision.piccolo_app",
    ]
)
