"""The O(1) aggregate against the per-GPU values: after seeded random sequences of
contributions, time jumps (onto and around grid days), impairments, restores, attestations, status
changes, deposits and maturities, every view equals the reference (tests/utils/collateral.py):
value_of of each GPU, value(), positions, nodes, sums, pending; and
value() <= sum of value_of <= value() + counted GPUs."""

import random

import ape
import pytest

from tests.unit.gpu_collateral.conftest import Pool
from tests.utils.collateral import (
    ACTIVE,
    COUNTING,
    DAY,
    IMPAIRED,
    MAX_MATURE_STEPS,
    RETIRED,
    State,
    floor_day,
)
from tests.utils.registry import USDC, YEAR, GpuStatus
from tests.utils.vault import fund

GPUS = 8
STEPS = 35
# A short window and unlock period, so that staleness, ramps and their ends happen often.
WINDOW = 5 * DAY
UNLOCK = 3 * DAY


@pytest.fixture(scope="session")
def brisk(new_pool, usdc, investor) -> Pool:
    pool = new_pool(staleness_window=WINDOW, unlock_period=UNLOCK, name="Brisk", symbol="BRSK")
    fund(usdc, investor, 1_000_000 * USDC)
    usdc.approve(pool.vault, 2**256 - 1, sender=investor)
    return pool


def random_spec(rng: random.Random, now: int) -> dict:
    cost = rng.randrange(100 * USDC, 60_000 * USDC)
    salvage = rng.choice([0, cost, rng.randrange(0, cost // 2)])
    life = rng.choice([rng.randrange(3 * DAY, 40 * DAY), rng.randrange(DAY, 6 * YEAR), 2**40 - 1])
    acquired_at = now - rng.choice([0, rng.randrange(0, 40 * DAY), rng.randrange(0, 3 * YEAR)])
    return {
        "acquisition_cost": cost,
        "salvage_value": salvage,
        "useful_life": life,
        "acquired_at": acquired_at,
    }


def next_time(rng: random.Random, now: int) -> int:
    """Jumps of up to 2 days, often onto a grid day or the second before it."""
    day = floor_day(now) + DAY
    return max(
        now + 1,
        rng.choice(
            [day, day - 1, day + 1, now + rng.randrange(1, 2 * DAY), now + rng.randrange(1, 600)]
        ),
    )


def step(pool: Pool, rng: random.Random, ids: list[int], investor) -> str:
    book, now = pool.book, pool.now()
    statuses = {t: terms.status for t, terms in zip(ids, pool.terms_of(ids), strict=True)}
    held = [t for t in ids if t in book.positions]
    outside = [t for t in ids if t not in book.positions and statuses[t] != RETIRED]
    action = rng.choice(
        ["wait", "wait", "contribute", "impair", "restore", "attest", "attest", "status", "flow"]
    )
    pool.next_at(next_time(rng, now))
    if action == "contribute" and outside:
        token_id = rng.choice(outside)
        if statuses[token_id] != ACTIVE:
            pool.set_status(token_id, GpuStatus.ACTIVE)
        pool.attest(token_id)
        if pool.book.pending(pool.now()) > MAX_MATURE_STEPS:
            pool.process(1_024)
        at = pool.now() + 1
        pool.next_at(at)
        if pool.predict(token_id, at)[0] == 0:
            # Worth nothing more to the pool (zero salvage past its end of life): no fractions.
            with ape.reverts("vault: zero shares"):
                pool.collateral.contribute(token_id, investor, 0, sender=pool.roles["operator"])
            pool.view_at(at)
        else:
            pool.contribute(token_id)
    elif action == "impair" and held:
        candidates = [t for t in held if statuses[t] in COUNTING]
        if candidates:
            pool.set_status(rng.choice(candidates), GpuStatus.IMPAIRED)
    elif action == "restore":
        candidates = [t for t in ids if statuses[t] == IMPAIRED]
        if candidates:
            token_id = rng.choice(candidates)
            pool.set_status(token_id, rng.choice([GpuStatus.ACTIVE] * 3 + [GpuStatus.RETIRED]))
    elif action == "attest":
        # Stale GPUs held first (their return ramps), then any other.
        stale = [t for t in held if statuses[t] != RETIRED and not book.counts(t, now)]
        candidates = [t for t in ids if statuses[t] != RETIRED]
        if candidates:
            chosen = rng.sample(candidates, rng.randint(1, min(3, len(candidates))))
            pool.attest(*(stale[:1] + chosen))
    elif action == "status":
        token_id = rng.choice(ids)
        moves = {
            ACTIVE: [GpuStatus.OFFLINE, GpuStatus.LEASED],
            GpuStatus.OFFLINE: [GpuStatus.ACTIVE],
            GpuStatus.LEASED: [GpuStatus.ACTIVE],
        }.get(statuses[token_id])
        if moves:
            pool.set_status(token_id, rng.choice(moves))
    elif action == "flow":
        if pool.book.pending(pool.chain.pending_timestamp) > MAX_MATURE_STEPS:
            pool.process(rng.randint(1, 8))
        else:
            pool.flow(pool.vault.deposit(rng.randrange(1, 5_000 * USDC), investor, sender=investor))
    else:
        pool.view_at(pool.chain.pending_timestamp)
        action = "wait"
    return action


@pytest.mark.parametrize("seed", [20_251_130, 7])
def test_aggregate_against_per_gpu_values(brisk, seed, investor):
    pool = brisk.fork()
    rng = random.Random(seed)
    ids = [pool.register()] + [
        pool.register(**random_spec(rng, pool.chain.pending_timestamp)) for _ in range(GPUS - 1)
    ]
    pool.contribute(ids[0])
    seen = set()
    for _ in range(STEPS):
        seen.add(step(pool, rng, ids, investor))
        pool.check(ids)
    # The run went through every kind of step and of change, matured nodes, and GPUs went stale
    # (a ramp starts only from stale or impaired).
    assert seen >= {"wait", "contribute", "impair", "restore", "attest", "status", "flow"}
    assert set(pool.book.history) == {"in", "ramp", "move", "out"}
    assert len(pool.book.matured_log) >= 5
    assert any(p.state == State.COUNTED for p in pool.book.positions.values())
