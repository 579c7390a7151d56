"""Real OAuth2 client libraries against a real ``gateway serve``: what a script author writes.

Each client logs in with the password grant at a version's own token URL, then calls that version
with the session it got. A failed login must surface as the library's own "invalid grant" error,
which the libraries only raise when the body carries RFC 6749's ``error`` key (STANDARDS.md 3):
FastAPI's tutorial body ``{"detail": ...}`` would be taken as a token by Authlib and reported as
``MissingTokenError`` by requests-oauthlib. A token issued by ``/apiv1/token`` is refused by
``/apiv2`` (STANDARDS.md 15) with RFC 6750's ``invalid_token``.
"""

from __future__ import annotations

import pytest
import requests_oauthlib
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from oauthlib.oauth2 import InvalidGrantError, LegacyApplicationClient

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, unverified_claims

pytestmark = pytest.mark.e2e

CLIENT_ID = "items-script"
WRONG_PASSWORD = "not the password"
# Authlib's httpx integration warns at import while httpx2 is not installed (DESIGN.md); the
# warning is about Authlib's transport, not the gateway, so exactly that one is ignored.
AUTHLIB_HTTPX_DEPRECATION = (
    "ignore:The httpx module is deprecated:authlib.deprecate.AuthlibDeprecationWarning"
)


def token_url(server: Server, version: int) -> str:
    return f"{server.url}/apiv{version}/token"


def assert_invalid_token(status: int, challenge: str) -> None:
    assert status == 401
    assert challenge.startswith("Bearer ")
    assert 'realm="apiv2"' in challenge
    assert 'error="invalid_token"' in challenge


# Authlib, requests transport.


def test_authlib_requests_logs_in_and_calls_the_version(server: Server) -> None:
    with AuthlibSession(client_id=CLIENT_ID) as session:
        token = session.fetch_token(token_url(server, 2), username="alice", password=PASSWORD)
        assert token["token_type"].lower() == "bearer"
        assert isinstance(token["expires_in"], int)
        assert unverified_claims(token["access_token"])["aud"] == "apiv2"

        items = session.get(f"{server.url}/apiv2/items/")
        assert items.status_code == 200, items.text
        assert set(items.json()) == {"data", "next_cursor"}
        me = session.get(f"{server.url}/apiv2/users/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"
        assert me.json()["token_scopes"] == ["items:read", "items:write"]


def test_authlib_requests_wrong_password_is_invalid_grant(server: Server) -> None:
    with AuthlibSession(client_id=CLIENT_ID) as session:
        with pytest.raises(OAuthError) as failure:
            session.fetch_token(token_url(server, 2), username="alice", password=WRONG_PASSWORD)
        assert failure.value.error == "invalid_grant"
        assert session.token is None


def test_authlib_requests_narrower_scope_is_enforced(server: Server) -> None:
    with AuthlibSession(client_id=CLIENT_ID, scope="items:read") as session:
        token = session.fetch_token(token_url(server, 2), username="alice", password=PASSWORD)
        assert token["scope"] == "items:read"
        assert session.get(f"{server.url}/apiv2/items/").status_code == 200
        created = session.post(
            f"{server.url}/apiv2/items/", json={"title": "x", "price": {"amount": "1.00"}}
        )
        assert created.status_code == 403
        assert 'error="insufficient_scope"' in created.headers["WWW-Authenticate"]


def test_authlib_requests_v1_token_is_refused_by_v2(server: Server) -> None:
    with AuthlibSession(client_id=CLIENT_ID) as session:
        session.fetch_token(token_url(server, 1), username="alice", password=PASSWORD)
        assert session.get(f"{server.url}/apiv1/users/me").status_code == 200
        refused = session.get(f"{server.url}/apiv2/users/me")
        assert_invalid_token(refused.status_code, refused.headers["WWW-Authenticate"])


# Authlib, httpx transport. Imported inside the tests so the targeted filter covers the import.


@pytest.mark.filterwarnings(AUTHLIB_HTTPX_DEPRECATION)
def test_authlib_httpx_logs_in_and_calls_the_version(server: Server) -> None:
    from authlib.integrations.httpx_client import OAuth2Client

    with OAuth2Client(client_id=CLIENT_ID) as client:
        token = client.fetch_token(token_url(server, 2), username="alice", password=PASSWORD)
        assert token["token_type"].lower() == "bearer"
        items = client.get(f"{server.url}/apiv2/items/")
        assert items.status_code == 200, items.text
        me = client.get(f"{server.url}/apiv2/users/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"


@pytest.mark.filterwarnings(AUTHLIB_HTTPX_DEPRECATION)
def test_authlib_httpx_wrong_password_is_invalid_grant(server: Server) -> None:
    from authlib.integrations.httpx_client import OAuth2Client

    with OAuth2Client(client_id=CLIENT_ID) as client:
        with pytest.raises(OAuthError) as failure:
            client.fetch_token(token_url(server, 2), username="alice", password=WRONG_PASSWORD)
        assert failure.value.error == "invalid_grant"


@pytest.mark.filterwarnings(AUTHLIB_HTTPX_DEPRECATION)
def test_authlib_httpx_v1_token_is_refused_by_v2(server: Server) -> None:
    from authlib.integrations.httpx_client import OAuth2Client

    with OAuth2Client(client_id=CLIENT_ID) as client:
        client.fetch_token(token_url(server, 1), username="alice", password=PASSWORD)
        refused = client.get(f"{server.url}/apiv2/users/me")
        assert_invalid_token(refused.status_code, refused.headers["WWW-Authenticate"])


# requests-oauthlib: LegacyApplicationClient is its password grant. It sends the client id with
# an empty secret as HTTP Basic, as Swagger UI does (STANDARDS.md 6).


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// URLs; the gateway under test listens on loopback without TLS.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def legacy_session() -> requests_oauthlib.OAuth2Session:
    return requests_oauthlib.OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_logs_in_and_calls_the_version(server: Server) -> None:
    with legacy_session() as session:
        token = session.fetch_token(
            token_url=token_url(server, 2), username="alice", password=PASSWORD
        )
        assert token["token_type"].lower() == "bearer"
        assert token["expires_in"] > 0
        items = session.get(f"{server.url}/apiv2/items/")
        assert items.status_code == 200, items.text
        me = session.get(f"{server.url}/apiv2/users/me")
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "alice"


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_wrong_password_is_invalid_grant(server: Server) -> None:
    # Not MissingTokenError, which is what a ``{"detail": ...}`` body would produce.
    with legacy_session() as session, pytest.raises(InvalidGrantError) as failure:
        session.fetch_token(
            token_url=token_url(server, 2), username="alice", password=WRONG_PASSWORD
        )
    assert failure.value.error == "invalid_grant"
    assert failure.value.status_code == 400


@pytest.mark.usefixtures("insecure_transport")
def test_requests_oauthlib_v1_token_is_refused_by_v2(server: Server) -> None:
    with legacy_session() as session:
        session.fetch_token(token_url=token_url(server, 1), username="alice", password=PASSWORD)
        refused = session.get(f"{server.url}/apiv2/users/me")
        assert_invalid_token(refused.status_code, refused.headers["WWW-Authenticate"])
