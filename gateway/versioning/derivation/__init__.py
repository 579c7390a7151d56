"""Derived versions: an old version declared as the changes that lead back to its successor.

A derived version is written once, as declarations over the next higher version, so a fix in the
newest code reaches every version derived from it. The declarations are data: the same list
changes the successor's OpenAPI document into the old version's and, at run time, moves requests
forward and responses back (``docs/derived-versions.md`` is the design).
"""
