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

import dagster as dg
from pydantic import Field, SecretStr

from pipeline.commpeak import CommPeakClient
from pipeline.settings import SECRET_ENV, Settings
from pipeline.warehouse.db import Warehouse

# A section's fields as set on a resource: name -> value, None for "as in ratedeck.toml".
Values = dict[str, object]


class SettingsResource(dg.ConfigurableResource):
    """A resource that overrides some settings; subclasses say which (``overrides``)."""

    def overrides(self) -> dict[str, Values]:
        """Settings section -> the fields this resource sets (None: as in ratedeck.toml)."""
        return {}

    def secrets(self) -> dict[str, str | None]:
        """Secret name (``Settings.secrets``) -> its value when the resource sets it."""
        return {}

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` with this resource's set fields, validated as ratedeck.toml is (a bad
        value is one ConfigError line naming the resource and the setting)."""
        sections = {
            name: {key: value for key, value in values.items() if value is not None}
            for name, values in self.overrides().items()
        }
        sections = {name: values for name, values in sections.items() if values}
        secrets = {name: SecretStr(value) for name, value in self.secrets().items() if value}
        if not sections and not secrets:
            return settings
        relabelled = settings.model_copy(
            update={
                "secrets": settings.secrets.model_copy(update=secrets),
                "source": f"Dagster resource {self.resource_key()}",
            }
        )
        overridden = relabelled.with_overrides(**sections)
        return overridden.model_copy(update={"source": settings.source})

    def resource_key(self) -> str:
        return RESOURCE_KEYS[type(self)]


class CommPeakResource(SettingsResource):
    """The CommPeak API: ``[api]`` and the API key."""

    base_url: str | None = Field(None, description="api.base_url")
    timeout_s: float | None = Field(None, description="api.timeout_s")
    max_retries: int | None = Field(None, description="api.max_retries")
    backoff_s: float | None = Field(None, description="api.backoff_s")
    max_backoff_s: float | None = Field(None, description="api.max_backoff_s")
    max_download_bytes: int | None = Field(None, description="api.max_download_bytes")
    api_key: str | None = Field(None, description="EnvVar COMMPEAK_API_KEY")
    recognition_token: str | None = Field(None, description="EnvVar COMMPEAK_RECOGNITION_TOKEN")

    def overrides(self) -> dict[str, Values]:
        return {
            "api": {
                "base_url": self.base_url,
                "timeout_s": self.timeout_s,
                "max_retries": self.max_retries,
                "backoff_s": self.backoff_s,
                "max_backoff_s": self.max_backoff_s,
                "max_download_bytes": self.max_download_bytes,
            }
        }

    def secrets(self) -> dict[str, str | None]:
        return {"api_key": self.api_key, "recognition_token": self.recognition_token}

    def create_client(self, settings: Settings) -> CommPeakClient:
        """A client for ``settings`` (as ``applied`` gives them); use it in a ``with``."""
        return CommPeakClient.from_settings(self.settings_for(settings))


class WarehouseResource(SettingsResource):
    """Where ratedeck keeps its data: ``[paths]`` (raw downloads, state, outbox) and the
    published warehouse file."""

    data_dir: str | None = Field(None, description="paths.data_dir")
    warehouse_path: str | None = Field(None, description="warehouse.path")

    def overrides(self) -> dict[str, Values]:
        return {"paths": {"data_dir": self.data_dir}, "warehouse": {"path": self.warehouse_path}}

    def get_warehouse(self, settings: Settings) -> Warehouse:
        return Warehouse(self.settings_for(settings))


class MailerResource(SettingsResource):
    """Email delivery (``pipeline.notify``): ``[smtp]`` and the SMTP login. No host (in the
    resource and in ratedeck.toml): emails are written to the outbox folder."""

    host: str | None = Field(None, description="smtp.host")
    port: int | None = Field(None, description="smtp.port")
    starttls: bool | None = Field(None, description="smtp.starttls")
    ssl: bool | None = Field(None, description="smtp.ssl")
    sender: str | None = Field(None, description="smtp.sender")
    timeout_s: float | None = Field(None, description="smtp.timeout_s")
    smtp_user: str | None = Field(None, description="EnvVar RATEDECK_SMTP_USER")
    smtp_password: str | None = Field(None, description="EnvVar RATEDECK_SMTP_PASSWORD")

    def overrides(self) -> dict[str, Values]:
        fields = ("host", "port", "starttls", "ssl", "sender", "timeout_s")
        return {"smtp": {name: getattr(self, name) for name in fields}}

    def secrets(self) -> dict[str, str | None]:
        return {"smtp_user": self.smtp_user, "smtp_password": self.smtp_password}


RESOURCE_KEYS: dict[type[SettingsResource], str] = {
    CommPeakResource: "commpeak",
    WarehouseResource: "warehouse",
    MailerResource: "mailer",
}


def applied(settings: Settings, *resources: SettingsResource) -> Settings:
    """The settings one asset runs with: the code location's, overridden by its resources."""
    for resource in resources:
        settings = resource.settings_for(settings)
    return settings


def ratedeck_resources(settings: Settings) -> dict[str, SettingsResource]:
    """The resources of the code location, showing the settings they start from. A secret is
    an ``EnvVar`` when the settings took it from that variable; a secret given otherwise (a
    test's) stays in the settings, out of the resource config."""
    api, paths, smtp = settings.api, settings.paths, settings.smtp
    return {
        "commpeak": CommPeakResource(
            base_url=api.base_url,
            timeout_s=api.timeout_s,
            max_retries=api.max_retries,
            backoff_s=api.backoff_s,
            max_backoff_s=api.max_backoff_s,
            max_download_bytes=api.max_download_bytes,
            api_key=_env_secret(settings, "api_key"),
            recognition_token=_env_secret(settings, "recognition_token"),
        ),
        "warehouse": WarehouseResource(
            data_dir=str(paths.data_dir),
            warehouse_path=str(settings.warehouse.path) if settings.warehouse.path else None,
        ),
        "mailer": MailerResource(
            host=smtp.host,
            port=smtp.port,
            starttls=smtp.starttls,
            ssl=smtp.ssl,
            sender=smtp.sender,
            timeout_s=smtp.timeout_s,
            smtp_user=_env_secret(settings, "smtp_user"),
            smtp_password=_env_secret(settings, "smtp_password"),
        ),
    }


def _env_secret(settings: Settings, name: str) -> str | None:
    # typed as str for the resource field: Dagster resolves the EnvVar when the run starts
    secret: SecretStr | None = getattr(settings.secrets, name)
    variable = SECRET_ENV[name]
    if secret is None or os.environ.get(variable) != secret.get_secret_value():
        return None
    return dg.EnvVar(variable)
