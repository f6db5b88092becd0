"""`helios serve profiles` as a real process on a free port, against the real Redis: every RPC,
every bad input with its exact status and message, Redis down, and a clean stop."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from helios.local.mesh import Launcher, Service, free_port, launched
from helios.profiles.v1 import profiles_pb2 as pb
from helios.profiles.v1.profiles_pb2_grpc import ProfileServiceStub

NewId = Callable[[], str]


@pytest.fixture(scope="module")
def profiles(service_env: dict[str, str], log_dir: Path) -> Iterator[Service]:
    with launched(service_env, log_dir) as launcher:
        yield launcher.start("profiles")


@pytest.fixture(scope="module")
def stub(profiles: Service) -> Iterator[ProfileServiceStub]:
    with grpc.insecure_channel(profiles.target) as channel:
        yield ProfileServiceStub(channel)


@pytest.fixture
def stored(stub: ProfileServiceStub, new_user_id: NewId) -> Iterator[list[str]]:
    """Ids a test upserted through the service; deleted afterwards."""
    ids: list[str] = []
    yield ids
    for user_id in ids:
        try:
            stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id), timeout=5)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND


def rpc_error(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as exc:
        call()
    error = exc.value
    assert isinstance(error, grpc.Call)
    return error.code(), error.details()


def upsert(stub: ProfileServiceStub, user_id: str,
           interests: dict[str, float]) -> pb.UpsertProfileResponse:
    return stub.UpsertProfile(pb.UpsertProfileRequest(
        profile=pb.UserProfile(user_id=user_id, interests=interests)), timeout=5)


# --- the seeded demo users (the session's `infra` fixture seeds them) ---

def test_get_returns_the_documented_demo_user(stub: ProfileServiceStub) -> None:
    reply = stub.GetProfile(pb.GetProfileRequest(user_id="user-001"), timeout=5)
    assert reply.profile.user_id == "user-001"
    assert dict(reply.profile.interests) == {"technology": 0.95, "sports": 0.70}


# --- GetProfile ---

def test_get_of_an_unknown_user_is_not_found(stub: ProfileServiceStub,
                                             new_user_id: NewId) -> None:
    user_id = new_user_id()
    assert rpc_error(lambda: stub.GetProfile(pb.GetProfileRequest(user_id=user_id),
                                             timeout=5)) == (
        grpc.StatusCode.NOT_FOUND, f"user_id: no profile for user '{user_id}'")


@pytest.mark.parametrize(("user_id", "message"), [
    ("", "user_id: is required"),
    ("  ", "user_id: must not be blank"),
    ("u" * 129, "user_id: must be at most 128 characters, got 129"),
])
def test_get_rejects_a_bad_user_id(stub: ProfileServiceStub, user_id: str,
                                   message: str) -> None:
    assert rpc_error(lambda: stub.GetProfile(pb.GetProfileRequest(user_id=user_id),
                                             timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT, message)


# --- UpsertProfile ---

def test_upsert_then_get_returns_it(stub: ProfileServiceStub, new_user_id: NewId,
                                    stored: list[str]) -> None:
    user_id = new_user_id()
    stored.append(user_id)
    reply = upsert(stub, user_id, {"travel": 0.3, "music": 1.0, "news": 0.0})
    assert reply.profile == pb.UserProfile(user_id=user_id,
                                           interests={"travel": 0.3, "music": 1.0, "news": 0.0})
    got = stub.GetProfile(pb.GetProfileRequest(user_id=user_id), timeout=5)
    assert dict(got.profile.interests) == {"travel": 0.3, "music": 1.0, "news": 0.0}


def test_upsert_replaces_the_previous_interests(stub: ProfileServiceStub, new_user_id: NewId,
                                                stored: list[str]) -> None:
    user_id = new_user_id()
    stored.append(user_id)
    upsert(stub, user_id, {"technology": 0.95, "sports": 0.7})
    upsert(stub, user_id, {"food": 0.4})
    got = stub.GetProfile(pb.GetProfileRequest(user_id=user_id), timeout=5)
    assert dict(got.profile.interests) == {"food": 0.4}


@pytest.mark.parametrize(("user_id", "interests", "message"), [
    ("", {"a": 0.5}, "profile.user_id: is required"),
    (" ", {"a": 0.5}, "profile.user_id: must not be blank"),
    ("u" * 129, {"a": 0.5}, "profile.user_id: must be at most 128 characters, got 129"),
    (None, {}, "profile.interests: must hold at least one interest"),
    (None, {"x": 1.5}, 'profile.interests["x"]: score must be between 0 and 1, got 1.5'),
    (None, {"x": -0.5}, 'profile.interests["x"]: score must be between 0 and 1, got -0.5'),
    (None, {"x": math.nan}, 'profile.interests["x"]: score must be a finite number, got nan'),
    (None, {"x": -math.inf},
     'profile.interests["x"]: score must be a finite number, got -inf'),
    (None, {"": 0.5}, 'profile.interests[""]: is required'),
    (None, {" ": 0.5}, 'profile.interests[" "]: must not be blank'),
    (None, {"n" * 129: 0.5}, f'profile.interests["{"n" * 129}"]: must be at most 128 '
                                f"characters, got 129"),
    (None, {"a\x00": 0.5}, 'profile.interests["a\\u0000"]: must hold printable characters '
                           'only, got U+0000 at position 1'),
    (None, {f"i{n}": 0.5 for n in range(257)},
     "profile.interests: must hold at most 256 interests, got 257"),
])
def test_upsert_rejects_bad_input_and_writes_nothing(
        stub: ProfileServiceStub, new_user_id: NewId, user_id: str | None,
        interests: dict[str, float], message: str) -> None:
    """``user_id`` None stands for a fresh valid id, so only the interests are wrong."""
    if user_id is None:
        user_id = new_user_id()
    assert rpc_error(lambda: upsert(stub, user_id, interests)) == (
        grpc.StatusCode.INVALID_ARGUMENT, message)
    if user_id.strip() and len(user_id) <= 128:
        code, _ = rpc_error(lambda: stub.GetProfile(pb.GetProfileRequest(user_id=user_id),
                                                    timeout=5))
        assert code == grpc.StatusCode.NOT_FOUND


def test_upsert_without_a_profile_names_the_missing_field(stub: ProfileServiceStub) -> None:
    assert rpc_error(lambda: stub.UpsertProfile(pb.UpsertProfileRequest(), timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "profile.user_id: is required")


# --- BatchGetProfiles ---

def test_batch_get_returns_found_profiles_and_names_the_missing(
        stub: ProfileServiceStub, new_user_id: NewId, stored: list[str]) -> None:
    first, second, absent = new_user_id(), new_user_id(), new_user_id()
    stored.extend([first, second])
    upsert(stub, first, {"sports": 0.8})
    upsert(stub, second, {"music": 0.2, "books": 0.6})
    reply = stub.BatchGetProfiles(pb.BatchGetProfilesRequest(
        user_ids=[second, absent, first, second, "user-001"]), timeout=5)
    assert list(reply.profiles) == [
        pb.UserProfile(user_id=second, interests={"music": 0.2, "books": 0.6}),
        pb.UserProfile(user_id=first, interests={"sports": 0.8}),
        pb.UserProfile(user_id="user-001", interests={"technology": 0.95, "sports": 0.7}),
    ]
    assert list(reply.missing_user_ids) == [absent]


def test_batch_get_of_nothing_is_empty(stub: ProfileServiceStub) -> None:
    reply = stub.BatchGetProfiles(pb.BatchGetProfilesRequest(), timeout=5)
    assert reply == pb.BatchGetProfilesResponse()


def test_batch_get_takes_up_to_1000_ids(stub: ProfileServiceStub) -> None:
    ids = [f"user-{n:03d}" for n in range(1, 1001)]
    reply = stub.BatchGetProfiles(pb.BatchGetProfilesRequest(user_ids=ids), timeout=10)
    assert [p.user_id for p in reply.profiles] == ids
    assert list(reply.missing_user_ids) == []


@pytest.mark.parametrize(("user_ids", "message"), [
    ([f"u{n}" for n in range(1001)], "user_ids: must hold at most 1000 ids, got 1001"),
    (["user-001", ""], "user_ids[1]: is required"),
    (["user-001", "user-002", "\t"], "user_ids[2]: must not be blank"),
    (["u" * 129], "user_ids[0]: must be at most 128 characters, got 129"),
])
def test_batch_get_rejects_bad_input(stub: ProfileServiceStub, user_ids: list[str],
                                     message: str) -> None:
    assert rpc_error(lambda: stub.BatchGetProfiles(
        pb.BatchGetProfilesRequest(user_ids=user_ids), timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT, message)


# --- DeleteProfile ---

def test_delete_removes_the_profile_and_a_second_delete_is_not_found(
        stub: ProfileServiceStub, new_user_id: NewId) -> None:
    user_id = new_user_id()
    upsert(stub, user_id, {"a": 0.5})
    assert stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id),
                              timeout=5) == pb.DeleteProfileResponse()
    not_found = (grpc.StatusCode.NOT_FOUND, f"user_id: no profile for user '{user_id}'")
    assert rpc_error(lambda: stub.GetProfile(pb.GetProfileRequest(user_id=user_id),
                                             timeout=5)) == not_found
    assert rpc_error(lambda: stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id),
                                                timeout=5)) == not_found


@pytest.mark.parametrize(("user_id", "message"), [
    ("", "user_id: is required"),
    (" ", "user_id: must not be blank"),
    ("u" * 129, "user_id: must be at most 128 characters, got 129"),
])
def test_delete_rejects_a_bad_user_id(stub: ProfileServiceStub, user_id: str,
                                      message: str) -> None:
    assert rpc_error(lambda: stub.DeleteProfile(pb.DeleteProfileRequest(user_id=user_id),
                                                timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT, message)


# --- Redis down, and stopping ---

def test_every_rpc_is_unavailable_while_redis_is_down(launcher: Launcher) -> None:
    # A port nobody listens on stands for a Redis that is down.
    dead = launcher.start("profiles", {
        "HELIOS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "HELIOS_PROFILES_REDIS_TIMEOUT_SECONDS": "0.2"})
    with grpc.insecure_channel(dead.target) as channel:
        dead_stub = ProfileServiceStub(channel)
        calls: list[Callable[[], object]] = [
            lambda: dead_stub.GetProfile(pb.GetProfileRequest(user_id="user-001"), timeout=5),
            lambda: dead_stub.BatchGetProfiles(
                pb.BatchGetProfilesRequest(user_ids=["user-001"]), timeout=5),
            lambda: upsert(dead_stub, "user-x", {"a": 0.5}),
            lambda: dead_stub.DeleteProfile(pb.DeleteProfileRequest(user_id="user-x"),
                                            timeout=5),
        ]
        for call in calls:
            code, message = rpc_error(call)
            assert code == grpc.StatusCode.UNAVAILABLE
            assert message.startswith("profile store unavailable: "), message


def test_sigterm_stops_the_process_cleanly(launcher: Launcher) -> None:
    proc = launcher.start("profiles")
    with grpc.insecure_channel(proc.target) as channel:
        ProfileServiceStub(channel).GetProfile(pb.GetProfileRequest(user_id="user-001"),
                                               timeout=5)
    assert proc.stop() == 0
    log = proc.log_text()
    assert '"msg": "stopped"' in log
    assert "clean-up failed" not in log
