"""The servers `helios local up infra` runs also answer on this machine's address, where the
pods of the local Kubernetes reach them (helios/local/network.py): Kafka on its CLUSTER listener,
advertised under that address, Redis without protected mode, PostgreSQL with its password rule
for the pod network."""

from __future__ import annotations

import os
import socket

import pytest
import redis
from confluent_kafka.admin import AdminClient

from helios.local import network
from helios.local.layout import Layout
from helios.platform.settings import redis_url
from tests.conftest import Infra

ADDRESS = network.node_address(os.environ)


@pytest.fixture(autouse=True)
def _local_servers(infra: Infra) -> None:
    assert ADDRESS, "this machine has no default route: pods could not reach it"


def test_kafka_advertises_the_cluster_listener_under_this_machines_address() -> None:
    admin = AdminClient({"bootstrap.servers": f"{ADDRESS}:{network.CLUSTER_KAFKA_PORT}"})
    brokers = admin.list_topics(timeout=10).brokers
    assert [(str(b.host), b.port) for b in brokers.values()] == [
        (ADDRESS, network.CLUSTER_KAFKA_PORT)]


def test_redis_answers_on_this_machines_address() -> None:
    url = redis_url({}).replace("localhost", ADDRESS)
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        assert client.ping()


def test_postgresql_listens_there_and_lets_the_pod_network_in_with_a_password() -> None:
    with socket.create_connection((str(ADDRESS), 5432), timeout=2):
        pass
    hba = (Layout.from_env(os.environ).state / "postgres" / "data" / "pg_hba.conf").read_text()
    assert f"host all all {network.POD_NETWORK} scram-sha-256" in hba
