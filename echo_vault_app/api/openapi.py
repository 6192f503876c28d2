"""The served OpenAPI 3.1 document, written by hand to say exactly what the server does.

The test suite fuzzes the running server against this document (schemathesis), so a status
code, a member or a media type that the code returns but the document does not list fails the
build. Keep the two in step when either changes.
"""

from __future__ import annotations

from typing import Any

from echo_vault_app import __version__

_ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
_OAUTH_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_VALUE = {
    "oneOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["base64"],
            "additionalProperties": False,
            "properties": {"base64": {"type": "string", "contentEncoding": "base64"}},
        },
    ]
}
_SUMMARY = {
    "type": "object",
    "required": ["name", "template", "tags", "version", "created", "updated", "expires"],
    "properties": {
        "name": {"type": "string"},
        "template": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "version": {"type": "integer", "minimum": 1},
        "created": _TIME,
        "updated": _TIME,
        "expires": _TIME,
        "favourite": {"type": "boolean"},
    },
}
_SECRET = {
    "allOf": [
        {"$ref": "#/components/schemas/SecretSummary"},
        {
            "type": "object",
            "required": ["notes", "fields"],
            "properties": {
                "notes": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/components/schemas/Value"},
                },
            },
        },
    ]
}
_TEMPLATE = {
    "type": "object",
    "required": ["id", "name", "primary_field", "fields"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "primary_field": {"type": "string"},
        "username_field": {"type": ["string", "null"]},
        "allow_extra_fields": {"type": "boolean"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "secret", "required"],
                "properties": {
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "secret": {"type": "boolean"},
                    "required": {"type": "boolean"},
                    "kind": {"type": "string"},
                    "pattern": {"type": ["string", "null"]},
                    "help": {"type": "string"},
                },
            },
        },
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_REASONS = {
    400: "malformed request (bad JSON, bad header, no Host)",
    401: "no credentials, or credentials refused",
    403: "permission missing, or a request from a web page (Origin)",
    404: "no such object",
    405: "method not allowed",
    409: "conflict (version check failed)",
    413: "request body over the size limit",
    415: "request body is not application/json",
    421: "Host header names another server (DNS-rebinding protection)",
    422: "request is well-formed but invalid",
    423: "the vault is locked",
    429: "too many attempts; see Retry-After",
    503: "the audit trail or the vault is unavailable; nothing was done",
    507: "the disk refused the write; nothing was written",
}
_ALWAYS = (400, 403, 405, 413, 421, 423, 503)
_WITH_AUTH = (401, 429)


def _errors(*codes: int, authenticated: bool = True) -> dict[str, Any]:
    wanted = set(_ALWAYS) | set(codes) | (set(_WITH_AUTH) if authenticated else set())
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in sorted(wanted)}


_SECURED = [{"bearer": []}, {"apiKey": []}, {"basic": []}]
_NAME_PARAM = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "secret name; '/' separates path parts (send it as is or as %2F)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 512},
}


def _op(summary: str, ok: dict[str, Any], *codes: int, secured: bool = True, **extra: Any):
    operation: dict[str, Any] = {"summary": summary, "responses": {**ok}}
    for status, response in _errors(*codes, authenticated=secured).items():
        operation["responses"].setdefault(status, response)
    operation["security"] = _SECURED if secured else []
    operation.update(extra)
    return operation


def _ok(schema: dict[str, Any], description: str = "done", status: int = 200):
    return {str(status): {"description": description, "content": _json(schema)}}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional member of a request body: the server reads ``null`` as "not given"."""
    return {**schema, "type": [schema["type"], "null"]}


def build_document() -> dict[str, Any]:
    """The whole document as a dict (served as ``/openapi.json``)."""
    store_body = {
        "type": "object",
        "required": ["name"],
        "oneOf": [{"required": ["value"]}, {"required": ["fields"]}],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 512},
            "value": _ref("Value"),
            "fields": {"type": "object", "additionalProperties": _ref("Value")},
            "template": _or_null({"type": "string", "maxLength": 64}),
            "tags": _or_null({"type": "array", "items": {"type": "string"}, "maxItems": 256}),
            "notes": _or_null({"type": "string"}),
            "expires": _or_null({"type": "number", "minimum": 0}),
            "expected_version": _or_null({"type": "integer", "minimum": 0}),
        },
    }
    paths: dict[str, Any] = {
        "/vault/health": {
            "get": _op(
                "Health check: 200 while the vault is unlocked, 423 while it is locked",
                _ok(
                    {
                        "type": "object",
                        "required": ["status"],
                        "properties": {
                            "status": {"const": "ok"},
                            "version": {"type": "string"},
                            "vault_id": {"type": "string"},
                        },
                    }
                ),  # fmt: skip
                secured=False,
            )
        },
        "/.well-known/jwks.json": {
            "get": _op(
                "Public keys that verify the vault's asymmetric JWTs",
                _ok(
                    {
                        "type": "object",
                        "required": ["keys"],
                        "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
                    }
                ),  # fmt: skip
                secured=False,
            )
        },
        "/vault/auth/login": {
            "post": _op(
                "Log in with a user's password or an API key; returns a session token",
                _ok(_ref("Session")),
                401,
                415,
                422,
                429,
                secured=False,
                requestBody={
                    "required": True,
                    "content": _json(
                        {
                            "oneOf": [
                                {
                                    "type": "object",
                                    "required": ["user", "password"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "user": {"type": "string"},
                                        "password": {"type": "string"},
                                    },
                                },
                                {
                                    "type": "object",
                                    "required": ["api_key"],
                                    "additionalProperties": False,
                                    "properties": {"api_key": {"type": "string"}},
                                },
                            ]
                        }
                    ),
                },
            )  # fmt: skip
        },
        "/vault/auth/api-key": {
            "post": _op(
                "Create an API key (never with more than the caller holds); shown once",
                _ok(_ref("NewApiKey"), "created", 201),
                415,
                422,
                requestBody={
                    "required": True,
                    "content": _json(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "user_id": _or_null({"type": "string"}),
                                "name": _or_null({"type": "string"}),
                                "permissions": _or_null(
                                    {"type": "array", "items": {"type": "string"}}
                                ),
                                "roles": _or_null({"type": "array", "items": {"type": "string"}}),
                                "environment": _or_null(
                                    {"type": "string", "pattern": "^[a-z0-9]{1,16}$"}
                                ),
                                "expires_in": _or_null({"type": "number", "minimum": 1}),
                            },
                        }
                    ),
                },
            )  # fmt: skip
        },
        "/vault/auth/verify": {
            "get": _op("Who the presented credentials belong to", _ok(_ref("Verification")))
        },
        "/vault/oauth/token": {
            "post": _op(
                "OAuth 2.0 client-credentials grant (RFC 6749 section 4.4)",
                {
                    "200": {"description": "access token", "content": _json(_ref("Token"))},
                    **{
                        str(code): {
                            "description": "OAuth error (RFC 6749 section 5.2), or a refusal "
                            "of the transport checks in the standard shape",
                            "content": _json({"anyOf": [_OAUTH_ERROR, _ref("Error")]}),
                        }
                        for code in (400, 401, 415, 429)
                    },
                },
                secured=False,
                requestBody={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type"],
                                "properties": {
                                    "grant_type": {"const": "client_credentials"},
                                    "scope": {"type": "string"},
                                    "client_id": {"type": "string"},
                                    "client_secret": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            )  # fmt: skip
        },
        "/vault/secrets": {
            "get": _op(
                "List or search secret names (never values)",
                _ok(
                    {
                        "type": "object",
                        "required": ["secrets"],
                        "properties": {
                            "secrets": {"type": "array", "items": _ref("SecretSummary")}
                        },
                    }
                ),
                422,
                parameters=[
                    {"name": "prefix", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "search query (names, tags, notes, non-secret fields)",
                    },
                    {"name": "tag", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                    },
                ],
            ),  # fmt: skip
            "post": _op(
                "Store a secret (a single value or a template's fields)",
                {
                    **_ok(_ref("SecretSummary"), "created", 201),
                    **_ok(_ref("SecretSummary"), "updated"),
                },
                404,
                409,
                415,
                422,
                507,
                requestBody={"required": True, "content": _json(store_body)},
            ),  # fmt: skip
        },
        "/vault/secrets/export": {
            "post": _op(
                "Export an encrypted backup (base64) under the given password",
                _ok(
                    {
                        "type": "object",
                        "required": ["count", "backup"],
                        "properties": {
                            "count": {"type": "integer"},
                            "filename": {"type": "string"},
                            "backup": {"type": "string", "contentEncoding": "base64"},
                        },
                    }
                ),
                404,
                415,
                422,
                507,
                requestBody={
                    "required": True,
                    "content": _json(
                        {
                            "type": "object",
                            "required": ["password"],
                            "additionalProperties": False,
                            "properties": {
                                "password": {"type": "string"},
                                "names": _or_null({"type": "array", "items": {"type": "string"}}),
                                "tags": _or_null({"type": "array", "items": {"type": "string"}}),
                                "query": _or_null({"type": "string"}),
                            },
                        }
                    ),
                },
            )  # fmt: skip
        },
        "/vault/secrets/{name}": {
            "get": _op(
                "Read a secret's fields (audited)",
                _ok(_ref("Secret")),
                404,
                422,
                parameters=[
                    _NAME_PARAM,
                    {"name": "field", "in": "query", "schema": {"type": "string"}},
                ],
            ),  # fmt: skip
            "delete": _op(
                "Move a secret to the trash",
                _ok(
                    {
                        "type": "object",
                        "required": ["name", "deleted"],
                        "properties": {"name": {"type": "string"}, "deleted": {"const": True}},
                    }
                ),
                404,
                422,
                507,
                parameters=[_NAME_PARAM],
            ),  # fmt: skip
        },
        "/vault/templates": {
            "get": _op(
                "Credential templates",
                _ok(
                    {
                        "type": "object",
                        "required": ["templates"],
                        "properties": {"templates": {"type": "array", "items": _ref("Template")}},
                    }
                ),
            )  # fmt: skip
        },
        "/vault/templates/{template_id}": {
            "get": _op(
                "One credential template",
                _ok(_ref("Template")),
                404,
                parameters=[
                    {
                        "name": "template_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1},
                    }
                ],
            )  # fmt: skip
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Echo Vault local API",
            "version": __version__,
            "description": "Secrets, API keys and tokens of the local Echo Vault. Loopback only "
            "by default; requests with an Origin header are refused. Errors are "
            '{"error": {"code", "message"}} except on /vault/oauth/token (RFC 6749).',
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": _ERROR,
                "Value": _VALUE,
                "SecretSummary": _SUMMARY,
                "Secret": _SECRET,
                "Template": _TEMPLATE,
                "Session": {
                    "type": "object",
                    "required": ["token", "session_id", "user"],
                    "properties": {
                        "token": {"type": "string"},
                        "token_type": {"const": "Bearer"},
                        "session_id": {"type": "string"},
                        "user": {"type": "string"},
                        "expires_at": _TIME,
                        "idle_timeout": {"type": "number"},
                    },
                },
                "NewApiKey": {
                    "type": "object",
                    "required": ["api_key", "key_id", "user_id"],
                    "properties": {
                        "api_key": {"type": "string"},
                        "key_id": {"type": "string"},
                        "prefix": {"type": "string"},
                        "user_id": {"type": "string"},
                        "name": {"type": "string"},
                        "permissions": {"type": "array", "items": {"type": "string"}},
                        "roles": {"type": "array", "items": {"type": "string"}},
                        "expires_at": _TIME,
                    },
                },
                "Verification": {
                    "type": "object",
                    "required": ["valid", "method", "kind", "subject"],
                    "properties": {
                        "valid": {"const": True},
                        "method": {"type": "string"},
                        "kind": {"type": "string"},
                        "subject": {"type": "string"},
                        "permissions": {"type": "array", "items": {"type": "string"}},
                        "roles": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Token": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "token_type": {"const": "Bearer"},
                        "expires_in": {"type": "integer"},
                        "scope": {"type": "string"},
                    },
                },
            },  # fmt: skip
            "responses": {
                f"E{code}": {"description": reason, "content": _json(_ref("Error"))}
                for code, reason in _REASONS.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "JWT, API key (ev_...) or session token (evs_...)",
                },
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "basic": {"type": "http", "scheme": "basic"},
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {"tokenUrl": "/vault/oauth/token", "scopes": {}}
                    },
                },
            },  # fmt: skip
        },
    }
