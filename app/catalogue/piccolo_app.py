from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.catalogue.tables import ItemTemplate, ItemVersion, PowerListEdition, TenantItem

APP_CONFIG = AppConfig(
    app_name="catalogue",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "catalogue"),
    table_classes=[ItemTemplate, ItemVersion, TenantItem, PowerListEdition],
    migration_dependencies=["app.tenancy.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
