"""Loading the settings: ``settings.toml`` (or the file named by ``GATEWAY_SETTINGS``), overridden
by ``GATEWAY_<SECTION>__<KEY>`` environment variables, overridden by explicit arguments.

Every problem, from the file, the environment or a variable that names no setting, is reported
in one ``SettingsError`` line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from gateway.errors import SettingsError
from gateway.settings.model import (
    DEFAULT_SETTINGS_FILE,
    ENV_PREFIX,
    NAMED_KEY,
    NOT_SETTINGS,
    SETTINGS_ENV,
    Settings,
)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One problem per ``GATEWAY_*`` variable whose section is no setting, e.g. a typo.

    pydantic-settings reads only the variables of known sections and ignores the rest; a
    misspelt section (``GATEWAY_SERVR__PORT``) would silently change nothing. Keys inside a
    known section are checked by the section itself (``extra="forbid"``).
    """
    sections = list(Settings.model_fields)
    problems = []
    for name in sorted(environ):
        # pydantic-settings matches names without regard to case, so this does too.
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in NOT_SETTINGS:
            continue
        section = name[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if section in sections:
            continue
        close = difflib.get_close_matches(section, sections, n=1)
        hint = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
        problems.append(f"{name}: no such setting (the sections are {', '.join(sections)}){hint}")
    return problems


def settings_file(path: str | Path | None = None) -> Path | None:
    """The settings file to read: the argument, ``$GATEWAY_SETTINGS``, or ``./settings.toml``.

    A file named explicitly must exist; the default one is optional.
    """
    named = path if path is not None else os.environ.get(SETTINGS_ENV)
    if named:
        chosen = Path(named)
        if not chosen.is_file():
            raise SettingsError(f"settings file {chosen} does not exist")
        return chosen
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from the file, the environment and ``overrides`` (highest priority).

    Raises ``SettingsError`` with one line naming every bad key.
    """
    toml_file = settings_file(path)
    # pydantic-settings reads the TOML path from the class configuration, so a per-call
    # subclass is the supported way to choose the file at run time.
    bound = type(
        "Settings",
        (Settings,),
        {"model_config": SettingsConfigDict(**{**Settings.model_config, "toml_file": toml_file})},
    )
    source = str(toml_file) if toml_file else "defaults"
    problems = unknown_variables(os.environ)
    try:
        settings: Settings = bound(**overrides)
    except ValidationError as error:
        problems.extend(describe(error))
    except (ValueError, OSError) as error:
        raise SettingsError(f"cannot read settings from {source}: {error}") from None
    if problems:
        raise SettingsError(f"invalid settings ({source} + environment): {'; '.join(problems)}")
    return settings


def describe(error: ValidationError) -> list[str]:
    """A validation error's problems, one line each: ``a.b: message``."""
    parts = []
    for problem in error.errors():
        loc = problem["loc"]
        # [versions.v1] is stored as versions.configured[1]: name it as the operator wrote it.
        where = ".".join(
            f"v{part}" if index and loc[index - 1] == "configured" else str(part)
            for index, part in enumerate(loc)
            if part != "configured"
        )
        message = problem["msg"].removeprefix("Value error, ")
        named = problem["type"] == NAMED_KEY
        parts.append(f"{where}: {message}" if where and not named else message)
    return parts
