"""Typed settings: ``ratedeck.toml`` plus environment, validated once at start-up.

Resolution order for the file: ``--config FILE``, else ``$RATEDECK_CONFIG``, else
``./ratedeck.toml`` if present, else the built-in demo settings (no file at all).
Environment overrides: ``COMMPEAK_BASE_URL``, ``RATEDECK_DATA_DIR``, ``RATEDECK_WAREHOUSE``.
Secrets come only from the environment (``COMMPEAK_API_KEY``, ``COMMPEAK_RECOGNITION_TOKEN``,
``RATEDECK_SMTP_USER``, ``RATEDECK_SMTP_PASSWORD``, ``RATEDECK_POSTGRES_PASSWORD``); a secret key
in the file is an error.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlsplit

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
from pipeline.limits import MAX_CALL_SECONDS, TOO_LARGE

TECH_PREFIX_RE = re.compile(r"current|[0-9]{1,16}")  # always fullmatch: "$" admits "\n"
SECRET_ENV = {
    "api_key": "COMMPEAK_API_KEY",
    "recognition_token": "COMMPEAK_RECOGNITION_TOKEN",
    "smtp_user": "RATEDECK_SMTP_USER",
    "smtp_password": "RATEDECK_SMTP_PASSWORD",
    "postgres_password": "RATEDECK_POSTGRES_PASSWORD",
}
# settings the environment overrides: (section, key) -> variable
ENV_OVERRIDES = {
    ("api", "base_url"): "COMMPEAK_BASE_URL",
    ("paths", "data_dir"): "RATEDECK_DATA_DIR",
    ("warehouse", "path"): "RATEDECK_WAREHOUSE",
}
DEMO_TECH_PREFIXES = ["current", "021001", "021002"]
# a plain address (it goes into To:/From: headers as is): local@domain, no name, no list
ADDRESS_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
)
HOSTNAME_RE = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def validate_tech_prefix(value: str) -> str:
    """A tech prefix is ``current`` or digits: anything else could escape the URL path."""
    if not isinstance(value, str) or not TECH_PREFIX_RE.fullmatch(value):
        raise ValueError(f"bad tech prefix {value!r}: must be 'current' or digits")
    return value


TechPrefix = Annotated[str, AfterValidator(validate_tech_prefix)]


def validate_cron(value: str) -> str:
    """Checked with the cron parser Dagster itself uses, so a schedule Dagster would refuse
    (with a traceback, when the definitions load) is refused here, in one line."""
    from dagster._utils.schedules import is_valid_cron_string  # slow import: only when set

    if not isinstance(value, str) or not is_valid_cron_string(value):
        raise ValueError(
            f"bad schedule {value!r}: expected a cron expression of 5 fields, e.g. '0 6 * * *'"
        )
    return value


Cron = Annotated[str, AfterValidator(validate_cron)]


def validate_address(value: str) -> str:
    if not isinstance(value, str) or not ADDRESS_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address (expected name@example.com)")
    return value


Address = Annotated[str, AfterValidator(validate_address)]


def validate_host(value: str | None) -> str | None:
    if value is None:
        return None
    if is_ip_literal(value) or HOSTNAME_RE.fullmatch(value):
        return value
    raise ValueError(
        f"bad host {value!r}: a host name or IP address only (no scheme, port or spaces; "
        "leave the key out to write emails to the outbox)"
    )


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _no_file_on_the_way(path: Path) -> Path:
    """A folder ratedeck creates must not sit below a regular file (``data/x`` where ``data``
    is a file): caught here rather than as ENOTDIR deep inside a run."""
    for parent in [path, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                where = "" if parent == path else f"{path}: "
                raise ValueError(f"{where}{parent} is a file, not a folder")
            break
    return path


def _not_a_folder(path: Path | None) -> Path | None:
    if path is not None:
        if path.is_dir():
            raise ValueError(f"{path} is a folder: expected a file name")
        _no_file_on_the_way(path.parent)
    return path


Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


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
    timeout_s: Seconds = 30
    max_retries: int = Field(4, ge=0, le=20)
    backoff_s: float = Field(0.5, ge=0, allow_inf_nan=False)
    max_backoff_s: float = Field(30, ge=0, allow_inf_nan=False)
    max_download_bytes: int = Field(256 * 1024 * 1024, gt=0)
    concurrency: int = Field(4, ge=1, le=32)

    @model_validator(mode="after")
    def _backoff_order(self) -> ApiSettings:
        if self.max_backoff_s < self.backoff_s:
            raise ValueError(
                f"max_backoff_s ({self.max_backoff_s:g}) is below backoff_s ({self.backoff_s:g})"
            )
        return self


class FeedSettings(_Section):
    """What every rate feed ([voice], [sms]) is judged by; each section its own values."""

    # more refused rows than this fails the snapshot (a mostly-garbage download)
    max_reject_fraction: float = Field(0.05, ge=0, le=1)
    # a snapshot shrinking more than this against the last one is refused (truncated download)
    max_row_drop_fraction: float = Field(0.2, ge=0, le=1)
    schedule: Cron


class VoiceSettings(FeedSettings):
    # at least one: with none there is nothing to load and Dagster has no voice partition
    tech_prefixes: list[TechPrefix] = Field(default_factory=lambda: ["current"], min_length=1)
    format: Literal["csv", "xls"] = "csv"
    # increments used when a deck has no increments column (CommPeak's example deck: 1/1)
    default_increments: str = "1/1"
    # ingest bounds (pipeline/ingest/limits.py): an XLSX inflating past this is refused
    max_inflated_bytes: int = Field(512 * 1024 * 1024, gt=0)
    ingest_timeout_s: float = Field(300, gt=0)
    schedule: Cron = "0 6 * * *"

    @field_validator("tech_prefixes")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate entries: {sorted({p for p in v if v.count(p) > 1})}")
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


class SmsSettings(FeedSettings):
    channels: list[SmsChannel] = Field(default_factory=list)
    # An empty or half list after a full one is far likelier a glitch than a channel wound down,
    # and its "every rate removed" would reach finance; 1 = no limit (a channel may empty)
    max_row_drop_fraction: float = Field(0.5, ge=0, le=1)
    schedule: Cron = "30 6 * * *"

    @field_validator("channels")
    @classmethod
    def _unique(cls, v: list[SmsChannel]) -> list[SmsChannel]:
        keys = [c.key for c in v]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"duplicate channels: {', '.join(twice)}")
        return v


class BalanceSettings(_Section):
    # the warehouse keeps it as DECIMAL(18, 8)
    low_balance_threshold: Decimal = Field(Decimal("50"), max_digits=18, decimal_places=8)
    schedule: Cron = "0 * * * *"


class PathsSettings(_Section):
    data_dir: Annotated[Path, AfterValidator(_no_file_on_the_way)] = Path("data")


class WarehouseSettings(_Section):
    # default: <data_dir>/warehouse.duckdb
    path: Annotated[Path | None, AfterValidator(_not_a_folder)] = None


class ReportSettings(_Section):
    recipients: list[Address] = Field(default_factory=lambda: ["finance@example.com"], min_length=1)
    # 150 s, not 180: a whole-minute call bills the same under 1/1 and 60/60, hiding that change
    reference_call_seconds: int = Field(150, gt=0)
    traffic_profile: Path | None = None
    notice_days: int = Field(7, ge=0)
    top_n: int = Field(15, ge=1)
    cost_decimals: int = Field(6, ge=0, le=8)
    # `ratedeck cost` reads and costs this many calls at a time: memory is bounded by it
    cost_batch_rows: int = Field(250_000, ge=1)
    currency: str = "USD"

    @field_validator("reference_call_seconds")
    @classmethod
    def _a_call_lookup_prices(cls, v: int) -> int:
        # plain `lookup` prices a call of this length: beyond the limit it would refuse its
        # own default
        if v > MAX_CALL_SECONDS:
            raise ValueError(f"{v} {TOO_LARGE} (the longest call lookup and cost price)")
        return v

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"{v!r}: expected a three-letter ISO 4217 code, e.g. USD")
        return v

    @field_validator("traffic_profile")
    @classmethod
    def _existing_file(cls, v: Path | None) -> Path | None:
        # read only when a report is built, after the loads: a typo would fail the run late
        if v is not None and not v.is_file():
            raise ValueError(f"{v}: " + ("is a folder" if v.is_dir() else "no such file"))
        return v


class SmtpSettings(_Section):
    host: Annotated[str | None, AfterValidator(validate_host)] = None
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    sender: Address = "ratedeck@example.com"
    timeout_s: Seconds = 30

    @model_validator(mode="after")
    def _tls_modes(self) -> SmtpSettings:
        if self.ssl and self.starttls:
            raise ValueError("smtp: choose ssl = true or starttls = true, not both")
        return self


URL_SHAPE = "postgresql://user@host:port/database"
# what the URL's own parts say: a parameter repeating one would reach the driver twice
URL_OWN_PARAMS = ("user", "host", "hostaddr", "port", "dbname")


def validate_postgres_url(value: str | None) -> str | None:
    """postgresql://user@host[:port]/database[?sslmode=...&connect_timeout=...]: the password
    never sits in the file (RATEDECK_POSTGRES_PASSWORD; not as ``?password=`` either), and the
    error never repeats a URL that carried one. Other parameters go to the driver."""
    if value is None:
        return None
    parts = urlsplit(value)
    params = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    if parts.password is not None or "password" in params:
        raise ValueError("no password in the URL: set RATEDECK_POSTGRES_PASSWORD instead")
    named = next((key for key in params if key in URL_OWN_PARAMS), None)
    if named is not None:
        raise ValueError(f"?{named}= in {value!r}: give it in the URL itself ({URL_SHAPE})")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise ValueError(f"bad port in {value!r}") from None
    database = parts.path.removeprefix("/")
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.username:
        raise ValueError(f"bad URL {value!r}: expected postgresql://user@host:port/database")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", database) or parts.fragment:
        raise ValueError(f"bad URL {value!r}: expected postgresql://user@host:port/database")
    return value


def validate_web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.password:
        raise ValueError(f"bad URL {value!r}: expected http(s)://host[:port][/path]")
    return value.rstrip("/")


class DagsterSettings(_Section):
    # unset: Dagster keeps runs, events and schedules in SQLite under <data_dir>/dagster_home
    postgres_url: Annotated[str | None, AfterValidator(validate_postgres_url)] = None
    # step retries of the steps that call the API, under the daemon (`ratedeck run` has none:
    # its client retries transient errors itself, and a person is waiting)
    fetch_retries: int = Field(2, ge=0, le=10)
    fetch_retry_delay_s: float = Field(300, ge=0, le=86400, allow_inf_nan=False)
    # where alert emails link a run to: <webserver_url>/runs/<run id>
    webserver_url: Annotated[str, AfterValidator(validate_web_url)] = "http://127.0.0.1:3000"


Hours = Annotated[float, Field(gt=0, le=24 * 366, allow_inf_nan=False)]


class AlertsSettings(_Section):
    # the data engineers: run failures and stale feeds (finance gets [report] recipients)
    recipients: list[Address] = Field(
        default_factory=lambda: ["data-engineers@example.com"], min_length=1
    )
    # a tech prefix (SMS channel) whose last load is older than this is flagged: a daily
    # schedule plus two hours of grace
    voice_max_age_hours: Hours = 26
    sms_max_age_hours: Hours = 26
    balance_max_age_hours: Hours = 2
    freshness_schedule: Cron = "15 * * * *"
    # a stale feed is emailed when it becomes stale, then again every this many hours while it
    # stays stale (the hourly check still fails, and shows it, every time)
    stale_repeat_hours: Hours = 24


class EmulatorSettings(_Section):
    seed: int = 7
    deck_size: int = Field(3000, ge=10, le=2_000_000)
    start_date: str = "2026-11-01"
    effective_dates: bool = False

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, v: object) -> str:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v.isoformat()  # a TOML date literal: start_date = 2026-11-01
        try:
            return dt.date.fromisoformat(str(v)).isoformat()
        except ValueError:
            raise ValueError(f"expected a date YYYY-MM-DD, got {v!r}") from None


class CdrColumns(_Section):
    """Which column of a generic CDR file (CSV with a header, or Parquet) holds what."""

    number: str = "number"  # the dialled number (tech prefix + number, or the number)
    seconds: str = "seconds"  # billed talk time, whole seconds (0: not answered)
    started_at: str = "started_at"  # call start, switch local time (or with a UTC offset)
    tech_prefix: str | None = None  # optional: the route, when the number does not carry it
    call_id: str | None = None  # optional: the switch's unique call id


def validate_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: expected an IANA name, e.g. Europe/Dublin"
        ) from None
    return value


class CdrSettings(_Section):
    """The customer's own call records (docs/cdr.md)."""

    folder: Path | None = None  # the Dagster sensor imports new files from here; None: off
    format: Literal["asterisk", "freeswitch", "generic"] = "asterisk"
    columns: CdrColumns = CdrColumns()  # generic format only
    timezone: Annotated[str, AfterValidator(validate_timezone)] = "UTC"  # the switch's clock
    default_tech_prefix: TechPrefix | None = None  # None: the first of voice.tech_prefixes
    partitions_start: dt.date = dt.date(2024, 1, 1)  # first day of the cdr_costs partitions
    # a file with more refused rows than this is refused whole (the wrong format, say)
    max_reject_fraction: float = Field(0.2, ge=0, le=1)
    profile_days: int = Field(30, ge=1, le=366)  # costed days the derived traffic profile spans
    # a file modified more recently than this may still be being copied: the sensor waits
    settle_s: float = Field(60, ge=0, allow_inf_nan=False)


class CarrierColumns(_Section):
    """Which column of the carrier's call export (CommPeak's portal CSV) holds what; the
    defaults are the portal's (and the emulator's) header."""

    call_id: str = "Call ID"
    started_at: str = "Start Time (UTC)"  # UTC, YYYY-MM-DD HH:MM:SS (or ISO 8601 with offset)
    tech_prefix: str = "Tech Prefix"  # empty: the account's default plan (current)
    number: str = "Destination Number"  # E.164 digits, without the tech prefix
    destination: str = "Destination"
    prefix: str = "Prefix"  # the deck row that billed it
    seconds: str = "Duration"  # seconds the carrier measured
    billed_seconds: str = "Billed Seconds"
    rate: str = "Rate"  # price per minute applied
    cost: str = "Cost"
    currency: str = "Currency"

    @model_validator(mode="after")
    def _distinct(self) -> CarrierColumns:
        names = list(self.model_dump().values())
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"column {twice[0]!r} is mapped to more than one field")
        if any(not n.strip() for n in names):
            raise ValueError("a column name is empty")
        return self


class ReconcileSettings(_Section):
    """Reconciliation with the carrier (docs/cdr.md#reconciliation)."""

    # a day whose balance spend differs from the costed calls by more than this % fails
    tolerance_pct: Decimal = Field(Decimal(2), ge=0, le=100)
    # a carrier row and a switch call are the same call when their starts differ by at most this
    match_tolerance_s: int = Field(2, ge=0, le=3600)
    columns: CarrierColumns = CarrierColumns()


class Secrets(BaseModel):
    """Read from the environment only; SecretStr keeps them out of reprs and logs."""

    model_config = ConfigDict(frozen=True)
    api_key: SecretStr | None = None
    recognition_token: SecretStr | None = None
    smtp_user: SecretStr | None = None
    smtp_password: SecretStr | None = None
    postgres_password: SecretStr | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        return cls.model_validate(
            {field: env.get(var) or None for field, var in SECRET_ENV.items()}
        )


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
    dagster: DagsterSettings = DagsterSettings()
    alerts: AlertsSettings = AlertsSettings()
    cdr: CdrSettings = CdrSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)
    source: str = Field("built-in demo settings", exclude=True)

    @model_validator(mode="after")
    def _smtp_credentials(self) -> Settings:
        user, password = self.secrets.smtp_user, self.secrets.smtp_password
        if bool(user) != bool(password):
            missing = "RATEDECK_SMTP_PASSWORD" if user else "RATEDECK_SMTP_USER"
            raise ValueError(f"smtp: {missing} is not set (SMTP login needs both)")
        smtp = self.smtp
        if user and smtp.host and not (smtp.ssl or smtp.starttls):
            if not is_loopback_host(smtp.host):
                raise ValueError(
                    f"smtp: refusing to send SMTP credentials to {smtp.host} without TLS: "
                    "set smtp.starttls = true or smtp.ssl = true"
                )
        return self

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
    def cdr_default_tech_prefix(self) -> str:
        """The route of a call whose number and columns name none."""
        return self.cdr.default_tech_prefix or self.voice.tech_prefixes[0]

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


def _format_validation_error(
    exc: ValidationError, source: str, from_env: Mapping[tuple[str, ...], str]
) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown setting"
    variable = from_env.get(tuple(str(p) for p in err["loc"][:2]))
    if variable:  # the value came from the environment, not from the file
        return f"{variable} ({where}): {msg}"
    return f"{source}: {where}: {msg}" if where else f"{source}: {msg}"


def _build(
    data: dict,
    secrets: Secrets,
    source: str,
    from_env: Mapping[tuple[str, ...], str] | None = None,
) -> Settings:
    """``from_env``: (section, key) -> the environment variable its value came from."""
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
        raise ConfigError(_format_validation_error(exc, source, from_env or {})) from None


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
        data = read_settings_file(path)
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    from_env: dict[tuple[str, ...], str] = {}
    for (section, key), variable in ENV_OVERRIDES.items():
        if env.get(variable):
            data.setdefault(section, {})[key] = env[variable]
            from_env[(section, key)] = variable
    return _build(data, Secrets.from_env(env), source, from_env)


def read_settings_file(path: Path) -> dict:
    """The TOML of ``path``; any problem is one line naming the file. A UTF-8 byte order mark
    (Windows editors write one) is dropped, as TOML allows none."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a settings file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}): save the settings file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
