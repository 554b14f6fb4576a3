"""Import aiogram with its Telegram types built on first use instead of at import.

aiogram 3.31 declares its types with pydantic's ``defer_build=True``, then its
``aiogram/types/__init__.py`` calls ``model_rebuild`` on every one of them (about
400 models) to resolve their forward references, which builds every validator
at import. On the 2-core benchmark machine that import took about 5 s of CPU
and left the process at about 165 MB resident. Deferred, it took 1.3 s and
59 MB (``bench/startup_time.py`` and ``bench/idle_rss.py`` measure the bot).

``import_aiogram`` lets those calls only record the namespace aiogram passes,
then puts the names of that namespace into each type's module, so that when
pydantic builds a type on its first use it resolves the same forward
references aiogram's own rebuild would have. Every other ``model_rebuild``
call is passed through unchanged, and the patch is removed once aiogram is
imported.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pydantic import BaseModel

logger = logging.getLogger(__name__)

_TYPES_PACKAGE = "aiogram.types."


def import_aiogram() -> None:
    """Import aiogram with deferred type validators; does nothing when aiogram is already imported."""
    if "aiogram" in sys.modules:
        return
    original = BaseModel.__dict__["model_rebuild"]
    deferred: dict[type[BaseModel], dict[str, Any]] = {}

    def model_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith(_TYPES_PACKAGE):
            deferred[cls] = _types_namespace
            return None
        return original.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[method-assign,assignment]
    try:
        import aiogram
    except Exception:
        # Another aiogram or pydantic may call model_rebuild differently: import it the usual way.
        logger.warning("Deferred import of aiogram failed; importing it eagerly", exc_info=True)
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        _forget_aiogram()
        import aiogram  # noqa: F401

        return
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]

    for cls, namespace in deferred.items():
        module = vars(sys.modules[cls.__module__])
        for name, value in namespace.items():
            module.setdefault(name, value)
    logger.debug("aiogram imported with %d types built on first use", len(deferred))


def _forget_aiogram() -> None:
    """Drop the modules of a failed aiogram import so the next import starts afresh."""
    for name in [name for name in sys.modules if name == "aiogram" or name.startswith("aiogram.")]:
        del sys.modules[name]
