"""The JSON API (/api/v1): bearer tokens, scopes, pagination, OpenAPI."""
