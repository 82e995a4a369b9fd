"""Recovery values and default marks. `set_recovery_value` (an appraiser) records what a GPU is
expected to fetch if its lessee defaults (unset: its salvage value); `mark_default` (the pool's
LeaseManager) marks each GPU down at once to min(its recovery value, where it stands), never up,
and flags it defaulted (`appraisal(id)[2]`). Below the GPU's straight line, a default mark holds
entries like any mark (`held_down`) unless the GPU's marks are settled."""

import ape

from tests.unit.gpu_appraisals.test_mark_down import marked_logs
from tests.unit.gpu_collateral.conftest import REASON, reasons, revalued_logs
from tests.utils.appraisals import (
    DEFAULT_REASON,
    MAX_VALUE,
    TOO_LARGE,
    end_of_life,
    marked_line,
)
from tests.utils.collateral import DAY, ENTRIES_WAIT, NOT_HELD, PRECISION, State
from tests.utils.registry import USDC, GpuStatus
from tests.utils.vault import ADVANCE_RATE_BPS, MISSING_ROLE, logs_of


def recovery_logs(tx, appraisals) -> list[tuple]:
    return [
        (log.token_id, log.value, log.reason, log.appraiser)
        for log in logs_of(tx, appraisals, "RecoveryValueSet")
    ]


def test_recovery_value_set_and_read(two, appraiser):
    pool, first, twin = two
    appraisals = pool.kit.appraisals
    salvage = pool.terms(first).salvage
    assert appraisals.recovery_value(first) == (salvage, False) == (3_000 * USDC, False)

    tx = appraisals.set_recovery_value(first, 4_500 * USDC, REASON, sender=appraiser)

    assert recovery_logs(tx, appraisals) == [(first, 4_500 * USDC, REASON, appraiser.address)]
    assert appraisals.recovery_value(first) == (4_500 * USDC, True)
    assert appraisals.recovery_value(twin) == (salvage, False)
    # A recovery value moves nothing now.
    assert logs_of(tx, pool.collateral, "GpuRevalued") == []
    # Zero is a value of its own (nothing to recover), not "unset".
    appraisals.set_recovery_value(first, 0, REASON, sender=appraiser)
    assert appraisals.recovery_value(first) == (0, True)
    pool.check()


def test_recovery_value_bounds(two, appraiser):
    """At most MAX_VALUE (2**96), and only for a GPU the pool holds (held and uncounted
    counts: an impaired GPU is what a recovery value is for)."""
    pool, first, _ = two
    appraisals = pool.kit.appraisals
    never_held = pool.register()
    calls = [
        (appraisals, "set_recovery_value", (first, MAX_VALUE + 1, REASON), appraiser),
        (appraisals, "set_recovery_value", (first, MAX_VALUE, REASON), appraiser),
        (appraisals, "set_recovery_value", (never_held, 1, REASON), appraiser),
        (appraisals, "set_recovery_value", (10**9, 1, REASON), appraiser),
    ]
    assert reasons(pool.chain, calls) == [TOO_LARGE, None, NOT_HELD, NOT_HELD]
    with ape.reverts(TOO_LARGE):
        appraisals.set_recovery_value(first, MAX_VALUE + 1, REASON, sender=appraiser)
    with ape.reverts(NOT_HELD):
        appraisals.set_recovery_value(never_held, 1, REASON, sender=appraiser)
    pool.set_status(first, GpuStatus.IMPAIRED)
    appraisals.set_recovery_value(first, MAX_VALUE, REASON, sender=appraiser)
    assert appraisals.recovery_value(first) == (MAX_VALUE, True)


def test_mark_default_to_the_recovery_value(two, appraiser, operator):
    """Down at once to the recovery value, flagged defaulted; the twin (no recovery value set)
    goes to its salvage value in the same call. Both now stand below their lines and hold
    entries: a recovery may beat the estimate, and the GPUs may be marked back up."""
    pool, first, twin = two
    appraisals, collateral = pool.kit.appraisals, pool.collateral
    appraisals.set_recovery_value(first, 6_000 * USDC, REASON, sender=appraiser)
    terms = pool.terms(first)
    end = end_of_life(terms)
    at = pool.now() + 5 * DAY + 5
    pool.pin(at)
    stood = collateral.book_of(first)
    assert stood == marked_line(terms.cost, terms.acquired_at, terms.salvage, end, at) // PRECISION
    assert collateral.book_of(twin) == stood > 6_000 * USDC
    nav = pool.vault.totalAssets()

    tx, targets = pool.mark_default([first, twin], {first: 6_000 * USDC}, sender=operator)

    # Where both stood in the default's own second (a node may mine it a second after the pin).
    at = tx.timestamp
    stood = marked_line(terms.cost, terms.acquired_at, terms.salvage, end, at) // PRECISION
    assert targets == [6_000 * USDC, 3_000 * USDC]
    assert marked_logs(tx, appraisals) == [
        (first, 6_000 * USDC, stood, False, DEFAULT_REASON, operator.address),
        (twin, 3_000 * USDC, stood, False, DEFAULT_REASON, operator.address),
    ]
    assert revalued_logs(tx, collateral) == [
        (first, 6_000 * USDC, stood, 0),
        (twin, 3_000 * USDC, stood, 0),
    ]
    assert collateral.appraisal(first) == (6_000 * USDC, at, True, stood)
    assert collateral.appraisal(twin) == (3_000 * USDC, at, True, stood)
    assert collateral.value_of(first) == 4_800 * USDC
    assert collateral.value_of(twin) == 2_400 * USDC
    assert pool.vault.totalAssets() == pool.vault.free_cash() + pool.book.value(at) < nav
    assert (collateral.written_down(), collateral.held_down()) == (0, 2)
    assert reasons(pool.chain, [(collateral, "entry_value", (), operator)]) == [ENTRIES_WAIT]
    pool.check()


def test_mark_default_never_up(two, appraiser, operator):
    """A recovery value above where the GPU stands (marked down to 5,000 USDC a day before)
    leaves it there: flagged, its line restarted from where it stood, no wei higher."""
    pool, first, _ = two
    appraisals, collateral = pool.kit.appraisals, pool.collateral
    terms = pool.terms(first)
    end = end_of_life(terms)
    pool.next_at(pool.now() + DAY)
    tx, _ = pool.mark(first, 5_000 * USDC)
    marked_at = tx.timestamp
    appraisals.set_recovery_value(first, 9_000 * USDC, REASON, sender=appraiser)
    later = marked_at + DAY
    pool.pin(later)
    stood = collateral.book_of(first)
    assert stood == marked_line(5_000 * USDC, marked_at, terms.salvage, end, later) // PRECISION
    assert stood < 5_000 * USDC

    tx, targets = pool.mark_default([first], {first: 9_000 * USDC}, sender=operator)

    # Where it stood in the default's own second (a node may mine it a second after the pin).
    later = tx.timestamp
    stood = marked_line(5_000 * USDC, marked_at, terms.salvage, end, later) // PRECISION
    assert targets == [stood]
    assert marked_logs(tx, appraisals) == [
        (first, stood, stood, False, DEFAULT_REASON, operator.address)
    ]
    assert collateral.appraisal(first) == (stood, later, True, stood)
    assert collateral.value_of(first) == stood * ADVANCE_RATE_BPS // 10_000
    assert collateral.position(first)[2] == 0
    pool.check()


def test_mark_default_of_an_impaired_gpu_flags_it(two, operator):
    """An impaired GPU (not counted) is marked and flagged all the same: its sale floor becomes
    the recovery value."""
    pool, first, _ = two
    collateral = pool.collateral
    pool.set_status(first, GpuStatus.IMPAIRED)
    tx, targets = pool.mark_default([first], {}, sender=operator)
    assert targets == [3_000 * USDC]
    assert logs_of(tx, collateral, "GpuCounted") == []
    assert collateral.position(first) == (State.UNCOUNTED, 0, 0, 0)
    assert collateral.appraisal(first) == (3_000 * USDC, tx.timestamp, True, 0)
    pool.check()


def test_mark_default_only_by_the_lease_manager(two, appraiser, admin, attacker, operator):
    pool, first, _ = two
    appraisals = pool.kit.appraisals
    never_held = pool.register()
    calls = [
        (appraisals, "mark_default", ([first],), caller) for caller in (appraiser, admin, attacker)
    ]
    calls.append((appraisals, "mark_default", ([first, never_held],), operator))
    assert reasons(pool.chain, calls) == [MISSING_ROLE] * 3 + [NOT_HELD]
    with ape.reverts(MISSING_ROLE):
        appraisals.mark_default([first], sender=appraiser)
    # The pool's LeaseManager holds the role from the deployment.
    assert appraisals.hasRole(appraisals.LEASE_MANAGER_ROLE(), pool.kit.leases)
    pool.check()
