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


def _probe(code: str) -> object:
    """Run ``code`` in a fresh interpreter; it prints one JSON value, which is returned."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_agent_path_loads_neither_logging_nor_the_vault() -> None:
    """What the console script needs to hand a `get` to a running agent: a socket, no more."""
    heavy = ["logging", "sqlcipher3", "cryptography", "echo_vault_app.core", "argparse"]
    code = (
        "import json, sys\nimport echo_vault_app.cli.launch, echo_vault_app.cli.agent_client\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    )
    assert _probe(code) == []


@pytest.mark.parametrize(
    "module",
    ["echo_vault_app.core", "echo_vault_app.secrets.templates", "echo_vault_app.auth",
     "echo_vault_app.state.config_store"],
)  # fmt: skip
def test_the_library_keeps_its_logging_silent_until_configured(module: str) -> None:
    """A program using any part of the library gets no log output unless it configures
    logging itself: whichever part it imports first installs the NullHandler."""
    code = (
        f"import json, logging\nimport {module}\n"
        "handlers = logging.getLogger('echo_vault_app').handlers\n"
        "print(json.dumps([type(h).__name__ for h in handlers]))"
    )
    assert _probe(code) == ["NullHandler"]
