from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.supervision.tables import LightNotice, SupervisionSetting

APP_CONFIG = AppConfig(
    app_name="supervision",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "supervision"),
    table_classes=[SupervisionSetting, LightNotice],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.cases.piccolo_app",
        "app.inspections.piccolo_app",
    ],
    commands=[],
)
