"""`helios.profiles.seed` and `helios seed-profiles` against the real Redis, in databases of
their own (the ``seed_url`` and ``synthetic_url`` fixtures) so rewriting demo users cannot
disturb other tests reading them."""

from __future__ import annotations

import os
import subprocess

import redis

from helios.profiles import layout
from helios.profiles.seed import demo_profiles, run, run_synthetic, synthetic_profiles
from tests.harness import BIN


def stored(url: str) -> dict[str, dict[str, str]]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        keys = list(client.scan_iter(match=layout.KEY_PREFIX + "*", count=1000))
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            values = pipe.execute()
        return dict(zip(keys, values, strict=True))
    finally:
        client.close()


def test_the_seed_writes_the_whole_demo_set(seed_url: str) -> None:
    assert run(seed_url) == 1000
    expected = {layout.key(p.user_id): layout.encode(p.interests) for p in demo_profiles(1000)}
    assert stored(seed_url) == expected
    assert expected["helios:profile:user-001"] == {"technology": "0.95", "sports": "0.7"}


def test_seeding_again_keeps_changed_profiles_and_restores_missing_ones(seed_url: str) -> None:
    run(seed_url, 20)
    client = redis.Redis.from_url(seed_url, decode_responses=True)
    try:
        client.hset("helios:profile:user-001", "gaming", "0.1")
        client.delete("helios:profile:user-002")
    finally:
        client.close()

    assert run(seed_url, 20) == 1

    expected = {layout.key(p.user_id): layout.encode(p.interests) for p in demo_profiles(20)}
    expected["helios:profile:user-001"]["gaming"] = "0.1"
    assert stored(seed_url) == expected


def seed_command(url: str, *args: str) -> list[str]:
    """`helios seed-profiles ARGS` against ``url``: its stdout lines, with the timing cut off."""
    result = subprocess.run([str(BIN / "helios"), "seed-profiles", *args],
                            env={**os.environ, "HELIOS_REDIS_URL": url},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [line.split(" in ")[0] for line in result.stdout.splitlines()]


def test_the_seed_command_runs_it(seed_url: str) -> None:
    assert seed_command(seed_url) == ["seeded 1000 demo profiles (0 already there, kept)"]
    assert len(stored(seed_url)) == 1000


def test_the_seed_command_adds_synthetic_profiles_beside_the_demo_users(
        synthetic_url: str) -> None:
    url = synthetic_url
    assert seed_command(url, "--count", "1200") == [
        "seeded 1000 demo profiles (0 already there, kept)",
        "seeded 1200 synthetic profiles (0 already there, kept)"]
    expected = {layout.key(p.user_id): layout.encode(p.interests)
                for p in [*demo_profiles(1000), *synthetic_profiles(1200)]}
    assert stored(url) == expected
    assert "helios:profile:synthetic-001200" in expected

    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.hset("helios:profile:synthetic-000007", "gaming", "0.1")
        client.delete("helios:profile:synthetic-000600", "helios:profile:user-005")
    finally:
        client.close()
    assert seed_command(url, "--count", "1200") == [
        "seeded 1 demo profiles (999 already there, kept)",
        "seeded 1 synthetic profiles (1199 already there, kept)"]
    expected["helios:profile:synthetic-000007"]["gaming"] = "0.1"
    assert stored(url) == expected


def test_synthetic_seeding_reports_its_progress(synthetic_url: str) -> None:
    handled: list[int] = []
    assert run_synthetic(synthetic_url, 1200, handled.append) == 1200
    assert handled == [500, 1000, 1200]
    assert run_synthetic(synthetic_url, 1300) == 100
    assert len(stored(synthetic_url)) == 1300
