"""Imports point one way: engine <- storage <- bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("forbidden", ["aiogram", "sqlalchemy", "alembic", "bot", "storage"])
def test_engine_imports_no_adapter(forbidden: str) -> None:
    for path, names in imported_modules("engine").items():
        offending = {n for n in names if n == forbidden or n.startswith(forbidden + ".")}
        assert not offending, f"{path} imports {offending}"


@pytest.mark.parametrize("forbidden", ["aiogram", "bot"])
def test_storage_imports_no_telegram_code(forbidden: str) -> None:
    for path, names in imported_modules("storage").items():
        offending = {n for n in names if n == forbidden or n.startswith(forbidden + ".")}
        assert not offending, f"{path} imports {offending}"
