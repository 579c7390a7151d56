"""The settings' shape: one pydantic model per TOML table, and ``Settings`` that holds them.

Every section forbids unknown keys, so a typo stops startup instead of being ignored; checks that
involve several keys (a signing key's length for its algorithm, a sunset after its deprecation)
are validators here, so every problem is collected and reported in one run.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway.errors import SettingsError

ENV_PREFIX = "GATEWAY_"
SETTINGS_ENV = "GATEWAY_SETTINGS"
# The gateway's variables that are not settings; every other GATEWAY_* names one.
NOT_SETTINGS = frozenset({SETTINGS_ENV})
# The error type of a problem whose message names its key itself ("auth.secret_key is ...").
NAMED_KEY = "named_key"
DEFAULT_SETTINGS_FILE = Path("settings.toml")
# RFC 7518 3.2: an HMAC key must be at least as long as the hash output.
MIN_HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
# ``v<N>``: a version's settings table, and the name of its module or entry point.
VERSION_KEY = re.compile(r"^v([1-9][0-9]*)$")

LOOPBACK: tuple[IPvAnyNetwork, ...] = (IPv4Network("127.0.0.1/32"), IPv6Network("::1/128"))

VersionStatus = Literal["preview", "stable", "deprecated", "retired"]


class _Section(BaseModel):
    # A misspelt key is a mistake the operator wants to hear about, not a silent default.
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    root_path: str = ""
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    # "production" refuses to start without a configured signing key.
    environment: Literal["local", "production"] = "local"
    # One JSON line per request on the "gateway.access" logger.
    access_log: bool = True
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: the client address (and
    # so every per-address limit) is then the one they forwarded. uvicorn's default: loopback.
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=lambda: list(LOOPBACK))

    @property
    def forwarded_allow_ips(self) -> list[str]:
        """``trusted_proxies`` as uvicorn's ``forwarded_allow_ips``: addresses, or networks."""
        return [
            str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
            for net in self.trusted_proxies
        ]

    @model_validator(mode="after")
    def _normalise_root_path(self) -> ServerSettings:
        root = self.root_path.strip()
        if root and not root.startswith("/"):
            raise ValueError(f"root_path must start with '/', got {self.root_path!r}")
        self.root_path = root.rstrip("/")
        return self


class KeySettings(_Section):
    """One ``[[auth.keys]]`` table: an HMAC ``secret``, or PEM files for RS256 and EdDSA."""

    kid: str = Field(min_length=1)
    algorithm: Literal["HS256", "HS384", "HS512", "RS256", "EdDSA"] = "HS256"
    secret: SecretStr | None = None
    # Needed to sign (the active key); a public key alone is enough for a key that only verifies.
    private_key_file: Path | None = None
    public_key_file: Path | None = None

    @model_validator(mode="after")
    def _check_material(self) -> KeySettings:
        files = self.private_key_file or self.public_key_file
        if self.algorithm in MIN_HMAC_KEY_BYTES:
            if self.secret is None or files:
                raise ValueError(
                    f"key {self.kid!r}: {self.algorithm} needs a secret, not key files"
                )
            where = f"the secret of key {self.kid!r} in auth.keys"
            _validate_key_length(self.secret.get_secret_value(), self.algorithm, where)
        elif self.secret is not None or not files:
            raise ValueError(
                f"key {self.kid!r}: {self.algorithm} needs private_key_file (to sign) or "
                "public_key_file (to verify only), not a secret"
            )
        return self


class AuthSettings(_Section):
    # The simple form (secret_key, algorithm): one HMAC key, or one created for a local run.
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("var/secret.key")
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Refresh tokens: single use, rotated on every use, revoked as a family on replay.
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    # The list form, for rotation: every key verifies, the active one (the first by default) signs.
    keys: list[KeySettings] = Field(default_factory=list)
    active_kid: str | None = None
    issuer: str = "gateway"
    leeway_seconds: int = Field(default=10, ge=0, le=300)
    # client_id -> secret; an empty secret declares a public client (Swagger UI, scripts).
    clients: dict[str, SecretStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_keys(self) -> AuthSettings:
        if self.secret_key is not None:
            _validate_key_length(
                self.secret_key.get_secret_value(), self.algorithm, "auth.secret_key"
            )
        if not self.keys:
            if self.active_kid is not None:
                raise ValueError(f"active_kid is {self.active_kid!r}, but auth.keys is empty")
            return self
        if self.secret_key is not None:
            raise ValueError("set either secret_key or keys, not both")
        kids = [key.kid for key in self.keys]
        for index, kid in enumerate(kids):
            if kid in kids[:index]:
                raise ValueError(f"two keys have the kid {kid!r}")
        active = self.active_key
        if active is None:
            raise ValueError(
                f"active_kid {self.active_kid!r} is none of the keys' kids: {', '.join(kids)}"
            )
        if active.secret is None and active.private_key_file is None:
            raise ValueError(
                f"the active key {active.kid!r} signs tokens: set its private_key_file"
            )
        return self

    @property
    def active_key(self) -> KeySettings | None:
        """The ``[[auth.keys]]`` entry that signs: ``active_kid``'s, or the first."""
        if self.active_kid is None:
            return self.keys[0] if self.keys else None
        return next((key for key in self.keys if key.kid == self.active_kid), None)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///./var/gateway.db"
    echo: bool = False


def _as_utc(value: Any) -> Any:
    # TOML gives dates as ``date``; a date means its first moment in UTC.
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


UTCMoment = Annotated[datetime, BeforeValidator(_as_utc), AfterValidator(_as_utc)]


class VersionSettings(_Section):
    """One version's place in its lifecycle: ``[versions.v<N>]``."""

    status: VersionStatus = "stable"
    deprecated_at: UTCMoment | None = None
    sunset: UTCMoment | None = None
    successor: int | None = Field(default=None, ge=1)
    # Authenticated calls per principal to this version; ratelimit.authenticated by default.
    rate_limit: str | None = None

    @model_validator(mode="after")
    def _check_dates(self) -> VersionSettings:
        if self.status == "deprecated" and self.deprecated_at is None:
            raise ValueError(
                "a deprecated version needs deprecated_at (the date of its deprecation, "
                "sent in the Deprecation header)"
            )
        if self.sunset and self.deprecated_at and self.sunset < self.deprecated_at:
            raise ValueError(
                f"sunset {self.sunset:%Y-%m-%d} is earlier than deprecated_at "
                f"{self.deprecated_at:%Y-%m-%d}"
            )
        return self


class VersionsSettings(_Section):
    package: str = "versions"
    skip_broken: bool = False
    entry_points: bool = True
    # The [versions.v<N>] tables, keyed by version number.
    configured: dict[int, VersionSettings] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_version_tables(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        configured = dict(data.pop("configured", {}) or {})
        for key in [k for k in data if isinstance(k, str) and VERSION_KEY.match(k.lower())]:
            match = VERSION_KEY.match(key.lower())
            assert match is not None
            configured[int(match.group(1))] = data.pop(key)
        data["configured"] = configured
        return data

    def for_version(self, number: int) -> VersionSettings:
        return self.configured.get(number, VersionSettings())


class RateLimitSettings(_Section):
    """Limits in the ``limits`` library's notation ("5/minute", "100 per hour")."""

    # memory:// keeps counts per process; redis://host:port/db shares them between instances.
    storage_url: str = "memory://"
    # The token route, per account and per client address: much stricter than other traffic.
    login_per_account: str = "5/minute"
    login_per_address: str = "30/minute"
    # Authenticated calls, per principal and version; [versions.v<N>] rate_limit overrides it.
    authenticated: str = "600/minute"


class CorsSettings(_Section):
    """Cross-origin requests are refused unless their origin is listed here."""

    origins: list[str] = Field(default_factory=list)
    allow_credentials: bool = False

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> CorsSettings:
        if self.allow_credentials and "*" in self.origins:
            raise ValueError("origins cannot be '*' when allow_credentials is true; list them")
        return self


class UsageSettings(_Section):
    # Hourly usage rows older than this are deleted; reports reach back at most this far.
    retention_days: int = Field(default=400, ge=1)


class MetricsSettings(_Section):
    # When set, GET /metrics needs "Authorization: Bearer <token>"; keep it in the environment.
    token: SecretStr | None = Field(default=None, min_length=16)


class Settings(BaseSettings):
    """All of the gateway's settings, one section per TOML table."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    versions: VersionsSettings = Field(default_factory=VersionsSettings)
    ratelimit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)
    usage: UsageSettings = Field(default_factory=UsageSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments beat the environment, which beats the file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def key_length_problem(key: str, algorithm: str, where: str) -> str | None:
    """What is wrong with ``key`` as an ``algorithm`` HMAC key, or ``None``."""
    needed = MIN_HMAC_KEY_BYTES[algorithm]
    if len(key.encode()) >= needed:
        return None
    return (
        f"{where} is {len(key.encode())} bytes; an {algorithm} signing key needs at least "
        f"{needed} (generate one with: python -c 'import secrets; "
        f"print(secrets.token_urlsafe(48))')"
    )


def check_key_length(key: str, algorithm: str, where: str) -> None:
    """Raise ``SettingsError`` for a key too short for ``algorithm``."""
    problem = key_length_problem(key, algorithm, where)
    if problem:
        raise SettingsError(problem)


def _validate_key_length(key: str, algorithm: str, where: str) -> None:
    # Inside a validator: an error pydantic collects with the others, not one that escapes.
    problem = key_length_problem(key, algorithm, where)
    if problem:
        raise PydanticCustomError(NAMED_KEY, "{problem}", {"problem": problem})
