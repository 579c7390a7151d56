"""A derived module's source: written anew over its successor, or completed where it stands.

``versions derive`` turns a hand-written version into declarations over its successor, and adds
to a derived one the declarations its snapshot still needs. A new module is the version's
docstring, its imports, the stubs its declarations name and one ``derive_version(...)``. A
derived module keeps its text: the missing declarations go in before the closing bracket of its
``changes=[...]``, found with ``ast``, the stubs above the statement that holds it, and the names
they use into its imports. The text is written as ruff formats it; when ruff is installed, it
then formats what was written with the project's own settings.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from gateway.errors import GatewayError
from gateway.versioning.derivation.declarations import Declaration
from gateway.versioning.derivation.layout import INDENT, LINE_LENGTH, lay_out
from gateway.versioning.derivation.stubs import Stub

DEFAULT_DOCSTRING = '"""This version as the changes that lead back to it from its successor."""'

Edit = tuple[int, int, str]  # replace source[start:end] with the text


def new_module(
    declarations: Sequence[Declaration],
    stubs: Sequence[Stub] = (),
    *,
    docstring: str | None = None,
    options: Mapping[str, str] | None = None,
) -> str:
    """A derived module's text: ``docstring`` (as written, quotes included), the imports, the
    stubs, and ``app = derive_version(...)`` with ``options`` (keyword -> Python text)."""
    lines = [docstring or DEFAULT_DOCSTRING, ""]
    if stubs:
        lines += ["from typing import Any", ""]
    lines += [_import("gateway", ["derive_version", *_vocabulary(declarations)]).rstrip("\n")]
    for stub in stubs:
        lines += ["", "", stub.source.rstrip("\n")]
    # isort's blank lines after the imports: two before a function, one before a statement.
    lines += ["", ""] if stubs else [""]
    lines.append("app = derive_version(")
    lines += [f"{INDENT}{key}={value}," for key, value in (options or {}).items()]
    if declarations:
        lines.append(f"{INDENT}changes=[")
        lines += [_item(declaration.text, INDENT * 2) for declaration in declarations]
        lines.append(f"{INDENT}],")
    else:
        lines.append(f"{INDENT}changes=[],")
    lines.append(")")
    return "\n".join(lines) + "\n"


def complete_module(
    source: str,
    declarations: Sequence[Declaration],
    stubs: Sequence[Stub],
    filename: str,
    remove: Collection[int] = (),
) -> str:
    """``source`` with ``declarations`` added to its ``derive_version(changes=[...])``, the
    ``stubs`` above that statement and the names they need imported, and the list's elements
    at the positions ``remove`` taken out; nothing else changes."""
    tree = ast.parse(source, filename)
    text = _Text(source)
    call, statement = _derive_call(tree, filename)
    changes = next(k.value for k in call.keywords if k.arg == "changes")
    assert isinstance(changes, ast.List)
    if any(isinstance(element, ast.Starred) for element in changes.elts) and remove:
        raise GatewayError(
            f"{filename}: its changes=[...] unpacks another list; remove the stale "
            "declarations by hand"
        )
    edits = _imports(tree, text, declarations, bool(stubs))
    if stubs:
        edits.append(_stubs_before(statement, text, stubs))
    edits += _into_list(changes, text, [d.text for d in declarations], remove)
    result = source
    for start, end, replacement in sorted(edits, key=lambda edit: edit[0], reverse=True):
        result = result[:start] + replacement + result[end:]
    return result


def top_level_names(source: str) -> set[str]:
    """The names a module defines or imports at its top level, which a stub must not take."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def docstring_of(source: str) -> str | None:
    """The module's docstring as written, quotes included, or ``None``."""
    body = ast.parse(source).body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
        return ast.get_source_segment(source, first)
    return None


def format_module(path: Path, *, whole: bool) -> None:
    """Let ruff, when installed, sort the imports and format the module (``whole``) or the
    statement that holds ``derive_version(...)`` only, with the project's settings."""
    if importlib.util.find_spec("ruff") is None:
        return
    ruff = [sys.executable, "-m", "ruff"]
    _run([*ruff, "check", "--select", "I", "--fix", "--quiet", str(path)])
    if whole:
        _run([*ruff, "format", "--quiet", str(path)])
        return
    source = path.read_text(encoding="utf-8")
    _, statement = _derive_call(ast.parse(source), str(path))
    lines = f"--range={statement.lineno}-{statement.end_lineno or statement.lineno}"
    _run([*ruff, "format", "--quiet", lines, str(path)])


def _run(command: list[str]) -> None:
    # The project's own formatter on a file the command just wrote; its verdict changes nothing.
    subprocess.run(command, capture_output=True, check=False)  # noqa: S603


class _Text:
    """Positions in a module's text: ``ast`` counts columns in UTF-8 bytes, ``str`` in chars."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, column: int) -> int:
        line = self.lines[lineno - 1] if lineno <= len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode()[:column].decode(errors="ignore"))

    def line_start(self, lineno: int) -> int:
        return self.starts[lineno - 1]

    def indentation(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip())]


def _derive_call(tree: ast.Module, filename: str) -> tuple[ast.Call, ast.stmt]:
    """The one ``derive_version(changes=[...])`` call, and the top-level statement holding it."""
    for statement in tree.body:
        for node in ast.walk(statement):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            changes = [k.value for k in node.keywords if k.arg == "changes"]
            if name == "derive_version" and changes and isinstance(changes[0], ast.List):
                return node, statement
    raise GatewayError(
        f"{filename}: no derive_version(changes=[...]) with the list written out in it; "
        "add the declarations by hand"
    )


def _into_list(
    changes: ast.List, text: _Text, items: Sequence[str], remove: Collection[int]
) -> list[Edit]:
    """Declarations before the list's closing bracket, one a line as its elements are, and the
    elements at ``remove`` taken out with their lines; a list written on one line is laid out
    one element a line first."""
    end_line = changes.end_lineno or changes.lineno
    close = text.offset(end_line, changes.end_col_offset or 0) - 1
    own_line = text.source[text.line_start(end_line) : close].strip() == ""
    elements = changes.elts
    removed = [element for index, element in enumerate(elements) if index in remove]
    kept = [element for index, element in enumerate(elements) if index not in remove]
    if (
        elements
        and own_line
        and elements[0].lineno > changes.lineno
        and all(_lines_of(element, text) for element in removed)
    ):
        indent = text.indentation(elements[0].lineno)
        edits = [_lines_of(element, text) or (0, 0, "") for element in removed]
        if kept:
            last = kept[-1]
            last_end = text.offset(last.end_lineno or last.lineno, last.end_col_offset or 0)
            after = elements[elements.index(last) + 1 :]
            upto = text.offset(after[0].lineno, after[0].col_offset) if after else close
            between = text.source[last_end:upto].splitlines() or [""]
            if not any("," in part.split("#", 1)[0] for part in between):
                edits.append((last_end, last_end, ","))  # its trailing comma, in place
        start = text.line_start(end_line)
        edits.append((start, start, "".join(_item(item, indent) + "\n" for item in items)))
        return edits
    base = text.indentation(changes.lineno)  # the line of ``changes=[``
    written = [ast.get_source_segment(text.source, element) or "" for element in kept]
    body = "".join(_item(item, base + INDENT) + "\n" for item in [*written, *items])
    start = text.offset(changes.lineno, changes.col_offset)
    return [(start, close + 1, f"[\n{body}{base}]")]


def _lines_of(element: ast.expr, text: _Text) -> Edit | None:
    """The removal of an element that has its lines to itself (with its comma and a comment
    after it), or ``None`` when it shares a line."""
    end_line = element.end_lineno or element.lineno
    before = text.source[
        text.line_start(element.lineno) : text.offset(element.lineno, element.col_offset)
    ]
    end = text.offset(end_line, element.end_col_offset or 0)
    rest = text.source[end : text.line_start(end_line + 1)]
    if before.strip() or rest.strip().lstrip(",").strip()[:1] not in ("", "#"):
        return None
    return text.line_start(element.lineno), text.line_start(end_line + 1), ""


def _stubs_before(statement: ast.stmt, text: _Text, stubs: Sequence[Stub]) -> Edit:
    """The stubs above the statement (and the comment lines right above it), two blank lines
    apart from what surrounds them."""
    lineno = statement.lineno
    while lineno > 1 and text.lines[lineno - 2].lstrip().startswith("#"):
        lineno -= 1
    blank_above = 0
    while lineno - blank_above > 1 and not text.lines[lineno - blank_above - 2].strip():
        blank_above += 1
    start = text.line_start(lineno)
    functions = "\n\n".join(stub.source for stub in stubs)
    return start, start, "\n" * max(0, 2 - blank_above) + functions + "\n\n"


def _imports(
    tree: ast.Module, text: _Text, declarations: Sequence[Declaration], stubs: bool
) -> list[Edit]:
    edits = []
    wanted = {"gateway": list(_vocabulary(declarations))}
    if stubs:
        wanted["typing"] = ["Any"]
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    for module, names in wanted.items():
        found = next(
            (
                n
                for n in imports
                if isinstance(n, ast.ImportFrom) and n.module == module and n.level == 0
            ),
            None,
        )
        if found is None:
            edits.append(_new_import(imports, text, module, names))
            continue
        have = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in found.names]
        missing = [name for name in names if name not in {a.name for a in found.names}]
        if missing:
            start = text.line_start(found.lineno)
            end = text.line_start((found.end_lineno or found.lineno) + 1)
            edits.append((start, end, _import(module, [*have, *missing])))
    return edits


def _new_import(imports: Sequence[ast.stmt], text: _Text, module: str, names: list[str]) -> Edit:
    """A new ``from module import ...`` line where isort would put it, near enough: after the
    standard library's imports for ``typing``, after the last import for ``gateway``."""
    line = _import(module, names)
    if module == "gateway" or not imports:
        last = imports[-1] if imports else None
        at = text.line_start((last.end_lineno or last.lineno) + 1) if last else 0
        return at, at, line
    standard = [n for n in imports if _root(n) in sys.stdlib_module_names]
    later = [n for n in standard if isinstance(n, ast.ImportFrom) and (n.module or "") > module]
    if later:
        at = text.line_start(later[0].lineno)
        return at, at, line
    if standard:
        at = text.line_start((standard[-1].end_lineno or standard[-1].lineno) + 1)
        return at, at, line
    first = next((n for n in imports if _root(n) != "__future__"), imports[-1])
    at = text.line_start(first.lineno)
    return at, at, line + "\n"


def _root(node: ast.stmt) -> str:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0]
    assert isinstance(node, ast.Import)
    return node.names[0].name.split(".")[0]


def _vocabulary(declarations: Iterable[Declaration]) -> list[str]:
    """The names from ``gateway`` the declarations' text starts with."""
    texts = [declaration.text for declaration in declarations]
    return [name for name in ("endpoint", "schema") if any(t.startswith(f"{name}(") for t in texts)]


def _import(module: str, names: Iterable[str]) -> str:
    """``from module import names`` sorted as isort does (constants, classes, then the rest)."""
    ordered = sorted(
        set(names), key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= LINE_LENGTH:
        return line + "\n"
    return f"from {module} import (\n" + "".join(f"{INDENT}{n},\n" for n in ordered) + ")\n"


def _item(text: str, indent: str) -> str:
    """A list element on its lines, with its trailing comma (one written over several lines
    already is kept as it is)."""
    if "\n" in text:
        return f"{indent}{text},"
    return "\n".join(lay_out(text, indent))
