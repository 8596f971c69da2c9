"""Every setting comes from the environment, with a default that runs the embedded mode."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    var_dir: Path = field(default_factory=lambda: Path(os.environ.get("VAR_DIR", ROOT / "var")))
    database_url: str = ""
    maintenance_database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    public_base_url: str = "http://127.0.0.1:8000"
    port: int = 8000
    host: str = "127.0.0.1"
    secure_cookies: bool = False
    session_idle_minutes: int = 30
    lockout_attempts: int = 5
    lockout_minutes: int = 30
    reset_link_hours: int = 72
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    pool_min_size: int = 1
    pool_max_size: int = 10
    default_locale: str = "zh_Hans"
    broker_url: str | None = None
    run_jobs_in_process: bool = True
    notify_min_backoff_ms: int = 5000
    admin_username: str | None = None
    admin_password: str | None = None
    storage_url: str = ""  # unset → $VAR_DIR/files; s3://bucket?endpoint_url=…&region=…
    upload_max_mb: int = 20
    log_format: str = "json"  # json | text (one readable line, for developers)
    log_level: str = "INFO"
    web_server: str = "granian"
    forwarded_allow_ips: str = "127.0.0.1"
    # Addresses (CIDRs) that may read /metrics; everyone else gets the 404 page.
    metrics_allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _choice(name: str, default: str, allowed: set[str]) -> str:
    value = (os.environ.get(name) or default).strip()
    if value.lower() not in {a.lower() for a in allowed}:
        raise ValueError(f"{name} must be one of {', '.join(sorted(allowed))}, not {value!r}")
    return value


def _networks(name: str, default: str) -> tuple[str, ...]:
    """Comma-separated CIDRs (a bare address is one host); refuses anything else at start."""
    raw = os.environ.get(name)
    parts = [p.strip() for p in (default if raw is None else raw).split(",") if p.strip()]
    try:
        return tuple(str(ipaddress.ip_network(p, strict=False)) for p in parts)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def load() -> Settings:
    var_dir = Path(os.environ.get("VAR_DIR", ROOT / "var"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'bianmin.db'}"
    base_url = os.environ.get("BASE_URL", "").rstrip("/")
    port = _int("PORT", 8000)
    if not base_url:
        base_url = f"http://127.0.0.1:{port}"
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        maintenance_database_url=os.environ.get("MAINTENANCE_DATABASE_URL") or database_url,
        base_url=base_url,
        public_base_url=(os.environ.get("PUBLIC_BASE_URL") or base_url).rstrip("/"),
        port=port,
        host=os.environ.get("HOST", "127.0.0.1"),
        secure_cookies=_bool("SECURE_COOKIES", base_url.startswith("https://")),
        session_idle_minutes=_int("SESSION_IDLE_MINUTES", 30),
        lockout_attempts=_int("LOCKOUT_ATTEMPTS", 5),
        lockout_minutes=_int("LOCKOUT_MINUTES", 30),
        reset_link_hours=_int("RESET_LINK_HOURS", 72),
        argon2_time_cost=_int("ARGON2_TIME_COST", 3),
        argon2_memory_cost=_int("ARGON2_MEMORY_COST", 65536),
        pool_min_size=_int("DB_POOL_MIN_SIZE", 1),
        pool_max_size=_int("DB_POOL_MAX_SIZE", 10),
        broker_url=os.environ.get("BROKER_URL") or None,
        run_jobs_in_process=_bool("RUN_JOBS_IN_PROCESS", True),
        notify_min_backoff_ms=_int("NOTIFY_MIN_BACKOFF_MS", 5000),
        admin_username=os.environ.get("ADMIN_USERNAME") or None,
        admin_password=os.environ.get("ADMIN_PASSWORD") or None,
        storage_url=os.environ.get("STORAGE_URL", "").strip(),
        upload_max_mb=_int("UPLOAD_MAX_MB", 20),
        log_format=_choice("LOG_FORMAT", "json", {"json", "text"}).lower(),
        log_level=_choice("LOG_LEVEL", "INFO", LOG_LEVELS).upper(),
        web_server=_choice("WEB_SERVER", "granian", {"granian", "uvicorn"}).lower(),
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1").strip(),
        metrics_allow=_networks("METRICS_ALLOW", "127.0.0.1/32,::1/128"),
    )


settings = load()
