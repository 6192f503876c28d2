"""``ApiServer`` as the desktop app uses it: in a thread, off until started, 423 while locked."""

from __future__ import annotations

import socket

import httpx
import pytest
from cryptography.fernet import Fernet

from echo_vault_app.api import ApiServer, ServerConfig
from echo_vault_app.api.ratelimit import TokenBuckets
from echo_vault_app.auth import AuthManager
from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import UsageError
from echo_vault_app.secrets import SecretsManager


@pytest.fixture
def manager(tmp_path):
    created = Vault.create(tmp_path / "vault", master_key=Fernet.generate_key().decode(),
                           use_keyring=False)  # fmt: skip
    manager = SecretsManager(vault=created.vault)
    manager.store_secret("app/one", "value-one")
    yield manager
    if not manager.vault.is_locked:
        manager.lock()


def test_start_stop_and_locked_vault_answers_423(manager) -> None:
    key = AuthManager(vault=manager.vault).generate_api_key("gui", ["*"])
    current = {"manager": manager}
    server = ApiServer(lambda: current["manager"])
    assert not server.running and server.url is None

    url = server.start(port=0)
    try:
        assert server.running and server.url == url and url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
            assert http.get("/vault/secrets/app/one").json()["fields"] == {"value": "value-one"}
            current["manager"] = None  # the app locked the vault
            locked = http.get("/vault/secrets/app/one")
            health = http.get("/vault/health")
        assert locked.status_code == 423 and locked.json()["error"]["code"] == "locked"
        assert health.status_code == 423
        with pytest.raises(UsageError):
            server.start(port=0)
    finally:
        current["manager"] = manager
        server.stop()
    assert not server.running and server.url is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/vault/health")
    events = [e.action for e in manager.audit_events()]
    assert "api.serve.start" in events and "api.serve.stop" in events


def test_gui_audit_actor_is_untouched_by_api_requests(manager) -> None:
    manager.vault.audit.actor = "gui:someone"
    key = AuthManager(vault=manager.vault).generate_api_key("tool", ["*"])
    server = ApiServer(manager)
    url = server.start(port=0)
    try:
        httpx.get(url + "/vault/secrets/app/one", headers={"X-API-Key": key})
        manager.store_secret("app/two", "from the gui")
    finally:
        server.stop()
    events = manager.audit_events()
    assert [e.actor for e in events if e.target == "app/two"] == ["gui:someone"]
    assert [e.actor for e in events if e.action == "read"][-1].startswith("api:api_key:tool/")


def test_unix_socket_is_private(manager, tmp_path) -> None:
    key = AuthManager(vault=manager.vault).generate_api_key("gui", ["*"])
    path = tmp_path / "api.sock"
    server = ApiServer(manager)
    url = server.start(socket_path=path)
    try:
        assert url == f"unix:{path}" and oct(path.stat().st_mode & 0o777) == "0o600"
        transport = httpx.HTTPTransport(uds=str(path))
        with httpx.Client(transport=transport, base_url="http://localhost") as http:
            answer = http.get("/vault/secrets/app/one", headers={"X-API-Key": key})
        assert answer.status_code == 200
    finally:
        server.stop()
    assert not path.exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ServerConfig(host="0.0.0.0"), "not a loopback address"),
        (ServerConfig(host="192.0.2.1", allow_remote=True), "needs --tls-cert"),
        (ServerConfig(tls_cert=__import__("pathlib").Path("/nonexistent")), "both"),
        (ServerConfig(port=70000), "port"),
    ],
)
def test_unsafe_settings_are_refused_before_listening(config, message) -> None:
    with pytest.raises(UsageError, match=message):
        config.check()


def test_taken_port_is_a_clear_error(manager) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        with pytest.raises(UsageError, match="cannot listen"):
            ApiServer(manager).start(port=holder.getsockname()[1])
    finally:
        holder.close()


def test_configured_cors_origin_is_allowed_and_others_refused(manager) -> None:
    server = ApiServer(manager, ServerConfig(cors_origins=("https://tool.example",)))
    url = server.start(port=0)
    try:
        ok = httpx.get(url + "/vault/health", headers={"Origin": "https://tool.example"})
        other = httpx.get(url + "/vault/health", headers={"Origin": "https://evil.example"})
        preflight = httpx.options(url + "/vault/secrets",
                                  headers={"Origin": "https://tool.example"})  # fmt: skip
    finally:
        server.stop()
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://tool.example"
    assert other.status_code == 403
    assert preflight.status_code == 204


def test_token_buckets_refill_and_stay_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(2, 60.0, clock=lambda: now[0], max_keys=10)
    assert [buckets.take("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert buckets.take("a") == pytest.approx(1.0, abs=0.01)
    now[0] += 1.0
    assert buckets.take("a") == 0.0
    for i in range(100):
        buckets.take(f"k{i}")
    assert len(buckets._buckets) <= 10
