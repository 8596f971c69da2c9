from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.calendar.tables import CalendarYear, NationalDay, RegionalDay

APP_CONFIG = AppConfig(
    app_name="calendar",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "calendar"),
    table_classes=[NationalDay, CalendarYear, RegionalDay],
    migration_dependencies=["app.tenancy.piccolo_app"],
    commands=[],
)
