"""A real ``echo-vault-cli serve`` process on a free loopback port, with known principals.

The vault is headless (``ECHO_VAULT_MASTER_KEY``); principals are created in this process on
the same vault before the server starts, as an administrator would with the CLI.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from echo_vault_app.auth import AuthManager
from echo_vault_app.auth.passwords import Argon2Params
from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager

REPO = Path(__file__).resolve().parents[2]
ALICE_PASSWORD = "alice's long login password"


@dataclass
class Served:
    """A running server and the credentials made for it."""

    url: str
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen
    keys: dict[str, str] = field(default_factory=dict)
    client_id: str = ""
    client_secret: str = ""

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def open_manager(self) -> SecretsManager:
        vault = Vault.open(self.folder, master_key=self.env["ECHO_VAULT_MASTER_KEY"],
                           use_keyring=False)  # fmt: skip
        return SecretsManager(vault=vault)

    def stderr_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    @property
    def log_path(self) -> Path:
        return self.folder.parent / "serve.log"


def _prepare(folder: Path, master_key: str) -> tuple[dict[str, str], str, str]:
    created = Vault.create(folder, master_key=master_key, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    auth = AuthManager(vault=created.vault, password_params=Argon2Params(8 * 1024, 1, 1))
    keys = {
        "admin": auth.generate_api_key("admin", ["*"]),
        "reader": auth.generate_api_key(
            "reader", ["secrets:read:team/*", "secrets:list:team/*", "templates:read"]
        ),
        "writer": auth.generate_api_key("writer", ["secrets:write:team/*", "secrets:read:team/*"]),
        "keymaker": auth.generate_api_key("keymaker", ["apikeys:create", "secrets:read:team/*"]),
        "nobody": auth.generate_api_key("nobody", []),
        "expired": auth.generate_api_key("old", ["*"], expires_in=0.001),
    }
    revoked = auth.generate_api_key("gone", ["*"])
    auth.revoke_api_key(revoked.split("_")[2])
    keys["revoked"] = revoked
    auth.define_role("team-reader", ["secrets:read:team/*", "secrets:list:team/*"])
    auth.create_user("alice", ALICE_PASSWORD, roles=["team-reader"])
    auth.create_user("bruteforced", "the real password of this user")
    client_id, client_secret = auth.register_client("ci", ["secrets:read:team/*"])
    manager.store_secret("team/db", "s3cret-db")
    manager.store_secret("private/root", "root-value")
    auth.close()
    manager.lock()
    return keys, client_id, client_secret


def start_server(folder: Path, master_key: str, *extra: str) -> Served:
    env = dict(os.environ)
    env.update(
        ECHO_VAULT_PATH=str(folder),
        ECHO_VAULT_MASTER_KEY=master_key,
        ECHO_VAULT_NO_KEYRING="1",
        PYTHONPATH=str(REPO),
    )
    env.pop("ECHO_VAULT_SECRET_KEY", None)
    # The log goes to a file: a pipe nobody reads would fill up and stall the server.
    log_path = folder.parent / "serve.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "echo_vault_app.cli.main", "serve", "--port", "0", *extra],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    deadline = time.monotonic() + 60
    match = None
    while match is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        match = re.search(rb"serving the vault API at (http://\S+)", log_path.read_bytes())
    if match is None:
        process.kill()
        raise RuntimeError(f"server did not start: {log_path.read_bytes()[-2000:]!r}")
    return Served(match.group(1).decode(), folder, env, process)


def stop_server(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(15)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait(5)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("api") / "vault"
    master_key = Fernet.generate_key().decode()
    keys, client_id, client_secret = _prepare(folder, master_key)
    server = start_server(folder, master_key, "--access-log")
    server.keys, server.client_id, server.client_secret = keys, client_id, client_secret
    yield server
    stop_server(server)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
