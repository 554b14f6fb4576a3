"""PATRIOT's Telegram adapter and composition root.

The only package that imports aiogram, and the only place that wires concrete
storage and gateways into engine services.
"""
