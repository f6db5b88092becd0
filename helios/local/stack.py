"""What `make up` runs, as the supervisor's groups:

    infra   Kafka, PostgreSQL, Redis (or the external ones the environment names)
    mesh    the topics, the schema and the demo profiles, then profiles, auction, analytics,
            the bidder processes and the Envoy gateway, on the fixed ports of the services'
            own settings
    kube    a single-node Kubernetes (`make kube-up`), helios/local/kube/group.py

Each port is the service's default (or its variable), read from its settings class: nothing
here restates one.
"""

from __future__ import annotations

from collections.abc import Sequence

from helios.gateway.settings import GatewaySettings
from helios.local import mesh
from helios.local.layout import Layout
from helios.local.servers import kafka, postgres, redis
from helios.local.supervisor import Step, Task
from helios.platform import settings
from helios.platform.settings import Environ, Variable

# Bidder k (from 0) listens on its configured port + 100·k, metrics likewise.
BIDDER_PORT_STEP = 100
RESERVED_PORTS = "/proc/sys/net/ipv4/ip_local_reserved_ports"
BIDDER_PROCESSES = Variable("HELIOS_BIDDER_PROCESSES", 1, "make up: bidder processes, k-th "
                            "on the bidder's ports + 100·k, each its own Envoy endpoint",
                            low=1, high=32)
# A machine setting: on by default for `make up`'s fixed ports, off for a run on free ones.
RESERVE_PORTS = Variable("HELIOS_LOCAL_RESERVE_PORTS", True, "make up: add the gRPC ports to "
                         "net.ipv4.ip_local_reserved_ports (root only)")


def groups(layout: Layout, env: Environ) -> dict[str, Sequence[Step]]:
    from helios.local.kube import group as kube

    return {"infra": infra(layout, env), "mesh": services(layout, env),
            "kube": kube.steps(layout, env)}


def infra(layout: Layout, env: Environ) -> list[Step]:
    return [kafka.server(layout, env), postgres.server(layout, env), redis.server(layout, env)]


def services(layout: Layout, env: Environ) -> list[Step]:
    from helios.analytics.settings import Settings as Analytics
    from helios.auction.settings import Settings as Auction
    from helios.bidder.settings import Settings as Bidder
    from helios.profiles.settings import Settings as Profiles

    # Each service's own settings: the one place its ports are defaulted.
    ports: dict[str, Profiles | Auction | Analytics] = {
        "profiles": Profiles.from_env(env), "auction": Auction.from_env(env),
        "analytics": Analytics.from_env(env)}
    bidder = Bidder.from_env(env)
    count = BIDDER_PROCESSES.read(env)
    specs = [mesh.service(name, env, layout.log(name), grpc_port=s.grpc_port,
                          metrics_port=s.metrics_port) for name, s in ports.items()]
    bidders = []
    for k in range(count):
        name = "bidder" if k == 0 else f"bidder-{k + 1}"
        bidders.append(mesh.service(
            "bidder", env, layout.log(name), process=name,
            grpc_port=bidder.grpc_port + BIDDER_PORT_STEP * k,
            # 0 (no metrics endpoint) stays 0.
            metrics_port=bidder.metrics_port and bidder.metrics_port + BIDDER_PORT_STEP * k))
    targets = ",".join(f"127.0.0.1:{spec.port}" for spec in bidders)
    gateway = GatewaySettings.from_env({
        **env, "HELIOS_GATEWAY_BIDDER_TARGETS": targets,
        "HELIOS_GATEWAY_ANALYTICS_TARGET": f"127.0.0.1:{ports['analytics'].grpc_port}"})
    grpc_ports = [spec.port for spec in [*specs, *bidders] if spec.port is not None]
    return [
        *([Task("reserve ports", lambda: reserve(grpc_ports))] if RESERVE_PORTS.read(env) else []),
        Task("topics", lambda: _topics(env)),
        Task("schema", lambda: _migrate(env)),
        Task("demo profiles", lambda: _seed(env)),
        *specs, *bidders,
        mesh.gateway(gateway, layout.state / "envoy.yaml", layout.log("envoy"), env),
    ]


def reserve(ports: Sequence[int]) -> str:
    """The gRPC ports lie in Linux's ephemeral range, and the kernel hands out neighbouring
    ports to outgoing connections (to Kafka, for one), so a service may find its port taken.
    Reserved ports are never picked for outgoing connections; reserving needs root and lasts
    until reboot."""
    wanted = ",".join(str(p) for p in ports)
    try:
        with open(RESERVED_PORTS) as file:
            before = file.read().strip()
        with open(RESERVED_PORTS, "w") as file:
            file.write(f"{before},{wanted}" if before else wanted)
    except OSError:
        return f"cannot reserve {wanted} (needs root): an outgoing connection may take one"
    return f"reserved {wanted} (net.ipv4.ip_local_reserved_ports)"


def _topics(env: Environ) -> str:
    from helios.platform.kafka import Topics, ensure_topics

    created = ensure_topics(settings.kafka_bootstrap(env), Topics.from_env(env).partitions())
    return "created " + ", ".join(created) if created else "all exist"


def _migrate(env: Environ) -> str:
    from helios.analytics.migrate import migrate

    migrate(settings.database_url(env))
    return "up to date"


def _seed(env: Environ) -> str:
    from helios.profiles.seed import DEFAULT_COUNT, run

    written = run(settings.redis_url(env))
    return f"{written} written, {DEFAULT_COUNT - written} already there, kept"
