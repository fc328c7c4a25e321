"""`ambassador-bot health`: probe the running bot's /healthz (or /readyz) from its own host.

An orchestrator-neutral probe. The Dockerfile's HEALTHCHECK is a Docker-format extension the
OCI image format lacks (podman and buildah drop it unless they build with `--format docker`:
https://docs.podman.io/en/latest/markdown/podman-build.1.html#format); the same command works
in compose's `healthcheck`, a Kubernetes exec probe or by hand. It reads only AMBASSADOR_HOST
and AMBASSADOR_PORT, not the whole configuration: a probe must not need the secrets.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from bot.settings import WILDCARD_HOSTS, link_host

DEFAULT_PORT = 3978


class ProbeError(ValueError):
    """The probe's own settings are wrong (not the bot's health)."""


def probe_url(env: Mapping[str, str], port: int | None = None, ready: bool = False) -> str:
    """The URL to probe: the bot's bind address (loopback for a wildcard) and port."""
    host = env.get("AMBASSADOR_HOST", "").strip()
    host = "127.0.0.1" if host in WILDCARD_HOSTS else link_host(host)
    if port is None:
        raw = env.get("AMBASSADOR_PORT", "").strip() or str(DEFAULT_PORT)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ProbeError(f"AMBASSADOR_PORT must be a port number 1-65535 (got {raw[:20]!r})")
        port = int(raw)
    return f"http://{host}:{port}/{'readyz' if ready else 'healthz'}"


def probe(url: str, timeout: float = 4.0) -> str | None:
    """None when `url` answers 2xx within `timeout` seconds, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return f"{url} did not answer: {reason}"
    return None if 200 <= status < 300 else f"{url} answered {status}"
