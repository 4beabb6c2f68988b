"""`make bench-mail` (also run by `make bench`): how fast `parse_message` reads the inbound corpus
(tests/mail/corpus), beside the ceiling of the standard library's bare MIME parse of the same bytes.
The fetcher must ingest 50 messages/s end to end (issue 16), so parsing has a budget of ten times that
on one core. Writes bench/results/<date>-mail-parsing.md."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

from supportdesk.mail.parsing import parse_message

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "mail" / "corpus").glob("*.eml"))
SECONDS, ROUNDS = 1.5, 3
# 50 messages/s end to end leaves 20 ms a message for fetching, parsing, storing and committing;
# parsing may take a tenth of it.
BUDGET_PER_SECOND = 500


def rate(parse: Callable[[bytes], object], messages: list[bytes]) -> float:
    """Messages per second going round the corpus, the best of ROUNDS runs of SECONDS each (the machine
    is shared, and a slow moment says nothing about the parser)."""
    for raw in messages:
        parse(raw)
    best = 0.0
    for _ in range(ROUNDS):
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < SECONDS:
            for raw in messages:
                parse(raw)
            done += len(messages)
        best = max(best, done / elapsed)
    return best


def slowest(messages: list[Path]) -> list[tuple[float, str]]:
    timings = []
    for path in messages:
        raw = path.read_bytes()
        started = time.perf_counter()
        for _ in range(20):
            parse_message(raw)
        timings.append(((time.perf_counter() - started) / 20 * 1000, path.name))
    return sorted(timings, reverse=True)[:5]


def main() -> int:
    messages = [path.read_bytes() for path in CORPUS]
    ceiling = rate(BytesParser(policy=compat32).parsebytes, messages)
    ours = rate(parse_message, messages)
    met = ours >= BUDGET_PER_SECOND
    lines = [
        f"# Mail parsing, {date.today().isoformat()}",
        "",
        f"{len(messages)} corpus messages ({sum(map(len, messages)) // 1024} KiB), one process, "
        f"best of {ROUNDS} runs of {SECONDS} s each.",
        "",
        "| parser | messages/s | ms per message | vs ceiling | budget |",
        "|---|---|---|---|---|",
        f"| ceiling: stdlib BytesParser only | {ceiling:,.0f} | {1000 / ceiling:.2f} | 100% | |",
        f"| parse_message | {ours:,.0f} | {1000 / ours:.2f} | {ours / ceiling:.0%} | "
        f"{'met' if met else 'MISSED'} (>= {BUDGET_PER_SECOND}/s) |",
        "",
        "Slowest messages (ms each): " + ", ".join(f"{name} {ms:.2f}" for ms, name in slowest(CORPUS)),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-mail-parsing.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
