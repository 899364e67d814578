"""Dagster's run, event-log and schedule storage in PostgreSQL (``[dagster] postgres_url``).

The URL carries no password: it comes from ``RATEDECK_POSTGRES_PASSWORD``, which dagster.yaml
names (``env:``) rather than contains, so every Dagster process (``ratedeck run``, the code
server, webserver and daemon) reads it from its own environment and no file holds it.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote, urlsplit

from pipeline.errors import RatedeckError
from pipeline.redaction import configured_secrets, redact
from pipeline.settings import SECRET_ENV, Settings

PASSWORD_ENV = SECRET_ENV["postgres_password"]
CONNECT_TIMEOUT_S = 10


class PostgresUnavailable(RatedeckError):
    """The configured server cannot be reached or refuses us: one line, no password."""


def storage_yaml(settings: Settings) -> str:
    """The ``storage:`` block of dagster.yaml for ``dagster.postgres_url``."""
    url = settings.dagster.postgres_url
    if url is None:
        return ""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    lines = [
        "storage:",
        "  postgres:",
        "    postgres_db:",
        f"      username: {json.dumps(unquote(parts.username or ''))}",
        f"      hostname: {json.dumps(parts.hostname)}",
        f"      port: {parts.port or 5432}",
        f"      db_name: {json.dumps(parts.path.removeprefix('/'))}",
        # the driver dagster-postgres installs; SQLAlchemy 2.1's default is psycopg 3
        "      scheme: postgresql+psycopg2",
    ]
    if params:
        lines.append(f"      params: {json.dumps(params)}")
    if settings.secrets.postgres_password is not None:
        lines.append(f"      password: {{env: {PASSWORD_ENV}}}")
    return "\n".join(lines) + "\n"


def check_reachable(settings: Settings) -> None:
    """Connect once before Dagster does: Dagster retries a refused connection for seconds and
    logs each attempt; a wrong password or a server that is down is one line at once."""
    import psycopg2  # installed with dagster-postgres; only needed with Postgres storage

    url = settings.dagster.postgres_url
    if url is None:
        return
    parts = urlsplit(url)
    password = settings.secrets.postgres_password
    try:
        psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or ""),
            dbname=parts.path.removeprefix("/"),
            password=password.get_secret_value() if password else None,
            # the URL's own connect_timeout wins (was: "got multiple values", a traceback)
            **{"connect_timeout": CONNECT_TIMEOUT_S, **dict(parse_qsl(parts.query))},
        ).close()
    except psycopg2.Error as exc:
        raise PostgresUnavailable(failure_line(settings, exc)) from None


def failure_line(settings: Settings, exc: BaseException) -> str:
    """ "Dagster storage postgresql://user@host:port/db failed: <first line of the cause>"."""
    text = " ".join(str(exc).strip().splitlines()[:1]) or type(exc).__name__
    reason = redact(text, configured_secrets(settings))
    return f"Dagster storage {settings.dagster.postgres_url} failed: {reason}"
