from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.documents.tables import Document

APP_CONFIG = AppConfig(
    app_name="documents",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "documents"),
    table_classes=[Document],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.cases.piccolo_app",
        "app.inspections.piccolo_app",
    ],
    commands=[],
)
