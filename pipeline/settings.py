"""Typed settings: ``ratedeck.toml`` plus environment, validated once at start-up.

Resolution order for the file: ``--config FILE``, else ``$RATEDECK_CONFIG``, else
``./ratedeck.toml`` if present, else the built-in demo settings (no file at all).
Environment overrides: ``COMMPEAK_BASE_URL``, ``RATEDECK_DATA_DIR``, ``RATEDECK_WAREHOUSE``.
Secrets come only from the environment (``COMMPEAK_API_KEY``, ``COMMPEAK_RECOGNITION_TOKEN``,
``RATEDECK_SMTP_USER``, ``RATEDECK_SMTP_PASSWORD``); a secret key in the file is an error.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import ConfigError

TECH_PREFIX_RE = re.compile(r"current|[0-9]{1,16}")  # always fullmatch: "$" admits "\n"
SECRET_ENV = {
    "api_key": "COMMPEAK_API_KEY",
    "recognition_token": "COMMPEAK_RECOGNITION_TOKEN",
    "smtp_user": "RATEDECK_SMTP_USER",
    "smtp_password": "RATEDECK_SMTP_PASSWORD",
}
DEMO_TECH_PREFIXES = ["current", "021001", "021002"]


def validate_tech_prefix(value: str) -> str:
    """A tech prefix is ``current`` or digits: anything else could escape the URL path."""
    if not isinstance(value, str) or not TECH_PREFIX_RE.fullmatch(value):
        raise ValueError(f"bad tech prefix {value!r}: must be 'current' or digits")
    return value


TechPrefix = Annotated[str, AfterValidator(validate_tech_prefix)]


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_base_url(value: str) -> str:
    """https only, except plain http to a loopback host (the emulator, test servers)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"bad base URL {value!r}: expected https://host[:port]")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValueError(f"bad base URL {value!r}: http is only allowed to a loopback host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("bad base URL: no credentials, query or fragment allowed")
    return value.rstrip("/")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(_Section):
    base_url: Annotated[str, AfterValidator(validate_base_url)] = "https://api.commpeak.com"
    timeout_s: float = Field(30, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    backoff_s: float = Field(0.5, ge=0)
    max_backoff_s: float = Field(30, ge=0)
    max_download_bytes: int = Field(256 * 1024 * 1024, gt=0)
    concurrency: int = Field(4, ge=1, le=32)


class VoiceSettings(_Section):
    tech_prefixes: list[TechPrefix] = Field(default_factory=lambda: ["current"])
    format: Literal["csv", "xls"] = "csv"
    # increments used when a deck has no increments column (CommPeak's example deck: 1/1)
    default_increments: str = "1/1"
    max_reject_fraction: float = Field(0.05, ge=0, le=1)
    max_row_drop_fraction: float = Field(0.2, ge=0, le=1)
    # ingest bounds (pipeline/ingest/limits.py): an XLSX inflating past this is refused
    max_inflated_bytes: int = Field(512 * 1024 * 1024, gt=0)
    ingest_timeout_s: float = Field(300, gt=0)
    schedule: str = "0 6 * * *"

    @field_validator("tech_prefixes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("tech_prefixes: duplicates")
        return v

    @field_validator("default_increments")
    @classmethod
    def _increments(cls, v: str) -> str:
        if not re.fullmatch(r"[1-9][0-9]{0,4}/[1-9][0-9]{0,4}", v):
            raise ValueError(f"default_increments {v!r}: expected a/b in seconds, e.g. 60/60")
        return v


class SmsChannel(_Section):
    username: str = Field(min_length=1, max_length=128)
    id: str = Field(min_length=1, max_length=64)

    @property
    def key(self) -> str:
        return f"{self.username}:{self.id}"

    @field_validator("username", "id", mode="before")
    @classmethod
    def _text(cls, v: object) -> str:
        v = str(v)
        if not re.fullmatch(r"[A-Za-z0-9_.@-]+", v):
            raise ValueError(f"bad SMS channel field {v!r}: letters, digits, _ . @ - only")
        return v


class SmsSettings(_Section):
    channels: list[SmsChannel] = Field(default_factory=list)
    schedule: str = "30 6 * * *"


class BalanceSettings(_Section):
    low_balance_threshold: Decimal = Decimal("50")
    schedule: str = "0 * * * *"


class PathsSettings(_Section):
    data_dir: Path = Path("data")


class WarehouseSettings(_Section):
    path: Path | None = None  # default: <data_dir>/warehouse.duckdb


class ReportSettings(_Section):
    recipients: list[str] = Field(default_factory=lambda: ["finance@example.com"])
    # 150 s, not 180: a whole-minute call bills the same under 1/1 and 60/60, hiding that change
    reference_call_seconds: int = Field(150, gt=0)
    traffic_profile: Path | None = None
    notice_days: int = Field(7, ge=0)
    top_n: int = Field(15, ge=1)
    cost_decimals: int = Field(6, ge=0, le=8)
    currency: str = "USD"


class SmtpSettings(_Section):
    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    sender: str = "ratedeck@example.com"
    timeout_s: float = Field(30, gt=0)

    @model_validator(mode="after")
    def _tls_modes(self) -> SmtpSettings:
        if self.ssl and self.starttls:
            raise ValueError("smtp: choose ssl = true or starttls = true, not both")
        return self


class EmulatorSettings(_Section):
    seed: int = 7
    deck_size: int = Field(3000, ge=10, le=2_000_000)
    start_date: str = "2026-11-01"
    effective_dates: bool = False


class Secrets(BaseModel):
    """Read from the environment only; SecretStr keeps them out of reprs and logs."""

    model_config = ConfigDict(frozen=True)
    api_key: SecretStr | None = None
    recognition_token: SecretStr | None = None
    smtp_user: SecretStr | None = None
    smtp_password: SecretStr | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        return cls(**{field: env.get(var) or None for field, var in SECRET_ENV.items()})


class Settings(_Section):
    api: ApiSettings = ApiSettings()
    voice: VoiceSettings = VoiceSettings()
    sms: SmsSettings = SmsSettings()
    balance: BalanceSettings = BalanceSettings()
    paths: PathsSettings = PathsSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    report: ReportSettings = ReportSettings()
    smtp: SmtpSettings = SmtpSettings()
    emulator: EmulatorSettings = EmulatorSettings()
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)
    source: str = Field("built-in demo settings", exclude=True)

    @property
    def data_dir(self) -> Path:
        return self.paths.data_dir

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse.path or self.paths.data_dir / "warehouse.duckdb"

    @property
    def raw_dir(self) -> Path:
        return self.paths.data_dir / "raw"

    @property
    def outbox_dir(self) -> Path:
        return self.paths.data_dir / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.paths.data_dir / "reports"

    @property
    def state_dir(self) -> Path:
        """Private writer state: the working warehouse copy and its lock."""
        return self.paths.data_dir / "state"

    @property
    def dagster_home(self) -> Path:
        return self.paths.data_dir / "dagster_home"

    def with_overrides(self, **sections: dict) -> Settings:
        """A copy with some fields of some sections replaced (used by the demo and tests)."""
        data = self.model_dump()
        for name, values in sections.items():
            data[name] = {**data.get(name, {}), **values}
        return _build(data, self.secrets, self.source)


def demo_defaults() -> dict:
    return {
        "voice": {"tech_prefixes": list(DEMO_TECH_PREFIXES)},
        "sms": {"channels": [{"username": "demo", "id": "1"}, {"username": "demo", "id": "2"}]},
    }


def _format_validation_error(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "settings"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown setting"
    return f"{source}: {where}: {msg}"


def _build(data: dict, secrets: Secrets, source: str) -> Settings:
    for forbidden in SECRET_ENV:
        for section in data.values():
            if isinstance(section, dict) and forbidden in section:
                raise ConfigError(
                    f"{source}: {forbidden} must come from the environment "
                    f"({SECRET_ENV[forbidden]}), not from the settings file"
                )
    try:
        return Settings(**data, secrets=secrets, source=source)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None


def resolve_config_path(config: str | os.PathLike | None, env: Mapping[str, str]) -> Path | None:
    if config:
        return Path(config)
    if env.get("RATEDECK_CONFIG"):
        return Path(env["RATEDECK_CONFIG"])
    if Path("ratedeck.toml").is_file():
        return Path("ratedeck.toml")
    return None


def load_settings(
    config: str | os.PathLike | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Load and validate settings; raise ConfigError with a one-line message on any problem."""
    env = os.environ if env is None else env
    path = resolve_config_path(config, env)
    if path is None:
        data, source = demo_defaults(), "built-in demo settings"
    else:
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: settings file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    if env.get("COMMPEAK_BASE_URL"):
        data.setdefault("api", {})["base_url"] = env["COMMPEAK_BASE_URL"]
    if env.get("RATEDECK_DATA_DIR"):
        data.setdefault("paths", {})["data_dir"] = env["RATEDECK_DATA_DIR"]
    if env.get("RATEDECK_WAREHOUSE"):
        data.setdefault("warehouse", {})["path"] = env["RATEDECK_WAREHOUSE"]
    return _build(data, Secrets.from_env(env), source)
