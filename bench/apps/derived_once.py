"""D1: derived from the version above it; its response is moved back on every request."""

from gateway import derive_version, schema

app = derive_version(
    changes=[
        schema("Thing").field("title").renamed("name"),
        schema("Thing").field("tags").removed(),
    ]
)
