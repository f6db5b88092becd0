"""Redis is the profiles' system of record: a profile written through the API survives a
restart of Redis by the project's own supervisor, and Redis being killed (which the supervisor
answers by starting it again), and `make up`'s seeding never overwrites a demo profile a user
changed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import grpc
import pytest

from helios.local.mesh import Launcher
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub
from tests.harness import BIN, eventually


def local(*args: str) -> str:
    """`helios local ...`, as an operator types it."""
    return subprocess.run([str(BIN / "helios"), "local", *args], check=True,
                          capture_output=True, text=True, timeout=120).stdout


def redis_pid() -> int:
    from helios.local.layout import Layout
    from helios.local.supervisor import request

    (event,) = request(Layout.from_env(os.environ), {"cmd": "status"})
    (row,) = [r for r in event["rows"] if r["name"] == "redis"]
    return int(row["pid"])


@pytest.fixture
def stub(launcher: Launcher) -> Iterator[ProfileServiceStub]:
    profiles = launcher.start("profiles")
    with grpc.insecure_channel(profiles.target) as channel:
        yield ProfileServiceStub(channel)


def upsert(stub: ProfileServiceStub, user_id: str, interests: dict[str, float]) -> None:
    stub.UpsertProfile(pb.UpsertProfileRequest(
        profile=pb.UserProfile(user_id=user_id, interests=interests)), timeout=5)


def read_back(stub: ProfileServiceStub, user_id: str) -> dict[str, float]:
    """The profile, once the service answers again (it reconnects to the restarted Redis)."""
    def get() -> dict[str, float] | None:
        try:
            reply = stub.GetProfile(pb.GetProfileRequest(user_id=user_id), timeout=2)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
            return None
        return dict(reply.profile.interests)

    found = eventually(get, timeout=30, interval=0.2)
    assert isinstance(found, dict)
    return found


def test_an_upserted_profile_survives_a_redis_restart(
        stub: ProfileServiceStub, new_user_id: Callable[[], str]) -> None:
    user_id = new_user_id()
    upsert(stub, user_id, {"travel": 0.8, "books": 0.25})

    local("restart", "redis")

    assert read_back(stub, user_id) == {"travel": 0.8, "books": 0.25}
    stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id), timeout=5)


def test_an_upserted_profile_survives_redis_being_killed(
        stub: ProfileServiceStub, new_user_id: Callable[[], str]) -> None:
    user_id = new_user_id()
    upsert(stub, user_id, {"music": 0.95})
    # appendfsync everysec: once a second has passed, the write is on disk too (a SIGKILL
    # loses nothing even sooner: the kernel holds what Redis wrote).
    time.sleep(1.5)

    pid = redis_pid()
    os.kill(pid, signal.SIGKILL)

    assert read_back(stub, user_id) == {"music": 0.95}
    assert redis_pid() != pid
    stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id), timeout=5)


def test_seeding_as_make_up_does_keeps_a_demo_profile_a_user_changed(
        launcher: Launcher, seed_url: str) -> None:
    url = seed_url
    profiles = launcher.start("profiles", {"HELIOS_REDIS_URL": url})

    def seed() -> str:
        result = subprocess.run([str(BIN / "helios"), "seed-profiles"],
                                env={**os.environ, "HELIOS_REDIS_URL": url},
                                capture_output=True, text=True, timeout=60, check=True)
        return result.stdout.strip()

    seed()
    with grpc.insecure_channel(profiles.target) as channel:
        api = ProfileServiceStub(channel)
        upsert(api, "user-003", {"gaming": 0.99})
        assert seed() == "seeded 0 demo profiles (1000 already there, kept)"
        assert read_back(api, "user-003") == {"gaming": 0.99}
        api.DeleteProfile(pb.DeleteProfileRequest(user_id="user-003"), timeout=5)
        assert seed() == "seeded 1 demo profiles (999 already there, kept)"
        assert read_back(api, "user-003") == {"sports": 0.65, "music": 0.40}
