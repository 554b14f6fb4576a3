"""aiogram's types and methods are built on first use, and each one can still be built then."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: this test process imported aiogram long ago.
CHECK = textwrap.dedent(
    """
    import inspect

    import bot  # imports aiogram through bot.lazy_types
    import aiogram.types
    from pydantic import BaseModel, ValidationError
    from pydantic._internal._mock_val_ser import MockValSer

    models = [
        value
        for name in aiogram.types.__all__
        if inspect.isclass(value := getattr(aiogram.types, name)) and issubclass(value, BaseModel)
    ]
    deferred = [model for model in models if isinstance(model.__pydantic_validator__, MockValSer)]
    print("models", len(models), "deferred", len(deferred))

    update = aiogram.types.Update.model_validate(
        {
            "update_id": 7,
            "message": {
                "message_id": 1,
                "date": 1767225600,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
    )
    print("parsed", type(update.message.chat).__name__, update.message.entities[0].type)

    failed = []
    for model in models:
        try:
            model.model_validate({})  # the first validation builds a deferred validator
        except ValidationError:
            pass  # built: the empty input only lacks required fields
        except Exception as exc:
            failed.append(f"{model.__name__}: {exc}")
    print("failed", failed)
    print("still deferred", sum(isinstance(model.__pydantic_validator__, MockValSer) for model in models))
    """
)

METHODS_CHECK = textwrap.dedent(
    """
    import inspect

    import bot  # imports aiogram through bot.lazy_types
    import aiogram.methods
    from pydantic import ValidationError
    from pydantic._internal._mock_val_ser import MockValSer

    methods = [
        value
        for name in aiogram.methods.__all__
        if inspect.isclass(value := getattr(aiogram.methods, name))
        and issubclass(value, aiogram.methods.TelegramMethod)
        and not inspect.isabstract(value)
    ]
    # Without defer_build pydantic tries to build each method at import; the ones it
    # cannot resolve yet get the same placeholder, so the setting is checked as well.
    deferred = [
        method
        for method in methods
        if method.model_config.get("defer_build") and isinstance(method.__pydantic_validator__, MockValSer)
    ]
    print("methods", len(methods), "deferred", len(deferred))

    sent = aiogram.methods.SendMessage(chat_id=5, text="hi", reply_markup={"inline_keyboard": []})
    print("built", sent.chat_id, sent.text, type(sent.reply_markup).__name__)

    failed = []
    for method in methods:
        try:
            method.model_validate({})  # the first validation builds a deferred validator
        except ValidationError:
            pass  # built: the empty input only lacks required fields
        except Exception as exc:
            failed.append(f"{method.__name__}: {exc}")
    print("failed", failed)
    print("still deferred", sum(isinstance(method.__pydantic_validator__, MockValSer) for method in methods))
    """
)


def test_types_are_deferred_and_all_build_later() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    models, _, deferred = lines["models"].partition(" deferred ")
    assert int(models) > 300
    assert int(deferred) > 300  # nothing built them at import
    assert lines["parsed"] == "Chat bot_command"
    assert lines["failed"] == "[]"
    assert lines["still"] == "deferred 0"


def test_methods_are_deferred_and_all_build_later() -> None:
    result = subprocess.run(
        [sys.executable, "-c", METHODS_CHECK],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    methods, _, deferred = lines["methods"].partition(" deferred ")
    assert int(methods) > 150
    assert int(deferred) == int(methods)  # nothing built them at import
    assert lines["built"] == "5 hi InlineKeyboardMarkup"
    assert lines["failed"] == "[]"
    assert lines["still"] == "deferred 0"


# Loads bot/lazy_types.py alone (importing the bot package would import aiogram first), and
# makes the deferred import fail once, as a pydantic or aiogram that changed might.
FALLBACK = textwrap.dedent(
    """
    import builtins
    import importlib.util
    import logging

    logging.basicConfig()
    spec = importlib.util.spec_from_file_location("lazy_types", "bot/lazy_types.py")
    lazy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lazy)

    real = builtins.__import__
    state = {"failed": False}

    def failing_once(name, *args, **kwargs):
        if name == "aiogram" and not state["failed"]:
            state["failed"] = True
            raise TypeError("model_rebuild changed")
        return real(name, *args, **kwargs)

    builtins.__import__ = failing_once
    try:
        lazy.import_aiogram()
    finally:
        builtins.__import__ = real

    import aiogram.types

    print("imported", aiogram.types.Update.model_validate({"update_id": 1}).update_id)
    """
)


def test_failed_deferred_import_falls_back_to_eager() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FALLBACK],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "imported 1" in result.stdout
    assert "importing it eagerly" in result.stderr
