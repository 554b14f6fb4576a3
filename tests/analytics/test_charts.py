"""Charts are PNG pictures of the declared pixel size."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import numpy as np

from bot import charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Read width and height from the IHDR chunk that follows the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_equity_chart_size() -> None:
    moments = [datetime(2022, 1, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(48)]
    equity = 10_000 + np.cumsum(np.sin(np.arange(48)))
    drawdown = equity / np.maximum.accumulate(equity) - 1
    data = charts.equity_chart(
        moments, equity, drawdown, {"title": "Equity", "equity": "USDT", "drawdown": "%"}
    )
    assert len(data) > 10_000
    assert png_size(data) == charts.EQUITY_SIZE


def test_allocation_and_heatmap_sizes() -> None:
    allocation = charts.allocation_chart(["BTC", "ETH", "USDT"], [0.5, 0.3, 0.2], "Allocation")
    assert png_size(allocation) == charts.ALLOCATION_SIZE
    matrix = np.corrcoef(np.random.default_rng(1).normal(size=(5, 50)))
    matrix[4, 4] = np.nan
    heatmap = charts.correlation_heatmap(["A", "B", "C", "D", "E"], matrix, "Correlation")
    assert png_size(heatmap) == charts.HEATMAP_SIZE
