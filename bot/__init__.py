"""PATRIOT's Telegram adapter and composition root.

The only package that imports aiogram, and the only place that wires concrete
storage and gateways into engine services.
"""

import os

# OpenBLAS (numpy's BLAS) starts a thread per core, and after each matrix product
# those threads spin for a while before they sleep. On the 2-core benchmark machine
# each product in the risk scan cost about 0.13 s of CPU in threads that did no work.
# The bot's products are small (days x assets), so one thread is enough. The setting
# takes effect only if numpy is not imported yet, and a value already set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bot.lazy_types import import_aiogram

# This runs before any module of this package imports aiogram, so its types are built on first use.
import_aiogram()
