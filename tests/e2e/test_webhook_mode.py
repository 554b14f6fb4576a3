"""The real ``python -m bot run`` process in webhook mode, with updates posted to its webhook server.

Webhook mode imports aiohttp's server only when it starts, and aiogram's method
models are built on first use, so this is the first time a fresh process uses
them. The fake Bot API server records the setWebhook call and the replies.
"""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from bot.runner import WEBHOOK_PATH
from tests.e2e.conftest import BotProcess
from tests.fakes.telegram_server import FakeTelegramServer

pytestmark = pytest.mark.e2e

WAIT = 30.0  # seconds: the maximum wait for any single step
SECRET = "webhook-secret-for-tests"
USER_ID = 5101


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_answers_start(telegram: FakeTelegramServer, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = BotProcess(
        tmp_path,
        telegram.base_url,
        {
            "WEBHOOK_URL": url,
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_SECRET": SECRET,
        },
    )
    try:
        await telegram.wait_for_call("setWebhook", timeout=WAIT)
        assert telegram.webhook_url == f"{url}{WEBHOOK_PATH}"
        update = telegram.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": USER_ID, "type": "private"},
                    "from": {"id": USER_ID, "is_bot": False, "first_name": "Web", "language_code": "en"},
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
        mark = telegram.mark()
        async with aiohttp.ClientSession() as session:
            forged = await session.post(f"{url}{WEBHOOK_PATH}", json=update)
            assert forged.status == 401, "an update without the secret is refused"
            posted = await session.post(
                f"{url}{WEBHOOK_PATH}", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )
            assert posted.status == 200

        welcome = await telegram.wait_for_message(USER_ID, "Welcome to PATRIOT", timeout=WAIT, since=mark)
        assert welcome.ok
        # The handler keeps running after the HTTP response and asks for a username (the user has none).
        prompt = await telegram.wait_for_message(USER_ID, "Choose a username", timeout=WAIT, since=mark)
        assert prompt.ok
        assert process.running
    finally:
        process.terminate()
        code = process.wait(10) if process.running else process.popen.returncode
        # pytest shows this output only when the test failed.
        print("--- bot stderr ---\n" + process.stderr())
        print("--- Bot API calls ---\n" + telegram.describe_calls())
    assert code == 0
