"""Apache Kafka 4 in KRaft mode (no ZooKeeper), one node that is broker and controller, run on
this machine's Java from the jars `make install` fetched from Maven Central.

Set-up: the properties rendered from kafka.properties into the state directory on every start,
and the storage formatted once (``StorageTool format --standalone``), keeping the cluster id so a
reformat after deleting the data is the same cluster to anyone who cached it.
"""

from __future__ import annotations

import shutil
import string
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from helios.local import network
from helios.local.layout import Layout
from helios.local.probes import Probe, every, tcp
from helios.local.process import Spec
from helios.local.servers import External
from helios.platform.settings import Environ, kafka_bootstrap

HERE = Path(__file__).parent
CONTROLLER_PORT = 9093
# Kafka's own kafka-server-start.sh flags, without GC logging.
JVM = ["-Xms512m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
       "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
       "-Djava.awt.headless=true"]


def answers(bootstrap: str) -> Probe:
    """The cluster answers a metadata request listing a broker (confluent-kafka answers in
    ~0.1 s, where a JVM admin tool would take seconds to start)."""
    def check() -> bool:
        from confluent_kafka.admin import AdminClient

        try:
            admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
            return bool(admin.list_topics(timeout=1).brokers)
        except Exception:
            return False
    return check


def server(layout: Layout, env: Environ) -> Spec | External:
    if env.get("HELIOS_KAFKA_BOOTSTRAP_SERVERS", "").strip():
        bootstrap = kafka_bootstrap(env)
        return External("kafka", bootstrap, answers(bootstrap))
    port = urlsplit(f"//{kafka_bootstrap({})}").port
    assert port is not None
    home = layout.cache / "kafka"
    data = layout.state / "kafka" / "data"
    properties = layout.state / "kafka" / "server.properties"
    log4j = f"-Dlog4j2.configurationFile={HERE / 'kafka-log4j2.yaml'}"
    classpath = ["-cp", f"{home / 'libs'}/*"]
    address = network.cluster_address(env)
    cluster = f",CLUSTER://{address}:{network.CLUSTER_KAFKA_PORT}" if address else ""

    def prepare() -> None:
        if shutil.which("java") is None:
            raise RuntimeError("java not found: Kafka needs a Java 17+ runtime "
                               "(apt-get install default-jre-headless)")
        if not any(home.glob(".complete*")):
            raise RuntimeError(f"Kafka jars missing in {home}: run `make install`")
        data.mkdir(parents=True, exist_ok=True)
        template = string.Template((HERE / "kafka.properties").read_text())
        properties.write_text(template.substitute(port=port, controller_port=CONTROLLER_PORT,
                                                  data_dir=data, cluster=cluster))
        if not (data / "meta.properties").exists():
            cluster_id = properties.with_name("cluster.id")
            if not cluster_id.exists() or not cluster_id.read_text().strip():
                made = subprocess.run(["java", *classpath, "kafka.tools.StorageTool",
                                       "random-uuid"], capture_output=True, text=True,
                                      check=True)
                cluster_id.write_text(made.stdout.strip().splitlines()[-1])
            subprocess.run(["java", log4j, *classpath, "kafka.tools.StorageTool", "format",
                            "--standalone", "-t", cluster_id.read_text().strip(),
                            "-c", str(properties)], capture_output=True, check=True)

    return Spec(
        name="kafka",
        argv=["java", *JVM, log4j, f"-Dkafka.logs.dir={layout.logs}", *classpath,
              "kafka.Kafka", str(properties)],
        log=layout.log("kafka"),
        ready=every(tcp(port), answers(f"localhost:{port}")),
        prepare=prepare,
        # A controlled shutdown moves leadership and flushes; give it time.
        stop_timeout=30.0,
        port=port,
    )
