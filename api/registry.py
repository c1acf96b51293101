"""One declaration per API operation: the Flask route and the OpenAPI entry come from it.

`Registry.operation(...)` registers the view on the blueprint and records an `Operation`
(method, path, scope, query, body and response models); `api/openapi.py` builds the
document from the same records, so every route is documented exactly as it behaves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

# Path parameters named *_id are database ids: 32-bit positive integers (a larger
# number would overflow PostgreSQL's integer, so it is simply not found).
INT_MAX = 2147483647
_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI template, relative to /api/v1: "/patients/{patient_id}"
    name: str
    summary: str
    tag: str
    scope: str | None  # None: public, no token
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_schema: dict[str, Any] | None = None  # a body no model describes (FHIR)
    body_media: str = "application/json"
    response: type[BaseModel] | None = None
    response_schema: dict[str, Any] | None = None
    response_media: str = "application/json"
    errors: tuple[int, ...] = ()
    audited: bool = False

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def flask_rule(self) -> str:
        def convert(match: re.Match[str]) -> str:
            name = match[1]
            # The range is checked by the dispatcher (404): a converter with min/max
            # makes werkzeug answer 405 for a POST when a GET rule shares the path.
            if name.endswith("_id"):
                return f"<int:{name}>"
            return f"<{name}>"

        return _PARAM.sub(convert, self.path)

    def statuses(self) -> list[int]:
        """Every status this operation can answer with, success first."""
        found = {self.status, *self.errors}
        if self.scope is not None:
            found |= {401, 403, 429}
        if self.query or self.body or self.body_schema or self.path_params:
            found.add(400)
        if self.path_params:
            found.add(404)
        if self.body or self.body_schema:
            found |= {413, 415}
        if self.scope is not None:
            found.add(500)
        return sorted(found)


View = Callable[..., ResponseReturnValue]


@dataclass
class Registry:
    blueprint: Blueprint
    operations: list[Operation] = field(default_factory=list)

    def add(self, op: Operation, view: View) -> None:
        self.operations.append(op)
        self.blueprint.add_url_rule(op.flask_rule(), op.name, view, methods=[op.method])
