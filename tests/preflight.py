"""Say loudly, before the suite runs, which databases it will run against (`make test` calls this)."""

from __future__ import annotations

import os
import sys

from tests.databases import postgres_admin_url, postgres_reachable


def main() -> int:
    url = postgres_admin_url()
    if postgres_reachable(url):
        print(f"preflight: PostgreSQL answers at {url}; database tests run on SQLite and PostgreSQL.")
        return 0
    banner = "!" * 78
    print(f"\n{banner}\n  PostgreSQL does not answer at {url}.", file=sys.stderr)
    if os.environ.get("CI") == "true":
        print(f"  CI=true: this is a failure, not a skip.\n{banner}\n", file=sys.stderr)
        return 1
    print(
        f"  Running the SQLite half of the suite ONLY; PostgreSQL tests are skipped.\n{banner}\n",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
