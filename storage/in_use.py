"""A lock beside a SQLite file that shows whether a PATRIOT process is using it.

A process that runs the bot's services on the file holds a shared ``flock`` on
``<file>.lock`` until it closes the database. ``patriot db downgrade`` asks for
the lock exclusively and without waiting, so it refuses while a bot runs on the
file, and a bot refuses to start while a downgrade runs. The kernel drops a
process's lock when the process ends, a crash included, so a lock file left
behind blocks nothing. PostgreSQL and in-memory databases have no file to lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process holds the database file's lock in a mode that excludes this one."""


class InUseLock:
    def __init__(self, database_file: str | None) -> None:
        self.path = Path(f"{database_file}.lock") if database_file else None
        self._descriptor: int | None = None

    def share(self) -> None:
        """Mark the file as used by this process; raise DatabaseInUse while a downgrade runs."""
        self._take(fcntl.LOCK_SH, "a `patriot db downgrade` is running on it: start the bot when it ends")

    def take_alone(self) -> None:
        """Take the file for this process alone; raise DatabaseInUse while a bot uses it."""
        self._take(fcntl.LOCK_EX, "a PATRIOT process is running on it: stop the bot first")

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the descriptor drops its lock
            self._descriptor = None

    def _take(self, mode: int, busy: str) -> None:
        if self.path is None or self._descriptor is not None:
            return
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise DatabaseInUse(f"{self.path.with_suffix('')} is in use, because {busy}") from None
        self._descriptor = descriptor
