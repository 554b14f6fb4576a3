"""Keep the catalogs in step with the code.

    python locales/update.py            # add new msgids to <lang>/LC_MESSAGES/messages.po
    python locales/update.py --file orders.po
    python locales/update.py --check    # exit 1 if a msgid lacks a translation in any language
    python locales/update.py --prune    # drop entries the code no longer uses, from every file
    python locales/update.py --dedupe   # keep each msgid in its first file only (after a merge)

New messages are added to the chosen file of every language: with the English
text as the English translation, and empty (to be translated) elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = Path(__file__).resolve().parent
LANGUAGES = ("en", "ru")
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None}
SOURCE_DIRS = ("bot",)


def extract_msgids() -> set[str]:
    found: set[str] = set()
    for directory in SOURCE_DIRS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / directory, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def load_language(language: str) -> dict[str, tuple[Path, Catalog]]:
    """Map each msgid to the file and catalog it lives in."""
    located: dict[str, tuple[Path, Catalog]] = {}
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if message.id:
                located[message.id] = (path, catalog)
    return located


def missing_translations(msgids: set[str]) -> list[str]:
    problems = []
    for language in LANGUAGES:
        merged: dict[str, str] = {}
        for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as handle:
                for message in read_po(handle, locale=language):
                    if message.id:
                        merged[message.id] = message.string or ""
        for msgid in sorted(msgids):
            if not merged.get(msgid):
                problems.append(f"{language}: no translation for {msgid!r}")
    return problems


def add_new(msgids: set[str], filename: str) -> None:
    for language in LANGUAGES:
        known = load_language(language)
        path = LOCALES / language / "LC_MESSAGES" / filename
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, project="PATRIOT")
        added = 0
        for msgid in sorted(msgids - set(known)):
            catalog.add(msgid, msgid if language == "en" else "")
            added += 1
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, no_location=True, sort_output=True)
        print(f"{path.relative_to(ROOT)}: {added} new messages")


def prune(msgids: set[str]) -> None:
    for language in LANGUAGES:
        for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            unused = [message.id for message in catalog if message.id and message.id not in msgids]
            for msgid in unused:
                del catalog[msgid]
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, no_location=True, sort_output=True)
            if unused:
                print(f"{path.relative_to(ROOT)}: {len(unused)} unused messages removed")


def dedupe() -> None:
    """Remove a msgid from every file but the first (by name) that defines it; report differing texts."""
    for language in LANGUAGES:
        first: dict[str, tuple[str, str]] = {}
        for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            repeated = [message for message in catalog if message.id and message.id in first]
            for message in repeated:
                kept_file, kept_text = first[message.id]
                if message.string != kept_text:
                    print(
                        f"{language}: {message.id!r} differs: {kept_file} keeps {kept_text!r}, "
                        f"{path.name} had {message.string!r}"
                    )
                del catalog[message.id]
            for message in catalog:
                if message.id:
                    first[message.id] = (path.name, message.string)
            if repeated:
                with path.open("wb") as handle:
                    write_po(handle, catalog, width=100, no_location=True, sort_output=True)
                print(f"{path.relative_to(ROOT)}: {len(repeated)} repeated messages removed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default="messages.po", help="catalog file that receives new messages")
    parser.add_argument("--check", action="store_true", help="only report messages without translation")
    parser.add_argument("--prune", action="store_true", help="remove messages the code no longer uses")
    parser.add_argument("--dedupe", action="store_true", help="keep each message in its first file only")
    args = parser.parse_args()

    msgids = extract_msgids()
    if args.check:
        problems = missing_translations(msgids)
        print("\n".join(problems) or f"{len(msgids)} messages, all translated")
        return 1 if problems else 0
    if args.prune:
        prune(msgids)
        return 0
    if args.dedupe:
        dedupe()
        return 0
    add_new(msgids, args.file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
