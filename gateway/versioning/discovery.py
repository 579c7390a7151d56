"""Finding the versions: modules ``v<N>.py`` and packages ``v<N>/`` in the versions package, plus
entry points in the group ``gateway.versions`` (named ``v<N>``) from installed distributions.

Every candidate is validated here, and a bad one is reported by file and cause in one line:
it fails to import, it has no ``app``, its ``app`` was not made with ``create_version_app``, two
of its operations share an operationId (an SDK would get two methods of one name), or its number
is already taken. Modules whose names start with ``_`` are shared code, never versions.

A derived version (``derive_version``) is then bound to its successor, the next higher version
found (or the one it names), from the highest version down, so that each successor is complete
before the versions derived from it; a successor that failed to load takes them along.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic.config import Config
from fastapi import FastAPI

from gateway.errors import VersionLoadError
from gateway.settings import VERSION_KEY, VersionsSettings
from gateway.storage.migrate import alembic_config
from gateway.versioning.derivation.binding import bind_derived, derivation_of
from gateway.versioning.derivation.lenient import Stale, bind_leniently
from gateway.versioning.factory import declared_scopes, repeated_operation_id

ENTRY_POINT_GROUP = "gateway.versions"

log = logging.getLogger("gateway")


@dataclass(frozen=True)
class Candidate:
    number: int
    source: str
    load: Callable[[], Any]


@dataclass(frozen=True)
class DiscoveredVersion:
    number: int
    source: str
    app: FastAPI
    scopes: dict[str, str]
    successor: int | None = None  # the version it is derived from, for a derived one
    stale: tuple[Stale, ...] = ()  # declarations set aside by a lenient load


@dataclass(frozen=True)
class LenientDiscovery:
    """The versions, derived ones bound without the declarations their successors no longer
    fit; ``unbound`` are the derived ones that could not be bound even so, with the reason."""

    versions: list[DiscoveredVersion]
    unbound: dict[int, Unbound]


@dataclass(frozen=True)
class Unbound:
    """A derived version that could not be bound, the version it would derive from, and why."""

    version: DiscoveredVersion
    successor: int | None
    problem: str


def discover_versions(settings: VersionsSettings) -> list[DiscoveredVersion]:
    """Import and validate every version, lowest number first.

    Raises ``VersionLoadError`` for the first broken one, unless ``skip_broken`` is set, in which
    case broken versions are logged and left out.
    """
    return _discover(settings, lenient=False).versions


def discover_leniently(settings: VersionsSettings) -> LenientDiscovery:
    """``discover_versions`` for the tools that report what a changed successor breaks: each
    derived version is bound without the declarations it no longer fits (its ``stale`` ones),
    and one that cannot be bound even so is set aside with the reason instead of stopping."""
    return _discover(settings, lenient=True)


def _discover(settings: VersionsSettings, *, lenient: bool) -> LenientDiscovery:
    candidates = list(_package_candidates(settings.package))
    if settings.entry_points:
        candidates += list(_entry_point_candidates())
    by_number: dict[int, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: c.number):
        if candidate.number in by_number:
            raise VersionLoadError(
                f"{candidate.source}: version {candidate.number} is already defined by "
                f"{by_number[candidate.number].source}; rename one of them"
            )
        by_number[candidate.number] = candidate
    loaded: dict[int, DiscoveredVersion] = {}
    for candidate in by_number.values():
        try:
            loaded[candidate.number] = _load(candidate)
        except VersionLoadError as error:
            _skip(error, settings)
    unbound: dict[int, Unbound] = {}
    for number in sorted(loaded, reverse=True):
        try:
            loaded[number] = _bind(loaded[number], loaded, list(by_number), lenient)
        except VersionLoadError as error:
            found = loaded.pop(number)
            if not lenient:
                _skip(error, settings)
                continue
            derivation = derivation_of(found.app)
            higher = [n for n in by_number if n > number]
            successor = derivation.successor if derivation else None
            unbound[number] = Unbound(found, successor or min(higher, default=None), str(error))
    return LenientDiscovery([loaded[number] for number in sorted(loaded)], unbound)


def _skip(error: VersionLoadError, settings: VersionsSettings) -> None:
    if not settings.skip_broken:
        raise error
    log.warning("skipped a broken version (versions.skip_broken is set): %s", error)


def _bind(
    found: DiscoveredVersion,
    loaded: dict[int, DiscoveredVersion],
    numbers: list[int],
    lenient: bool,
) -> DiscoveredVersion:
    """A derived version bound to its successor; any other version as it is."""
    derivation = derivation_of(found.app)
    if derivation is None:
        return found
    if derivation.successor is None:
        higher = [number for number in numbers if number > found.number]
        if not higher:
            raise VersionLoadError(
                f"{found.source}: derive_version(): no version above {found.number} is served"
            )
        successor = min(higher)
    elif derivation.successor <= found.number:
        raise VersionLoadError(
            f"{found.source}: derive_version(successor={derivation.successor}): "
            "a version derives from a higher one"
        )
    else:
        successor = derivation.successor
    if successor not in loaded:
        state = "failed to load" if successor in numbers else "is not served"
        raise VersionLoadError(
            f"{found.source}: derive_version(): its successor v{successor} {state}"
        )
    stale: tuple[Stale, ...] = ()
    successor_app, name = loaded[successor].app, f"v{successor}"
    if lenient:
        stale = bind_leniently(found.app, successor_app, successor_name=name, source=found.source)
    else:
        bind_derived(found.app, successor_app, successor_name=name, source=found.source)
    scopes = declared_scopes(found.app) or {}
    return DiscoveredVersion(found.number, found.source, found.app, scopes, successor, stale)


def _load(candidate: Candidate) -> DiscoveredVersion:
    try:
        loaded = candidate.load()
    except Exception as error:
        raise VersionLoadError(
            f"{candidate.source}: cannot import: {type(error).__name__}: {error}"
        ) from error
    app = getattr(loaded, "app", None) if isinstance(loaded, ModuleType) else loaded
    if app is None:
        raise VersionLoadError(
            f"{candidate.source}: has no 'app'; define app = create_version_app(...)"
        )
    scopes = declared_scopes(app)
    if not isinstance(app, FastAPI) or scopes is None:
        raise VersionLoadError(
            f"{candidate.source}: 'app' is a {type(app).__name__}, not an app made with "
            "gateway.create_version_app(...)"
        )
    if repeated := repeated_operation_id(app):
        operation_id, first, second = repeated
        raise VersionLoadError(
            f"{candidate.source}: {first} and {second} both have operationId {operation_id!r}; "
            "rename one route's function or give it operation_id=..."
        )
    return DiscoveredVersion(candidate.number, candidate.source, app, scopes)


def _package_candidates(package_name: str) -> Iterator[Candidate]:
    # Like uvicorn's --app-dir: the versions package of the project in the working directory is
    # found however the gateway was started (CLI, uvicorn --factory, a test runner).
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as error:
        if error.name != package_name:
            raise VersionLoadError(
                f"versions package {package_name!r}: cannot import: {error}"
            ) from error
        log.warning("no versions package %r found (looked in %s)", package_name, os.getcwd())
        return
    except Exception as error:
        raise VersionLoadError(
            f"versions package {package_name!r}: cannot import: {type(error).__name__}: {error}"
        ) from error
    for directory in getattr(package, "__path__", []):
        for entry in sorted(Path(directory).iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            is_module = entry.is_file() and entry.suffix == ".py"
            is_package = entry.is_dir() and (entry / "__init__.py").is_file()
            if not (is_module or is_package) or name.startswith("_"):
                continue
            match = VERSION_KEY.match(name)
            if match is None:
                log.warning(
                    "ignored %s: a version is named v<N> and shared code starts with '_'",
                    display(entry),
                )
                continue
            source = display(entry) + ("/" if is_package else "")
            yield Candidate(int(match.group(1)), source, _fresh_importer(f"{package_name}.{name}"))


def migrations_for(settings: VersionsSettings) -> Config:
    """The migrations of the gateway and of its versions package, when it has any."""
    try:
        package_dir: Path | None = package_directory(settings.package)
    except VersionLoadError:
        package_dir = None
    return alembic_config(package_dir)


def package_directory(package_name: str) -> Path:
    """The folder of the versions package, where new versions and their snapshots go."""
    try:
        package = importlib.import_module(package_name)
    except ImportError as error:
        raise VersionLoadError(
            f"versions package {package_name!r}: cannot import: {error}"
        ) from None
    paths = list(getattr(package, "__path__", []))
    if not paths:
        raise VersionLoadError(f"versions package {package_name!r} is a module, not a folder")
    return Path(paths[0])


def _entry_point_candidates() -> Iterator[Candidate]:
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        source = f"entry point {entry_point.name} = {entry_point.value}"
        match = VERSION_KEY.match(entry_point.name)
        if match is None:
            raise VersionLoadError(f"{source}: the entry point's name must be v<N>, like v3")
        yield Candidate(int(match.group(1)), source, entry_point.load)


def _fresh_importer(module_name: str) -> Callable[[], ModuleType]:
    def load() -> ModuleType:
        # Import anew so that each gateway built in one process gets its own version apps;
        # shared ``_`` modules (and the tables they declare) stay imported once.
        for name in [n for n in sys.modules if n == module_name or n.startswith(module_name + ".")]:
            del sys.modules[name]
        return importlib.import_module(module_name)

    return load


def display(path: Path | None) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
