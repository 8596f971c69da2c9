from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.inspections.tables import (
    Checklist,
    ChecklistVersion,
    Draw,
    Finding,
    Inspection,
    InspectionPhoto,
)

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "inspections"),
    table_classes=[Checklist, ChecklistVersion, Draw, Inspection, InspectionPhoto, Finding],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.cases.piccolo_app",
    ],
    commands=[],
)
