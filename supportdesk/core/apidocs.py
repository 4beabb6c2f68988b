"""The generated OpenAPI document and the interactive docs page that renders it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from supportdesk.core.apikit import registry

bp = Blueprint("apidocs", __name__)


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    return jsonify(registry.openapi())


@bp.get("/api/docs")
def docs() -> Response:
    response = Response(render_template("apidocs.html"))
    # Swagger UI sets inline styles; scripts stay 'self' only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'"
    )
    return response
