"""Binding that sets aside the declarations a changed successor no longer has.

When a successor changes (v2 renames ``title`` to ``label``), a declaration of the version
derived from it can name what is gone (``schema("ItemOut").field("title").renamed("name")``):
the gateway refuses to load such a version, as it must. ``openapi check`` and ``versions derive``
load it leniently instead: the declarations the binding refuses, one after the other, are set
aside as stale, each with its one-line reason, and the version is bound with the others, so its
document shows what clients would now see and the suggestions say what replaces them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fastapi import FastAPI

from gateway.errors import DerivationError
from gateway.versioning.derivation.binding import DERIVATION_KEY, bind_derived, derivation_of
from gateway.versioning.derivation.declarations import Declaration


@dataclass(frozen=True)
class Stale:
    """A declaration the successor no longer fits, its place in the module's list, and the
    line saying why."""

    declaration: Declaration
    index: int
    problem: str


def bind_leniently(
    app: FastAPI, successor: FastAPI, *, successor_name: str, source: str
) -> tuple[Stale, ...]:
    """``bind_derived``, without each declaration a ``DerivationError`` names. When one names
    none (the module's own route contradicts what is left, say), the first error is raised: the
    one a strict load reports."""
    derivation = derivation_of(app)
    assert derivation is not None
    kept = list(enumerate(derivation.changes))
    stale: list[Stale] = []
    while True:
        try:
            bind_derived(app, successor, successor_name=successor_name, source=source)
            return tuple(sorted(stale, key=lambda s: s.index))
        except DerivationError as error:
            named = _named(str(error), source, [declaration for _, declaration in kept])
            if named is None:
                first = DerivationError(stale[0].problem) if stale else error
                raise first from error
            index, declaration = kept.pop(named)
            stale.append(Stale(declaration, index, str(error)))
            # Binding checks everything before it adds a route, so it can be tried again.
            remaining = tuple(declaration for _, declaration in kept)
            setattr(app.state, DERIVATION_KEY, dataclasses.replace(derivation, changes=remaining))


def _named(line: str, source: str, declarations: list[Declaration]) -> int | None:
    """The position of the declaration an error line names first (the longest text that
    matches, as one declaration's text may begin another's)."""
    text = line.removeprefix(f"{source}: ")
    matches = [i for i, d in enumerate(declarations) if text.startswith(d.text)]
    return max(matches, key=lambda i: len(declarations[i].text), default=None)
