"""Echo Vault at 100,000 secrets, beside the same SQL on an unkeyed database.

The baseline is an unkeyed database opened by the same ``sqlcipher3`` build, with the same
schema (the vault's own migrations) and the same PRAGMAs minus the key, so every ratio isolates
what encryption and the library add. The standard library's ``sqlite3`` would be an unfair
baseline: it links an older SQLite. Where ``keepassxc-cli`` and ``echo-vault-cli`` are both
installed, the same entries are also timed end to end against KeePassXC.

Run: ``.venv/bin/python benchmarks/bench_vault.py [--count 100000] [--fresh]``. The vault and
the baseline are cached under ``benchmarks/out/`` with the bulk-create timings taken while they
were built; ``--fresh`` rebuilds both and measures bulk create again. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import string
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlcipher3  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from echo_vault_app import config  # noqa: E402
from echo_vault_app.core import crypto, slots, storage  # noqa: E402
from echo_vault_app.core.keyfile import KeyFile  # noqa: E402
from echo_vault_app.core.schema import SCHEMA_VERSION  # noqa: E402
from echo_vault_app.core.unlock import UnlockRequest, recover_vault_key  # noqa: E402
from echo_vault_app.core.vault import Vault  # noqa: E402
from echo_vault_app.secrets import SecretsManager  # noqa: E402
from echo_vault_app.secrets.model import FieldValue  # noqa: E402
from echo_vault_app.secrets.search import compile_query  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
CACHE_FORMAT = 1
CHUNK = 1000
PASSPHRASE = "correct horse battery staple benchmark"
TEAMS = (
    "payments", "search", "identity", "billing", "ml", "infra", "data", "mobile", "web", "growth",
    "platform", "security", "ops", "support", "ads", "maps", "media", "mail", "chat", "edge",
)  # fmt: skip
KINDS = ("api_key", "db_password", "webhook_secret", "oauth_token")
ENVS = ("prod", "staging", "dev")

# The statements SecretStore.put, SecretStore.get and the audit trail issue, in their order
# (read from a statement trace of the library); the baseline replays exactly these.
SUMMARY = (
    "s.id, s.name, s.template, s.tags, s.created, s.updated, s.expires, s.version,"
    " s.favourite, s.deleted"
)
SQL_DEPTH = "SELECT value FROM meta WHERE key = 'history_depth'"
SQL_FIND = (
    f"SELECT {SUMMARY}, s.notes FROM secrets s WHERE s.name = ? COLLATE NOCASE"
    " AND s.deleted IS NULL"
)
SQL_FIND_ONE = (
    f"SELECT {SUMMARY}, s.notes FROM secrets s WHERE s.name = ? COLLATE NOCASE"
    " AND s.deleted IS NULL ORDER BY s.deleted DESC LIMIT 1"
)
SQL_INSERT_SECRET = (
    "INSERT INTO secrets (name, template, tags, notes, created, updated, expires, version,"
    " favourite) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)"
)
SQL_INSERT_FIELD = (
    "INSERT INTO secret_fields (secret_id, position, name, is_secret, is_binary, value)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
SQL_DELETE_TAGS = "DELETE FROM secret_tags WHERE secret_id = ?"
SQL_INSERT_TAG = "INSERT OR IGNORE INTO secret_tags (tag, secret_id) VALUES (?, ?)"
SQL_INDEX_META = "SELECT name, tags, notes, template FROM secrets WHERE id = ?"
SQL_INDEX_PLAIN = (
    "SELECT name, value FROM secret_fields WHERE secret_id = ? AND is_secret = 0"
    " AND is_binary = 0 ORDER BY position"
)
SQL_DELETE_FTS = "DELETE FROM secrets_fts WHERE rowid = ?"
SQL_INSERT_FTS = (
    "INSERT INTO secrets_fts (rowid, name, tags, notes, fields, type) VALUES (?, ?, ?, ?, ?, ?)"
)
SQL_ANCHOR = "SELECT last_seq, last_mac FROM audit_anchor"
SQL_AUDIT = (
    "INSERT INTO audit_log (seq, ts, actor, action, target, outcome, detail, value_hash, mac)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SQL_UPSERT_ANCHOR = (
    "INSERT INTO audit_anchor (id, last_seq, last_mac) VALUES (1, ?, ?) ON CONFLICT (id)"
    " DO UPDATE SET last_seq = excluded.last_seq, last_mac = excluded.last_mac"
)
SQL_FIELDS = (
    "SELECT name, is_secret, is_binary, value FROM secret_fields WHERE secret_id = ?"
    " ORDER BY position"
)
SQL_LIST = "SELECT s.name FROM secrets s WHERE s.deleted IS NULL ORDER BY s.name COLLATE NOCASE"


# -- data ----------------------------------------------------------------------------------------


def secret_name(i: int) -> str:
    return f"{TEAMS[i % len(TEAMS)]}/service-{i:06d}/{KINDS[(i // len(TEAMS)) % len(KINDS)]}"


def make_record(i: int, rng: random.Random, seal_overhead: int = 0) -> dict:
    """One secret: plaintext for the library, and pre-built SQL parameters for the replays.

    ``rng`` drives only what must be reproducible (names and values); the stand-ins for sealed
    blobs and MACs are random bytes of the lengths the library writes.
    """
    team = TEAMS[i % len(TEAMS)]
    value = "sk_live_" + "".join(rng.choices(string.ascii_letters + string.digits, k=32))
    fields = [
        ("account", f"svc-{team}-{i:06d}", False),
        ("service", team, False),
        ("url", f"https://{team}.example.com/v{i % 3 + 1}/service-{i:06d}", False),
        ("api_key", value, True),
    ]
    tags = [team, ENVS[i % len(ENVS)]] + (["rotating"] if i % 7 == 0 else [])
    blobs = [os.urandom(len(v) + seal_overhead) if s else v.encode() for _, v, s in fields]
    return {
        "name": secret_name(i),
        "fields": fields,
        "blobs": blobs,
        "tags": tags,
        "notes": f"owner: {team}-oncall" if i % 10 == 0 else "",
        "mac": os.urandom(32),
        "value_hash": os.urandom(32).hex(),
    }


def expected_values(count: int, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    return {
        rec["name"]: rec["fields"][-1][1] for rec in (make_record(i, rng) for i in range(count))
    }


def library_fields(rec: dict) -> list[FieldValue]:
    return [FieldValue(n, v, s) for n, v, s in rec["fields"]]


# -- the baseline's statements -------------------------------------------------------------------


def replay_put(conn: sqlcipher3.Connection, rec: dict, own_txn: bool = True) -> None:
    """The statements of SecretStore.put for a new secret, with pre-sealed values.

    With ``own_txn`` false the caller batches many secrets into one transaction, which is what
    a bulk import could do and SecretStore does not offer.
    """
    now = time.time()
    conn.execute(SQL_DEPTH).fetchone()
    if own_txn:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute(SQL_FIND, (rec["name"],)).fetchone()
    tags = json.dumps(rec["tags"])
    sid = conn.execute(
        SQL_INSERT_SECRET, (rec["name"], "api_key", tags, rec["notes"], now, now, None, 0)
    ).lastrowid
    conn.executemany(
        SQL_INSERT_FIELD,
        [
            (sid, pos, name, int(secret), 0, blob)
            for pos, ((name, _, secret), blob) in enumerate(
                zip(rec["fields"], rec["blobs"], strict=True)
            )
        ],
    )
    conn.execute(SQL_DELETE_TAGS, (sid,))
    conn.executemany(SQL_INSERT_TAG, [(tag, sid) for tag in rec["tags"]])
    name, tags, notes, template = conn.execute(SQL_INDEX_META, (sid,)).fetchone()
    plain = [f"{n} {bytes(v).decode()}" for n, v in conn.execute(SQL_INDEX_PLAIN, (sid,))]
    conn.execute(SQL_DELETE_FTS, (sid,))
    conn.execute(
        SQL_INSERT_FTS, (sid, name, " ".join(json.loads(tags)), notes, "\n".join(plain), template)
    )
    detail = json.dumps({"fields": [f[0] for f in rec["fields"]], "version": 1}, sort_keys=True)
    replay_audit(conn, "write", rec, detail, now)
    if own_txn:
        conn.execute("COMMIT")


def replay_audit(conn: sqlcipher3.Connection, action: str, rec: dict, detail: str, now: float):
    anchor = conn.execute(SQL_ANCHOR).fetchone()
    seq = (anchor[0] if anchor else 0) + 1
    conn.execute(
        SQL_AUDIT,
        (seq, now, "lib:bench", action, rec["name"], "ok", detail, rec["value_hash"], rec["mac"]),
    )
    conn.execute(SQL_UPSERT_ANCHOR, (seq, rec["mac"]))


def lookup_statements(conn: sqlcipher3.Connection, name: str) -> None:
    row = conn.execute(SQL_FIND_ONE, (name,)).fetchone()
    conn.execute(SQL_FIELDS, (row[0],)).fetchall()


def replay_get(conn: sqlcipher3.Connection, rec: dict) -> None:
    """The statements of SecretStore.get: read in a write transaction, then the audit row."""
    conn.execute("BEGIN IMMEDIATE")
    lookup_statements(conn, rec["name"])
    replay_audit(conn, "read", rec, '{"field": "api_key"}', time.time())
    conn.execute("COMMIT")


def open_plain(path: Path) -> sqlcipher3.Connection:
    """The baseline connection: same library, same PRAGMAs as storage.connect, no key."""
    conn = sqlcipher3.connect(
        f"file:{path}?mode=rwc", uri=True, isolation_level=None, check_same_thread=False
    )
    storage._configure(conn, path)  # the vault's own PRAGMA list, so nothing differs but the key
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


def create_plain(path: Path) -> sqlcipher3.Connection:
    conn = open_plain(path)
    storage.migrate(conn)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('vault_id', 'x'), ('stable_root', ?)", (b"r" * 32,)
    )
    return conn


# -- measuring -----------------------------------------------------------------------------------


def clock(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def spread(xs: list[float]) -> float:
    """(max - min) / median: how much the shared machine moved the samples."""
    return (max(xs) - min(xs)) / median(xs) if xs else 0.0


class Results:
    """Rows of the results table; ``kind`` says how the goal is read."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(
        self,
        row: str,
        base: float | None,
        vault: float | None,
        goal: str,
        limit: float | None = None,
        *,
        kind: str = "ratio",
        note: str = "",
    ) -> None:
        """kind: "ratio" (vault/base ≤ limit), "absolute" (vault ≤ limit seconds) or "speedup"
        (base/vault ≥ limit, the baseline being the other tool)."""
        ratio = None
        if base and vault:
            ratio = base / vault if kind == "speedup" else vault / base
        if limit is None or vault is None:
            met = "-"
        elif kind == "absolute":
            met = "yes" if vault <= limit else "NO"
        elif kind == "speedup":
            met = "yes" if ratio >= limit else "NO"
        else:
            met = "yes" if ratio <= limit else "NO"
        self.rows.append(
            dict(
                row=row,
                baseline=base,
                vault=vault,
                ratio=ratio,
                goal=goal,
                met=met,
                kind=kind,
                note=note,
            )
        )
        shown = "-" if ratio is None else f"{ratio:.2f}×" + (" faster" if kind == "speedup" else "")
        print(f"  {row}: {fmt(base)} | {fmt(vault)} | {shown} | {goal} | {met}", flush=True)

    def table(self) -> str:
        lines = [
            "| measurement | baseline | vault | ratio | goal | met? | notes |",
            "| --- | ---: | ---: | ---: | --- | --- | --- |",
        ]
        for r in self.rows:
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}×"
            if r["kind"] == "speedup" and r["ratio"] is not None:
                ratio += " faster"
            lines.append(
                f"| {r['row']} | {fmt(r['baseline'])} | {fmt(r['vault'])} | {ratio} | {r['goal']}"
                f" | {r['met']} | {r['note']} |"
            )
        return "\n".join(lines)


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.2f} ms" if seconds < 10 else f"{seconds:.1f} s"


# -- building the databases ----------------------------------------------------------------------


def _keyed_raw(path: Path) -> sqlcipher3.Connection:
    conn = storage.connect(path, crypto.random_key(), create=True)
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('vault_id', 'x'), ('stable_root', ?)", (b"r" * 32,)
    )
    return conn


def build(count: int, seed: int, folder: Path) -> dict:
    """Create the vault and the unkeyed baseline, timing bulk create against raw-SQL twins.

    Five databases grow side by side, chunk by chunk (1,000 secrets), and the order rotates
    each chunk so load from other processes on the shared machine falls on all alike:
    the vault (SecretStore.put), the unkeyed baseline and a keyed raw-SQL twin replaying put's
    statements one transaction per secret as put does, and an unkeyed and a keyed twin that
    batch each chunk into one transaction. The twins are deleted afterwards.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    master_key = Fernet.generate_key().decode()
    vault = Vault.create(
        folder / "vault",
        passphrase=PASSPHRASE,
        master_key=master_key,
        use_keyring=False,
        kdf_seconds=0,
    ).vault
    store = SecretsManager(vault=vault).store
    many_vault = Vault.create(
        folder / "vault-many", master_key=master_key, use_keyring=False, kdf_seconds=0
    ).vault
    many_store = SecretsManager(vault=many_vault).store
    overhead = len(vault.seal(b"", b"length probe"))
    twins = [folder / f"{n}.db" for n in ("keyed-raw", "keyed-batch", "plain-batch")]
    keyed, keyed_batch = _keyed_raw(twins[0]), _keyed_raw(twins[1])
    plain, plain_batch = create_plain(folder / "baseline.db"), create_plain(twins[2])

    def per_secret(conn: sqlcipher3.Connection, recs: list[dict]) -> None:
        for rec in recs:
            replay_put(conn, rec)

    def batched(conn: sqlcipher3.Connection, recs: list[dict]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for rec in recs:
            replay_put(conn, rec, own_txn=False)
        conn.execute("COMMIT")

    def library(recs: list[dict]) -> None:
        for r in recs:
            store.put(
                r["name"], library_fields(r), template="api_key", tags=r["tags"], notes=r["notes"]
            )

    def library_many(recs: list[dict]) -> None:
        many_store.put_many(
            {
                "name": r["name"],
                "fields": library_fields(r),
                "template": "api_key",
                "tags": r["tags"],
                "notes": r["notes"],
            }
            for r in recs
        )

    rng = random.Random(seed)
    steps = [
        ("library_many", library_many),
        ("keyed_sql", lambda recs: per_secret(keyed, recs)),
        ("plain_sql", lambda recs: per_secret(plain, recs)),
        ("library", library),
        ("keyed_batch", lambda recs: batched(keyed_batch, recs)),
        ("plain_batch", lambda recs: batched(plain_batch, recs)),
    ]
    times: dict[str, list[float]] = {label: [] for label, _ in steps}
    for number, start in enumerate(range(0, count, CHUNK)):
        recs = [make_record(i, rng, overhead) for i in range(start, min(count, start + CHUNK))]
        k = number % len(steps)
        for label, step in steps[k:] + steps[:k]:
            times[label].append(clock(lambda step=step, recs=recs: step(recs)))
        if number % 10 == 9:
            print(f"  built {start + len(recs):,}/{count:,}", flush=True)

    for conn in (keyed, keyed_batch, plain, plain_batch):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    vault.lock()
    many_vault.lock()
    shutil.rmtree(folder / "vault-many")
    for twin in twins:
        for path in folder.glob(twin.name + "*"):
            path.unlink()
    meta = {
        "format": CACHE_FORMAT,
        "schema": SCHEMA_VERSION,
        "count": count,
        "seed": seed,
        "master_key": master_key,
        "built": datetime.now().isoformat(timespec="seconds"),
        "library": library_commit(),
        "bulk": times,
    }
    (folder / "cache.json").write_text(json.dumps(meta))
    return meta


# -- scenario steps ------------------------------------------------------------------------------


def bench_bulk(res: Results, meta: dict) -> None:
    t, n = meta["bulk"], f"{meta['count']:,}"

    def chunk_ratio(a: str, b: str) -> str:
        ratios = [x / y for x, y in zip(t[a], t[b], strict=True)]
        return f"median chunk ratio {median(ratios):.2f}×, p95 {p95(ratios):.2f}×"

    built = f"measured while building, {meta['built']}"
    res.add(
        f"bulk create {n}: put's SQL, one txn per secret, keyed vs unkeyed (a)",
        sum(t["plain_sql"]),
        sum(t["keyed_sql"]),
        "≤ 1.2×",
        1.2,
        note=f"{built}; {chunk_ratio('keyed_sql', 'plain_sql')}",
    )
    res.add(
        f"bulk create {n}: SecretStore.put vs put's SQL unkeyed (b)",
        sum(t["plain_sql"]),
        sum(t["library"]),
        "≤ 1.2×",
        1.2,
        note=chunk_ratio("library", "plain_sql"),
    )
    res.add(
        f"bulk create {n}: put's SQL, one txn per 1,000, keyed vs unkeyed",
        sum(t["plain_batch"]),
        sum(t["keyed_batch"]),
        "≤ 1.2×",
        1.2,
        note=chunk_ratio("keyed_batch", "plain_batch"),
    )
    if "library_many" in t:
        res.add(
            f"bulk create {n}: SecretStore.put_many (1,000 per call) vs put's SQL unkeyed, batched",
            sum(t["plain_batch"]),
            sum(t["library_many"]),
            "≤ 1.2×",
            1.2,
            note=chunk_ratio("library_many", "plain_batch"),
        )


def bench_open(res: Results, folder: Path, meta: dict, first: str, repeat: int) -> None:
    """In-process open → first query on the env-key path, against unkeyed connects.

    Vault.open records the unlock in the audit trail and commits it before returning. The
    previous connection's close checkpointed and removed the WAL, so that commit starts a new
    WAL, whose header SQLite syncs to disk. Two baselines show what that costs: the plain
    connect alone, and the plain connect with the same one-row audit commit.
    """
    baseline = folder / "baseline.db"
    opened: list = []
    rec = {"name": None, "mac": os.urandom(32), "value_hash": None}

    def vault_open() -> None:
        vault = Vault.open(folder / "vault", use_keyring=False)
        SecretsManager(vault=vault).store.summary(first)
        opened.append(vault)

    def plain_open(audit: bool) -> None:
        conn = sqlcipher3.connect(f"file:{baseline}?mode=rw", uri=True, isolation_level=None)
        storage._configure(conn, baseline)
        if audit:
            conn.execute("BEGIN IMMEDIATE")
            replay_audit(conn, "unlock", rec, '{"method": "master-key"}', time.time())
            conn.execute("COMMIT")
        conn.execute(SQL_FIND_ONE, (first,)).fetchone()
        opened.append(conn)

    times: dict[str, list[float]] = {"env": [], "no_audit": [], "plain": [], "plain_audit": []}
    os.environ[config.ENV_MASTER_KEY] = meta["master_key"]
    try:
        for _ in range(repeat):
            times["env"].append(clock(vault_open))
            opened.pop().lock()
            os.environ[config.ENV_ENABLE_AUDIT] = "false"
            times["no_audit"].append(clock(vault_open))
            opened.pop().lock()
            del os.environ[config.ENV_ENABLE_AUDIT]
            times["plain"].append(clock(lambda: plain_open(False)))
            opened.pop().close()
            times["plain_audit"].append(clock(lambda: plain_open(True)))
            opened.pop().close()
    finally:
        os.environ.pop(config.ENV_MASTER_KEY, None)
        os.environ.pop(config.ENV_ENABLE_AUDIT, None)
    env_t, size = times["env"], (folder / "vault" / storage.DB_NAME).stat().st_size >> 20
    res.add("open → first query, ECHO_VAULT_MASTER_KEY (in process)", median(times["plain"]),
            median(env_t), "≤ 5 ms", 0.005, kind="absolute",
            note=f"p95 {fmt(p95(env_t))}; {repeat} runs; vault.db {size} MiB")  # fmt: skip
    res.add("open → first query: vault vs unkeyed connect + the same unlock audit commit",
            median(times["plain_audit"]), median(env_t), "-",
            note="same statements on both sides, so the ratio is SQLCipher's share")  # fmt: skip
    res.add("open → first query with ECHO_VAULT_ENABLE_AUDIT=false (diagnostic)",
            median(times["plain"]), median(times["no_audit"]), "≤ 5 ms", 0.005, kind="absolute",
            note=f"p95 {fmt(p95(times['no_audit']))}; no unlock row, so no commit")  # fmt: skip
    plain_t = times["plain"]

    slot = KeyFile.load(folder / "vault").slots["passphrase"]
    kdf_t, pass_t = [], []
    for _ in range(max(3, repeat // 4)):
        kdf_t.append(clock(lambda: crypto.argon2id(b"x", slot.salt, slot.argon2)))
        start = time.perf_counter()
        vault = Vault.open(
            folder / "vault", passphrase=PASSPHRASE, use_keyring=False, use_env=False
        )
        SecretsManager(vault=vault).store.summary(first)
        pass_t.append(time.perf_counter() - start)
        vault.lock()
    a = slot.argon2
    res.add(
        "open → first query, passphrase",
        median(plain_t),
        median(pass_t),
        "env path + Argon2id",
        note=f"Argon2id alone {fmt(median(kdf_t))} ({a.memory_kib >> 10} MiB, {a.iterations}"
        f" passes, {a.lanes} lanes); passphrase − Argon2id = {fmt(median(pass_t) - median(kdf_t))}",
    )


def open_vault(folder: Path, key: str) -> Vault:
    return Vault.open(folder / "vault", master_key=key, use_keyring=False)


def data_key_of(folder: Path, key: str) -> bytes:
    """The raw database key, through the library's own unlock, for statement-level runs."""
    keyfile = KeyFile.load(folder / "vault")
    request = UnlockRequest(master_key=key, use_keyring=False)
    vault_key = recover_vault_key(folder / "vault", keyfile, request).vault_key
    return slots.unwrap_data_key(vault_key, keyfile.vault_id, keyfile.data_key)


def bench_list(res: Results, folder: Path, key: str, repeat: int) -> None:
    vault = open_vault(folder, key)
    sm = SecretsManager(vault=vault)
    plain = open_plain(folder / "baseline.db")

    def listing(conn: sqlcipher3.Connection) -> Callable[[], object]:
        return lambda: conn.execute(SQL_LIST).fetchall()

    with vault.read() as keyed:
        cold_k = clock(listing(keyed))
        cold_p = clock(listing(plain))
        stmt_k, stmt_p, lib = [], [], []
        for _ in range(repeat):
            stmt_k.append(clock(listing(keyed)))
            stmt_p.append(clock(listing(plain)))
            lib.append(clock(sm.list_secrets))
    n = len(sm.list_secrets())
    res.add(
        f"list {n:,} names: statement, warm cache",
        median(stmt_p),
        median(stmt_k),
        "≤ 1.1×",
        1.1,
        note=f"first run on a fresh connection {fmt(cold_p)} vs {fmt(cold_k)};"
        f" {repeat} runs; spread {spread(stmt_k):.0%}",
    )
    res.add(
        "list names: SecretsManager.list_secrets vs statement unkeyed",
        median(stmt_p),
        median(lib),
        "≤ 1.1×",
        1.1,
    )
    plain.close()
    vault.lock()


def search_queries(count: int, rng: random.Random) -> list[str]:
    """100 prefix searches of the kinds people type: id prefixes, team + id, tag + team."""
    top = max(1, count // 100)
    queries = [f"service-{rng.randrange(top):04d}" for _ in range(40)]
    queries += [
        f"{rng.choice(TEAMS)[:4]} {rng.randrange(max(1, count // 1000)):03d}" for _ in range(30)
    ]
    queries += [f"tag:{rng.choice(ENVS)} {rng.choice(TEAMS)}" for _ in range(20)]
    queries += [rng.choice(TEAMS)[:5] for _ in range(10)]
    return queries


def search_sql(query: str) -> tuple[str, list]:
    """The statement SecretStore.summaries builds for a query (no tag, no limit)."""
    compiled = compile_query(query)
    sql = f"SELECT {SUMMARY} FROM secrets s WHERE s.deleted IS NULL AND {compiled.where}"
    return sql + " ORDER BY s.name COLLATE NOCASE", list(compiled.params)


def bench_search(res: Results, folder: Path, key: str, queries: list[str], repeat: int) -> None:
    vault = open_vault(folder, key)
    sm = SecretsManager(vault=vault)
    plain = open_plain(folder / "baseline.db")
    compiled = [search_sql(q) for q in queries]

    def statements(conn: sqlcipher3.Connection) -> Callable[[], object]:
        return lambda: [conn.execute(sql, args).fetchall() for sql, args in compiled]

    per_query: list[float] = []

    def library() -> None:
        for q in queries:
            per_query.append(clock(lambda q=q: sm.search(q)))

    hits = sum(len(sm.search(q)) for q in queries)  # warms the vault's cache
    plain_hits = sum(len(rows) for rows in statements(plain)())
    _check(hits == plain_hits, f"search hits differ: vault {hits}, baseline {plain_hits}")
    stmt_k, stmt_p, lib = [], [], []
    with vault.read() as keyed:
        for _ in range(repeat):
            stmt_k.append(clock(statements(keyed)))
            stmt_p.append(clock(statements(plain)))
            lib.append(clock(library))
    res.add(
        f"{len(queries)} prefix searches ({hits:,} hits): statements, warm",
        median(stmt_p),
        median(stmt_k),
        "≤ 1.1×",
        1.1,
        note=f"{repeat} runs; spread {spread(stmt_k):.0%}",
    )
    res.add(
        "prefix searches: SecretsManager.search vs statements unkeyed",
        median(stmt_p),
        median(lib),
        "≤ 1.1×",
        1.1,
        note=f"per query p50 {fmt(median(per_query))}, p95 {fmt(p95(per_query))}",
    )
    plain.close()
    vault.lock()


def bench_lookups(res: Results, folder: Path, key: str, count: int, n: int, repeat: int) -> None:
    """Cold point lookups: random names, each measured on connections opened just before.

    Statement-level keyed runs go to a copy of vault.db, because the replayed audit rows carry
    no real MAC and must not enter the vault's own chain.
    """
    data_key = data_key_of(folder, key)
    copy = OUT / "vault-copy.db"
    shutil.copyfile(folder / "vault" / storage.DB_NAME, copy)
    rng = random.Random(7)
    names_of, read_k, read_p, get_k, get_p, lib, per_get = [], [], [], [], [], [], []
    for _ in range(repeat):
        names = [secret_name(rng.randrange(count)) for _ in range(n)]
        recs = [{"name": x, "mac": rng.randbytes(32), "value_hash": "0" * 64} for x in names]
        names_of.append(names)
        for series, plain_series, work in (
            (read_k, read_p, lambda c: [lookup_statements(c, x) for x in names]),  # noqa: B023
            (get_k, get_p, lambda c: [replay_get(c, r) for r in recs]),  # noqa: B023
        ):
            keyed, plain = storage.connect(copy, data_key), open_plain(folder / "baseline.db")
            series.append(clock(lambda: work(keyed)))  # noqa: B023
            plain_series.append(clock(lambda: work(plain)))  # noqa: B023
            keyed.close()
            plain.close()
        sm = SecretsManager(vault=open_vault(folder, key))
        lib.append(clock(lambda: [per_get.append(clock(lambda x=x: sm.get(x))) for x in names]))  # noqa: B023
        sm.lock()
    for path in OUT.glob("vault-copy.db*"):
        path.unlink()
    res.add(
        f"{n:,} cold point lookups: SELECT statements",
        median(read_p),
        median(read_k),
        "≤ 2×",
        2.0,
        note=f"{repeat} rounds, fresh connections each; spread {spread(read_k):.0%}",
    )
    res.add(
        f"{n:,} cold point lookups: get's statements incl. audit write",
        median(get_p),
        median(get_k),
        "≤ 2×",
        2.0,
        note="BEGIN IMMEDIATE … COMMIT per lookup, as get does",
    )
    res.add(
        f"{n:,} cold point lookups: SecretsManager.get vs get's statements unkeyed",
        median(get_p),
        median(lib),
        "≤ 2×",
        2.0,
        note=f"per get p50 {fmt(median(per_get))}, p95 {fmt(p95(per_get))}",
    )


# -- end to end against KeePassXC ----------------------------------------------------------------


def keepass_xml(count: int, seed: int, path: Path) -> None:
    """The same entries as KeePass 2 XML: group = team, title = the rest of the name."""
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {team: [] for team in TEAMS}
    for i in range(count):
        rec = make_record(i, rng)
        team, title = rec["name"].split("/", 1)
        values = {f[0]: f[1] for f in rec["fields"]}
        strings = (
            ("Title", title),
            ("UserName", values["account"]),
            ("Password", values["api_key"]),
            ("URL", values["url"]),
            ("Notes", rec["notes"]),
        )
        body = "".join(
            f"<String><Key>{k}</Key><Value>{escape(v)}</Value></String>" for k, v in strings
        )
        groups[team].append(
            f"<Entry><UUID>{_uuid(i + 1000)}</UUID><Tags>{';'.join(rec['tags'])}</Tags>"
            f"{body}</Entry>"
        )
    parts = [
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<KeePassFile><Meta>'
        "<Generator>echo-vault-bench</Generator><DatabaseName>bench</DatabaseName></Meta>"
        f"<Root><Group><UUID>{_uuid(0)}</UUID><Name>Root</Name>"
    ]
    for n, (team, entries) in enumerate(groups.items()):
        parts.append(f"<Group><UUID>{_uuid(n + 1)}</UUID><Name>{team}</Name>")
        parts.extend(entries)
        parts.append("</Group>")
    parts.append("</Group></Root></KeePassFile>\n")
    path.write_text("\n".join(parts))


def _uuid(n: int) -> str:
    import base64

    return base64.b64encode(n.to_bytes(16, "big")).decode()


def run_cli(argv: list[str], env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} {argv[1]} failed: {done.stderr.strip()[:200]}")
    return elapsed, done.stdout


def user_install_cli() -> Path | None:
    """``echo-vault-cli`` installed from a wheel, as ``pip install echo-vault`` leaves it.

    The development venv's editable install runs an import hook at every interpreter start
    (about 20 ms here), which no user's install has. So the project is built into a wheel and
    installed, without dependencies, into a venv of its own that borrows the development venv's
    packages; pip compiles its bytecode as for any user. Built afresh each run.
    """
    venv, wheels = OUT / "cli-venv", OUT / "cli-wheel"
    for stale in (venv, wheels):
        shutil.rmtree(stale, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    try:
        subprocess.run(
            [*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next((venv / "lib").glob("python3*/site-packages"))
        (site / "echo-vault-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        wheel = next(wheels.glob("echo_vault-*.whl"))
        subprocess.run(
            [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)],
            check=True, capture_output=True,
        )  # fmt: skip
    except (subprocess.CalledProcessError, StopIteration) as exc:
        print(f"  could not install echo-vault-cli from a wheel: {exc}", flush=True)
        return None
    return venv / "bin" / "echo-vault-cli"


def bench_keepassxc(res: Results, folder: Path, meta: dict, repeat: int) -> None:
    """End to end, process start to exit: keepassxc-cli against echo-vault-cli, same entries."""
    kp_cli = shutil.which("keepassxc-cli")
    ev_cli = user_install_cli()
    if kp_cli is None or ev_cli is None:
        missing = "keepassxc-cli" if kp_cli is None else "echo-vault-cli (from a wheel)"
        print(f"  skipped the KeePassXC comparison: {missing} is not installed", flush=True)
        res.add(
            "CLI get and search against KeePassXC",
            None,
            None,
            "≥ 100× faster",
            note=f"skipped: {missing} is not installed",
        )
        return
    count, seed = meta["count"], meta["seed"]
    kdbx, keyfile = folder / "keepass.kdbx", folder / "keepass.key"
    if not kdbx.exists():
        xml = folder / "keepass.xml"
        keepass_xml(count, seed, xml)
        keyfile.write_bytes(os.urandom(64))
        t, _ = run_cli(
            [kp_cli, "import", "-q", "--set-key-file", str(keyfile), str(xml), str(kdbx)]
        )
        xml.unlink()
        print(f"  imported {count:,} entries into KeePassXC in {t:.1f} s", flush=True)
    unlock = ["-q", "--no-password", "-k", str(keyfile), str(kdbx)]
    # An installed package carries compiled bytecode; a shell that sets PYTHONDONTWRITEBYTECODE
    # would make every run recompile the library, which no user of the installed CLI pays.
    # The vault is found where a user's is, through the platform's data folder (XDG here),
    # rather than through ECHO_VAULT_PATH, so the CLI resolves its default location as usual.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", config.ENV_PATH)}  # fmt: skip
    data_home = folder / "xdg-data"
    link = data_home / config.APP_NAME / "vault"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(folder / "vault")
    env.update(XDG_DATA_HOME=str(data_home), ECHO_VAULT_MASTER_KEY=meta["master_key"],
               ECHO_VAULT_NO_KEYRING="1")  # fmt: skip

    rng = random.Random(seed)
    expected = {
        rec["name"]: rec["fields"][-1][1] for rec in (make_record(i, rng) for i in range(count))
    }
    pick = random.Random(11)
    names = [secret_name(pick.randrange(count)) for _ in range(repeat)]
    queries = [f"service-{pick.randrange(max(1, count // 100)):04d}" for _ in range(repeat)]
    run_cli([str(ev_cli), "search", queries[0]], env)  # untimed: writes bytecode, warms caches
    run_cli([kp_cli, "search", *unlock, queries[0]])
    kp_show, ev_get, kp_search, ev_search = [], [], [], []
    for name, query in zip(names, queries, strict=True):
        t, out = run_cli([kp_cli, "show", "-s", "-a", "Password", *unlock, name])
        _check(out.strip() == expected[name], "keepassxc-cli show printed another value")
        kp_show.append(t)
        t, out = run_cli([str(ev_cli), "get", name], env)
        _check(out.strip() == expected[name], "echo-vault-cli get printed another value")
        ev_get.append(t)
        t, kp_out = run_cli([kp_cli, "search", *unlock, query])
        kp_search.append(t)
        t, ev_out = run_cli([str(ev_cli), "search", query], env)
        ev_search.append(t)
        kp_hits, ev_hits = len(kp_out.split()), len(ev_out.strip().splitlines())
        _check(kp_hits == ev_hits, f"search hit counts differ ({kp_hits} vs {ev_hits})")
    agent_get, agent_search = _through_agent(ev_cli, env, names, queries, expected)
    info = subprocess.run([kp_cli, "db-info", *unlock], capture_output=True, text=True).stdout
    kdf = next((line for line in info.splitlines() if line.startswith("KDF")), "KDF: ?")
    res.add(
        f"CLI get at {count:,}: keepassxc-cli show (baseline) vs echo-vault-cli get",
        median(kp_show),
        median(ev_get),
        "≥ 100× faster",
        100,
        kind="speedup",
        note=f"process start to exit, {repeat} runs; p95 {fmt(p95(kp_show))} vs"
        f" {fmt(p95(ev_get))}; KeePassXC {kdf}",
    )
    res.add(
        f"CLI search at {count:,}: keepassxc-cli search (baseline) vs echo-vault-cli search",
        median(kp_search),
        median(ev_search),
        "≥ 100× faster",
        100,
        kind="speedup",
        note=f"{ev_hits} hits per query; p95 {fmt(p95(kp_search))} vs {fmt(p95(ev_search))}",
    )
    for what, baseline, timings in (
        ("get", kp_show, agent_get),
        ("search", kp_search, agent_search),
    ):
        res.add(
            f"CLI {what} through `echo-vault-cli agent` at {count:,} (same KeePassXC baseline)",
            median(baseline),
            median(timings),
            "≥ 100× faster",
            100,
            kind="speedup",
            note=f"agent started once, untimed; p95 {fmt(p95(timings))}; client without the key",
        )


def _through_agent(
    ev_cli: Path, env: dict, names: list[str], queries: list[str], expected: dict
) -> tuple[list[float], list[float]]:
    """The same gets and searches answered by ``echo-vault-cli agent`` (started untimed).

    Clients run without ``ECHO_VAULT_MASTER_KEY``, so each timed call is known to have been
    answered by the agent rather than by a process that unlocked the vault itself.
    """
    keyless = {k: v for k, v in env.items() if k != config.ENV_MASTER_KEY}
    agent = subprocess.Popen([str(ev_cli), "agent", "start"], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(ev_cli), "agent", "status"], env=keyless,
                             capture_output=True).returncode != 0:  # fmt: skip
            _check(agent.poll() is None and time.monotonic() < deadline, "the agent did not start")
            time.sleep(0.1)
        run_cli([str(ev_cli), "search", queries[0]], keyless)  # untimed, as for the direct calls
        gets, searches = [], []
        for name, query in zip(names, queries, strict=True):
            t, out = run_cli([str(ev_cli), "get", name], keyless)
            _check(out.strip() == expected[name], "the agent's get printed another value")
            gets.append(t)
            t, _ = run_cli([str(ev_cli), "search", query], keyless)
            searches.append(t)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    return gets, searches


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise SystemExit(f"benchmark check failed: {message}")


# -- main ----------------------------------------------------------------------------------------


def load_or_build(count: int, seed: int, fresh: bool) -> tuple[Path, dict]:
    """Reuse the cached vault when it still reads back right with the library as it is now."""
    folder = OUT / f"vault-{count}"
    cache = folder / "cache.json"
    if not fresh and cache.exists():
        meta = json.loads(cache.read_text())
        if (
            meta.get("format") == CACHE_FORMAT
            and meta.get("schema") == SCHEMA_VERSION  # the unkeyed twins have no migrations
            and meta.get("seed") == seed
            and _reads_back(folder, meta)
        ):
            print(f"using the cached vault in {folder} (built {meta['built']})", flush=True)
            return folder, meta
        print("the cached vault does not read back with this library; rebuilding", flush=True)
    print(f"building {count:,} secrets five ways (vault, unkeyed and keyed SQL twins)…", flush=True)
    return folder, build(count, seed, folder)


def _reads_back(folder: Path, meta: dict) -> bool:
    name = secret_name(meta["count"] - 1)
    try:
        with SecretsManager(vault=open_vault(folder, meta["master_key"])) as sm:
            value = sm.get(name).field("api_key").value
    except Exception as exc:  # any failure means: rebuild with the library as it is now
        print(f"  cached vault unusable: {type(exc).__name__}: {exc}", flush=True)
        return False
    return value == expected_values(meta["count"], meta["seed"])[name]


def library_commit() -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cI"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or "unknown"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, load {load:.1f}; Python {platform.python_version()};"
        f" SQLite {sqlcipher3.sqlite_version}; SQLCipher "
        f"{sqlcipher3.connect(':memory:').execute('PRAGMA cipher_version').fetchone()[0]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="secrets in the vault")
    parser.add_argument("--fresh", action="store_true", help="rebuild and re-time bulk create")
    parser.add_argument("--lookups", type=int, default=1000, help="point lookups per round")
    parser.add_argument("--rounds", type=int, default=5, help="repeats of each measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-cli", action="store_true", help="leave out KeePassXC")
    args = parser.parse_args(argv)
    if args.count < CHUNK:
        parser.error(f"--count must be at least {CHUNK}")

    OUT.mkdir(parents=True, exist_ok=True)
    folder, meta = load_or_build(args.count, args.seed, args.fresh)
    key, rounds = meta["master_key"], args.rounds
    res = Results()
    print(f"machine: {machine()}", flush=True)
    bench_bulk(res, meta)
    bench_open(res, folder, meta, secret_name(args.count // 2), repeat=rounds * 6)
    bench_list(res, folder, key, repeat=rounds * 2)
    bench_search(res, folder, key, search_queries(args.count, random.Random(3)), rounds)
    bench_lookups(res, folder, key, args.count, args.lookups, rounds)
    if not args.skip_cli:
        bench_keepassxc(res, folder, meta, rounds)

    table = res.table()
    print("\n" + table)
    stamp = datetime.now().isoformat(timespec="seconds")
    built = f"vault built {meta['built']} with library {meta.get('library', 'unrecorded')}"
    (OUT / "results.md").write_text(f"{stamp} — {machine()}\n{built}\n\n{table}\n")
    (OUT / "results.json").write_text(json.dumps({"when": stamp, "rows": res.rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
