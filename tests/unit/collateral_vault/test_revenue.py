"""Revenue: linear vesting, claim (to self or a receiver), fees, checkpoints on every balance
change, conservation to the wei."""

import ape

from tests.unit.collateral_vault.conftest import INSTALMENT
from tests.utils.vault import (
    ACC_SCALE,
    DAY,
    FEE_BPS,
    PAUSED,
    VESTING_PERIOD,
    check_conservation,
    claimed_in,
    logs_of,
)

NET = INSTALMENT - INSTALMENT * FEE_BPS // 10_000


def expected_claimable(net: int, dt: int, balance: int, supply: int) -> int:
    """The contract's arithmetic for one payment into an idle stream, `dt` seconds later."""
    rate = net * ACC_SCALE // VESTING_PERIOD
    acc_increase = rate * dt // supply
    return (balance * acc_increase * 2**28 // ACC_SCALE) >> 28


def test_linear_vesting(kit, leased, lessee, investor, operator, chain):
    vault, leases = kit.vault, kit.leases
    tx = leases.pay_instalment(leased[0], sender=lessee)
    paid_at = chain.blocks[tx.block_number].timestamp
    supply = vault.totalSupply()
    assert vault.claimable(investor) == 0
    for dt in (1, 3_600, VESTING_PERIOD // 2, VESTING_PERIOD - 1):
        chain.mine(timestamp=paid_at + dt)
        for holder in (investor, operator):
            assert vault.claimable(holder) == expected_claimable(
                NET, dt, vault.balanceOf(holder), supply
            )
    chain.mine(timestamp=paid_at + VESTING_PERIOD + 1_000)
    total = vault.claimable(investor) + vault.claimable(operator)
    assert NET - 3 <= total <= NET
    assert vault.unvested() == 0
    check_conservation(vault, [investor, operator], claimed=0)


def test_claim(kit, leased, lessee, investor, other_investor, chain):
    vault, leases, token = kit.vault, kit.leases, kit.token
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += VESTING_PERIOD // 3
    chain.mine()
    claimable = vault.claimable(investor)
    tx = vault.claim(sender=investor)
    amount = claimed_in(tx, vault)
    assert claimable <= amount <= claimable + claimable // 10**5 + 1  # one more second vested
    [log] = logs_of(tx, vault, "RevenueClaimed")
    assert (log.account, log.receiver, log.amount) == (investor, investor, amount)
    assert token.balanceOf(investor) == amount
    assert vault.held() == NET - amount
    assert vault.claimable(investor) == 0
    chain.pending_timestamp += 10
    tx = vault.claim(other_investor, sender=investor)
    assert token.balanceOf(other_investor) == claimed_in(tx, vault) > 0


def test_claim_reverts(kit, leased, lessee, investor, attacker, pauser, chain):
    vault = kit.vault
    with ape.reverts("revenue: nothing to claim"):
        vault.claim(sender=investor)
    kit.leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += 3_600
    with ape.reverts("revenue: nothing to claim"):
        vault.claim(sender=attacker)
    with ape.reverts("revenue: zero receiver"):
        vault.claim(ape.utils.ZERO_ADDRESS, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.claim(sender=investor)


def test_claim_fees(kit, leased, lessee, admin, attacker, pauser):
    vault, token = kit.vault, kit.token
    with ape.reverts("revenue: no fees to claim"):
        vault.claim_fees(sender=attacker)
    kit.leases.pay_instalment(leased[0], sender=lessee)
    fee = INSTALMENT * FEE_BPS // 10_000
    before = token.balanceOf(admin)
    tx = vault.claim_fees(sender=attacker)
    [log] = logs_of(tx, vault, "FeesClaimed")
    assert (log.recipient, log.amount) == (admin, fee)
    assert token.balanceOf(admin) == before + fee
    assert vault.accrued_fees() == 0
    kit.leases.pay_instalment(leased[0], sender=lessee)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.claim_fees(sender=attacker)


def test_seller_keeps_accrued(kit, leased, lessee, investor, other_investor, chain):
    """A holder who sold keeps what accrued before; the buyer earns only from then on."""
    vault, leases = kit.vault, kit.leases
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += VESTING_PERIOD // 2
    tx = vault.transfer(other_investor, vault.balanceOf(investor), sender=investor)
    at_transfer = vault.claimable(investor)
    assert at_transfer > 0
    assert vault.claimable(other_investor) == 0
    chain.mine(timestamp=chain.blocks[tx.block_number].timestamp + VESTING_PERIOD)
    assert vault.claimable(investor) == at_transfer
    assert vault.claimable(other_investor) > 0


def test_redeemer_keeps_accrued(kit, leased, lessee, investor, chain):
    vault, leases = kit.vault, kit.leases
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += VESTING_PERIOD // 2
    vault.redeem(vault.balanceOf(investor), investor, investor, sender=investor)
    kept = vault.claimable(investor)
    assert kept > 0
    chain.pending_timestamp += VESTING_PERIOD
    chain.mine()
    assert vault.claimable(investor) == kept


def test_stream_restarts_with_unvested_rest(kit, leased, lessee, investor, operator, chain):
    """A second payment mid-window re-spreads the unvested rest plus the new amount."""
    vault, leases = kit.vault, kit.leases
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += VESTING_PERIOD // 2
    tx = leases.pay_instalment(leased[0], sender=lessee)
    now = chain.blocks[tx.block_number].timestamp
    _, _, rate, last, end = vault.revenue_state()
    assert (last, end) == (now, now + VESTING_PERIOD)
    assert (
        rate * VESTING_PERIOD // ACC_SCALE
        <= vault.unvested()
        <= rate * VESTING_PERIOD // ACC_SCALE + 1
    )
    assert NET + NET // 2 - 1 <= vault.unvested() <= NET + NET // 2 + 1
    chain.mine(timestamp=end + 1)
    check_conservation(vault, [investor, operator], claimed=0)


def test_pause_flag_leaves_revenue_untouched(
    kit, leased, lessee, investor, operator, pauser, admin, chain
):
    """The pause flag shares a storage slot with the accumulator and its remainder (one cold read
    for both on the hot paths): pausing, a payment while paused (which writes that slot) and
    unpausing leave the revenue arithmetic exactly as in a twin history without the pause."""
    vault, leases = kit.vault, kit.leases
    leases.pay_instalment(leased[0], sender=lessee)
    start = chain.pending_timestamp

    def history(paused: bool):
        with chain.isolate():
            if paused:
                chain.pending_timestamp = start + 1
                before = vault.revenue_state()
                vault.pause(sender=pauser)
                assert vault.revenue_state() == before
            chain.pending_timestamp = start + DAY
            leases.pay_instalment(leased[0], sender=lessee)
            assert vault.paused() == paused
            acc, rem = vault.revenue_state()[:2]
            assert 0 < rem < vault.totalSupply()
            if paused:
                chain.pending_timestamp = start + DAY + 1
                vault.unpause(sender=admin)
                assert vault.revenue_state()[:2] == (acc, rem)
            chain.mine(timestamp=start + 2 * DAY)
            check_conservation(vault, [investor, operator], claimed=0)
            return vault.revenue_state(), vault.claimable(investor), vault.claimable(operator)

    assert history(paused=True) == history(paused=False)
