"""What `patriot run` imports at start: ccxt and matplotlib wait until first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process imported everything long ago.
CHECK = (
    "import sys, bot.runner; "
    "print(sorted({name.split('.')[0] for name in sys.modules} & {'ccxt', 'matplotlib'}))"
)


def test_runner_imports_neither_ccxt_nor_matplotlib() -> None:
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
