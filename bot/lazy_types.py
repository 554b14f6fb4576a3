"""Import aiogram with its Telegram types and methods built on first use instead of at import.

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

aiogram's 185 method models (``aiogram.methods`` in 3.31) have no
``defer_build``, so pydantic tries to build each one when its class is created.
That cost about 0.1-0.15 s of CPU at start on the 2-core benchmark machine (an
estimate from repeated imports while other work shared it). An import hook sets
``defer_build`` on their base class ``TelegramMethod`` as soon as
``aiogram.methods.base`` has run, before any method subclasses it, so each
method is built on its first call instead.
"""

from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from pydantic import BaseModel

logger = logging.getLogger(__name__)

_TYPES_PACKAGE = "aiogram.types."
_METHODS_BASE = "aiogram.methods.base"


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
    hook = _DeferMethods()
    sys.meta_path.insert(0, hook)
    # The import creates about 80,000 objects that the collector tracks, nearly all
    # kept for the life of the process, so collections during it find almost nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        import aiogram
    except Exception:
        # Another aiogram or pydantic may call model_rebuild differently: import it the usual way.
        logger.warning("Deferred import of aiogram failed; importing it eagerly", exc_info=True)
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        sys.meta_path.remove(hook)
        _forget_aiogram()
        import aiogram  # noqa: F401

        return
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        if hook in sys.meta_path:
            sys.meta_path.remove(hook)
        if collecting:
            gc.enable()

    for cls, namespace in deferred.items():
        module = vars(sys.modules[cls.__module__])
        for name, value in namespace.items():
            module.setdefault(name, value)
    logger.debug("aiogram imported with %d types built on first use", len(deferred))


class _DeferMethods(importlib.abc.MetaPathFinder):
    """Import hook that sets ``defer_build`` on ``TelegramMethod`` right after its module has run.

    pydantic copies a base class's ``model_config`` into each subclass when the
    subclass is created, so every method defined after that point is deferred.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _METHODS_BASE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.abc.Loader):
            return spec
        run_module = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            method = getattr(module, "TelegramMethod", None)
            if isinstance(method, type) and issubclass(method, BaseModel):
                method.model_config["defer_build"] = True
            else:
                logger.warning("aiogram.methods.base has no TelegramMethod; methods are built at import")

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _forget_aiogram() -> None:
    """Drop the modules of a failed aiogram import so the next import starts afresh."""
    for name in [name for name in sys.modules if name == "aiogram" or name.startswith("aiogram.")]:
        del sys.modules[name]
