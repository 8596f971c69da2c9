from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.storage.tables import StoredFile

APP_CONFIG = AppConfig(
    app_name="storage",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "storage"),
    table_classes=[StoredFile],
    migration_dependencies=["app.tenancy.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
