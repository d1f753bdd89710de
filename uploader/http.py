"""HTTP sessions for corporate laptops: OS trust store, extra CA bundle, proxies, timeouts."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.connection
from requests.adapters import HTTPAdapter

from aitally.core.config import Config
from aitally.core.errors import ConfigError
from aitally.uploader.version import agent_version

log = logging.getLogger(__name__)
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# Our receivers answer with a few hundred bytes; a bigger answer is some other server's page.
ANSWER_MAX_BYTES = 1 << 20


def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    """The OS trust store (where TLS-intercepting proxies' roots live) plus a configured bundle."""
    import truststore

    ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        path = Path(ca_bundle).expanduser()
        if not path.is_file():
            raise ConfigError(f"upload.ca_bundle = {ca_bundle!r}: no such file; fix the path")
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"upload.ca_bundle = {ca_bundle!r} is not a PEM CA bundle ({exc}); fix the file"
            ) from None
    return ctx


def _cut(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once


class _HeadWithin:
    """The status line and headers must arrive whole within the read timeout.

    The read timeout bounds each socket read only: a server or proxy sending its status line
    or headers a byte at a time would otherwise hold the upload forever (the body is bounded
    by `_read_within`). A timer shuts the socket down at the deadline; it ends with the call.
    """

    sock: socket.socket | None
    timeout: Any

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        """urllib3's getresponse, cut off when the head is not complete in time."""
        limit = self.timeout if isinstance(self.timeout, int | float) else None
        if not limit or self.sock is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        timer = threading.Timer(limit, _cut, (self.sock,))
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            timer.cancel()


class _HTTPConnection(_HeadWithin, urllib3.connection.HTTPConnection):
    """A plain connection whose answer head is bounded in time."""


class _HTTPSConnection(_HeadWithin, urllib3.connection.HTTPSConnection):
    """A TLS connection whose answer head is bounded in time."""


class _HTTPPool(urllib3.HTTPConnectionPool):
    """Pools of bounded plain connections."""

    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    """Pools of bounded TLS connections."""

    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _BoundedAdapter(HTTPAdapter):
    """Every connection, direct or through a proxy, reads its answer head within a deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pools for direct connections, of bounded connections."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """The pools for connections through `proxy`, of bounded connections."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _TrustStoreAdapter(_BoundedAdapter):
    """Hands our SSLContext to urllib3 for direct and proxied connections alike."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._ctx = ctx
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pool for direct connections, verifying with our context."""
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """The pool for connections through `proxy`, verifying with our context."""
        kwargs["ssl_context"] = self._ctx
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Requires verification without loading certifi; other settings go to requests."""
        if verify is True:
            # Our context already verifies against the OS store; requests would
            # otherwise load certifi into it on every connection.
            conn.cert_reqs = "CERT_REQUIRED"
            return
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]


class Session(requests.Session):
    """A requests session whose every call gets our timeouts, proxy and no redirects."""

    def __init__(self, timeout: tuple[float, float], proxy: str) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.configured_proxy = proxy

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """A request with our defaults, its answer read whole within the read timeout."""
        kwargs.setdefault("timeout", self.default_timeout)
        # A captive portal answers with a redirect; following it would turn a failed
        # upload into an apparent success.
        kwargs.setdefault("allow_redirects", False)
        if self.configured_proxy:
            # Request-level proxies beat the environment's, as configuration should.
            kwargs.setdefault(
                "proxies", {"http": self.configured_proxy, "https": self.configured_proxy}
            )
        if kwargs.get("stream"):
            return super().request(method, url, *args, **kwargs)
        kwargs["stream"] = True
        resp = super().request(method, url, *args, **kwargs)
        _read_within(resp, self.default_timeout[1])
        return resp


def _read_within(resp: requests.Response, seconds: float) -> None:
    """Reads the answer within `seconds` in all and ANSWER_MAX_BYTES.

    The read timeout bounds each socket read only: a server or proxy that trickles a byte
    at a time would otherwise hold the upload thread, and every upload after it, forever.
    """
    deadline = time.monotonic() + seconds
    parts: list[bytes] = []
    size = 0
    try:
        while chunk := resp.raw.read1(65536, decode_content=True):
            parts.append(chunk)
            size += len(chunk)
            if size > ANSWER_MAX_BYTES:
                raise requests.ConnectionError(f"answer over {ANSWER_MAX_BYTES} bytes")
            if time.monotonic() > deadline:
                raise requests.Timeout(f"answer not complete within {seconds:g}s")
    except requests.RequestException:  # before OSError, which it derives from
        resp.close()
        raise
    except urllib3.exceptions.ReadTimeoutError as exc:
        resp.close()
        raise requests.Timeout(str(exc)) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        resp.close()
        raise requests.ConnectionError(str(exc)) from None
    resp._content = b"".join(parts)
    resp._content_consumed = True  # type: ignore[attr-defined]  # as requests does itself


def check_transport(cfg: Config) -> None:
    """ConfigError for an endpoint that would send tokens in clear: plain http:// to
    anything but loopback, unless upload.allow_http says so."""
    up = cfg.section("upload")
    if up["allow_http"]:
        return
    for key in ("endpoint", "otlp_endpoint"):
        url = urlsplit(up[key])
        if url.scheme == "http" and (url.hostname or "") not in LOOPBACK:
            raise ConfigError(
                f"upload.{key} = {up[key]!r}: plain http:// sends the device token and "
                "records unencrypted; use https:// (or set upload.allow_http = true)"
            )


def make_session(cfg: Config) -> requests.Session:
    """The session for uploads and enrollment; ConfigError for a bad CA bundle or an
    endpoint that is plain http:// beyond loopback."""
    check_transport(cfg)
    up = cfg.section("upload")
    session = Session((up["connect_timeout"], up["read_timeout"]), up["proxy"])
    session.headers["User-Agent"] = f"aitally/{agent_version()}"
    session.mount("http://", _BoundedAdapter())
    if up["verify_tls"]:
        session.mount("https://", _TrustStoreAdapter(_tls_context(up["ca_bundle"])))
        session.verify = True
    else:
        log.warning("TLS verification is disabled by upload.verify_tls = false")
        session.mount("https://", _BoundedAdapter())
        session.verify = False
    return session


def tls_description(cfg: Config) -> str:
    """How the server certificate is checked, for status and doctor."""
    up = cfg.section("upload")
    if not up["verify_tls"]:
        return "disabled (upload.verify_tls = false)"
    return "os trust store" + (f" + {up['ca_bundle']}" if up["ca_bundle"] else "")
