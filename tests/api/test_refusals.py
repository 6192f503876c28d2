"""Bad input, refused credentials and missing permissions: the right status, nothing written."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse

import jwt as pyjwt
import pytest

from tests.api.conftest import bearer


def _names(served) -> list[str]:
    manager = served.open_manager()
    try:
        return manager.list_secrets()
    finally:
        manager.lock()


def _raw(served, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """A request exactly as given: no client-side path normalisation, any Host header."""
    parsed = urllib.parse.urlsplit(served.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        final = {"Host": parsed.netloc, "Content-Length": str(len(body)), **(headers or {})}
        for key, value in final.items():
            if value is not None:
                conn.putheader(key, value)
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _error_code(body: bytes) -> str:
    document = json.loads(body)
    assert set(document) == {"error"} and set(document["error"]) == {"code", "message"}
    return document["error"]["code"]


def test_no_credentials_is_401_and_missing_permission_is_403(served) -> None:
    cases = [
        ("GET", "/vault/secrets/team/db", None),
        ("DELETE", "/vault/secrets/team/db", None),
        ("POST", "/vault/secrets", {"name": "team/x", "value": "v"}),
        ("GET", "/vault/secrets", None),
        ("POST", "/vault/secrets/export", {"password": "a long export password 4 tests"}),
        ("POST", "/vault/auth/api-key", {"permissions": []}),
        ("GET", "/vault/auth/verify", None),
        ("GET", "/vault/templates", None),
        ("GET", "/vault/templates/generic", None),
    ]
    with served.client() as http_client:
        for method, path, body in cases:
            anonymous = http_client.request(method, path, json=body)
            assert anonymous.status_code == 401, (method, path)
            assert "Bearer" in anonymous.headers["www-authenticate"]
            nobody = http_client.request(method, path, json=body,
                                         headers=bearer(served.keys["nobody"]))  # fmt: skip
            expected = 200 if path == "/vault/auth/verify" else 403
            assert nobody.status_code == expected, (method, path, nobody.text)


def test_scoped_grants_stop_at_their_glob(served) -> None:
    reader, writer = bearer(served.keys["reader"]), bearer(served.keys["writer"])
    with served.client() as http_client:
        assert http_client.get("/vault/secrets/private/root", headers=reader).status_code == 403
        assert http_client.get("/vault/secrets/TEAM/db", headers=reader).status_code == 403
        assert http_client.delete("/vault/secrets/team/db", headers=reader).status_code == 403
        wrote = http_client.post("/vault/secrets", headers=reader,
                                 json={"name": "team/x", "value": "v"})  # fmt: skip
        assert wrote.status_code == 403
        outside = http_client.post(
            "/vault/secrets", headers=writer, json={"name": "private/root", "value": "overwritten"}
        )
        assert outside.status_code == 403
        all_names = http_client.get("/vault/secrets", headers=reader)
        assert all_names.status_code == 403
        team = http_client.get("/vault/secrets", params={"prefix": "team/"}, headers=reader)
        assert [s["name"] for s in team.json()["secrets"]] == ["team/db"]
        export = http_client.post(
            "/vault/secrets/export",
            headers=reader,
            json={"password": "a long export password 4 tests"},
        )
        assert export.status_code == 403
    assert "team/x" not in _names(served)
    manager = served.open_manager()
    try:
        assert manager.get_secret("private/root") == "root-value"
    finally:
        manager.lock()


@pytest.mark.parametrize("which", ["expired", "revoked"])
def test_expired_and_revoked_api_keys(served, which) -> None:
    with served.client(headers=bearer(served.keys[which])) as http_client:
        answer = http_client.get("/vault/secrets/team/db")
    assert answer.status_code == 401
    assert which in answer.json()["error"]["message"]


def test_forged_expired_and_garbage_tokens(served) -> None:
    forged = pyjwt.encode({"sub": "admin", "permissions": ["*"], "exp": time.time() + 600},
                          "x" * 32, algorithm="HS256")  # fmt: skip
    unsigned = pyjwt.encode({"sub": "admin", "permissions": ["*"], "exp": time.time() + 600},
                            None, algorithm="none")  # fmt: skip
    form = {"grant_type": "client_credentials"}
    with served.client() as http_client:
        real = http_client.post(
            "/vault/oauth/token", data=form, auth=(served.client_id, served.client_secret)
        ).json()
        header, claims, signature = real["access_token"].split(".")
        widened = json.loads(_b64d(claims)) | {"permissions": ["*"]}
        tampered = ".".join([header, _b64e(json.dumps(widened).encode()), signature])
        for token in (forged, unsigned, tampered, "garbage", "a.b.c", "e" * 20000):
            answer = http_client.get("/vault/secrets/team/db", headers=bearer(token))
            assert answer.status_code == 401, token[:40]
            assert _error_code(answer.content) == "unauthenticated"


@pytest.mark.slow
def test_an_expired_jwt_is_refused(served) -> None:
    from echo_vault_app.auth import AuthManager

    manager = served.open_manager()
    try:
        auth = AuthManager(vault=manager.vault)
        token = auth.create_jwt_token("admin", ["*"], expires_in=1)
    finally:
        manager.lock()
    with served.client(headers=bearer(token)) as http_client:
        assert http_client.get("/vault/auth/verify").status_code == 200
        time.sleep(32)  # past exp plus the verifier's 30 s leeway
        answer = http_client.get("/vault/auth/verify")
    assert answer.status_code == 401 and "expired" in answer.json()["error"]["message"]


def _b64d(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_malformed_bodies_wrong_media_and_huge_bodies(served) -> None:
    admin = {"Authorization": f"Bearer {served.keys['admin']}"}
    json_type = {**admin, "Content-Type": "application/json"}
    cases = [
        (b'{"name": "junk/1", "value": ', json_type, 400, "malformed_json"),
        (b'{"name": "junk/2", "value": "v"}', {**admin, "Content-Type": "text/plain"}, 415,
         "unsupported_media_type"),
        (b'{"name": "junk/3", "value": "v"}', admin, 415, "unsupported_media_type"),
        (b'{"name": "junk/4", "value": "v", "value": "w"}', json_type, 400, "malformed_json"),
        (b"[" * 100 + b"]" * 100, json_type, 400, "malformed_json"),
        (b'{"name": "junk/5", "value": NaN}', json_type, 400, "malformed_json"),
        (b'\xff\xfe{"name": "junk/6"}', json_type, 400, "malformed_json"),
        (b'["junk/7"]', json_type, 422, "invalid"),
        (b'{"name": "junk/8", "value": 5}', json_type, 422, "invalid"),
        (b'{"name": "junk/9", "value": "v", "extra": 1}', json_type, 422, "invalid"),
        (b'{"name": "junk/10"}', json_type, 422, "invalid"),
        (json.dumps({"name": "junk/11", "value": "x" * (2 * 1024 * 1024)}).encode(), json_type,
         413, "payload_too_large"),
    ]  # fmt: skip
    for body, headers, status, code in cases:
        answer_status, _, answer_body = _raw(served, "POST", "/vault/secrets", body, headers)
        assert (answer_status, _error_code(answer_body)) == (status, code), body[:40]
    assert not [n for n in _names(served) if n.startswith("junk/")]


def test_chunked_body_over_the_limit_is_413(served) -> None:
    parsed = urllib.parse.urlsplit(served.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    chunks = (b"x" * 65536 for _ in range(40))
    conn.request("POST", "/vault/secrets", body=chunks, encode_chunked=True,
                 headers={"Authorization": f"Bearer {served.keys['admin']}",
                          "Content-Type": "application/json"})  # fmt: skip
    response = conn.getresponse()
    assert response.status == 413
    assert _error_code(response.read()) == "payload_too_large"
    conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/vault/secrets/../private/root",
        "/vault/secrets/%2e%2e/private/root",
        "/vault/secrets/team/%2E%2E/%2e%2e/private/root",
        "/vault/secrets/team/./db",
        "/vault/secrets/team//db",
        "/vault/secrets/team/db%00",
        "/vault/secrets/team/%0adb",
        "/vault/secrets/%E2%80%AEteam",
        "/vault/secrets/%20team",
    ],
)
def test_path_traversal_and_control_characters_in_names(served, path) -> None:
    for method in ("GET", "DELETE"):
        status, _, body = _raw(
            served, method, path, headers={"Authorization": f"Bearer {served.keys['reader']}"}
        )
        assert status == 422, (method, path, body)
        assert _error_code(body) == "invalid_name"
    assert {"team/db", "private/root"} <= set(_names(served))


def test_unicode_names_work_and_bad_ones_write_nothing(served) -> None:
    with served.client(headers=bearer(served.keys["admin"])) as http_client:
        good = http_client.post("/vault/secrets", json={"name": "ünï/cödé 名前", "value": "v"})
        read = http_client.get("/vault/secrets/" + urllib.parse.quote("ünï/cödé 名前"))
        for bad in ("bad\x00name", "bad\u202ename", "a/../b", " lead", "x" * 600, ""):
            answer = http_client.post("/vault/secrets", json={"name": bad, "value": "v"})
            assert answer.status_code == 422, repr(bad)
    assert good.status_code == 201 and read.json()["fields"] == {"value": "v"}
    assert not [n for n in _names(served) if n.startswith(("bad", "a/", " ", "xxx"))]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Host": "evil.example:80"}, 421, "misdirected_host"),
        ({"Host": "127.0.0.1:1"}, 421, "misdirected_host"),
        ({"Host": None}, 400, "bad_request"),
        ({"Origin": "https://evil.example"}, 403, "origin_refused"),
        ({"Origin": "null"}, 403, "origin_refused"),
        ({"Sec-Fetch-Site": "cross-site"}, 403, "origin_refused"),
    ],
)
def test_host_and_origin_checks_run_before_anything_else(served, headers, status, code) -> None:
    body = json.dumps({"name": "team/rebound", "value": "v"}).encode()
    base = {"Authorization": f"Bearer {served.keys['admin']}", "Content-Type": "application/json"}
    answer_status, _, answer_body = _raw(served, "POST", "/vault/secrets", body,
                                         {**base, **headers})  # fmt: skip
    assert (answer_status, _error_code(answer_body)) == (status, code)
    assert "team/rebound" not in _names(served)


def test_localhost_and_loopback_host_names_are_accepted(served) -> None:
    port = urllib.parse.urlsplit(served.url).port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"LOCALHOST:{port}"):
        status, _, _ = _raw(served, "GET", "/vault/health", headers={"Host": host})
        assert status == 200, host


def test_permission_on_another_spelling_does_not_read_the_stored_secret(served) -> None:
    def events() -> list:
        manager = served.open_manager()
        try:
            return manager.audit_events(target="private/root")
        finally:
            manager.lock()

    with served.client(headers=bearer(served.keys["admin"])) as http_client:
        made = http_client.post(
            "/vault/auth/api-key", json={"permissions": ["secrets:read:PRIVATE/*"], "name": "caps"}
        )
    assert made.status_code == 201, made.text
    before = len(events())
    with served.client(headers=bearer(made.json()["api_key"])) as http_client:
        refused = http_client.get("/vault/secrets/PRIVATE/root")
    assert refused.status_code == 403
    assert "private/root" in refused.json()["error"]["message"]
    assert "root-value" not in refused.text
    assert [e.action for e in events()[before:]] == ["api.denied"]


def test_access_log_holds_no_credential_or_value(served) -> None:
    # Stops the server to read its whole log, so it stays the last test of this module.
    secret_value = "value-that-must-not-be-logged"
    with served.client(headers=bearer(served.keys["admin"])) as http_client:
        http_client.post("/vault/secrets", json={"name": "logged/one", "value": secret_value})
        http_client.get("/vault/secrets/logged/one", params={"field": "value"})
        http_client.get("/vault/secrets/logged/one", auth=("alice", "basic-password-here"))
    served.process.send_signal(__import__("signal").SIGTERM)
    served.process.wait(15)
    log_text = served.stderr_text()
    assert "POST /vault/secrets 201 api:api_key:admin/" in log_text
    for leaked in (secret_value, served.keys["admin"], "basic-password-here", "field=value",
                   served.keys["admin"].split("_")[3]):  # fmt: skip
        assert leaked not in log_text
    assert "Traceback" not in log_text
