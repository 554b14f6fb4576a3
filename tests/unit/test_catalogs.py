"""Every user-facing string exists in English and Russian, with the same placeholders."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("catalog_update", ROOT / "locales" / "update.py")
assert _spec is not None and _spec.loader is not None
catalog_update = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog_update)

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAG = re.compile(r"</?[a-z]+>")


def merged(language: str) -> dict[str, str]:
    translations: dict[str, str] = {}
    for path in sorted((ROOT / "locales" / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    translations[message.id] = message.string or ""
    return translations


def test_every_message_in_the_code_is_translated() -> None:
    assert catalog_update.missing_translations(catalog_update.extract_msgids()) == []


def test_translations_keep_placeholders_and_tags() -> None:
    for language in ("en", "ru"):
        for msgid, text in merged(language).items():
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), (language, msgid)
            assert sorted(TAG.findall(msgid)) == sorted(TAG.findall(text)), (language, msgid)


def test_no_catalog_entry_is_unused() -> None:
    used = catalog_update.extract_msgids()
    for language in ("en", "ru"):
        assert set(merged(language)) - used == set(), language
