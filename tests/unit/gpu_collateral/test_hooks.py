"""The registry's hooks and `sync`: down at once (IMPAIRED, RETIRED, a stale attestation), up
gradually (restored or re-attested GPUs ramp back over the unlock period), OFFLINE and LEASED
change nothing, a return deferred while maturities are pending is applied by `sync`. An
impairment holds entries (`held_down` + 1) until the GPU is restored, which marks it down to one
step below its line and holds them on (until the appraiser marks it back or settles), or
retired (- 1)."""

import copy

import ape
import pytest

from tests.unit.gpu_collateral.conftest import (
    counted_logs,
    matured_logs,
    reasons,
    revalued_logs,
    uncounted_logs,
)
from tests.utils.collateral import (
    DAY,
    IMPAIRED,
    MAX_MARK_STEP_BPS,
    NOT_HELD,
    NOT_REGISTRY,
    NOTHING_TO_SYNC,
    PENDING,
    RETIRED,
    State,
    ceil_day,
    floor_day,
)
from tests.utils.registry import COLLATERAL_ROLE, USDC, WRITE_DOWN_PATHS, GpuStatus, path_id
from tests.utils.vault import STALENESS_WINDOW, UNLOCK_PERIOD, buy, logs_of


@pytest.fixture
def two(stocked):
    """(pool, first, twin): the `stocked` pool and its two identical GPUs."""
    return stocked.pool, stocked.first, stocked.twin


def nav_is_current(pool):
    """The vault's NAV at the latest block is free cash plus the reference collateral value."""
    assert pool.vault.totalAssets() == pool.vault.free_cash() + pool.book.value(pool.now())


@pytest.mark.parametrize("path", WRITE_DOWN_PATHS, ids=path_id)
def test_out_of_nav_in_the_same_transaction(two, path):
    pool, first, twin = two
    at = pool.now() + 5 * DAY + 17
    for status in path[:-1]:
        pool.set_status(first, status)
    pool.pin(at)
    value_of, value, nav = (
        pool.collateral.value_of(first),
        pool.collateral.value(),
        pool.vault.totalAssets(),
    )
    assert value_of == pool.book.value_of(first, at) > 0
    assert nav == pool.vault.free_cash() + pool.book.value(at)
    # The Book before the transaction: the GPU's value and NAV in its own second.
    counted = copy.deepcopy(pool.book)

    tx, removed = pool.set_status(first, path[-1])

    # The transaction's own second (a node may mine it a second after the pin): what the GPU
    # was worth then, as its identical, untouched twin still is.
    at = tx.timestamp
    value_of = counted.value_of(first, at)
    assert value_of == pool.collateral.value_of(twin) > 0
    assert removed == value_of
    assert uncounted_logs(tx, pool.collateral) == [(first, int(path[-1]), value_of)]
    assert counted_logs(tx, pool.collateral) == []
    assert pool.collateral.value() == pool.book.value(at) < value
    # The GPU's value left NAV, to the aggregate's rounding (floor of the sum, 1 wei a GPU).
    nav = pool.vault.free_cash() + counted.value(at)
    assert nav - value_of - 1 <= pool.vault.totalAssets() <= nav - value_of + 1
    assert pool.collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    assert not pool.collateral.counts(first)
    assert pool.collateral.value_of(first) == 0
    # Impaired, it may come back: held down; retired, nothing of it will.
    assert pool.collateral.held_down() == (1 if path[-1] == IMPAIRED else 0)
    nav_is_current(pool)
    pool.check()


@pytest.mark.parametrize("marked", [False, True], ids=["unmarked", "marked down"])
def test_retiring_an_impaired_gpu_only_lifts_its_holds(two, marked):
    """Nothing more leaves the pool (the impairment took the value out), but a retired GPU will
    not come back: its holds go, the impairment's and a mark's below the line alike."""
    pool, first, _ = two
    pool.set_status(first, GpuStatus.IMPAIRED)
    if marked:
        pool.mark(first, 5_000 * USDC)
    assert pool.collateral.held_down() == 1 + marked
    tx, removed = pool.set_status(first, GpuStatus.RETIRED)
    assert removed is None
    assert uncounted_logs(tx, pool.collateral) == []
    assert pool.collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    assert pool.collateral.held_down() == 0
    assert pool.collateral.entries_open()
    pool.check()


def test_offline_and_leased_change_nothing(two):
    pool, first, _ = two
    position = pool.collateral.position(first)
    for status in (GpuStatus.OFFLINE, GpuStatus.ACTIVE, GpuStatus.LEASED, GpuStatus.ACTIVE):
        pool.next_at(pool.now() + DAY)
        tx, _ = pool.set_status(first, status)
        assert logs_of(tx, pool.collateral, "GpuCounted") == []
        assert logs_of(tx, pool.collateral, "GpuUncounted") == []
        assert pool.collateral.position(first) == position
        assert pool.collateral.value_of(first) == pool.book.value_of(first, tx.timestamp) > 0
    pool.check()


def test_restored_gpu_returns_over_the_unlock_period(two):
    """IMPAIRED -> ACTIVE: marked down to one step, MAX_MARK_STEP_BPS of the registry's book value
    at the restore (GpuRevalued, previous 0); 0 at the restore, a straight line (rise rounded
    down) to the step's line at ramp_end = ceil_day(restore + 7 days), that line from then on: it
    falls from the step at the restore to salvage (at most the step) at the end of life, far
    below its never-impaired twin. The appraiser marks it further up, a step at a time: until a
    mark reaches its line it holds entries (`held_down`: impaired, then below its line)."""
    pool, first, twin = two
    collateral = pool.collateral
    pool.next_at(pool.now() + 2 * DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    assert collateral.held_down() == 1
    terms = pool.terms(first)
    stale_at = floor_day(terms.last_attested_at + STALENESS_WINDOW)
    pool.next_at(pool.now() + 3 * DAY + 5 * 3_600 + 11)

    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)

    # Restored in the transaction's own second (a node may mine it a second after the one asked
    # for).
    restored_at = tx.timestamp
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    step = pool.registry.book_value_at(first, restored_at) * MAX_MARK_STEP_BPS // 10_000
    assert revalued_logs(tx, collateral) == [(first, step, 0, ramp_end)]
    assert counted_logs(tx, collateral) == [(first, restored_at, ramp_end, stale_at, 0)]
    assert collateral.position(first) == (State.COUNTED, restored_at, ramp_end, stale_at)
    assert collateral.appraisal(first) == (step, restored_at, False, 0)
    assert collateral.value_of(first) == 0
    assert collateral.counts(first)
    assert (collateral.written_down(), collateral.held_down()) == (1, 1)
    nav_is_current(pool)
    # The step's line: from the step at the restore to salvage (below it) at the end of life.
    end = floor_day(terms.acquired_at + terms.useful_life)
    assert terms.salvage < step
    fall = -(-(step - terms.salvage) * 10**18 // (end - restored_at))

    def line(t: int) -> int:
        return step * 10**18 - fall * (t - restored_at)

    rise = line(ramp_end) // (ramp_end - restored_at)
    seen = []
    for t in (
        restored_at + 1,
        restored_at + DAY,
        (restored_at + ramp_end) // 2,
        ramp_end - 1,
        ramp_end,
        ramp_end + DAY,
    ):
        pool.view_at(t)
        value_of = collateral.value_of(first)
        assert value_of == pool.book.value_of(first, t)
        if t < ramp_end:
            assert value_of == rise * (t - restored_at) * 8_000 // 10**22
        else:
            assert value_of == line(t) * 8_000 // 10**22
        # A quarter of its book value, near a quarter of its twin's: well under a third.
        assert value_of < collateral.value_of(twin) // 3
        seen.append(value_of)
        nav_is_current(pool)
        pool.check()
    assert seen[:5] == sorted(seen[:5])
    assert seen[5] < seen[4]
    # Back on its (step's) line, below the straight line: held on.
    assert (collateral.written_down(), collateral.held_down()) == (0, 1)


def test_attestation_of_a_fresh_gpu_moves_its_stale_day(two):
    pool, first, twin = two
    collateral = pool.collateral
    since = collateral.position(first)[1]
    old_stale = collateral.position(first)[3]
    at = floor_day(pool.now()) + 3 * DAY + 3_600
    pool.pin(at)
    assert (collateral.value_of(first), collateral.value()) == (
        pool.book.value_of(first, at),
        pool.book.value(at),
    )
    # The Book before the attestation: the values in its own second.
    before = copy.deepcopy(pool.book)

    tx = pool.attest(first)

    # The attestation's own second (a node may mine it a second after the pin): no value moved.
    at = tx.timestamp
    value_of, value = before.value_of(first, at), before.value(at)
    new_stale = floor_day(at + STALENESS_WINDOW)
    assert new_stale == old_stale + 3 * DAY
    assert counted_logs(tx, collateral) == [(first, since, 0, new_stale, value_of)]
    assert (collateral.value_of(first), collateral.value()) == (value_of, value)
    assert collateral.position(first) == (State.COUNTED, since, 0, new_stale)
    # The old stale day keeps only the twin's change (both were registered in the same second).
    twin_line = pool.book.positions[twin].curve.line(old_stale - 1)
    assert tuple(collateral.nodes(old_stale)) == (-twin_line[0], -twin_line[1], 1)
    pool.check()
    # Again the same day: the stale day does not move, nothing is logged.
    pool.next_at(at + 60)
    tx = pool.attest(first)
    assert counted_logs(tx, collateral) == []
    assert collateral.position(first) == (State.COUNTED, since, 0, new_stale)
    # Still counting at the old stale day, which stays a node (the twin's) and comes due.
    pool.view_at(old_stale)
    assert collateral.counts(first)
    assert collateral.schedule_state()[0] == old_stale
    assert collateral.pending() == 1
    assert collateral.written_down() == 1
    pool.check()


def test_stale_gpu_stops_counting_at_its_day_and_returns_with_a_ramp(two, investor):
    pool, first, twin = two
    collateral, vault = pool.collateral, pool.vault
    stale_at = collateral.position(first)[3]
    # Keep the twin fresh: only `first` goes stale.
    pool.next_at(stale_at - 2 * DAY)
    pool.attest(twin)

    pool.view_at(stale_at - 1)
    assert collateral.counts(first)
    assert collateral.value_of(first) == pool.book.value_of(first, stale_at - 1) > 0
    assert collateral.pending() == 0
    nav_is_current(pool)
    pool.check()

    pool.view_at(stale_at)
    assert not collateral.counts(first)
    assert collateral.value_of(first) == 0
    # The stale day is a node due and not matured yet: views count it all the same.
    assert collateral.pending() == 1
    assert collateral.value() == pool.book.value(stale_at)
    assert collateral.value() == collateral.value_of(twin) - 2
    nav_is_current(pool)
    pool.check()

    # The custodian attests three days later: the hook matures the stale node first, then the
    # GPU ramps back from 0.
    # The stale node takes the GPU's line out of the sums and counts it written down.
    a, b = pool.book.positions[first].curve.line(stale_at - 1)
    pool.next_at(stale_at + 3 * DAY + 600)
    tx = pool.attest(first)
    # Back in the attestation's own second (a node may mine it a second after the one asked for).
    back = tx.timestamp
    ramp_end = ceil_day(back + UNLOCK_PERIOD)
    assert matured_logs(tx, collateral) == [(stale_at, -a, -b, 1)]
    stale_again = floor_day(back + STALENESS_WINDOW)
    assert counted_logs(tx, collateral) == [(first, back, ramp_end, stale_again, 0)]
    for t in (back + DAY, ramp_end - 1, ramp_end):
        pool.view_at(t)
        assert collateral.value_of(first) == pool.book.value_of(first, t)
        pool.check()
    assert collateral.value_of(first) == collateral.value_of(twin)
    buy(vault, pool.kit.token, investor, 1_000 * USDC)
    nav_is_current(pool)


def test_hooks_only_from_the_registry(two, attacker, admin, operator, custodian, appraiser):
    """Nobody calls a hook but the registry: not even the roles that drive it there (the access
    matrix of test_access covers every role fixture)."""
    pool, first, _ = two
    calls = [
        (pool.collateral, hook, (first, argument), caller)
        for hook, argument in (("on_gpu_status", IMPAIRED), ("on_gpu_attested", pool.now()))
        for caller in (admin, operator, custodian, appraiser, attacker)
    ]
    assert reasons(pool.chain, calls) == [NOT_REGISTRY] * len(calls)
    with ape.reverts(NOT_REGISTRY):
        pool.collateral.on_gpu_status(first, IMPAIRED, sender=attacker)
    with ape.reverts(NOT_REGISTRY):
        pool.collateral.on_gpu_attested(first, pool.now() + 10 * DAY, sender=attacker)
    pool.check()


def test_sync_refusals(two, attacker):
    pool, first, twin = two
    collateral = pool.collateral
    never_held = pool.register()
    for token_id in (never_held, 10**9):
        with ape.reverts(NOT_HELD):
            collateral.sync(token_id, sender=attacker)
    # Counted and fresh: nothing to do.
    with ape.reverts(NOTHING_TO_SYNC):
        collateral.sync(first, sender=attacker)
    # Impaired, or retired: stays out.
    pool.set_status(first, GpuStatus.IMPAIRED)
    with ape.reverts(NOTHING_TO_SYNC):
        collateral.sync(first, sender=attacker)
    pool.set_status(first, GpuStatus.RETIRED)
    with ape.reverts(NOTHING_TO_SYNC):
        collateral.sync(first, sender=attacker)
    # Stale with no new attestation: stays out.
    pool.view_at(collateral.position(twin)[3] + DAY)
    with ape.reverts(NOTHING_TO_SYNC):
        collateral.sync(twin, sender=attacker)
    pool.check()


def test_sync_catches_up_with_a_status_the_hook_did_not_bring(two, admin, appraiser, attacker):
    """If the registry's admin revokes COLLATERAL_ROLE while the pool holds GPUs (the registry's
    notice says it must not), an impairment no longer reaches the pool: the GPU keeps counting
    until anyone calls `sync`, which takes it out."""
    pool, first, _ = two
    collateral, registry = pool.collateral, pool.registry
    registry.revokeRole(COLLATERAL_ROLE, collateral, sender=admin)
    tx = registry.set_status(first, GpuStatus.IMPAIRED, sender=appraiser)
    assert logs_of(tx, collateral, "GpuUncounted") == []
    pool.pin(pool.now() + 60)
    assert collateral.counts(first)
    assert collateral.value_of(first) == pool.book.value_of(first, pool.now()) > 0
    # The Book before the sync: the GPU's value in its own second.
    counted = copy.deepcopy(pool.book)

    tx = pool.sync(first, sender=attacker)

    # The sync's own second (a node may mine it a second after the pin).
    value_of = counted.value_of(first, tx.timestamp)
    assert value_of > 0
    assert uncounted_logs(tx, collateral) == [(first, IMPAIRED, value_of)]
    assert collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    pool.check()


def test_restored_gpu_on_a_stale_attestation_waits_for_one(two):
    """IMPAIRED -> ACTIVE after the attestation went stale: still out; the next attestation
    brings it back with a ramp."""
    pool, first, _ = two
    pool.set_status(first, GpuStatus.IMPAIRED)
    stale_at = floor_day(pool.terms(first).last_attested_at + STALENESS_WINDOW)
    pool.next_at(stale_at + DAY)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    assert counted_logs(tx, pool.collateral) == []
    assert pool.collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    tx = pool.attest(first)
    assert counted_logs(tx, pool.collateral)[0][:3] == (
        first,
        tx.timestamp,
        ceil_day(tx.timestamp + UNLOCK_PERIOD),
    )
    pool.check()


def test_impaired_gpu_attested_stays_out(two):
    pool, first, _ = two
    pool.set_status(first, GpuStatus.IMPAIRED)
    pool.next_at(pool.now() + DAY)
    tx = pool.attest(first)
    assert counted_logs(tx, pool.collateral) == []
    assert pool.collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    pool.check()


# DEFERRED RETURNS (the `many` pool: from day0 + k days, k end-of-life nodes are due) #


def test_restore_deferred_while_17_to_32_are_due_then_synced(many, attacker):
    """The hook matures 16 and, with more due, defers the return; `sync` by anyone matures the
    rest (at most 16) and applies it."""
    pool, built = many
    collateral = pool.collateral
    gpu = built.token_ids[-1]
    pool.set_status(gpu, GpuStatus.IMPAIRED)
    at = built.day0 + 20 * DAY + 3_600
    pool.next_at(at)

    tx, _ = pool.set_status(gpu, GpuStatus.ACTIVE)

    assert [log.at for log in logs_of(tx, collateral, "ScheduleMatured")] == [
        built.end(i) for i in range(16)
    ]
    assert counted_logs(tx, collateral) == []
    assert collateral.position(gpu) == (State.UNCOUNTED, 0, 0, 0)
    assert collateral.pending() == 4
    pool.check()

    pool.next_at(at + 600)
    tx = pool.sync(gpu, sender=attacker)

    assert [log.at for log in logs_of(tx, collateral, "ScheduleMatured")] == [
        built.end(i) for i in range(16, 20)
    ]
    ramp_end = ceil_day(at + 600 + UNLOCK_PERIOD)
    assert counted_logs(tx, collateral) == [(gpu, at + 600, ramp_end, built.stale_at, 0)]
    assert collateral.pending() == 0
    pool.check()


def test_restore_deferred_until_maturities_are_processed(many, attacker):
    """40 due: the hook matures 16 and defers; sync refuses while more than 16 remain, and works
    once process_maturities brought them down to 16."""
    pool, built = many
    collateral = pool.collateral
    gpu = built.token_ids[-1]
    pool.set_status(gpu, GpuStatus.IMPAIRED)
    pool.next_at(built.day0 + 40 * DAY + 3_600)
    pool.set_status(gpu, GpuStatus.ACTIVE)
    assert collateral.position(gpu) == (State.UNCOUNTED, 0, 0, 0)
    with ape.reverts(PENDING):
        collateral.sync(gpu, sender=attacker)
    pool.process(7)
    assert collateral.pending() == 17
    with ape.reverts(PENDING):
        collateral.sync(gpu, sender=attacker)
    pool.process(1)
    tx = pool.sync(gpu, sender=attacker)
    assert len(logs_of(tx, collateral, "ScheduleMatured")) == 16
    assert counted_logs(tx, collateral)[0][:2] == (gpu, tx.timestamp)
    pool.check()


def test_stale_return_deferred_then_synced(many, attacker):
    """Every GPU is stale a day after the 365-day window: 101 nodes due. An attestation's return
    is deferred (the hook matured 16); after process_maturities, sync applies it."""
    pool, built = many
    collateral = pool.collateral
    gpu = built.token_ids[0]
    pool.next_at(built.stale_at + DAY)

    tx = pool.attest(gpu)

    assert len(logs_of(tx, collateral, "ScheduleMatured")) == 16
    assert counted_logs(tx, collateral) == []
    assert not collateral.counts(gpu)
    assert collateral.position(gpu)[0] == State.COUNTED
    assert collateral.value() == 0
    tx, matured = pool.process(2**256 - 1)
    assert len(matured) == 101 - 16
    tx = pool.sync(gpu, sender=attacker)
    ramp_end = ceil_day(tx.timestamp + UNLOCK_PERIOD)
    assert counted_logs(tx, collateral) == [
        (gpu, tx.timestamp, ramp_end, floor_day(pool.terms(gpu).last_attested_at + 365 * DAY), 0)
    ]
    pool.view_at(ramp_end)
    assert collateral.value_of(gpu) == pool.book.value_of(gpu, ramp_end) > 0
    pool.check()


def test_impairment_needs_no_current_schedule(many):
    """Down at once even with 50 nodes due: the hook matures nothing, value and NAV fall."""
    pool, built = many
    collateral = pool.collateral
    gpu = built.token_ids[-1]
    at = built.day0 + 50 * DAY + 5
    pool.pin(at)
    value_of, value = collateral.value_of(gpu), collateral.value()
    assert collateral.pending() == 17

    tx, removed = pool.set_status(gpu, GpuStatus.IMPAIRED)

    assert removed == value_of > 0
    assert uncounted_logs(tx, collateral) == [(gpu, IMPAIRED, value_of)]
    assert logs_of(tx, collateral, "ScheduleMatured") == []
    assert collateral.value() == pool.book.value(at)
    assert value - value_of - 1 <= collateral.value() <= value - value_of + 1
    nav_is_current(pool)
    pool.check()


def test_retired_needs_no_current_schedule(many):
    pool, built = many
    gpu = built.token_ids[3]
    pool.next_at(built.day0 + 30 * DAY)
    tx, removed = pool.set_status(gpu, GpuStatus.RETIRED)
    assert uncounted_logs(tx, pool.collateral) == [(gpu, RETIRED, removed)]
    pool.check()
