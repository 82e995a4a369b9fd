"""After a mark to `v` at `t`, the GPU's value falls straight from `v` at `t` to min(salvage, v)
at its end of life (IAS 16 / IAS 36: the new carrying amount depreciates over the remaining
life), flat from then on. Each figure is stated twice: from the rule (tests/utils/appraisals.py)
and from the reference Book, and equals the contract's to the wei."""

import pytest

from tests.utils.appraisals import end_of_life, marked_line, ramp, worth
from tests.utils.collateral import DAY, PRECISION, ceil_day
from tests.utils.registry import USDC
from tests.utils.vault import ADVANCE_RATE_BPS, UNLOCK_PERIOD


@pytest.fixture
def short(two):
    """(pool, gpu): a GPU acquired 20 days ago with a 45-day life (30,000 USDC, 3,000 salvage),
    contributed now: its end of life comes 25 days from now (to the day), before its stale day."""
    pool, _, _ = two
    gpu = pool.register(acquired_at=pool.chain.pending_timestamp - 20 * DAY, useful_life=45 * DAY)
    pool.contribute(gpu)
    terms = pool.terms(gpu)
    assert end_of_life(terms) < pool.collateral.position(gpu)[3]
    return pool, gpu


def assert_at(pool, gpu, t: int, scaled: int) -> None:
    """At `t` the GPU's value and book value are `scaled`'s, and the whole pool the Book's."""
    pool.view_at(t)
    assert pool.collateral.value_of(gpu) == worth(scaled, ADVANCE_RATE_BPS)
    assert pool.collateral.book_of(gpu) == scaled // PRECISION
    pool.check()


@pytest.mark.parametrize("days", [1, 7, 21])
def test_value_follows_the_new_line(two, days):
    """Marked to 15,000 USDC: k days later it stands on the line from 15,000 at the mark to 3,000
    at the end of life (nearly five years away), to the wei."""
    pool, first, _ = two
    terms = pool.terms(first)
    pool.next_at(pool.now() + DAY + 4_321)
    mark = 15_000 * USDC
    tx, _ = pool.mark(first, mark)
    at = tx.timestamp
    end = end_of_life(terms)
    t = at + days * DAY
    scaled = marked_line(mark, at, terms.salvage, end, t)
    # The fall: 12,000 USDC over the remaining life, a second at a time (rounded up).
    assert scaled == mark * PRECISION - -(-12_000 * USDC * PRECISION // (end - at)) * days * DAY
    assert_at(pool, first, t, scaled)
    assert pool.collateral.value_of(first) == pool.book.value_of(first, t)


def test_salvage_floor_at_the_end_of_life(short):
    """The line reaches salvage at the end of life (to the day) and stays there."""
    pool, gpu = short
    terms = pool.terms(gpu)
    end = end_of_life(terms)
    pool.next_at(pool.now() + 2 * DAY)
    mark = 12_000 * USDC
    tx, _ = pool.mark(gpu, mark)
    at = tx.timestamp
    assert_at(pool, gpu, end - 1, marked_line(mark, at, terms.salvage, end, end - 1))
    assert pool.collateral.book_of(gpu) > terms.salvage
    assert_at(pool, gpu, end, terms.salvage * PRECISION)
    assert pool.collateral.value_of(gpu) == 2_400 * USDC
    assert_at(pool, gpu, end + 3 * DAY + 17, terms.salvage * PRECISION)


def test_mark_below_salvage_is_flat(short):
    """Marked below its salvage value, the GPU's floor is the mark: its line is flat."""
    pool, gpu = short
    terms = pool.terms(gpu)
    at = pool.now() + DAY
    pool.next_at(at)
    pool.mark(gpu, 2_000 * USDC)
    for t in (at + DAY, end_of_life(terms) - 1, end_of_life(terms) + DAY):
        assert_at(pool, gpu, t, 2_000 * USDC * PRECISION)
        assert pool.collateral.value_of(gpu) == 1_600 * USDC


def test_mark_after_the_end_of_life(short):
    """Past its end of life the GPU is worth salvage; a mark down to 1,000 USDC holds flat, and a
    mark up by the step (a quarter of the registry's book value, salvage now) returns over the
    unlock period to a flat 1,750 USDC."""
    pool, gpu = short
    terms = pool.terms(gpu)
    end = end_of_life(terms)
    at = end + 2 * DAY + 99
    # Attested a day before (moves its stale day past the ramp below).
    pool.view_at(at - DAY)
    pool.attest(gpu)
    pool.next_at(at)
    _, previous = pool.mark(gpu, 1_000 * USDC)
    assert previous == terms.salvage
    assert_at(pool, gpu, at + DAY, 1_000 * USDC * PRECISION)
    pool.next_at(at + 2 * DAY)
    step = terms.salvage * 2_500 // 10_000
    assert pool.registry.book_value(gpu) == terms.salvage
    tx, _ = pool.mark(gpu, 1_000 * USDC + step)
    up_at = tx.timestamp
    ramp_end = ceil_day(up_at + UNLOCK_PERIOD)
    assert pool.collateral.position(gpu)[2] == ramp_end
    half = (up_at + ramp_end) // 2
    target = 1_750 * USDC * PRECISION
    assert_at(pool, gpu, half, ramp(1_000 * USDC, up_at, ramp_end, target, half))
    assert_at(pool, gpu, ramp_end, target)
    assert pool.collateral.value_of(gpu) == 1_400 * USDC
