"""Running Helios on this machine: the one way its processes are started, waited for, watched
and stopped, used by `make up`/`make down`/`make status` (through the supervisor), the tests and
the benchmarks alike.

    process.py      one process: spawn, readiness, stop (TERM, then KILL), pause, status
    probes.py       readiness checks: TCP, HTTP, gRPC health
    supervisor.py   the background supervisor of `helios local up`: groups of processes started
                    in order, crashed ones restarted, a control socket for the CLI
    servers/        Kafka, PostgreSQL and Redis: the setup no tool does, one file per server
    mesh.py         the Helios services and the Envoy gateway as processes
    cli.py          `helios local up|down|status|start|stop|restart`
"""
