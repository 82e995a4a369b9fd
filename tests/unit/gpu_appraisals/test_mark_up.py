"""`mark` up: gradually. A rise is at most MAX_MARK_STEP_BPS (25%) of the registry's straight-line
book value above where the GPU stands (`book_of`), never above that book value, refused while
the GPU is stale or returning, and after the mark is settled; it returns linearly over the
unlock period from where the GPU stood to the new line. Entries wait until the ramp ends, and
after it while the mark is still below the GPU's straight line: the appraiser marks it up a step
a period until a mark reaches the line.

The step's edge is checked to the wei at one second: both calls as eth_calls at the head block
(whose time is the one both figures are computed for), then the largest rise sent at that
second."""

import ape

from tests.unit.gpu_appraisals.conftest import DOWN
from tests.unit.gpu_appraisals.test_mark_down import marked_logs
from tests.unit.gpu_collateral.conftest import REASON, counted_logs, reasons, revalued_logs
from tests.utils.appraisals import (
    ABOVE_STEP,
    RETURNING,
    STALE_UP,
    end_of_life,
    marked_line,
    ramp,
    worth,
)
from tests.utils.collateral import (
    DAY,
    ENTRIES_WAIT,
    MAX_MARK_STEP_BPS,
    PRECISION,
    State,
    ceil_day,
)
from tests.utils.registry import USDC, GpuStatus
from tests.utils.vault import ADVANCE_RATE_BPS, UNLOCK_PERIOD, buy, logs_of


def mark_call(pool, token_id: int, value: int, sender) -> tuple:
    return (pool.kit.appraisals, "mark", (token_id, value, REASON), sender)


def test_step_bound_exact(marked_down, appraiser):
    """The step passes, one wei more is refused: at one second, where the GPU stands (its mark's
    line) plus a quarter of the registry's book value then."""
    pool, first, _, down_at = marked_down
    collateral = pool.collateral
    terms = pool.terms(first)
    at = down_at + 2 * DAY + 777
    pool.pin(at)
    stood = marked_line(DOWN, down_at, terms.salvage, end_of_life(terms), at) // PRECISION
    assert collateral.book_of(first) == stood
    book = pool.registry.book_value(first)
    assert book == terms.book_value(at)
    step = book * MAX_MARK_STEP_BPS // 10_000
    allowed = stood + step
    calls = [
        mark_call(pool, first, allowed + 1, appraiser),
        mark_call(pool, first, allowed, appraiser),
    ]
    assert reasons(pool.chain, calls) == [ABOVE_STEP, None]
    # Sent, a USDC beyond the step (the edge moves by a few wei a second) is refused too.
    with ape.reverts(ABOVE_STEP):
        pool.kit.appraisals.mark(first, allowed + USDC, REASON, sender=appraiser)

    tx, previous = pool.mark(first, allowed, at=at)

    assert tx.timestamp == at
    assert previous == stood
    ramp_end = ceil_day(at + UNLOCK_PERIOD)
    assert marked_logs(tx, pool.kit.appraisals) == [
        (first, allowed, stood, True, REASON, appraiser.address)
    ]
    assert revalued_logs(tx, collateral) == [(first, allowed, stood, ramp_end)]
    stale_at = collateral.position(first)[3]
    assert counted_logs(tx, collateral) == [
        (first, at, ramp_end, stale_at, worth(stood * PRECISION, ADVANCE_RATE_BPS))
    ]
    assert collateral.position(first) == (State.COUNTED, at, ramp_end, stale_at)
    assert collateral.appraisal(first) == (allowed, at, False, stood)
    # Nothing comes back in the block of the mark.
    assert collateral.book_of(first) == stood
    pool.check()


def test_mark_above_book_value_is_the_line(two, appraiser):
    """Never above the registry's straight-line book value: a value above it (within the step
    asked) puts the GPU back on its line, which lifts the mark's hold on entries, so an appraiser
    can end a write-down without naming the line to the wei; a value beyond the step is still
    refused, above the line or not."""
    pool, first, twin = two
    terms = pool.terms(first)
    end = end_of_life(terms)
    down_at = pool.now() + DAY
    pool.next_at(down_at)
    down = pool.registry.book_value_at(first, down_at) - 100 * USDC
    tx, _ = pool.mark(first, down)
    down_at = tx.timestamp
    assert pool.collateral.held_down() == 1
    at = down_at + DAY
    pool.pin(at)
    book = pool.registry.book_value(first)
    step = book * MAX_MARK_STEP_BPS // 10_000
    stands = pool.collateral.book_of(first)
    assert stands == marked_line(down, down_at, terms.salvage, end, at) // PRECISION
    with ape.reverts(ABOVE_STEP):
        pool.kit.appraisals.mark(first, stands + step + 1, REASON, sender=appraiser)
    pool.pin(at)

    tx, _ = pool.mark(first, book + USDC)

    # The line and where the GPU stood in the mark's own second (a node may mine it a second
    # after the pin; the value asked is above the line then too).
    marked_at = tx.timestamp
    book = pool.registry.book_value_at(first, marked_at)
    stands = marked_line(down, down_at, terms.salvage, end, marked_at) // PRECISION
    [marked] = logs_of(tx, pool.kit.appraisals, "GpuMarked")
    assert (marked.book_value, marked.previous, marked.rising) == (book, stands, True)
    assert pool.collateral.appraisal(first)[:2] == (book, marked_at)
    assert pool.collateral.held_down() == 0
    # An unmarked GPU: a value above its line is its line too, holding nothing.
    twin_book = pool.registry.book_value_at(twin, marked_at + 1)
    pool.pin(marked_at + 1)
    tx, _ = pool.mark(twin, twin_book + 1)
    [marked] = logs_of(tx, pool.kit.appraisals, "GpuMarked")
    assert marked.book_value == pool.registry.book_value_at(twin, tx.timestamp)
    assert pool.collateral.held_down() == 0
    pool.check()


def test_mark_up_while_stale_refused(marked_down, appraiser):
    """A stale GPU is not marked up (the custodian attests first); down, or to where it stands,
    is still allowed. Once attested it returns on a ramp, and a mark up waits for its end."""
    pool, first, twin, _ = marked_down
    collateral = pool.collateral
    stale_at = collateral.position(first)[3]
    pool.view_at(stale_at - DAY)
    pool.attest(twin)
    pool.pin(stale_at + 3_600)
    stood = collateral.book_of(first)
    calls = [
        mark_call(pool, first, stood + 1, appraiser),
        mark_call(pool, first, stood, appraiser),
        mark_call(pool, first, stood - 1, appraiser),
    ]
    assert reasons(pool.chain, calls) == [STALE_UP, None, None]
    with ape.reverts(STALE_UP):
        pool.kit.appraisals.mark(first, stood + USDC, REASON, sender=appraiser)
    pool.view_at(stale_at + 7_200)
    tx = pool.attest(first)
    ramp_end = collateral.position(first)[2]
    assert ramp_end == ceil_day(tx.timestamp + UNLOCK_PERIOD)
    pool.view_at(ramp_end - 1)
    assert reasons(
        pool.chain, [mark_call(pool, first, collateral.book_of(first) + 1, appraiser)]
    ) == [RETURNING]
    pool.check()


def test_mark_up_while_returning_refused(marked_down, appraiser):
    """After a mark-up, the next one waits for the end of its ramp: refused at ramp_end - 1,
    accepted at ramp_end (a step above where it stands then)."""
    pool, first, _, down_at = marked_down
    collateral = pool.collateral
    pool.next_at(down_at + DAY)
    tx, _ = pool.mark(first, collateral.book_of(first) + 1_000 * USDC)
    up_at = tx.timestamp
    ramp_end = ceil_day(up_at + UNLOCK_PERIOD)
    for t in (up_at + DAY, ramp_end - 1):
        pool.view_at(t)
        assert reasons(
            pool.chain, [mark_call(pool, first, collateral.book_of(first) + 1, appraiser)]
        ) == [RETURNING]
    with ape.reverts(RETURNING):
        pool.kit.appraisals.mark(first, collateral.book_of(first) + USDC, REASON, sender=appraiser)
    pool.pin(ramp_end)
    stood = collateral.book_of(first)
    step = pool.registry.book_value(first) * MAX_MARK_STEP_BPS // 10_000
    calls = [
        mark_call(pool, first, stood + step + 1, appraiser),
        mark_call(pool, first, stood + step, appraiser),
    ]
    assert reasons(pool.chain, calls) == [ABOVE_STEP, None]
    pool.check()


def test_restored_gpu_is_marked_up_a_step_a_ramp_until_its_line(two, appraiser, investor):
    """Restored from IMPAIRED to one step, the GPU returns on a ramp (a mark up waits); after it,
    the appraiser marks it up another step, and so on after each ramp. Entries wait all along
    (held: impaired, then below the line) until the ramp of the mark that reaches the line ends:
    the hold lifts at that mark, the ramp's write-down at its end."""
    pool, first, twin = two
    collateral = pool.collateral
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    restored_at = pool.now() + DAY
    pool.next_at(restored_at)
    pool.set_status(first, GpuStatus.ACTIVE)
    ramp_end = collateral.position(first)[2]
    pool.view_at(ramp_end - 1)
    assert reasons(
        pool.chain, [mark_call(pool, first, collateral.book_of(first) + 1, appraiser)]
    ) == [RETURNING]
    up_at = ramp_end + 600
    pool.pin(up_at)
    stood = collateral.book_of(first)
    step = pool.registry.book_value(first) * MAX_MARK_STEP_BPS // 10_000
    # The full step at `up_at` is more than the step a second later: mined at `up_at`.
    tx, previous = pool.mark(first, stood + step, at=up_at)
    assert previous == stood
    assert revalued_logs(tx, collateral) == [
        (first, stood + step, stood, ceil_day(up_at + UNLOCK_PERIOD))
    ]
    assert (collateral.written_down(), collateral.held_down()) == (1, 1)
    pool.check()
    # The steps outlast the staleness window: the custodian attests both GPUs first.
    pool.next_at(ceil_day(up_at + UNLOCK_PERIOD) - DAY)
    pool.attest(first, twin)
    marks = pool.mark_up_to_the_line(first, ceil_day(up_at + UNLOCK_PERIOD))
    assert len(marks) == 2
    assert marks[-1][1] == pool.registry.book_value_at(first, marks[-1][0])
    last_end = collateral.position(first)[2]
    pool.view_at(last_end - 1)
    assert (collateral.written_down(), collateral.held_down()) == (1, 0)
    assert not collateral.entries_open()
    assert pool.vault.maxDeposit(investor) == 0
    pool.view_at(last_end)
    assert (collateral.written_down(), collateral.held_down()) == (0, 0)
    assert collateral.entries_open()
    pool.check()


def test_the_ramp_to_the_wei_and_entries_wait_until_the_line(marked_down, investor, appraiser):
    """Marked up by the full step, the GPU moves in a straight line from where it stood to the
    new line at the ramp's end (the rise a second rounded down): a quarter, half way, the end
    and after, to the wei. Entries wait the whole ramp (the collateral's reason, through the
    vault too) and after it, the mark being still below the line (held, not written down); the
    appraiser marks it up a step at each ramp end until a mark reaches the line, and entries
    open at that last ramp's end, where a deposit matures the ramp-end node."""
    pool, first, _, down_at = marked_down
    collateral, vault = pool.collateral, pool.vault
    terms = pool.terms(first)
    end = end_of_life(terms)
    up_at = down_at + DAY + 3_333
    pool.pin(up_at)
    stood = collateral.book_of(first)
    up = stood + pool.registry.book_value(first) * MAX_MARK_STEP_BPS // 10_000
    # The full step at `up_at` is more than the step a second later: mined at `up_at`.
    pool.mark(first, up, at=up_at)
    ramp_end = ceil_day(up_at + UNLOCK_PERIOD)
    target = marked_line(up, up_at, terms.salvage, end, ramp_end)
    assert not collateral.entries_open()
    assert collateral.written_down() == 1
    with ape.reverts(ENTRIES_WAIT):
        buy(vault, pool.kit.token, investor, 1_000 * USDC)
    span = ramp_end - up_at
    for t in (up_at + span // 4, up_at + span // 2, ramp_end - 1):
        pool.view_at(t)
        assert collateral.value_of(first) == worth(
            ramp(stood, up_at, ramp_end, target, t), ADVANCE_RATE_BPS
        )
        assert not collateral.entries_open()
        assert vault.maxDeposit(investor) == 0
        assert reasons(pool.chain, [(vault, "deposit", (1_000 * USDC, investor), investor)]) == [
            ENTRIES_WAIT
        ]
        pool.check()
    pool.view_at(ramp_end)
    assert collateral.value_of(first) == worth(target, ADVANCE_RATE_BPS)
    assert (collateral.written_down(), collateral.held_down()) == (0, 1)
    assert reasons(pool.chain, [(vault, "deposit", (1_000 * USDC, investor), investor)]) == [
        ENTRIES_WAIT
    ]
    pool.check()
    # Two more steps (a quarter of ~29,500 each, from ~17,400): the second reaches the line.
    marks = pool.mark_up_to_the_line(first, ramp_end)
    assert len(marks) == 2
    (line_at, line), last_end = marks[-1], collateral.position(first)[2]
    assert line == pool.registry.book_value_at(first, line_at)
    assert (collateral.written_down(), collateral.held_down()) == (1, 0)
    pool.view_at(last_end - 1)
    assert not collateral.entries_open()
    pool.view_at(last_end)
    assert collateral.entries_open()
    pool.check()
    pool.next_at(last_end + 5 * DAY)
    tx = vault.deposit(1_000 * USDC, investor, sender=investor)
    assert [(m[0], m[3]) for m in pool.flow(tx)] == [(last_end, -1)]
    assert logs_of(tx, vault, "Deposit")[0].assets == 1_000 * USDC
    assert collateral.value_of(first) == worth(
        marked_line(line, line_at, terms.salvage, end, tx.timestamp), ADVANCE_RATE_BPS
    )
    pool.check()
