"""Each benchmark at a tiny size: it runs to the end and writes a well-formed section.

The figures are not checked against any target (a shared test machine makes
timings meaningless); the full runs are ``bench/run_all.py``, see the README.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import (
    dispatcher_throughput,
    idle_rss,
    order_overhead,
    outbox_delivery,
    report,
    risk_scan,
    run_all,
    startup_time,
)

NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")


@pytest.fixture
def benchmarks_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the benchmarks at a scratch copy of docs/benchmarks.md."""
    path = tmp_path / "benchmarks.md"
    path.write_text(report.TITLE + "\n<!-- other:start -->\nkept\n<!-- other:end -->\n", encoding="utf-8")
    monkeypatch.setattr(report, "BENCHMARKS", path)
    return path


def section(path: Path, key: str) -> str:
    text = path.read_text(encoding="utf-8")
    assert "<!-- other:start -->\nkept\n<!-- other:end -->" in text, "another section was overwritten"
    match = re.search(rf"<!-- {key}:start -->\n(.*?)\n<!-- {key}:end -->", text, re.DOTALL)
    assert match is not None, f"no {key} section in:\n{text}"
    body = match.group(1)
    assert "Machine: " in body
    assert "load average" in body
    return body


def table(body: str) -> list[list[str]]:
    """The cells of the section's table rows, without the header and separator lines."""
    lines = [line for line in body.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, f"no table in:\n{body}"
    assert set(lines[1].replace("|", "")) == {"-"}
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def numbers(row: list[str]) -> list[float]:
    return [float(cell.replace(",", "")) for cell in row if NUMBER.match(cell)]


def test_order_overhead_section(benchmarks_file: Path) -> None:
    assert order_overhead.main(["--orders", "10", "--warm-up", "2"]) == 0

    body = section(benchmarks_file, "order-overhead")
    rows = table(body)
    assert [row[0] for row in rows] == ["aiosqlite", "inline"]
    for row in rows:
        assert len(numbers(row)) == 8
        assert all(value > 0 for value in numbers(row)[:7])
    # The last column counts hand-offs to aiosqlite's worker thread; the inline driver makes none.
    hops = {row[0]: numbers(row)[7] for row in rows}
    assert hops["aiosqlite"] > 0
    assert hops["inline"] == 0
    assert "Target (median ≤ 2 ms and p99 ≤ 10 ms): aiosqlite " in body
    assert "Ratio aiosqlite / inline" in body


def test_dispatcher_throughput_section(benchmarks_file: Path) -> None:
    arguments = ["--users", "8", "--updates", "16", "--concurrency", "4"]
    assert dispatcher_throughput.main(arguments) == 0

    body = section(benchmarks_file, "dispatcher-throughput")
    rows = table(body)
    assert [(row[0], row[1]) for row in rows] == [
        ("aiosqlite", "one at a time"),
        ("aiosqlite", "4 in flight"),
        ("inline", "one at a time"),
        ("inline", "4 in flight"),
    ]
    for row in rows:
        assert len(numbers(row)) == 5
    assert "Targets: aiosqlite: ≥ 1,000 updates/s" in body


def test_risk_scan_section(benchmarks_file: Path) -> None:
    assert risk_scan.main(["--users", "20", "--runs", "2"]) == 0

    body = section(benchmarks_file, "risk-scan")
    rows = table(body)
    assert [row[0] for row in rows] == ["aiosqlite"] * 3 + ["inline"] * 3
    assert rows[0][1].startswith("first (creates 20 equity marks")
    assert all(float(row[2]) > 0 for row in rows)
    assert "Target ≤ 2 s for a later scan: aiosqlite " in body


def test_outbox_delivery_section(benchmarks_file: Path) -> None:
    assert outbox_delivery.main(["--messages", "20", "--chats", "20", "--runs", "1"]) == 0

    body = section(benchmarks_file, "outbox-delivery")
    rows = table(body)
    assert len(rows) == 1
    assert len(numbers(rows[0])) == 6
    assert 0 < float(rows[0][2]) < 5  # the ratio to N/25
    assert "Telegram's limit of 30 messages" in body


@pytest.mark.e2e
def test_startup_time_section(benchmarks_file: Path) -> None:
    assert startup_time.main(["--runs", "1", "--users", "5", "--imports", "1"]) == 0

    body = section(benchmarks_file, "startup-time")
    rows = table(body)
    assert len(rows) == 6
    assert all(float(row[1]) > 0 for row in rows)
    assert "Target ≤ 2 s (median restart): " in body


@pytest.mark.e2e
def test_idle_rss_section(benchmarks_file: Path) -> None:
    assert idle_rss.main(["--users", "5", "--idle", "1", "--drivers", "inline"]) == 0

    body = section(benchmarks_file, "idle-rss")
    rows = table(body)
    assert [row[0] for row in rows] == ["inline"]
    for row in rows:
        resident = numbers(row)
        assert len(resident) == 5
        assert all(10 < value < 10_000 for value in resident)  # MiB of a Python process


def test_run_all_rejects_an_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_all.main(["--only", "risk_scan,warp_speed"])
    assert "unknown benchmark warp_speed" in capsys.readouterr().err
