"""``echo-vault-cli agent``: a real agent process answering real CLI processes on its socket.

Clients run without ``ECHO_VAULT_MASTER_KEY``, so a command that succeeds can only have been
answered by the agent; ``ECHO_VAULT_NO_AGENT=1`` shows the same command failing on its own.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import REPO, run_cli, wait_for

MARKER = "agent-marker-7f3c1e9a"


def launch(*args: str, env: dict[str, str], input: bytes = b"", stdout=subprocess.PIPE):
    """``echo-vault-cli`` through its installed entry point (which consults the agent)."""
    return subprocess.run(
        [sys.executable, "-m", "echo_vault_app.cli.launch", *args],
        input=input,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
        cwd=REPO,
    )


class Agent:
    def __init__(self, folder: Path, env: dict[str, str], *extra: str) -> None:
        self.folder = folder
        self.socket = folder / "agent.sock"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "echo_vault_app.cli.launch", "--vault", str(folder),
             "agent", "start", *extra],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=REPO,
        )  # fmt: skip
        if not wait_for(lambda: self.listening() or self.proc.poll() is not None, 20):
            raise AssertionError("the agent did not start")

    def listening(self) -> bool:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, err.decode()


@pytest.fixture
def vault(tmp_path, vault_dir):
    """A headless vault with two secrets; the key env for the agent, a keyless one for clients."""
    key = Fernet.generate_key().decode()
    with_key = {**os.environ, "ECHO_VAULT_MASTER_KEY": key, "ECHO_VAULT_PATH": str(vault_dir)}
    assert run_cli("init", env=with_key).returncode == 0
    assert run_cli("set", "svc/token", "--stdin", input=MARKER, env=with_key).returncode == 0
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    assert run_cli("set", "svc/blob", "--from-file", str(blob), env=with_key).returncode == 0
    keyless = {k: v for k, v in with_key.items() if k != "ECHO_VAULT_MASTER_KEY"}
    return vault_dir, with_key, keyless, blob.read_bytes()


@pytest.fixture
def agent(vault):
    folder, with_key, _, _ = vault
    running = Agent(folder, {**with_key, "ECHO_VAULT_LOG_LEVEL": "DEBUG"})
    yield running
    running.stop()


def test_read_commands_are_answered_by_the_agent(vault, agent) -> None:
    folder, with_key, keyless, blob = vault

    got = launch("get", "svc/token", env=keyless)
    listed = launch("list", env=keyless)
    found = launch("search", "svc", env=keyless)
    binary = launch("get", "svc/blob", env=keyless)
    alone = launch("get", "svc/token", env={**keyless, "ECHO_VAULT_NO_AGENT": "1"})

    assert (got.returncode, got.stdout, got.stderr) == (0, MARKER.encode(), b"")
    assert binary.returncode == 0 and binary.stdout == blob
    local = run_cli("list", env=with_key)
    assert listed.returncode == 0 and listed.stdout.decode() == local.stdout
    assert found.stdout.decode().split() == ["svc/blob", "svc/token"]
    assert alone.returncode == 4, "without the agent the keyless client cannot unlock"
    trail = run_cli("audit", "--json", env=with_key).stdout
    reads = [e for e in json.loads(trail)["events"] if e["action"] == "read"]
    assert [e["actor"].split(":")[0] for e in reads] == ["cli-agent", "cli-agent"]


def test_errors_come_back_as_one_line_with_the_cli_exit_status(vault, agent) -> None:
    _, _, keyless, _ = vault

    missing = launch("get", "svc/nope", env=keyless)
    usage = launch("get", env=keyless)

    assert missing.returncode == 6 and missing.stdout == b""
    assert missing.stderr.decode().count("\n") == 1 and "svc/nope" in missing.stderr.decode()
    assert usage.returncode == 2 and usage.stderr.decode().count("\n") == 1
    assert b"Traceback" not in missing.stderr + usage.stderr


def test_a_terminal_gets_the_value_only_with_show(vault, agent) -> None:
    _, _, keyless, _ = vault

    def on_terminal(*args: str) -> tuple[int, bytes]:
        leader, follower = pty.openpty()
        try:
            done = launch(*args, env=keyless, stdout=follower)
            os.close(follower)
            follower = -1
            seen = b""
            while True:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            return done.returncode, seen
        finally:
            os.close(leader)
            if follower >= 0:
                os.close(follower)

    refused_code, refused_out = on_terminal("get", "svc/token")
    shown_code, shown_out = on_terminal("get", "svc/token", "--show")

    assert refused_code == 2 and MARKER.encode() not in refused_out
    assert shown_code == 0 and shown_out.replace(b"\r\n", b"\n") == MARKER.encode() + b"\n"


def test_writes_and_passphrase_unlocks_run_in_the_callers_process(vault, agent) -> None:
    _, _, keyless, _ = vault

    written = launch("set", "svc/new", "--stdin", input=b"x", env=keyless)
    with_passphrase = launch(
        "--passphrase-stdin", "get", "svc/token", input=b"wrong\n", env=keyless
    )

    assert written.returncode == 4, "set is never forwarded, so it needs its own unlock"
    assert with_passphrase.returncode in (3, 4) and with_passphrase.stdout == b""


def test_the_agent_log_and_argv_carry_no_secret(vault, agent) -> None:
    _, _, keyless, _ = vault
    assert launch("get", "svc/token", env=keyless).returncode == 0

    code, log = agent.stop()

    assert code == 0 and "agent runs get" in log, log
    assert MARKER not in log
    assert all(MARKER not in part for part in agent.proc.args)


def test_idle_timeout_locks_the_vault_and_removes_the_socket(vault) -> None:
    folder, with_key, keyless, _ = vault
    idle = Agent(folder, with_key, "--idle-timeout", "1")

    assert idle.proc.wait(timeout=20) == 0
    assert "1 s without a request" in idle.proc.stderr.read().decode()
    assert not idle.socket.exists()
    assert launch("get", "svc/token", env=keyless).returncode == 4


def test_status_and_stop(vault, agent) -> None:
    _, _, keyless, _ = vault

    status = launch("agent", "status", env=keyless)
    stopped = launch("agent", "stop", env=keyless)

    assert status.returncode == 0 and f"pid {agent.proc.pid}" in status.stdout.decode()
    assert stopped.returncode == 0 and agent.proc.wait(timeout=20) == 0
    assert not agent.socket.exists()
    assert launch("agent", "status", env=keyless).returncode == 4


def test_a_killed_agent_leaves_a_socket_that_is_ignored_then_replaced(vault) -> None:
    folder, with_key, keyless, _ = vault
    first = Agent(folder, with_key)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=20)
    assert first.socket.exists()

    fallback = launch("get", "svc/token", env=with_key)
    refused = launch("get", "svc/token", env=keyless)
    second = Agent(folder, with_key)
    try:
        served = launch("get", "svc/token", env=keyless)
    finally:
        second.stop()

    assert (fallback.returncode, fallback.stdout) == (0, MARKER.encode())
    assert refused.returncode == 4
    assert served.returncode == 0 and served.stdout == MARKER.encode()


def test_a_second_agent_for_the_same_vault_is_refused(vault, agent) -> None:
    _, with_key, _, _ = vault

    second = launch("agent", "start", env=with_key)

    assert second.returncode == 7 and f"pid {agent.proc.pid}" in second.stderr.decode()
    assert agent.proc.poll() is None


def test_a_folder_open_to_other_users_is_refused(vault) -> None:
    folder, with_key, _, _ = vault
    folder.chmod(0o755)

    refused = launch("agent", "start", env=with_key)

    assert refused.returncode == 2 and "chmod 700" in refused.stderr.decode()
    assert not (folder / "agent.sock").exists()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as another uid"
)
def test_a_peer_of_another_uid_gets_no_answer() -> None:
    """Even when the folder's protection is lost after start, the peer's uid is checked."""
    base = Path(tempfile.mkdtemp(prefix="ev-agent-"))
    base.chmod(0o711)
    folder = base / "vault"
    key = Fernet.generate_key().decode()
    env = {**os.environ, "ECHO_VAULT_MASTER_KEY": key, "ECHO_VAULT_PATH": str(folder)}
    assert run_cli("init", env=env).returncode == 0
    assert run_cli("set", "svc/token", "--stdin", input=MARKER, env=env).returncode == 0
    running = Agent(folder, env)
    try:
        folder.chmod(0o711)
        running.socket.chmod(0o666)
        request = json.dumps(
            {"v": 1, "op": "run", "argv": ["get", "svc/token"], "cwd": "/", "tty": False}
        ).encode()
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through the pipe
            answer = b"?"
            try:
                os.setgid(65534)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.settimeout(10)
                    sock.connect(str(running.socket))
                    sock.sendall(request + b"\n")
                    answer = sock.recv(4096)
            except OSError as exc:
                answer = f"error {exc}".encode()
            finally:
                os.write(writer, answer or b"<closed>")
                os._exit(0)
        os.close(writer)
        os.waitpid(child, 0)
        seen = os.read(reader, 4096)
        os.close(reader)
        ours = launch("get", "svc/token", env={k: v for k, v in env.items() if "MASTER" not in k})
    finally:
        code, log = running.stop()
        shutil.rmtree(base, ignore_errors=True)

    assert seen == b"<closed>" or seen.startswith(b"error [Errno 104]"), seen
    assert MARKER.encode() not in seen
    assert "refused agent request from uid 65534" in log
    assert ours.returncode == 0 and ours.stdout == MARKER.encode()


PROBE = """
import json, sys
from echo_vault_app.cli.launch import main
status = main(sys.argv[1:])
heavy = ("sqlcipher3", "cryptography", "argparse", "echo_vault_app.core.vault")
print(json.dumps({"status": status, "loaded": [m for m in heavy if m in sys.modules]}),
      file=sys.stderr)
"""


def test_a_forwarded_get_loads_neither_the_database_nor_the_cryptography(vault, agent) -> None:
    _, _, keyless, _ = vault

    done = subprocess.run(
        [sys.executable, "-c", PROBE, "get", "svc/token"],
        capture_output=True, env=keyless, timeout=60, cwd=REPO,
    )  # fmt: skip

    report = json.loads(done.stderr.decode().strip().splitlines()[-1])
    assert report == {"status": 0, "loaded": []}
    assert done.stdout == MARKER.encode()
