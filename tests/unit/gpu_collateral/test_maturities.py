"""Maturities: the clock's changes (end of life, staleness, end of a ramp) are nodes on a grid of
days. Views count every due node (never understate, revert beyond 1,024), flows mature up to 16
and refuse beyond with a reason naming process_maturities, which anyone calls."""

from dataclasses import replace

import ape
import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, read_many, reasons, send_packed
from tests.utils.collateral import (
    ACTIVE,
    DAY,
    IMPAIRED,
    MAX_VIEW_STEPS,
    PENDING,
    PRECISION,
    RETIRED,
    YEAR,
    ZERO_STEPS,
    Book,
    Curve,
    EntriesWait,
    Position,
    State,
    Terms,
    ceil_day,
    floor_day,
)
from tests.utils.custody import submit_args
from tests.utils.registry import USDC, make_spec
from tests.utils.vault import buy, fund, logs_of

# Gas of `deposit` when exactly 16 nodes are due and the deposit matures them all (an investor's
# first deposit into the `many` pool of 100 GPUs): measured 313,182 with Vyper 0.4.3 (shanghai)
# on Anvil, against 161,018 for the same deposit with nothing due (~9,500 a node; 338,065 while a
# node's written-down count had a storage word of its own). The bound is that figure plus ~10%:
# a flow's cost stays bounded whatever the backlog, since it never matures more than 16 nodes
# (beyond, it refuses).
DEPOSIT_16_DUE_GAS = 313_182
DEPOSIT_16_DUE_GAS_BOUND = 344_000


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
    assert collateral.schedule_state() == (built.end(5), 100, 0)
    assert collateral.process_maturities.call(2**256 - 1, sender=attacker) == 95
    pool.next_at(at)
    _, matured = pool.process(79, sender=attacker)
    assert len(matured) == 79
    assert collateral.pending() == 16
    pool.next_at(at)
    _, matured = pool.process(2**256 - 1, sender=attacker)
    assert len(matured) == 16
    assert collateral.pending() == 0
    assert collateral.schedule_state() == (built.stale_at, 100, 0)
    assert collateral.value() == value
    assert collateral.process_maturities.call(1, sender=attacker) == 0
    pool.check()


@pytest.mark.parametrize("method", ["current_value", "entry_value"])
def test_current_value_matures_and_returns_the_value(many, attacker, method):
    """Exits price from current_value, entries from entry_value: with no GPU written down they
    are the same, mature the 10 due nodes (end of life: gpus 0) and return the value."""
    pool, built = many
    at = built.day0 + 10 * DAY
    pool.pin(at)
    value = pool.collateral.value()
    assert pool.collateral.written_down() == 0
    assert getattr(pool.collateral, method).call(sender=attacker) == value == pool.book.value(at)
    tx = getattr(pool.collateral, method)(sender=attacker)
    matured = pool.flow(tx)
    assert [(m[0], m[3]) for m in matured] == [(built.end(i), 0) for i in range(10)]
    pool.check()


# MORE THAN 1,024 DUE #


def test_view_beyond_1024_due_nodes_reverts(
    new_pool, registry, attestor, custodian, operator, attacker, investor
):
    """1,025 due nodes, the one way a pool gets there: 1,025 GPUs whose useful lives end on
    consecutive days, kept fresh by batch attestations (which only move stale days: nothing
    matures) and no flow for 1,025 days. With 1,024 due, value() and written_down() walk them all
    and equal the reference; with 1,025 they revert rather than understate, and so does the
    vault's NAV, while entries_open() and the vault's max* answer (closed) without walking;
    process_maturities(1,024) brings it back.

    Set-up cost: every transaction is queued and mined 128 to a block (`send_packed`), since
    Anvil spends ~20 ms a block: 1,025 contributions and 1,084 attestations take a few seconds
    (a block each, ~25 s)."""
    window = YEAR
    pool = new_pool(staleness_window=window, name="Backlog", symbol="BKLG")
    collateral, chain = pool.collateral, pool.chain
    count = MAX_VIEW_STEPS + 1
    life = 5 * YEAR
    day0 = ceil_day(chain.pending_timestamp + 2 * 3_600)
    # End of life on day k (k = 1..count) after day0, an hour past its midnight.
    specs = [make_spec(acquired_at=day0 + k * DAY + 3_600 - life) for k in range(1, count + 1)]
    first = registry.totalSupply() + 1
    registrations = [
        (registry, "register", (operator, specs[i : i + 50]), custodian)
        for i in range(0, count, 50)
    ]
    # Registered (and attested) an hour before day0: stale at day0 + 364 days.
    registered_at = day0 - 3_600
    send_packed(chain, registrations, registered_at, gas=15_000_000)
    ids = list(range(first, first + count))
    assert registry.totalSupply() == ids[-1]
    contributions = [(collateral, "contribute", (t, operator, 0), operator) for t in ids]
    blocks = send_packed(chain, contributions, day0 + 60, gas=600_000)
    since = {t: blocks[i // 128] for i, t in enumerate(ids)}
    # Each attestation round moves the stale day of the GPUs whose end of life lies beyond it,
    # which puts their end-of-life days in the schedule: days 1..count all carry a node.
    attested = dict.fromkeys(ids, registered_at)
    stale = day0 + 364 * DAY
    for round_day in (300, 600, 900):
        later = [t for k, t in enumerate(ids, 1) if day0 + k * DAY >= stale]
        # Signed for the one block they are mined in.
        signed_at = day0 + round_day * DAY
        attests = [
            (
                attestor,
                "submit",
                submit_args(attestor, later[i : i + 64], collateral, signed_at),
                custodian,
            )
            for i in range(0, len(later), 64)
        ]
        [at] = send_packed(chain, attests, signed_at, gas=8_000_000)
        attested.update(dict.fromkeys(later, at))
        stale = day0 + (round_day + 365) * DAY
    # Nothing matured all along: the first end-of-life day is still the head, and at the cursor
    # (the second before it) nothing is written down.
    assert collateral.schedule_state() == (day0 + DAY, count, 0)

    # The reference: every curve (from the specs, the contribution and attestation times), and
    # the days that carry a node: the end-of-life days and the stale days 364, 665, 965 and
    # 1,265 days after day0 (the first three also end-of-life days).
    book = Book(pool.book.rate_bps, window, pool.book.unlock)
    terms = {}
    for token_id, spec in zip(ids, specs, strict=True):
        terms[token_id] = Terms(
            spec["acquisition_cost"],
            spec["salvage_value"],
            spec["acquired_at"],
            spec["useful_life"],
            ACTIVE,
            attested[token_id],
        )
        book.positions[token_id] = Position(
            State.COUNTED, Curve.of(terms[token_id], window, since[token_id])
        )
    book.days = {day0 + k * DAY for k in range(1, count + 1)} | {day0 + 1_265 * DAY}
    # On chain, at the edges of the four groups (stale at 364, 665, 965, 1,265) and at the edges
    # of the blocks of contributions: positions, terms and nodes as the reference has them.
    edges = [ids[k - 1] for k in (1, 128, 129, 363, 364, 664, 665, 964, 965, count)]
    assert read_many(chain, [(collateral, "position", (t,)) for t in edges]) == [
        book.position(t) for t in edges
    ]
    assert pool.terms_of(edges) == [terms[t] for t in edges]
    sample = [day0 + k * DAY for k in (1, 363, 364, 665, 965, count)] + [day0 + 1_265 * DAY]
    assert read_many(chain, [(collateral, "nodes", (d,)) for d in sample]) == [
        book.delta(d) for d in sample
    ]

    # 1,024 due: the views walk them all.
    at = day0 + MAX_VIEW_STEPS * DAY + 1
    pool.view_at(at)
    assert collateral.pending() == 17
    assert collateral.value() == book.value(at) > 0
    # Stale since day 364, 665 or 965: every GPU but those whose end of life is day 965 or later.
    assert collateral.written_down() == book.written_down(at) == 964
    assert not collateral.entries_open()

    # 1,025 due: reverts rather than understate (the vault's NAV with it).
    pool.view_at(at + DAY)
    assert (
        reasons(
            chain,
            [
                (collateral, "value", (), attacker),
                (collateral, "written_down", (), attacker),
                (pool.vault, "totalAssets", (), attacker),
                (pool.vault, "convertToAssets", (10**12,), attacker),
                (collateral, "current_value", (), attacker),
                (collateral, "entry_value", (), attacker),
            ],
        )
        == [PENDING] * 6
    )
    # Entries are closed, and say so without walking the nodes (no revert): so are the vault's
    # max* (0, not a revert, as ERC-4626 asks).
    assert read_many(
        chain,
        [
            (collateral, "entries_open", ()),
            (collateral, "pending", ()),
            (pool.vault, "maxDeposit", (investor,)),
            (pool.vault, "maxMint", (investor,)),
        ],
    ) == [False, 17, 0, 0]
    # One GPU's own value needs no walk.
    assert collateral.value_of(ids[-1]) == book.value_of(ids[-1], at + DAY) > 0

    pool.next_at(at + DAY)
    tx = collateral.process_maturities(2**256 - 1, sender=attacker)
    matured = logs_of(tx, collateral, "ScheduleMatured")
    assert [log.at for log in matured] == [day0 + k * DAY for k in range(1, MAX_VIEW_STEPS + 1)]
    # The stale days matured wrote down every GPU stale by then.
    assert sum(log.gpus for log in matured) == 964
    book.matured = matured[-1].at
    assert collateral.pending() == 1
    assert collateral.schedule_state() == (day0 + count * DAY, count, 964)
    assert collateral.value() == book.value(at + DAY)
    assert collateral.written_down() == book.written_down(at + DAY) == 964


def test_reference_forgets_a_moved_stale_day():
    """The Book's model of days (used by every test here): a stale day moved by an attestation
    takes its node with it when no other GPU changes there (it used to stay behind, due and
    empty, and daily attestations alone filled the queue); a day another GPU still uses stays."""
    book = Book(8_000, 30 * DAY, 7 * DAY)
    terms = Terms(30_000, 3_000, 0, 5 * YEAR, 1, 10 * DAY)
    book.make_current(10 * DAY)
    book.bring_in(1, terms, 10 * DAY, True)
    assert book.days == {40 * DAY}
    book.on_attested(1, replace(terms, last_attested_at=11 * DAY), 11 * DAY)
    assert book.days == {41 * DAY}
    book.bring_in(2, replace(terms, last_attested_at=11 * DAY), 11 * DAY, True)
    book.on_attested(1, replace(terms, last_attested_at=12 * DAY), 12 * DAY)
    assert book.days == {41 * DAY, 42 * DAY}
    assert book.pending(42 * DAY) == 2


def test_reference_keeps_a_node_that_only_changes_the_written_down_count():
    """The Book's drop rule is the contract's: a node goes only when all three of its changes
    are zero. A GPU worth nothing (zero salvage, past its end of life) changes no value at its
    stale day or its ramp end, yet each is a node (the written-down count moves); taking the GPU
    out drops them. Entries wait while it is written down; a sale does not."""
    book = Book(8_000, 30 * DAY, 7 * DAY)
    terms = Terms(30_000, 0, 0, 5 * DAY, ACTIVE, 10 * DAY)
    book.make_current(10 * DAY)
    book.bring_in(1, terms, 10 * DAY, True)
    assert book.days == {40 * DAY}
    assert book.delta(40 * DAY) == (0, 0, 1)
    book.uncount(1, 11 * DAY, IMPAIRED)
    assert book.days == set()
    book.on_status(1, terms, 12 * DAY)
    assert book.position(1) == (State.COUNTED, 12 * DAY, 19 * DAY, 40 * DAY)
    assert book.days == {19 * DAY, 40 * DAY}
    assert book.delta(19 * DAY) == (0, 0, -1)
    assert book.written_down(19 * DAY - 1) == 1
    assert not book.entries_open(19 * DAY - 1)
    other = replace(terms, acquired_at=12 * DAY, last_attested_at=12 * DAY)
    with pytest.raises(EntriesWait):
        book.bring_in(2, other, 12 * DAY, True)
    book.bring_in(2, other, 12 * DAY, False)
    assert book.schedule_state(12 * DAY) == (17 * DAY, 2, 1)
    assert book.written_down(19 * DAY) == 0
    assert book.entries_open(19 * DAY)
    book.uncount(1, 13 * DAY, RETIRED)
    assert book.days == {17 * DAY, 42 * DAY}
