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
    "hashlib",  # the standard library's OpenSSL, beside the one inside cryptography
    "socket",
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


def _headless(vault_dir) -> dict[str, str]:
    return {
        "ECHO_VAULT_MASTER_KEY": Fernet.generate_key().decode(),
        "ECHO_VAULT_PATH": str(vault_dir),
        "ECHO_VAULT_NO_KEYRING": "1",
    }


def _as_installed(*args: str, env: dict[str, str], stdout=subprocess.PIPE):
    """The console script's entry, with stdout buffered as a user's is (no PYTHONUNBUFFERED),
    so output still in Python's buffers when the command returns is lost unless flushed."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.launch", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env={**base, **env},
        timeout=60,
    )


def test_read_commands_that_skip_teardown_still_write_all_their_output(cli, vault_dir) -> None:
    """`get`, `list` and `search` leave through ``os._exit``: their output must arrive whole."""
    env = _headless(vault_dir)
    value = os.urandom(10 * 1024 * 1024)
    assert cli("init", env=env).returncode == 0
    assert cli("set", "big/blob", "--stdin", input=value, env=env).returncode == 0
    names = [f"svc/key-{i:02d}" for i in range(20)]
    for name in names:
        assert cli("set", name, input="v\n", env=env).returncode == 0
    got = _as_installed("get", "big/blob", env=env)
    assert (got.returncode, got.stderr) == (0, b"")
    assert got.stdout == value
    listed = _as_installed("list", env=env)
    assert (listed.returncode, listed.stderr) == (0, b"")
    assert listed.stdout.decode().splitlines() == sorted(["big/blob", *names])
    found = _as_installed("search", "svc", env=env)
    assert (found.returncode, found.stderr) == (0, b"")
    assert found.stdout.decode().splitlines() == names


def test_output_that_cannot_be_written_fails_a_read_command_in_one_line(cli, vault_dir) -> None:
    env = _headless(vault_dir)
    assert cli("init", env=env).returncode == 0
    assert cli("set", "a/token", input="tok-1\n", env=env).returncode == 0
    for command in (["list"], ["get", "a/token"]):
        with open("/dev/full", "wb") as full:
            done = _as_installed(*command, env=env, stdout=full)
        lines = done.stderr.decode().splitlines()
        assert done.returncode == 9, command
        assert len(lines) == 1 and "No space left on device" in lines[0], lines


def test_a_reader_that_went_away_is_not_an_error(cli, vault_dir) -> None:
    """`echo-vault-cli list | head -1` with the reader gone first: the command ends quietly."""
    env = _headless(vault_dir)
    assert cli("init", env=env).returncode == 0
    assert cli("set", "a/token", input="tok-1\n", env=env).returncode == 0
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = _as_installed("list", env=env, stdout=writer)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (0, b"")


def test_record_classes_on_the_cli_path_hold_no_string_annotations() -> None:
    """``typing.NamedTuple`` turns each string annotation into a ``ForwardRef`` and compiles it
    while the class is built; with ``from __future__ import annotations`` every annotation is a
    string, which cost every CLI call about 0.1 ms per record class. Modules that define the
    records a `get` loads therefore evaluate their annotations."""
    offenders = _probe(
        """
import json, sys, typing
import echo_vault_app.cli.main, echo_vault_app.cli.secret_commands, echo_vault_app.secrets.search
records, offenders = 0, []
for name, module in list(sys.modules.items()):
    if not name.startswith("echo_vault_app"):
        continue
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields"):
            if value.__module__ != name:
                continue
            records += 1
            if any(isinstance(a, (str, typing.ForwardRef)) for a in value.__annotations__.values()):
                offenders.append(f"{name}.{value.__name__}")
print(json.dumps({"records": records, "offenders": sorted(offenders)}))
"""
    )
    assert offenders["records"] >= 15  # the walk found the records it is meant to check
    assert offenders["offenders"] == []
