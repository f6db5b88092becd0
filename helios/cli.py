"""The `helios` command: run a service, or do an operator task.

    helios serve profiles|bidder|auction|analytics
    helios seed-profiles [--count N]                    the demo users, and N synthetic ones
    helios create-topics
    helios migrate
    helios preflight [--timeout S]                      are Kafka, PostgreSQL and Redis there?
    helios render-gateway [--out PATH] [--no-validate]
    helios credentials
    helios token [--seconds N] [--subject NAME]
    helios wait-healthy TARGET [TARGET ...] [--timeout S]
    helios settings                                     every environment variable, a table
    helios local up|down|status|start|stop|restart      (see helios/local/cli.py)

Settings come from environment variables (see docs/CONVENTIONS.md); a missing or malformed one
stops the command with a message naming it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

from helios.platform.settings import Environ, SettingsError

SERVICES = ("profiles", "bidder", "auction", "analytics")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="helios", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run one service in the foreground")
    serve.add_argument("service", choices=SERVICES)

    seed = commands.add_parser("seed-profiles", help="load the demo user profiles, and "
                                                     "synthetic ones, that are missing into "
                                                     "Redis")
    seed.add_argument("--count", type=_not_negative, default=0,
                      help="synthetic profiles besides the demo users, synthetic-000001 "
                           "onwards (default: none)")

    commands.add_parser("create-topics", help="create the Kafka topics that are missing")
    commands.add_parser("migrate", help="apply the analytics database migrations")
    preflight = commands.add_parser("preflight", help="check that Kafka, PostgreSQL and Redis "
                                                      "answer; name each one that does not")
    preflight.add_argument("--timeout", type=float, default=30.0,
                           help="how long to keep trying, in all (default: 30 s)")

    gateway = commands.add_parser("render-gateway", help="render the Envoy config")
    gateway.add_argument("--out", type=Path, default=Path(".helios/envoy.yaml"))
    gateway.add_argument("--no-validate", action="store_true",
                         help="skip `envoy --mode validate`")

    commands.add_parser("credentials", help="make the local gateway's TLS certificate and "
                                           "token signing key, where missing")
    token = commands.add_parser("token", help="print a bearer token the local gateway accepts")
    token.add_argument("--seconds", type=int, default=24 * 3600,
                       help="how long it is valid (default: a day)")
    token.add_argument("--subject", default="local-user", help="the token's sub claim")

    commands.add_parser("settings", help="every environment variable with its default, as a "
                                         "markdown table")

    wait = commands.add_parser("wait-healthy", help="wait until gRPC health checks say SERVING")
    wait.add_argument("targets", nargs="+", help="host:port")
    wait.add_argument("--timeout", type=float, default=60.0)

    from helios.local import cli as local

    local.add_commands(commands)

    args = parser.parse_args(argv)
    try:
        _dispatch(args)
    except SettingsError as exc:
        sys.exit(f"helios: configuration error: {exc}")


def _dispatch(args: argparse.Namespace) -> None:
    env = os.environ
    if args.command == "serve":
        importlib.import_module(f"helios.{args.service}.service").main()
    elif args.command == "seed-profiles":
        _seed_profiles(env, args.count)
    elif args.command == "create-topics":
        from helios.platform.kafka import Topics, ensure_topics
        from helios.platform.settings import kafka_bootstrap

        created = ensure_topics(kafka_bootstrap(env), Topics.from_env(env).partitions())
        print("created topics: " + (", ".join(created) if created else "none (all exist)"))
    elif args.command == "migrate":
        from helios.analytics.migrate import migrate
        from helios.platform.settings import database_url

        migrate(database_url(env))
        print("database schema is up to date")
    elif args.command == "preflight":
        from helios import preflight

        results = preflight.run(env, args.timeout)
        for result in results:
            print(f"{result.server} at {result.where}: {result.problem or 'ok'}", flush=True)
        missing = [f"{r.server} ({r.where})" for r in results if r.problem]
        if missing:
            sys.exit(f"helios: cannot reach {', '.join(missing)}")
    elif args.command == "render-gateway":
        from helios.gateway import render
        from helios.gateway.settings import GatewaySettings

        path = render.write(GatewaySettings.from_env(env), args.out)
        if not args.no_validate:
            render.validate(path)
        print(f"wrote {path}")
    elif args.command == "credentials":
        from helios.gateway import credentials
        from helios.gateway.settings import GatewaySettings

        for path in credentials.ensure(GatewaySettings.from_env(env)):
            print(f"wrote {path}")
    elif args.command == "token":
        from helios.gateway import credentials
        from helios.gateway.settings import GatewaySettings

        try:
            print(credentials.token(GatewaySettings.from_env(env), seconds=args.seconds,
                                    subject=args.subject))
        except FileNotFoundError as exc:
            sys.exit(f"helios: {exc}")
    elif args.command == "wait-healthy":
        _wait_healthy(args.targets, args.timeout)
    elif args.command == "settings":
        from helios.settings import table

        print(table(), end="")
    elif args.command == "local":
        from helios.local import cli as local

        local.run(args)


def _wait_healthy(targets: list[str], timeout: float) -> None:
    from helios.local.probes import grpc_serving, wait

    deadline = time.monotonic() + timeout
    for target in targets:
        if not wait(grpc_serving(target), deadline - time.monotonic()):
            sys.exit(f"helios: {target} not SERVING after {timeout:.0f}s")
        print(f"{target}: SERVING")


# Synthetic counts from this one on print their progress, every this many profiles.
_PROGRESS_EVERY = 10_000


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _seed_profiles(env: Environ, count: int) -> None:
    from helios.platform.settings import redis_url
    from helios.profiles.seed import DEFAULT_COUNT, run, run_synthetic

    url = redis_url(env)
    written = run(url)
    print(f"seeded {written} demo profiles ({DEFAULT_COUNT - written} already there, kept)",
          flush=True)
    if not count:
        return
    started = time.monotonic()

    def progress(handled: int) -> None:
        if handled % _PROGRESS_EVERY == 0 and handled < count:
            print(f"synthetic profiles: {handled:,} of {count:,} "
                  f"({time.monotonic() - started:.1f} s)", file=sys.stderr, flush=True)

    written = run_synthetic(url, count, progress if count > _PROGRESS_EVERY else None)
    print(f"seeded {written} synthetic profiles ({count - written} already there, kept) "
          f"in {time.monotonic() - started:.1f} s")
