"""Revenue: linear vesting, claim (to self or a receiver), fees, checkpoints on every balance
change, conservation to the wei; every figure against the Python model of the `revenue` module
(tests/utils/vault.py). Payments that never delay vesting: test_stream.py; dead shares and their
revenue: test_dead_shares.py; claim's exit rights: test_exit_rights.py."""

import ape

from tests.unit.collateral_vault.conftest import INSTALMENT
from tests.utils.vault import (
    ACC_SCALE,
    DAY,
    FEE_BPS,
    PAUSED,
    VESTING_PERIOD,
    RevenueModel,
    check_conservation_all,
    claimed_in,
    fund,
    logs_of,
)

NET = INSTALMENT - INSTALMENT * FEE_BPS // 10_000


def pay(kit, lease_id, lessee, model):
    """Pay the next instalment and apply it to `model`; returns the receipt."""
    vault = kit.vault
    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    tx = kit.leases.pay_instalment(lease_id, sender=lessee)
    rate, end, recycled = model.distribute(NET, supply, vault, dead, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.amount, log.fee, log.recycled, log.rate, log.vesting_end) == (
        INSTALMENT,
        INSTALMENT - NET,
        recycled,
        rate,
        end,
    )
    return tx


def test_linear_vesting(leased_kit, leased, lessee, investor, operator, chain):
    vault = leased_kit.vault
    holders = (investor, operator)
    model = RevenueModel.read(vault, holders)
    tx = pay(leased_kit, leased[0], lessee, model)
    model.assert_matches(vault, holders)
    paid_at = tx.timestamp
    assert model.rate == NET * ACC_SCALE // VESTING_PERIOD
    assert model.end == paid_at + VESTING_PERIOD
    supply = vault.totalSupply()
    assert vault.claimable(investor) == 0
    for dt in (1, 3_600, VESTING_PERIOD // 2, VESTING_PERIOD - 1, VESTING_PERIOD + 1_000):
        chain.mine(timestamp=paid_at + dt)
        now = chain.blocks.head.timestamp
        for holder in (*holders, vault):
            expected = model.claimable(holder, vault.balanceOf(holder), supply, now)
            assert vault.claimable(holder) == expected
        assert vault.unvested() == model.unvested(supply, now)
        check_conservation_all(vault, holders, claimed=0)
    # Fully vested: everything but the sub-wei dust is claimable, the dead shares' part included.
    total = sum(vault.claimable(h) for h in (*holders, vault))
    assert vault.unvested() == 0
    assert NET - 3 <= total <= NET
    assert vault.claimable(vault) == model.claimable(vault, 10**12, supply, now) > 0


def test_claim(leased_kit, leased, lessee, investor, other_investor, operator, chain):
    vault, token = leased_kit.vault, leased_kit.token
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(leased_kit, leased[0], lessee, model)
    chain.pending_timestamp += VESTING_PERIOD // 3
    balance, supply = vault.balanceOf(investor), vault.totalSupply()
    tx = vault.claim(sender=investor)
    expected = model.claim(investor, balance, supply, tx.timestamp)
    assert claimed_in(tx, vault) == expected > 0
    [log] = logs_of(tx, vault, "RevenueClaimed")
    assert (log.account, log.receiver, log.amount) == (investor, investor, expected)
    assert token.balanceOf(investor) == expected
    assert vault.held() == NET - expected
    model.assert_matches(vault, holders)
    assert vault.claimable(investor) == 0  # same block: nothing more vested
    chain.pending_timestamp += 10
    tx = vault.claim(other_investor, sender=investor)
    second = model.claim(investor, balance, supply, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueClaimed")
    assert (log.account, log.receiver, log.amount) == (investor, other_investor, second)
    assert token.balanceOf(other_investor) == second > 0
    model.assert_matches(vault, holders)
    check_conservation_all(vault, holders, claimed=expected + second)


def test_claim_reverts(leased_kit, leased, lessee, investor, attacker, pauser, chain):
    vault = leased_kit.vault
    with ape.reverts("revenue: nothing to claim"):
        vault.claim(sender=investor)
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += 3_600
    with ape.reverts("revenue: nothing to claim"):
        vault.claim(sender=attacker)
    with ape.reverts("revenue: zero receiver"):
        vault.claim(ape.utils.ZERO_ADDRESS, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.claim(sender=investor)


def test_claim_fees(leased_kit, leased, lessee, admin, attacker, pauser):
    vault, token = leased_kit.vault, leased_kit.token
    with ape.reverts("revenue: no fees to claim"):
        vault.claim_fees(sender=attacker)
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    fee = INSTALMENT * FEE_BPS // 10_000
    assert vault.accrued_fees() == fee
    before = token.balanceOf(admin)
    tx = vault.claim_fees(sender=attacker)
    [log] = logs_of(tx, vault, "FeesClaimed")
    assert (log.recipient, log.amount) == (admin, fee)
    assert token.balanceOf(admin) == before + fee
    assert vault.accrued_fees() == 0
    with ape.reverts("revenue: no fees to claim"):
        vault.claim_fees(sender=attacker)
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.claim_fees(sender=attacker)
    assert vault.accrued_fees() == fee


def test_fee_change_applies_to_later_instalments(leased_kit, leased, lessee, admin):
    vault = leased_kit.vault
    vault.set_fee_bps(0, sender=admin)
    tx = leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.amount, log.fee) == (INSTALMENT, 0)
    assert (vault.received(), vault.accrued_fees()) == (INSTALMENT, 0)


def test_seller_keeps_accrued(
    leased_kit, leased, lessee, investor, other_investor, operator, chain
):
    """A holder who sold keeps what accrued before; the buyer earns only from then on."""
    vault = leased_kit.vault
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(leased_kit, leased[0], lessee, model)
    chain.pending_timestamp += VESTING_PERIOD // 2
    balance, supply = vault.balanceOf(investor), vault.totalSupply()
    tx = vault.transfer(other_investor, balance, sender=investor)
    model.transfer(investor, other_investor, balance, 0, supply, tx.timestamp)
    at_transfer = vault.claimable(investor)
    assert at_transfer == model.claimable(investor, 0, supply, tx.timestamp) > 0
    assert vault.claimable(other_investor) == 0
    chain.mine(timestamp=tx.timestamp + VESTING_PERIOD)
    now = chain.blocks.head.timestamp
    assert vault.claimable(investor) == at_transfer
    assert vault.claimable(other_investor) == model.claimable(other_investor, balance, supply, now)
    assert vault.claimable(other_investor) > 0
    check_conservation_all(vault, holders, claimed=0)


def test_redeemer_keeps_accrued(leased_kit, leased, lessee, investor, operator, chain):
    vault = leased_kit.vault
    holders = (investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(leased_kit, leased[0], lessee, model)
    chain.pending_timestamp += VESTING_PERIOD // 2
    balance, supply = vault.balanceOf(investor), vault.totalSupply()
    tx = vault.redeem(balance, investor, investor, sender=investor)
    model.burn(investor, balance, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    kept = vault.claimable(investor)
    assert kept == model.claimable(investor, 0, supply - balance, tx.timestamp) > 0
    chain.pending_timestamp += VESTING_PERIOD
    chain.mine()
    assert vault.claimable(investor) == kept
    check_conservation_all(vault, holders, claimed=0)


def test_buyer_earns_from_its_block_only(
    leased_kit, leased, lessee, investor, other_investor, chain
):
    """Buying just before nothing: a mint checkpoints the buyer at the accumulator of its block,
    so what vested before it is not the buyer's (DOMAIN flow 5)."""
    vault, token = leased_kit.vault, leased_kit.token
    holders = (investor, other_investor)
    model = RevenueModel.read(vault, holders)
    pay(leased_kit, leased[0], lessee, model)
    chain.pending_timestamp += VESTING_PERIOD // 2
    supply = vault.totalSupply()
    fund(token, other_investor, 40_000 * 10**6)
    token.approve(vault, 40_000 * 10**6, sender=other_investor)
    tx = vault.deposit(40_000 * 10**6, other_investor, sender=other_investor)
    model.mint(other_investor, 0, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    assert vault.claimable(other_investor) == 0
    chain.mine(timestamp=tx.timestamp + DAY)
    bought = vault.balanceOf(other_investor)
    expected = model.claimable(other_investor, bought, supply + bought, tx.timestamp + DAY)
    assert vault.claimable(other_investor) == expected
    # One day of a 30-day line, pro rata: below 1/30 of the instalment.
    assert 0 < expected < NET // 30


def test_pause_flag_leaves_revenue_untouched(
    leased_kit, leased, lessee, investor, operator, pauser, admin, chain
):
    """The pause flag shares a storage slot with the accumulator and its remainder (one cold read
    for both on the hot paths): pausing, a payment while paused (which writes that slot) and
    unpausing leave the revenue arithmetic exactly as in a twin history without the pause."""
    vault, leases = leased_kit.vault, leased_kit.leases
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
            check_conservation_all(vault, [investor, operator], claimed=0)
            return vault.revenue_state(), vault.claimable(investor), vault.claimable(operator)

    assert history(paused=True) == history(paused=False)
