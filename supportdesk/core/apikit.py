"""The JSON API's plumbing, shared by every resource: bearer-token sign-in, request parsing with pydantic
(unknown fields refused), RFC 9457 problem documents, and the OpenAPI 3 document built from the same
pydantic models the handlers use, so the document cannot drift from the code."""

from __future__ import annotations

import functools
import json
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.datastructures import MultiDict

from supportdesk.core.db import ID_MAX
from supportdesk.core.errors import FieldError, ValidationError, problem

MAX_JSON_BYTES = 1024 * 1024


class Schema(BaseModel):
    """Base of every API model: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# An id in a request: what an INTEGER column can hold (larger ones would reach PostgreSQL as errors).
Id = Annotated[int, Field(ge=1, le=ID_MAX)]


class FieldProblem(Schema):
    field: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    fields: list[str] | None = None


class ApiError(Exception):
    """An HTTP-level refusal that is not a domain rule (missing token, bad JSON, missing If-Match)."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


def api_error_response(error: ApiError) -> tuple[Response, int]:
    extra: dict[str, Any] = {}
    if error.errors:
        extra["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
    response, status = problem(error.status, HTTPStatus(error.status).phrase, error.detail, **extra)
    if error.status == HTTPStatus.UNAUTHORIZED:
        response.headers["WWW-Authenticate"] = 'Bearer realm="supportdesk"'
    return response, status


# Who a bearer secret belongs to (None: nobody), given by the accounts domain when the app is built.
Authenticator = Callable[[str], Any]


def init_app(app: Flask, authenticate: Authenticator) -> None:
    app.extensions["supportdesk.api_authenticator"] = authenticate


def current_actor() -> Any:
    """The user the request's token belongs to (set by an authenticated operation)."""
    return g.api_actor


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    authenticated: bool
    headers: dict[str, str] = field(default_factory=dict)
    # What a successful response carries when it is not JSON (text/csv exports): a string body.
    produces: str | None = None


@dataclass
class Registry:
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        bp: Blueprint,
        rule: str,
        method: str,
        *,
        summary: str,
        tag: str,
        responses: dict[int, type[BaseModel] | None],
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        authenticated: bool = True,
        headers: dict[str, str] | None = None,
        produces: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a handler: authenticate, parse query and body into their models, and call it with
        `query=` / `body=` keyword arguments besides the path's."""
        path = (bp.url_prefix or "") + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
        self.operations.append(
            Operation(
                method, path, summary, tag, query, body, responses, authenticated, headers or {}, produces
            )
        )

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(handler)
            def view(**path_args: Any) -> Any:
                if authenticated:
                    g.api_actor = _authenticate()
                    # Read now: after a failed write the object is expired, and reading it again
                    # for the request's log line would need the database that just failed.
                    g.api_actor_id = g.api_actor.id
                if query is not None:
                    path_args["query"] = parse_query(query, request.args)
                if body is not None:
                    path_args["body"] = _parse(body, _json_body(), "body")
                return handler(**path_args)

            bp.add_url_rule(rule, endpoint=handler.__name__, view_func=view, methods=[method])
            return view

        return decorate

    def openapi(self) -> dict[str, Any]:
        models: set[type[BaseModel]] = {Problem}
        for op in self.operations:
            models.update(m for m in (op.query, op.body, *op.responses.values()) if m is not None)
        _, top = models_json_schema(
            [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
            ref_template="#/components/schemas/{model}",
        )
        schemas = top.get("$defs", {})
        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            paths.setdefault(op.path, {})[op.method.lower()] = _operation_spec(op, schemas)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "SupportDesk API",
                "version": "1.0.0",
                "description": "Tickets, comments and the desk's configuration. Authenticate with "
                "`Authorization: Bearer <token>` (POST /api/v1/tokens). Errors are RFC 9457 problem "
                "documents.",
            },
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }


def _operation_spec(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', op.path.lower()).strip('_')}",
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            }
            for name in re.findall(r"{(\w+)}", op.path)
        ],
        "responses": {},
    }
    for name, description in op.headers.items():
        spec["parameters"].append(
            {
                "name": name,
                "in": "header",
                "required": name == "If-Match",
                "description": description,
                "schema": {"type": "string", "maxLength": 200},
            }
        )
    if op.query is not None:
        properties = schemas[op.query.__name__]["properties"]
        required_names = set(schemas[op.query.__name__].get("required", []))
        for name, schema in properties.items():
            spec["parameters"].append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required_names,
                    "schema": schema,
                    "style": "form",
                    "explode": True,
                }
            )
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}},
        }
    if op.authenticated:
        spec["security"] = [{"bearer": []}]
    for status, model in op.responses.items():
        entry: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if model is not None:
            entry["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            }
        elif op.produces is not None and status < 300:
            entry["content"] = {op.produces: {"schema": {"type": "string"}}}
        spec["responses"][str(status)] = entry
    spec["responses"]["default"] = {
        "description": "A problem document",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    return spec


def _is_list(model: type[BaseModel], name: str) -> bool:
    """Whether a query field takes repeated values (`?status=new&status=open`)."""
    annotation = model.model_fields[name].annotation
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    candidates = typing.get_args(annotation) if union else (annotation,)
    return any(typing.get_origin(candidate) is list for candidate in candidates)


def _authenticate() -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(HTTPStatus.UNAUTHORIZED, "Send an API token: Authorization: Bearer <token>.")
    authenticate: Authenticator = current_app.extensions["supportdesk.api_authenticator"]
    user = authenticate(secret.strip())
    if user is None:
        raise ApiError(HTTPStatus.UNAUTHORIZED, "This token is unknown, expired or revoked.")
    return user


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_query(model: type[ModelT], args: MultiDict[str, str]) -> ModelT:
    """A query string as `model` reads it (lists for repeatable names, else the last value); what it
    refuses is a ValidationError naming each parameter (a 422 page or problem document)."""
    values: dict[str, Any] = {}
    for name in args:
        items = args.getlist(name)
        values[name] = items if name in model.model_fields and _is_list(model, name) else items[-1]
    return _parse(model, values, "query")


def _json_body() -> Any:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"JSON bodies are limited to {MAX_JSON_BYTES} bytes."
        )
    if request.mimetype != "application/json":
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send JSON with Content-Type: application/json.")
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise ApiError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"JSON bodies are limited to {MAX_JSON_BYTES} bytes."
        )
    return parse_json(raw)


MAX_JSON_DEPTH = 32


def parse_json(raw: bytes) -> Any:
    """A JSON document from a request, or a 400 problem: not JSON, or nested deeper than any request
    needs (a thousand levels used to exhaust the parser's recursion)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(HTTPStatus.BAD_REQUEST, "The body is not valid JSON.") from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"JSON bodies may nest at most {MAX_JSON_DEPTH} levels.")
    return document


def _depth(document: Any) -> int:
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                pending.extend((item, level + 1) for item in value)
    return deepest


def _parse(model: type[ModelT], data: Any, where: str) -> ModelT:
    """`data` as `model`, or a ValidationError naming each refused field: by its dotted path in a
    body, by its parameter in a query string (`status`, not `status.0`)."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        errors = [
            FieldError(_field_name(e["loc"], where), e["msg"])
            for e in error.errors(include_url=False, include_input=False)
        ]
        raise ValidationError(errors) from None


def _field_name(loc: tuple[int | str, ...], where: str) -> str:
    if not loc:
        return where
    return str(loc[0]) if where == "query" else ".".join(str(part) for part in loc)


def json_response(
    model: BaseModel | None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = "" if model is None else model.model_dump_json()
    response = Response(body, status=status, mimetype="application/json" if model is not None else None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


registry = Registry()
bp = Blueprint("api", __name__, url_prefix="/api/v1")
