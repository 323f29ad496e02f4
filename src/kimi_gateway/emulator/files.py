"""The emulator's Files API routes (docs/kimi.md §9) and the public names of the file store.

What belongs here: the Starlette endpoints for `/v1/files`, multipart parsing and the JSON/text
rendering of store results and errors. The rules (limits, messages, ids, extraction) live in
`files_store.py` and `extract.py`; this module re-exports `FileStore` and `FileObject` so the
app imports everything file-related from one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kimi_gateway.emulator.errors import EmulatorError, invalid_request, openai_error_response
from kimi_gateway.emulator.files_store import FileContent, FileObject, FileStore

__all__ = ["FileContent", "FileObject", "FileStore", "file_routes"]

Authenticate = Callable[[Request], None]
_Handler = Callable[[Request], Awaitable[Response]]

# The emulator's own wording for malformed uploads (Kimi documents none), wrapped in the generic
# `Invalid request: {error_details}` form of docs/kimi.md §2.2 [O].
_NOT_MULTIPART = "Invalid request: the body must be multipart/form-data with 'file' and 'purpose'"
_NO_FILE = "Invalid request: the multipart field 'file' is missing"


def file_routes(
    store: FileStore, authenticate: Authenticate, *, prefix: str = ""
) -> list[BaseRoute]:
    """Routes for upload, list, retrieve, delete and content of `store`.

    With the default `prefix=""` the paths are relative, for `Mount("/v1/files", routes=...)`;
    that serves `/v1/files/...` but NOT the bare `/v1/files`, because Starlette's Mount only
    matches `<path>/...`. The openai SDK posts to the bare `/v1/files`, so the app should rather
    list `*file_routes(store, auth, prefix="/v1/files")` among its top-level routes: with a
    prefix, both `/v1/files` and `/v1/files/` are served.

    `authenticate(request)` runs first on every request and raises `EmulatorError` to refuse it;
    every `EmulatorError` is rendered in the Open Platform envelope `{"error":{type,message}}`.
    """
    endpoints = _FileEndpoints(store, authenticate)
    collection = endpoints.guard(endpoints.collection)
    collection_paths = [prefix, prefix + "/"] if prefix else ["/"]
    return [
        *(Route(path, collection, methods=["GET", "POST"]) for path in collection_paths),
        Route(prefix + "/{file_id}", endpoints.guard(endpoints.one), methods=["GET", "DELETE"]),
        Route(prefix + "/{file_id}/content", endpoints.guard(endpoints.content), methods=["GET"]),
    ]


class _FileEndpoints:
    def __init__(self, store: FileStore, authenticate: Authenticate) -> None:
        self._store = store
        self._authenticate = authenticate

    def guard(self, handler: _Handler) -> _Handler:
        """Authenticate, run, and render any EmulatorError as Kimi's JSON error."""

        async def endpoint(request: Request) -> Response:
            try:
                self._authenticate(request)
                return await handler(request)
            except EmulatorError as err:
                return openai_error_response(err)

        return endpoint

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return _json((await self._upload(request)).to_wire())
        files = self._store.list()
        after = request.query_params.get("after")
        if after is not None:
            # Kimi documents no pagination (§9: no `has_more`). The openai SDK's list iterator
            # then asks again with `?after=<last id>`; answering with the files after that id
            # (none) ends the iteration instead of looping. Kimi's own answer is unknown.
            ids = [info.id for info in files]
            files = files[ids.index(after) + 1 :] if after in ids else []
        return _json({"object": "list", "data": [info.to_wire() for info in files]})

    async def one(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if request.method == "DELETE":
            deleted = self._store.delete(file_id)
            return _json({"id": deleted.id, "object": "file", "deleted": True})
        return _json(self._store.get(file_id).to_wire())

    async def content(self, request: Request) -> Response:
        found: FileContent = self._store.content(request.path_params["file_id"])
        return Response(found.body, media_type=found.media_type)

    async def _upload(self, request: Request) -> FileObject:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise invalid_request(_NOT_MULTIPART)
        try:
            async with request.form() as form:
                upload = form.get("file")
                purpose = form.get("purpose")
                if not isinstance(upload, UploadFile):
                    raise invalid_request(_NO_FILE)
                data = await upload.read()
                # §9 [3M]: an upload without a filename is shown as "upload".
                filename = upload.filename or "upload"
        except MultiPartException as exc:
            raise invalid_request(f"Invalid request: {exc.message}") from exc
        return self._store.upload(filename, data, purpose if isinstance(purpose, str) else "")


def _json(value: object) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")
