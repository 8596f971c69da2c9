from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.accounts.tables import (
    AuditLog,
    LoginFailure,
    Membership,
    MembershipDepartment,
    PasswordToken,
    User,
    WebSession,
    WindowPost,
)

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "accounts"),
    table_classes=[
        User,
        Membership,
        MembershipDepartment,
        WindowPost,
        WebSession,
        LoginFailure,
        PasswordToken,
        AuditLog,
    ],
    migration_dependencies=["app.tenancy.piccolo_app"],
    commands=[],
)
