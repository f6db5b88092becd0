"""The infrastructure a local Helios runs on, one module per server: Kafka, PostgreSQL and
Redis from this machine's own packages, each as a foreground process under the supervisor.

Each module's ``server()`` gives the :class:`~helios.local.process.Spec` to run it (with the
set-up no tool does: Kafka's storage format, initdb and roles, Debian's own service out of the
way), or, when the environment names a server elsewhere (HELIOS_KAFKA_BOOTSTRAP_SERVERS,
HELIOS_DATABASE_URL, HELIOS_REDIS_URL), an :class:`External` that is only checked. Ports and
credentials come from the services' own defaults (:mod:`helios.platform.settings`): a local
server serves exactly what the services connect to by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from helios.local.probes import Probe


@dataclass(frozen=True)
class External:
    """A server this machine does not run: the supervisor only checks that it answers."""

    name: str
    # Where it is, for `helios local status` (no password).
    where: str
    ready: Probe
