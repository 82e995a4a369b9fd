"""Entries wait out a temporary write-down. A counted GPU is written down for a while from its
stale day (until an attestation brings it back) and while it returns on its ramp (until the ramp
end); a GPU held is held down while it is IMPAIRED (until restored or retired) and while its mark
stands below its straight line (a restore's step: until the appraiser marks it back to the line
or settles). Meanwhile contributions and the vault's deposits and mints refuse with
ENTRIES_WAIT, `entry_value()` too, `entries_open()` is false and maxDeposit / maxMint are 0.
Exits, `current_value()` and purchases with cash go on. `written_down()` counts the GPUs written
down (due nodes included), `held_down()` the holds; the nodes carry the changes of the first
(ScheduleMatured.gpus); a node left with no change at all by a curve taken out is dropped, so
daily attestations leave no node due."""

import copy

import ape
import pytest

from tests.unit.gpu_collateral.conftest import (
    counted_logs,
    matured_logs,
    read_many,
    reasons,
    revalued_logs,
    uncounted_logs,
)
from tests.utils.collateral import (
    DAY,
    ENTRIES_WAIT,
    IMPAIRED,
    PRECISION,
    RETIRED,
    EntriesWait,
    State,
    ceil_day,
    floor_day,
)
from tests.utils.registry import USDC, GpuStatus
from tests.utils.vault import (
    STALENESS_WINDOW,
    UNLOCK_PERIOD,
    fund,
    logs_of,
    max_deposit,
    max_mint,
    to_assets,
)


@pytest.fixture
def two(stocked):
    """(pool, first, twin): the `stocked` pool (100,000 USDC of free cash) and its two identical
    GPUs, stale on the same day."""
    return stocked.pool, stocked.first, stocked.twin


def gate(pool, investor) -> tuple:
    """(written_down(), held_down(), entries_open(), maxDeposit, maxMint) for `investor`, at the
    latest block."""
    collateral, vault = pool.collateral, pool.vault
    return tuple(
        read_many(
            pool.chain,
            [
                (collateral, "written_down", ()),
                (collateral, "held_down", ()),
                (collateral, "entries_open", ()),
                (vault, "maxDeposit", (investor,)),
                (vault, "maxMint", (investor,)),
            ],
        )
    )


def assert_closed(pool, investor, down: int = 1, held: int = 0) -> None:
    assert gate(pool, investor) == (down, held, False, 0, 0)


def assert_open(pool, investor) -> None:
    """Nothing written down or held down, entries open, and the vault's max* exactly what its
    caps allow."""
    vault = pool.vault
    cash, supply, dead, total = read_many(
        pool.chain,
        [
            (vault, "free_cash", ()),
            (vault, "totalSupply", ()),
            (vault, "DEAD_SHARES", ()),
            (vault, "totalAssets", ()),
        ],
    )
    deposit, mint = max_deposit(total, supply, cash, dead), max_mint(total, supply, cash, dead)
    assert gate(pool, investor) == (0, 0, True, deposit, mint)
    assert deposit > 0 and mint > 0


def assert_entries_refused(pool, investor, token_id: int) -> None:
    """At the latest block's second: a contribution of `token_id`, a deposit, a mint, a buy and
    entry_value are refused with ENTRIES_WAIT. As eth_calls from their callers (one batch), not
    transactions: ape mines a refused transaction all the same, and a time set for the next
    block holds for that one only; the next follow Anvil's running clock, a second late now and
    then, which at ramp_end - 1 is ramp_end."""
    collateral, vault, operator = pool.collateral, pool.vault, pool.roles["operator"]
    calls = [
        (collateral, "contribute", (token_id, investor, 0), operator),
        (vault, "deposit", (1_000 * USDC, investor), investor),
        (vault, "mint", (10**9, investor), investor),
        (vault, "buy", (1_000 * USDC, investor, 0, pool.now() + DAY), investor),
        (collateral, "entry_value", (), investor),
    ]
    assert reasons(pool.chain, calls) == [ENTRIES_WAIT] * len(calls)


def fresh_twin_and_newcomer(pool, twin, stale_at: int) -> int:
    """Two days before the stale day: the twin is attested (its stale day moves on, so only the
    other GPU goes stale) and a newcomer is registered (fresh well past it). Returns its id."""
    pool.next_at(stale_at - 2 * DAY)
    pool.attest(twin)
    return pool.register()


def test_stale_gpu_closes_entries_from_its_stale_day(two, investor, operator, attacker, chain):
    """Open until the second before the stale day (a contribution goes in then), closed from it:
    with the stale node due and not matured, written_down() counts it already (the cursor's
    count, schedule_state()[2], not yet). Exits still price: current_value() matures the node
    (gpus +1) and answers, a redemption pays the written-down NAV."""
    pool, first, twin = two
    collateral, vault = pool.collateral, pool.vault
    stale_at = collateral.position(first)[3]
    newcomer = fresh_twin_and_newcomer(pool, twin, stale_at)

    pool.view_at(stale_at - 1)
    assert_open(pool, investor)
    pool.check()
    book = copy.deepcopy(pool.book)
    with chain.isolate():
        pool.next_at(stale_at - 1)
        assert pool.contribute(newcomer).tx.timestamp == stale_at - 1
    pool.book = book

    pool.pin(stale_at)
    assert collateral.pending() == 1
    assert collateral.schedule_state() == (stale_at, 2, 0)
    assert_closed(pool, investor)
    pool.check()
    assert_entries_refused(pool, investor, newcomer)
    with pytest.raises(EntriesWait):
        pool.predict(newcomer, stale_at)
    with ape.reverts(ENTRIES_WAIT):
        collateral.contribute(newcomer, investor, 0, sender=operator)
    assert pool.registry.ownerOf(newcomer) == operator.address
    assert collateral.position(newcomer) == (State.NONE, 0, 0, 0)

    # (check() saw current_value answer the value and entry_value refuse, as eth_calls.)
    a, b = pool.book.positions[first].curve.line(stale_at - 1)
    tx = collateral.current_value(sender=attacker)
    assert pool.flow(tx) == [(stale_at, -a, -b, 1)]
    assert collateral.schedule_state() == (pool.book.head(), 2, 1)
    cash, supply, shares = vault.free_cash(), vault.totalSupply(), vault.balanceOf(operator) // 10
    tx = vault.redeem(shares, operator, operator, sender=operator)
    pool.flow(tx)
    [withdrawn] = logs_of(tx, vault, "Withdraw")
    assert withdrawn.assets == to_assets(shares, cash + pool.book.value(tx.timestamp), supply) > 0
    assert_closed(pool, investor)
    pool.check()


def test_attested_stale_gpu_keeps_entries_closed_until_its_ramp_end(two, investor):
    """An attestation brings the stale GPU back on a ramp: still written down (returning, no
    longer stale) until the ramp end, closed at ramp_end - 1, open at ramp_end with the
    ramp-end node due (written_down() 0, the cursor's count still 1). The contribution then
    matures it: the ramp's line gives way to the normal one, gpus -1."""
    pool, first, twin = two
    collateral = pool.collateral
    stale_at = collateral.position(first)[3]
    newcomer = fresh_twin_and_newcomer(pool, twin, stale_at)
    pool.next_at(stale_at + DAY + 600)

    tx = pool.attest(first)

    # Back in the attestation's own second (a node may mine it a second after the one asked for).
    back = tx.timestamp
    ramp_end = ceil_day(back + UNLOCK_PERIOD)
    assert [(m[0], m[3]) for m in matured_logs(tx, collateral)] == [(stale_at, 1)]
    stale_again = floor_day(back + STALENESS_WINDOW)
    assert counted_logs(tx, collateral) == [(first, back, ramp_end, stale_again, 0)]
    assert collateral.schedule_state() == (ramp_end, 2, 1)
    assert_closed(pool, investor)
    pool.check()

    pool.view_at(ramp_end - 1)
    assert_closed(pool, investor)
    assert_entries_refused(pool, investor, newcomer)

    pool.view_at(ramp_end)
    assert collateral.pending() == 1
    assert collateral.schedule_state() == (ramp_end, 2, 1)
    assert_open(pool, investor)
    pool.check()
    pool.next_at(ramp_end)
    c = pool.contribute(newcomer)

    curve = pool.book.positions[first].curve
    fall, rise = curve.slope, curve.rise
    intercept = curve.cost * PRECISION + fall * curve.start + rise * curve.since
    assert c.matured == [(ramp_end, intercept, fall + rise, -1)]
    assert collateral.schedule_state()[1:] == (3, 0)
    assert_open(pool, investor)
    pool.check()


def test_impaired_gpu_closes_entries_until_restored_and_settled(two, investor):
    """IMPAIRED takes the GPU out at once (not written down: its value is gone) and holds
    entries: it may come back, and a buyer at the impaired price would take that. Restored, it is
    marked down to one step of its line and returns on a ramp: written down until the ramp end,
    held below its line after it (a contribution and a deposit refused at ramp_end - 1 and at
    ramp_end). The appraiser settles the mark at ramp_end (maturing the ramp-end node): entries
    open, and a deposit goes in at that second. (Marked back to its line instead:
    tests/unit/gpu_appraisals/test_mark_up.py.)"""
    pool, first, _ = two
    collateral, vault, token = pool.collateral, pool.vault, pool.kit.token
    fund(token, investor, 1_000 * USDC)
    token.approve(vault, 1_000 * USDC, sender=investor)
    newcomer = pool.register()
    pool.next_at(pool.now() + DAY)
    pool.set_status(first, GpuStatus.IMPAIRED)
    assert_closed(pool, investor, down=0, held=1)
    assert_entries_refused(pool, investor, newcomer)
    pool.check()
    pool.next_at(pool.now() + DAY + 77)

    tx, _ = pool.set_status(first, GpuStatus.ACTIVE)

    # Restored in the transaction's own second (a node may mine it a second after the one asked
    # for).
    restored_at = tx.timestamp
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    step = pool.terms(first).step(restored_at)
    assert revalued_logs(tx, collateral) == [(first, step, 0, ramp_end)]
    assert counted_logs(tx, collateral)[0][:3] == (first, restored_at, ramp_end)
    assert_closed(pool, investor, down=1, held=1)
    pool.check()
    pool.view_at(ramp_end - 1)
    assert_entries_refused(pool, investor, newcomer)
    pool.view_at(ramp_end)
    assert_closed(pool, investor, down=0, held=1)
    assert_entries_refused(pool, investor, newcomer)
    pool.check()

    # At the ramp's end to the second: the first second entries may open.
    tx, _ = pool.settle(first, at=ramp_end)

    assert tx.timestamp == ramp_end
    assert [(m[0], m[3]) for m in matured_logs(tx, collateral)] == [(ramp_end, -1)]
    assert_open(pool, investor)
    pool.check()
    tx = pool.send(vault.deposit, (1_000 * USDC, investor), investor, at=ramp_end)
    assert tx.timestamp == ramp_end
    assert pool.flow(tx) == []
    assert logs_of(tx, vault, "Deposit")[0].assets == 1_000 * USDC
    pool.check()


@pytest.mark.parametrize("status", [IMPAIRED, RETIRED], ids=["impaired", "retired"])
def test_taking_a_stale_gpu_out_drops_its_node(two, investor, status):
    """A stale GPU impaired or retired leaves the count at once, even with its stale node due
    and not matured (removal needs no current schedule): that node had no other change, so it
    is dropped (no longer due) and the head moves on to the twin's stale day. Nothing is written
    down any more: retired, entries open; impaired, the GPU holds them (it may be restored)."""
    pool, first, twin = two
    collateral = pool.collateral
    stale_at = collateral.position(first)[3]
    pool.next_at(stale_at - DAY)
    pool.attest(twin)
    twin_stale = collateral.position(twin)[3]
    pool.view_at(stale_at + 3_600)
    assert collateral.pending() == 1
    assert_closed(pool, investor)

    tx, removed = pool.set_status(first, status)

    assert removed == 0
    assert uncounted_logs(tx, collateral) == [(first, status, 0)]
    assert matured_logs(tx, collateral) == []
    assert tuple(collateral.nodes(stale_at)) == (0, 0, 0)
    assert collateral.pending() == 0
    assert collateral.schedule_state() == (twin_stale, 1, 0)
    if status == RETIRED:
        assert_open(pool, investor)
    else:
        assert_closed(pool, investor, down=0, held=1)
    pool.check()


def test_sale_with_cash_goes_on_while_entries_wait(two, investor, operator):
    """Both GPUs stale: a contribution would be refused, but a purchase with cash (the market's,
    at the value the GPU adds) mints nothing and goes through; it matures the stale node (gpus
    +2), and entries still wait."""
    pool, first, _ = two
    collateral = pool.collateral
    stale_at = collateral.position(first)[3]
    # Registered (so attested) the day before: fresh when sold.
    pool.next_at(stale_at - DAY)
    token_id = pool.register(owner=investor)
    at = stale_at + 600
    value, before = pool.predict(token_id, at, entry=False)
    with pytest.raises(EntriesWait):
        pool.predict(token_id, at)
    pool.market.offer_gpu(token_id, value, at + DAY, sender=operator)
    pool.pin(at)
    assert_closed(pool, investor, down=2)
    supply = pool.vault.totalSupply()

    # At the second the price is the GPU's value for (a second later it is worth less).
    s = pool.sell(token_id, investor, value, at=at)

    assert s.before == before == 0 < value <= s.value
    assert [(m[0], m[3]) for m in s.matured] == [(stale_at, 2)]
    [log] = logs_of(s.tx, pool.market, "GpuPurchased")
    assert (log.token_id, log.seller, log.price, log.value) == (
        token_id,
        investor.address,
        value,
        s.value,
    )
    assert pool.vault.totalSupply() == supply
    assert_closed(pool, investor, down=2)
    pool.check()


def test_written_down_change_alone_makes_a_node(pool, investor):
    """A GPU with zero salvage, impaired past its end of life (worth nothing) and restored,
    ramps from 0 to 0: its ramp end and its stale day change no value, only whether it is
    written down, and each is a node all the same (0, 0, -1) and (0, 0, +1). Entries wait for a
    GPU worth nothing until its ramp end. Taking it out had dropped its due end-of-life node;
    a fresh attestation drops its old stale node."""
    collateral = pool.collateral
    token_id = pool.register(salvage_value=0, useful_life=40 * DAY)
    pool.contribute(token_id)
    terms = pool.terms(token_id)
    end = floor_day(terms.acquired_at + 40 * DAY)
    stale_at = floor_day(terms.last_attested_at + STALENESS_WINDOW)
    assert collateral.schedule_state() == (end, 1, 0)
    pool.next_at(end + DAY)
    _, removed = pool.set_status(token_id, GpuStatus.IMPAIRED)
    assert removed == 0
    assert collateral.schedule_state() == (0, 0, 0)
    assert tuple(collateral.nodes(end)) == tuple(collateral.nodes(stale_at)) == (0, 0, 0)

    tx, _ = pool.set_status(token_id, GpuStatus.ACTIVE)

    restored_at = tx.timestamp
    ramp_end = ceil_day(restored_at + UNLOCK_PERIOD)
    assert ramp_end < stale_at
    assert counted_logs(tx, collateral) == [(token_id, restored_at, ramp_end, stale_at, 0)]
    assert tuple(collateral.nodes(ramp_end)) == (0, 0, -1)
    assert tuple(collateral.nodes(stale_at)) == (0, 0, 1)
    assert collateral.schedule_state() == (ramp_end, 1, 1)
    assert_closed(pool, investor)
    pool.check()

    pool.pin(ramp_end)
    assert gate(pool, investor)[:3] == (0, 0, True)
    pool.check()
    _, matured = pool.process(16)
    assert matured == [(ramp_end, 0, 0, -1)]
    assert collateral.schedule_state() == (stale_at, 1, 0)

    tx = pool.attest(token_id)

    new_stale = floor_day(tx.timestamp + STALENESS_WINDOW)
    assert counted_logs(tx, collateral) == [(token_id, restored_at, ramp_end, new_stale, 0)]
    assert tuple(collateral.nodes(stale_at)) == (0, 0, 0)
    assert tuple(collateral.nodes(new_stale)) == (0, 0, 1)
    assert collateral.schedule_state() == (new_stale, 1, 0)
    pool.check()


def test_daily_attestations_leave_no_due_node(pool, investor):
    """Each attestation of a fresh GPU moves its stale day; the old day's node, with no other
    change, is dropped (before, each stayed behind empty and came due: daily attestations alone
    filled the queue). Past three such days, nothing is due."""
    collateral = pool.collateral
    token_id = pool.register()
    pool.contribute(token_id)
    stale_at = collateral.position(token_id)[3]
    a, b = pool.book.positions[token_id].curve.line(stale_at - 1)
    old = stale_at
    for day in range(3):
        pool.next_at(stale_at - 3 * DAY + day * DAY + 3_600)
        tx = pool.attest(token_id)
        new = floor_day(tx.timestamp + STALENESS_WINDOW)
        assert new == stale_at + (27 + day) * DAY
        assert matured_logs(tx, collateral) == []
        assert tuple(collateral.nodes(old)) == (0, 0, 0)
        assert tuple(collateral.nodes(new)) == (-a, -b, 1)
        assert collateral.schedule_state() == (new, 1, 0)
        old = new
    pool.view_at(old - 1)
    assert collateral.pending() == 0
    assert_open(pool, investor)
    pool.check()
