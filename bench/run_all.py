"""Run every benchmark at its full size, one after another, and rewrite its section of docs/benchmarks.md.

    .venv/bin/python bench/run_all.py [--only order_overhead,risk_scan,...]

Takes about 15 minutes on a 2-core machine. The benchmarks that start child
processes run last. Each section records the load average at its end, so a
section measured while other work shared the machine can be rerun on its own.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCHMARKS = (
    "order_overhead",
    "dispatcher_throughput",
    "risk_scan",
    "outbox_delivery",
    "startup_time",
    "idle_rss",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated benchmark names")
    arguments = parser.parse_args(argv)

    names = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; expected some of {', '.join(BENCHMARKS)}")
    for name in names:
        started = time.monotonic()
        print(f"== bench/{name}.py", flush=True)
        importlib.import_module(f"bench.{name}").main([])
        print(f"== bench/{name}.py took {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
