"""The image `make image` built, run the way the chart's pods run it.

The OCI archive is unpacked with umoci and each container starts with runc, locked down as a
restricted pod: the image's own user (10001), a read-only root filesystem, no capabilities, no
new privileges, its own network namespace (nothing leaves it). The command lines, environment
and volumes come from the chart itself (`helm template`): emptyDirs are writable host folders,
Secrets read-only folders of files, and /tmp is an emptyDir as the image expects.

Not part of `make test` (tests/conftest.py leaves this folder out; it needs root, umoci and
runc): `make image-test` builds the image and runs these.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helios.gateway import credentials
from helios.gateway.settings import GatewaySettings, state_dir
from helios.settings import table
from tests.charts.test_chart import by_kind, render
from tests.harness import ROOT

ARCHIVE = state_dir(os.environ) / "images" / "helios.oci.tar"
USER = "10001:10001"
# What a pod's environment gets from a Secret (secretKeyRef) here: nothing reads it unless
# it connects, and nothing can connect out of the container's network namespace.
SECRET_ENV = {"HELIOS_DATABASE_URL": "postgresql://helios:secret@postgres:5432/helios"}
# Bundles are ~400 MB; tmpfs unpacks them 2-3 times faster than this disk.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@dataclass(frozen=True)
class Mount:
    host: Path
    path: str
    read_only: bool


@dataclass(frozen=True)
class Image:
    """The unpacked image: its OCI config and a runc bundle made from it."""

    config: dict[str, Any]
    bundle: Path
    state: Path

    @property
    def rootfs(self) -> Path:
        return self.bundle / "rootfs"

    def run(self, argv: list[str], env: Mapping[str, str] | None = None,
            mounts: Sequence[Mount] = (), timeout: float = 120,
            ) -> subprocess.CompletedProcess[str]:
        """``argv`` in a new container of the bundle, until it exits; stdout and stderr."""
        spec = json.loads((self.bundle / "config.umoci.json").read_text())
        process = spec["process"]
        process.update(args=argv, terminal=False, noNewPrivileges=True,
                       capabilities={k: [] for k in ("bounding", "effective", "inheritable",
                                                     "permitted", "ambient")})
        # The image's environment, then the container's (a name given twice would leave it to
        # each program which one it reads).
        merged = dict(e.split("=", 1) for e in process["env"]) | dict(env or {})
        process["env"] = [f"{k}={v}" for k, v in merged.items()]
        spec["root"]["readonly"] = True
        spec["mounts"] += [{"destination": m.path, "type": "bind", "source": str(m.host),
                            "options": ["rbind", "nosuid", "nodev", "ro" if m.read_only
                                        else "rw"]} for m in mounts]
        (self.bundle / "config.json").write_text(json.dumps(spec))
        name = f"helios-image-test-{uuid.uuid4().hex[:12]}"
        command = ["runc", "--root", str(self.state), "run", "--bundle", str(self.bundle), name]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False)
        finally:
            subprocess.run(["runc", "--root", str(self.state), "delete", "--force", name],
                           capture_output=True, check=False)


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    if not ARCHIVE.is_file():
        pytest.fail(f"{ARCHIVE} is missing: run `make image` (or `make image-test`)")
    if os.geteuid() != 0 or not (shutil.which("umoci") and shutil.which("runc")):
        pytest.fail("needs root, umoci and runc (`make image-test` installs them)")
    scratch = Path(tempfile.mkdtemp(prefix="helios-image-test-", dir=SCRATCH))
    try:
        layout, bundle = scratch / "layout", scratch / "bundle"
        layout.mkdir()
        subprocess.run(["tar", "-xf", str(ARCHIVE), "-C", str(layout)], check=True)
        (manifest_ref,) = json.loads((layout / "index.json").read_text())["manifests"]
        name = manifest_ref["annotations"]["org.opencontainers.image.ref.name"]
        manifest = json.loads(blob(layout, manifest_ref["digest"]))
        config = json.loads(blob(layout, manifest["config"]["digest"]))
        subprocess.run(["umoci", "unpack", "--image", f"{layout}:{name}", str(bundle)],
                       check=True, capture_output=True)
        (bundle / "config.json").rename(bundle / "config.umoci.json")
        yield Image(config, bundle, scratch / "runc")
    finally:
        shutil.rmtree(scratch)


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / digest.replace(":", "/")).read_bytes()


@dataclass
class Pod:
    """One pod of the rendered chart: its containers run one after another in ``image``, and
    share its volumes as in Kubernetes."""

    spec: dict[str, Any]
    volumes: dict[str, Path]
    tmp: Path

    def run(self, image: Image, container: dict[str, Any],
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        mounts = [Mount(self.volumes[m["name"]], m["mountPath"], m.get("readOnly", False))
                  for m in container.get("volumeMounts", [])]
        if all(m.path != "/tmp" for m in mounts):
            mounts.append(Mount(self.tmp, "/tmp", False))
        env = {e["name"]: e["value"] if "value" in e else SECRET_ENV[e["name"]]
               for e in container.get("env", [])}
        argv = container.get("command") or image.config["config"]["Entrypoint"]
        return image.run([*argv, *container.get("args", [])], env, mounts, timeout)


MakePod = Callable[[str, str], Pod]


@pytest.fixture(scope="module")
def chart() -> list[dict[str, Any]]:
    return render()


@pytest.fixture
def pod(chart: list[dict[str, Any]], tmp_path: Path) -> MakePod:
    """``pod(kind, name)``: the chart's pod of that Deployment, Job or Pod, with its volumes
    made: an emptyDir is an empty folder any user can write, a Secret a read-only folder with
    its keys as files (the gateway's JWKS Secret, which the chart expects to exist, is made
    here with `helios credentials`)."""
    secrets = {name: {key: base64.b64decode(value) for key, value in doc["data"].items()}
               for name, doc in by_kind(chart, "Secret").items()}
    made = GatewaySettings.from_env({"HELIOS_STATE_DIR": str(tmp_path / "state")})
    credentials.ensure(made)
    secrets.setdefault("helios-jwks", {"jwks.json": made.jwks.read_bytes()})

    def make(kind: str, name: str) -> Pod:
        doc = by_kind(chart, kind)[name]
        spec = doc["spec"] if kind == "Pod" else doc["spec"]["template"]["spec"]
        volumes: dict[str, Path] = {}
        # The chart gives every pod its /tmp emptyDir, named tmp, as the image expects.
        for volume in spec["volumes"]:
            folder = tmp_path / "volumes" / volume["name"]
            folder.mkdir(parents=True)
            if "secret" in volume:
                for key, data in secrets[volume["secret"]["secretName"]].items():
                    # A Secret volume's default mode: readable by the pod's user.
                    (folder / key).write_bytes(data)
                    (folder / key).chmod(0o644)
            else:
                folder.chmod(0o777)
            volumes[volume["name"]] = folder
        return Pod(spec, volumes, volumes["tmp"])

    return make


def test_the_user_is_numeric_and_its_home_writable(image: Image) -> None:
    """The kubelet checks runAsNonRoot against the image's user only when it is numeric.
    HOME is /tmp, the emptyDir, whether a runtime takes it from the image's environment or
    (as umoci does) from /etc/passwd."""
    assert image.config["config"]["User"] == USER
    assert "HOME=/tmp" in image.config["config"]["Env"]

    result = image.run(["sh", "-c", "id -u; id -g; echo $HOME"])

    assert result.stdout.split() == ["10001", "10001", "/tmp"], result.stderr


def test_help_names_every_command_the_chart_runs(image: Image,
                                                 chart: list[dict[str, Any]]) -> None:
    specs = [d["spec"]["template"]["spec"] for d in chart if d["kind"] in ("Deployment", "Job")]
    specs += [d["spec"] for d in chart if d["kind"] == "Pod"]
    commands = {c["args"][0] for s in specs for c in [*s.get("initContainers", []),
                                                       *s["containers"]] if "args" in c}
    assert commands >= {"serve", "migrate", "create-topics", "wait-healthy", "render-gateway"}

    result = image.run(["helios", "--help"])

    assert result.returncode == 0, result.stderr
    for command in commands | {"seed-profiles"}:
        assert command in result.stdout


def test_settings_are_this_trees(image: Image) -> None:
    """The image holds this working tree's Helios, not an older build."""
    result = image.run(["helios", "settings"])

    assert result.returncode == 0, result.stderr
    assert result.stdout == table()


def test_envoy_is_the_pinned_release(image: Image) -> None:
    result = image.run(["envoy", "--version"])

    assert result.returncode == 0, result.stderr
    assert "/1.40.0/" in result.stdout


def test_the_gateway_pod_renders_a_config_envoy_accepts(image: Image, pod: MakePod) -> None:
    gateway = pod("Deployment", "rel-helios-gateway")
    (init,) = gateway.spec["initContainers"]
    (envoy,) = gateway.spec["containers"]

    rendered = gateway.run(image, init)
    assert rendered.returncode == 0, rendered.stderr
    validate = {**envoy, "command": [*envoy["command"], "--mode", "validate"]}
    checked = gateway.run(image, validate)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "configuration '/etc/envoy/envoy.yaml' OK" in checked.stdout + checked.stderr


def test_envoy_serves_under_a_read_only_root(image: Image, pod: MakePod) -> None:
    """Envoy as the chart starts it (hot restart on, so it writes /dev/shm), until its admin
    endpoint answers LIVE."""
    gateway = pod("Deployment", "rel-helios-gateway")
    (init,) = gateway.spec["initContainers"]
    (envoy,) = gateway.spec["containers"]
    assert gateway.run(image, init).returncode == 0
    admin = next(e["value"] for e in init["env"] if e["name"] == "HELIOS_GATEWAY_ADMIN_PORT")
    script = f"""{" ".join(envoy["command"])} & envoy=$!
python -c '{POLL.format(url=f"http://127.0.0.1:{admin}/ready")}'; ready=$?
kill $envoy; wait $envoy; exit $ready"""

    result = gateway.run(image, {**envoy, "command": ["sh", "-c", script]})

    assert result.returncode == 0, result.stdout + result.stderr
    assert "LIVE" in result.stdout


# Polls an HTTP endpoint from inside the container with the image's own Python (it has no curl).
POLL = """import time, urllib.request
for _ in range(300):
    try:
        print(urllib.request.urlopen("{url}", timeout=1).read().decode()); break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit("{url} never answered 200")"""


def test_a_service_serves_and_stops_under_a_read_only_root(image: Image, pod: MakePod) -> None:
    """The auction as its Deployment runs it, SERVING to `helios wait-healthy` (what helm test
    runs), then stopped by SIGTERM as the kubelet does. Kafka is unreachable, which the
    service rides out."""
    auction = pod("Deployment", "rel-helios-auction")
    (container,) = auction.spec["containers"]
    port = container["ports"][0]["containerPort"]
    serve = " ".join([*image.config["config"]["Entrypoint"], *container["args"]])
    script = f"""{serve} & service=$!
helios wait-healthy --timeout 60 127.0.0.1:{port}; healthy=$?
kill -TERM $service; wait $service; echo "service exited $?"; exit $healthy"""

    result = auction.run(image, {**container, "command": ["sh", "-c", script], "args": []})

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"127.0.0.1:{port}: SERVING" in result.stdout
    assert "service exited 0" in result.stdout, result.stderr


def test_every_module_has_its_bytecode(image: Image) -> None:
    """Nothing can write .pyc at run time, so a module without one is compiled again in every
    process that imports it."""
    for root in [image.rootfs / "opt/helios/lib", *image.rootfs.glob("usr/lib/python3.*")]:
        for source in root.rglob("*.py"):
            cached = source.parent / "__pycache__"
            assert any(cached.glob(f"{source.stem}.cpython-*.pyc")), source


def test_nothing_of_the_build_is_left(image: Image) -> None:
    rootfs = image.rootfs
    assert not (rootfs / "src").exists()
    # pip and the build backend ran from outside the virtualenv; none is in it.
    site = next(rootfs.glob("opt/helios/lib/python3.*/site-packages"))
    leftovers = [p.name for p in site.iterdir()
                 if re.match(r"(pip|setuptools|wheel)\b", p.name) or p.suffix == ".egg-info"]
    assert leftovers == []
    for tool in ("gcc", "cc", "make", "git"):
        assert not (rootfs / "usr/bin" / tool).exists(), tool


def test_the_image_names_its_commit(image: Image) -> None:
    revision = image.config["config"]["Labels"]["org.opencontainers.image.revision"]
    commit, _, dirty = revision.partition("-")

    assert re.fullmatch("[0-9a-f]{40}", commit) and dirty in ("", "dirty"), revision
    subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                   check=True)
