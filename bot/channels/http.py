"""What every HTTP route of the gateway shares: bodies are read whole up to a cap, never
decompressed (a 65 KB gzip body can inflate to 128 MiB before any size check), and a request
that announces a compressed body is refused before anything is read."""

from __future__ import annotations

from aiohttp import web


class BodyRejected(Exception):
    """The body cannot be accepted: `status` is 413 (too large) or 415 (compressed)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def compressed(request: web.Request) -> bool:
    return request.headers.get("Content-Encoding", "identity").strip().lower() not in ("", "identity")


async def read_body(request: web.Request, cap: int) -> bytes:
    """The whole body, however many pieces it arrives in; BodyRejected beyond `cap` bytes."""
    if compressed(request):
        raise BodyRejected(415)
    if request.content_length is not None and request.content_length > cap:
        raise BodyRejected(413)
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(cap + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            raise BodyRejected(413)


@web.middleware
async def refuse_compressed_bodies(request: web.Request, handler):
    """No route accepts a compressed body (415 before reading it)."""
    if compressed(request):
        return web.Response(status=415, text="Content-Encoding is not accepted")
    return await handler(request)
