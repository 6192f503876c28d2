"""Encrypted backup export and import at 100,000 secrets with history, beside baselines.

How the source vault is built: a payload of ``--count`` secrets (two fields each, one of them
binary every tenth secret, and two history versions) is synthesised, sealed into a backup file
and imported into an empty vault with ``import_backup`` — one transaction through the same
SecretStore sealing as every write — which is also the first import measured. Then:

- export: ``export_backup`` of the whole vault (snapshot read, decrypt, JSON, Argon2id, seal);
- import: that file into a second empty vault; the two vaults are compared field by field
  (current fields, metadata and every history entry) to prove the round trip lossless.

Baselines measured in the same run on the same data: ``json.dumps`` + one-shot AES-256-GCM of
the payload (and the reverse), a checkpointed, fsynced copy of the
encrypted vault database file (what a file-level backup costs), and
one Argon2id derivation at the backup floor (paid once per export and import).

Run: ``.venv/bin/python benchmarks/bench_backup.py [--count 100000]``; results go to
``benchmarks/out/backup-results.json`` and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from echo_vault_app.core import storage  # noqa: E402
from echo_vault_app.core.vault import Vault  # noqa: E402
from echo_vault_app.secrets import backup_format  # noqa: E402
from echo_vault_app.secrets.backup import export_backup, import_backup  # noqa: E402
from tests.integration.backup_support import snapshot  # noqa: E402

PASSWORD = "tangerine-Orbit-41-lighthouse"
PASSPHRASE = "correct horse battery staple benchmark"


def field(name: str, value: str | bytes, secret: bool = True) -> dict:
    if isinstance(value, bytes):
        return {"name": name, "secret": secret, "binary": True,
                "value": base64.b64encode(value).decode()}  # fmt: skip
    return {"name": name, "secret": secret, "binary": False, "value": value}


def payload(count: int) -> dict:
    secrets = []
    for i in range(count):
        current = [field("api_key", f"sk_live_{i:06d}_{os.urandom(12).hex()}"),
                   field("account", f"acct_{i:06d}", secret=False)]  # fmt: skip
        if i % 10 == 0:
            current.append(field("cert", os.urandom(64)))
        history = [
            {"version": v, "saved": 1_700_000_000.0 + i + v, "template": "api_key",
             "tags": ["bench", f"team{i % 20}"], "notes": "", "expires": None,
             "fields": [field("api_key", f"sk_live_{i:06d}_old{v}_{os.urandom(8).hex()}")]}
            for v in (1, 2)
        ]  # fmt: skip
        secrets.append(
            {"name": f"team{i % 20}/svc{i:06d}/api_key", "template": "api_key",
             "tags": ["bench", f"team{i % 20}"], "notes": f"owner {i % 97}",
             "created": 1_700_000_000.0 + i, "updated": 1_700_000_003.0 + i,
             "expires": None, "favourite": i % 50 == 0, "version": 3, "fields": current,
             "history": history}
        )  # fmt: skip
    return {"format": 1, "vault_id": "bench", "exported": time.time(), "secrets": secrets}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def new_vault(folder: Path) -> Vault:
    return Vault.create(folder, passphrase=PASSPHRASE, use_keyring=False, kdf_seconds=0).vault


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    results: dict[str, float | int | str] = {"count": args.count, "machine": platform.machine(),
                                              "python": platform.python_version()}  # fmt: skip
    try:
        doc = payload(args.count)
        seed = work / "seed.evb"
        results["container_write_s"], _ = timed(
            lambda: backup_format.write_backup(seed, PASSWORD, doc)
        )

        # Baselines on the same payload.
        key = AESGCM.generate_key(256)
        nonce = os.urandom(12)
        t_dumps, text = timed(lambda: json.dumps(doc, separators=(",", ":")).encode())
        t_seal, sealed = timed(lambda: AESGCM(key).encrypt(nonce, text, None))
        t_open, plain = timed(lambda: AESGCM(key).decrypt(nonce, sealed, None))
        t_loads, _ = timed(lambda: json.loads(plain))
        results["baseline_export_s"] = t_dumps + t_seal
        results["baseline_import_s"] = t_open + t_loads
        results["payload_mb"] = len(text) / 1e6
        text = sealed = plain = b""  # free the memory before the vault work
        t_kdf, _ = timed(
            lambda: backup_format.derive_master_key(b"x", backup_format.KdfParams(), b"s" * 16)
        )
        results["argon2id_s"] = t_kdf

        source = new_vault(work / "a")
        results["import_build_s"], _ = timed(lambda: import_backup(source, seed, PASSWORD))
        doc = {}

        out = work / "export.evb"
        results["export_s"], _ = timed(lambda: export_backup(source, out, PASSWORD))
        results["backup_mb"] = out.stat().st_size / 1e6

        db_copy = work / "copy.db"

        def file_copy() -> None:
            with source.read() as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                shutil.copyfile(work / "a" / storage.DB_NAME, db_copy)
            with open(db_copy, "rb+") as fh:
                os.fsync(fh.fileno())

        results["db_file_copy_s"], _ = timed(file_copy)
        results["db_mb"] = (work / "a" / storage.DB_NAME).stat().st_size / 1e6

        target = new_vault(work / "b")
        results["import_s"], _ = timed(lambda: import_backup(target, out, PASSWORD))
        t_cmp, same = timed(lambda: snapshot(source) == snapshot(target))
        results["lossless"] = "yes" if same else "NO"
        results["compare_s"] = t_cmp
        source.lock()
        target.lock()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    results["export_mb_s"] = results["backup_mb"] / results["export_s"]
    results["import_mb_s"] = results["backup_mb"] / results["import_s"]
    results["export_vs_baseline"] = results["export_s"] / results["baseline_export_s"]
    results["import_vs_baseline"] = results["import_s"] / results["baseline_import_s"]
    results["export_vs_db_file_copy"] = results["export_s"] / results["db_file_copy_s"]
    out_dir = ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "backup-results.json").write_text(json.dumps(results, indent=2) + "\n")
    for key_name, value in results.items():
        shown = f"{value:.2f}" if isinstance(value, float) else value
        print(f"| {key_name} | {shown} |")


if __name__ == "__main__":
    main()
