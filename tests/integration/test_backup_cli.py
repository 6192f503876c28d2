"""``echo-vault-cli export`` and ``import`` as a script would run them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
from echo_vault_app.secrets.importers import parse_file
from echo_vault_app.secrets.model import FieldValue
from tests.integration.backup_support import PASSWORD, VAULT_PASSPHRASE, new_vault


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    vault = new_vault(tmp_path / "vault")
    manager = SecretsManager(vault=vault)
    manager.store_secret("stripe/api-key", "sk_test_abc", tags=["pay"])
    manager.store_secret("db", "pa ss'word\nline2", tags=["db"])
    manager.store.put("raw", [FieldValue("k", b"\x00\xff")], template="generic", tags=["pay"])
    vault.lock()
    (tmp_path / "pp").write_text(VAULT_PASSPHRASE)
    (tmp_path / "bp").write_text(PASSWORD + "\n")
    (tmp_path / "weak").write_text("password1234\n")
    return tmp_path / "vault"


def args(folder: Path, *rest: str) -> list[str]:
    return ["--vault", str(folder), "--passphrase-file", str(folder.parent / "pp"),
            "--no-keyring", *rest]  # fmt: skip


def test_export_and_import_round_trip(cli, folder, tmp_path) -> None:
    out = tmp_path / "b.evb"
    result = cli(*args(folder, "export", str(out), "--password-file", str(tmp_path / "bp")))
    assert result.returncode == 0, result.stderr
    assert "3 secrets" in result.stderr and stat.S_IMODE(out.stat().st_mode) == 0o600

    other = tmp_path / "other"
    new_vault(other).lock()
    imported = cli(*args(other, "import", str(out), "--password-file", str(tmp_path / "bp"),
                         "--json"))  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert sorted(json.loads(imported.stdout)["added"]) == ["db", "raw", "stripe/api-key"]
    with SecretsManager(vault=Vault.open(other, passphrase=VAULT_PASSPHRASE)) as manager:
        assert manager.get("raw").fields[0].value == b"\x00\xff"

    preview = cli(*args(other, "import", str(out), "--password-file", str(tmp_path / "bp"),
                        "--preview", "--mode", "replace-all"))  # fmt: skip
    assert preview.returncode == 0 and "would import: 0 added" in preview.stderr


def test_weak_password_wrong_password_and_no_terminal(cli, folder, tmp_path) -> None:
    out = tmp_path / "b.evb"
    weak = cli(*args(folder, "export", str(out), "--password-file", str(tmp_path / "weak")))
    assert weak.returncode == 2 and "too easy to guess" in weak.stderr and not out.exists()
    prompt = cli(*args(folder, "export", str(out)))
    assert prompt.returncode == 2 and "--password-file" in prompt.stderr

    cli(*args(folder, "export", str(out), "--password-file", str(tmp_path / "bp")))
    (tmp_path / "wrong").write_text("another-Strong-pass-99\n")
    wrong = cli(*args(folder, "import", str(out), "--password-file", str(tmp_path / "wrong")))
    assert wrong.returncode == 3 and "wrong backup password" in wrong.stderr
    assert wrong.stderr.count("\n") == 1
    exists = cli(*args(folder, "export", str(out), "--password-file", str(tmp_path / "bp")))
    assert exists.returncode == 7


def test_dotenv_export_warns_is_private_and_reads_back(cli, folder, tmp_path) -> None:
    out = tmp_path / "out.env"
    result = cli(*args(folder, "export", str(out), "--format", "dotenv", "--tag", "pay"))
    assert result.returncode == 0, result.stderr
    assert "PLAINTEXT" in result.stderr and "not exported (binary value): raw#k" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == "STRIPE_API_KEY=sk_test_abc\n"

    everything = cli(*args(folder, "export", str(out), "--format", "dotenv", "--force"))
    assert everything.returncode == 0
    entry = parse_file("dotenv", out).entries[0]
    assert {f.name: f.value for f in entry.fields} == {
        "DB": "pa ss'word\nline2",
        "STRIPE_API_KEY": "sk_test_abc",
    }

    link = tmp_path / "link.env"
    link.symlink_to(tmp_path / "target.env")
    refused = cli(*args(folder, "export", str(link), "--format", "dotenv", "--force"))
    assert refused.returncode == 2 and "symbolic link" in refused.stderr
    assert not (tmp_path / "target.env").exists()
