"""Test-only hooks that let the end-to-end tests kill the real process at a named step.

``crash_point(name)`` does nothing unless the process was started with both
``PATRIOT_TEST_HOOKS=1`` and ``PATRIOT_TEST_CRASH_AT=<name>``. When both are
set and the name matches, the process sends itself SIGKILL at once: no
``finally`` block, shutdown hook or buffered write runs, exactly as with
``kill -9`` from outside. The environment is read once, at the first call,
so a hook that is off costs one comparison.

Each crash point is a line in the code path it names, such as
``crash_point("order.persisted")`` right after the PENDING order is
committed. Tests list the points they expect in ``CRASH_POINTS``.
"""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

ENABLE_VARIABLE = "PATRIOT_TEST_HOOKS"
CRASH_VARIABLE = "PATRIOT_TEST_CRASH_AT"

# The crash points of the order path, in the order a confirmed order passes them.
CRASH_POINTS = (
    "order.before_persist",  # pre-trade checks passed, nothing stored yet
    "order.persisted",  # draft closed and PENDING order stored, not yet sent
    "order.submitted",  # the exchange accepted the order, its answer not yet stored
    "order.recorded",  # the exchange's answer stored, the user not yet told
)

_UNSET = object()
_armed: object = _UNSET  # the crash point name, None when hooks are off, or _UNSET before the first read


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when the test hooks ask for a crash at ``name``."""
    global _armed
    if _armed is _UNSET:
        _armed = _read_environment()
    if _armed is None or _armed != name:
        return
    logger.critical("Test hook: crashing at %s", name)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def hooks_enabled() -> bool:
    """Tell whether PATRIOT_TEST_HOOKS=1 is set for this process."""
    return os.environ.get(ENABLE_VARIABLE) == "1"


def reset() -> None:
    """Forget the environment read so far (for tests that change it in-process)."""
    global _armed
    _armed = _UNSET


def _read_environment() -> str | None:
    if not hooks_enabled():
        return None
    point = os.environ.get(CRASH_VARIABLE) or None
    if point is not None:
        logger.warning("Test hooks are on: this process will crash at %s", point)
    return point
