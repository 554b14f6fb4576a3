"""The key vault: API keys, secrets and passphrases encrypted with Fernet through MultiFernet.

MASTER_KEY lists one or more Fernet keys, newest first, separated by commas;
MASTER_KEY_FILE names a file holding the same text, readable by the service
user only. New secrets are encrypted under the newest key, and every listed
key decrypts. So after a new key is added in front, the old secrets stay
readable until ``patriot keys rotate`` re-encrypts them under the new one.
The old key can be dropped after that.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from engine.common.secrets import Secret
from engine.errors import VaultError

HOW_TO_MAKE_ONE = (
    "run `patriot keys generate` and set the printed key as MASTER_KEY "
    "(or write it to a file readable only by the service user and set MASTER_KEY_FILE)"
)


class MasterKeyError(Exception):
    """The master key is missing, malformed or stored insecurely; the message names the fix."""


def generate_master_key() -> str:
    """Return a new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def parse_master_keys(text: str, source: str = "MASTER_KEY") -> list[Secret]:
    """Split ``text`` into keys (commas, spaces or new lines between them), newest first.

    Raises MasterKeyError naming the position of a malformed key, never its value.
    """
    parts = [part for part in re.split(r"[\s,]+", text.strip()) if part]
    if not parts:
        raise MasterKeyError(f"{source}: empty; {HOW_TO_MAKE_ONE}")
    keys = []
    for position, part in enumerate(parts, 1):
        try:
            Fernet(part.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise MasterKeyError(
                f"{source}: key {position} of {len(parts)} is not a Fernet key "
                "(44 characters of URL-safe base64 from `patriot keys generate`)"
            ) from None
        keys.append(Secret(part))
    return keys


def read_master_key_file(path: Path) -> list[Secret]:
    """Read keys from a file that only the service user can read; refuse any other file."""
    try:
        info = path.stat()
    except OSError as exc:
        raise MasterKeyError(f"MASTER_KEY_FILE: cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise MasterKeyError(f"MASTER_KEY_FILE: {path} is not a regular file")

    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise MasterKeyError(
            f"MASTER_KEY_FILE: {path} is accessible to group or others (mode {mode:04o}); "
            f"allow the owner only: chmod 600 {path}"
        )
    if info.st_uid != os.geteuid():
        raise MasterKeyError(
            f"MASTER_KEY_FILE: {path} belongs to uid {info.st_uid}, not to the service user "
            f"(uid {os.geteuid()}); chown it to the service user"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise MasterKeyError(f"MASTER_KEY_FILE: {path} is not a readable ASCII text file") from None
    return parse_master_keys(text, source="MASTER_KEY_FILE")


def load_master_keys(master_key: Secret | None, master_key_file: Path | None) -> list[Secret]:
    """Return the configured master keys, newest first; raise MasterKeyError when there are none."""
    if master_key is not None and master_key_file is not None:
        raise MasterKeyError("MASTER_KEY and MASTER_KEY_FILE are both set; keep only one of them")
    if master_key is not None:
        return parse_master_keys(master_key.reveal())
    if master_key_file is not None:
        return read_master_key_file(master_key_file)
    raise MasterKeyError(f"MASTER_KEY: missing; {HOW_TO_MAKE_ONE}")


class KeyVault:
    """Seals and opens secrets; implements the engine's ``SecretBox`` port."""

    def __init__(self, keys: Sequence[Secret], *, ephemeral: bool = False) -> None:
        if not keys:
            raise MasterKeyError(f"MASTER_KEY: missing; {HOW_TO_MAKE_ONE}")
        self._fernet = MultiFernet([Fernet(key.reveal().encode("ascii")) for key in keys])
        self.key_count = len(keys)
        # True for a key that lives only in this process (``patriot chat`` without MASTER_KEY).
        self.ephemeral = ephemeral

    @classmethod
    def with_ephemeral_key(cls) -> KeyVault:
        """Return a vault whose key exists only in memory, so what it seals is unreadable after exit."""
        return cls([Secret(generate_master_key())], ephemeral=True)

    def seal(self, secret: Secret) -> str:
        return self._fernet.encrypt(secret.reveal().encode("utf-8")).decode("ascii")

    def open(self, token: str) -> Secret:
        try:
            return Secret(self._fernet.decrypt(token.encode("ascii")).decode("utf-8"))
        except (InvalidToken, UnicodeError):
            raise _locked() from None

    def reseal(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise _locked() from None


def _locked() -> VaultError:
    return VaultError(
        "a stored secret cannot be decrypted with any key in MASTER_KEY: it was encrypted under "
        "another master key. Put that key back, after the new one (MASTER_KEY=new,old), then run "
        "`patriot keys rotate`"
    )
