"""Server configuration: one place, one precedence rule.

Every setting is read, in order of precedence, from

1. its ``TLDW_*`` environment variable,
2. the ``[Database]`` (or ``[Server]``) section of ``Config_Files/config.txt``,
3. for the PostgreSQL connection only, the standard libpq variables
   (``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``, ``PGPASSWORD``, ``PGSSLMODE``),
4. the default below.

An invalid value raises :class:`ConfigError`, whose message names the variable
and the accepted values; the server and the command-line tools stop on it.
Passwords are kept as :class:`pydantic.SecretStr` so that no ``repr`` or log
line ever shows them.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from .redaction import redact_secrets
from .users.addresses import parse_networks

BackendName = Literal["sqlite", "postgresql"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
AuthMode = Literal["single_user", "multi_user"]


@dataclass(frozen=True)
class PgDefaults:
    """The PostgreSQL connection used for every part that nothing sets.

    One place for the server's settings, the migration tool's ``--pg-*`` flags and
    :class:`~.DB_Management.backends.target.PgTarget` (a DSN without a database, say).
    """

    host: str = "localhost"
    port: int = 5432
    database: str = "tldw_content"
    user: str = "postgres"
    sslmode: SslMode = "prefer"


PG_DEFAULTS = PgDefaults()

CONFIG_FILE_ENV = "TLDW_CONFIG_FILE"
DEFAULT_CONFIG_FILE = Path("Config_Files/config.txt")
CONFIG_SECTIONS = ("Database", "Server")
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


def _is_host_or_range(entry: str) -> bool:
    """Whether *entry* is a host name, an IP address or a CIDR range (an allow-list entry)."""
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return "/" not in entry and ":" not in entry and bool(_HOST_NAME.fullmatch(entry))
    return True


def is_connection_string(value: str) -> bool:
    """A libpq URI (``postgresql://...``) or ``key=value`` pairs, rather than one value."""
    lowered = value.strip().lower()
    return "://" in lowered or lowered.startswith(("postgres:", "postgresql:")) or "=" in lowered


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message says which and why."""


@dataclass(frozen=True)
class Setting:
    """Where one setting comes from: its field, variable, config.txt key and libpq fallback."""

    field: str
    env: str
    accepted: str
    ini_key: str | None = None
    libpq_env: str | None = None

    @property
    def key(self) -> str:
        return self.ini_key or self.field


SETTINGS: tuple[Setting, ...] = (
    Setting("content_db_backend", "TLDW_CONTENT_DB_BACKEND", "sqlite, postgresql, postgres"),
    Setting("data_dir", "TLDW_DATA_DIR", "a directory path"),
    Setting("default_user_id", "TLDW_DEFAULT_USER_ID", "letters, digits, '_' or '-'"),
    Setting(
        "pg_host",
        "TLDW_PG_HOST",
        "a host name, address or socket directory (not a connection URI: the user, password "
        "and database go in TLDW_PG_USER, TLDW_PG_PASSWORD and TLDW_PG_DATABASE)",
        None,
        "PGHOST",
    ),
    Setting("pg_port", "TLDW_PG_PORT", "an integer from 1 to 65535", None, "PGPORT"),
    Setting(
        "pg_database",
        "TLDW_PG_DATABASE",
        "a database name (not a connection string)",
        None,
        "PGDATABASE",
    ),
    Setting("pg_user", "TLDW_PG_USER", "a role name (not a connection string)", None, "PGUSER"),
    Setting("pg_password", "TLDW_PG_PASSWORD", "any string", None, "PGPASSWORD"),
    Setting(
        "pg_sslmode",
        "TLDW_PG_SSLMODE",
        "disable, allow, prefer, require, verify-ca, verify-full",
        None,
        "PGSSLMODE",
    ),
    Setting("workflow_db_pool_size", "TLDW_WORKFLOW_DB_POOL_SIZE", "an integer from 1 to 1000"),
    Setting("workflow_db_max_overflow", "TLDW_WORKFLOW_DB_MAX_OVERFLOW", "an integer 0 to 1000"),
    Setting("workflow_db_timeout", "TLDW_WORKFLOW_DB_TIMEOUT", "seconds, a number above 0"),
    Setting("user_cache_size", "TLDW_USER_CACHE_SIZE", "an integer from 1 to 100000"),
    Setting("auth_mode", "TLDW_AUTH_MODE", "single_user, multi_user"),
    Setting("single_user_api_key", "SINGLE_USER_API_KEY", "any non-empty string"),
    Setting("api_keys_file", "TLDW_API_KEYS_FILE", "a path to a JSON file {key: user_id}"),
    Setting("server_host", "TLDW_SERVER_HOST", "a host name or address"),
    Setting("server_port", "TLDW_SERVER_PORT", "an integer from 1 to 65535"),
    Setting("workflow_workers", "TLDW_WORKFLOW_WORKERS", "an integer from 0 to 64"),
    Setting("workflow_worker_mode", "TLDW_WORKFLOW_WORKER_MODE", "thread, process"),
    Setting("workflow_lease_seconds", "TLDW_WORKFLOW_LEASE_SECONDS", "seconds, from 1 to 3600"),
    Setting(
        "workflow_heartbeat_seconds",
        "TLDW_WORKFLOW_HEARTBEAT_SECONDS",
        "seconds, above 0 and shorter than TLDW_WORKFLOW_LEASE_SECONDS",
    ),
    Setting("max_request_bytes", "TLDW_MAX_REQUEST_BYTES", "an integer from 1024 to 1073741824"),
    Setting("admin_users", "TLDW_ADMIN_USERS", "comma-separated user ids"),
    Setting("jwt_secret_key", "JWT_SECRET_KEY", "a random string of at least 32 characters"),
    Setting(
        "access_token_expire_minutes", "ACCESS_TOKEN_EXPIRE_MINUTES", "an integer from 1 to 1440"
    ),
    Setting("refresh_token_expire_days", "REFRESH_TOKEN_EXPIRE_DAYS", "an integer from 1 to 365"),
    Setting("enable_registration", "ENABLE_REGISTRATION", "true or false"),
    Setting("require_registration_code", "REQUIRE_REGISTRATION_CODE", "true or false"),
    Setting("login_max_failures", "TLDW_LOGIN_MAX_FAILURES", "an integer from 1 to 1000"),
    Setting("login_lockout_seconds", "TLDW_LOGIN_LOCKOUT_SECONDS", "an integer from 1 to 86400"),
    Setting(
        "trusted_proxies", "TLDW_TRUSTED_PROXIES", "comma-separated IP addresses or CIDR ranges"
    ),
    Setting(
        "outbound_allow",
        "TLDW_OUTBOUND_ALLOW",
        "comma-separated host names, IP addresses or CIDR ranges",
    ),
    Setting("embedding_provider", "TLDW_EMBEDDING_PROVIDER", "local, openai"),
    Setting("embedding_api_url", "TLDW_EMBEDDING_API_URL", "an http(s) URL"),
    Setting(
        "embedding_model",
        "TLDW_EMBEDDING_MODEL",
        "a model name (required, with TLDW_EMBEDDING_API_URL, when the provider is openai)",
    ),
    Setting("embedding_api_key", "TLDW_EMBEDDING_API_KEY", "any string"),
    Setting("chat_api_url", "TLDW_CHAT_API_URL", "an http(s) URL"),
    Setting("chat_model", "TLDW_CHAT_MODEL", "a model name (required with TLDW_CHAT_API_URL)"),
    Setting("chat_api_key", "TLDW_CHAT_API_KEY", "any string"),
)
_BY_FIELD = {s.field: s for s in SETTINGS}


USER_ID_RULE = r"^[A-Za-z0-9_-]{1,40}$"
MIN_JWT_SECRET_CHARS = 32


class Settings(BaseModel):
    """The validated configuration of one server process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    content_db_backend: BackendName = "sqlite"
    data_dir: Path = Path("Databases")
    default_user_id: str = Field(default="1", pattern=USER_ID_RULE)
    pg_host: str = PG_DEFAULTS.host
    pg_port: int = Field(default=PG_DEFAULTS.port, ge=1, le=65535)
    pg_database: str = PG_DEFAULTS.database
    pg_user: str = PG_DEFAULTS.user
    pg_password: SecretStr | None = None
    pg_sslmode: SslMode = PG_DEFAULTS.sslmode
    workflow_db_pool_size: int = Field(default=10, ge=1, le=1000)
    workflow_db_max_overflow: int = Field(default=20, ge=0, le=1000)
    workflow_db_timeout: float = Field(default=30.0, gt=0)
    #: How many users' databases stay open at once (the least recently used idle user closes).
    user_cache_size: int = Field(default=100, ge=1, le=100_000)
    auth_mode: AuthMode = "single_user"
    single_user_api_key: SecretStr | None = None
    api_keys_file: Path | None = None
    server_host: str = "127.0.0.1"
    server_port: int = Field(default=8000, ge=1, le=65535)
    workflow_workers: int = Field(default=2, ge=0, le=64)
    workflow_worker_mode: Literal["thread", "process"] = "process"
    #: How long a workflow worker holds its runs without a heartbeat, and how often it beats.
    workflow_lease_seconds: float = Field(default=10.0, ge=1, le=3600)
    workflow_heartbeat_seconds: float = Field(default=2.0, gt=0)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, le=1024**3)
    #: What workflow steps' requests may reach beyond public addresses (core/outbound.py).
    outbound_allow: tuple[str, ...] = ()
    #: The users (ids of the API keys file) who may see server internals (docs/security.md).
    admin_users: tuple[Annotated[str, Field(pattern=USER_ID_RULE)], ...] = ()
    #: Signs the access tokens of password sign-in (HS256); see api/auth.py when unset.
    jwt_secret_key: SecretStr | None = None
    access_token_expire_minutes: int = Field(default=30, ge=1, le=1440)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=365)
    #: Whether anyone may make an account with POST /api/v1/auth/register (multi-user mode).
    enable_registration: bool = False
    #: Whether registering needs a code made with ``tldw-users code`` (core/users/codes.py).
    require_registration_code: bool = False
    #: Failed sign-ins of one username or one address before it is locked out, and for how long.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_lockout_seconds: int = Field(default=900, ge=1, le=86400)
    #: Reverse proxies whose X-Forwarded-For names the client (core/users/addresses.py).
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    #: Where retrieval's vectors come from (docs/rag.md): the model shipped in the
    #: ``wordllama`` wheel, or an OpenAI-compatible endpoint (URL and model both needed).
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_api_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    embedding_model: str | None = Field(default=None, validate_default=True)
    embedding_api_key: SecretStr | None = None
    #: An OpenAI-compatible chat endpoint for ``enable_generation`` (none: not offered).
    chat_api_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    chat_model: str | None = Field(default=None, validate_default=True)
    chat_api_key: SecretStr | None = None

    def is_admin(self, user_id: str) -> bool:
        """Whether *user_id* may see server internals (where the database lives, worker hosts).

        In single-user mode the one user runs the server: yes. In multi-user mode only
        the users ``TLDW_ADMIN_USERS`` lists.
        """
        return self.auth_mode != "multi_user" or user_id in self.admin_users

    @field_validator("jwt_secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # HS256 wants a key of at least 256 bits (RFC 7518, 3.2).
        if value is not None and len(value.get_secret_value().strip()) < MIN_JWT_SECRET_CHARS:
            raise ValueError(f"shorter than {MIN_JWT_SECRET_CHARS} characters")
        return value

    @field_validator("content_db_backend", mode="before")
    @classmethod
    def _alias_postgres(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return "postgresql" if value == "postgres" else value
        return value

    @field_validator("outbound_allow", "admin_users", mode="before")
    @classmethod
    def _split_allow_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(str(entry).strip() for entry in value if str(entry).strip())
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _hosts_or_ranges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not _is_host_or_range(entry):
                raise ValueError(f"{entry!r} is not a host name, IP address or CIDR range")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_networks(e for e in value.split(",") if e.strip())
        return value

    @field_validator("pg_host", "pg_database", "pg_user")
    @classmethod
    def _not_a_connection_string(cls, value: str) -> str:
        # libpq would take a URI or key=value pairs here as a whole connection string
        # (or echo it in an error, password included): each part has its own setting.
        if is_connection_string(value):
            raise ValueError("a connection string where one part of it belongs")
        return value

    @field_validator("pg_host")
    @classmethod
    def _no_credentials_in_host(cls, value: str) -> str:
        # ``user:pw@host``: a URI without its scheme (a role name may hold an @, a host not).
        if "@" in value:
            raise ValueError("credentials in the host name")
        return value

    @field_validator("embedding_model", "chat_model")
    @classmethod
    def _endpoint_complete(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked on the model name (validated after the URL): the message then names it.
        if info.field_name == "embedding_model":
            wanted = info.data.get("embedding_provider") == "openai"
            url = info.data.get("embedding_api_url")
        else:
            url = info.data.get("chat_api_url")
            wanted = url is not None
        if wanted and not (url and value):
            raise ValueError("an endpoint needs both its URL and its model name")
        return value

    @field_validator("workflow_heartbeat_seconds")
    @classmethod
    def _beats_within_lease(cls, value: float, info: ValidationInfo) -> float:
        lease = info.data.get("workflow_lease_seconds")
        if lease is not None and value >= lease:
            raise ValueError("the heartbeat must come more often than the lease runs out")
        return value

    @field_validator("pg_sslmode", "auth_mode", "embedding_provider", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    # -- derived locations -------------------------------------------------

    @property
    def uses_postgres(self) -> bool:
        return self.content_db_backend == "postgresql"

    def user_dir(self, user_id: str) -> Path:
        """The directory of one user's SQLite files: ``<data_dir>/user_databases/<user_id>``."""
        return self.data_dir / "user_databases" / user_id

    def media_db_path(self, user_id: str) -> Path:
        return self.user_dir(user_id) / "Media_DB_v2.db"

    def chacha_db_path(self, user_id: str) -> Path:
        return self.user_dir(user_id) / "ChaChaNotes.db"

    @property
    def analytics_db_path(self) -> Path:
        return self.data_dir / "Analytics.db"

    @property
    def workflows_db_path(self) -> Path:
        return self.data_dir / "workflows.db"

    @property
    def access_token_seconds(self) -> int:
        return self.access_token_expire_minutes * 60

    @property
    def refresh_token_seconds(self) -> int:
        return self.refresh_token_expire_days * 24 * 3600


def to_environment(settings: Settings) -> dict[str, str]:
    """*settings* as the environment variables that reproduce them in a child process.

    The result holds secrets: hand it to a child's environment, never to a log.
    """
    env: dict[str, str] = {}
    for setting in SETTINGS:
        value = getattr(settings, setting.field)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, tuple):
            value = ",".join(value)
        env[setting.env] = str(value)
    return env


def read_config_file(path: Path) -> dict[str, str]:
    """Return the settings of the ``[Database]`` and ``[Server]`` sections of *path*.

    A missing file is an empty configuration; an unreadable one is an error.
    """
    if not path.exists():
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be parsed as an INI file ({exc})") from None
    values: dict[str, str] = {}
    for section in CONFIG_SECTIONS:
        if parser.has_section(section):
            values.update({k.lower(): v for k, v in parser.items(section)})
    return values


def _raw_values(env: Mapping[str, str], ini: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Pick, per field, the winning raw value and a label saying where it came from."""
    chosen: dict[str, tuple[str, str]] = {}
    for setting in SETTINGS:
        if env.get(setting.env, "") != "":
            chosen[setting.field] = (env[setting.env], setting.env)
        elif ini.get(setting.key, "") != "":
            chosen[setting.field] = (ini[setting.key], f"config.txt [{setting.key}]")
        elif setting.libpq_env and env.get(setting.libpq_env, "") != "":
            chosen[setting.field] = (env[setting.libpq_env], setting.libpq_env)
    return chosen


def load_settings(
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Build :class:`Settings` from the environment, config.txt and defaults.

    *overrides* (field names) win over everything; tests and command-line flags use them.
    """
    env = os.environ if env is None else env
    path = config_file or Path(env.get(CONFIG_FILE_ENV) or DEFAULT_CONFIG_FILE)
    chosen = _raw_values(env, read_config_file(path))
    values: dict[str, Any] = {field: raw for field, (raw, _) in chosen.items()}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise _explain(exc, chosen) from None


def _explain(exc: ValidationError, chosen: dict[str, tuple[str, str]]) -> ConfigError:
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        setting = _BY_FIELD.get(field)
        source = chosen.get(field, (None, setting.env if setting else field))[1]
        accepted = setting.accepted if setting else "see docs/configuration.md"
        if "password" in field or "key" in field:
            shown = "'<hidden>'"
        else:  # a host given as a URI may hold a password
            shown = redact_secrets(repr(error.get("input")))
        lines.append(f"{source}={shown} is invalid: accepted values are {accepted}")
    return ConfigError("; ".join(lines))
