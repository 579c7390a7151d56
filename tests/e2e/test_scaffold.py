"""``gateway versions new`` as a user runs it: the new version is listed and its generated
tests pass against the real gateway code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Workdir

pytestmark = pytest.mark.e2e
PYTEST = Path(sys.executable).with_name("pytest")


def test_new_versions_work_at_once(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path)
    copied = folder.gateway("versions", "new", "3", "--from", "2")
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.splitlines()[:2] == [
        "created versions/v3/ (a copy of versions/v2)",
        "created tests/versions/test_v3.py",
    ]
    assert "gateway openapi snapshot 3" in copied.stdout
    fresh = folder.gateway("versions", "new", "4")
    assert fresh.returncode == 0, fresh.stderr
    again = folder.gateway("versions", "new", "4")
    assert again.returncode == 1
    assert again.stderr == (
        "gateway: error: versions/v4.py already exists; choose another number or remove it\n"
    )
    listing = folder.gateway("versions", "list")
    assert [line.split()[0] for line in listing.stdout.splitlines()[1:]] == ["v1", "v2", "v3", "v4"]
    tests = subprocess.run(
        [str(PYTEST), "-q", "-p", "no:cacheprovider", "tests/versions"],
        cwd=folder.path,
        env=folder.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout
