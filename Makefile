# The project's commands. Each one installs what it needs first (idempotently).
.PHONY: up down test check bench soak fuzz proto install status image image-test kube-up kube-down kube-test

up:        ## start infrastructure, seed, start every service and the gateway in the background
	@bash scripts/up.sh

down:      ## stop everything `make up` started
	@bash scripts/down.sh

test:      ## static checks, then the whole test suite against real Kafka/Redis/PostgreSQL/Envoy
	@bash scripts/test.sh

check:     ## static checks only: generated code, buf lint, ruff, mypy
	@bash scripts/check.sh

bench:     ## benchmarks with a printed report (bounded time, localhost only)
	@bash scripts/bench.sh

soak:      ## the mesh under steady traffic (SOAK_MINUTES=5, SOAK_RATE=1000), then the exactly-once check
	@bash scripts/soak.sh

fuzz:      ## the long hostile-input run: generated requests and Schemathesis through the gateway
	@bash scripts/fuzz.sh

proto:     ## regenerate Python code and the gateway descriptor set from protos/
	@bash scripts/proto.sh

install:   ## install Debian packages, the virtualenv, Go tools and the Kafka jars
	@bash scripts/install.sh

status:    ## every process make up runs: state, pid, port, health, restarts, memory
	@.venv/bin/helios local status

image:     ## build the Dockerfile with buildah (no Docker engine) into .helios/images/; HELIOS_IMAGE_TAG=dev
	@bash scripts/image.sh

image-test: ## make image, then run it as the chart's pods do: uid 10001, read-only root, no capabilities
	@bash scripts/image-test.sh

kube-up:   ## a single-node Kubernetes as local processes (builds what is missing), node Ready
	@bash scripts/kube-up.sh

kube-down: ## stop the local Kubernetes and put the host back (rules, mounts, bridge, sysctls)
	@bash scripts/kube-down.sh

kube-test: ## the image and the chart on the local Kubernetes: helm install, helm test, upgrade, down clean
	@bash scripts/kube-test.sh
