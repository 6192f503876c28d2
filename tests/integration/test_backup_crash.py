"""An import killed with SIGKILL at random moments leaves nothing or everything.

A real child process opens the vault and imports a large backup; the parent kills it at a
random moment between start and the measured end of an undisturbed import, then reopens the
vault and checks that it holds either none of the backup's secrets or all of them with their
values and history, and that the audit chain still verifies.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager, backup_format
from tests.conftest import REPO
from tests.integration.backup_support import PASSWORD, VAULT_PASSPHRASE, new_vault

COUNT = 1000
TRIALS = 50

CHILD = """
import sys
from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
vault = Vault.open(sys.argv[1], passphrase=sys.argv[2], use_keyring=False)
SecretsManager(vault=vault).import_secrets(sys.argv[3], sys.argv[4])
print("done", flush=True)
"""


def _field(name: str, value: str) -> dict:
    return {"name": name, "secret": True, "binary": False, "value": value}


def _payload() -> dict:
    secrets = []
    for i in range(COUNT):
        history = [
            {"version": v, "saved": 1_700_000_000.0 + v, "template": "generic", "tags": ["t"],
             "notes": "", "expires": None, "fields": [_field("value", f"old-{i}-{v}")]}
            for v in (1, 2)
        ]  # fmt: skip
        secrets.append(
            {"name": f"bulk/{i:05d}", "template": "generic", "tags": ["t", f"g{i % 10}"],
             "notes": "n" * (i % 50), "created": 1_700_000_000.0, "updated": 1_700_000_003.0,
             "expires": None, "favourite": False, "version": 3,
             "fields": [_field("value", f"cur-{i}"), _field("extra", "e" * 64)],
             "history": history}
        )  # fmt: skip
    return {"format": 1, "vault_id": "x", "exported": 1_700_000_004.0, "secrets": secrets}


def _start(folder: Path, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), VAULT_PASSPHRASE, str(path), PASSWORD],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _check(folder: Path) -> str:
    vault = Vault.open(folder, passphrase=VAULT_PASSPHRASE, use_keyring=False)
    with SecretsManager(vault=vault) as manager:
        names = manager.list_secrets()
        assert manager.audit_verify().ok
        assert manager.get_secret("local") == "keep me"
        if names == ["local"]:
            return "nothing"
        assert len(names) == COUNT + 1
        for i in random.Random(len(names)).sample(range(COUNT), 20):
            secret = manager.get(f"bulk/{i:05d}")
            assert secret.values() == {"value": f"cur-{i}", "extra": "e" * 64}
            assert [h.fields[0].value for h in manager.history(f"bulk/{i:05d}")] == [
                f"old-{i}-2", f"old-{i}-1",
            ]  # fmt: skip
        return "everything"


@pytest.mark.slow
def test_import_killed_at_random_moments_is_all_or_nothing(tmp_path: Path) -> None:
    template = tmp_path / "template"
    vault = new_vault(template)
    SecretsManager(vault=vault).store_secret("local", "keep me")
    vault.lock()
    backup = tmp_path / "big.evb"
    backup_format.write_backup(backup, PASSWORD, _payload())

    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    started = time.monotonic()
    proc = _start(reference, backup)
    out, err = proc.communicate(timeout=300)
    full = time.monotonic() - started
    assert proc.returncode == 0 and out.strip() == b"done", err
    assert _check(reference) == "everything"

    rnd = random.Random(11)
    outcomes = []
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        shutil.copytree(template, folder)
        proc = _start(folder, backup)
        time.sleep(rnd.uniform(0.05, full * 1.05))
        killed = proc.poll() is None
        proc.kill()
        proc.wait()
        outcomes.append((killed, _check(folder)))

    # Most kills land while the child runs; the import itself must be all or nothing.
    assert sum(killed for killed, _ in outcomes) >= TRIALS // 2, outcomes
    assert all(outcome in ("nothing", "everything") for _, outcome in outcomes)
