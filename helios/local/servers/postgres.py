"""PostgreSQL 15 from Debian, a cluster of the project's own in the state directory, run as the
postgres user (the server refuses root) in the foreground.

Set-up: initdb once (local socket connections trusted, TCP with a password, as a deployment
would), the settings of postgres.conf rendered into the data directory on every start, Debian's
own cluster stopped if it holds the port, and, once the server answers, the role and database
of the services' default URL created (and the password reset to it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import string
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from helios.local import network
from helios.local.layout import Layout
from helios.local.probes import Probe, command
from helios.local.process import Spec
from helios.local.servers import External
from helios.platform.settings import Environ, database_url, libpq_url

BIN = Path("/usr/lib/postgresql/15/bin")
HERE = Path(__file__).parent
USER = "postgres"


def answers(url: str) -> Probe:
    return command(["psql", "-X", "-q", "-At", libpq_url(url), "-c", "select 1"])


def server(layout: Layout, env: Environ) -> Spec | External:
    if env.get("HELIOS_DATABASE_URL", "").strip():
        url = database_url(env)
        parts = urlsplit(url)
        return External("postgres", f"{parts.hostname}:{parts.port}{parts.path}", answers(url))
    default = urlsplit(database_url({}))
    port = default.port
    assert port is not None and default.username and default.password
    root = layout.state / "postgres"
    data, sockets = root / "data", root / "run"
    as_root = os.geteuid() == 0
    address = network.cluster_address(env)

    def as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), user=USER if as_root else None, cwd="/",
                              capture_output=True, text=True, check=True)

    def prepare() -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 not found in {BIN}: run `make install`")
        _stop_debian_cluster(port)
        root.mkdir(parents=True, exist_ok=True)
        if as_root:
            _make_traversable(root)
            owner = pwd.getpwnam(USER)
            os.chown(root, owner.pw_uid, owner.pw_gid)
        as_postgres("mkdir", "-p", str(sockets))
        if not (data / "PG_VERSION").exists():
            as_postgres(str(BIN / "initdb"), "-D", str(data), "-U", USER, "--encoding=UTF8",
                        "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256")
            with (data / "postgresql.conf").open("a") as conf:
                conf.write("include_if_exists = 'helios.conf'\n")
        settings = data / "helios.conf"
        settings.write_text(string.Template((HERE / "postgres.conf").read_text()).substitute(
            port=port, socket_dir=sockets,
            listen=", ".join(["127.0.0.1", *([address] if address else [])])))
        _allow_pods(data / "pg_hba.conf", enabled=address is not None)
        if as_root:
            owner = pwd.getpwnam(USER)
            os.chown(settings, owner.pw_uid, owner.pw_gid)

    def create_role_and_database() -> None:
        role, password, database = default.username, default.password, default.path[1:]
        sql = f"""
SELECT format('CREATE ROLE {role} LOGIN CREATEDB PASSWORD %L', '{password}')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') \\gexec
ALTER ROLE {role} LOGIN CREATEDB PASSWORD '{password}';
SELECT 'CREATE DATABASE {database} OWNER {role}'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}') \\gexec
"""
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(sockets),
                        "-p", str(port), "-U", USER, "-d", "postgres"], input=sql, text=True,
                       capture_output=True, check=True)

    return Spec(
        name="postgres",
        argv=[str(BIN / "postgres"), "-D", str(data)],
        log=layout.log("postgres"),
        ready=command(["pg_isready", "-q", "-h", str(sockets), "-p", str(port), "-U", USER,
                       "-d", "postgres"]),
        prepare=prepare,
        after_ready=create_role_and_database,
        cwd=Path("/"),
        user=USER if as_root else None,
        # SIGTERM is a "smart" shutdown that waits for every client to leave; SIGINT is fast.
        stop_signal=signal.SIGINT,
        stop_timeout=30.0,
        port=port,
    )


def _allow_pods(hba: Path, *, enabled: bool) -> None:
    """The local Kubernetes' pods, with the password, when cluster access is on (their
    connections come from their own addresses: network.POD_NETWORK)."""
    rule = f"host all all {network.POD_NETWORK} scram-sha-256  # helios: pods\n"
    lines = [line for line in hba.read_text().splitlines(keepends=True) if line != rule]
    hba.write_text("".join([*lines, *([rule] if enabled else [])]))


def _stop_debian_cluster(port: int) -> None:
    """Debian's packaged cluster (pg_ctlcluster 15 main) would hold the port."""
    if shutil.which("pg_lsclusters") is None:
        return
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True,
                            check=False).stdout
    for line in listed.splitlines():
        version, name, cluster_port, status, *_ = line.split()
        if cluster_port == str(port) and status.startswith("online"):
            subprocess.run(["pg_ctlcluster", version, name, "stop"], check=False)


def _make_traversable(path: Path) -> None:
    """The postgres user must reach the data directory: every parent needs o+x."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
