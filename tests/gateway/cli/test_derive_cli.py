"""``gateway versions derive`` and ``openapi check`` on a derived version, in process, on a
project of its own: a released v2 (with its committed snapshot) and a v3 copied from it, in git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli.openapi import openapi
from gateway.cli.versions import versions

ROOT = Path(__file__).resolve().parents[3]
VERSIONS = ROOT / "versions"

# v3's item as the test changes it: ``title`` renamed ``label``.
LABELLED = [
    (
        "class ItemOut(BaseModel):\n    id: int\n    title: str",
        "class ItemOut(BaseModel):\n    id: int\n    label: str",
    ),
    (
        "            title=item.name,\n            price=Price(",
        "            label=item.name,\n            price=Price(",
    ),
]


class Project:
    """A folder with a versions package of its own, committed in git."""

    def __init__(self, path: Path, package: str) -> None:
        self.path, self.package = path, package
        self.versions = path / package

    def run(self, group: object, *args: str) -> Result:
        result = CliRunner().invoke(group, list(args))  # type: ignore[arg-type]
        return result

    def edit(self, name: str, replacements: list[tuple[str, str]]) -> None:
        path = self.versions / name
        source = path.read_text()
        for old, new in replacements:
            assert old in source, f"{name} no longer contains {old!r}: update the test"
            source = source.replace(old, new)
        path.write_text(source)

    def commit(self) -> None:
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
        subprocess.run([*git, "add", "-A"], cwd=self.path, check=True)
        subprocess.run([*git, "commit", "-qm", "step", "--allow-empty"], cwd=self.path, check=True)

    @property
    def module(self) -> Path:
        return self.versions / "v2" / "__init__.py"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    package = f"derived_{uuid.uuid4().hex[:12]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    directory = tmp_path / package
    directory.mkdir()
    (directory / "__init__.py").write_text('"""Versions, copied for a test."""\n')
    for number in (2, 3):
        shutil.copytree(
            VERSIONS / "v2", directory / f"v{number}", ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(VERSIONS / "v2.openapi.json", directory)
    (tmp_path / "settings.toml").write_text(
        f'[versions]\npackage = "{package}"\nentry_points = false\n'
    )
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    monkeypatch.setenv("GATEWAY_SETTINGS", str(tmp_path / "settings.toml"))
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    made = Project(tmp_path, package)
    made.commit()
    yield made
    for name in [name for name in sys.modules if name.split(".")[0] == package]:
        del sys.modules[name]


DERIVED_V2 = (
    (VERSIONS / "v2" / "__init__.py").read_text().split("from __future__")[0]
    + """from gateway import derive_version

app = derive_version(
    changes=[],
)
"""
)


def test_a_committed_hand_written_version_becomes_its_successor_plus_nothing(
    project: Project,
) -> None:
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        f"wrote {project.package}/v2/__init__.py: v2 derived from v3 with 0 declarations",
        "next: review it, then run gateway openapi check; it keeps "
        f"{project.package}/v2.openapi.json",
    ]
    assert project.module.read_text() == DERIVED_V2
    checked = project.run(openapi, "check")
    assert checked.exit_code == 0, checked.output
    assert (
        checked.stdout.splitlines()[0]
        == f"v2: ok (stable, matches {project.package}/v2.openapi.json)"
    )


def test_a_module_with_uncommitted_changes_or_outside_git_is_not_replaced(
    project: Project,
) -> None:
    original = project.module.read_text()
    project.module.write_text(original + "# a change of mine\n")
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 1
    assert done.stderr == (
        f"gateway: error: {project.package}/v2/__init__.py has uncommitted changes; commit them "
        "first, as versions derive replaces the module\n"
    )
    assert project.module.read_text() == original + "# a change of mine\n"
    shutil.rmtree(project.path / ".git")
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 1
    assert "is not in a git repository" in done.stderr


def test_check_says_what_restores_a_rename_and_derive_writes_only_that(project: Project) -> None:
    assert project.run(versions, "derive", "2").exit_code == 0
    project.commit()
    project.edit("v3/schemas.py", LABELLED)

    checked = project.run(openapi, "check")
    assert checked.exit_code == 1
    lines = checked.stdout.splitlines()
    at = lines.index("v2: breaking: GET /items/{item_id}: response 200 field 'title': removed")
    assert lines[at + 1 : at + 3] == [
        'v2:   restore: schema("ItemOut").field("label").renamed("title")',
        'v2:   or, if label is new and title is gone: schema("ItemOut").field("label").removed(), '
        'schema("ItemOut").field("title").added(schema={"type": "string"}, fill=fill_title, '
        "required=True)",
    ]
    assert checked.stderr.endswith(
        "in a new version; for v2, gateway versions derive 2 writes the declarations\n"
    )
    as_json = json.loads(project.run(openapi, "check", "--json").stdout)
    restore = {entry["change"]: entry for entry in as_json[0]["restore"]}
    entry = restore["GET /items/{item_id}: response 200 field 'title': removed"]
    assert entry["declarations"] == ['schema("ItemOut").field("label").renamed("title")']

    done = project.run(versions, "derive", "2")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[:2] == [
        'declared schema("ItemOut").field("label").renamed("title")',
        f"completed {project.package}/v2/__init__.py",
    ]
    assert project.module.read_text() == DERIVED_V2.replace(
        "from gateway import derive_version\n", "from gateway import derive_version, schema\n"
    ).replace(
        "    changes=[],\n",
        '    changes=[\n        schema("ItemOut").field("label").renamed("title"),\n    ],\n',
    )
    assert project.run(openapi, "check").exit_code == 0
    again = project.run(versions, "derive", "2")
    assert again.stdout.splitlines()[0] == f"{project.package}/v2/__init__.py: nothing to add"


WITHOUT_TAGS = [
    ("    tags: list[str]\n    created_at: datetime\n", "    created_at: datetime\n"),
    ("            tags=item.tags,\n", ""),
]


def test_what_only_code_can_say_is_a_stub_and_the_command_fails(project: Project) -> None:
    assert project.run(versions, "derive", "2").exit_code == 0
    project.commit()
    project.edit("v3/schemas.py", WITHOUT_TAGS)
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 1
    where = f"{project.package}/v2/__init__.py"
    assert done.stderr.splitlines() == [
        f"gateway: {where}: ItemOut.tags: v3 has no such field; write fill_tags (stubs written)",
        f"gateway: error: {where} does not keep {project.package}/v2.openapi.json until the "
        "above is done by hand",
    ]
    text = project.module.read_text()
    assert "def fill_tags(item: Any) -> Any:" in text
    assert (
        '        schema("ItemOut")\n        .field("tags")\n        .added(\n'
        '            schema={"items": {"type": "string"}, "type": "array"}, fill=fill_tags, '
        "required=True\n        ),\n"
    ) in text
    # The document is restored; the stub must still be written for the data.
    assert project.run(openapi, "check").exit_code == 0


def test_a_declaration_the_successor_no_longer_fits_is_replaced(project: Project) -> None:
    project.edit("v3/schemas.py", LABELLED)
    project.commit()
    assert project.run(versions, "derive", "2").exit_code == 0
    project.commit()
    assert 'field("label").renamed("title")' in project.module.read_text()
    project.edit(
        "v3/schemas.py",
        [("    label: str", "    heading: str"), ("label=item.name", "heading=item.name")],
    )

    checked = project.run(openapi, "check")
    assert checked.exit_code == 1
    assert checked.stdout.splitlines()[0] == (
        f'v2: stale: {project.package}/v2/: schema("ItemOut").field("label")'
        '.renamed("title"): v3\'s ItemOut has no field label; it has id, heading, price, tags, '
        "created_at"
    )
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[:2] == [
        'removed schema("ItemOut").field("label").renamed("title"): v3 no longer fits it',
        'declared schema("ItemOut").field("heading").renamed("title")',
    ]
    assert "label" not in project.module.read_text()
    assert project.run(openapi, "check").exit_code == 0


def test_a_version_without_a_snapshot_or_a_successor_is_refused(project: Project) -> None:
    (project.versions / "v2.openapi.json").unlink()
    done = project.run(versions, "derive", "2")
    assert done.exit_code == 1
    assert done.stderr == (
        f"gateway: error: {project.package}/v2.openapi.json does not exist: the snapshot is what "
        "versions derive keeps; record it first with gateway openapi snapshot 2\n"
    )
    done = project.run(versions, "derive", "3")
    assert (
        done.stderr
        == f"gateway: error: {project.package}/v3/: no version above 3 to derive it from\n"
    )
    assert (
        project.run(versions, "derive", "7").stderr
        == "gateway: error: no version 7; versions: v2, v3\n"
    )
