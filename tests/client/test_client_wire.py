"""The client's HTTP/1.1 (qtui.client.wire) against servers on 127.0.0.1 that write raw bytes."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from qtui.client.stream import Prompt, StreamClient

P = Prompt("hello", max_tokens=2, input_tokens=1)
SSE = (
    b'data: {"choices":[{"index":0,"text":" a","finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"text":" b","finish_reason":"length"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\n'
    b"data: [DONE]\n\n"
)
OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n"

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


@asynccontextmanager
async def raw_server(
    answer: Answer, tls: ssl.SSLContext | None = None, count: dict[str, int] | None = None
) -> AsyncIterator[str]:
    """Reads each request, lets ``answer(reader, writer, n)`` write the response (n counts the
    requests so far); the connection stays open while it returns True. ``count``: requests "n"
    and connections "conns" so far."""
    count = {"n": 0, "conns": 0} if count is None else count

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count["conns"] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                n = next(
                    int(ln.split(b":", 1)[1])
                    for ln in head.split(b"\r\n")
                    if ln.lower().startswith(b"content-length:")
                )
                await reader.readexactly(n)
                count["n"] += 1
                keep = await answer(reader, writer, count["n"])
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def _ok(_: asyncio.StreamReader, w: asyncio.StreamWriter, __: int) -> bool:
    w.write(OK_HEAD % len(SSE) + SSE)
    return True


async def test_keep_alive_reuses_one_connection_and_close_opens_another() -> None:
    count = {"n": 0, "conns": 0}

    async def answer(r: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        close = n == 2
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            + (b"Connection: close\r\n" if close else b"")
            + b"Content-Length: %d\r\n\r\n" % len(SSE)
            + SSE
        )
        return not close

    async with raw_server(answer, count=count) as url:
        c = StreamClient("e", url, "m")
        recs = [await c.send(P, f"r{i}") for i in range(4)]
        await c.aclose()
    assert all(r.ok and r.completion_tokens == 2 and len(r.chunk_times) == 2 for r in recs)
    assert count == {"n": 4, "conns": 2}  # requests 1-2 on one connection, 3-4 on the next


async def test_interim_100_response_is_skipped() -> None:
    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter, __: int) -> bool:
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n" + OK_HEAD % len(SSE) + SSE)
        return True

    async with raw_server(answer) as url:
        c = StreamClient("e", url, "m")
        r = await c.send(P, "r1")
        await c.aclose()
    assert r.ok and r.http_status == 200 and len(r.chunk_times) == 2


async def test_a_long_error_body_is_cut_and_the_next_request_still_works() -> None:
    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        if n == 1:
            body = b'{"error": "' + b"x" * 5000 + b'"}'
            w.write(b"HTTP/1.1 429 Too Many\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            return True
        w.write(OK_HEAD % len(SSE) + SSE)
        return True

    async with raw_server(answer) as url:
        c = StreamClient("e", url, "m")
        bad = await c.send(P, "r1")
        good = await c.send(P, "r2")
        await c.aclose()
    assert bad.error_class == "http" and bad.http_status == 429
    assert bad.error_detail.startswith("HTTP 429: {") and len(bad.error_detail) <= 200
    assert good.ok and len(good.chunk_times) == 2


@pytest.mark.parametrize(
    ("reply", "cls", "says"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "disconnect", "BadStatusLine"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
         b"\r\n\r\nzz\r\n", "disconnect", "chunked"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
         b"\r\n\r\n-5\r\ndata: x\r\n", "disconnect", "chunked"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 999\r\n\r\n"
         + SSE, "disconnect", "not completed"),
        (b"", "disconnect", "Server disconnected"),
    ],
)  # fmt: skip
async def test_broken_http_is_a_disconnect(reply: bytes, cls: str, says: str) -> None:
    async def answer(_: asyncio.StreamReader, w: asyncio.StreamWriter, __: int) -> bool:
        w.write(reply)
        return False  # then close

    async with raw_server(answer) as url:
        c = StreamClient("e", url, "m")
        r = await c.send(P, "r1")
        await c.aclose()
    assert r.error_class == cls and says in r.error_detail, r.error_detail


@pytest.fixture
def tls_pair(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context and one that trusts it."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl binary to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_https_streams_and_an_untrusted_certificate_is_a_connect_error(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    server_ctx, client_ctx = tls_pair
    async with raw_server(_ok, tls=server_ctx) as url:
        untrusted = StreamClient("e", url, "m")  # the system's CA store: refused
        r0 = await untrusted.send(P, "r0")
        await untrusted.aclose()
        monkeypatch.setattr("qtui.client.wire.tls_context", lambda: client_ctx)
        c = StreamClient("e", url, "m")
        r1, r2 = await c.send(P, "r1"), await c.send(P, "r2")
        await c.aclose()
    assert r0.error_class == "connect" and "certificate" in r0.error_detail.lower()
    assert r1.ok and r2.ok and len(r1.chunk_times) == 2 and r2.completion_tokens == 2
