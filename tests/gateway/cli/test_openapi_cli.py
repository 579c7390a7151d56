"""``gateway openapi``: snapshots of the versions' contracts, the check CI runs, and the changelog.

The shipped versions must match their committed snapshots. The other tests copy the shipped
versions into a temporary package with the committed snapshots, and change the copy the way a
developer might, to see what the check says.
"""

from __future__ import annotations

import json
import pkgutil
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from gateway.cli.openapi import openapi
from gateway.contracts.snapshots import (
    LiveVersion,
    check_versions,
    live_versions,
    orphaned_snapshots,
    snapshot_directory,
    snapshot_path,
)
from gateway.settings import load_settings

ROOT = Path(__file__).resolve().parents[3]
VERSIONS = ROOT / "versions"
# These tests change v2 and check what the CLI says about v2; v1 is the hand-written one, which
# v2's changes leave alone (a derived v1 follows them: see the derivation workflow tests).
HANDWRITTEN_V1 = ROOT / "tests" / "fixtures" / "handwritten" / "v1.py"


def run(*args: str) -> Result:
    return CliRunner().invoke(openapi, list(args))


# The shipped versions.


def test_shipped_versions_keep_their_released_contracts() -> None:
    settings = load_settings(ROOT / "settings.toml")
    results = check_versions(live_versions(settings), snapshot_directory(settings))
    checked = {result.info.number: result for result in results if result.checked}
    assert sorted(checked) == [1, 2]  # v1 is deprecated, v2 stable: both released
    for number, result in checked.items():
        assert result.snapshot == VERSIONS / f"v{number}.openapi.json"
        assert result.breaking == [], [str(change) for change in result.breaking]


@pytest.mark.anyio
async def test_snapshot_is_the_document_the_gateway_serves(
    client: httpx.AsyncClient, versions: list[int]
) -> None:
    settings = load_settings(ROOT / "settings.toml")
    live = live_versions(settings)
    for number in versions:
        served = (await client.get(f"/apiv{number}/openapi.json")).json()
        document = live[number].document
        assert "servers" not in document
        assert document["paths"] == served["paths"]
        assert document["components"] == served["components"]
        assert document["info"]["version"] == served["info"]["version"] == f"apiv{number}"


def test_diff_of_the_shipped_versions_is_a_markdown_changelog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    result = run("diff", "1", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "# Changes from v1 to v2"
    breaking = lines[lines.index("## Breaking changes") : lines.index("## Non-breaking changes")]
    additive = lines[lines.index("## Non-breaking changes") :]
    assert "- `GET /items/{item_id}`: response 200 field 'name': removed" in breaking
    assert "- `PATCH /items/{item_id}`: operation added" in additive
    # Each version has its own scheme name (apiv1_oauth2, apiv2_oauth2): not a change in itself.
    assert "security" not in result.stdout


def test_diff_of_a_version_with_itself_has_no_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("diff", "2", "2")
    assert result.exit_code == 0
    assert result.stdout.count("None.") == 2


def test_diff_with_an_unknown_version_fails_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = run("diff", "1", "9")
    assert result.exit_code == 1
    assert result.stderr == "gateway: error: no version 9; versions: v1, v2\n"


# The package and each of its modules but the root group: the command groups and their helpers.
NAMES = [module.name for module in pkgutil.iter_modules([str(ROOT / "gateway" / "cli")])]
CLI_MODULES = ["gateway.cli", *(f"gateway.cli.{name}" for name in NAMES if name != "main")]


@pytest.mark.parametrize("module", CLI_MODULES)
def test_the_command_module_does_not_import_the_cli_it_is_registered_in(module: str) -> None:
    # gateway.cli.main registers every command group, so importing it from a group at import
    # time would be circular; either module may be imported first.
    code = (
        f"import sys, {module}; assert 'gateway.cli.main' not in sys.modules; "
        "import gateway.cli.main"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# A copy of the shipped versions, changed by the test.

Released = Callable[..., Path]


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Released]:
    """``released(edits={...}, statuses={...})``: a versions package with v1 and v2 copied from
    versions/ (each file edited by ``edits``: ``{"v2/schemas.py": [(old, new)]}``) and their
    committed snapshots, and settings that select it; the package's folder is returned."""
    package = f"released_{uuid.uuid4().hex[:12]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)

    def make(
        edits: dict[str, list[tuple[str, str]]] | None = None,
        statuses: dict[int, str] | None = None,
        snapshots: bool = True,
    ) -> Path:
        directory = tmp_path / package
        directory.mkdir()
        (directory / "__init__.py").write_text('"""Released versions, copied for a test."""\n')
        shutil.copy(HANDWRITTEN_V1, directory / "v1.py")
        shutil.copytree(VERSIONS / "v2", directory / "v2", ignore=shutil.ignore_patterns("*.pyc"))
        for name, replacements in (edits or {}).items():
            source = (directory / name).read_text()
            for old, new in replacements:
                assert old in source, f"{name} no longer contains {old!r}: update the test"
                source = source.replace(old, new)
            (directory / name).write_text(source)
        if snapshots:
            for number in (1, 2):
                shutil.copy(VERSIONS / f"v{number}.openapi.json", directory)
        # Both released; the shipped settings.toml (v1 deprecated) is checked by the first test.
        statuses = statuses or {1: "stable", 2: "stable"}
        settings = [f'[versions]\npackage = "{package}"\nentry_points = false\n']
        settings += [f'[versions.v{n}]\nstatus = "{status}"\n' for n, status in statuses.items()]
        (tmp_path / "settings.toml").write_text("\n".join(settings))
        monkeypatch.setenv("GATEWAY_SETTINGS", str(tmp_path / "settings.toml"))
        return directory

    yield make
    for name in [name for name in sys.modules if name.split(".")[0] == package]:
        del sys.modules[name]


# v2 without the ``tags`` field in its item responses.
WITHOUT_TAGS = {
    "v2/schemas.py": [
        ("    tags: list[str]\n    created_at: datetime\n", "    created_at: datetime\n"),
        ("            tags=item.tags,\n", ""),
    ]
}


def test_check_passes_when_the_versions_match_their_snapshots(released: Released) -> None:
    package = released()
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"v1: ok (stable, matches {package.name}/v1.openapi.json)\n"
        f"v2: ok (stable, matches {package.name}/v2.openapi.json)\n"
    )


def test_check_fails_when_a_released_version_loses_a_response_field(released: Released) -> None:
    released(edits=WITHOUT_TAGS)
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("v1: ok (stable")
    assert lines[1:] == [
        "v2: breaking: GET /items/: response 200 field 'data[].tags': removed",
        "v2: breaking: POST /items/: response 201 field 'tags': removed",
        "v2: breaking: GET /items/{item_id}: response 200 field 'tags': removed",
        "v2: breaking: PATCH /items/{item_id}: response 200 field 'tags': removed",
    ]
    assert result.stderr == (
        "gateway: error: breaking changes in v2: restore the released contract, or make the "
        "change in a new version\n"
    )


def test_check_fails_when_a_released_operation_changes_its_operation_id(
    released: Released,
) -> None:
    # A renamed route function renames the operation, and the method of every generated SDK.
    released(edits={"v2/__init__.py": [("async def read_item(", "async def get_item(")]})
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        "v2: breaking: GET /items/{item_id}: operationId changed from 'read_item' to 'get_item'"
    ]


def test_check_reports_json_for_scripts(released: Released) -> None:
    released(edits=WITHOUT_TAGS)
    result = run("check", "--json")
    assert result.exit_code == 1
    report = {entry["version"]: entry for entry in json.loads(result.stdout)}
    assert report[1]["breaking"] == report[1]["additive"] == []
    assert report[2]["status"] == "stable"
    assert "GET /items/{item_id}: response 200 field 'tags': removed" in report[2]["breaking"]


def test_additive_changes_are_listed_and_pass(released: Released) -> None:
    released(
        edits={
            "v2/schemas.py": [
                ("    created_at: datetime\n\n", "    created_at: datetime\n    note: str = ''\n\n")
            ]
        }
    )
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "v2: additive: GET /items/{item_id}: response 200 field 'note': added" in result.stdout
    assert "v2: ok; record these changes with `gateway openapi snapshot 2`" in result.stdout


def test_preview_versions_are_not_checked(released: Released) -> None:
    released(edits=WITHOUT_TAGS, statuses={1: "stable", 2: "preview"})
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "v2: preview, not checked\n" in result.stdout


def test_a_version_without_snapshot_is_reported_but_passes(released: Released) -> None:
    released(snapshots=False)
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "v1: no snapshot; run `gateway openapi snapshot 1`\n"
        "v2: no snapshot; run `gateway openapi snapshot 2`\n"
    )


def test_a_snapshot_that_is_not_json_fails_in_one_line(released: Released) -> None:
    package = released()
    (package / "v1.openapi.json").write_text("{")
    result = run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"gateway: error: {package.name}/v1.openapi.json: not a JSON")


def test_snapshot_writes_each_version_next_to_its_module(released: Released) -> None:
    package = released(snapshots=False)
    result = run("snapshot", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {package.name}/v2.openapi.json\n"
    assert not (package / "v1.openapi.json").exists()
    result = run("snapshot")
    assert result.stdout == (
        f"wrote {package.name}/v1.openapi.json\nwrote {package.name}/v2.openapi.json\n"
    )
    live = live_versions(load_settings())
    for number in (1, 2):
        written = snapshot_path(package, number).read_text()
        # Stable, reviewable text: sorted keys, two-space indents, a final newline.
        assert written == json.dumps(live[number].document, indent=2, sort_keys=True) + "\n"
        assert "servers" not in json.loads(written)
    assert run("check").stdout.count(": ok (") == 2


def test_snapshot_of_an_unknown_version_fails_in_one_line(released: Released) -> None:
    released()
    result = run("snapshot", "3")
    assert result.exit_code == 1
    assert result.stderr == "gateway: error: no version 3; versions: v1, v2\n"


def test_a_released_version_that_disappears_is_breaking(tmp_path: Path) -> None:
    (tmp_path / "v1.openapi.json").write_text("{}\n")
    (tmp_path / "v3.openapi.json").write_text("{}\n")
    (tmp_path / "notes.openapi.json").write_text("{}\n")
    live: dict[int, LiveVersion] = {}
    assert orphaned_snapshots(live, tmp_path) == [
        (1, tmp_path / "v1.openapi.json"),
        (3, tmp_path / "v3.openapi.json"),
    ]
