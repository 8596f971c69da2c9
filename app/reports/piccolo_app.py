from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.reports.tables import (
    ExportJob,
    FormVersion,
    ReportException,
    ReportForm,
    ReportPeriod,
    ReportReminder,
    ReportValue,
    Submission,
    SubmissionEvent,
)

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "reports"),
    table_classes=[
        ReportForm,
        FormVersion,
        ReportPeriod,
        Submission,
        SubmissionEvent,
        ReportException,
        ReportValue,
        ReportReminder,
        ExportJob,
    ],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
    ],
    commands=[],
)
