"""``run`` and ``inject`` as real processes: env in the child, masked output, exit codes."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echo_vault_app.core.vault import Vault
from echo_vault_app.errors import UsageError
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.model import FieldValue
from echo_vault_app.secrets.run_inject import MASK, Masker, SecretRef, parse_ref, render_template
from tests.conftest import REPO
from tests.integration.backup_support import VAULT_PASSPHRASE, new_vault

STRIPE = "sk_test_51HabcdefGHIJKLmnop"
DB_PASS = "p@ss w0rd\nwith newline"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    vault = new_vault(tmp_path / "vault")
    manager = SecretsManager(vault=vault)
    manager.store.put("stripe", [FieldValue("api_key", STRIPE)], template="api_key")
    manager.store.put(
        "db/main",
        [FieldValue("password", DB_PASS), FieldValue("user", "app", secret=False)],
        template="basic_auth",
    )
    manager.store_secret("other/api_key", "short-but-fine")
    vault.lock()
    (tmp_path / "pp").write_text(VAULT_PASSPHRASE)
    return tmp_path / "vault"


def base_args(folder: Path) -> list[str]:
    return ["--vault", str(folder), "--passphrase-file", str(folder.parent / "pp"), "--no-keyring"]


def test_parse_ref_forms() -> None:
    assert parse_ref("stripe") == SecretRef("stripe")
    assert parse_ref("stripe#api_key") == SecretRef("stripe", "api_key")
    assert parse_ref("echo-vault://db/main#password") == SecretRef("db/main", "password")
    assert SecretRef("stripe/api_key").alternatives()[1] == SecretRef("stripe", "api_key")
    for bad in ("", "stripe#", "echo-vault://", "../x"):
        with pytest.raises(UsageError):
            parse_ref(bad)


def test_masker_catches_values_split_at_every_boundary() -> None:
    stream = f"start {STRIPE} middle {STRIPE[:5]} end {STRIPE}".encode()
    expected = stream.replace(STRIPE.encode(), MASK)
    for size in range(1, len(stream) + 1):
        masker = Masker([STRIPE])
        out = b"".join(masker.feed(stream[i : i + size]) for i in range(0, len(stream), size))
        assert out + masker.flush() == expected, size


def test_masker_holds_back_only_what_may_begin_a_value() -> None:
    masker = Masker(["secretvalue"])
    assert masker.feed(b"hello world\n") == b"hello world\n"
    assert masker.feed(b"abc secr") == b"abc "
    assert masker.feed(b"etvalue!") == MASK + b"!"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=3),
    st.binary(max_size=60),
    st.lists(st.integers(1, 7), min_size=1, max_size=30),
)
def test_masker_matches_masking_the_whole_stream(values, stream, sizes) -> None:
    ordered = sorted(set(values), key=len, reverse=True)
    pattern = re.compile(b"|".join(re.escape(v) for v in ordered))
    masker = Masker(values)
    out, position, index = b"", 0, 0
    while position < len(stream):
        size = sizes[index % len(sizes)]
        out += masker.feed(stream[position : position + size])
        position, index = position + size, index + 1
    assert out + masker.flush() == pattern.sub(lambda _m: MASK, stream)


def test_run_sets_env_masks_output_and_returns_exit_code(cli, folder) -> None:
    script = (
        "import os, sys; "
        "print('key=' + os.environ['STRIPE_KEY']); "
        "sys.stdout.write('split:' + os.environ['STRIPE_KEY'][:7]); sys.stdout.flush(); "
        "sys.stdout.write(os.environ['STRIPE_KEY'][7:] + '\\n'); "
        "print('db=' + os.environ['DB'], file=sys.stderr); "
        "print('user=' + os.environ['DB_USER']); sys.exit(7)"
    )
    result = cli(
        *base_args(folder), "run", "--env", "STRIPE_KEY=stripe#api_key",
        "--env", "DB=echo-vault://db/main#password", "--env", "DB_USER=db/main#user",
        "--", sys.executable, "-c", script,
    )  # fmt: skip
    assert result.returncode == 7
    assert STRIPE not in result.stdout and DB_PASS not in result.stderr
    assert "key=<concealed by echo-vault>" in result.stdout
    assert "split:<concealed by echo-vault>" in result.stdout
    assert "db=<concealed by echo-vault>" in result.stderr
    assert "user=<concealed by echo-vault>" in result.stdout  # every injected value is masked

    plain = cli(
        *base_args(folder), "run", "--no-masking", "--env", "K=stripe#api_key", "--",
        sys.executable, "-c", "import os; print(os.environ['K'])",
    )  # fmt: skip
    assert plain.returncode == 0 and plain.stdout.strip() == STRIPE


def test_run_audits_each_read(cli, folder) -> None:
    cli(*base_args(folder), "run", "--env", "A=stripe", "--env", "B=other/api_key", "--", "true")
    vault = Vault.open(folder, passphrase=VAULT_PASSPHRASE, use_keyring=False)
    with SecretsManager(vault=vault) as manager:
        reads = [e for e in manager.audit_events(action="read") if e.detail.get("via") == "run"]
        assert [(e.target, e.detail["field"]) for e in reads] == [
            ("stripe", "api_key"), ("other/api_key", "value"),
        ]  # fmt: skip
        assert reads[0].value_hash == manager.vault.audit.value_hash(STRIPE)


def test_value_is_not_in_the_child_argv(folder, tmp_path) -> None:
    marker = tmp_path / "pid"
    script = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    proc = subprocess.Popen(
        [sys.executable, "-m", "echo_vault_app.cli.main", *base_args(folder), "run",
         "--env", "K=stripe#api_key", "--", sys.executable, "-c", script],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(marker.read_text())
        assert STRIPE.encode() not in Path(f"/proc/{child}/cmdline").read_bytes()
        assert STRIPE.encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert f"K={STRIPE}".encode() in Path(f"/proc/{child}/environ").read_bytes()

        # SIGTERM to echo-vault-cli reaches the child; its status comes back shell-style.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 128 + signal.SIGTERM
        assert not Path(f"/proc/{child}").exists() or _is_zombie(child)
    finally:
        if proc.poll() is None:
            proc.kill()


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_run_errors(cli, folder) -> None:
    missing = cli(*base_args(folder), "run", "--env", "K=nope", "--", "true")
    assert missing.returncode == 6 and "nope" in missing.stderr
    no_field = cli(*base_args(folder), "run", "--env", "K=stripe#nofield", "--", "true")
    assert no_field.returncode == 6
    bad_env = cli(*base_args(folder), "run", "--env", "1K=stripe", "--", "true")
    assert bad_env.returncode == 2
    no_cmd = cli(*base_args(folder), "run", "--env", "K=stripe", "--", "no-such-command-xyz")
    assert no_cmd.returncode == 2 and "command not found" in no_cmd.stderr


TEMPLATE = """\
stripe: {{ echo-vault://stripe#api_key }}
db: {{echo-vault://db/main#password}}
fallback: {{   echo-vault://other/api_key   }}
path-form: {{ echo-vault://stripe/api_key }}
untouched: {{ not-a-ref }} and { echo-vault://stripe }
"""


def test_inject_round_trip(cli, folder, tmp_path) -> None:
    result = cli(*base_args(folder), "inject", input=TEMPLATE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"stripe: {STRIPE}\ndb: {DB_PASS}\nfallback: short-but-fine\npath-form: {STRIPE}\n"
        "untouched: {{ not-a-ref }} and { echo-vault://stripe }\n"
    )

    out = tmp_path / "config.yaml"
    written = cli(*base_args(folder), "inject", "-o", str(out), input=TEMPLATE)
    assert written.returncode == 0 and written.stdout == ""
    assert out.read_text() == result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = cli(*base_args(folder), "inject", "-o", str(out), input="x")
    assert again.returncode == 7 and out.read_text() == result.stdout
    assert cli(*base_args(folder), "inject", "-o", str(out), "--force", input="x").returncode == 0
    assert out.read_text() == "x"


def test_inject_unknown_ref_writes_nothing(cli, folder, tmp_path) -> None:
    text = "a: {{ echo-vault://stripe#api_key }}\nb: {{ echo-vault://missing#x }}\n"
    result = cli(*base_args(folder), "inject", input=text)
    assert result.returncode == 6 and result.stdout == ""
    assert "missing" in result.stderr and STRIPE not in result.stderr
    out = tmp_path / "never.txt"
    assert cli(*base_args(folder), "inject", "-o", str(out), input=text).returncode == 6
    assert not out.exists()


def test_render_template_resolves_everything_before_returning() -> None:
    calls: list[SecretRef] = []

    def resolve(ref: SecretRef) -> str:
        calls.append(ref)
        return "V"

    text = "{{echo-vault://a}} {{ echo-vault://a }} {{ echo-vault://b#f }}"
    assert render_template(text, resolve) == "V V V"
    assert calls == [SecretRef("a"), SecretRef("b", "f")]


def test_environment_of_test_process_is_untouched() -> None:
    assert "STRIPE_KEY" not in os.environ
