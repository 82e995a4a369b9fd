"""Maturities: the clock's changes (end of life, staleness, end of a ramp) are nodes on a grid of
days. Views count every due node (never understate, revert beyond 1,024), flows mature up to 16
and refuse beyond with a reason naming process_maturities, which anyone calls."""

from dataclasses import replace

import ape
import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, reasons, send_spaced
from tests.utils.collateral import (
    DAY,
    MAX_VIEW_STEPS,
    PENDING,
    PRECISION,
    YEAR,
    ZERO_STEPS,
    Book,
    Curve,
    Position,
    State,
    Terms,
    ceil_day,
    floor_day,
)
from tests.utils.registry import USDC, make_spec
from tests.utils.vault import buy, fund, logs_of

# Gas of `deposit` when exactly 16 nodes are due and the deposit matures them all (an investor's
# first deposit into the `many` pool of 100 GPUs): measured 305,023 with Vyper 0.4.3 (shanghai)
# on Anvil, against 151,215 for the same deposit with nothing due (~9,600 a node). The bound is
# that figure plus ~10%: a flow's cost stays bounded whatever the backlog, since it never
# matures more than 16 nodes (beyond, it refuses).
DEPOSIT_16_DUE_GAS = 305_023
DEPOSIT_16_DUE_GAS_BOUND = 335_000


def test_end_of_life_at_its_grid_day(pool, investor):
    """The line reaches salvage at floor_day(acquired_at + life), a few hours before the
    registry's own end of life: the collateral's line is the steeper (conservative)."""
    collateral = pool.collateral
    acquired_at = pool.chain.pending_timestamp - 5 * YEAR + 10 * DAY + 7 * 3_600
    token_id = pool.register(acquired_at=acquired_at)
    pool.contribute(token_id)
    end = floor_day(acquired_at + 5 * YEAR)
    assert end < acquired_at + 5 * YEAR

    pool.view_at(end - 1)
    before = collateral.value_of(token_id)
    assert before == pool.book.value_of(token_id, end - 1)
    assert 2_400 * USDC < before < pool.registry.book_value_at(token_id, end - 1) * 8_000 // 10_000
    assert collateral.pending() == 0
    pool.check()

    pool.view_at(end)
    assert collateral.value_of(token_id) == 3_000 * USDC * 8_000 // 10_000
    assert collateral.pending() == 1
    assert collateral.value() == 2_400 * USDC - 1
    pool.check()

    # The next flow matures the end-of-life node (ScheduleMatured checked by `flow`).
    tx = buy(pool.vault, pool.kit.token, investor, 1_000 * USDC)
    assert [log.at for log in logs_of(tx, collateral, "ScheduleMatured")] == [end]
    pool.flow(tx)
    assert collateral.pending() == 0
    assert collateral.slope_sum() == 0
    pool.check()


def test_useful_life_clamped_at_50_years(pool):
    """A life of 2**40 - 1 seconds ends (for the collateral) 50 years after acquisition."""
    token_id = pool.register(useful_life=2**40 - 1, salvage_value=0)
    c = pool.contribute(token_id)
    terms = pool.terms(token_id)
    end = floor_day(terms.acquired_at + 50 * YEAR)
    slope = -(-terms.cost * PRECISION // (end - terms.acquired_at))
    now = c.tx.timestamp
    expected = (terms.cost * PRECISION - slope * (now - terms.acquired_at)) * 8_000 // 10**22
    assert pool.collateral.value_of(token_id) == expected
    pool.check()


@pytest.mark.parametrize("due", [17, 33, 64, 100])
def test_views_count_every_due_node(many, due, investor):
    """With 17 to 100 end-of-life nodes due, value() and every value_of equal the reference:
    nothing is left out (pending() saturates at 17, flows would refuse)."""
    pool, built = many
    at = built.day0 + due * DAY + 3_600
    pool.view_at(at)
    assert len(pool.book.due(at)) == due
    assert pool.collateral.pending() == 17
    value = pool.collateral.value()
    assert value == pool.book.value(at)
    assert pool.vault.totalAssets() == pool.vault.free_cash() + value
    assert pool.vault.maxDeposit(investor) == 0
    pool.check()


def test_flows_refuse_beyond_16(many, investor, operator):
    pool, built = many
    collateral, vault, token = pool.collateral, pool.vault, pool.kit.token
    fund(token, investor, 1_000 * USDC)
    token.approve(vault, 1_000 * USDC, sender=investor)
    newcomer = pool.register()
    pool.next_at(built.day0 + 17 * DAY)
    with ape.reverts(PENDING):
        vault.deposit(1_000 * USDC, investor, sender=investor)
    with ape.reverts(PENDING):
        vault.redeem(10**12, operator, operator, sender=operator)
    with ape.reverts(PENDING):
        collateral.contribute(newcomer, operator, 0, sender=operator)
    with ape.reverts(PENDING):
        collateral.current_value(sender=investor)
    assert collateral.pending() == 17
    # One node processed: 16 due, the same deposit goes through and matures them.
    pool.process(1)
    tx = vault.deposit(1_000 * USDC, investor, sender=investor)
    assert len(pool.flow(tx)) == 16
    assert collateral.pending() == 0
    pool.check()


def test_deposit_with_16_due_has_bounded_gas(many, investor):
    """The issue's "gas bounded by a stated and tested number": see DEPOSIT_16_DUE_GAS."""
    pool, built = many
    vault, token = pool.vault, pool.kit.token
    fund(token, investor, 1_000 * USDC)
    token.approve(vault, 1_000 * USDC, sender=investor)
    at = built.day0 + 16 * DAY + 3_600
    pool.pin(at)
    assert pool.collateral.pending() == 16
    assert vault.maxDeposit(investor) > 0
    nav = vault.totalAssets()

    tx = vault.deposit(1_000 * USDC, investor, sender=investor)

    matured = pool.flow(tx)
    assert [m[0] for m in matured] == [built.end(i) for i in range(16)]
    assert tx.gas_used < DEPOSIT_16_DUE_GAS_BOUND <= DEPOSIT_16_DUE_GAS * 11 // 10, tx.gas_used
    # Priced from the value with the 16 nodes in: the NAV the view showed at the same second.
    [deposit] = logs_of(tx, vault, "Deposit")
    supply = vault.totalSupply() - deposit.shares
    assert deposit.shares == 1_000 * USDC * (supply + 10**6) // (nav + 1)
    pool.check()


def test_contribute_with_16_due_matures_them(many):
    pool, built = many
    newcomer = pool.register()
    pool.next_at(built.day0 + 16 * DAY)
    c = pool.contribute(newcomer)
    assert len(c.matured) == 16
    assert counted_logs(c.tx, pool.collateral)[0][0] == newcomer
    pool.check()


def test_process_maturities(many, attacker):
    """Anyone matures the backlog in steps; each step's ScheduleMatured equal the reference
    (checked by `process`), the value does not move, pending() counts down from 17."""
    pool, built = many
    collateral = pool.collateral
    at = built.day0 + 100 * DAY + 3_600
    pool.pin(at)
    value = collateral.value()
    with ape.reverts(ZERO_STEPS):
        collateral.process_maturities(0, sender=attacker)
    assert collateral.process_maturities.call(5, sender=attacker) == 5

    pool.next_at(at)
    _, matured = pool.process(5, sender=attacker)

    assert [m[0] for m in matured] == [built.end(i) for i in range(5)]
    assert collateral.pending() == 17
    assert collateral.schedule_state() == (built.end(5), 100)
    assert collateral.process_maturities.call(2**256 - 1, sender=attacker) == 95
    pool.next_at(at)
    _, matured = pool.process(79, sender=attacker)
    assert len(matured) == 79
    assert collateral.pending() == 16
    pool.next_at(at)
    _, matured = pool.process(2**256 - 1, sender=attacker)
    assert len(matured) == 16
    assert collateral.pending() == 0
    assert collateral.schedule_state() == (built.stale_at, 100)
    assert collateral.value() == value
    assert collateral.process_maturities.call(1, sender=attacker) == 0
    pool.check()


def test_current_value_matures_and_returns_the_value(many, attacker):
    pool, built = many
    at = built.day0 + 10 * DAY
    pool.pin(at)
    value = pool.collateral.value()
    assert pool.collateral.current_value.call(sender=attacker) == value == pool.book.value(at)
    tx = pool.collateral.current_value(sender=attacker)
    assert len(pool.flow(tx)) == 10
    pool.check()


# MORE THAN 1,024 DUE #


def test_view_beyond_1024_due_nodes_reverts(new_pool, registry, custodian, operator, attacker):
    """1,025 due nodes, the one way a pool gets there: 1,025 GPUs whose useful lives end on
    consecutive days, kept fresh by batch attestations (which only move stale days: nothing
    matures) and no flow for 1,025 days. With 1,024 due, value() walks them all and equals the
    reference; with 1,025 it reverts rather than understate, and so does the vault's NAV;
    process_maturities(1,024) brings it back."""
    window = YEAR
    pool = new_pool(staleness_window=window, name="Backlog", symbol="BKLG")
    collateral, chain = pool.collateral, pool.chain
    count = MAX_VIEW_STEPS + 1
    life = 5 * YEAR
    day0 = ceil_day(chain.pending_timestamp)
    # End of life on day k (k = 1..count) after day0, an hour past its midnight.
    specs = [make_spec(acquired_at=day0 + k * DAY + 3_600 - life) for k in range(1, count + 1)]
    for first in range(0, count, 50):
        registry.register(operator, specs[first : first + 50], sender=custodian)
    ids = list(range(registry.totalSupply() - count + 1, registry.totalSupply() + 1))
    contributions = [(collateral, "contribute", (t, operator, 0), operator) for t in ids]
    send_spaced(chain, contributions, day0 + 60, 1, gas=600_000)
    # Each attestation round moves the stale day of the GPUs whose end of life lies beyond it,
    # which puts their end-of-life days in the schedule: days 1..count all carry a node.
    for round_day in (300, 600, 900):
        stale = collateral.position(ids[-1])[3]
        later = [t for k, t in enumerate(ids, 1) if day0 + k * DAY >= stale]
        attests = [
            (registry, "attest", (later[i : i + 256],), custodian)
            for i in range(0, len(later), 256)
        ]
        send_spaced(chain, attests, day0 + round_day * DAY, 1, gas=20_000_000)
    # Nothing matured all along: the first end-of-life day is still the head.
    assert collateral.schedule_state() == (day0 + DAY, count)

    terms = pool.terms_of(ids)
    book = Book(pool.book.rate_bps, window, pool.book.unlock)
    for token_id, t in zip(ids, terms, strict=True):
        book.positions[token_id] = Position(
            State.COUNTED, Curve.of(t, window, collateral.position(token_id)[1])
        )

    # 1,024 due: the view walks them all.
    at = day0 + MAX_VIEW_STEPS * DAY + 1
    pool.view_at(at)
    assert collateral.pending() == 17
    assert collateral.value() == book.value(at) > 0

    # 1,025 due: reverts rather than understate (the vault's NAV with it).
    pool.view_at(at + DAY)
    assert (
        reasons(
            chain,
            [
                (collateral, "value", (), attacker),
                (pool.vault, "totalAssets", (), attacker),
                (pool.vault, "convertToAssets", (10**12,), attacker),
            ],
        )
        == [PENDING] * 3
    )
    assert collateral.value_of(ids[0]) == book.value_of(ids[0], at + DAY) > 0

    pool.next_at(at + DAY)
    tx = collateral.process_maturities(2**256 - 1, sender=attacker)
    assert len(tx.logs) == MAX_VIEW_STEPS
    assert collateral.pending() == 1
    assert collateral.value() == book.value(at + DAY)


def test_reference_forgets_a_moved_stale_day():
    """The Book's model of days (used by every test here): a stale day moved by an attestation
    takes its node with it when no other GPU changes there (it used to stay behind, due and
    empty, and daily attestations alone filled the queue); a day another GPU still uses stays."""
    book = Book(8_000, 30 * DAY, 7 * DAY)
    terms = Terms(30_000, 3_000, 0, 5 * YEAR, 1, 10 * DAY)
    book.make_current(10 * DAY)
    book.bring_in(1, terms, 10 * DAY)
    assert book.days == {40 * DAY}
    book.on_attested(1, replace(terms, last_attested_at=11 * DAY), 11 * DAY)
    assert book.days == {41 * DAY}
    book.bring_in(2, replace(terms, last_attested_at=11 * DAY), 11 * DAY)
    book.on_attested(1, replace(terms, last_attested_at=12 * DAY), 12 * DAY)
    assert book.days == {41 * DAY, 42 * DAY}
    assert book.pending(42 * DAY) == 2
