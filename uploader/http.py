"""HTTP sessions for corporate laptops: OS trust store, extra CA bundle, proxies, timeouts."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from aitally.agent.config import Config, ConfigError

log = logging.getLogger(__name__)


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


class _TrustStoreAdapter(HTTPAdapter):
    """Hands our SSLContext to urllib3 for direct and proxied connections alike."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._ctx = ctx
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self._ctx
        return super().proxy_manager_for(proxy, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
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
        kwargs.setdefault("timeout", self.default_timeout)
        # A captive portal answers with a redirect; following it would turn a failed
        # upload into an apparent success.
        kwargs.setdefault("allow_redirects", False)
        if self.configured_proxy:
            # Request-level proxies beat the environment's, as configuration should.
            kwargs.setdefault(
                "proxies", {"http": self.configured_proxy, "https": self.configured_proxy}
            )
        return super().request(method, url, *args, **kwargs)


def make_session(cfg: Config) -> requests.Session:
    """The session for uploads and enrollment; ConfigError for a bad CA bundle."""
    up = cfg.section("upload")
    session = Session((up["connect_timeout"], up["read_timeout"]), up["proxy"])
    session.headers["User-Agent"] = f"aitally/{agent_version()}"
    if up["verify_tls"]:
        adapter = _TrustStoreAdapter(_tls_context(up["ca_bundle"]))
        session.mount("https://", adapter)
        session.verify = True
    else:
        log.warning("TLS verification is disabled by upload.verify_tls = false")
        session.verify = False
    return session


def tls_description(cfg: Config) -> str:
    """How the server certificate is checked, for status and doctor."""
    up = cfg.section("upload")
    if not up["verify_tls"]:
        return "disabled (upload.verify_tls = false)"
    return "os trust store" + (f" + {up['ca_bundle']}" if up["ca_bundle"] else "")


def agent_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aitally")
    except PackageNotFoundError:
        return "0.0.0"
