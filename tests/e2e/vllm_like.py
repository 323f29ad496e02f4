"""A stand-in for a vLLM server serving Kimi's open weights (docs/kimi.md §19.2), for the
``openai_compatible`` upstream's e2e tests: a real server on 127.0.0.1 that forwards
``POST /v1/chat/completions`` to the emulator's Open Platform OpenAI face and rewrites the
replies the ways vLLM differs from Moonshot's API:

- every tool-call id becomes ``functions.NAME:IDX``, IDX counting calls within the reply (so it
  repeats ``:0`` turn after turn, as vLLM commonly does);
- reasoning comes as ``reasoning`` (vLLM ≥ 0.16), never ``reasoning_content``, in ``message``
  and in stream ``delta``s;
- replies name the host's model id;
- thinking is switched by ``chat_template_kwargs: {"thinking": bool}`` (sent on to the emulator
  as Kimi's ``thinking`` field).

Every request body is recorded as received (``received``), with its ``authorization`` header
(``authorizations``). ``fail_with`` answers the next requests with a fixed status and JSON body.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any

import httpx
import orjson
import uvicorn

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

EMULATOR_KEY = "sk-vllm-like-forwarder"  # any sk- key is an Open Platform key to the emulator
EMULATOR_MODEL = "kimi-k2.6"  # thinking on by default: replies carry reasoning


def _fix_choice_part(part: dict[str, Any]) -> None:
    """A ``message`` or ``delta`` the vLLM way, in place."""
    if "reasoning_content" in part:
        part["reasoning"] = part.pop("reasoning_content")
    for position, call in enumerate(part.get("tool_calls") or []):
        if "id" in call:
            call["id"] = f"functions.{call['function']['name']}:{call.get('index', position)}"


def vllm_reply(body: dict[str, Any], host_model: str) -> dict[str, Any]:
    """An emulator reply body (a completion or a stream chunk) as vLLM would send it."""
    if "model" in body:
        body["model"] = host_model
    for choice in body.get("choices") or []:
        for key in ("message", "delta"):
            if isinstance(choice.get(key), dict):
                _fix_choice_part(choice[key])
    return body


def _kimi_message(message: dict[str, Any]) -> dict[str, Any]:
    """One history message as Kimi takes it: vLLM's ``reasoning`` under ``reasoning_content``,
    and no ``content: ""`` beside tool calls."""
    out = dict(message)
    if "reasoning" in out:
        out["reasoning_content"] = out.pop("reasoning")
    if out.get("tool_calls") and out.get("content") == "":
        del out["content"]
    return out


def _for_emulator(body: dict[str, Any]) -> dict[str, Any]:
    """What the emulator is sent: Kimi's model name, thinking switch and history keys."""
    messages = [_kimi_message(m) for m in body["messages"]]
    sent = {**body, "model": EMULATOR_MODEL, "messages": messages}
    kwargs = sent.pop("chat_template_kwargs", None) or {}
    if "thinking" in kwargs:
        sent["thinking"] = {"type": "enabled" if kwargs["thinking"] else "disabled"}
    return sent


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_whole(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class VllmLike:
    """The server; use as a context manager. ``openai_url`` is its ``…/v1`` base URL."""

    def __init__(self, emulator_url: str, host_model: str) -> None:
        self.emulator_url = emulator_url.rstrip("/") + "/chat/completions"
        self.host_model = host_model
        self.received: list[dict[str, Any]] = []
        self.authorizations: list[str | None] = []
        self.fail_with: tuple[int, dict[str, Any]] | None = None
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    def clear(self) -> None:
        self.received.clear()
        self.authorizations.clear()
        self.fail_with = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if (scope["method"], scope["path"]) != ("POST", "/v1/chat/completions"):
            await _send_whole(send, 404, b'{"detail":"Not Found"}')
            return
        body = orjson.loads(await _read_body(receive))
        self.received.append(body)
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization")
        self.authorizations.append(auth.decode() if auth is not None else None)
        if self.fail_with is not None:
            await _send_whole(send, self.fail_with[0], orjson.dumps(self.fail_with[1]))
            return
        await self._forward(_for_emulator(body), send)

    async def _forward(self, body: dict[str, Any], send: Send) -> None:
        headers = {"authorization": "Bearer " + EMULATOR_KEY}
        async with (
            httpx.AsyncClient(timeout=30) as client,
            client.stream("POST", self.emulator_url, json=body, headers=headers) as reply,
        ):
            if reply.status_code >= 300 or not body.get("stream"):
                raw = await reply.aread()
                if reply.status_code < 300:
                    raw = orjson.dumps(vllm_reply(orjson.loads(raw), self.host_model))
                await _send_whole(send, reply.status_code, raw)
                return
            start = [(b"content-type", b"text/event-stream")]
            await send({"type": "http.response.start", "status": 200, "headers": start})
            async for line in reply.aiter_lines():
                await send(
                    {"type": "http.response.body", "body": self._line(line), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b""})

    def _line(self, line: str) -> bytes:
        data = line.removeprefix("data: ")
        if data == line or data == "[DONE]":
            return line.encode() + b"\n"
        return b"data: " + orjson.dumps(vllm_reply(orjson.loads(data), self.host_model)) + b"\n"

    def start(self) -> VllmLike:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the vLLM-like server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> VllmLike:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
