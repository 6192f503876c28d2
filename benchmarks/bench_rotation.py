"""Data-key rotation at 100,000 secrets beside a bare ``PRAGMA rekey`` of the same file.

Uses the vault cached by ``bench_vault.py`` (run that first). Each round copies the vault to a
scratch folder, then measures on copies of the same bytes:

- bare rekey: a raw SQLCipher connection keyed with the data key runs ``PRAGMA rekey`` and a
  WAL checkpoint — the database part of a rotation and nothing else;
- rotation: ``rotate_data_key`` — pending key written, every sealed value re-sealed in batches,
  the rekey, the promotion — with the time of each step and of the longest batch (the longest
  time another caller of the same vault object can wait).

    .venv/bin/python benchmarks/bench_rotation.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlcipher3

from echo_vault_app.core import slots
from echo_vault_app.core.keyfile import KeyFile
from echo_vault_app.core.rotation import rotate_data_key
from echo_vault_app.core.vault import Vault

CACHE = Path(__file__).resolve().parent / "out" / "vault-100000"


def bare_rekey(folder: Path, data_key: bytes) -> float:
    conn = sqlcipher3.connect(str(folder / "vault.db"), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{data_key.hex()}'\"")
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    started = time.perf_counter()
    conn.execute(f"PRAGMA rekey = \"x'{os.urandom(32).hex()}'\"")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def rotation(folder: Path, master_key: str) -> dict[str, float]:
    vault = Vault.open(folder, master_key=master_key, use_keyring=False)
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        marks.append((step, time.perf_counter()))

    result = rotate_data_key(vault, progress)
    total = time.perf_counter() - started
    vault.lock()
    times = dict(marks)
    batches = [t for s, t in marks if s == "reseal"]
    gaps = [b - a for a, b in zip([times["pending-written"], *batches], batches, strict=False)]
    return {
        "total": total,
        "reseal": times["resealed"] - times["pending-written"],
        "rekey": times["rekeyed"] - times["resealed"],
        "longest_batch": max(gaps) if gaps else 0.0,
        "values": result.resealed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    meta_path = CACHE / "cache.json"
    if not meta_path.exists():
        print("run benchmarks/bench_vault.py first (it builds the 100,000-secret vault)")
        return 2
    master_key = json.loads(meta_path.read_text())["master_key"]

    bare, rot = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(dir=CACHE.parent) as scratch:
            one, two = Path(scratch) / "one", Path(scratch) / "two"
            shutil.copytree(CACHE / "vault", one)
            shutil.copytree(CACHE / "vault", two)
            keyfile = KeyFile.load(one)
            vault = Vault.open(one, master_key=master_key, use_keyring=False)
            data_key = slots.unwrap_data_key(vault._vault_key, vault.vault_id, keyfile.data_key)
            vault.lock()
            bare.append(bare_rekey(one, data_key))
            rot.append(rotation(two, master_key))

    def med(key: str) -> float:
        return statistics.median(r[key] for r in rot)

    size = (CACHE / "vault" / "vault.db").stat().st_size / 2**20
    print(f"vault.db {size:.0f} MiB, {rot[0]['values']:,} sealed values, {args.rounds} rounds")
    print("| measurement | time (median) | ratio to bare rekey | goal |")
    print("| --- | ---: | ---: | --- |")
    bare_med = statistics.median(bare)
    print(f"| bare PRAGMA rekey + checkpoint | {bare_med:.2f} s | 1.00× | baseline |")
    print(
        f"| rotation: rekey step | {med('rekey'):.2f} s | {med('rekey') / bare_med:.2f}× | ≤ 3× |"
    )
    print(f"| rotation: re-seal of every value | {med('reseal'):.2f} s | – | – |")
    print(f"| rotation: whole | {med('total'):.2f} s | {med('total') / bare_med:.2f}× | – |")
    print(f"| longest single re-seal batch | {med('longest_batch'):.2f} s | – | – |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
