"""A declaration's text laid out over lines as ruff formats it, so a written module is formatted
even where ruff is not installed.

The rules are the formatter's for the shapes declarations take: what fits stays on one line; a
chain of two calls or more on a ``schema(...)`` goes one ``.call(...)`` a line; a call's arguments
go on the next line together when they fit there, else one a line with a trailing comma; a dict
or list that does not fit goes one item a line.
"""

from __future__ import annotations

import ast

LINE_LENGTH = 100
INDENT = "    "


def lay_out(text: str, indent: str, suffix: str = ",") -> list[str]:
    """The lines of the expression ``text``, at ``indent``, followed by ``suffix``."""
    return _Layout(text).node(ast.parse(text, mode="eval").body, indent, "", suffix)


class _Layout:
    def __init__(self, text: str) -> None:
        self.text = text
        self.encoded = text.encode()

    def source(self, node: ast.AST, start: ast.AST | None = None) -> str:
        """The text of ``node`` (from the end of ``start`` when given)."""
        first = getattr(start, "end_col_offset", None) if start else getattr(node, "col_offset", 0)
        return self.encoded[first : getattr(node, "end_col_offset", 0)].decode()

    def fits(self, line: str) -> bool:
        return len(line) <= LINE_LENGTH

    def node(self, node: ast.expr, indent: str, prefix: str, suffix: str) -> list[str]:
        flat = f"{indent}{prefix}{self.source(node)}{suffix}"
        if self.fits(flat):
            return [flat]
        if isinstance(node, ast.Call):
            links = self.chain(node)
            if len(links) >= 3:  # a fluent chain: one call a line, the last one laid out
                base, *middle, last = links
                assert isinstance(node.func, ast.Attribute)
                end = [f"{indent}{last}{suffix}"]
                if not self.fits(end[0]):
                    end = self.call(node, indent, f".{node.func.attr}", suffix)
                return [f"{indent}{prefix}{base}", *(f"{indent}{link}" for link in middle), *end]
            return self.call(node, indent, prefix + self.source(node.func), suffix)
        if isinstance(node, ast.Dict):
            items = [
                (f"{self.source(key)}: ", value)
                for key, value in zip(node.keys, node.values, strict=True)
                if key is not None
            ]
            return self.bracketed(items, indent, prefix + "{", "}" + suffix)
        if isinstance(node, ast.List | ast.Tuple):
            opening, closing = ("[", "]") if isinstance(node, ast.List) else ("(", ")")
            items = [("", element) for element in node.elts]
            return self.bracketed(items, indent, prefix + opening, closing + suffix)
        return [flat]

    def chain(self, node: ast.Call) -> list[str]:
        """``schema("A").field("b").renamed("c")`` as its base call and each link after it."""
        links: list[str] = []
        current: ast.expr = node
        while (
            isinstance(current, ast.Call)
            and isinstance(current.func, ast.Attribute)
            and isinstance(current.func.value, ast.Call)
        ):
            links.insert(0, self.source(current, current.func.value))
            current = current.func.value
        return [self.source(current), *links]

    def call(self, node: ast.Call, indent: str, head: str, suffix: str) -> list[str]:
        arguments = [("", argument) for argument in node.args]
        arguments += [(f"{k.arg}=" if k.arg else "**", k.value) for k in node.keywords]
        together = indent + INDENT + ", ".join(p + self.source(a) for p, a in arguments)
        if arguments and self.fits(together):
            return [f"{indent}{head}(", together, f"{indent}){suffix}"]
        return self.bracketed(arguments, indent, f"{head}(", f"){suffix}")

    def bracketed(
        self, items: list[tuple[str, ast.expr]], indent: str, opening: str, closing: str
    ) -> list[str]:
        inner = indent + INDENT
        lines = [f"{indent}{opening}"]
        for prefix, item in items:
            lines += self.node(item, inner, prefix, ",")
        return [*lines, f"{indent}{closing}"]
