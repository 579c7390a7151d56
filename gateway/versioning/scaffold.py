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

import httpx
import jwt
import pytest

from gateway import create_app, load_settings
from gateway.auth.users import UserStore

pytestmark = pytest.mark.anyio
VERSION = {number}
PASSWORD = "a long enough password"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(
        None,
        database={{"url": f"sqlite+aiosqlite:///{{tmp_path / 'test.db'}}"}},
        auth={{"secret_key": "s" * 48, "secret_key_file": str(tmp_path / "secret.key")}},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.gateway
        async with services.database.sessions() as session:
            await UserStore(session).add("tester", await services.passwords.hash(PASSWORD), [])
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


async def test_listed_and_documented(client: httpx.AsyncClient) -> None:
    listing = (await client.get("/versions")).json()["versions"]
    assert VERSION in [entry["number"] for entry in listing]
    assert (await client.get(f"/apiv{{VERSION}}/docs")).status_code == 200
    document = (await client.get(f"/apiv{{VERSION}}/openapi.json")).json()
    assert document["servers"] == [{{"url": f"/apiv{{VERSION}}"}}]


async def test_issues_its_own_tokens(client: httpx.AsyncClient) -> None:
    form = {{"grant_type": "password", "username": "tester", "password": PASSWORD}}
    response = await client.post(f"/apiv{{VERSION}}/token", data=form)
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={{"verify_signature": False}})
    assert claims["aud"] == f"apiv{{VERSION}}"
    wrong = await client.post(f"/apiv{{VERSION}}/token", data={{**form, "password": "wrong!"}})
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
