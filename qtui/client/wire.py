"""HTTP/1.1 on a raw asyncio protocol: keep-alive connections, one request at a time on each.

Why not aiohttp: with it every chunk wakes the request's task through a StreamReader (a future,
a task step, the async iterator); here the response is read inside ``data_received`` as the bytes
come, and the task wakes once, when the response has ended. benchmarks/results/load-cpu.md has
the measurements (cProfile before and after, CPU per chunk against the aiohttp peer).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from qtui.client.discovery import tls_context

MAX_HEAD = 65536  # bytes of status line and headers before the response is refused


class ConnectFailed(Exception):
    """No connection to the endpoint (refused, unreachable, no such host)."""


class ConnectTimeout(Exception):
    """The connection did not open in time."""


class Disconnected(Exception):
    """The connection broke, or what came back is not HTTP/1.x; the message says which."""


class Response:
    """What the connection hands the bytes of one response to (see `Exchange`)."""

    def feed(self, data: bytes) -> None: ...

    def lost(self, exc: BaseException | None) -> None: ...


class Conn(asyncio.Protocol):
    """One keep-alive connection; ``response`` gets the bytes while a request is out."""

    __slots__ = ("lost", "response", "transport")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.response: Response | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        r = self.response
        if r is not None:
            r.feed(data)
        elif self.transport is not None:  # bytes nobody asked for: the connection is spent
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        r, self.response = self.response, None
        if r is not None:
            r.lost(exc)

    @property
    def usable(self) -> bool:
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.response = None
        if self.transport is not None:
            self.transport.close()


class Pool:
    """The keep-alive connections to one origin, at most ``limit`` at a time."""

    def __init__(self, url: str, limit: int, connect_timeout_s: float) -> None:
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.ssl: ssl.SSLContext | None = tls_context() if u.scheme == "https" else None
        default = (u.scheme == "https" and self.port == 443) or (
            u.scheme == "http" and self.port == 80
        )
        self.host_header = self.host if default else f"{self.host}:{self.port}"
        if ":" in self.host and not default:  # IPv6 literal
            self.host_header = f"[{self.host}]:{self.port}"
        self.path = u.path or "/"
        self.limit = limit
        self.connect_timeout_s = connect_timeout_s
        self.idle: list[Conn] = []
        self._sem: asyncio.Semaphore | None = None

    @property
    def sem(self) -> asyncio.Semaphore:
        if self._sem is None:  # made inside the running loop
            self._sem = asyncio.Semaphore(self.limit)
        return self._sem

    async def acquire(self) -> Conn:
        """An idle connection, else a new one; ConnectFailed / ConnectTimeout when none opens."""
        idle = self.idle
        while idle:
            c = idle.pop()
            if c.usable:
                return c
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                _, conn = await loop.create_connection(
                    Conn, self.host, self.port, ssl=self.ssl,
                    server_hostname=self.host if self.ssl else None,
                )  # fmt: skip
        except TimeoutError:
            raise ConnectTimeout("connect timed out") from None
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            raise ConnectFailed(f"Cannot connect to host {self.host_header} [{why}]") from None
        return conn

    def release(self, conn: Conn, reuse: bool) -> None:
        conn.response = None
        if reuse and conn.usable:
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        idle, self.idle = self.idle, []
        for c in idle:
            c.close()


class Head:
    """A response's status line and headers (names lower-cased)."""

    __slots__ = ("headers", "keep_alive", "status")

    def __init__(self, status: int, headers: dict[str, str], keep_alive: bool) -> None:
        self.status, self.headers, self.keep_alive = status, headers, keep_alive


def parse_head(raw: bytes) -> Head:
    """Status line and headers (without the blank line); raises Disconnected if not HTTP/1.x."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise Disconnected(f"BadStatusLine: {lines[0][:60]!r}")
    try:
        status = int(parts[1])
    except ValueError:
        raise Disconnected(f"BadStatusLine: {lines[0][:60]!r}") from None
    headers: dict[str, str] = {}
    for ln in lines[1:]:
        k, sep, v = ln.partition(":")
        if not sep:
            raise Disconnected(f"BadHttpMessage: header line {ln[:40]!r}")
        k, v = k.strip().lower(), v.strip()
        headers[k] = f"{headers[k]}, {v}" if k in headers else v
    conn = headers.get("connection", "").lower()
    keep = "close" not in conn if parts[0] == "HTTP/1.1" else "keep-alive" in conn
    return Head(status, headers, keep)


class Body:
    """The framing of a response body: chunked, by length, or until the connection closes.

    `take` returns the body bytes in ``data`` and whether the body has ended; bytes past its end
    (none from a well-behaved server) make the connection unusable (``clean`` False).
    """

    __slots__ = ("between", "clean", "crlf", "left", "mode", "raw", "trailer")

    CHUNKED, LENGTH, CLOSE = 1, 2, 3

    def __init__(self, head: Head) -> None:
        self.clean = head.keep_alive
        self.raw = b""
        self.left = 0
        self.crlf = False  # chunked: a chunk's data has been read, its CRLF not yet
        self.trailer = False  # chunked: the last chunk has been read, the trailer not yet
        self.between = False  # chunked, and nothing pending: the next byte starts a chunk
        if "chunked" in head.headers.get("transfer-encoding", "").lower():
            self.mode = Body.CHUNKED
            self.between = True
        elif "content-length" in head.headers:
            self.mode = Body.LENGTH
            try:
                self.left = int(head.headers["content-length"])
            except ValueError:
                raise Disconnected("BadHttpMessage: bad Content-Length") from None
        else:
            self.mode = Body.CLOSE
            self.clean = False

    def take(self, data: bytes) -> tuple[bytes, bool]:
        if self.mode == Body.CHUNKED:
            return self._chunks(self.raw + data if self.raw else data)
        if self.mode == Body.LENGTH:
            if len(data) >= self.left:
                if len(data) > self.left:
                    self.clean = False
                body, self.left = data[: self.left], 0
                return body, True
            self.left -= len(data)
            return data, False
        return data, False

    def _chunks(self, raw: bytes) -> tuple[bytes, bool]:
        out: list[bytes] = []
        pos, n = 0, len(raw)
        while True:
            if self.left:
                take = min(self.left, n - pos)
                out.append(raw[pos : pos + take])
                pos += take
                self.left -= take
                if self.left:
                    break
                self.crlf = True
            if self.crlf:
                if n - pos < 2:
                    break
                if raw[pos : pos + 2] != b"\r\n":
                    raise Disconnected("ClientPayloadError: bad chunked encoding")
                pos += 2
                self.crlf = False
            if self.trailer:
                if raw[pos : pos + 2] == b"\r\n":
                    end = pos + 2
                else:
                    j = raw.find(b"\r\n\r\n", pos)
                    if j < 0:
                        break
                    end = j + 4
                if end < n:
                    self.clean = False
                self.raw = b""
                self.between = False
                return b"".join(out), True
            j = raw.find(b"\r\n", pos)
            if j < 0:
                if n - pos > 1024:
                    raise Disconnected("ClientPayloadError: bad chunked encoding")
                break
            try:
                size = int(raw[pos:j].split(b";", 1)[0], 16)
            except ValueError:
                raise Disconnected("ClientPayloadError: bad chunked encoding") from None
            if size < 0:
                raise Disconnected("ClientPayloadError: bad chunked encoding")
            pos = j + 2
            if size == 0:
                self.trailer = True
                if n - pos < 2:
                    break
                continue
            self.left = size
        self.raw = raw[pos:]
        self.between = not self.raw and not self.left and not self.crlf and not self.trailer
        return b"".join(out), False


class Stalled(Exception):
    """An open stream received no byte for the stall limit; the message says for how long."""


class StopReading(Exception):
    """Raised by a body callback that has read enough: the exchange ends, the connection goes."""


BodyFn = Callable[[bytes, float], object]


def _before_head(data: bytes, now: float) -> None:
    raise Disconnected("BadHttpMessage: body before the head")  # never: the head sets on_body


class Exchange(Response):
    """One request on a connection: reads the head and gives it to ``on_head``, which returns
    the function that takes the body's bytes (with the offset of their arrival from ``p0``);
    at the body's end ``on_end`` runs, then the future resolves.

    Errors raised by the body function (or bad framing) close the connection and go to the
    future; `StopReading` ends the exchange early.
    """

    __slots__ = (
        "body", "conn", "fut", "head", "last", "on_body", "on_end", "on_head", "p0", "pool", "raw",
    )  # fmt: skip

    def __init__(
        self,
        pool: Pool,
        conn: Conn,
        p0: float,
        on_head: Callable[[Head], BodyFn],
        on_end: Callable[[], None],
    ) -> None:
        self.pool, self.conn, self.p0 = pool, conn, p0
        self.on_head, self.on_end = on_head, on_end
        self.on_body: BodyFn = _before_head
        self.fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.raw = b""
        self.head: Head | None = None
        self.body: Body | None = None
        self.last = 0.0  # offset from p0 of the last byte received (0: none yet)

    def feed(self, data: bytes) -> None:
        now = time.perf_counter() - self.p0
        self.last = now
        try:
            body = self.body
            if body is not None and body.between:
                # the common case: one whole chunk, as the server wrote it
                i = data.find(b"\r\n", 0, 10)
                if i > 0:
                    try:
                        size = int(data[:i], 16)
                    except ValueError:
                        size = 0
                    if size > 0 and len(data) == i + 4 + size and data[-2:] == b"\r\n":
                        self.on_body(data[i + 2 : i + 2 + size], now)
                        return
            elif body is None:
                rest = self._head(data)
                if rest is None:
                    return
                body = self.body
                assert body is not None
                data = rest
            got, end = body.take(data)
            if got:
                self.on_body(got, now)
            if end:
                self._end(body.clean)
        except StopReading:
            self._end(False)
        except Exception as exc:  # the stream's own error (malformed) or the framing's
            self._fail(exc)

    def _head(self, data: bytes) -> bytes | None:
        raw = self.raw + data if self.raw else data
        i = raw.find(b"\r\n\r\n")
        if i < 0:
            if len(raw) > MAX_HEAD:
                raise Disconnected("BadHttpMessage: response head too long")
            self.raw = raw
            return None
        self.raw = b""
        head = parse_head(raw[:i])
        if 100 <= head.status < 200:  # an interim response (100 Continue): the real one follows
            rest = raw[i + 4 :]
            return self._head(rest) if rest else None
        self.head = head
        self.body = Body(head)
        self.on_body = self.on_head(head)
        return raw[i + 4 :]

    def _end(self, reuse: bool) -> None:
        if self.fut.done():
            return
        self.pool.release(self.conn, reuse)
        try:
            self.on_end()
        except Exception as exc:
            self.fut.set_exception(exc)
            return
        self.fut.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.conn.close()
        if not self.fut.done():
            self.fut.set_exception(exc)

    def lost(self, exc: BaseException | None) -> None:
        if self.fut.done():
            return
        if self.body is not None and self.body.mode == Body.CLOSE:  # the close ends the body
            self._end(False)
        elif self.body is None:
            self._fail(Disconnected("ServerDisconnectedError: Server disconnected"))
        else:
            why = f" ({type(exc).__name__})" if exc else ""
            self._fail(Disconnected(f"ClientPayloadError: Response payload is not completed{why}"))

    def stall(self, exc: BaseException) -> None:
        """The stream went silent: the connection goes, the future gets ``exc``."""
        self._fail(exc)

    def abandon(self) -> None:
        """The request was cancelled or timed out: the connection is in an unknown state."""
        self.conn.close()
        if not self.fut.done():
            self.fut.cancel()


def request_head(pool: Pool, headers: dict[str, str]) -> Callable[[int], bytes]:
    """The bytes before a POST's body, for a body of n bytes (the rest is fixed per client)."""
    lines = [f"POST {pool.path} HTTP/1.1", f"Host: {pool.host_header}", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    fixed = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")

    def head(n: int) -> bytes:
        return fixed + str(n).encode() + b"\r\n\r\n"

    return head
