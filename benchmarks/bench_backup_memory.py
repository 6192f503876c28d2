"""Peak memory of a backup export, preview and import at 100,000 secrets, beside its floor.

    python benchmarks/bench_backup_memory.py [--count 100000]

Each operation runs in a fresh process on a copy of the cached GUI benchmark vault (built by
``bench_gui.py`` on first use), with the main connection's page cache capped at 13 MiB as the
desktop app caps it, and reports the process's peak RSS (``ru_maxrss``). The baseline, in the
same run, is a process that opens the same vault and does what the operation must do whatever
the vault's size: run one Argon2id derivation at the backup floor (64 MiB) and, for an export,
check the new password's strength first (``zxcvbn``'s dictionaries). What an operation adds
above that floor is what it holds of the secrets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "correct horse battery staple, benchmark edition"
KEY_VARIABLE = "BENCH_VAULT_KEY"  # the vault's key reaches the child here, never in argv


def child(operation: str, folder: Path, backup_file: Path) -> None:
    from echo_vault_app.core.vault import Vault
    from echo_vault_app.secrets import backup, backup_format

    vault = Vault.open(folder, master_key=os.environ.pop(KEY_VARIABLE), use_keyring=False)
    vault.limit_page_cache(13)
    opened = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if operation.startswith("floor"):
        if operation == "floor-export":  # an export checks the password's strength first
            backup_format.check_backup_password(PASSWORD)
        backup_format.derive_master_key(PASSWORD.encode(), backup_format.KdfParams(), bytes(16))
    elif operation == "export":
        backup.export_backup(vault, backup_file, PASSWORD, force=True)
    elif operation == "preview":
        backup.preview_import(vault, backup_file, PASSWORD, "merge")
    elif operation == "import":
        backup.import_backup(vault, backup_file, PASSWORD, "merge")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"opened_mib": opened, "peak_mib": peak, "seconds": seconds}))


def run(operation: str, folder: Path, key: str, backup_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["ECHO_VAULT_NO_KEYRING"] = "1"
    env[KEY_VARIABLE] = key
    done = subprocess.run(
        [sys.executable, __file__, "child", operation, str(folder), str(backup_file)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_gui import vault_path

    cached, key = vault_path(args.count)
    work = Path(tempfile.mkdtemp(prefix="bench-backup-memory-"))
    try:
        folder = work / "vault"
        shutil.copytree(cached, folder)
        backup_file = work / "all.evb"
        floors = {
            name: run(f"floor-{name}", folder, key, backup_file) for name in ("export", "import")
        }
        print(f"{args.count:,} secrets; peak RSS per process (MiB), seconds for the operation")
        print(
            f"  export's floor (open, zxcvbn, one Argon2id): {floors['export']['peak_mib']:.0f} MiB"
        )
        print(f"  import's floor (open, one Argon2id): {floors['import']['peak_mib']:.0f} MiB")
        for operation in ("export", "preview", "import"):
            got = run(operation, folder, key, backup_file)
            floor = floors["export" if operation == "export" else "import"]
            above = got["peak_mib"] - floor["peak_mib"]
            print(
                f"  {operation}: {got['peak_mib']:.0f} MiB ({above:+.0f} over the floor; vault"
                f" opened at {got['opened_mib']:.0f}), {got['seconds']:.1f} s"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
