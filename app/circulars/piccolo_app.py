from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.circulars.tables import Circular, CircularAttachment, CircularRecipient

APP_CONFIG = AppConfig(
    app_name="circulars",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "circulars"),
    table_classes=[Circular, CircularAttachment, CircularRecipient],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.cases.piccolo_app",
        "app.inspections.piccolo_app",
    ],
    commands=[],
)
