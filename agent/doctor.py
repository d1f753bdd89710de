"""`aitally doctor`: each precondition of a working agent, and the command that fixes it."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from aitally.core import config, paths
from aitally.core.config import Config
from aitally.core.errors import ConfigError
from aitally.core.instance_lock import holder_pid, is_held
from aitally.core.store.connection import inspect
from aitally.core.store.schema import MIGRATIONS
from aitally.installer.policy_schema import validate
from aitally.installer.service import Registrar, Target, registrar

OK, WARN, FAIL = "ok", "warn", "fail"
# watchdog needs one inotify watch per watched folder; 8192 was the kernel default for
# years and covers the tool folders of a busy engineer several times over.
MIN_INOTIFY_WATCHES = 8192


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Doctor:
    """Runs the checks; the parameters exist so tests can provoke each failure."""

    target: Target
    registrar: Registrar | None = None
    managed_layers: Callable[[], list[tuple[str, dict[str, object]]]] | None = None
    proc: Path = Path("/proc")
    min_watches: int = MIN_INOTIFY_WATCHES
    platform: str = sys.platform

    def run(self) -> list[Check]:
        checks = [self.service(), self.running(), self.policy()]
        user = self.user_config()
        checks.append(user)
        checks.append(self.data_dir())
        checks.append(self.store())
        cfg = self._effective()
        if cfg is not None:
            checks.extend([self.endpoint(cfg), self.token(cfg), self.tool_roots(cfg)])
            checks.append(self.browser_history(cfg))
            checks.append(self.otlp_receiver(cfg))
            if cfg.get("otlp_receiver", "enabled"):
                from aitally.agent.doctor_tool_telemetry import tool_checks

                checks.extend(tool_checks(int(cfg.get("otlp_receiver", "port"))))
        checks.append(self.inotify())
        return checks

    def _managed(self) -> list[tuple[str, dict[str, object]]]:
        if self.managed_layers is not None:
            return self.managed_layers()
        path = self.target.under_root(str(paths.managed_policy_file()))
        layers: list[tuple[str, dict[str, object]]] = []
        if path.exists():
            data = config._read_toml(path)
            layers.append((f"managed policy {path}", dict(data or {})))
        if sys.platform in ("darwin", "win32"):
            from aitally.core import native_policy

            layers.extend(native_policy.read())
        return layers

    def _effective(self) -> Config | None:
        try:
            explicit = os.environ.get("AITALLY_CONFIG")
            return config.load(
                user_file=Path(explicit) if explicit else None, managed=self._managed
            )
        except ConfigError:
            return None  # reported by the policy and configuration checks

    def service(self) -> Check:
        reg = self.registrar or registrar(self.target)
        st = reg.state()
        if st.registered:
            return Check("service", OK, f"{st.mechanism}: {', '.join(st.files)}")
        flag = " --system" if self.target.system else ""
        return Check("service", FAIL, f"{st.mechanism}: not registered", f"aitally install{flag}")

    def running(self) -> Check:
        lock = paths.lock_file()
        if is_held(lock):
            return Check("agent", OK, f"running (pid {holder_pid(lock)})")
        return Check(
            "agent",
            FAIL,
            "not running for this user",
            "aitally install (registers and starts it), or log out and in",
        )

    def policy(self) -> Check:
        try:
            layers = self._managed()
            for origin, data in layers:
                validate(origin, dict(data))
        except ConfigError as exc:
            return Check(
                "policy",
                FAIL,
                str(exc),
                "fix the managed policy (ask IT); "
                "`aitally policy template --format toml` shows every key",
            )
        where = ", ".join(origin for origin, _ in layers) or "none (nothing enforced)"
        return Check("policy", OK, where)

    def user_config(self) -> Check:
        path = paths.user_config_file()
        try:
            config.load(user_file=path if path.exists() else None, managed=lambda: [])
        except ConfigError as exc:
            return Check("config", FAIL, str(exc), f"edit {path}; `aitally config show` checks it")
        return Check("config", OK, f"{path}" + ("" if path.exists() else " (absent: defaults)"))

    def data_dir(self) -> Check:
        folder = paths.data_dir()
        fix = f"sudo chown -R $(id -un) {folder} && chmod u+rwx {folder}"
        if not folder.exists():
            # Not created yet: the agent creates it, so its nearest existing parent must be
            # writable. Doctor itself leaves nothing behind.
            parent = next(p for p in folder.parents if p.exists())
            if not os.access(parent, os.W_OK | os.X_OK):
                return Check("data folder", FAIL, f"{folder} cannot be created in {parent}", fix)
            return Check("data folder", OK, f"{folder} (created on first start)")
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
                pass
        except OSError as exc:
            return Check("data folder", FAIL, f"{folder} is not writable ({exc.strerror})", fix)
        return Check("data folder", OK, str(folder))

    def store(self) -> Check:
        path = paths.store_file()
        if not path.exists():
            return Check("store", OK, f"{path} (not created yet)")
        result, version = inspect(path)
        if result == "ok" and version > len(MIGRATIONS):  # every command would refuse it
            return Check(
                "store",
                FAIL,
                f"{path}: schema {version}, newer than this aitally ({len(MIGRATIONS)})",
                f"upgrade aitally, or mv {path} {path}.newer to start a fresh store",
            )
        if result != "ok":
            return Check(
                "store",
                FAIL,
                f"{path}: {result}",
                f"aitally uninstall; mv {path} {path}.broken; aitally install",
            )
        return Check("store", OK, f"{path}: integrity ok")

    def endpoint(self, cfg: Config) -> Check:
        url = cfg.get("upload", "endpoint").rstrip("/")
        if not url:
            return Check("endpoint", OK, "none configured: everything stays on this machine")
        import requests

        from aitally.uploader.http import make_session, tls_description

        try:
            resp = make_session(cfg).get(f"{url}/v1/health")
        except requests.exceptions.SSLError:
            return Check(
                "endpoint",
                FAIL,
                f"{url}: server certificate not trusted",
                "install your organisation's CA in the OS trust store, or set upload.ca_bundle",
            )
        except requests.RequestException as exc:
            return Check(
                "endpoint",
                FAIL,
                f"{url}: unreachable ({type(exc).__name__})",
                "check upload.endpoint and upload.proxy, then `aitally doctor` again",
            )
        except ConfigError as exc:
            return Check("endpoint", FAIL, str(exc), "fix upload.ca_bundle")
        status = WARN if not cfg.get("upload", "verify_tls") else OK
        return Check(
            "endpoint", status, f"{url}: HTTP {resp.status_code}, TLS {tls_description(cfg)}"
        )

    def token(self, cfg: Config) -> Check:
        if not cfg.get("upload", "endpoint"):
            return Check("token", OK, "not needed without an endpoint")
        from aitally.uploader import credentials

        if credentials.get_token() is None:
            return Check(
                "token",
                FAIL,
                "no device token",
                "aitally enroll --enroll-secret SECRET (the secret comes from IT)",
            )
        return Check("token", OK, credentials.store_name())

    def tool_roots(self, cfg: Config) -> Check:
        from aitally.collectors.files.roots import FINDERS, candidates

        disabled = set(cfg.get("collectors", "disabled_tools"))
        roots = candidates(set(FINDERS) - disabled, cfg.get("collectors", "extra_roots"))
        missing = [r for r in roots if r.extra and not r.path.is_dir()]
        if missing:
            names = ", ".join(f"{r.tool}: {r.path}" for r in missing)
            return Check(
                "tool folders",
                FAIL,
                f"configured folders missing: {names}",
                "fix collectors.extra_roots (see `aitally config show`)",
            )
        found = sorted({r.tool for r in roots if r.path.is_dir()})
        if not found:
            return Check(
                "tool folders",
                WARN,
                "no AI tool data folder found yet",
                "nothing to do if no tool is used yet; else add collectors.extra_roots",
            )
        return Check("tool folders", OK, ", ".join(found))

    def browser_history(self, cfg: Config) -> Check:
        """Which browser profiles are read; on macOS, whether Safari's history is readable
        (it needs Full Disk Access, which only the person can grant)."""
        from aitally.collectors.browser import profiles

        if not cfg.get("browser", "enabled"):
            return Check("browser history", OK, f"not read ({cfg.origins['browser']['enabled']})")
        chosen = cfg.get("browser", "browsers")
        if self.platform == "darwin" and "safari" in chosen:
            safari = profiles.roots("safari", os.environ, "darwin")[0] / "History.db"
            try:
                with open(safari, "rb"):
                    pass
            except PermissionError:
                return Check(
                    "browser history",
                    WARN,
                    f"Safari's history ({safari}) needs Full Disk Access; other browsers are read",
                    "System Settings > Privacy & Security > Full Disk Access: add aitally "
                    "(or the Python that runs it); or set browser.browsers without safari",
                )
            except OSError:
                pass  # no Safari history: nothing to grant
        found = profiles.find(chosen, cfg.get("browser", "extra_roots"), platform=self.platform)
        if not found:
            return Check("browser history", OK, "no browser profile found")
        return Check("browser history", OK, ", ".join(p.label for p in found))

    def otlp_receiver(self, cfg: Config) -> Check:
        """Whether the OTLP receiver is off, or listening where the tools are pointed: a GET
        on its port must be answered by the receiver (collectors/otlp/receiver.py names itself
        `aitally-otlp`), not by another program that holds the port."""
        import http.client

        from aitally.collectors.otlp.receiver import HOST, SERVER_NAME

        name = "otlp receiver"
        if not cfg.get("otlp_receiver", "enabled"):
            return Check(name, OK, f"off ({cfg.origins['otlp_receiver']['enabled']})")
        port = self._otlp_port(int(cfg.get("otlp_receiver", "port")))
        if port is None:
            return Check(
                name,
                FAIL,
                "port 0 (any free port) and the agent has not started it yet",
                "start the agent (aitally install), then `aitally status` shows the port",
            )
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/")
            server = conn.getresponse().getheader("Server") or ""
        except OSError:
            return Check(
                name,
                FAIL,
                f"not reachable on {HOST}:{port}",
                "start the agent (aitally install); if it runs, its log says why the port "
                "failed: set [otlp_receiver] port to a free one and point the tools at it",
            )
        finally:
            conn.close()
        if not server.startswith(SERVER_NAME):
            return Check(
                name,
                FAIL,
                f"{HOST}:{port} is answered by another program ({server or 'unnamed'})",
                "set [otlp_receiver] port to a free one, restart the agent, and point the "
                "tools' OTEL_EXPORTER_OTLP_ENDPOINT at it",
            )
        return Check(name, OK, f"listening on {HOST}:{port}")

    def _otlp_port(self, configured: int) -> int | None:
        """The configured port, or for port 0 the one the agent last bound (from the store)."""
        if configured:
            return configured
        path = paths.store_file()
        if not path.exists():
            return None
        from aitally.collectors.otlp.status import read_saved_port
        from aitally.core.store import Store

        store = Store(path)
        try:
            return read_saved_port(store)
        finally:
            store.close()

    def inotify(self) -> Check:
        if not sys.platform.startswith("linux"):
            return Check("file watch", OK, "native file events")
        path = self.proc / "sys" / "fs" / "inotify" / "max_user_watches"
        try:
            limit = int(path.read_text().strip())
        except (OSError, ValueError):
            return Check("file watch", WARN, f"{path} unreadable; polling may be used")
        if limit < self.min_watches:
            return Check(
                "file watch",
                FAIL,
                f"fs.inotify.max_user_watches = {limit} < {self.min_watches}",
                "echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-aitally.conf"
                " && sudo sysctl --system (or set collectors.polling = true)",
            )
        return Check("file watch", OK, f"fs.inotify.max_user_watches = {limit}")


def as_json(checks: list[Check]) -> dict[str, object]:
    return {
        "ok": all(c.status != FAIL for c in checks),
        "checks": [asdict(c) for c in checks],
        "log_file": str(paths.log_file()),
    }
