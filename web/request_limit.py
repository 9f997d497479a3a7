"""ASGI middleware that refuses oversized request bodies before the web framework reads them.

Gradio caps file uploads (``max_file_size``) but reads any other request body (API calls, queue
joins) whole into memory; a multi-gigabyte POST could exhaust it. This refuses such bodies with
413: at once when ``Content-Length`` says so, and mid-stream for bodies sent without a length.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from starlette.exceptions import HTTPException

from .limits import MAX_REQUEST_BYTES

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large_message(limit: int) -> str:
    return f"The request is too large: at most {limit // 1024} kB outside file uploads."


class RequestSizeLimit:
    """Refuse HTTP request bodies over ``limit`` bytes with 413, except on paths ending in one of
    ``exempt`` (Gradio's upload route, which enforces its own file-size limit)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES, exempt: tuple[str, ...] = ("/upload",)) -> None:
        self.app, self.limit, self.exempt = app, limit, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].endswith(self.exempt):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # a body sent without Content-Length (chunked) grew too large
                    raise HTTPException(413, too_large_message(self.limit))
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": too_large_message(self.limit)}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
