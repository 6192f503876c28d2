"""Load scenario for the local REST API: concurrent clients read and write secrets over
loopback while the library writes to the same vault from another process.

    .venv/bin/python benchmarks/bench_api.py [--duration 60] [--clients 16] [--max-requests N]

Bounded in time and requests, loopback only. Prints requests per second and p50/p99 latency
for reads and writes, the error count, and checks afterwards that no write (API or library)
was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.fernet import Fernet  # noqa: E402

from echo_vault_app.auth import AuthManager  # noqa: E402
from echo_vault_app.core.vault import Vault  # noqa: E402
from echo_vault_app.secrets import SecretsManager  # noqa: E402

SEEDED = 200
WRITE_SHARE = 0.1
LIBRARY_WRITER = """
import sys, time
from echo_vault_app.core.vault import Vault
from echo_vault_app.secrets import SecretsManager
folder, key, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
manager = SecretsManager(vault=Vault.open(folder, master_key=key, use_keyring=False))
end, n = time.monotonic() + seconds, 0
while time.monotonic() < end:
    manager.store_secret(f"lib/{n % 50}", f"lib-value-{n}")
    n += 1
    time.sleep(0.02)
manager.lock()
print(n)
"""


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def client(
    index: int, port: int, key: str, deadline: float, budget: list[int], stats: dict
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(index)
    written = stats["written"]
    n = 0
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            if rng.random() < WRITE_SHARE:
                name = f"api/{index}/{n % 20}"
                value = f"v-{index}-{n}"
                body = json.dumps({"name": name, "value": value}).encode()
                head = (
                    f"POST /vault/secrets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"X-API-Key: {key}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                kind = "write"
            else:
                name = f"seed/{rng.randrange(SEEDED)}"
                head = (
                    f"GET /vault/secrets/{name} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"X-API-Key: {key}\r\n\r\n"
                ).encode()
                body = b""
                kind = "read"
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            stats[kind].append(time.perf_counter() - started)
            status = int(status_line.split()[1])
            if kind == "write" and status in (200, 201):
                written[name] = value
            elif status != 200:
                stats["errors"].append((kind, status))
            n += 1
    finally:
        writer.close()


async def drive(port: int, key: str, clients: int, seconds: float, max_requests: int) -> dict:
    stats: dict = {"read": [], "write": [], "errors": [], "written": {}}
    deadline = time.monotonic() + seconds
    budget = [max_requests]
    await asyncio.gather(*(client(i, port, key, deadline, budget, stats) for i in range(clients)))
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N (default 1)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    folder, master_key = work / "vault", Fernet.generate_key().decode()
    created = Vault.create(folder, master_key=master_key, use_keyring=False)
    manager = SecretsManager(vault=created.vault)
    for i in range(SEEDED):
        manager.store_secret(f"seed/{i}", f"seed-value-{i}")
    key = AuthManager(vault=created.vault).generate_api_key("bench", ["*"])
    manager.lock()

    env = dict(os.environ, ECHO_VAULT_PATH=str(folder), ECHO_VAULT_MASTER_KEY=master_key,
               ECHO_VAULT_NO_KEYRING="1", PYTHONPATH=str(REPO))  # fmt: skip
    log_path = work / "serve.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "echo_vault_app.cli.main", "serve", "--port", "0",
             "--workers", str(args.workers)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,
        )  # fmt: skip
    match = None
    while match is None and server.poll() is None:
        time.sleep(0.05)
        match = re.search(rb"127\.0\.0\.1:(\d+)", log_path.read_bytes())
    if match is None:
        print("server did not start:", log_path.read_text(), file=sys.stderr)
        return 1
    port = int(match.group(1))

    library = subprocess.Popen(
        [sys.executable, "-c", LIBRARY_WRITER, str(folder), master_key, str(args.duration)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.monotonic()
    stats = asyncio.run(drive(port, key, args.clients, args.duration, args.max_requests))
    elapsed = time.monotonic() - started
    library_writes = int(library.communicate(timeout=120)[0].strip() or 0)
    server.send_signal(signal.SIGINT)
    server.wait(30)

    manager = SecretsManager(vault=Vault.open(folder, master_key=master_key, use_keyring=False))
    lost = [n for n, v in stats["written"].items() if manager.get_secret(n) != v]
    lib_lost = [f"lib/{i}" for i in range(min(50, library_writes))
                if manager.get_secret(f"lib/{i}") is None]  # fmt: skip
    audit_ok = manager.audit_verify().ok
    manager.lock()

    reads, writes = stats["read"], stats["write"]
    print(f"duration {elapsed:.1f} s, {args.clients} clients, {args.workers} server workers,"
          f" {os.cpu_count()} cores")  # fmt: skip
    print(f"all requests: {(len(reads) + len(writes)) / elapsed:,.0f} req/s")
    for label, values in (("reads", reads), ("writes", writes)):
        print(
            f"{label}: {len(values):,} ({len(values) / elapsed:,.0f}/s)"
            f"  p50 {percentile(values, 0.5) * 1000:.2f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:.2f} ms"
        )
    print(f"library writes alongside: {library_writes:,}")
    print(f"errors: {len(stats['errors'])}  lost API writes: {len(lost)}"
          f"  lost library secrets: {len(lib_lost)}  audit chain intact: {audit_ok}")  # fmt: skip
    return 0 if not stats["errors"] and not lost and not lib_lost and audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
