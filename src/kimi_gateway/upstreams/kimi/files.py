"""The Open Platform's Files API (docs/kimi.md §9), relayed with bytes streamed both ways.

Only the platform key is added; the client's own auth headers never go upstream. A non-2xx reply
becomes a GatewayError in the platform's terms (an HTML 404/504 page included), so the face can
render it in its own shape. The URL is built from the parsed path (core/file_paths.py) and a
rebuilt query, never from what the caller passed as it came: a path that is not
``/files[/{id}[/content]]`` is a 404 here too, whoever the caller is (the server face, the SDK).
An upload's OpenAI purpose Kimi does not have is mapped to one of Kimi's (file_purpose.py), with
a diagnostic on the reply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from types import MappingProxyType

from yarl import URL

from kimi_gateway.core.file_paths import clean_query, parse_file_path
from kimi_gateway.core.upstream import CallContext, FileReply
from kimi_gateway.upstreams.http import UpstreamHttp
from kimi_gateway.upstreams.kimi.file_purpose import PurposeMapping
from kimi_gateway.upstreams.streaming import Reading, error_of

_RESPONSE_HEADERS = ("content-type", "content-length", "content-disposition", "content-encoding")


class KimiFiles:
    def __init__(
        self,
        root: str,
        auth_headers: Callable[[], dict[str, str]],
        http: UpstreamHttp,
        reading: Reading,
        purposes: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self._root = root
        self._auth_headers = auth_headers
        self._http = http
        self._reading = reading
        self._purposes = purposes

    async def relay(
        self,
        method: str,
        suffix: str,
        query: str,
        headers: Mapping[str, str],
        body: AsyncIterator[bytes] | None,
        ctx: CallContext,
    ) -> FileReply:
        url = self._root + "/files" + parse_file_path(suffix).suffix()
        query = clean_query(query)
        if query:
            url += "?" + query
        outgoing = {**headers, **self._auth_headers()}
        mapping = PurposeMapping(self._purposes)
        if method == "POST" and body is not None:
            body = await mapping.prepare(
                headers.get("content-type"), headers.get("content-length"), body
            )
            if mapping.content_length is not None:
                outgoing["content-length"] = str(mapping.content_length)
        response = await self._http.open(
            method, URL(url, encoded=True), outgoing, body, where=self._reading.where, raw=True
        )
        if response.status >= 300:
            raise await error_of(self._reading, response)
        found = response.headers
        relayed = {name: found[name] for name in _RESPONSE_HEADERS if name in found}
        return FileReply(
            response.status,
            relayed,
            response.content.iter_any(),
            response.release,
            mapping.diagnostics,
        )
