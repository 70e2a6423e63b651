"""The API's docs page, plain HTML rendered on the server from the OpenAPI schema.

Ninja's Swagger UI and ReDoc pages need a CDN (there is no network here) or, served from our
static files, inline styles and injected ``<style>`` elements that the strict CSP refuses;
ninja 1.7.1 also ships only part of Swagger UI's files. So ``/api/v1/docs`` is one of our own
pages: every operation with its parameters, body, answers and the permission it needs, and
the schema itself one link away (``/api/v1/openapi.json``) for any client generator.
"""

from __future__ import annotations

from django.shortcuts import render
from ninja.openapi.docs import DocsBase

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def _type(schema: dict) -> str:
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return str(schema.get("type", ""))


def operations(schema: dict) -> list[dict]:
    """Every operation of ``schema`` as the docs page lists it, in the schema's path order."""
    found = []
    for path, methods in schema.get("paths", {}).items():
        for method in METHOD_ORDER:
            operation = methods.get(method)
            if operation is None:
                continue
            body = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            found.append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "token": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type(p.get("schema", {})),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": _type(body) if body else "",
                    "responses": sorted(str(code) for code in operation.get("responses", {})),
                }
            )
    return found


class PlainDocs(DocsBase):
    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        context = {
            "api": api,
            "openapi_url": self.get_openapi_url(api, kwargs),
            "operations": operations(schema),
            "schemas": [
                {
                    "name": name,
                    "fields": [
                        {"name": field, "type": _type(spec), "required": field in required}
                        for field, spec in body.get("properties", {}).items()
                        for required in [set(body.get("required", ()))]
                    ],
                }
                for name, body in sorted(schema.get("components", {}).get("schemas", {}).items())
            ],
        }
        return render(request, "api/docs.html", context)
