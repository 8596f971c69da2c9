from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.jobs.tables import SweepRun

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "jobs"),
    table_classes=[SweepRun],
    migration_dependencies=[],
    commands=[],
)
