"""The functions a suggested declaration needs and no document can tell: written as stubs.

A field the successor dropped must be filled in old responses, a retyped one converted both ways,
and a field the successor requires must come from somewhere in old requests. The document says
the field's type, not its value, so ``versions derive`` names such a function in the declaration,
writes a stub of it that refuses to run, and says so. Until it is written, the stub stands in for
it: the declaration renders the stub's name, and the derived document can be built and checked.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from typing import NoReturn

_NOT_IDENTIFIER = re.compile(r"\W")


class Stub:
    """A function a declaration names and the module must write; until then it refuses to run."""

    def __init__(self, name: str, parameter: str, purpose: str) -> None:
        self.__qualname__ = self.__name__ = name
        self.parameter = parameter
        self.purpose = purpose

    def __call__(self, *args: object) -> NoReturn:
        raise NotImplementedError(f"{self.__name__} is a stub: {self.purpose}")

    def __repr__(self) -> str:
        return self.__name__

    @property
    def source(self) -> str:
        """The stub as module text, with the one-line purpose as its docstring."""
        purpose = self.purpose.replace("\\", "\\\\").replace('"', "'")
        return (
            f"def {self.__name__}({self.parameter}: Any) -> Any:\n"
            f'    """{purpose}"""\n'
            f'    raise NotImplementedError("{self.__name__}")\n'
        )


class StubNames:
    """Names for stubs, one per need: the same need (a field converted the same way in two
    schemas) shares one function, and no name repeats one the module already has."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self.taken = set(taken)
        self.made: dict[tuple[object, ...], Stub] = {}

    def stub(
        self, need: tuple[object, ...], names: Iterable[str], parameter: str, purpose: str
    ) -> Stub:
        """The stub for ``need``, named by the first of ``names`` still free."""
        if need in self.made:
            return self.made[need]
        candidates = [identifier(name) for name in names]
        name = next((n for n in candidates if n not in self.taken), None)
        number = 2
        while name is None:
            if f"{candidates[-1]}_{number}" not in self.taken:
                name = f"{candidates[-1]}_{number}"
            number += 1
        self.taken.add(name)
        self.made[need] = Stub(name, parameter, purpose)
        return self.made[need]


def identifier(text: str) -> str:
    """``text`` as a lower-case Python name: ``ItemOut`` -> ``itemout``, ``x-id`` -> ``x_id``."""
    name = _NOT_IDENTIFIER.sub("_", text).lower() or "_"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name
