"""transfer and transferFrom: identity on both sides, pause, revenue checkpoints, events."""

import ape

from tests.utils.vault import (
    DAY,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    RevenueModel,
    buy,
    check_conservation_all,
    key_of,
    logs_of,
)


def test_transfer(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    tx = vault.transfer(other_investor, 4 * 10**11, sender=investor)
    assert vault.balanceOf(investor) == 6 * 10**11
    assert vault.balanceOf(other_investor) == 4 * 10**11
    [log] = logs_of(tx, vault, "Transfer")
    assert (log.sender, log.receiver, log.value) == (investor, other_investor, 4 * 10**11)


def test_transfer_reverts(kit, investor, other_investor, attacker, pauser, compliance, identity):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.transfer(attacker, 1, sender=investor)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        vault.transfer(other_investor, 10**12 + 1, sender=investor)
    with ape.reverts(SENDER_NOT_VERIFIED):
        vault.transfer(investor, 0, sender=attacker)
    identity.revoke(investor, sender=compliance)
    with ape.reverts(SENDER_NOT_VERIFIED):
        vault.transfer(other_investor, 1, sender=investor)
    identity.verify(investor, 2**40, 276, sender=compliance)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.transfer(other_investor, 1, sender=investor)


def test_transfer_from(kit, investor, other_investor, operator):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    vault.approve(operator, 10**12, sender=investor)
    tx = vault.transferFrom(investor, other_investor, 3 * 10**11, sender=operator)
    assert vault.allowance(investor, operator) == 7 * 10**11
    assert vault.balanceOf(other_investor) == 3 * 10**11
    assert len(logs_of(tx, vault, "Transfer")) == 1
    assert len(logs_of(tx, vault, "Approval")) == 1


def test_transfer_from_reverts(
    kit, investor, other_investor, attacker, pauser, compliance, identity
):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    with ape.reverts("erc20: insufficient allowance"):
        vault.transferFrom(investor, other_investor, 1, sender=attacker)
    vault.approve(attacker, 10**12, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.transferFrom(investor, attacker, 1, sender=attacker)
    identity.revoke(investor, sender=compliance)
    with ape.reverts(SENDER_NOT_VERIFIED):
        vault.transferFrom(investor, other_investor, 1, sender=attacker)
    identity.verify(investor, 2**40, 276, sender=compliance)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.transferFrom(investor, other_investor, 1, sender=attacker)


def test_expired_identity_blocks(kit, investor, other_investor, compliance, identity, chain):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    identity.verify(other_investor, chain.pending_timestamp + 100, 276, sender=compliance)
    chain.pending_timestamp += 101
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.transfer(other_investor, 1, sender=investor)


def test_transfer_to_self_and_zero(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    tx = vault.transfer(investor, 10**12, sender=investor)
    [log] = logs_of(tx, vault, "Transfer")
    assert (log.sender, log.receiver, log.value) == (investor, investor, 10**12)
    assert vault.balanceOf(investor) == 10**12
    vault.transfer(other_investor, 0, sender=investor)
    assert vault.balanceOf(other_investor) == 0
    assert vault.totalSupply() == 2 * 10**12


def test_transfer_checkpoints_both_sides(
    leased_kit, leased, lessee, investor, other_investor, operator, chain
):
    """A transfer credits both sides with what accrued so far (at the accumulator computed in
    memory, no global write): the seller keeps it, the buyer earns from the transfer on. Exact
    against the revenue model."""
    vault, leases = leased_kit.vault, leased_kit.leases
    leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += 5 * DAY
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    amount = vault.balanceOf(investor) // 3
    balances = {key_of(h): vault.balanceOf(h) for h in holders}
    supply = vault.totalSupply()
    tx = vault.transfer(other_investor, amount, sender=investor)
    model.transfer(
        investor,
        other_investor,
        balances[key_of(investor)],
        balances[key_of(other_investor)],
        supply,
        tx.timestamp,
    )
    model.assert_matches(vault, holders)
    assert model.accounts[key_of(other_investor)][1] == 0
    assert vault.claimable(investor) > 0
    chain.mine(timestamp=tx.timestamp + DAY)
    now = chain.blocks.head.timestamp
    balances[key_of(investor)] -= amount
    balances[key_of(other_investor)] += amount
    for holder in (*holders, vault):
        balance = vault.balanceOf(holder)
        assert vault.claimable(holder) == model.claimable(holder, balance, supply, now)
    check_conservation_all(vault, holders, claimed=0)
