"""A fake Telegram Bot API server for tests that run the real bot process.

It listens on 127.0.0.1 on a free port and serves ``/bot<token>/<method>``
for the methods PATRIOT calls. Tests push updates, which the bot receives
through real long polling, then read the record of every request, wait for
messages, press inline buttons, and inject errors (429, 403, 5xx, slow
responses) per method or per chat.

Every method must be called from the event loop that runs the server:

    async with FakeTelegramServer(TOKEN) as telegram:
        start_the_bot(api_base=telegram.base_url)
        telegram.push_message(5001, "/start")
        reply = await telegram.wait_for_message(5001, contains="Welcome")

Error descriptions copy the wording Telegram uses where it is widely
reported (401, 403 blocked, 429, "message is not modified", ...). The HTML
check is an approximation of Telegram's parser: it rejects an unescaped
``<`` and unsupported or unbalanced tags, which is what a missing ``esc()``
produces, and it accepts a bare ``&``.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

HOST = "127.0.0.1"
TEXT_LIMIT = 4096  # characters after entity parsing, per the Bot API docs for sendMessage
CAPTION_LIMIT = 1024
MAX_UPDATES_PER_REQUEST = 100
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")

# Tags Telegram's HTML parse mode supports (Bot API "HTML style").
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
        "tg-time",
    }
)
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>")

# Form fields carry strings only. These are free text, so they are never
# decoded as JSON, booleans or numbers even when they look like one.
TEXT_FIELDS = frozenset(
    {"text", "caption", "description", "short_description", "title", "name", "url", "secret_token", "emoji"}
)
INTEGER_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "cache_time",
        "from_chat_id",
        "message_thread_id",
        "reply_to_message_id",
        "max_connections",
    }
)
MESSAGE_METHODS = frozenset({"sendmessage", "editmessagetext"})
# Default of push_message profile fields: keep the value of the user's previous update.
KEEP: Any = object()

FORBIDDEN_BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Bot API error response: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class UploadedFile:
    """A file part of a multipart request; only its name, type and size are kept."""

    field_name: str
    filename: str
    content_type: str
    size: int


@dataclass
class ApiCall:
    """One authorized request the bot made, with the response it got."""

    method: str  # as the client spelled it, e.g. "sendMessage"
    params: dict[str, Any]
    arrived_at: float  # time.monotonic() when the request arrived
    status: int | None = None  # HTTP status of the response; None while pending or when the client went away
    response: dict[str, Any] | None = None  # the JSON response body; None for a raw_body fault

    @property
    def name(self) -> str:
        """The method name in lower case; Telegram matches method names case-insensitively."""
        return self.method.lower()

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    @property
    def text(self) -> str | None:
        """The ``text`` or ``caption`` as sent, with its HTML markup."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def result(self) -> Any:
        return self.response.get("result") if self.response else None

    @property
    def message_id(self) -> int | None:
        """The id of the message this call created or edited."""
        result = self.result
        if isinstance(result, dict) and "message_id" in result:
            return int(result["message_id"])
        value = self.params.get("message_id")
        return value if isinstance(value, int) else None

    def callback_data(self) -> list[str]:
        """The callback_data of every inline button sent with this call, row by row."""
        return inline_callback_data(self.params.get("reply_markup"))


@dataclass
class BotMessage:
    """The current state of a message the bot sent, after any edits."""

    chat_id: int
    message_id: int
    date: int
    text: str | None  # text or caption as sent, with its markup
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    kind: str = "text"  # "text" or "photo"
    edit_count: int = 0

    @property
    def plain_text(self) -> str | None:
        """The text as the user sees it: markup removed, entities decoded."""
        if self.text is None:
            return None
        return plain_text(self.text, self.parse_mode)

    @property
    def inline_keyboard(self) -> dict[str, Any] | None:
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    def callback_data(self) -> list[str]:
        return inline_callback_data(self.inline_keyboard)


@dataclass
class TelegramUser:
    """The profile a pushed update carries in ``from`` and in the private chat."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"

    def user_json(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def chat_json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class Fault:
    """A canned error response for the next ``remaining`` calls of one method.

    With ``chat_id`` set, only calls for that chat use it. ``delay`` seconds
    pass before the response. With ``error_code`` None the call is then
    served normally, which makes a slow but successful response.
    """

    method: str
    error_code: int | None
    description: str = ""
    remaining: int = 1
    chat_id: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    raw_body: str | None = None  # sent instead of JSON, e.g. a proxy's HTML error page

    def matches(self, call: ApiCall) -> bool:
        return self.remaining > 0 and (self.chat_id is None or self.chat_id == call.chat_id)

    def error(self) -> ApiError:
        assert self.error_code is not None
        parameters = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.error_code, self.description, parameters)


def inline_callback_data(reply_markup: Any) -> list[str]:
    if not isinstance(reply_markup, dict):
        return []
    rows = reply_markup.get("inline_keyboard") or []
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def plain_text(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    return html.unescape(_HTML_TAG.sub("", text))


def html_error(text: str) -> str | None:
    """Return why Telegram would reject ``text`` in HTML parse mode, or None if it parses."""
    open_tags: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        byte_offset = len(text[:start].encode())
        match = _HTML_TAG.match(text, start)
        if match is None:
            return f'Bad Request: can\'t parse entities: Unexpected "<" at byte offset {byte_offset}'
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in HTML_TAGS:
            return (
                "Bad Request: can't parse entities: "
                f'Unsupported start tag "{name}" at byte offset {byte_offset}'
            )
        if closing:
            if not open_tags or open_tags[-1] != name:
                return f"Bad Request: can't parse entities: Unexpected end tag at byte offset {byte_offset}"
            open_tags.pop()
        else:
            open_tags.append(name)
        position = match.end()
    if open_tags:
        return (
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
            f'"{open_tags[-1]}"'
        )
    return None


def _decode_form_value(key: str, value: str) -> Any:
    """Turn a form field back into the value the client serialized.

    aiogram's AiohttpSession sends objects and lists as JSON strings and
    booleans as "true"/"false".
    """
    if key in TEXT_FIELDS:
        return value
    if key in INTEGER_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _normalize_json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-in-JSON fields, which some clients send as strings even in a JSON body."""
    normalized = {}
    for key, value in params.items():
        normalized[key] = _decode_form_value(key, value) if isinstance(value, str) else value
    return normalized


async def read_params(request: web.Request) -> dict[str, Any]:
    """Read the parameters of a Bot API request: query string, then JSON, form or multipart body."""
    params: dict[str, Any] = {key: _decode_form_value(key, value) for key, value in request.query.items()}
    if request.method != "POST" or not request.body_exists:
        return params

    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: invalid JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        params.update(_normalize_json_params(body))
        return params

    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            params[key] = UploadedFile(key, value.filename, value.content_type, len(content))
        else:
            params[key] = _decode_form_value(key, str(value))
    return params


class FakeTelegramServer:
    """An in-process Bot API server on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str = "patriot_test_bot",
        bot_first_name: str = "PATRIOT",
        first_update_id: int = 1,
    ) -> None:
        bot_id, _, _secret = token.partition(":")
        if not bot_id.isdigit():
            raise ValueError(
                "token must look like 123456:secret; the part before the colon must be the numeric bot id"
            )
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

        self.sent: list[ApiCall] = []
        self.rejected_requests = 0  # requests with a wrong token: rejected with 401 and not recorded in sent
        self.acknowledged_offset = 0  # the highest offset a getUpdates call has confirmed
        self.last_update_id = first_update_id - 1  # the id of the newest pushed update
        self.webhook_url = ""
        self.commands: dict[tuple[str, int | None, str], list[dict[str, Any]]] = {}

        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(first_update_id)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._open_callback_ids: set[str] = set()
        self._users: dict[int, TelegramUser] = {}
        self._messages: dict[tuple[int, int], BotMessage] = {}
        self._chat_message_ids: dict[int, itertools.count[int]] = {}
        self._faults: list[Fault] = []
        self._blocked_chats: set[int] = set()
        self._waiters: list[asyncio.Future[None]] = []

        self._runner: web.AppRunner | None = None
        self.port = 0

        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "sendphoto": self._send_photo,
            "sendchataction": self._send_chat_action,
            "getchat": self._get_chat,
        }

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation stops a pending long poll when the client disconnects.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        # Port 0 lets the OS pick a free port; addresses reports the one bound.
        await web.TCPSite(self._runner, HOST, self.port).start()
        self.port = int(self._runner.addresses[0][1])

    async def go_offline(self) -> None:
        """Stop listening, as a lost network: the bot's requests fail with a refused connection.

        Pushed updates and every record are kept; ``go_online`` listens on the same port again.
        """
        await self.close()

    async def go_online(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._notify()

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The value for TELEGRAM_API_BASE."""
        if not self.port:
            raise RuntimeError("the server is not started")
        return f"http://{HOST}:{self.port}"

    # -- updates pushed by the test ------------------------------------------

    def push_message(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = KEEP,
        username: str | None = KEEP,
        first_name: str = KEEP,
    ) -> dict[str, Any]:
        """Queue a private text message from a user and return the update.

        A profile field left out keeps its value from the user's previous
        update, or defaults to language_code "en", no username and first name
        "User <id>". Callback queries reuse the profile. A leading
        ``/command`` gets its bot_command entity, as Telegram adds.
        """
        previous = self._users.get(user_id) or TelegramUser(user_id, f"User {user_id}")
        user = TelegramUser(
            user_id,
            previous.first_name if first_name is KEEP else first_name,
            previous.username if username is KEEP else username,
            previous.language_code if language_code is KEEP else language_code,
        )
        self._users[user_id] = user
        message: dict[str, Any] = {
            "message_id": self._next_message_id(user_id),
            "date": int(time.time()),
            "chat": user.chat_json(),
            "from": user.user_json(),
            "text": text,
        }
        command = re.match(r"/\S+", text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_length(command.group())}
            ]
        return self.push_update({"message": message})

    def push_callback(self, user_id: int, data: str, message_id: int) -> dict[str, Any]:
        """Queue a press of an inline button with ``data`` on a message the bot sent to ``user_id``.

        ``data`` need not belong to a button of that message, so tests can send
        forged payloads. Raises LookupError when the bot never sent that message.
        """
        bot_message = self._messages.get((user_id, message_id))
        if bot_message is None:
            raise LookupError(f"the bot has no message {message_id} in chat {user_id} to press a button on")
        user = self._users.get(user_id) or TelegramUser(user_id, f"User {user_id}")
        query_id = str(next(self._callback_ids))
        self._open_callback_ids.add(query_id)
        query = {
            "id": query_id,
            "from": user.user_json(),
            "chat_instance": f"instance-{user_id}",
            "message": self._message_json(bot_message),
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any update object; its update_id is assigned here."""
        update = {"update_id": next(self._update_ids), **update}
        self.last_update_id = update["update_id"]
        self._updates.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # -- what the bot sent ---------------------------------------------------

    def mark(self) -> int:
        """Return the index of the next call in ``sent``, to pass as ``since``."""
        return len(self.sent)

    def calls(
        self, method: str | None = None, *, since: int = 0, chat_id: int | None = None
    ) -> list[ApiCall]:
        return [
            call
            for call in self.sent[since:]
            if (method is None or call.name == method.lower())
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def arrival_times(self, method: str | None = None, *, chat_id: int | None = None) -> list[float]:
        """Monotonic arrival times of the matching calls, oldest first."""
        return [call.arrived_at for call in self.calls(method, chat_id=chat_id)]

    def messages_to(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat in their current state, oldest first; deleted ones are left out."""
        messages = [message for (chat, _), message in self._messages.items() if chat == chat_id]
        return sorted(messages, key=lambda message: message.message_id)

    def message(self, chat_id: int, message_id: int) -> BotMessage | None:
        return self._messages.get((chat_id, message_id))

    def last_keyboard_message(self, chat_id: int) -> BotMessage | None:
        """The newest message in the chat that still has an inline keyboard."""
        for message in reversed(self.messages_to(chat_id)):
            if message.inline_keyboard is not None:
                return message
        return None

    def last_inline_keyboard(self, chat_id: int) -> list[str]:
        """The callback_data of the buttons of the newest message with an inline keyboard; [] if none."""
        message = self.last_keyboard_message(chat_id)
        return message.callback_data() if message is not None else []

    def commands_for(
        self, language_code: str = "", *, scope: str = "default", chat_id: int | None = None
    ) -> list[dict[str, Any]] | None:
        """The commands last set for a scope and language, or None if none were set."""
        return self.commands.get((scope, chat_id, language_code))

    async def wait_for(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 10.0, *, since: int = 0
    ) -> ApiCall:
        """Wait until a call at index ``since`` or later matches; return the first that does.

        Calls are offered as soon as they arrive, before the server responds,
        so check ``call.ok`` in the predicate when the response matters. Raises
        TimeoutError listing the calls seen, to show what the bot did instead.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Every call is checked again after each change, because a pending
            # call that did not match may match once it has its response.
            for call in self.sent[since:]:
                if predicate(call):
                    return call
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no matching Bot API call within {timeout} s; calls since #{since}:\n"
                    + self.describe_calls(since=since)
                )
            await self._wait_for_change(remaining)

    async def wait_for_call(self, method: str, timeout: float = 10.0, *, since: int = 0) -> ApiCall:
        """Wait for a call of ``method`` at index ``since`` or later."""
        return await self.wait_for(lambda call: call.name == method.lower(), timeout, since=since)

    async def wait_for_message(
        self, chat_id: int, contains: str | None = None, *, timeout: float = 10.0, since: int = 0
    ) -> ApiCall:
        """Wait until the bot sends or edits a text message in ``chat_id`` that contains ``contains``.

        Only calls that Telegram accepted (HTTP 200) count.
        """

        def matches(call: ApiCall) -> bool:
            return (
                call.name in MESSAGE_METHODS
                and call.ok
                and call.chat_id == chat_id
                and (contains is None or contains in (call.text or ""))
            )

        return await self.wait_for(matches, timeout, since=since)

    def describe_calls(self, *, since: int = 0, chat_id: int | None = None, polling: bool = False) -> str:
        """One line per recorded call, for failure messages; getUpdates calls only when ``polling``."""
        lines = []
        for index, call in enumerate(self.sent[since:], start=since):
            if chat_id is not None and call.chat_id != chat_id:
                continue
            if call.name == "getupdates" and not polling:
                continue
            params = {key: value for key, value in call.params.items() if key != "reply_markup"}
            buttons = call.callback_data()
            suffix = f" buttons={buttons}" if buttons else ""
            lines.append(f"  #{index} {call.method} -> {call.status}: {params!r}{suffix}")
        return "\n".join(lines) or "  (none)"

    # -- fault injection -----------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int | None,
        description: str = "",
        count: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        raw_body: str | None = None,
    ) -> Fault:
        """Make the next ``count`` calls of ``method`` (for ``chat_id`` only, if given) fail.

        Each call waits ``delay`` seconds, then gets ``error_code`` with
        ``description``, or ``raw_body`` as text/html when it is given. With
        ``error_code`` None the call is served normally after the delay.
        Faults for one method are used in the order they were added.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        fault = Fault(method.lower(), error_code, description, count, chat_id, retry_after, delay, raw_body)
        self._faults.append(fault)
        return fault

    def rate_limit_next(
        self, method: str, retry_after: int, *, count: int = 1, chat_id: int | None = None
    ) -> Fault:
        """Respond 429 with ``parameters.retry_after``, as Telegram's flood control does."""
        return self.fail_next(
            method,
            error_code=429,
            description=f"Too Many Requests: retry after {retry_after}",
            count=count,
            chat_id=chat_id,
            retry_after=retry_after,
        )

    def server_error_next(
        self, method: str, *, status: int = 502, count: int = 1, chat_id: int | None = None
    ) -> Fault:
        """Respond with a 5xx error in Bot API JSON form."""
        return self.fail_next(
            method, error_code=status, description="Bad Gateway", count=count, chat_id=chat_id
        )

    def delay_next(self, method: str, seconds: float, *, count: int = 1, chat_id: int | None = None) -> Fault:
        """Serve the next calls normally, but only after ``seconds``."""
        return self.fail_next(method, error_code=None, count=count, chat_id=chat_id, delay=seconds)

    def block_chat(self, chat_id: int) -> None:
        """Respond 403 "bot was blocked by the user" to every send/edit/delete in the chat until unblocked."""
        self._blocked_chats.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked_chats.discard(chat_id)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._blocked_chats.clear()

    # -- request handling ----------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            self.rejected_requests += 1
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)

        call = ApiCall(request.match_info["method"], {}, time.monotonic())
        try:
            call.params = await read_params(request)
        except ApiError as error:
            self.sent.append(call)
            return self._finish(call, error.error_code, error.body())
        # Recorded only once its parameters are read, so no waiter gets a call without them.
        self.sent.append(call)
        self._notify()

        fault = self._take_fault(call)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.error_code is not None and fault.raw_body is not None:
                call.status = fault.error_code
                self._notify()
                return web.Response(status=fault.error_code, text=fault.raw_body, content_type="text/html")
            if fault.error_code is not None:
                error = fault.error()
                return self._finish(call, error.error_code, error.body())

        if call.chat_id in self._blocked_chats and call.name.startswith(
            ("send", "edit", "delete", "copy", "forward")
        ):
            error = ApiError(403, FORBIDDEN_BLOCKED)
            return self._finish(call, 403, error.body())

        handler = self._methods.get(call.name)
        if handler is None:
            return self._finish(call, 404, ApiError(404, "Not Found: method not found").body())
        try:
            result = handler(call.params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return self._finish(call, error.error_code, error.body())
        return self._finish(call, 200, {"ok": True, "result": result})

    def _finish(self, call: ApiCall, status: int, body: dict[str, Any]) -> web.Response:
        call.status = status
        call.response = body
        self._notify()
        return web.json_response(body, status=status)

    def _take_fault(self, call: ApiCall) -> Fault | None:
        for fault in self._faults:
            if fault.method == call.name and fault.matches(call):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_change(self, timeout: float) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    # -- Bot API methods -----------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", MAX_UPDATES_PER_REQUEST), 1), MAX_UPDATES_PER_REQUEST)
        timeout = max(_int_param(params, "timeout", 0), 0)
        self._acknowledge(offset)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._updates:
                return list(itertools.islice(self._updates, limit))
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_for_change(remaining)

    def _acknowledge(self, offset: int) -> None:
        if offset > 0:
            # Telegram drops every update with an id below a positive offset.
            self.acknowledged_offset = max(self.acknowledged_offset, offset)
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:
            # A negative offset keeps only the last -offset updates.
            while len(self._updates) > -offset:
                self._updates.popleft()

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        self._check_text(text, parse_mode, TEXT_LIMIT, "Bad Request: message is too long")
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            text=text,
            parse_mode=parse_mode,
            reply_markup=_markup_param(params),
        )
        self._messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        if not params.get("photo"):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = params.get("caption")
        parse_mode = params.get("parse_mode")
        if isinstance(caption, str):
            self._check_text(caption, parse_mode, CAPTION_LIMIT, "Bad Request: message caption is too long")
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            date=int(time.time()),
            text=caption if isinstance(caption, str) else None,
            parse_mode=parse_mode,
            reply_markup=_markup_param(params),
            kind="photo",
        )
        self._messages[(chat_id, message.message_id)] = message
        return self._message_json(message)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        parse_mode = params.get("parse_mode")
        self._check_text(text, parse_mode, TEXT_LIMIT, "Bad Request: MESSAGE_TOO_LONG")
        # Leaving out reply_markup removes the inline keyboard of the message.
        markup = _markup_param(params)
        if text == message.text and markup == message.inline_keyboard:
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.parse_mode, message.reply_markup = text, parse_mode, markup
        message.edit_count += 1
        return self._message_json(message, edited=True)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        markup = _markup_param(params)
        if markup == message.inline_keyboard:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edit_count += 1
        return self._message_json(message, edited=True)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callback_ids:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat_id(params)
        message_id = _int_param(params, "message_id", 0)
        if self._messages.pop((chat_id, message_id), None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, 'Bad Request: parameter "commands" must be an array of at most 100 commands')
        for command in commands:
            if not COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_commands_key(params)] = commands
        return True

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise ApiError(400, "Bad Request: bad webhook: URL must be provided for webhook")
        self.webhook_url = url
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._chat_id(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        user = self._users.get(chat_id)
        if user is None:
            raise ApiError(400, "Bad Request: chat not found")
        # ChatFullInfo fields that aiogram requires; the values are Telegram's defaults for a new chat.
        return {
            **user.chat_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    # -- helpers -------------------------------------------------------------

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            # Only private chats exist here, and they have no @username form.
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _message_to_edit(self, params: dict[str, Any]) -> BotMessage:
        chat_id = self._chat_id(params)
        message = self._messages.get((chat_id, _int_param(params, "message_id", 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _check_text(self, text: str, parse_mode: Any, limit: int, too_long: str) -> None:
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            problem = html_error(text)
            if problem is not None:
                raise ApiError(400, problem)
        if len(plain_text(text, parse_mode if isinstance(parse_mode, str) else None)) > limit:
            raise ApiError(400, too_long)

    def _next_message_id(self, chat_id: int) -> int:
        # In a private chat both sides share one sequence of message ids.
        counter = self._chat_message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _message_json(self, message: BotMessage, *, edited: bool = False) -> dict[str, Any]:
        user = self._users.get(message.chat_id)
        chat = user.chat_json() if user else {"id": message.chat_id, "type": "private", "first_name": "User"}
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": chat,
            "from": {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")},
        }
        if edited:
            result["edit_date"] = int(time.time())
        if message.kind == "photo":
            result["photo"] = [
                {
                    "file_id": f"photo-{message.chat_id}-{message.message_id}",
                    "file_unique_id": f"u{message.chat_id}x{message.message_id}",
                    "width": 1280,
                    "height": 720,
                }
            ]
            if message.text is not None:
                result["caption"] = message.plain_text
        elif message.text is not None:
            result["text"] = message.plain_text
        # Telegram returns only inline keyboards; reply keyboards stay on the client.
        if message.inline_keyboard is not None:
            result["reply_markup"] = message.inline_keyboard
        return result


def _int_param(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f'Bad Request: parameter "{key}" must be an integer') from exc
    return value


def _markup_param(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    return markup


def _commands_key(params: dict[str, Any]) -> tuple[str, int | None, str]:
    scope = params.get("scope") if isinstance(params.get("scope"), dict) else {"type": "default"}
    chat_id = scope.get("chat_id")
    return (
        str(scope.get("type", "default")),
        chat_id if isinstance(chat_id, int) else None,
        str(params.get("language_code") or ""),
    )


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def callback_data_with_prefix(data: Iterable[str], prefix: str) -> str:
    """Return the only item of ``data`` that starts with ``prefix``; raise AssertionError otherwise."""
    items = list(data)
    matches = [item for item in items if item.startswith(prefix)]
    if len(matches) != 1:
        raise AssertionError(f"expected one button with callback data {prefix!r}..., got {items!r}")
    return matches[0]
