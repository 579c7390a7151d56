"""Settings: ``settings.toml`` (or the file named by ``GATEWAY_SETTINGS``), overridden by
``GATEWAY_<SECTION>__<KEY>`` environment variables, overridden by explicit arguments (CLI flags).

The object is built once, by the CLI or by ``create_app``; nothing reads settings at import time.
``model`` holds the shape, ``loading`` reads the sources and reports every problem at once.
"""

from gateway.settings.loading import describe, load_settings, settings_file, unknown_variables
from gateway.settings.model import (
    SETTINGS_ENV,
    VERSION_KEY,
    AuthSettings,
    CorsSettings,
    DatabaseSettings,
    KeySettings,
    MetricsSettings,
    RateLimitSettings,
    ServerSettings,
    Settings,
    UsageSettings,
    VersionSettings,
    VersionsSettings,
    VersionStatus,
    check_key_length,
    key_length_problem,
)

__all__ = [
    "SETTINGS_ENV",
    "VERSION_KEY",
    "AuthSettings",
    "CorsSettings",
    "DatabaseSettings",
    "KeySettings",
    "MetricsSettings",
    "RateLimitSettings",
    "ServerSettings",
    "Settings",
    "UsageSettings",
    "VersionSettings",
    "VersionStatus",
    "VersionsSettings",
    "check_key_length",
    "describe",
    "key_length_problem",
    "load_settings",
    "settings_file",
    "unknown_variables",
]
