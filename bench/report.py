"""What every benchmark shares: the machine line, percentiles, and writing its section of docs/benchmarks.md.

Each script owns one section between ``<!-- key:start -->`` and ``<!-- key:end -->``
markers and replaces only that one, so scripts can run in any order.
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
TITLE = (
    "# Benchmarks\n\n"
    "Each section is written by the script it names; rerun the script to refresh it, or run them all "
    "with `.venv/bin/python bench/run_all.py`. This machine is shared, so wall times vary between runs; "
    "CPU time per operation (`time.process_time`) is given where it is the steadier figure.\n"
)


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """CPU model, cores, OS, Python and SQLite versions."""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def context(command: str) -> str:
    """Return the lines every section starts with: command, machine, date and load average."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"Command: `{command}`\n\n"
        f"Machine: {machine()}. Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load average (1, 5, 15 min) {load} at the end of the run."
    )


def command_line(script: str, arguments: list[str]) -> str:
    return " ".join([".venv/bin/python", f"bench/{script}", *arguments])


def percentile(values: list[float], fraction: float) -> float:
    """Return the value at ``fraction`` (0.99 for p99) of the sorted values, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def write_section(key: str, body: str, *, write: bool = True) -> None:
    """Print the section, and replace it in docs/benchmarks.md (or append it) unless ``write`` is False."""
    print(body)
    if not write:
        return
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else TITLE
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = (
        pattern.sub(lambda _match: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    BENCHMARKS.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS.write_text(text, encoding="utf-8")


def add_write_argument(parser: object) -> None:
    parser.add_argument(  # type: ignore[attr-defined]
        "--no-write", action="store_true", help="print the figures without updating docs/benchmarks.md"
    )


if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
