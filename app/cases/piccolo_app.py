from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.cases.tables import (
    Case,
    CaseCounter,
    CaseDocument,
    CaseEvent,
    CaseFile,
    CaseMaterial,
    CaseMonthStat,
    Rating,
    Rectification,
    RectificationEvidence,
    RectificationStep,
    Seal,
    SealUsage,
    StatDirty,
    TrackAttempt,
)

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "cases"),
    table_classes=[
        CaseCounter,
        Case,
        CaseEvent,
        CaseMaterial,
        CaseFile,
        CaseDocument,
        Seal,
        SealUsage,
        Rating,
        Rectification,
        RectificationStep,
        RectificationEvidence,
        TrackAttempt,
        CaseMonthStat,
        StatDirty,
    ],
    migration_dependencies=[
        "app.tenancy.piccolo_app",
        "app.accounts.piccolo_app",
        "app.storage.piccolo_app",
        "app.catalogue.piccolo_app",
    ],
    commands=[],
)
