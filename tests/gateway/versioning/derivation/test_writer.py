"""The writer: a new derived module, formatted and importable as written; a derived module
completed in place, its other text untouched; declarations laid out as ruff lays them out."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import GatewayError
from gateway.versioning.derivation.binding import derivation_of
from gateway.versioning.derivation.declarations import Declaration, endpoint, schema
from gateway.versioning.derivation.layout import lay_out
from gateway.versioning.derivation.stubs import Stub
from gateway.versioning.derivation.writer import (
    complete_module,
    docstring_of,
    format_module,
    new_module,
    top_level_names,
)

ROOT = Path(__file__).resolve().parents[4]
RUFF = [sys.executable, "-m", "ruff"]
CONFIG = ["--config", str(ROOT / "pyproject.toml")]

forward, back = Stub("price_forward", "value", "to v3"), Stub("price_back", "value", "from v3")
LONG = (
    schema("ItemCreate")
    .field("price")
    .changed(
        old_schema={"anyOf": [{"minimum": 0.0, "type": "number"}, {"type": "string"}], "x": [9.99]},
        forward=forward,
        back=back,
    )
)
DECLARATIONS: list[Declaration] = [
    schema("ItemOut").field("label").renamed("title"),
    LONG,
    endpoint("PATCH", "/items/{item_id}").removed(),
]


def ruff_clean(text: str, tmp_path: Path) -> None:
    """``text`` passes ruff's format check and lint with the project's settings, as written."""
    path = tmp_path / "written.py"
    path.write_text(text)
    formatted = subprocess.run(
        [*RUFF, "format", "--check", "--diff", *CONFIG, str(path)], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    linted = subprocess.run([*RUFF, "check", *CONFIG, str(path)], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout


def module_namespace(text: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(text, "written.py", "exec"), namespace)  # noqa: S102 - the text written above
    return namespace


def difference(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines ``after`` takes from ``before``, and those it adds."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [line[2:] for line in diff if line[:2] == "- "], [
        line[2:] for line in diff if line[:2] == "+ "
    ]


def test_a_new_module_is_formatted_clean_and_declares_what_it_was_given(tmp_path: Path) -> None:
    text = new_module(
        DECLARATIONS,
        [forward, back],
        docstring='"""Version 2: items with a title."""',
        options={"description": '"Items with a title."'},
    )
    ruff_clean(text, tmp_path)
    namespace = module_namespace(text)
    derivation = derivation_of(namespace["app"])
    assert derivation is not None
    assert [d.text for d in derivation.changes] == [d.text for d in DECLARATIONS]
    assert derivation.description == "Items with a title."
    assert text.startswith('"""Version 2: items with a title."""\n\nfrom typing import Any\n')
    with pytest.raises(NotImplementedError, match="price_forward"):
        namespace["price_forward"](1)


def test_a_module_with_nothing_to_declare_is_one_call(tmp_path: Path) -> None:
    text = new_module([], options={"users_me": "False"})
    ruff_clean(text, tmp_path)
    assert text.endswith(
        "from gateway import derive_version\n\napp = derive_version(\n"
        "    users_me=False,\n    changes=[],\n)\n"
    )


DERIVED = '''"""Version 2, as written by hand: comments and layout are its author's."""

from decimal import Decimal

from gateway import derive_version, schema

# Kept as the author wrote it.
NOTE = {"a":1}


app = derive_version(
    description="Items.",
    changes=[
        schema("ItemOut").field("tags").removed(),  # v2 never had tags
        schema("ItemOut").field("created_at").removed()
        # the end of the list
    ],
)


@app.get("/extra")
async def extra() -> Decimal:
    return Decimal(1)
'''


COMPLETED = '''"""Version 2, as written by hand: comments and layout are its author's."""

from decimal import Decimal
from typing import Any

from gateway import derive_version, endpoint, schema

# Kept as the author wrote it.
NOTE = {"a":1}


def price_forward(value: Any) -> Any:
    """to v3"""
    raise NotImplementedError("price_forward")


def price_back(value: Any) -> Any:
    """from v3"""
    raise NotImplementedError("price_back")


app = derive_version(
    description="Items.",
    changes=[
        schema("ItemOut").field("tags").removed(),  # v2 never had tags
        schema("ItemOut").field("created_at").removed(),
        # the end of the list
        schema("ItemOut").field("label").renamed("title"),
        schema("ItemCreate")
        .field("price")
        .changed(
            old_schema={
                "anyOf": [{"minimum": 0.0, "type": "number"}, {"type": "string"}],
                "x": [9.99],
            },
            forward=price_forward,
            back=price_back,
        ),
        endpoint("PATCH", "/items/{item_id}").removed(),
    ],
)


@app.get("/extra")
async def extra() -> Decimal:
    return Decimal(1)
'''


def test_completing_adds_declarations_stubs_and_imports_and_nothing_else() -> None:
    text = complete_module(DERIVED, DECLARATIONS, [forward, back], "v2.py")
    assert text == COMPLETED
    namespace = module_namespace(text)
    derivation = derivation_of(namespace["app"])
    assert derivation is not None
    assert [d.text for d in derivation.changes] == [
        'schema("ItemOut").field("tags").removed()',
        'schema("ItemOut").field("created_at").removed()',
        *(d.text for d in DECLARATIONS),
    ]


def test_completing_a_formatted_module_appends_to_its_list(tmp_path: Path) -> None:
    before = new_module(DECLARATIONS[:1])
    after = complete_module(before, DECLARATIONS[2:], [], "v2.py")
    assert difference(before, after) == (
        ["from gateway import derive_version, schema"],
        [
            "from gateway import derive_version, endpoint, schema",
            '        endpoint("PATCH", "/items/{item_id}").removed(),',
        ],
    )
    ruff_clean(after, tmp_path)


@pytest.mark.parametrize(
    "call",
    ["derive_version(changes=[])", "derive_version(\n    changes=[],\n)"],
    ids=["one-line", "empty-list"],
)
def test_a_list_on_one_line_is_laid_out_one_declaration_a_line(call: str, tmp_path: Path) -> None:
    before = f'"""V."""\n\nfrom gateway import derive_version\n\napp = {call}\n'
    after = complete_module(before, DECLARATIONS[:1], [], "v2.py")
    path = tmp_path / "v2.py"
    path.write_text(after)
    format_module(path, whole=False)
    ruff_clean(path.read_text(), tmp_path)
    derivation = derivation_of(module_namespace(path.read_text())["app"])
    assert derivation is not None
    assert [d.text for d in derivation.changes] == [DECLARATIONS[0].text]


def test_stale_declarations_are_taken_out_with_their_lines() -> None:
    after = complete_module(DERIVED, DECLARATIONS[:1], [], "v2.py", remove=[0, 1])
    assert "tags" not in after
    assert "created_at" not in after
    assert "        # the end of the list\n" in after
    derivation = derivation_of(module_namespace(after)["app"])
    assert derivation is not None
    assert [d.text for d in derivation.changes] == [DECLARATIONS[0].text]


def test_a_module_without_a_written_out_list_is_refused() -> None:
    source = "from gateway import derive_version\n\napp = derive_version(changes=CHANGES)\n"
    with pytest.raises(GatewayError, match=r"v2\.py: no derive_version\(changes=\[\.\.\.\]\)"):
        complete_module(source, DECLARATIONS, [], "v2.py")


def test_formatting_a_completed_module_touches_only_its_derive_version_statement(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.py"
    path.write_text(complete_module(DERIVED, [], [], "v2.py"))
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    format_module(path, whole=False)
    assert path.read_text() == DERIVED.replace(
        '        schema("ItemOut").field("created_at").removed()\n',
        '        schema("ItemOut").field("created_at").removed(),\n',
    )


@pytest.mark.parametrize(
    "declaration",
    [
        schema("ItemCreate")
        .field("price")
        .added(schema={"maxLength": 200, "type": "string"}, fill=None),
        schema("ItemCreate")
        .field("price")
        .added(
            schema={"maxLength": 200, "minLength": 1, "type": "string"}, fill=None, required=True
        ),
        LONG,
        endpoint(
            "PATCH", "/items/{item_id}/with/a/very/long/path/that/goes/on/and/on/and/on"
        ).moved(path="/x/{item_id}"),
        schema("ItemCreateWithAVeryLongName").field("a_field_with_a_long_name").renamed("old"),
    ],
    ids=["flat", "fluent", "exploded", "right-hand", "fits"],
)
def test_layout_is_ruffs(declaration: Declaration, tmp_path: Path) -> None:
    text = "x = [\n" + "\n".join(lay_out(declaration.text, "    ")) + "\n]\n"
    path = tmp_path / "laid_out.py"
    path.write_text(text)
    done = subprocess.run(
        [*RUFF, "format", "--diff", *CONFIG, str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_names_and_docstring_read_from_the_source() -> None:
    assert top_level_names(DERIVED) >= {
        "Decimal",
        "derive_version",
        "schema",
        "NOTE",
        "app",
        "extra",
    }
    assert docstring_of(DERIVED) == (
        '"""Version 2, as written by hand: comments and layout are its author\'s."""'
    )
    assert docstring_of("x = 1\n") is None
