"""`settle`: the appraiser makes a GPU's write-down final where it stands now. The GPU is re-marked
there, not rising (a return ramp running is cut at its current point, which ends its write-down
for entries), `settled(id)` turns true and MarkSettled records it (token, book value, reason,
appraiser: checked by `Pool.settle` on every call). From then on no mark goes up ("appraisals:
mark settled; no mark-up") and no mark holds entries: a mark-down is final at once, a default mark
too. An impaired GPU still holds entries until it is restored or retired, and a restore that
marks a GPU down to its step holds them again until it is settled again (it can no longer be
marked back up). Who may settle: test_access."""

import ape

from tests.unit.gpu_appraisals.conftest import DOWN
from tests.unit.gpu_appraisals.test_mark_down import marked_logs
from tests.unit.gpu_appraisals.test_mark_up import mark_call
from tests.unit.gpu_collateral.conftest import REASON, reasons, revalued_logs
from tests.utils.appraisals import (
    SETTLED_UP,
    end_of_life,
    marked_line,
    next_step,
    ramp,
    worth,
)
from tests.utils.collateral import DAY, ENTRIES_WAIT, NOT_HELD, PRECISION, State, ceil_day
from tests.utils.registry import USDC, GpuStatus
from tests.utils.vault import ADVANCE_RATE_BPS, UNLOCK_PERIOD, logs_of


def holds(pool) -> tuple[int, int, bool]:
    """(written_down(), held_down(), entries_open()) at the latest block."""
    collateral = pool.collateral
    return collateral.written_down(), collateral.held_down(), collateral.entries_open()


def test_settle_makes_a_mark_down_final_where_it_stands(marked_down, investor):
    """A day after the mark-down the appraiser settles: the GPU is re-marked where its mark's
    line stands then, to the wei (MarkSettled and GpuRevalued carry it, `previous` the same, no
    ramp; no GpuMarked), `settled` turns true for it alone, and entries open at that second. Its
    value goes on from the settled mark."""
    pool, first, twin, down_at = marked_down
    collateral, appraisals = pool.collateral, pool.kit.appraisals
    terms = pool.terms(first)
    end = end_of_life(terms)
    assert not appraisals.settled(first)
    pool.next_at(down_at + DAY + 5)

    tx, settled = pool.settle(first)

    # The settle's own second (a node may mine it a second after the one asked for).
    at = tx.timestamp
    stands = marked_line(DOWN, down_at, terms.salvage, end, at) // PRECISION
    assert settled == stands
    assert revalued_logs(tx, collateral) == [(first, stands, stands, 0)]
    assert marked_logs(tx, appraisals) == []
    assert collateral.position(first)[:3] == (State.COUNTED, at, 0)
    assert collateral.appraisal(first) == (stands, at, False, stands)
    assert collateral.value_of(first) == worth(stands * PRECISION, ADVANCE_RATE_BPS)
    assert (appraisals.settled(first), appraisals.settled(twin)) == (True, False)
    assert holds(pool) == (0, 0, True)
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [None]
    pool.check()
    later = at + 10 * DAY
    pool.view_at(later)
    assert collateral.value_of(first) == worth(
        marked_line(stands, at, terms.salvage, end, later), ADVANCE_RATE_BPS
    )
    pool.check()


def test_settle_of_a_gpu_not_held_refused(two, appraiser):
    """Only a GPU the pool holds: one never held, or no GPU at all, is refused with the
    collateral's reason and stays unsettled."""
    pool, _, _ = two
    appraisals = pool.kit.appraisals
    never_held = pool.register()
    calls = [
        (appraisals, "settle", (token_id, REASON), appraiser) for token_id in (never_held, 10**9)
    ]
    assert reasons(pool.chain, calls) == [NOT_HELD] * 2
    with ape.reverts(NOT_HELD):
        appraisals.settle(never_held, REASON, sender=appraiser)
    assert not appraisals.settled(never_held)


def test_no_mark_up_after_settle(marked_down, appraiser):
    """Settled, the GPU is never marked up again: a wei above where it stands is refused with
    the settle's reason (a step, or its line, too); where it stands, or below, is accepted."""
    pool, first, _, down_at = marked_down
    collateral = pool.collateral
    pool.next_at(down_at + DAY)
    tx, settled = pool.settle(first)
    at = down_at + 3 * DAY + 7
    pool.pin(at)
    terms = pool.terms(first)
    stands = collateral.book_of(first)
    calls = [
        mark_call(pool, first, stands + 1, appraiser),
        mark_call(pool, first, next_step(terms, stands, at), appraiser),
        mark_call(pool, first, terms.book_value(at), appraiser),
        mark_call(pool, first, stands, appraiser),
        mark_call(pool, first, stands - 1, appraiser),
    ]
    assert reasons(pool.chain, calls) == [SETTLED_UP] * 3 + [None] * 2
    with ape.reverts(SETTLED_UP):
        pool.kit.appraisals.mark(first, stands + USDC, REASON, sender=appraiser)
    assert collateral.appraisal(first)[:2] == (settled, tx.timestamp)
    pool.check()


def test_mark_down_after_settle_is_final(two, operator):
    """A settled GPU marked down holds nothing (the write-down is final at once), nor does a
    default's mark on it; the twin, marked down alike but not settled, holds entries."""
    pool, first, twin = two
    appraisals, collateral = pool.kit.appraisals, pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.settle(first)
    assert holds(pool) == (0, 0, True)

    tx, _ = pool.mark(first, DOWN)

    assert revalued_logs(tx, collateral)[0][:2] == (first, DOWN)
    assert holds(pool) == (0, 0, True)
    pool.mark(twin, DOWN)
    assert holds(pool) == (0, 1, False)
    pool.check()
    appraisals.set_recovery_value(first, 4_000 * USDC, REASON, sender=pool.roles["appraiser"])
    tx, targets = pool.mark_default([first], {first: 4_000 * USDC}, sender=operator)
    assert targets == [4_000 * USDC]
    assert collateral.appraisal(first)[:3] == (4_000 * USDC, tx.timestamp, True)
    assert holds(pool) == (0, 1, False)
    pool.check()


def test_settle_cuts_a_return_ramp_at_its_current_point(marked_down, investor):
    """Marked up a step (a ramp: written down, and held below the line), the GPU is settled half
    way up its ramp: re-marked where the ramp stands at that second, to the wei; the ramp ends
    there (no ramp end, nothing written down, its node gone), entries open, and the value falls
    from that mark along the GPU's remaining life, never reaching the step's line."""
    pool, first, _, down_at = marked_down
    collateral = pool.collateral
    terms = pool.terms(first)
    end = end_of_life(terms)
    up_at = down_at + DAY + 3_333
    stood = marked_line(DOWN, down_at, terms.salvage, end, up_at) // PRECISION
    up = next_step(terms, stood, up_at)
    # The largest step at `up_at` is more than the step a second later: mined at `up_at`.
    pool.mark(first, up, at=up_at)
    ramp_end = ceil_day(up_at + UNLOCK_PERIOD)
    assert collateral.position(first)[2] == ramp_end
    assert tuple(collateral.nodes(ramp_end))[2] == -1
    assert holds(pool) == (1, 1, False)
    pool.next_at((up_at + ramp_end) // 2 + 17)

    tx, settled = pool.settle(first)

    # Where the ramp stands in the settle's own second (a node may mine it a second after the
    # one asked for).
    at = tx.timestamp
    where = ramp(stood, up_at, ramp_end, marked_line(up, up_at, terms.salvage, end, ramp_end), at)
    assert settled == where // PRECISION
    assert stood < settled < up
    assert revalued_logs(tx, collateral) == [(first, settled, settled, 0)]
    assert collateral.position(first)[:3] == (State.COUNTED, at, 0)
    assert tuple(collateral.nodes(ramp_end)) == (0, 0, 0)
    assert holds(pool) == (0, 0, True)
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [None]
    pool.check()
    for t in (ramp_end, ramp_end + 5 * DAY):
        pool.view_at(t)
        assert collateral.value_of(first) == worth(
            marked_line(settled, at, terms.salvage, end, t), ADVANCE_RATE_BPS
        )
        assert collateral.value_of(first) < worth(
            marked_line(up, up_at, terms.salvage, end, t), ADVANCE_RATE_BPS
        )
        pool.check()


def test_settle_of_an_impaired_gpu_holds_entries_until_it_is_restored(two, investor):
    """Impaired and marked down to 2,000 USDC (two holds), the GPU is settled: the mark's hold
    goes, the impairment's stays, entries still wait. Restored, it returns to the settled mark
    (below a step: no step mark of its own) and holds nothing more: entries wait out its ramp
    only, and open at its end."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    pool.mark(first, 2_000 * USDC)
    assert holds(pool) == (0, 2, False)
    pool.next_at(pool.now() + DAY)

    tx, settled = pool.settle(first)

    assert settled == 2_000 * USDC
    assert logs_of(tx, collateral, "GpuCounted") == []
    assert collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    assert holds(pool) == (0, 1, False)
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [ENTRIES_WAIT]
    pool.check()
    pool.next_at(tx.timestamp + DAY)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    assert revalued_logs(tx, collateral) == []
    # The restore's own second (a node may mine it a second after the one asked for).
    restored_at = tx.timestamp
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    assert collateral.position(first)[:3] == (State.COUNTED, restored_at, ramp_end)
    assert holds(pool) == (1, 0, False)
    pool.view_at(ramp_end)
    assert holds(pool) == (0, 0, True)
    # Below salvage: the settled mark's line is flat at the mark.
    assert collateral.value_of(first) == worth(settled * PRECISION, ADVANCE_RATE_BPS)
    pool.check()


def test_a_settled_gpu_restored_to_its_step_holds_until_settled_again(two, appraiser):
    """Settled on its line, then impaired and restored: the restore marks it down to one step,
    which holds entries like any restore's, but a settled GPU is never marked up again: the
    appraiser's only way to lift the hold is to settle again (the pool's holders keep the loss
    of the step: nothing comes back)."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.settle(first)
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    pool.next_at(pool.now() + DAY)
    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)
    # The restore's own second (a node may mine it a second after the one asked for).
    restored_at, terms = tx.timestamp, pool.terms(first)
    step, end = terms.step(restored_at), end_of_life(terms)
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    assert revalued_logs(tx, collateral) == [(first, step, 0, ramp_end)]
    assert holds(pool) == (1, 1, False)
    pool.pin(ramp_end)
    stands = collateral.book_of(first)
    assert stands == marked_line(step, restored_at, terms.salvage, end, ramp_end) // PRECISION
    assert reasons(pool.chain, [mark_call(pool, first, stands + 1, appraiser)]) == [SETTLED_UP]
    assert holds(pool) == (0, 1, False)
    pool.check()

    tx, settled = pool.settle(first)

    # Where the step's line stands in the settle's own second (`stands` if in the pinned one).
    assert settled == marked_line(step, restored_at, terms.salvage, end, tx.timestamp) // PRECISION
    assert holds(pool) == (0, 0, True)
    pool.check()
