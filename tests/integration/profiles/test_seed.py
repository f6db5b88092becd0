"""`helios.profiles.seed.run` against the real Redis, in a database of its own (the
``seed_url`` fixture) so rewriting demo users cannot disturb other tests reading them."""

from __future__ import annotations

import os
import subprocess

import redis

from helios.profiles import layout
from helios.profiles.seed import demo_profiles, run
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


def test_the_seed_command_runs_it(seed_url: str) -> None:
    result = subprocess.run([str(BIN / "helios"), "seed-profiles", "--count", "15"],
                            env={**os.environ, "HELIOS_REDIS_URL": seed_url},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "seeded 15 demo profiles (0 already there, kept)"
    assert len(stored(seed_url)) == 15
