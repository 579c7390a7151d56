"""Settings come from the TOML file, overridden by GATEWAY_* variables, overridden by arguments;
a bad value stops startup with one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import SettingsError, load_settings

KEY = "k" * 40


@pytest.fixture
def settings_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in __import__("os").environ if n.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "settings.toml"
    path.write_text(
        '[server]\nport = 9000\nroot_path = "/gw/"\n'
        '[database]\nurl = "sqlite+aiosqlite:///./x.db"\n'
        '[versions.v1]\nstatus = "deprecated"\ndeprecated_at = 2026-01-01\n'
    )
    return path


def test_file_values(settings_toml: Path) -> None:
    settings = load_settings(settings_toml)
    assert settings.server.port == 9000
    assert settings.server.root_path == "/gw"
    assert settings.database.url == "sqlite+aiosqlite:///./x.db"
    assert settings.versions.for_version(1).status == "deprecated"
    assert settings.versions.for_version(2).status == "stable"


def test_environment_overrides_the_file_and_merges_into_its_tables(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SERVER__PORT", "9100")
    monkeypatch.setenv("GATEWAY_VERSIONS__V2__STATUS", "preview")
    monkeypatch.setenv("GATEWAY_AUTH__SECRET_KEY", KEY)
    settings = load_settings(settings_toml)
    assert settings.server.port == 9100
    assert settings.server.root_path == "/gw"  # the rest of the [server] table is kept
    assert settings.versions.for_version(1).status == "deprecated"
    assert settings.versions.for_version(2).status == "preview"
    assert settings.auth.secret_key is not None
    assert settings.auth.secret_key.get_secret_value() == KEY


def test_arguments_override_the_environment(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SERVER__PORT", "9100")
    settings = load_settings(settings_toml, server={"port": 9200})
    assert settings.server.port == 9200
    assert settings.server.root_path == "/gw"


def test_settings_file_from_the_environment(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SETTINGS", str(settings_toml))
    assert load_settings().server.port == 9000


def test_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^settings file .*missing.toml does not exist$"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[server]\nprot = 1\n", "server.prot: Extra inputs are not permitted"),
        ("[server]\nport = 'eighty'\n", "server.port: Input should be a valid integer"),
        ('[server]\nroot_path = "gw"\n', "server: root_path must start with '/'"),
        ('[versions.v1]\nstatus = "old"\n', "versions.v1.status: Input should be 'preview'"),
        ("[auth]\nsecret_key = 'short'\n", "auth.secret_key is 5 bytes; an HS256 signing key"),
        ("[nonsense]\nx = 1\n", "nonsense: Extra inputs are not permitted"),
        ("[server\n", "cannot read settings from"),
    ],
)
def test_bad_settings_are_one_clear_line(settings_toml: Path, toml: str, message: str) -> None:
    settings_toml.write_text(toml)
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_toml)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_longer_algorithms_need_longer_keys(settings_toml: Path) -> None:
    settings_toml.write_text(f'[auth]\nalgorithm = "HS512"\nsecret_key = "{KEY}"\n')
    with pytest.raises(SettingsError, match="an HS512 signing key needs at least 64"):
        load_settings(settings_toml)


def test_a_short_secret_and_a_bad_port_are_reported_together(settings_toml: Path) -> None:
    settings_toml.write_text("[server]\nport = 70000\n[auth]\nsecret_key = 'short'\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_toml)
    message = str(raised.value)
    assert "server.port: Input should be less than or equal to 65535" in message
    assert "auth.secret_key is 5 bytes; an HS256 signing key needs at least 32" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "GATEWAY_SERVR__PORT",
            "GATEWAY_SERVR__PORT: no such setting (the sections are server, auth, database, "
            "versions, ratelimit, cors",
        ),
        ("GATEWAY_SERVR__PORT", "; did you mean GATEWAY_SERVER?"),
        ("GATEWAY_NONSENSE", "GATEWAY_NONSENSE: no such setting"),
        ("gateway_servr__port", "gateway_servr__port: no such setting"),
    ],
)
def test_a_variable_that_names_no_setting_stops_startup(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch, name: str, message: str
) -> None:
    monkeypatch.setenv(name, "9000")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_toml)
    assert message in str(raised.value)


def test_every_bad_variable_and_key_in_one_line(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SERVR__PORT", "9000")
    monkeypatch.setenv("GATEWAY_RATELIMT__AUTHENTICATED", "1/second")
    monkeypatch.setenv("GATEWAY_SERVER__PROT", "9000")
    monkeypatch.setenv("GATEWAY_AUTH__SECRET_KEY", "short")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_toml)
    message = str(raised.value)
    for part in (
        "GATEWAY_SERVR__PORT: no such setting",
        "GATEWAY_RATELIMT__AUTHENTICATED: no such setting",
        "server.prot: Extra inputs are not permitted",
        "auth.secret_key is 5 bytes",
    ):
        assert part in message
    assert "\n" not in message


def test_the_settings_file_variable_is_not_a_setting(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_SETTINGS", str(settings_toml))
    monkeypatch.setenv("GATEWAY_SERVER", '{"port": 9300}')  # a whole section as JSON
    assert load_settings().server.port == 9300


def test_trusted_proxies_are_addresses_or_networks_given_to_uvicorn(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(settings_toml).server.forwarded_allow_ips == ["127.0.0.1", "::1"]
    monkeypatch.setenv("GATEWAY_SERVER__TRUSTED_PROXIES", '["10.1.0.0/16", "192.0.2.7"]')
    server = load_settings(settings_toml).server
    assert server.forwarded_allow_ips == ["10.1.0.0/16", "192.0.2.7"]
    monkeypatch.setenv("GATEWAY_SERVER__TRUSTED_PROXIES", '["10.1.0.1/16", "proxy.local"]')
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_toml)
    assert "server.trusted_proxies.0: value is not a valid IPv4 or IPv6 network" in str(
        raised.value
    )
    assert "server.trusted_proxies.1: value is not a valid" in str(raised.value)
