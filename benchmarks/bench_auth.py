"""Auth throughput: API-key verification with 10,000 stored keys, JWT issue/verify vs bare PyJWT.

Run: ``.venv/bin/python benchmarks/bench_auth.py`` (about half a minute). The API keys are
stored in a real vault (SQLCipher, created in a temporary folder with a random master key);
verification then runs from the in-memory index as it does in the product. JWTs use the same
key object for Echo Vault and for bare PyJWT (``jwt.encode`` / ``jwt.decode`` requiring
``exp``), in the same process, interleaved in rounds so machine noise hits both alike.
Goals: ≥ 100,000 API-key verifications/s; each JWT figure within 1.2× of bare PyJWT.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from echo_vault_app.auth import AuthManager  # noqa: E402
from echo_vault_app.core.vault import Vault  # noqa: E402


def _rate(fn, seconds: float, batch: int = 1000) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (``batch`` calls between clock reads)."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def _best(fn, seconds: float, rounds: int) -> float:
    return max(_rate(fn, seconds / rounds, batch=1) for _ in range(rounds))


def bench_api_keys(auth: AuthManager, keys: int, seconds: float) -> list[tuple[str, float, str]]:
    start = time.perf_counter()
    issued = [
        auth.generate_api_key(user_id=f"user{i}@example.com", permissions=["read"])
        for i in range(keys)
    ]
    create_rate = keys / (time.perf_counter() - start)
    sample = random.Random(7).choices(issued, k=1000)
    check = auth.check_api_key
    assert all(check(key).ok for key in sample)

    def verify_batch() -> None:
        for key in sample:
            check(key)

    rate = _best(verify_batch, seconds, 3) * len(sample)
    return [
        (f"API key create (vault, {keys:,} keys)", create_rate, ""),
        (f"API key verify ({keys:,} stored)", rate, "goal ≥ 100,000/s"),
    ]


def bench_jwt(auth: AuthManager, alg: str, seconds: float) -> list[tuple[str, float, str]]:
    auth.create_jwt_token(user_id="warm-up", algorithm=alg)
    key = auth.keys.signer(alg)
    token = auth.create_jwt_token(
        user_id="user@example.com",
        permissions=["read", "write"],
        custom_claims={"org_id": "123"},
        algorithm=alg,
    )
    claims = jwt.decode(token, key.public, algorithms=[alg], options={"verify_signature": False})
    bare_token = jwt.encode(claims, key.private, algorithm=alg, headers={"kid": key.kid})

    def ours_issue() -> None:
        auth.create_jwt_token(
            user_id="user@example.com",
            permissions=["read", "write"],
            custom_claims={"org_id": "123"},
            algorithm=alg,
        )

    def bare_issue() -> None:
        now = int(time.time())
        jwt.encode(
            {
                "sub": "user@example.com",
                "permissions": ["read", "write"],
                "org_id": "123",
                "iat": now,
                "nbf": now,
                "exp": now + 86400,
                "jti": base64.urlsafe_b64encode(os.urandom(16)).decode(),
            },
            key.private,
            algorithm=alg,
            headers={"kid": key.kid},
        )

    def ours_verify() -> None:
        auth.decode_jwt_token(token)

    def bare_verify() -> None:
        jwt.decode(bare_token, key.public, algorithms=[alg], options={"require": ["exp"]})

    rows = []
    for what, ours, bare in (
        ("issue", ours_issue, bare_issue),
        ("verify", ours_verify, bare_verify),
    ):
        ours_rate = bare_rate = 0.0
        for _ in range(3):  # interleave so noise hits both alike; keep the best of each
            ours_rate = max(ours_rate, _rate(ours, seconds / 6))
            bare_rate = max(bare_rate, _rate(bare, seconds / 6))
        ratio = bare_rate / ours_rate
        verdict = "ok" if ratio <= 1.2 else "SLOWER than goal"
        rows.append(
            (f"JWT {alg} {what} (Echo Vault)", ours_rate, f"{ratio:.2f}× PyJWT time, {verdict}")
        )
        rows.append((f"JWT {alg} {what} (bare PyJWT)", bare_rate, ""))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        master = base64.urlsafe_b64encode(os.urandom(32)).decode()
        vault = Vault.create(Path(folder) / "vault", master_key=master, use_keyring=False).vault
        try:
            auth = AuthManager(vault=vault)
            rows = bench_api_keys(auth, args.keys, args.seconds)
            for alg in ("HS256", "EdDSA"):
                rows += bench_jwt(auth, alg, args.seconds)
        finally:
            vault.lock()

    width = max(len(r[0]) for r in rows)
    print(f"{'scenario':<{width}}  {'per second':>12}  note")
    for name, rate, note in rows:
        print(f"{name:<{width}}  {rate:>12,.0f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
