"""G: the benchmark's version module, copied as ``v1.py`` ... ``v<N>.py`` into a temporary
versions package: one authenticated route that touches no database, and the same route open.
"""

from __future__ import annotations

from gateway import CurrentPrincipal, create_version_app

app = create_version_app(title="Bench API", description="One authenticated route, no database.")


@app.get("/ping")
async def ping(principal: CurrentPrincipal) -> dict[str, str]:
    return {"user": principal.username}


@app.get("/open")
async def open_ping() -> dict[str, str]:
    """The same answer without authentication: what the gateway costs around a route."""
    return {"user": "alice"}
