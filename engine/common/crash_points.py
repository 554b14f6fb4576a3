"""Named crash points for the end-to-end restart tests. Test-only: inert in production.

A crash point ends the process at once with ``os._exit`` (no cleanup, no
flush, like ``kill -9``) when both variables are set:

- ``PATRIOT_TEST_HOOKS=1`` turns test hooks on at all, and
- ``PATRIOT_TEST_CRASH_AT`` names the point, e.g. ``bracket_before_arming``.

Neither variable is a setting and neither is read from ``.env``; one of them
alone does nothing, so a stray variable cannot stop a production process.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

ENABLE_VARIABLE = "PATRIOT_TEST_HOOKS"
POINT_VARIABLE = "PATRIOT_TEST_CRASH_AT"
CRASH_EXIT_CODE = 86

# Every point the code calls, so a test cannot ask for one that never fires.
# PAPER's one-transaction path passes order_before_persist, order_before_commit
# and order_recorded; the PENDING-first path passes the other order points.
POINTS = frozenset(
    {
        # The order path, in the order a confirmed order passes them.
        # The pre-trade checks passed and nothing is stored yet.
        "order_before_persist",
        # PAPER's one-transaction path: the simulator filled the order and PATRIOT's
        # order and fills are written, but the transaction is not committed.
        "order_before_commit",
        # The draft is closed and the PENDING order stored; nothing is sent yet.
        "order_persisted",
        # The exchange accepted the order; its report is not stored yet.
        "order_submitted",
        # The exchange's report is stored (on PAPER's one-transaction path: committed);
        # the user has not seen the outcome yet.
        "order_recorded",
        # The exchange accepted a bracket's entry; PATRIOT has not recorded its answer.
        "bracket_entry_sent",
        # The entry's fill is recorded; no exit order has been placed yet.
        "bracket_before_arming",
        # An exit's fill is recorded; the other exits have not been adjusted yet.
        "bracket_exit_filled",
        # An order's or a bracket's change is committed and its event published; the
        # subscriber has not yet queued the push and recorded it as notified.
        "event_before_notified",
    }
)


def hooks_enabled() -> bool:
    """Return whether PATRIOT_TEST_HOOKS=1 is set for this process."""
    return os.environ.get(ENABLE_VARIABLE) == "1"


def crash_point(name: str) -> None:
    """End the process here if the test hooks are on and this point was named; otherwise do nothing."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}")
    if os.environ.get(ENABLE_VARIABLE) != "1" or os.environ.get(POINT_VARIABLE) != name:
        return
    logger.critical("Test crash point %s reached: exiting with code %d", name, CRASH_EXIT_CODE)
    logging.shutdown()
    os._exit(CRASH_EXIT_CODE)
