"""Discovery finds v<N> modules and packages, ignores shared code, and names a broken version by
file and cause in one line."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint

import pytest

from gateway import VersionLoadError
from gateway.settings import VersionsSettings
from gateway.versioning.discovery import discover_versions


def discover(package: str, **options: object) -> list[int]:
    found = discover_versions(VersionsSettings(package=package, entry_points=False, **options))
    return [version.number for version in found]


def test_shipped_versions_are_a_module_and_a_package() -> None:
    found = discover_versions(VersionsSettings(entry_points=False))
    assert [(v.number, v.source) for v in found] == [(1, "versions/v1.py"), (2, "versions/v2/")]
    assert found[1].scopes == {
        "items:read": "Read items",
        "items:write": "Create, change and delete items",
    }


def test_shared_modules_are_not_versions_and_odd_names_are_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert discover("tests.fixtures.hooks") == [1, 2]
    assert "ignored tests/fixtures/hooks/helpers.py" in caplog.text
    assert "_events" not in caplog.text


def test_import_error_names_the_file_and_the_cause() -> None:
    with pytest.raises(VersionLoadError) as raised:
        discover("tests.fixtures.broken_import")
    assert str(raised.value) == (
        "tests/fixtures/broken_import/v3.py: cannot import: ModuleNotFoundError: "
        "No module named 'a_module_that_does_not_exist'"
    )


def test_broken_version_is_skipped_when_settings_allow(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert discover("tests.fixtures.broken_import", skip_broken=True) == [1]
    assert "skipped a broken version" in caplog.text
    assert "tests/fixtures/broken_import/v3.py" in caplog.text


def test_module_without_app() -> None:
    with pytest.raises(VersionLoadError) as raised:
        discover("tests.fixtures.missing_app")
    assert str(raised.value) == (
        "tests/fixtures/missing_app/v1.py: has no 'app'; define app = create_version_app(...)"
    )


def test_app_not_made_by_the_version_factory() -> None:
    with pytest.raises(VersionLoadError) as raised:
        discover("tests.fixtures.plain_fastapi")
    assert str(raised.value) == (
        "tests/fixtures/plain_fastapi/v1.py: 'app' is a FastAPI, not an app made with "
        "gateway.create_version_app(...)"
    )


def test_duplicate_number() -> None:
    with pytest.raises(VersionLoadError) as raised:
        discover("tests.fixtures.duplicate")
    assert str(raised.value) == (
        "tests/fixtures/duplicate/v2.py: version 2 is already defined by "
        "tests/fixtures/duplicate/v2/; rename one of them"
    )


def test_missing_versions_package_is_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert discover("no_such_versions_package") == []
    assert "no versions package 'no_such_versions_package'" in caplog.text


def test_each_discovery_gets_fresh_apps() -> None:
    first = discover_versions(VersionsSettings(entry_points=False))
    second = discover_versions(VersionsSettings(entry_points=False))
    assert first[0].app is not second[0].app


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="gateway.versions")


def test_entry_points_add_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [entry_point("v7", "tests.fixtures.broken_import.v1:app")]
    monkeypatch.setattr("gateway.versioning.discovery.entry_points", lambda group: points)
    found = discover_versions(VersionsSettings())
    assert [v.number for v in found] == [1, 2, 7]
    assert found[2].source == "entry point v7 = tests.fixtures.broken_import.v1:app"


def test_entry_point_may_name_a_module(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [entry_point("v9", "tests.fixtures.broken_import.v1")]
    monkeypatch.setattr("gateway.versioning.discovery.entry_points", lambda group: points)
    assert [v.number for v in discover_versions(VersionsSettings())] == [1, 2, 9]


def test_entry_point_clashing_with_a_module(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [entry_point("v2", "tests.fixtures.broken_import.v1:app")]
    monkeypatch.setattr("gateway.versioning.discovery.entry_points", lambda group: points)
    with pytest.raises(VersionLoadError, match=r"version 2 is already defined by versions/v2/"):
        discover_versions(VersionsSettings())


def test_entry_point_with_a_bad_name(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [entry_point("latest", "tests.fixtures.broken_import.v1:app")]
    monkeypatch.setattr("gateway.versioning.discovery.entry_points", lambda group: points)
    with pytest.raises(VersionLoadError, match=r"entry point's name must be v<N>"):
        discover_versions(VersionsSettings())
