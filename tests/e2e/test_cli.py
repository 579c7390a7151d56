"""The ``gateway`` command and the server as a new user meets them, run as real processes.

Covers the CLI contract of DESIGN.md: managing users, listing versions, ``gateway check``; the
"drop in a version" journey (copying a package or a module to a new ``v<N>`` yields a working
version with its own token audience); broken version modules and bad settings stopping startup
with one ``gateway: error:`` line; and a first start that creates ``var/`` with the database and
an owner-only signing key that keeps tokens valid across a restart.

Every ``gateway`` invocation is a new Python process (about 1-2 s), so the tests share processes
and folders where they can: the session ``workdir`` and ``server`` for users and listings, one
module-scoped server for the dropped-in versions.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, SECRET, bearer
from tests.e2e.conftest import (
    Server,
    Workdir,
    free_port,
    get_token,
    one_line,
    start_server,
    unverified_claims,
)

pytestmark = pytest.mark.e2e

ERROR_PREFIX = "gateway: error:"
HANDWRITTEN_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten" / "v1.py"


def rows(table: str) -> list[list[str]]:
    """The CLI's plain-text table as rows of cells (no cell holds a space)."""
    return [line.split() for line in table.splitlines()]


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# Users, in the session folder; logins go to the session server, which shares its database.


@pytest.fixture
def created_users(workdir: Workdir) -> Iterator[set[str]]:
    """Names a test created and has not removed yet; removed afterwards if the test failed."""
    names: set[str] = set()
    yield names
    for name in names:
        workdir.gateway("users", "remove", name)


def test_users_add_list_and_remove(
    workdir: Workdir, server: Server, created_users: set[str]
) -> None:
    added = workdir.gateway(
        "users", "add", "bob", "--password-stdin", "--scope", "items:read", stdin=PASSWORD + "\n"
    )
    assert added.returncode == 0, added.stderr
    created_users.add("bob")
    assert added.stdout.strip() == "created user bob with scopes: items:read"

    listed = workdir.gateway("users", "list")
    assert listed.returncode == 0, listed.stderr
    table = rows(listed.stdout)
    assert table[0] == ["USER", "SCOPES", "CREATED"]
    assert ["bob", "items:read"] in [row[:2] for row in table[1:]]

    as_json = workdir.gateway("users", "list", "--json")
    assert as_json.returncode == 0, as_json.stderr
    by_name = {user["username"]: user for user in json.loads(as_json.stdout)}
    assert by_name["bob"]["scopes"] == ["items:read"]
    assert datetime.fromisoformat(by_name["bob"]["created_at"]).tzinfo is not None

    # The password read from stdin is the one that logs in, with only the granted scope.
    token = get_token(server.url, 2, username="bob")
    assert unverified_claims(token)["scope"] == "items:read"
    me = httpx.get(f"{server.url}/apiv2/users/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "bob"

    again = workdir.gateway(
        "users", "add", "bob", "--password-stdin", "--scope", "items:read", stdin=PASSWORD + "\n"
    )
    assert again.returncode != 0
    line = one_line(again.stderr)
    assert line.startswith(ERROR_PREFIX)
    assert "'bob' already exists" in line

    removed = workdir.gateway("users", "remove", "bob")
    assert removed.returncode == 0, removed.stderr
    created_users.discard("bob")
    assert removed.stdout.strip() == "removed user bob"
    # A token issued before the removal names a user who is gone.
    assert_invalid_token(httpx.get(f"{server.url}/apiv2/users/me", headers=bearer(token)))

    twice = workdir.gateway("users", "remove", "bob")
    assert twice.returncode != 0
    assert one_line(twice.stderr) == f"{ERROR_PREFIX} no user named 'bob'"


def test_users_add_refuses_an_unknown_scope(workdir: Workdir) -> None:
    done = workdir.gateway(
        "users", "add", "carol", "--password-stdin", "--scope", "items:delete", stdin=PASSWORD
    )
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert line.startswith(ERROR_PREFIX)
    assert "unknown scope items:delete" in line
    assert "items:read, items:write" in line  # the scopes the versions offer


def test_users_add_refuses_a_short_password(workdir: Workdir) -> None:
    done = workdir.gateway("users", "add", "carol", "--password-stdin", stdin="short\n")
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert line.startswith(ERROR_PREFIX)
    assert "password too short" in line


def test_users_add_prompts_for_the_password(
    workdir: Workdir, server: Server, created_users: set[str]
) -> None:
    # Without --password-stdin, click prompts twice (password and confirmation) on stdin.
    done = workdir.gateway("users", "add", "dave", "--scope", "items:read", stdin="password\n" * 2)
    assert done.returncode == 0, done.stderr
    created_users.add("dave")
    assert "created user dave with scopes: items:read" in done.stdout
    token = get_token(server.url, 2, username="dave", password="password")
    me = httpx.get(f"{server.url}/apiv2/users/me", headers=bearer(token))
    assert me.json()["username"] == "dave"


# Versions and check, in the session folder (empty settings: every version is stable).


def test_versions_list(workdir: Workdir) -> None:
    done = workdir.gateway("versions", "list")
    assert done.returncode == 0, done.stderr
    assert rows(done.stdout) == [
        ["VERSION", "PATH", "STATUS", "DEPRECATED", "SUNSET", "SUCCESSOR", "SOURCE"],
        ["v1", "/apiv1", "stable", "-", "-", "v2", "versions/v1.py"],
        ["v2", "/apiv2", "stable", "-", "-", "-", "versions/v2/"],
    ]


def test_versions_list_json(workdir: Workdir) -> None:
    done = workdir.gateway("versions", "list", "--json")
    assert done.returncode == 0, done.stderr
    scopes = ["items:read", "items:write"]

    def entry(number: int, source: str, successor: int | None) -> dict[str, object]:
        base = f"/apiv{number}"
        return {
            "number": number,
            "path": base,
            "status": "stable",
            "deprecated_at": None,
            "sunset": None,
            "successor": successor,
            "docs_url": f"{base}/docs",
            "redoc_url": f"{base}/redoc",
            "openapi_url": f"{base}/openapi.json",
            "token_url": f"{base}/token",
            "source": source,
            "scopes": scopes,
        }

    assert json.loads(done.stdout) == [
        entry(1, "versions/v1.py", 2),
        entry(2, "versions/v2/", None),
    ]


@pytest.mark.usefixtures("server")  # a folder that has served once: its signing key exists
def test_check_passes(workdir: Workdir) -> None:
    done = workdir.gateway("check")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines
    assert all(line.startswith("ok") for line in lines)
    assert "v1 (stable, versions/v1.py), v2 (stable, versions/v2/)" in done.stdout


# Journey: drop in a version by copying a package (v2 -> v3) and a module (the hand-written v1,
# which needs no successor, as v4).


@pytest.fixture(scope="module")
def dropped_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workdir, Server]]:
    folder = Workdir.create(tmp_path_factory.mktemp("dropped-in"))
    versions = folder.path / "versions"
    shutil.copytree(versions / "v2", versions / "v3", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(HANDWRITTEN_V1, versions / "v4.py")
    folder.add_user("alice")
    running = start_server(folder)
    yield folder, running
    running.stop()


def test_dropped_in_versions_are_listed(dropped_in: tuple[Workdir, Server]) -> None:
    folder, server = dropped_in
    index = httpx.get(server.url + "/", headers={"Accept": "application/json"})
    assert index.status_code == 200
    listing = httpx.get(server.url + "/versions")
    assert listing.status_code == 200
    for body in (index.json(), listing.json()):
        by_number = {entry["number"]: entry for entry in body["versions"]}
        assert sorted(by_number) == [1, 2, 3, 4]
        for number in (3, 4):
            assert by_number[number]["status"] == "stable"
            assert by_number[number]["docs_url"] == f"/apiv{number}/docs"
            assert by_number[number]["token_url"] == f"/apiv{number}/token"

    done = folder.gateway("versions", "list", "--json")
    assert done.returncode == 0, done.stderr
    sources = {row["number"]: row["source"] for row in json.loads(done.stdout)}
    assert sources == {
        1: "versions/v1.py",
        2: "versions/v2/",
        3: "versions/v3/",
        4: "versions/v4.py",
    }


@pytest.mark.parametrize("number", [3, 4], ids=["package-copy-v3", "module-copy-v4"])
def test_dropped_in_version_works_with_its_own_tokens(
    dropped_in: tuple[Workdir, Server], number: int
) -> None:
    _, server = dropped_in
    base = f"{server.url}/apiv{number}"
    docs = httpx.get(base + "/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")

    token = get_token(server.url, number)
    assert unverified_claims(token)["aud"] == f"apiv{number}"
    me = httpx.get(base + "/users/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "alice"
    items = httpx.get(base + "/items/", headers=bearer(token))
    assert items.status_code == 200, items.text

    assert_invalid_token(httpx.get(f"{server.url}/apiv2/users/me", headers=bearer(token)))


# Broken version modules stop check and serve with one line naming the file and the cause.


def write_app_module(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("from gateway import create_version_app\n\napp = create_version_app()\n")


def break_versions(folder: Workdir, case: str) -> None:
    versions = folder.path / "versions"
    if case == "import-error":
        (versions / "v5.py").write_text("import nonexistent_module_xyz\n")
    elif case == "no-app":
        (versions / "v6.py").write_text("x = 1\n")
    elif case == "duplicate":
        write_app_module(versions / "v7.py")
        write_app_module(versions / "v7" / "__init__.py")


def configured_workdir(path: Path, settings: str = "") -> Workdir:
    """A folder with a configured signing key, so no first-run key notice joins the output."""
    folder = Workdir.create(path, settings)
    folder.env["GATEWAY_AUTH__SECRET_KEY"] = SECRET
    return folder


BROKEN = {
    "import-error": [
        "versions/v5.py",
        "ModuleNotFoundError",
        "No module named 'nonexistent_module_xyz'",
    ],
    "no-app": ["versions/v6.py", "has no 'app'"],
    "duplicate": ["versions/v7.py", "versions/v7/", "already defined"],
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_version_stops_check(tmp_path: Path, case: str) -> None:
    folder = configured_workdir(tmp_path)
    break_versions(folder, case)
    done = folder.gateway("check")
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert line.startswith(ERROR_PREFIX)
    for fragment in BROKEN[case]:
        assert fragment in line


def test_broken_version_stops_serve(tmp_path: Path) -> None:
    folder = configured_workdir(tmp_path)
    break_versions(folder, "import-error")
    done = folder.gateway("serve", "--port", str(free_port()))
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert line.startswith(f"{ERROR_PREFIX} versions/v5.py")
    assert "ModuleNotFoundError" in line


def test_broken_version_on_a_first_run_is_still_one_line(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path)  # no key configured and none created yet
    break_versions(folder, "import-error")
    done = folder.gateway("check")
    assert done.returncode != 0
    assert "versions/v5.py" in one_line(done.stderr)


def test_skip_broken_serves_the_other_versions(tmp_path: Path) -> None:
    folder = configured_workdir(tmp_path, "[versions]\nskip_broken = true\n")
    break_versions(folder, "import-error")
    server = start_server(folder)
    try:
        listing = httpx.get(server.url + "/versions").json()
        assert [entry["number"] for entry in listing["versions"]] == [1, 2]
        assert httpx.get(server.url + "/apiv5/docs").status_code == 404
        assert httpx.get(server.url + "/apiv2/docs").status_code == 200
    finally:
        server.stop()
    warnings = [line for line in server.output().splitlines() if "versions/v5.py" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("WARNING")
    assert "skipped a broken version" in warnings[0]
    assert "ModuleNotFoundError" in warnings[0]


# Bad settings stop check with one line naming the key.


@pytest.mark.parametrize(
    ("settings", "env", "key"),
    [
        ('[auth]\nsecret_key = "tooshort"\n', {}, "auth.secret_key"),
        ("[server]\nprot = 1\n", {}, "server.prot"),
        ("", {"GATEWAY_SERVER__PORT": "eighty"}, "server.port"),
        ('[versions.v1]\nstatus = "bogus"\n', {}, "versions.v1.status"),
    ],
    ids=["short-secret", "unknown-key", "bad-environment-value", "bad-version-status"],
)
def test_bad_settings_stop_check(
    tmp_path: Path, settings: str, env: dict[str, str], key: str
) -> None:
    folder = Workdir.create(tmp_path, settings)
    folder.env.update(env)
    done = folder.gateway("check")
    assert done.returncode != 0
    line = one_line(done.stderr)
    assert line.startswith(ERROR_PREFIX)
    assert key in line
    assert "tooshort" not in line  # a secret is never echoed back


# First start: var/ with the database and an owner-only key; tokens survive a restart.


def test_first_start_creates_state_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    folder = Workdir.create(tmp_path)
    var = tmp_path / "var"
    assert not var.exists()

    first = start_server(folder)
    try:
        assert (var / "gateway.db").is_file()
        key_file = var / "secret.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        log = first.output()
        assert "created a signing key in var/secret.key" in log
        hints = [line for line in log.splitlines() if "no users yet" in line]
        assert len(hints) == 1
        assert "gateway users add" in hints[0]

        folder.add_user("alice")
        token = get_token(first.url, 2)
    finally:
        first.stop()

    second = start_server(folder)
    try:
        me = httpx.get(f"{second.url}/apiv2/users/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"
    finally:
        second.stop()
    log = second.output()
    assert "created a signing key" not in log
    assert "no users yet" not in log
