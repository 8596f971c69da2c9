from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.staff.tables import AssessmentScheme, WorkLog

APP_CONFIG = AppConfig(
    app_name="staff",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "staff"),
    table_classes=[WorkLog, AssessmentScheme],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.cases.piccolo_app",
        "app.inspections.piccolo_app",
    ],
    commands=[],
)
