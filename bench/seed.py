"""Seed PostgreSQL with a deterministic desk of N tickets for the benchmark, fast: COPY into tables whose
secondary indexes are dropped first and rebuilt after (as a restore would)."""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta

import psycopg

from supportdesk.accounts.passwords import hash_password

WORDS = [
    "printer",
    "vpn",
    "laptop",
    "password",
    "outlook",
    "teams",
    "wifi",
    "network",
    "drive",
    "access",
    "badge",
    "monitor",
    "dock",
    "keyboard",
    "mouse",
    "license",
    "excel",
    "sharepoint",
    "onedrive",
    "calendar",
    "mailbox",
    "token",
    "certificate",
    "proxy",
    "firewall",
    "update",
    "driver",
    "battery",
    "screen",
    "camera",
    "headset",
    "microphone",
    "phone",
    "mobile",
    "sync",
    "backup",
    "restore",
    "account",
    "locked",
    "expired",
    "slow",
    "crash",
    "error",
    "freeze",
    "install",
    "upgrade",
    "permission",
    "folder",
    "share",
    "server",
    "database",
    "report",
    "invoice",
]
RARE_WORD = "zebracorn"  # appears in about 1% of tickets: the benchmark's search term
STATUSES = ["closed"] * 80 + ["resolved"] * 8 + ["open"] * 5 + ["pending"] * 3 + ["on_hold"] * 2 + ["new"] * 2
PRIORITIES = ["low"] * 2 + ["normal"] * 6 + ["high"] * 2 + ["urgent"]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


CHUNK = 50_000


def paragraph(rng: random.Random, low: int, high: int) -> str:
    text = ""
    target = rng.randint(low, high)
    while len(text) < target:
        text += sentence(rng, rng.randint(6, 16)) + " "
    return text[:target].rstrip()


NOW = datetime(2026, 11, 1, tzinfo=UTC)


def texts(seed_value: int) -> tuple[list[str], list[str], list[str]]:
    """The pools tickets draw their subjects, descriptions and replies from (deterministic)."""
    rng = random.Random(seed_value)
    descriptions = [paragraph(rng, 200, 2000) for _ in range(2000)]
    bodies = [paragraph(rng, 40, 400) for _ in range(2000)]
    subjects = [f"{sentence(rng, rng.randint(3, 7))[:-1]}" for _ in range(5000)]
    return subjects, descriptions, bodies


def seed(url: str, tickets: int, seed_value: int = 42) -> dict[str, float]:
    started = time.monotonic()
    subjects, descriptions, bodies = texts(seed_value)
    password = hash_password("bench1234")
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename IN ('tickets', 'comments', 'ticket_events', 'ticket_search') "
            "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for target, rows in reference_rows(NOW, password):
            _copy(conn, target, rows)
        conn.commit()
    # Two loaders (one per core): each generates and COPYs its own chunks, so one process's Python
    # overlaps the other's to_tsvector in PostgreSQL. Chunks have their own seeds: same data either way.
    chunks = [(first, min(first + CHUNK - 1, tickets)) for first in range(1, tickets + 1, CHUNK)]
    pools = (subjects, descriptions, bodies)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        jobs = [(url, first, last, tickets, seed_value, NOW, pools) for first, last in chunks]
        done = 0
        for finished in as_completed([pool.submit(_load_chunk, job) for job in jobs]):
            first, last = finished.result()
            done += last - first + 1
            rate = done / (time.monotonic() - started)
            print(
                f"seeding {tickets:,}: {done:,} tickets loaded ({done / tickets:.0%}), {rate:,.0f}/s, "
                f"about {(tickets - done) / rate / 60:.1f} min of loading left",
                flush=True,
            )
    loaded = time.monotonic()
    with psycopg.connect(url, autocommit=False) as conn:
        for table in ("teams", "users", "categories", "tickets", "comments", "ticket_events"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        conn.execute(f"SELECT setval('ticket_number_seq', {1000 + tickets})")
        conn.commit()
    print(f"seeding {tickets:,}: building {len(indexes)} indexes", flush=True)
    _build_in_parallel(url, [definition for _, definition in indexes])
    print(f"seeding {tickets:,}: VACUUM ANALYZE", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    finished = time.monotonic()
    return {
        "tickets": tickets,
        "load_seconds": round(loaded - started, 1),
        "index_seconds": round(finished - loaded, 1),
        "seed_seconds": round(finished - started, 1),
        "database_mb": round(size / 2**20),
    }


def restore(url: str, tickets: int, tokens: bool = True, app: str | None = None) -> int:
    """Put a reused database back to its seeded state: a run creates thousands of tickets (the creation
    endpoints), which would otherwise sit at the top of every queue and of the ceiling's own query in
    the next run. Returns how many tickets it removed. `tokens=False` keeps the API tokens (between the
    rounds of one run, whose requests carry one).

    wrk stops at its deadline with requests still in the server; with `app` (its PGAPPNAME) this waits
    until none of its backends is in a statement or transaction, so no ticket lands after the clean-up.
    The number sequence is never wound back: a number handed out once is never handed out again, as in
    production, whatever a late request did."""
    with psycopg.connect(url, autocommit=True) as conn:
        if app is not None:
            _wait_until_idle(conn, app)
        removed = conn.execute("DELETE FROM tickets WHERE number > %s", (1000 + tickets,)).rowcount
        if tokens:
            conn.execute("DELETE FROM api_tokens")
        if removed:
            conn.execute("VACUUM ANALYZE tickets, ticket_events, creation_keys")
    return removed


def _wait_until_idle(conn: psycopg.Connection[tuple[int]], app: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    busy = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle'"
    while time.monotonic() < deadline:
        row = conn.execute(busy, (app,)).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{app}'s database backends were still busy {timeout:g} s after its load stopped")


TICKET_COLUMNS = (
    "tickets (id, number, subject, description, status, priority, requester_id, assignee_id, "
    "team_id, category_id, created_at, updated_at, first_response_at, resolved_at, closed_at, version)"
)
COMMENT_COLUMNS = "comments (id, ticket_id, author_id, body, internal, created_at)"
EVENT_COLUMNS = "ticket_events (id, ticket_id, actor_id, kind, old_value, new_value, comment_id, created_at)"
SEARCH_COLUMNS = "ticket_search (ticket_id, public_text, internal_text)"


def reference_rows(now: datetime, password: str) -> list[tuple[str, list[tuple[object, ...]]]]:
    """Teams, the admin, 10 technicians, 1,000 requesters, team memberships and categories."""
    users: list[tuple[object, ...]] = [
        (1, "admin@bench.example", "Bench Admin", "admin", password, True, now, 0)
    ]
    users += [
        (i, f"tech{i - 1}@bench.example", f"Tech {i - 1}", "technician", password, True, now, 0)
        for i in range(2, 12)
    ]
    users += [
        (i, f"user{i - 11}@bench.example", f"User {i - 11}", "requester", password, True, now, 0)
        for i in range(12, 1012)
    ]
    return [
        ("teams (id, name, created_at)", [(i, f"Team {i}", now) for i in range(1, 6)]),
        ("users (id, email, full_name, role, password_hash, is_active, created_at, session_epoch)", users),
        ("team_members (team_id, user_id)", [((i % 5) + 1, i) for i in range(2, 12)]),
        (
            "categories (id, name, default_team_id, is_active)",
            [(i, f"Category {i}", (i % 5) + 1, True) for i in range(1, 9)],
        ),
    ]


def seed_sqlite(path: str, tickets: int, seed_value: int = 42) -> dict[str, float]:
    """The same desk in an (already migrated) SQLite file, for the embedded mode's check; plain
    executemany, as the FTS5 triggers must see every row."""
    import sqlite3

    started = time.monotonic()
    subjects, descriptions, bodies = texts(seed_value)

    def stored(value: object) -> object:  # as SQLAlchemy stores them on SQLite
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    def insert(conn: sqlite3.Connection, target: str, rows: list[tuple[object, ...]]) -> None:
        marks = ", ".join("?" * len(rows[0]))
        conn.executemany(f"INSERT INTO {target} VALUES ({marks})", [tuple(map(stored, r)) for r in rows])

    with sqlite3.connect(path) as conn:
        for target, rows in reference_rows(NOW, hash_password("bench1234")):
            insert(conn, target, rows)
        generator = _rows(
            random.Random(seed_value * 1_000_003 + 1),
            1,
            tickets,
            tickets,
            NOW,
            subjects,
            descriptions,
            bodies,
        )
        done = 0
        while batch := [row for _, row in zip(range(10_000), generator, strict=False)]:
            insert(conn, TICKET_COLUMNS, [b[0] for b in batch])
            insert(conn, COMMENT_COLUMNS, [c for b in batch for c in b[1]])
            insert(conn, EVENT_COLUMNS, [e for b in batch for e in b[2]])
            insert(conn, SEARCH_COLUMNS, [b[3] for b in batch])
            done += len(batch)
            if done % 50_000 == 0 or done == tickets:
                rate = done / (time.monotonic() - started)
                print(
                    f"seeding {tickets:,} (SQLite): {done:,} tickets ({done / tickets:.0%}), {rate:,.0f}/s",
                    flush=True,
                )
        conn.execute("ANALYZE")
    return {"tickets": tickets, "seed_seconds": round(time.monotonic() - started, 1)}


def restore_sqlite(path: str, tickets: int) -> int:
    """SQLite's restore: the tickets a run created go, with what hangs off them (foreign keys on, so
    the cascades and the full-text triggers run)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        return conn.execute("DELETE FROM tickets WHERE number > ?", (1000 + tickets,)).rowcount


def _load_chunk(
    job: tuple[str, int, int, int, int, datetime, tuple[list[str], list[str], list[str]]],
) -> tuple[int, int]:
    url, first, last, tickets, seed_value, now, (subjects, descriptions, bodies) = job
    rng = random.Random(seed_value * 1_000_003 + first)
    with psycopg.connect(url, autocommit=False) as conn:
        generator = _rows(rng, first, last, tickets, now, subjects, descriptions, bodies)
        while True:
            batch = [row for _, row in zip(range(10_000), generator, strict=False)]
            if not batch:
                break
            _copy(conn, TICKET_COLUMNS, [b[0] for b in batch])
            _copy(conn, COMMENT_COLUMNS, [c for b in batch for c in b[1]])
            _copy(conn, EVENT_COLUMNS, [e for b in batch for e in b[2]])
            _copy(conn, SEARCH_COLUMNS, [b[3] for b in batch])
        conn.commit()
    return first, last


def _build_in_parallel(url: str, definitions: list[str], workers: int = 2) -> None:
    """One connection per core, the GIN index (the slowest) first, so the builds overlap."""
    pending = sorted(definitions, key=lambda d: "gin" not in d.lower())

    def build(definition: str) -> None:
        started = time.monotonic()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute(definition)
        print(f"  {definition.split(' ON ')[0]}: {time.monotonic() - started:.0f} s", flush=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(build, pending))


def _copy(conn: psycopg.Connection, target: str, rows: list[tuple[object, ...]]) -> None:  # type: ignore[type-arg]
    with conn.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _rows(rng, first, last, tickets, now, subjects, descriptions, bodies):  # type: ignore[no-untyped-def]
    """(ticket, comments, events, search text) per ticket, deterministic for a seed."""
    span = 730 * 86400
    for t in range(first, last + 1):
        created = now - timedelta(seconds=span * (tickets - t) / tickets)
        status = rng.choice(STATUSES)
        subject = rng.choice(subjects) + (f" {RARE_WORD}" if rng.random() < 0.01 else "")
        description = rng.choice(descriptions)
        requester = rng.randint(12, 1011)
        assignee = None if status == "new" else rng.randint(2, 11)
        updated = created + timedelta(hours=rng.randint(1, 96))
        resolved = updated if status in ("resolved", "closed") else None
        closed = updated if status == "closed" else None
        ticket = (
            t,
            1000 + t,
            subject,
            description,
            status,
            rng.choice(PRIORITIES),
            requester,
            assignee,
            rng.randint(1, 5),
            rng.randint(1, 8),
            created,
            updated,
            created + timedelta(hours=1),
            resolved,
            closed,
            5,
        )
        comments, events, texts = [], [(4 * t - 3, t, requester, "created", None, "new", None, created)], []
        for c in range(3):
            comment_id = 3 * (t - 1) + c + 1
            body = rng.choice(bodies)
            author = requester if c == 1 else (assignee or 2)
            at = created + timedelta(minutes=10 * (c + 1))
            comments.append((comment_id, t, author, body, False, at))
            events.append((4 * t - 2 + c, t, author, "comment", None, "public", comment_id, at))
            texts.append(body)
        yield ticket, comments, events, (t, "\n".join([subject, description, *texts]), "")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    arguments = parser.parse_args()
    print(seed(arguments.url, arguments.tickets))
