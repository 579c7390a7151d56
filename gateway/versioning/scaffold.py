"""``gateway versions new``: start a version from an existing one or from a minimal template,
with a test module for it. Nothing existing is ever overwritten.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import GatewayError
from gateway.versioning.discovery import display

TEMPLATE = '''"""Version {number}: say here what changed from the previous version, and why."""

from gateway import CurrentPrincipal, create_version_app

app = create_version_app(title="API", description="Version {number} of the API.")


@app.get("/hello")
async def hello(principal: CurrentPrincipal) -> dict[str, str]:
    """Greet the caller. Replace with this version's routes."""
    return {{"hello": principal.username}}
'''

TEST_TEMPLATE = '''"""Version {number}: discovered, documented, and issuing tokens of its own."""

from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest

from gateway.testing import GatewayClient, local_settings, running_gateway

pytestmark = pytest.mark.anyio
VERSION = {number}
PASSWORD = "a long enough password"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[GatewayClient]:
    async with running_gateway(local_settings(tmp_path)) as gateway:
        await gateway.add_user("tester", PASSWORD)
        yield gateway


async def test_listed_and_documented(gateway: GatewayClient) -> None:
    listing = (await gateway.http.get("/versions")).json()["versions"]
    assert VERSION in [entry["number"] for entry in listing]
    assert (await gateway.http.get(f"/apiv{{VERSION}}/docs")).status_code == 200
    document = (await gateway.http.get(f"/apiv{{VERSION}}/openapi.json")).json()
    assert document["servers"] == [{{"url": f"/apiv{{VERSION}}"}}]


async def test_issues_its_own_tokens(gateway: GatewayClient) -> None:
    claims = jwt.decode(
        await gateway.token(VERSION, "tester", PASSWORD), options={{"verify_signature": False}}
    )
    assert claims["aud"] == f"apiv{{VERSION}}"
    form = {{"grant_type": "password", "username": "tester", "password": "wrong!"}}
    wrong = await gateway.http.post(f"/apiv{{VERSION}}/token", data=form)
    assert wrong.json()["error"] == "invalid_grant"
'''


@dataclass(frozen=True)
class Scaffold:
    created: list[Path]
    copied_from: Path | None


def version_paths(package_dir: Path, number: int) -> tuple[Path, Path]:
    return package_dir / f"v{number}.py", package_dir / f"v{number}"


def new_version(
    package_dir: Path, tests_dir: Path, number: int, source_number: int | None = None
) -> Scaffold:
    """Create version ``number`` in ``package_dir`` (a copy of ``source_number`` when given) and
    its test module in ``tests_dir``. Raises ``GatewayError`` before writing anything if a file
    it would create already exists, or the source version does not exist."""
    module, package = version_paths(package_dir, number)
    test_module = tests_dir / f"test_v{number}.py"
    for existing in (module, package, test_module):
        if existing.exists():
            raise GatewayError(
                f"{display(existing)} already exists; choose another number or remove it"
            )
    source: Path | None = None
    if source_number is not None:
        source_module, source_package = version_paths(package_dir, source_number)
        source = next((p for p in (source_package, source_module) if p.exists()), None)
        if source is None:
            raise GatewayError(f"there is no version {source_number} in {display(package_dir)}")
    created = []
    if source is None:
        module.write_text(TEMPLATE.format(number=number))
        created.append(module)
    elif source.is_dir():
        # The snapshot of a released contract belongs to that version, not to its copy.
        shutil.copytree(source, package, ignore=shutil.ignore_patterns("__pycache__"))
        created.append(package)
    else:
        shutil.copyfile(source, module)
        created.append(module)
    tests_dir.mkdir(parents=True, exist_ok=True)
    test_module.write_text(TEST_TEMPLATE.format(number=number))
    created.append(test_module)
    return Scaffold(created, source)
