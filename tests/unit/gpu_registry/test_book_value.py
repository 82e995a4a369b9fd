"""book_value / book_value_at: straight line from cost to salvage, against tests.utils.registry."""

import ape
import pytest

from tests.utils.registry import (
    DAY,
    MAX_UINT40,
    MAX_UINT128,
    USDC,
    YEAR,
    GpuStatus,
    book_value,
)


@pytest.fixture
def h100(register_gpus, chain):
    """One H100 bought a year ago: 30,000 USDC, 5 years, 3,000 USDC salvage."""
    return register_gpus(1, acquired_at=chain.pending_timestamp - YEAR)


def test_before_acquisition_is_cost(registry, h100):
    spec = h100.spec

    for timestamp in (0, spec["acquired_at"] - YEAR, spec["acquired_at"] - 1, spec["acquired_at"]):
        assert registry.book_value_at(h100.token_id, timestamp) == spec["acquisition_cost"]


def test_mid_life_to_the_wei(registry, h100):
    spec = h100.spec
    start, life = spec["acquired_at"], spec["useful_life"]

    # 27,000 USDC over 157,680,000 s: 171.2328... micro-USDC a second, so most points round.
    for elapsed in (1, 2, 3, DAY, 30 * DAY, YEAR, life // 2, life - DAY, life - 1):
        expected = book_value(spec, start + elapsed)
        assert registry.book_value_at(h100.token_id, start + elapsed) == expected

    # Exact figures: one second in, depreciation 171.23... rounds up to 172.
    assert registry.book_value_at(h100.token_id, start + 1) == 30_000 * USDC - 172
    # Half way: exactly 13,500 USDC depreciated.
    assert registry.book_value_at(h100.token_id, start + life // 2) == 16_500 * USDC


def test_end_of_life_and_after_is_salvage(registry, h100):
    spec = h100.spec
    end = spec["acquired_at"] + spec["useful_life"]

    for timestamp in (end, end + 1, end + 10 * YEAR, 2**256 - 1):
        assert registry.book_value_at(h100.token_id, timestamp) == spec["salvage_value"]


def test_rounding_is_conservative(registry, register_gpus, chain):
    """Depreciation rounds up, book value down: 10 wei over 3 s with salvage 1."""
    registered = register_gpus(
        1,
        acquired_at=chain.pending_timestamp - DAY,
        acquisition_cost=10,
        salvage_value=1,
        useful_life=3,
    )
    start = registered.spec["acquired_at"]

    values = [registry.book_value_at(registered.token_id, start + s) for s in range(5)]

    # 9 wei depreciable: 3 a second exactly.
    assert values == [10, 7, 4, 1, 1]

    registered = register_gpus(
        1, acquired_at=start, acquisition_cost=10, salvage_value=0, useful_life=3
    )
    values = [registry.book_value_at(registered.token_id, start + s) for s in range(4)]
    # 10/3 = 3.33 -> 4 depreciated after 1 s; 6.67 -> 7 after 2 s.
    assert values == [10, 6, 3, 0]


def test_no_depreciation_when_salvage_equals_cost(registry, register_gpus, chain):
    registered = register_gpus(1, acquisition_cost=5 * USDC, salvage_value=5 * USDC)
    start = registered.spec["acquired_at"]

    for timestamp in (start, start + 1, start + YEAR, start + 100 * YEAR):
        assert registry.book_value_at(registered.token_id, timestamp) == 5 * USDC


def test_extreme_values_do_not_overflow(registry, register_gpus):
    registered = register_gpus(
        1,
        acquired_at=0,
        acquisition_cost=MAX_UINT128,
        salvage_value=0,
        useful_life=MAX_UINT40,
    )
    spec = registered.spec

    for timestamp in (1, MAX_UINT40 // 3, MAX_UINT40 - 1, MAX_UINT40):
        assert registry.book_value_at(registered.token_id, timestamp) == book_value(spec, timestamp)


def test_book_value_is_book_value_at_now(registry, h100, chain):
    spec = h100.spec

    for step in (1, 17 * DAY, 3 * YEAR + 5, 6 * YEAR):
        chain.mine(timestamp=chain.blocks.head.timestamp + step)
        now = chain.blocks.head.timestamp
        assert registry.book_value(h100.token_id) == book_value(spec, now)
        assert registry.book_value(h100.token_id) == registry.book_value_at(h100.token_id, now)


@pytest.mark.parametrize(
    "status", [GpuStatus.LEASED, GpuStatus.OFFLINE, GpuStatus.IMPAIRED], ids=lambda s: s.name
)
def test_straight_line_whatever_the_status(registry, h100, set_status, status):
    """Impaired (and leased, offline) units keep the straight-line figure; the vault decides."""
    set_status(h100.token_id, status)
    spec = h100.spec

    for timestamp in (spec["acquired_at"] + DAY, spec["acquired_at"] + 2 * YEAR):
        assert registry.book_value_at(h100.token_id, timestamp) == book_value(spec, timestamp)


def test_retired_is_worth_zero(registry, h100, set_status):
    set_status(h100.token_id, GpuStatus.RETIRED)
    spec = h100.spec

    assert registry.book_value(h100.token_id) == 0
    for timestamp in (0, spec["acquired_at"] + DAY, spec["acquired_at"] + 10 * YEAR):
        assert registry.book_value_at(h100.token_id, timestamp) == 0
        assert book_value(spec, timestamp, GpuStatus.RETIRED) == 0


def test_unknown_gpu(registry, h100):
    with ape.reverts("registry: unknown GPU"):
        registry.book_value(h100.token_id + 1)
    with ape.reverts("registry: unknown GPU"):
        registry.book_value_at(0, 0)
