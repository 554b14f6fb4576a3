"""What `patriot run` imports at start: ccxt, matplotlib and the webhook server wait until first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process imported everything long ago.
DEFERRED = ("ccxt", "matplotlib", "aiohttp.web", "aiogram.webhook")
CHECK = (
    f"import sys, bot.runner; print(sorted(name for name in sys.modules if name.startswith({DEFERRED!r})))"
)


def test_runner_imports_no_deferred_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
