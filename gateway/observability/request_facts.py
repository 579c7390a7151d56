"""The facts a request gathers on its way through the gateway, kept in its ASGI scope."""

# Keys the gateway adds to a version request's ASGI scope.
GATEWAY_ROOT_KEY = "gateway.root_path"  # the gateway's own root path, above the version's mount
PRINCIPAL_KEY = "gateway.principal"  # who the bearer token named, once it has been verified
# Copied back to the gateway's own scope after a version served a request, for middleware that
# wraps the dispatcher (access log, metrics): which version, and which route template.
VERSION_KEY = "gateway.version"
ROUTE_KEY = "gateway.route"
