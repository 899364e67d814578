"""The Dagster resources: the CommPeak client, the warehouse and the mailer.

Each resource overrides one part of the settings (``[api]``, ``[paths]``/``[warehouse]``,
``[smtp]``) and the secrets that go with it. A field left unset (None) keeps the value of
``ratedeck.toml``; that is also what makes a launchpad override of one field work, because
Dagster replaces a resource's whole config with what the launchpad gives. Secrets are
``dg.EnvVar``s: the UI and the run's stored config show the variable's name, never its value.

Assets apply their resources to the settings of the code location (``applied``) and hand the
result to the stages, so an override reaches every stage of the run, not only the first.
"""

import os
from pathlib import Path
from typing import ClassVar, Self

import dagster as dg
from pydantic import Field, SecretStr

from pipeline.commpeak import CommPeakClient
from pipeline.settings import SECRET_ENV, Settings
from pipeline.warehouse.db import Warehouse


class SettingsResource(dg.ConfigurableResource):
    """A resource that overrides some settings. Subclasses declare which: ``SETTINGS`` maps a
    field to its (section, key) in ``Settings``; ``SECRETS`` names the fields that are
    secrets, called as in ``Settings.secrets``."""

    KEY: ClassVar[str]  # the resource key in the Definitions
    SETTINGS: ClassVar[dict[str, tuple[str, str]]]
    SECRETS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The resource showing the settings it starts from. A secret is an ``EnvVar`` when the
        settings took it from that variable; a secret given otherwise (a test's) stays in the
        settings, out of the resource config."""
        values = {
            field: _config_value(getattr(getattr(settings, section), key))
            for field, (section, key) in cls.SETTINGS.items()
        }
        secrets = {name: _env_secret(settings, name) for name in cls.SECRETS}
        return cls(**values, **secrets)

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` with this resource's set fields that differ from them, validated as
        ratedeck.toml is (a bad value is one ConfigError line naming the resource and the
        setting). Values equal to the settings' own were checked when the settings loaded."""
        sections: dict[str, dict[str, object]] = {}
        for field, (section, key) in self.SETTINGS.items():
            value = getattr(self, field)
            current = _config_value(getattr(getattr(settings, section), key))
            if value is not None and value != current:
                sections.setdefault(section, {})[key] = value
        secrets = {
            name: SecretStr(value)
            for name in self.SECRETS
            if (value := getattr(self, name)) and value != _secret_value(settings, name)
        }
        if not sections and not secrets:
            return settings
        relabelled = settings.model_copy(
            update={
                "secrets": settings.secrets.model_copy(update=secrets),
                "source": f"Dagster resource {self.KEY}",
            }
        )
        overridden = relabelled.with_overrides(**sections)
        return overridden.model_copy(update={"source": settings.source})


class CommPeakResource(SettingsResource):
    """The CommPeak API: ``[api]`` and the API key."""

    KEY = "commpeak"
    SETTINGS = {
        name: ("api", name)
        for name in (
            "base_url",
            "timeout_s",
            "max_retries",
            "backoff_s",
            "max_backoff_s",
            "max_download_bytes",
        )
    }
    SECRETS = ("api_key", "recognition_token")

    base_url: str | None = Field(None, description="api.base_url")
    timeout_s: float | None = Field(None, description="api.timeout_s")
    max_retries: int | None = Field(None, description="api.max_retries")
    backoff_s: float | None = Field(None, description="api.backoff_s")
    max_backoff_s: float | None = Field(None, description="api.max_backoff_s")
    max_download_bytes: int | None = Field(None, description="api.max_download_bytes")
    api_key: str | None = Field(None, description="EnvVar COMMPEAK_API_KEY")
    recognition_token: str | None = Field(None, description="EnvVar COMMPEAK_RECOGNITION_TOKEN")

    def create_client(self, settings: Settings) -> CommPeakClient:
        """A client for ``settings`` overridden by this resource; use it in a ``with``."""
        return CommPeakClient.from_settings(self.settings_for(settings))


class WarehouseResource(SettingsResource):
    """Where ratedeck keeps its data: ``[paths]`` (raw downloads, state, outbox) and the
    published warehouse file."""

    KEY = "warehouse"
    SETTINGS = {"data_dir": ("paths", "data_dir"), "warehouse_path": ("warehouse", "path")}

    data_dir: str | None = Field(None, description="paths.data_dir")
    warehouse_path: str | None = Field(None, description="warehouse.path")

    def get_warehouse(self, settings: Settings) -> Warehouse:
        return Warehouse(self.settings_for(settings))


class MailerResource(SettingsResource):
    """Email delivery (``pipeline.notify``): ``[smtp]`` and the SMTP login. No host (in the
    resource and in ratedeck.toml): emails are written to the outbox folder."""

    KEY = "mailer"
    SETTINGS = {
        name: ("smtp", name) for name in ("host", "port", "starttls", "ssl", "sender", "timeout_s")
    }
    SECRETS = ("smtp_user", "smtp_password")

    host: str | None = Field(None, description="smtp.host")
    port: int | None = Field(None, description="smtp.port")
    starttls: bool | None = Field(None, description="smtp.starttls")
    ssl: bool | None = Field(None, description="smtp.ssl")
    sender: str | None = Field(None, description="smtp.sender")
    timeout_s: float | None = Field(None, description="smtp.timeout_s")
    smtp_user: str | None = Field(None, description="EnvVar RATEDECK_SMTP_USER")
    smtp_password: str | None = Field(None, description="EnvVar RATEDECK_SMTP_PASSWORD")


def applied(settings: Settings, *resources: SettingsResource) -> Settings:
    """The settings one asset runs with: the code location's, overridden by its resources."""
    for resource in resources:
        settings = resource.settings_for(settings)
    return settings


def ratedeck_resources(settings: Settings) -> dict[str, SettingsResource]:
    """The code location's resources, starting from ``settings``."""
    kinds: tuple[type[SettingsResource], ...] = (
        CommPeakResource,
        WarehouseResource,
        MailerResource,
    )
    return {kind.KEY: kind.from_settings(settings) for kind in kinds}


def _config_value(value: object) -> object:
    return str(value) if isinstance(value, Path) else value  # Dagster config has no Path


def _secret_value(settings: Settings, name: str) -> str | None:
    secret: SecretStr | None = getattr(settings.secrets, name)
    return secret.get_secret_value() if secret is not None else None


def _env_secret(settings: Settings, name: str) -> str | None:
    # typed as str for the resource field: Dagster resolves the EnvVar when the run starts
    secret: SecretStr | None = getattr(settings.secrets, name)
    variable = SECRET_ENV[name]
    if secret is None or os.environ.get(variable) != secret.get_secret_value():
        return None
    return dg.EnvVar(variable)
