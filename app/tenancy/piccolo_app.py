from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.tenancy.tables import Department, Tenant, Window, WindowDepartment

APP_CONFIG = AppConfig(
    app_name="tenancy",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "tenancy"),
    table_classes=[Tenant, Department, Window, WindowDepartment],
    migration_dependencies=[],
    commands=[],
)
