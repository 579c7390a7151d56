"""The life of a change, through the ``gateway`` command in a copy of the project kept in git:
v3 starts as a copy of v2, v2 becomes v3 plus nothing, v3 renames a field, ``openapi check``
says what v2 must declare, ``versions derive 2`` writes it, and the check passes; v2's clients
then read ``title`` from v3's handlers, and v1's (derived from v2) still read ``name``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import SECRET, bearer
from tests.e2e.conftest import REPO, Workdir, get_token, start_server

pytestmark = pytest.mark.e2e

RUFF = [sys.executable, "-m", "ruff"]


def git(folder: Workdir, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *identity, *args], cwd=folder.path, check=True, capture_output=True)


def succeeds(folder: Workdir, *args: str) -> subprocess.CompletedProcess[str]:
    done = folder.gateway(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def rename_title_to_label(folder: Workdir) -> None:
    schemas = folder.path / "versions" / "v3" / "schemas.py"
    source = schemas.read_text()
    for old, new in [
        (
            "class ItemOut(BaseModel):\n    id: int\n    title: str",
            "class ItemOut(BaseModel):\n    id: int\n    label: str",
        ),
        ("            title=item.name,\n", "            label=item.name,\n"),
    ]:
        assert old in source, f"versions/v3/schemas.py no longer contains {old!r}: update the test"
        source = source.replace(old, new)
    schemas.write_text(source)


def test_a_field_renamed_in_the_successor_is_declared_by_versions_derive(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path)
    folder.env["GATEWAY_AUTH__SECRET_KEY"] = SECRET
    shutil.copy(REPO / "pyproject.toml", tmp_path)  # the project's ruff settings
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "the project")

    succeeds(folder, "versions", "new", "3", "--from", "2")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "v3, a copy of v2")
    derived = succeeds(folder, "versions", "derive", "2")
    assert derived.stdout.splitlines()[0] == (
        "wrote versions/v2/__init__.py: v2 derived from v3 with 0 declarations"
    )
    assert succeeds(folder, "openapi", "check").stdout.splitlines()[:2] == [
        "v1: ok (stable, matches versions/v1.openapi.json)",
        "v2: ok (stable, matches versions/v2.openapi.json)",
    ]
    git(folder, "commit", "-qam", "v2 derived from v3")

    rename_title_to_label(folder)
    checked = folder.gateway("openapi", "check")
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    # v1 is derived from v2, which changed under it: v2 comes first.
    assert lines[:2] == [
        'v1: cannot load: versions/v1.py: schema("ItemOut").field("title").renamed("name"): '
        "v2's ItemOut has no field title; it has id, label, price, tags, created_at",
        "v1:   restore v2 first: v1 is derived from it",
    ]
    at = lines.index("v2: breaking: GET /items/{item_id}: response 200 field 'title': removed")
    assert lines[at + 1] == 'v2:   restore: schema("ItemOut").field("label").renamed("title")'
    assert checked.stderr.splitlines()[-1].endswith(
        "; for v2, gateway versions derive 2 writes the declarations"
    )

    completed = succeeds(folder, "versions", "derive", "2")
    assert completed.stdout.splitlines()[:2] == [
        'declared schema("ItemOut").field("label").renamed("title")',
        "completed versions/v2/__init__.py",
    ]
    assert succeeds(folder, "openapi", "check").stdout.splitlines()[:2] == [
        "v1: ok (stable, matches versions/v1.openapi.json)",
        "v2: ok (stable, matches versions/v2.openapi.json)",
    ]
    module = folder.path / "versions" / "v2" / "__init__.py"
    for check in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [*RUFF, *check, str(module)], cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr

    folder.add_user("alice")
    server = start_server(folder)
    try:
        v3 = bearer(get_token(server.url, 3))
        created = httpx.post(
            f"{server.url}/apiv3/items/",
            json={"title": "Pen", "price": {"amount": "9.99"}},
            headers=v3,
        )
        assert created.status_code == 201, created.text
        assert created.json()["label"] == "Pen"
        item = created.json()["id"]
        as_v2 = httpx.get(
            f"{server.url}/apiv2/items/{item}", headers=bearer(get_token(server.url, 2))
        )
        assert as_v2.status_code == 200, as_v2.text
        assert as_v2.json()["title"] == "Pen"
        assert "label" not in as_v2.json()
        as_v1 = httpx.get(
            f"{server.url}/apiv1/items/{item}", headers=bearer(get_token(server.url, 1))
        )
        assert as_v1.json() == {"id": item, "name": "Pen", "price": 9.99}
    finally:
        server.stop()
