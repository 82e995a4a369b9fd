"""`mark` down: at once. The GPU's value, the pool's value and NAV fall in the transaction that
marks it. Below the GPU's straight line (the registry's book value) the mark holds entries
(`held_down`): it may be marked up again, and a buyer at the marked-down price would take that
rise from the holders who bore the fall. The hold lifts when a mark reaches the line or the
appraiser settles the write-down (final: tests/unit/gpu_appraisals/test_settle.py); a mark at
the line holds nothing. A mark-down ends a return ramp, applies to a stale GPU (which stays
stale), and to an impaired one (which a restore then brings back to the mark's line, never above
it)."""

import copy

from tests.unit.gpu_collateral.conftest import (
    REASON,
    counted_logs,
    read_many,
    reasons,
    revalued_logs,
)
from tests.unit.gpu_collateral.test_entries import assert_entries_refused
from tests.utils.appraisals import end_of_life, marked_line, ramp, worth
from tests.utils.collateral import (
    DAY,
    ENTRIES_WAIT,
    PRECISION,
    State,
    ceil_day,
    floor_day,
)
from tests.utils.registry import USDC, GpuStatus
from tests.utils.vault import ADVANCE_RATE_BPS, UNLOCK_PERIOD, fund, logs_of, to_shares


def marked_logs(tx, appraisals) -> list[tuple]:
    return [
        (log.token_id, log.book_value, log.previous, log.rising, log.reason, log.appraiser)
        for log in logs_of(tx, appraisals, "GpuMarked")
    ]


def test_mark_down_leaves_nav_in_the_same_transaction(two, appraiser):
    """Ten days and a bit after the contribution the GPU stands on its cost line; marked down to
    12,345 USDC, it is worth 80% of that in the same second, and NAV falls by what it lost."""
    pool, first, twin = two
    collateral, vault = pool.collateral, pool.vault
    terms = pool.terms(first)
    at = pool.now() + 10 * DAY + 1_234
    pool.pin(at)
    value_of, value, nav, stood = read_many(
        pool.chain,
        [
            (collateral, "value_of", (first,)),
            (collateral, "value", ()),
            (vault, "totalAssets", ()),
            (collateral, "book_of", (first,)),
        ],
    )
    end = end_of_life(terms)
    # Where it stands: the registry's cost line, on the collateral's grid (floor).
    cost_line = marked_line(terms.cost, terms.acquired_at, terms.salvage, end, at)
    assert stood == cost_line // PRECISION == pool.book.book_of(first, terms, at)
    assert value_of == worth(cost_line, ADVANCE_RATE_BPS)
    assert nav == vault.free_cash() + pool.book.value(at)
    # The Book before the mark: NAV at the mark's own second.
    unmarked = copy.deepcopy(pool.book)
    mark = 12_345 * USDC

    tx, previous = pool.mark(first, mark)

    # The figures of the mark's own second: a loaded node may mine it a second after the pin
    # (Ganache's clock runs on), and the line falls every second.
    marked_at = tx.timestamp
    cost_line = marked_line(terms.cost, terms.acquired_at, terms.salvage, end, marked_at)
    assert previous == cost_line // PRECISION
    assert marked_logs(tx, pool.kit.appraisals) == [
        (first, mark, previous, False, REASON, appraiser.address)
    ]
    assert revalued_logs(tx, collateral) == [(first, mark, previous, 0)]
    stale_at = collateral.position(first)[3]
    after = mark * ADVANCE_RATE_BPS // 10_000
    assert after == 9_876 * USDC
    assert counted_logs(tx, collateral) == [(first, marked_at, 0, stale_at, after)]
    assert collateral.position(first) == (State.COUNTED, marked_at, 0, stale_at)
    assert collateral.appraisal(first) == (mark, marked_at, False, previous)
    assert collateral.book_of(first) == mark
    assert collateral.value_of(first) == after
    assert collateral.value() == pool.book.value(marked_at) < value
    # The GPU's loss left NAV, to the aggregate's rounding (floor of the sum, 1 wei a GPU).
    lost = worth(cost_line, ADVANCE_RATE_BPS) - after
    nav = vault.free_cash() + unmarked.value(marked_at)
    assert nav - lost - 1 <= vault.totalAssets() <= nav - lost + 1
    assert vault.totalAssets() == vault.free_cash() + pool.book.value(marked_at)
    # The twin is untouched: worth what the first was worth before the mark.
    assert collateral.value_of(twin) == worth(cost_line, ADVANCE_RATE_BPS)
    pool.check()


def test_a_mark_down_holds_entries_until_settled(two, investor):
    """Nothing is written down for a while, but the mark below the line holds entries: a
    contribution, a deposit, a mint, a buy and entry_value are refused with the collateral's
    reason. Settled where the mark's line then stands, the write-down is final and entries open:
    a deposit then is priced at the marked-down NAV, to the wei."""
    pool, first, _ = two
    collateral, vault = pool.collateral, pool.vault
    fund(pool.kit.token, investor, 5_000 * USDC)
    pool.kit.token.approve(vault, 5_000 * USDC, sender=investor)
    newcomer = pool.register()
    pool.pin(pool.now() + 3 * DAY + 61)
    tx, _ = pool.mark(first, 10_000 * USDC)
    marked_at = tx.timestamp
    assert (collateral.written_down(), collateral.held_down()) == (0, 1)
    assert not collateral.entries_open()
    assert_entries_refused(pool, investor, newcomer)
    pool.check()
    pool.next_at(marked_at)
    tx, settled = pool.settle(first)
    # The mark itself if settled in its second; a node may mine the settle a second later.
    terms = pool.terms(first)
    line = marked_line(10_000 * USDC, marked_at, terms.salvage, end_of_life(terms), tx.timestamp)
    assert settled == line // PRECISION
    assert (collateral.written_down(), collateral.held_down()) == (0, 0)
    assert collateral.entries_open()
    cash, supply = vault.free_cash(), vault.totalSupply()
    assert vault.totalAssets() == cash + pool.book.value(tx.timestamp)
    pool.next_at(tx.timestamp)

    tx = vault.deposit(5_000 * USDC, investor, sender=investor)

    pool.flow(tx)
    # NAV in the deposit's own second.
    nav = cash + pool.book.value(tx.timestamp)
    [deposited] = logs_of(tx, vault, "Deposit")
    assert deposited.shares == to_shares(5_000 * USDC, nav, supply) > 0
    assert vault.balanceOf(investor) == deposited.shares
    pool.check()


def test_mark_down_ends_a_return_ramp(two, investor):
    """A GPU restored from IMPAIRED returns over a ramp (entries wait); marked down below where
    it stands on it, the ramp ends: its value is the mark's at once, nothing is written down any
    more, and the mark (below the line) holds entries instead."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    pool.next_at(pool.now() + DAY + 300)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    assert not collateral.entries_open()
    # The restore's ramp: from nothing to the line of its step at the ramp's end.
    restored_at, terms = tx.timestamp, pool.terms(first)
    step, ramp_end = terms.step(restored_at), ceil_day(restored_at + UNLOCK_PERIOD)
    target = marked_line(step, restored_at, terms.salvage, end_of_life(terms), ramp_end)
    at = restored_at + 2 * DAY
    pool.pin(at)
    stood = collateral.book_of(first)
    assert stood == ramp(0, restored_at, ramp_end, target, at) // PRECISION
    assert 0 < stood < collateral.appraisal(first)[0] == step
    mark = stood - 1_000 * USDC

    tx, previous = pool.mark(first, mark)

    # Where the ramp stood in the mark's own second (a node may mine it a second after the pin).
    assert previous == ramp(0, restored_at, ramp_end, target, tx.timestamp) // PRECISION
    assert revalued_logs(tx, collateral) == [(first, mark, previous, 0)]
    assert collateral.position(first)[:3] == (State.COUNTED, tx.timestamp, 0)
    assert collateral.value_of(first) == mark * ADVANCE_RATE_BPS // 10_000
    assert (collateral.written_down(), collateral.held_down()) == (0, 1)
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [ENTRIES_WAIT]
    pool.check()


def test_mark_down_of_a_stale_gpu_keeps_it_stale(two, investor):
    """Down applies to a stale GPU too (where it stands is its line, stale or not): it stays
    worth nothing and entries keep waiting; the attestation brings it back over a ramp to the
    mark's line, not the cost line."""
    pool, first, twin = two
    collateral = pool.collateral
    terms = pool.terms(first)
    end = end_of_life(terms)
    stale_at = collateral.position(first)[3]
    pool.view_at(stale_at - DAY)
    pool.attest(twin)
    at = stale_at + DAY + 5
    pool.pin(at)
    assert not collateral.counts(first)
    stood = collateral.book_of(first)
    assert stood == marked_line(terms.cost, terms.acquired_at, terms.salvage, end, at) // PRECISION
    mark = 8_000 * USDC

    tx, previous = pool.mark(first, mark)

    # Its cost line in the mark's own second (a node may mine it a second after the pin).
    marked_at = tx.timestamp
    cost_line = marked_line(terms.cost, terms.acquired_at, terms.salvage, end, marked_at)
    assert previous == cost_line // PRECISION > mark
    assert collateral.value_of(first) == 0
    assert collateral.position(first)[3] == stale_at
    assert collateral.written_down() == 1
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [ENTRIES_WAIT]
    pool.check()
    pool.view_at(at + 3_600)
    tx = pool.attest(first)
    back = tx.timestamp
    ramp_end = ceil_day(back + UNLOCK_PERIOD)
    assert counted_logs(tx, collateral)[0][:4] == (
        first,
        back,
        ramp_end,
        floor_day(back + 30 * DAY),
    )
    pool.view_at(ramp_end)
    line = marked_line(mark, marked_at, terms.salvage, end, ramp_end)
    assert collateral.value_of(first) == worth(line, ADVANCE_RATE_BPS)
    pool.check()


def test_impaired_gpu_marked_down_returns_to_the_mark(two):
    """A mark on an impaired GPU is kept while it is out; restored, it ramps back to the mark's
    line: below one step, so the restore records no mark of its own. Both hold entries while it
    is out (impaired, and marked below its line); the restore lifts the first, the mark's stays."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    pool.next_at(pool.now() + DAY)
    mark = 2_000 * USDC

    tx, _ = pool.mark(first, mark)

    marked_at = tx.timestamp
    assert logs_of(tx, collateral, "GpuCounted") == []
    assert collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    assert collateral.appraisal(first) == (mark, marked_at, False, 0)
    assert collateral.book_of(first) == mark
    assert collateral.held_down() == 2
    pool.check()
    pool.next_at(marked_at + DAY)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    assert revalued_logs(tx, collateral) == []
    assert collateral.appraisal(first) == (mark, marked_at, False, 0)
    assert collateral.held_down() == 1
    ramp_end = ceil_day(tx.timestamp + UNLOCK_PERIOD)
    pool.view_at(ramp_end)
    # Below salvage: the mark's line is flat at the mark.
    assert collateral.value_of(first) == mark * ADVANCE_RATE_BPS // 10_000
    pool.check()


def test_impaired_gpu_marked_up_still_returns_to_one_step(two):
    """A mark up on an impaired GPU (not counted: no ramp, no step) is recorded, but a restore
    still returns it to at most one step of its book value: it cannot be used to bring a GPU
    back at full value. Marked to its line, it holds entries only as impaired; the restore's
    step holds them again (below the line)."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    at = pool.now() + DAY
    pool.next_at(at)

    tx, previous = pool.mark(first, pool.registry.book_value_at(first, at))

    # Its line in the mark's own second (a second after `at`, what was asked is above the line,
    # so the line).
    book = pool.registry.book_value_at(first, tx.timestamp)
    assert marked_logs(tx, pool.kit.appraisals)[0][1:4] == (book, previous, False)
    assert collateral.held_down() == 1
    pool.next_at(tx.timestamp + DAY)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    restored_at = tx.timestamp
    step = pool.registry.book_value_at(first, restored_at) * 2_500 // 10_000
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    assert revalued_logs(tx, collateral) == [(first, step, 0, ramp_end)]
    assert collateral.appraisal(first) == (step, restored_at, False, 0)
    assert collateral.held_down() == 1
    pool.check()


def test_a_mark_at_the_line_holds_nothing(two):
    """The hold is for a mark below the GPU's straight line, the registry's book value at the
    mark: the twin marked exactly at it holds nothing, the first a wei below it holds entries.
    (Both stood a hair below it, the collateral's line falling a little faster than the
    registry's on its day grid: each mark rises, and returns over a ramp.) Both marks are mined at
    the second the line is read for: a second later it is some 170 wei lower."""
    pool, first, twin = two
    collateral = pool.collateral
    at = pool.now() + DAY + 11
    pool.pin(at)
    line = pool.registry.book_value(first)
    assert line == pool.registry.book_value(twin) == pool.terms(first).book_value(at)
    assert collateral.book_of(first) == collateral.book_of(twin) < line

    pool.mark(twin, line, at=at)

    assert (collateral.written_down(), collateral.held_down()) == (1, 0)
    tx, _ = pool.mark(first, line - 1, at=at)
    assert tx.timestamp == at
    assert (collateral.written_down(), collateral.held_down()) == (2, 1)
    pool.check()
