"""The O(1) aggregate against the per-GPU values: after seeded random sequences of
contributions, time jumps (onto and around grid days), impairments, restores, attestations, status
changes, appraisals (a GPU held below its line marked up a step, or settled), deposits,
redemptions and maturities, every view equals the reference (tests/utils/collateral.py): value_of
of each GPU, value(), positions, nodes (their changes of the number of GPUs written down
included), sums, pending, written_down, held_down, entries_open, and what current_value /
entry_value answer; and value() <= sum of value_of <= value() + counted GPUs. Entries
(contributions, deposits) are refused with their reason whenever the reference says a counted GPU
is stale or returning, or a GPU is held down (impaired, or below its line since its restore)."""

import copy
import random

import ape
import pytest

from tests.unit.gpu_collateral.conftest import Pool, read_many
from tests.utils.appraisals import next_step
from tests.utils.collateral import (
    ACTIVE,
    COUNTING,
    DAY,
    ENTRIES_WAIT,
    IMPAIRED,
    MAX_MATURE_STEPS,
    RETIRED,
    EntriesWait,
    State,
    floor_day,
)
from tests.utils.registry import USDC, YEAR, GpuStatus
from tests.utils.vault import VIRTUAL_SHARES, fund, logs_of, to_assets

GPUS = 8
STEPS = 80
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


def exit_some(pool: Pool, rng: random.Random, investor, at: int) -> str:
    """While entries wait, an exit still prices (from current_value, after maturing): the
    investor redeems a random number of its fractions that free cash pays, at the reference
    NAV to the wei; with none to redeem, anyone brings the value current."""
    vault = pool.vault
    book = copy.deepcopy(pool.book)
    book.make_current(at)
    cash, supply, balance = read_many(
        pool.chain,
        [(vault, "free_cash", ()), (vault, "totalSupply", ()), (vault, "balanceOf", (investor,))],
    )
    total = cash + book.value(at)
    # to_assets(s) = s * (T + 1) // (S + V): at least 1, at most the free cash.
    lowest = -(-(supply + VIRTUAL_SHARES) // (total + 1))
    highest = min(balance, ((cash + 1) * (supply + VIRTUAL_SHARES) - 1) // (total + 1))
    if lowest > highest:
        pool.next_at(at)
        pool.flow(pool.collateral.current_value(sender=investor))
        return "current_value"
    shares = rng.randint(lowest, highest)
    # At `at` (a refused deposit may have been sent before: Anvil pins one block a setting).
    pool.next_at(at)
    tx = vault.redeem(shares, investor, investor, sender=investor)
    assert tx.timestamp == at
    pool.flow(tx)
    [withdrawn] = logs_of(tx, vault, "Withdraw")
    assert withdrawn.assets == to_assets(shares, total, supply) > 0
    return "redeem"


def appraise(pool: Pool, rng: random.Random, ids: list[int]) -> str | None:
    """The appraiser lifts a hold, or works towards it: three times in four, a GPU held below its
    line that may rise (counted, fresh, not returning, not settled; or impaired: out of the count
    no step applies, so straight to its line) is marked up by the largest step; otherwise a GPU
    held below its line is settled where it stands. Returns what was done (None: no GPU held
    below its line)."""
    book = pool.book
    held = [t for t in ids if t in book.positions and book.positions[t].held]
    if not held:
        return None
    if book.pending(pool.chain.pending_timestamp) > MAX_MATURE_STEPS:
        pool.process(1_024)
        pool.next_at(pool.now() + 1)
    at = pool.chain.pending_timestamp

    def may_rise(token_id: int) -> bool:
        position = book.positions[token_id]
        return token_id not in book.settled and (
            position.state == State.UNCOUNTED
            or (book.counts(token_id, at) and position.curve.ramp_end <= at)
        )

    rising = [t for t in held if may_rise(t)]
    if rising and rng.random() < 0.75:
        token_id = rng.choice(rising)
        terms = pool.terms(token_id)
        if book.positions[token_id].state == State.COUNTED:
            pool.mark(token_id, next_step(terms, book.book_of(token_id, terms, at), at))
        else:
            pool.mark(token_id, terms.book_value(at))
        return "mark up"
    pool.settle(rng.choice(held))
    return "settle"


def step(pool: Pool, rng: random.Random, ids: list[int], investor) -> str:
    book, now = pool.book, pool.now()
    statuses = {t: terms.status for t, terms in zip(ids, pool.terms_of(ids), strict=True)}
    held = [t for t in ids if t in book.positions]
    outside = [t for t in ids if t not in book.positions and statuses[t] != RETIRED]
    action = rng.choice(
        [
            "wait",
            "wait",
            "contribute",
            "impair",
            "restore",
            "attest",
            "attest",
            "status",
            "flow",
            "process",
            "appraise",
            "appraise",
        ]
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
        try:
            value = pool.predict(token_id, at)[0]
        except EntriesWait:
            # A counted GPU is stale or returning, or a GPU held down: the contribution waits.
            value, reason, action = None, ENTRIES_WAIT, "contribution waits"
        else:
            # Worth nothing more to the pool (zero salvage past its end of life): no fractions.
            reason = "vault: zero shares"
        if value:
            pool.contribute(token_id)
        else:
            with ape.reverts(reason):
                pool.collateral.contribute(token_id, investor, 0, sender=pool.roles["operator"])
            pool.view_at(at)
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
        at = pool.chain.pending_timestamp
        if pool.book.pending(at) > MAX_MATURE_STEPS:
            pool.process(rng.randint(1, 8))
        elif pool.book.entries_wait(at):
            with ape.reverts(ENTRIES_WAIT):
                pool.vault.deposit(rng.randrange(1, 5_000 * USDC), investor, sender=investor)
            action = exit_some(pool, rng, investor, at)
        else:
            pool.flow(pool.vault.deposit(rng.randrange(1, 5_000 * USDC), investor, sender=investor))
    elif action == "appraise":
        action = appraise(pool, rng, ids) or action
    elif action == "process":
        # Anyone matures a few due nodes (none, often): the sums move, the value does not.
        pool.process(rng.randint(1, 4), sender=investor)
    else:
        pool.view_at(pool.chain.pending_timestamp)
        action = "wait"
    return action


# Seeds whose runs go through every kind of step, of change and of matured node (see the end).
@pytest.mark.anvil_only(
    "each step is checked at the second its block is mined; Ganache's clock runs on between blocks"
)
@pytest.mark.parametrize("seed", [15, 39])
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
    # The run went through every kind of step and of change, GPUs went stale (a ramp starts only
    # from stale or impaired), holds were lifted both ways, entries both went in and waited (an
    # exit priced meanwhile), and matured nodes wrote GPUs down (stale days) and up (ramp ends).
    assert seen >= {"wait", "contribute", "impair", "restore", "attest", "status", "flow"}
    assert seen >= {"contribution waits", "redeem", "process", "mark up", "settle"}
    assert set(pool.book.history) == {"in", "ramp", "move", "out", "mark"}
    gpus = [m[3] for m in pool.book.matured_log]
    assert len(gpus) >= 4 and min(gpus) < 0 < max(gpus)
    assert any(p.state == State.COUNTED for p in pool.book.positions.values())
