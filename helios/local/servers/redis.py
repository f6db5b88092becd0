"""Redis 7 from Debian's redis-server, the profiles' system of record: the append-only file on,
flushed to disk every second (docs/profiles.md, "Durability"), its files in the state directory,
keyspace notifications on for the profile service's WatchProfiles.
Debian starts its own redis-server on the same port when the package is installed; that one is
stopped first.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from helios.local import network
from helios.local.layout import Layout
from helios.local.probes import Probe
from helios.local.process import Spec, stop_pid
from helios.local.servers import External
from helios.platform.settings import Environ, redis_url
from helios.profiles.watch import EVENT_FLAGS

DEBIAN_PIDFILE = Path("/run/redis/redis-server.pid")


def answers(url: str) -> Probe:
    """PING answers PONG (while Redis loads its files it answers LOADING)."""
    def check() -> bool:
        import redis

        try:
            with redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
    return check


def server(layout: Layout, env: Environ) -> Spec | External:
    if env.get("HELIOS_REDIS_URL", "").strip():
        url = redis_url(env)
        return External("redis", _without_password(url), answers(url))
    url = redis_url({})
    port = urlsplit(url).port
    assert port is not None
    data = layout.state / "redis"
    address = network.cluster_address(env)
    # Without a password, protected mode refuses every client that is not on loopback.
    listen = ["--bind", "127.0.0.1", address, "--protected-mode", "no"] if address else [
        "--bind", "127.0.0.1"]

    def prepare() -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server not found: run `make install`")
        if shutil.which("systemctl") and subprocess.run(
                ["systemctl", "is-active", "--quiet", "redis-server"], check=False).returncode == 0:
            subprocess.run(["systemctl", "stop", "redis-server"], check=False)
        if DEBIAN_PIDFILE.exists():
            stop_pid(int(DEBIAN_PIDFILE.read_text().strip() or 0), expected="redis-server")
        data.mkdir(parents=True, exist_ok=True)

    return Spec(
        name="redis",
        argv=["redis-server", "--port", str(port), *listen, "--dir", str(data),
              "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
              # The profile service sets these itself too; here they hold from the first write.
              "--notify-keyspace-events", EVENT_FLAGS,
              "--daemonize", "no"],
        log=layout.log("redis"),
        ready=answers(url),
        prepare=prepare,
        port=port,
    )


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url
