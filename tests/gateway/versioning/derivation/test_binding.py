"""Binding when versions load: the successor found by number, never named in the module, and
every problem one line naming the module and the declaration."""

from __future__ import annotations

import logging
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.routing import Route

from gateway import VersionLoadError
from gateway.settings import VersionsSettings
from gateway.versioning.derivation.runtime import DerivedRoute
from gateway.versioning.discovery import DiscoveredVersion, discover_versions

SUCCESSOR = """
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from gateway import create_version_app

app = create_version_app(title="Things", description="Things, newest", scopes={"read": "Read"})


class Thing(BaseModel):
    id: int
    title: str


@app.get("/things/{thing_id}")
async def read_thing(thing_id: int) -> Thing:
    return Thing(id=thing_id, title="Pen")


@app.get("/export", response_class=StreamingResponse)
async def export() -> StreamingResponse:
    return StreamingResponse(iter([b"{}"]))
"""

RENAMED = """
from gateway import derive_version, schema
app = derive_version(changes=[schema("Thing").field("title").renamed("name")]{options})
"""

Package = Callable[..., str]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Package]:
    """A versions package of the given modules (``v1="source"``); its name is returned."""
    name = f"binding_{uuid.uuid4().hex[:12]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)

    def make(**modules: str) -> str:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        for module, source in modules.items():
            (tmp_path / name / f"{module}.py").write_text(textwrap.dedent(source))
        return name

    yield make
    for module in [m for m in sys.modules if m.split(".")[0] == name]:
        del sys.modules[module]


def discover(name: str, **options: object) -> dict[int, DiscoveredVersion]:
    settings = VersionsSettings(package=name, entry_points=False, **options)
    return {found.number: found for found in discover_versions(settings)}


def renamed(options: str = "") -> str:
    return RENAMED.format(options=options)


def load_error(name: str) -> str:
    with pytest.raises(VersionLoadError) as raised:
        discover(name)
    return str(raised.value).replace(f"{name}/", "versions/")


def test_the_successor_is_the_next_higher_version_and_lends_its_title_and_scopes(
    package: Package,
) -> None:
    back_again = renamed().replace(
        'field("title").renamed("name")', 'field("name").renamed("title")'
    )
    found = discover(package(v1=back_again, v2=renamed(), v3=SUCCESSOR))
    assert (found[1].successor, found[2].successor, found[3].successor) == (2, 3, None)
    assert found[1].scopes == {"read": "Read"}
    document = found[1].app.openapi()
    assert document["info"]["title"] == "Things"
    assert document["info"]["description"] == "Things, newest"
    properties = document["components"]["schemas"]["Thing"]["properties"]
    assert list(properties) == ["id", "title"]  # renamed twice: back to the newest name
    derived = [route for route in found[1].app.routes if isinstance(route, DerivedRoute)]
    assert [(route.path, route.methods) for route in derived] == [
        ("/things/{thing_id}", {"GET"}),
        ("/export", {"GET"}),
    ]


def test_an_explicit_successor_may_skip_a_version(package: Package) -> None:
    found = discover(package(v1=renamed(", successor=3"), v2=SUCCESSOR, v3=SUCCESSOR))
    assert found[1].successor == 3


@pytest.mark.parametrize(
    ("modules", "line"),
    [
        (
            {"v1": renamed()},
            "versions/v1.py: derive_version(): no version above 1 is served",
        ),
        (
            {"v1": renamed(", successor=1"), "v2": SUCCESSOR},
            "versions/v1.py: derive_version(successor=1): a version derives from a higher one",
        ),
        (
            {"v1": renamed(", successor=5"), "v2": SUCCESSOR},
            "versions/v1.py: derive_version(): its successor v5 is not served",
        ),
        (
            {
                "v1": """
                    from gateway import derive_version, schema
                    app = derive_version(changes=[schema("Thingg").field("title").removed()])
                """,
                "v2": SUCCESSOR,
            },
            'versions/v1.py: schema("Thingg").field("title").removed(): v2 has no schema Thingg '
            "(did you mean Thing?)",
        ),
        (
            {
                "v1": """
                    from gateway import derive_version, endpoint
                    app = derive_version(changes=[endpoint("GET", "/things/{thing_id}").removed()])

                    @app.get("/things/{thing_id}")
                    async def mine(thing_id: int) -> dict[str, int]:
                        return {"id": thing_id}
                """,
                "v2": SUCCESSOR,
            },
            'versions/v1.py: endpoint("GET", "/things/{thing_id}").removed(): the module serves '
            "GET /things/{thing_id} itself; drop one of them",
        ),
        (
            {
                "v1": """
                    from gateway import derive_version, schema
                    app = derive_version(changes=[
                        schema("Thing").field("title").renamed("name"),
                        schema("Thing").field("title").removed(),
                    ])
                """,
                "v2": SUCCESSOR,
            },
            'versions/v1.py: schema("Thing").field("title").removed() contradicts '
            'schema("Thing").field("title").renamed("name")',
        ),
    ],
    ids=[
        "no-successor",
        "lower-successor",
        "unknown-successor",
        "unknown-schema",
        "own-route",
        "contradiction",
    ],
)
def test_a_broken_derivation_stops_loading_with_one_line(
    package: Package, modules: dict[str, str], line: str
) -> None:
    assert load_error(package(**modules)) == line


def test_a_declaration_on_a_streamed_response_stops_loading(package: Package) -> None:
    documented = SUCCESSOR.replace(
        "response_class=StreamingResponse",
        'response_class=StreamingResponse, responses={200: {"model": Thing}}',
    )
    assert load_error(package(v1=renamed(), v2=documented)) == (
        'versions/v1.py: schema("Thing").field("title").renamed("name"): GET /export streams '
        "its response; no declaration can apply to it"
    )


def test_a_successor_that_failed_to_load_takes_its_derived_versions_along(
    package: Package, caplog: pytest.LogCaptureFixture
) -> None:
    name = package(v1=renamed(), v2="raise RuntimeError('broken')\n", v3=SUCCESSOR)
    with caplog.at_level(logging.WARNING, logger="gateway"):
        assert list(discover(name, skip_broken=True)) == [3]
    assert "derive_version(): its successor v2 failed to load" in caplog.text


def test_a_route_of_the_module_wins_over_the_derived_one(package: Package) -> None:
    own = """
        from gateway import derive_version
        app = derive_version(changes=[])

        @app.get("/things/{thing_id}")
        async def mine(thing_id: int) -> dict[str, int]:
            return {"id": thing_id}
    """
    app = discover(package(v1=own, v2=SUCCESSOR))[1].app
    matching = [r for r in app.routes if isinstance(r, Route) and r.path == "/things/{thing_id}"]
    assert [type(route).__name__ for route in matching] == ["APIRoute"]
    response = app.openapi()["paths"]["/things/{thing_id}"]["get"]["responses"]["200"]
    assert "Thing" not in str(response)
