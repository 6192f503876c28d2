"""Measure a frozen build: its size, and how long both programs take to start.

    .venv/bin/python packaging/measure_startup.py dist/echo-vault [--runs 5]

The CLI is timed from exec to exit of ``echo-vault-cli --version``. The desktop app is timed
from exec to the log line that says the vault was unlocked, which comes after the window was
built and shown (offscreen, opening a headless vault with ``ECHO_VAULT_MASTER_KEY``), then
it is terminated. The first run of each is reported apart from the median of the rest; the first
is only as cold as the page cache allows (dropping caches needs root and disturbs others).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def time_cli(dist: Path) -> float:
    started = time.perf_counter()
    subprocess.run([dist / "echo-vault-cli", "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def time_gui(dist: Path, env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen([dist / "echo-vault"], env=env, stdout=sink, stderr=sink)
    try:
        while b"unlocked vault" not in log.read_bytes():
            if process.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError(f"the app did not unlock: {log.read_text()}")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the one-folder build, e.g. dist/echo-vault")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        key = Fernet.generate_key().decode()
        env = dict(os.environ, ECHO_VAULT_PATH=f"{scratch}/vault", ECHO_VAULT_MASTER_KEY=key)
        env.update(ECHO_VAULT_NO_KEYRING="1", QT_QPA_PLATFORM="offscreen")
        env["ECHO_VAULT_LOG_LEVEL"] = "INFO"
        cli = [time_cli(args.dist) for _ in range(args.runs)]
        subprocess.run(
            [args.dist / "echo-vault-cli", "init"], env=env, check=True, capture_output=True
        )
        gui = [time_gui(args.dist, env, Path(scratch) / "gui.log") for _ in range(args.runs)]

    size = folder_size(args.dist)
    print(f"size: {size / 1e6:.1f} MB in {sum(1 for _ in args.dist.rglob('*'))} entries")
    for name, times in (("cli --version", cli), ("gui to unlocked window", gui)):
        rest = statistics.median(times[1:]) if len(times) > 1 else times[0]
        print(f"{name}: first {times[0] * 1000:.0f} ms, median of the rest {rest * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
