"""Contracts: released OpenAPI documents and the breaking changes between two of them."""
