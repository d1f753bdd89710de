"""Which receivers this configuration sends to: the ingest service, an OTLP endpoint, or both."""

from __future__ import annotations

from aitally.core.config import Config
from aitally.uploader import credentials, otlp_target
from aitally.uploader.delivery import Sink


class NotReady(Exception):
    """Uploads cannot start (no endpoint, no token); str() says what to do."""


def configured(cfg: Config) -> bool:
    """True when any receiver is configured, so that something may leave this machine."""
    return bool(cfg.get("upload", "endpoint") or otlp_target.resolve(cfg).endpoint)


def _auto_enroll(cfg: Config) -> str:
    """No token yet: enroll with the managed enroll secret, if IT set one."""
    secret = cfg.get("upload", "enroll_secret")
    if not secret:
        raise NotReady(f"no device token in {credentials.store_name()}; run `aitally enroll`")
    from aitally.uploader.enroll import EnrollError, enroll

    try:
        enroll(cfg, secret)
    except EnrollError as exc:
        raise NotReady(f"automatic enrollment failed: {exc}") from None
    token = credentials.get_token()
    if token is None:
        raise NotReady(f"enrolled, but {credentials.store_name()} returned no token")
    return token


def make_sinks(cfg: Config) -> list[Sink]:
    """One sink per configured receiver; NotReady when none is, or no token can be had."""
    endpoint = cfg.get("upload", "endpoint")
    otlp = otlp_target.resolve(cfg)
    if not (endpoint or otlp.endpoint):
        raise NotReady(
            "no upload.endpoint or upload.otlp_endpoint (nor OTEL_EXPORTER_OTLP_ENDPOINT): "
            "everything stays local"
        )
    # The HTTP library (with its TLS) loads only here, when something is to leave this
    # machine: about 6 MiB of the agent's memory otherwise (bench/README.md, File collectors).
    from aitally.uploader.http import make_session
    from aitally.uploader.otlp import OtlpSink
    from aitally.uploader.sender import HttpSink

    session = make_session(cfg)
    sinks: list[Sink] = []
    if endpoint:
        token = credentials.get_token() or _auto_enroll(cfg)
        sinks.append(HttpSink(session, endpoint, token))
    if otlp.endpoint:
        sinks.append(OtlpSink(session, otlp.endpoint, otlp.headers))
    return sinks
