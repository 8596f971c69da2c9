from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.notify.tables import Channel, InboxItem, Outbound

APP_CONFIG = AppConfig(
    app_name="notify",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "notify"),
    table_classes=[InboxItem, Channel, Outbound],
    migration_dependencies=["app.tenancy.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
