"""PATRIOT's Telegram adapter and composition root.

The only package that imports aiogram, and the only place that wires concrete
storage and gateways into engine services.
"""

from bot.lazy_types import import_aiogram

# This runs before any module of this package imports aiogram, so its types are built on first use.
import_aiogram()
