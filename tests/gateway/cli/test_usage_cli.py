"""``gateway versions usage``: who called each shipped version, as a table and as JSON, read from
counts the library wrote into the settings' database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli.usage import usage
from gateway.settings import DatabaseSettings, load_settings
from gateway.storage.database import Database
from gateway.storage.migrate import prepare
from gateway.usage.recorder import UsageRecorder
from gateway.versioning.discovery import migrations_for

REPO_ROOT = Path(__file__).resolve().parents[3]
NOW = datetime.now(UTC).replace(microsecond=0)
AN_HOUR_AGO = NOW - timedelta(hours=1)
LAST_MONTH = NOW - timedelta(days=40)


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A working directory whose settings point at its own database and the shipped versions."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[database]\nurl = "{url}"\n\n[versions]\npackage = "versions"\nentry_points = false\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_SETTINGS", str(settings))
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # where the shipped ``versions`` package lives
    return url


def write_usage(url: str, calls: list[tuple[int, str | None, datetime]]) -> None:
    async def write() -> None:
        database = Database(DatabaseSettings(url=url))
        settings = load_settings()  # the schema, by the same migrations
        await prepare(database, settings, migrations_for(settings.versions))
        now = NOW
        recorder = UsageRecorder(database, clock=lambda: now)
        for version, principal, moment in calls:
            now = moment
            recorder.record(version, principal)
        await recorder.flush()
        await database.dispose()

    asyncio.run(write())


@pytest.fixture
def called(database_url: str) -> None:
    write_usage(
        database_url,
        [
            (1, "alice", AN_HOUR_AGO),
            (1, "bob", AN_HOUR_AGO),
            (1, "bob", NOW),
            (1, None, NOW),
            (1, "carol", LAST_MONTH),
        ],
    )


def invoke(*args: str) -> Result:
    return CliRunner().invoke(usage, list(args), prog_name="gateway versions usage")


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@pytest.mark.usefixtures("called")
def test_lists_each_version_with_its_callers() -> None:
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "v1 (stable): 4 requests in the last 30 days",
        "PRINCIPAL    REQUESTS  LAST SEEN",
        f"bob          2         {stamp(NOW)}",
        f"(anonymous)  1         {stamp(NOW)}",
        f"alice        1         {stamp(AN_HOUR_AGO)}",
        "",
        "v2 (stable): no calls in the last 30 days",
    ]


@pytest.mark.usefixtures("called")
def test_json_for_scripts() -> None:
    result = invoke("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "version": 1,
            "status": "stable",
            "days": 30,
            "requests": 4,
            "principals": [
                {"principal": "bob", "requests": 2, "last_seen": stamp(NOW)},
                {"principal": "(anonymous)", "requests": 1, "last_seen": stamp(NOW)},
                {"principal": "alice", "requests": 1, "last_seen": stamp(AN_HOUR_AGO)},
            ],
        },
        {"version": 2, "status": "stable", "days": 30, "requests": 0, "principals": []},
    ]


@pytest.mark.usefixtures("called")
def test_one_version_and_a_longer_window() -> None:
    result = invoke("v1", "--days", "60", "--json")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry["version"] == 1
    assert [p["principal"] for p in entry["principals"]] == ["bob", "(anonymous)", "alice", "carol"]

    only_v2 = invoke("2")
    assert only_v2.exit_code == 0, only_v2.output
    assert only_v2.stdout == "v2 (stable): no calls in the last 30 days\n"
    assert invoke("1", "--days", "1").stdout.startswith("v1 (stable): 4 requests in the last day")


def test_a_version_still_called_after_its_module_went_is_shown(database_url: str) -> None:
    write_usage(database_url, [(7, "legacy-client", NOW)])
    result = invoke("--json")
    assert result.exit_code == 0, result.output
    assert [entry["version"] for entry in json.loads(result.stdout)] == [1, 2, 7]
    assert invoke("7").stdout.startswith("v7 (stable): 1 request in the last 30 days\n")


@pytest.mark.usefixtures("database_url")
def test_a_fresh_database_has_no_calls() -> None:
    result = invoke()
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "v1 (stable): no calls in the last 30 days\n\nv2 (stable): no calls in the last 30 days\n"
    )


@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(("argument", "named"), [("9", "9"), ("x", "'x'")])
def test_an_unknown_version_is_one_line(argument: str, named: str) -> None:
    result = invoke(argument)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"gateway: error: no version {named}; versions: 1, 2\n"


@pytest.mark.usefixtures("database_url")
def test_bad_days_is_a_usage_error() -> None:
    result = invoke("--days", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--days'" in result.stderr
