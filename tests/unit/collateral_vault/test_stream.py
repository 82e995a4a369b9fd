"""Finding f, "a stranger can delay every holder's revenue": a payment adds revenue and never
delays revenue already vesting. The stream is one line; at a payment its rate never falls, so at
every later time each holder has vested at least what it would have without the payment. Both
branches of history are compared block by block (chain.isolate), and the line's rate and end are
checked to the wei against the Python model of the `revenue` module."""

import copy

import pytest

from tests.unit.collateral_vault.conftest import GRACE, INSTALMENT, PERIOD
from tests.utils.custody import attest
from tests.utils.vault import (
    ACC_SCALE,
    DAY,
    FEE_BPS,
    VESTING_PERIOD,
    RevenueModel,
    check_conservation_all,
    contribute,
    fund,
    logs_of,
)

NET = INSTALMENT - INSTALMENT * FEE_BPS // 10_000
SMALL = 100  # a 100-wei instalment: 10 wei fee, 90 wei net
SMALL_NET = SMALL - SMALL * FEE_BPS // 10_000
# The custodian attests at least this often: within the pool's 30-day staleness window.
ATTEST_EVERY = 20 * DAY


@pytest.fixture
def two_leases(leased_kit, leased, registry, operator, lessee, gpu):
    """The `leased` pool plus a second lease, over a third GPU, of SMALL a month."""
    token_id = gpu()
    contribute(leased_kit.collateral, registry, operator, token_id)
    leased_kit.leases.open_lease(lessee, SMALL, PERIOD, 12, GRACE, [token_id], sender=operator)
    return leased[0], leased_kit.leases.lease_count()


def vested_curve(vault, holders, times, chain) -> list[tuple[int, ...]]:
    """What each holder (and the vault's dead shares) can claim at each of `times`."""
    curve = []
    for at in times:
        chain.mine(timestamp=at)
        curve.append(tuple(vault.claimable(h) for h in (*holders, vault)))
    return curve


@pytest.mark.parametrize(
    ("second", "after"),
    [
        ("early instalment", 29 * DAY),  # the issue's case: next month's instalment, paid early
        ("early instalment", DAY),
        ("tiny instalment", DAY),  # the cheapest way to redraw the line
        ("tiny instalment", 29 * DAY),
        ("donation skimmed", 15 * DAY),
        ("empty skim", 10 * DAY),  # nothing new but what the dead shares earned
    ],
)
def test_a_payment_never_delays_vesting(
    leased_kit, two_leases, lessee, investor, operator, attacker, chain, second, after
):
    vault, leases, token = leased_kit.vault, leased_kit.leases, leased_kit.token
    big, small = two_leases
    holders = (investor, operator)
    model = RevenueModel.read(vault, holders)
    supply = vault.totalSupply()
    first = leases.pay_instalment(big, sender=lessee)
    model.distribute(NET, supply, vault, vault.balanceOf(vault), first.timestamp)
    running_rate, running_end = model.rate, model.end
    at = first.timestamp + after
    amount = {
        "early instalment": NET,
        "tiny instalment": SMALL_NET,
        "donation skimmed": 1,
        "empty skim": 0,
    }[second]
    # Where the new line will end (the model, ahead of the chain): both ends are on the grid.
    new_end = copy.deepcopy(model).distribute(amount, supply, vault, vault.balanceOf(vault), at)[1]
    times = [at + dt for dt in (1, 3_600, DAY, 7 * DAY, 31 * DAY)]
    times += [end + dt for end in (running_end, new_end) for dt in (-1, 0, 1)]
    times = sorted(t for t in set(times) if t > at)
    fund(token, attacker, 1)

    with chain.isolate():
        chain.mine(timestamp=at)
        without = vested_curve(vault, holders, times, chain)

    with chain.isolate():
        chain.pending_timestamp = at
        if second == "early instalment":
            tx = leases.pay_instalment(big, sender=lessee)
        elif second == "tiny instalment":
            tx = leases.pay_instalment(small, sender=lessee)
        else:
            if amount:
                token.transfer(vault, amount, sender=attacker)
                chain.pending_timestamp = at
            tx = vault.skim(sender=attacker)
        assert tx.timestamp == at
        rate, end, _ = model.distribute(amount, supply, vault, vault.balanceOf(vault), at)
        assert end == new_end
        model.assert_matches(vault, holders)
        event = "Skimmed" if "skim" in second else "RevenueDistributed"
        [log] = logs_of(tx, vault, event)
        assert (log.rate, log.vesting_end) == (rate, end)
        # The line's rate never falls; a small payment keeps it and ends when all has vested.
        assert rate >= running_rate
        if rate == running_rate:
            assert end <= at + VESTING_PERIOD
        balances = [vault.balanceOf(h) for h in (*holders, vault)]
        with_payment = vested_curve(vault, holders, times, chain)
        for when, row in zip(times, with_payment, strict=True):
            for holder, balance, got in zip((*holders, vault), balances, row, strict=True):
                assert got == model.claimable(holder, balance, supply, when)
        check_conservation_all(vault, holders, claimed=0)

    # Holders only: the vault's own column is what its dead shares earned, which a payment takes
    # back into the stream (recycled) for the holders.
    for when, row_with, row_without in zip(times, with_payment, without, strict=True):
        for got_with, got_without in zip(row_with[:-1], row_without[:-1], strict=True):
            assert got_with >= got_without, f"vesting delayed at t={when - at}s after the payment"


def test_the_issue_window_end_no_longer_moves(leased_kit, two_leases, lessee, attacker, chain):
    """The issue's case: a stranger paying a small instalment one day into a 30-day line used to
    re-spread the rest over a new 30 days (the end moved by 29 days). Now the running rate is kept
    and the line ends when the rest plus the new wei have vested: about a second later."""
    vault, leases = leased_kit.vault, leased_kit.leases
    fund(leased_kit.token, attacker, SMALL)
    leased_kit.token.approve(vault, SMALL, sender=attacker)
    big, small = two_leases
    model = RevenueModel.read(vault)
    supply = vault.totalSupply()
    first = leases.pay_instalment(big, sender=lessee)
    model.distribute(NET, supply, vault, vault.balanceOf(vault), first.timestamp)
    rate, end = model.rate, model.end
    assert (rate, end) == (NET * ACC_SCALE // VESTING_PERIOD, first.timestamp + VESTING_PERIOD)
    chain.pending_timestamp = first.timestamp + DAY
    parked = model.undistributed
    tx = leases.pay_instalment(small, sender=attacker)
    assert logs_of(tx, leases, "InstalmentPaid")[0].payer == attacker
    new_rate, new_end, recycled = model.distribute(
        SMALL_NET, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    model.assert_matches(vault)
    # The dead shares' day of revenue comes back into the stream too.
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert log.recycled == recycled > 0
    total = rate * (end - tx.timestamp) + (SMALL_NET + recycled) * ACC_SCALE + parked
    assert total // VESTING_PERIOD < rate  # worth less than the running rate: the rate is kept
    assert new_end == tx.timestamp + total // rate
    assert new_rate == total // (total // rate) >= rate
    # 90 wei and a day of the dead shares' revenue at ~3.5 kwei/s: about a second, not 29 days.
    assert new_end - end <= 2
    assert vault.revenue_state()[2:] == (new_rate, tx.timestamp, new_end)


def test_a_larger_payment_raises_the_rate(leased_kit, two_leases, lessee, chain):
    """A payment worth more than the rest re-draws the line over the vesting period with a higher
    rate: everything vests faster than before."""
    vault, leases = leased_kit.vault, leased_kit.leases
    big, _ = two_leases
    model = RevenueModel.read(vault)
    supply = vault.totalSupply()
    first = leases.pay_instalment(big, sender=lessee)
    model.distribute(NET, supply, vault, vault.balanceOf(vault), first.timestamp)
    rate = model.rate
    chain.pending_timestamp = first.timestamp + 10 * DAY
    tx = leases.pay_instalment(big, sender=lessee)
    new_rate, new_end, _ = model.distribute(
        NET, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    model.assert_matches(vault)
    assert new_end == tx.timestamp + VESTING_PERIOD
    assert new_rate > rate


def test_stream_matches_the_model_over_a_year(
    leased_kit, two_leases, attestor, lessee, investor, operator, other_investor, chain
):
    """Twelve instalments of each lease, paid early, on time and late, with holders coming and
    going in between: after every transaction the module's state is the model's, to the wei.
    The custodian attests the pool's GPUs every ATTEST_EVERY, as it must: none goes stale, so
    the deposits along the way are never made to wait (entries wait while a GPU is written down)."""
    vault, leases, token = leased_kit.vault, leased_kit.leases, leased_kit.token
    big, small = two_leases
    holders = (investor, operator, other_investor)
    model = RevenueModel.read(vault, holders)
    fund(token, other_investor, 30_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=other_investor)
    claimed = 0
    gpus = [*leases.lease_gpus(big), *leases.lease_gpus(small)]
    attested = attest(attestor, gpus).timestamp
    start = chain.pending_timestamp
    gaps = [3 * DAY, 40 * DAY, 1, 29 * DAY, 2 * DAY, 60 * DAY, 13, 30 * DAY, 5 * DAY, 45 * DAY]
    at = start
    for step, gap in enumerate(gaps):
        at = max(at + gap, chain.blocks.head.timestamp + 1)
        while attested + ATTEST_EVERY < at:
            chain.pending_timestamp = attested + ATTEST_EVERY
            attested = attest(attestor, gpus).timestamp
        assert leased_kit.collateral.written_down() == 0
        chain.pending_timestamp = at
        supply = vault.totalSupply()
        tx = leases.pay_instalment(big if step % 3 else small, sender=lessee)
        net = NET if step % 3 else SMALL_NET
        running_rate = model.rate if model.end > tx.timestamp else 0
        model.distribute(net, supply, vault, vault.balanceOf(vault), tx.timestamp)
        assert model.rate >= running_rate
        model.assert_matches(vault, holders)
        # A holder moves: buys, sells part, or claims.
        chain.pending_timestamp = tx.timestamp + 7
        if step % 2 == 0:
            supply = vault.totalSupply()
            balance = vault.balanceOf(other_investor)
            tx = vault.deposit(1_000 * 10**6, other_investor, sender=other_investor)
            model.mint(other_investor, balance, supply, tx.timestamp)
        elif step % 4 == 1:
            supply, balance = vault.totalSupply(), vault.balanceOf(other_investor)
            tx = vault.redeem(balance // 2, other_investor, other_investor, sender=other_investor)
            model.burn(other_investor, balance, supply, tx.timestamp)
        else:
            supply, balance = vault.totalSupply(), vault.balanceOf(investor)
            tx = vault.claim(sender=investor)
            amount = model.claim(investor, balance, supply, tx.timestamp)
            assert logs_of(tx, vault, "RevenueClaimed")[0].amount == amount
            claimed += amount
        model.assert_matches(vault, holders)
        check_conservation_all(vault, holders, claimed)
    chain.mine(timestamp=model.end + 1)
    now = chain.blocks.head.timestamp
    supply = vault.totalSupply()
    assert vault.unvested() == model.unvested(supply, now) == 0
    for holder in (*holders, vault):
        assert vault.claimable(holder) == model.claimable(
            holder, vault.balanceOf(holder), supply, now
        )
    check_conservation_all(vault, holders, claimed)
