"""The life of a change, as the commands see it: ``openapi check`` says what a derived version
must declare, and ``versions derive N`` writes it.

``versions derive N`` makes version N derived over its successor with the declarations that keep
its committed snapshot. It builds N's derived document from the successor's, compares it with
the snapshot, adds what the suggestions say, and again, until nothing more can be restored; the
result is checked by that same comparison before anything is written. A hand-written module is
replaced (only when git can give it back), a derived one completed in place. What declarations
cannot say is a stub or a line, and the command then fails, so nobody takes it as done.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gateway.auth.bearer import SHARED_SCHEME_NAME
from gateway.contracts.compare import Change, compare
from gateway.contracts.snapshots import (
    LiveVersion,
    VersionCheck,
    read_snapshot,
    snapshot_directory,
    snapshot_path,
)
from gateway.errors import GatewayError
from gateway.settings import Settings
from gateway.version_info import version_name
from gateway.versioning.derivation.binding import (
    derivation_of,
    derive_version,
    successor_document,
)
from gateway.versioning.derivation.declarations import Declaration
from gateway.versioning.derivation.document import derive_document
from gateway.versioning.derivation.stubs import Stub
from gateway.versioning.derivation.suggestions import Suggested, declarations_of, suggest
from gateway.versioning.derivation.text import literal
from gateway.versioning.derivation.writer import (
    complete_module,
    docstring_of,
    format_module,
    new_module,
    top_level_names,
)
from gateway.versioning.discovery import (
    DiscoveredVersion,
    discover_leniently,
    display,
    package_directory,
)
from gateway.versioning.factory import declared_scopes
from gateway.versioning.scaffold import version_paths

# Each round restores what the last one uncovered (a status mapped, then its body compared).
ROUNDS = 5


@dataclass(frozen=True)
class Outcome:
    """What ``versions derive`` did to a module, and what is left to do by hand."""

    path: Path
    successor: int
    replaced: bool  # a hand-written module was replaced; otherwise a derived one completed
    added: list[Declaration]
    removed: list[Declaration]  # stale: the successor no longer has what they name
    problems: list[str]  # one line each
    complete: bool  # nothing breaking is left and no stub waits to be written


def restorations(check: VersionCheck, live: Mapping[int, LiveVersion]) -> list[Suggested] | None:
    """What restores each change of a derived version against its snapshot; ``None`` for a
    hand-written version, or one without a snapshot."""
    version = live[check.info.number]
    successor = version.successor
    if version.derivation is None or successor is None or successor not in live:
        return None
    if check.snapshot is None:
        return None
    snapshot = read_snapshot(check.snapshot)
    if snapshot is None:
        return None
    return suggest(
        check.changes,
        snapshot=snapshot,
        successor=live[successor].document,
        declared=version.derivation.changes,
        version_name=f"v{check.info.number}",
        successor_name=f"v{successor}",
    )


def derive_module(settings: Settings, number: int) -> Outcome:
    """Make version ``number`` derived over its successor, keeping its snapshot; write the
    module when anything changes in it."""
    # Leniently: the declarations of N that its successor no longer fits are replaced.
    discovery = discover_leniently(settings.versions)
    if number in discovery.unbound:
        raise GatewayError(discovery.unbound[number].problem)
    found = {version.number: version for version in discovery.versions}
    if number not in found:
        known = ", ".join(f"v{n}" for n in found) or "none"
        raise GatewayError(f"no version {number}; versions: {known}")
    version = found[number]
    path = _module_file(settings, version)
    successor = _successor(version, found)
    snapshot_file = snapshot_path(snapshot_directory(settings), number)
    snapshot = read_snapshot(snapshot_file)
    if snapshot is None:
        raise GatewayError(
            f"{display(snapshot_file)} does not exist: the snapshot is what versions derive "
            f"keeps; record it first with gateway openapi snapshot {number}"
        )
    source = path.read_text(encoding="utf-8")
    derivation = derivation_of(version.app)
    successor_app = found[successor].app
    if derivation is None:
        _refuse_uncommitted(path)
        options = _options(snapshot, successor_app, number)
        own = derive_version(changes=[], users_me="/users/me" in snapshot.get("paths", {}))
        own_document, declared, taken = own.openapi(), [], {"app", "derive_version"}
    else:
        own_document, declared = _own_document(version.app), list(derivation.changes)
        taken = top_level_names(source)
    restoring = _Restoring(
        snapshot, successor_document(successor_app), own_document, number, successor
    )
    added = restoring.run(declared, taken, display(path))
    stale = [entry.index for entry in version.stale]
    if derivation is None or added or stale:
        stubs = _stubs(added)
        if derivation is None:
            text = new_module(added, stubs, docstring=docstring_of(source), options=options)
        else:
            text = complete_module(source, added, stubs, display(path), remove=stale)
        path.write_text(text, encoding="utf-8")
        format_module(path, whole=derivation is None)
        restoring.check_written(settings, number)
    problems = list(restoring.problems)
    complete = not restoring.remaining and not any(restoring.problems.values())
    removed = [entry.declaration for entry in version.stale]
    return Outcome(path, successor, derivation is None, added, removed, problems, complete)


class _Restoring:
    """Rounds of suggestions over the derived document, until nothing more is restored."""

    def __init__(
        self,
        snapshot: Mapping[str, Any],
        successor: Mapping[str, Any],
        own: Mapping[str, Any],
        number: int,
        successor_number: int,
    ) -> None:
        self.snapshot, self.successor, self.own = snapshot, successor, own
        self.names = (f"v{number}", f"v{successor_number}")
        self.aliases = {f"{version_name(number)}_oauth2": SHARED_SCHEME_NAME}
        self.problems: dict[str, bool] = {}  # each line, and whether it leaves the work undone
        self.changes: list[Change] = []

    def run(
        self, declared: Sequence[Declaration], taken: set[str], source: str
    ) -> list[Declaration]:
        added: list[Declaration] = []
        for round_number in range(ROUNDS + 1):
            changes = self.compare([*declared, *added], source, first=round_number == 0)
            self.changes = changes
            if round_number == ROUNDS or not changes:
                break
            suggested = suggest(
                changes,
                snapshot=self.snapshot,
                successor=self.successor,
                declared=[*declared, *added],
                version_name=self.names[0],
                successor_name=self.names[1],
                taken=taken,
            )
            for entry in suggested:
                problem = entry.restoration.problem
                if problem is not None:
                    stubs = bool(entry.restoration.stubs)
                    line = f"{problem} (stubs written)" if stubs else problem
                    undone = entry.change.breaking or stubs
                    self.problems[line] = self.problems.get(line, False) or undone
            known = {declaration.text for declaration in [*declared, *added]}
            new = [d for d in declarations_of(suggested) if d.text not in known]
            if not new:
                break
            added += new
            taken |= {stub.__name__ for stub in _stubs(new)}
        return added

    @property
    def remaining(self) -> list[Change]:
        return [change for change in self.changes if change.breaking]

    def check_written(self, settings: Settings, number: int) -> None:
        """Load the module as written, as the gateway will, and compare its document with the
        snapshot again: what the text says must be what was checked."""
        discovery = discover_leniently(settings.versions)
        if number in discovery.unbound:
            raise GatewayError(discovery.unbound[number].problem)
        version = next(v for v in discovery.versions if v.number == number)
        for stale in version.stale:
            self.problems[f"as written it is still stale: {stale.problem}"] = True
        written = compare(self.snapshot, version.app.openapi(), scheme_aliases=self.aliases)
        if [str(change) for change in written] != [str(change) for change in self.changes]:
            different = next(
                (str(c) for c in written if c not in self.changes),
                "a change it should have is gone",
            )
            self.problems[f"as written it differs from what was checked: {different}"] = True
            self.changes = written

    def compare(self, changes: Sequence[Declaration], source: str, *, first: bool) -> list[Change]:
        try:
            derived = derive_document(
                self.successor, changes, successor_name=self.names[1], source=source, own=self.own
            )
        except GatewayError as error:
            if first:
                raise
            raise GatewayError(
                f"{error}; versions derive cannot restore the snapshot alone"
            ) from None
        return compare(self.snapshot, derived, scheme_aliases=self.aliases)


def _own_document(app: FastAPI) -> dict[str, Any]:
    """A bound derived app's own operations (the factory's and the module's), as FastAPI writes
    them from its routes: the derived ones are not FastAPI routes, and its ``openapi`` is the
    derived document, so FastAPI's own method is asked, leaving the cache as it was."""
    cached = app.openapi_schema
    app.openapi_schema = None
    try:
        return FastAPI.openapi(app)
    finally:
        app.openapi_schema = cached


def _stubs(declarations: Sequence[Declaration]) -> list[Stub]:
    """The stubs the declarations name, each once, in order."""
    found: dict[str, Stub] = {}
    for declaration in declarations:
        for field in dataclasses.fields(declaration):
            value = getattr(declaration, field.name)
            if isinstance(value, Stub):
                found.setdefault(value.__name__, value)
    return list(found.values())


def _module_file(settings: Settings, version: DiscoveredVersion) -> Path:
    module, package = version_paths(package_directory(settings.versions.package), version.number)
    if (package / "__init__.py").is_file():
        return package / "__init__.py"
    if module.is_file():
        return module
    raise GatewayError(
        f"{version.source}: not a module of the versions package; derive it where it is written"
    )


def _successor(version: DiscoveredVersion, found: Mapping[int, DiscoveredVersion]) -> int:
    """The version a derived one is bound to; for a hand-written one, the next higher."""
    if version.successor is not None:
        return version.successor
    higher = [number for number in found if number > version.number]
    if not higher:
        raise GatewayError(f"{version.source}: no version above {version.number} to derive it from")
    return min(higher)


def _options(snapshot: Mapping[str, Any], successor: FastAPI, number: int) -> dict[str, str]:
    """The arguments of ``derive_version`` that keep what the snapshot says beside operations:
    its title, description and scopes where they are not the successor's, its ``/users/me``."""
    info = snapshot.get("info", {})
    options: dict[str, str] = {}
    if info.get("title", successor.title) != successor.title:
        options["title"] = literal(info["title"])
    if info.get("description", successor.description) != successor.description:
        options["description"] = literal(info["description"])
    schemes = snapshot.get("components", {}).get("securitySchemes", {})
    flows = schemes.get(f"{version_name(number)}_oauth2", {}).get("flows", {})
    scopes = flows.get("password", {}).get("scopes")
    if scopes is not None and scopes != (declared_scopes(successor) or {}):
        options["scopes"] = literal(scopes)
    if "/users/me" not in snapshot.get("paths", {}):
        options["users_me"] = "False"
    return options


def _refuse_uncommitted(path: Path) -> None:
    """Replace a hand-written module only when git holds it as it is, to give it back."""
    git = shutil.which("git")
    if git is None:
        raise GatewayError(
            f"{display(path)}: git is not installed, and versions derive replaces the module "
            "only when git can give it back"
        )
    done = subprocess.run(  # noqa: S603
        [git, "status", "--porcelain", "--", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise GatewayError(
            f"{display(path)} is not in a git repository; versions derive replaces a "
            "hand-written module only when git can give it back"
        )
    if done.stdout.strip():
        raise GatewayError(
            f"{display(path)} has uncommitted changes; commit them first, as versions derive "
            "replaces the module"
        )
