"""transfer and transferFrom: identity on both sides, pause, revenue checkpoints, events."""

import ape

from tests.utils.vault import (
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    buy,
    logs_of,
)


def test_transfer(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
    tx = vault.transfer(other_investor, 4 * 10**11, sender=investor)
    assert vault.balanceOf(investor) == 6 * 10**11
    assert vault.balanceOf(other_investor) == 4 * 10**11
    [log] = logs_of(tx, vault, "Transfer")
    assert (log.sender, log.receiver, log.value) == (investor, other_investor, 4 * 10**11)


def test_transfer_reverts(kit, investor, other_investor, attacker, pauser, compliance, identity):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
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
    buy(vault, token, investor, 10**6)
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
    buy(vault, token, investor, 10**6)
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
    buy(vault, token, investor, 10**6)
    identity.verify(other_investor, chain.pending_timestamp + 100, 276, sender=compliance)
    chain.pending_timestamp += 101
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.transfer(other_investor, 1, sender=investor)
