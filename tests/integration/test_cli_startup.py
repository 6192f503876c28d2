"""What a `get` or `search` loads: the CLI's start-up cost is mostly imports, so the modules
other commands need (the GUI, the REST API, JWTs, backups, the value checks, dataclasses with
``inspect``) must stay out of the two commands scripts call most. Timings live in
``benchmarks/bench_vault.py``; this guards the structure that makes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.conftest import REPO

KEPT_OUT = (
    "PySide6",
    "starlette",
    "uvicorn",
    "jwt",
    "keyring",
    "platformdirs",
    "zxcvbn",
    "dataclasses",
    "inspect",
    "shutil",
    "tempfile",
    "echo_vault_app.auth",
    "echo_vault_app.gui",
    "echo_vault_app.api",
    "echo_vault_app.core.rotation",
    "echo_vault_app.secrets.backup",
    "echo_vault_app.secrets.value_checks",
    "echo_vault_app.secrets.dburl",
)

PROBE = """
import json, sys
from echo_vault_app.cli.main import main
status = main(sys.argv[1:])
loaded = sorted(m for m in json.loads(sys.stdin.read()) if m in sys.modules)
print(json.dumps({"status": status, "loaded": loaded}), file=sys.stderr)
"""


@pytest.mark.parametrize("command", [["get", "ci/token"], ["search", "token"]])
def test_get_and_search_leave_other_commands_modules_unloaded(cli, vault_dir, command) -> None:
    env = {
        "ECHO_VAULT_MASTER_KEY": Fernet.generate_key().decode(),
        "ECHO_VAULT_PATH": str(vault_dir),
        "ECHO_VAULT_NO_KEYRING": "1",
        "XDG_DATA_HOME": str(vault_dir.parent / "data"),
    }
    assert cli("init", env=env).returncode == 0
    assert cli("set", "ci/token", input="tok-123\n", env=env).returncode == 0

    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *command],
        input=json.dumps(KEPT_OUT).encode(),
        capture_output=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=60,
    )
    report = json.loads(proc.stderr.decode().strip().splitlines()[-1])
    assert report["status"] == 0
    assert report["loaded"] == []
