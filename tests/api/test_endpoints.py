"""Every endpoint against the real server process, with every way of authenticating."""

from __future__ import annotations

import base64
import time

import pytest

from tests.api.conftest import ALICE_PASSWORD, bearer


def test_health_jwks_and_openapi_need_no_credentials(served) -> None:
    with served.client() as http:
        health = http.get("/vault/health")
        jwks = http.get("/.well-known/jwks.json")
        doc = http.get("/openapi.json")

    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert jwks.status_code == 200 and isinstance(jwks.json()["keys"], list)
    assert doc.json()["openapi"].startswith("3.1")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "server" not in health.headers


def test_store_read_list_delete_round_trip_with_slash_names(served) -> None:
    admin = bearer(served.keys["admin"])
    with served.client(headers=admin) as http:
        stored = http.post("/vault/secrets", json={"name": "svc/a/b", "value": "v1",
                                                   "tags": ["x"]})  # fmt: skip
        again = http.post("/vault/secrets", json={"name": "svc/a/b", "value": "v2"})
        read = http.get("/vault/secrets/svc/a/b")
        encoded = http.get("/vault/secrets/svc%2Fa%2Fb")
        listed = http.get("/vault/secrets", params={"prefix": "svc/"})
        searched = http.get("/vault/secrets", params={"q": "svc"})
        deleted = http.delete("/vault/secrets/svc/a/b")
        gone = http.get("/vault/secrets/svc/a/b")
        deleted_again = http.delete("/vault/secrets/svc/a/b")

    assert stored.status_code == 201 and stored.json()["version"] == 1
    assert again.status_code == 200 and again.json()["version"] == 2
    assert read.json()["fields"] == {"value": "v2"} and read.json()["tags"] == ["x"]
    assert encoded.json()["fields"] == {"value": "v2"}
    assert [s["name"] for s in listed.json()["secrets"]] == ["svc/a/b"]
    assert "svc/a/b" in [s["name"] for s in searched.json()["secrets"]]
    assert "value" not in str(listed.json())
    assert deleted.json() == {"name": "svc/a/b", "deleted": True}
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert deleted_again.status_code == 404


def test_template_fields_binary_values_and_check_and_set(served) -> None:
    admin = bearer(served.keys["admin"])
    with served.client(headers=admin) as http:
        blob = http.post("/vault/secrets", json={"name": "bin/one",
                                                 "value": {"base64": "AAEC/w=="}})  # fmt: skip
        fields = http.post("/vault/secrets", json={
            "name": "db/main", "template": "database_url",
            "fields": {"url": "postgresql://u@h:5432/db", "password": "pw"}})  # fmt: skip
        stale = http.post("/vault/secrets", json={"name": "bin/one", "value": "x",
                                                  "expected_version": 7})  # fmt: skip
        read_blob = http.get("/vault/secrets/bin/one")
        one_field = http.get("/vault/secrets/db/main", params={"field": "password"})
        templates = http.get("/vault/templates")
        template = http.get("/vault/templates/database_url")
        no_template = http.get("/vault/templates/nope")

    assert blob.status_code == 201, blob.text
    assert read_blob.json()["fields"]["value"] == {"base64": "AAEC/w=="}
    assert fields.status_code == 201, fields.text
    assert one_field.json()["fields"] == {"password": "pw"}
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    assert "database_url" in [t["id"] for t in templates.json()["templates"]]
    assert template.json()["id"] == "database_url"
    assert no_template.status_code == 404


def test_export_returns_an_encrypted_backup_that_imports(served, tmp_path) -> None:
    with served.client(headers=bearer(served.keys["admin"])) as http:
        weak = http.post("/vault/secrets/export", json={"password": "short"})
        done = http.post(
            "/vault/secrets/export",
            json={"password": "a long export password 4 tests", "names": ["team/db"]},
        )

    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    assert done.status_code == 200, done.text
    assert done.json()["count"] == 1
    data = base64.b64decode(done.json()["backup"])
    assert b"s3cret-db" not in data
    path = tmp_path / "b.evb"
    path.write_bytes(data)
    from echo_vault_app.secrets.backup import read_payload

    payload = read_payload(path, "a long export password 4 tests")
    assert [s["name"] for s in payload["secrets"]] == ["team/db"]
    assert list(served.folder.glob(".api-export-*")) == []


@pytest.mark.parametrize("style", ["bearer", "x-api-key"])
def test_api_key_in_either_header(served, style) -> None:
    key = served.keys["reader"]
    headers = bearer(key) if style == "bearer" else {"X-API-Key": key}
    with served.client(headers=headers) as http:
        verify = http.get("/vault/auth/verify")
        read = http.get("/vault/secrets/team/db")

    assert verify.json()["method"] == "api_key" and verify.json()["subject"] == "reader"
    assert read.json()["fields"] == {"value": "s3cret-db"}


def test_password_login_gives_a_session_that_reads_by_role(served) -> None:
    with served.client() as http:
        login = http.post("/vault/auth/login", json={"user": "alice", "password": ALICE_PASSWORD})
        token = login.json()["token"]
        verify = http.get("/vault/auth/verify", headers=bearer(token))
        read = http.get("/vault/secrets/team/db", headers=bearer(token))
        denied = http.get("/vault/secrets/private/root", headers=bearer(token))

    assert login.status_code == 200 and token.startswith("evs_")
    assert verify.json()["method"] == "session" and verify.json()["roles"] == ["team-reader"]
    assert read.status_code == 200
    assert denied.status_code == 403


def test_api_key_login_gives_a_session_with_the_keys_grants(served) -> None:
    with served.client() as http:
        login = http.post("/vault/auth/login", json={"api_key": served.keys["reader"]})
        token = login.json()["token"]
        read = http.get("/vault/secrets/team/db", headers=bearer(token))
        bad = http.post("/vault/auth/login", json={"api_key": "ev_live_nothing"})

    assert read.status_code == 200
    assert bad.status_code == 401


def test_basic_auth(served) -> None:
    with served.client() as http:
        ok = http.get("/vault/secrets/team/db", auth=("alice", ALICE_PASSWORD))
        wrong = http.get("/vault/secrets/team/db", auth=("alice", "not the password"))
        garbage = http.get("/vault/secrets/team/db", headers={"Authorization": "Basic !!!"})

    assert ok.status_code == 200 and ok.json()["fields"] == {"value": "s3cret-db"}
    assert wrong.status_code == 401 and "Basic" in wrong.headers["www-authenticate"]
    assert garbage.status_code == 401


def test_oauth_client_credentials_then_bearer_jwt(served) -> None:
    form = {"grant_type": "client_credentials", "scope": "secrets:read:team/*"}
    with served.client() as http:
        token = http.post("/vault/oauth/token", data=form,
                          auth=(served.client_id, served.client_secret))  # fmt: skip
        in_body = http.post(
            "/vault/oauth/token",
            data={**form, "client_id": served.client_id, "client_secret": served.client_secret},
        )
        wrong = http.post("/vault/oauth/token", data=form, auth=(served.client_id, "nope"))
        scope = http.post("/vault/oauth/token", data={**form, "scope": "*"},
                          auth=(served.client_id, served.client_secret))  # fmt: skip
        grant = http.post("/vault/oauth/token", data={"grant_type": "password"},
                          auth=(served.client_id, served.client_secret))  # fmt: skip
        as_json = http.post("/vault/oauth/token", json=form)
        jwt = token.json()["access_token"]
        read = http.get("/vault/secrets/team/db", headers=bearer(jwt))
        denied = http.get("/vault/secrets/private/root", headers=bearer(jwt))
        verify = http.get("/vault/auth/verify", headers=bearer(jwt))

    assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
    assert token.headers["cache-control"] == "no-store"
    assert in_body.status_code == 200
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert as_json.status_code == 415
    assert read.status_code == 200 and verify.json()["method"] == "jwt"
    assert denied.status_code == 403


def test_api_key_creation_never_widens_the_creators_grants(served) -> None:
    with served.client(headers=bearer(served.keys["keymaker"])) as http:
        narrower = http.post(
            "/vault/auth/api-key", json={"permissions": ["secrets:read:team/db*"], "name": "n"}
        )
        wider = http.post("/vault/auth/api-key", json={"permissions": ["secrets:read"]})
        star = http.post("/vault/auth/api-key", json={"permissions": ["*"]})
        role = http.post("/vault/auth/api-key", json={"roles": ["team-reader"]})
    with served.client(headers=bearer(served.keys["reader"])) as http:
        no_create = http.post("/vault/auth/api-key", json={"permissions": []})

    assert narrower.status_code == 201, narrower.text
    new_key = narrower.json()["api_key"]
    assert wider.status_code == 403 and star.status_code == 403
    assert role.status_code == 403  # the role also grants secrets:list:team/*
    assert no_create.status_code == 403
    time.sleep(0.6)  # the new key is known to the server at once; this just keeps order clear
    with served.client(headers=bearer(new_key)) as http:
        assert http.get("/vault/secrets/team/db").status_code == 200


def test_audit_names_the_client_for_every_action(served) -> None:
    with served.client(headers=bearer(served.keys["reader"])) as http:
        assert http.get("/vault/secrets/team/db").status_code == 200
        assert http.get("/vault/secrets/private/root").status_code == 403
    with served.client() as http:
        assert http.get("/vault/secrets/team/db", headers=bearer("ev_live_x")).status_code == 401

    manager = served.open_manager()
    try:
        events = manager.audit_events()
        assert manager.audit_verify().ok
    finally:
        manager.lock()
    reader_id = served.keys["reader"].split("_")[2]
    actor = f"api:api_key:reader/{reader_id}"
    reads = [e for e in events if e.action == "read" and e.target == "team/db"]
    assert reads and reads[-1].actor == actor
    denied = [e for e in events if e.action == "api.denied"]
    assert denied[-1].actor == actor and denied[-1].target == "private/root"
    failed = [e for e in events if e.action == "api.auth" and e.outcome == "failed"]
    assert failed and failed[-1].actor == "api:anonymous"
    assert any(e.action == "api.serve.start" for e in events)


def test_null_optional_members_mean_not_given_as_the_document_says(served) -> None:
    store = served.client().get("/openapi.json").json()["paths"]["/vault/secrets"]["post"]
    body_schema = store["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["properties"]["tags"]["type"] == ["array", "null"]
    body = {"name": "team/nulls", "value": "v", "tags": None, "notes": None, "expires": None}
    with served.client(headers={"X-API-Key": served.keys["admin"]}) as http:
        stored = http.post("/vault/secrets", json=body)
        assert stored.status_code == 201, stored.text
        assert stored.json()["tags"] == [] and stored.json()["expires"] is None
        assert http.get("/vault/secrets/team/nulls").json()["notes"] == ""
