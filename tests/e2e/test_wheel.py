"""The package as a user installs it: a wheel built from the source tree, installed with pip into
a fresh virtual environment with nothing but its declared dependencies (no lock file, no dev
extras), then run from a project folder with the shipped versions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import REPO, Server, Workdir, get_token, start_server

pytestmark = pytest.mark.e2e

# What a clean checkout does not have: environments, caches, build output, local state.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "venv", ".*_cache", "__pycache__", "build", "dist", "*.egg-info", "var"
)

IMPORT_EVERY_MODULE = """
import importlib, pkgutil, sys
import gateway
assert gateway.__file__.startswith(sys.prefix), gateway.__file__
names = [m.name for m in pkgutil.walk_packages(gateway.__path__, "gateway.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def clean_env() -> dict[str, str]:
    """This environment without what would point Python at the source tree or the dev venv."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin/`` folder of a fresh virtual environment holding only the wheel and its deps."""
    root = tmp_path_factory.mktemp("wheel")
    env = clean_env()
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_IN_A_CHECKOUT)
    pip = ("-m", "pip", "--disable-pip-version-check", "--quiet")
    run(sys.executable, *pip, "wheel", "--no-deps", "-w", root / "dist", source, cwd=root, env=env)
    (wheel,) = (root / "dist").glob("gateway-*.whl")
    run(sys.executable, "-m", "venv", root / "venv", cwd=root, env=env)
    bin_dir = root / "venv" / "bin"
    run(bin_dir / "python", *pip, "install", wheel, cwd=root, env=env)
    return bin_dir


def test_every_module_imports_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    imported = run(installed / "python", "-c", IMPORT_EVERY_MODULE, cwd=tmp_path, env=clean_env())
    assert int(imported) > 20


def test_no_development_package_came_along(installed: Path, tmp_path: Path) -> None:
    pip_list = ("-m", "pip", "list", "--format=freeze")
    listed = run(installed / "python", *pip_list, cwd=tmp_path, env=clean_env())
    names = {line.split("==")[0].lower() for line in listed.splitlines()}
    assert "gateway" in names
    assert not names & {"pytest", "mypy", "ruff", "playwright", "httpx", "authlib"}


@pytest.fixture
def wheel_server(installed: Path, tmp_path: Path) -> Iterator[Server]:
    workdir = Workdir.create(tmp_path)
    workdir.executable = installed / "gateway"
    for key in ("PYTHONPATH", "VIRTUAL_ENV"):
        workdir.env.pop(key, None)
    checked = workdir.gateway("check")
    assert checked.returncode == 0, checked.stderr
    workdir.add_user("alice")
    server = start_server(workdir)
    yield server
    server.stop()


def test_the_installed_wheel_serves_v1_and_v2(wheel_server: Server) -> None:
    server = wheel_server
    listed = httpx.get(f"{server.url}/versions", timeout=10).json()
    assert [entry["number"] for entry in listed["versions"]] == [1, 2]
    for version in (1, 2):
        token = get_token(server.url, version)
        me = httpx.get(
            f"{server.url}/apiv{version}/users/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"
    docs = httpx.get(f"{server.url}/apiv2/docs", timeout=10)
    assert docs.status_code == 200
    assert "/docs-assets/" in docs.text
