"""D2: derived from a derived version: a chain of two hops."""

from gateway import derive_version, schema

app = derive_version(changes=[schema("Thing").field("owner").renamed("user")])
