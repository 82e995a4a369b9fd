"""PoolCompliance freezes (issue 9.1, invariant 12): a full freeze stops every path of the holder;
a partial freeze stops the frozen fractions on every path and lets the rest move; ERC-7943's views
and events; who may freeze."""

import ape
import pytest

from tests.unit.pool_compliance.conftest import REASON
from tests.utils.vault import (
    DEFAULT_ADMIN_ROLE,
    MISSING_ROLE,
    logs_of,
)

FROZEN = "compliance: account frozen"
PART_FROZEN = "compliance: fractions frozen"
RECEIVER_FROZEN = "compliance: receiver frozen"


def test_full_freeze_events_and_views(pool, investor, compliance):
    vault, desk = pool.vault, pool.compliance
    tx = desk.freeze(investor, REASON, sender=compliance)
    [log] = logs_of(tx, desk, "FreezeUpdated")
    assert (log.account, log.frozen, log.full, log.reason, log.sender) == (
        investor,
        0,
        True,
        REASON,
        compliance,
    )
    [frozen] = logs_of(tx, vault, "Frozen")
    assert (frozen.account, frozen.amount) == (investor, 0)
    assert vault.is_frozen(investor) and not desk.canSend(investor)
    assert not desk.canReceive(investor)
    assert vault.maxRedeem(investor) == vault.maxWithdraw(investor) == 0
    assert vault.maxDeposit(investor) == vault.maxMint(investor) == 0
    tx = desk.unfreeze(investor, REASON, sender=compliance)
    assert not vault.is_frozen(investor) and desk.canSend(investor)


def test_fully_frozen_holder_can_do_nothing(pool, investor, other_investor, compliance, lessee):
    vault, token, queue = pool.vault, pool.token, pool.queue
    balance = vault.balanceOf(investor)
    assert vault.claimable(investor) > 0
    pool.compliance.freeze(investor, REASON, sender=compliance)
    with ape.reverts(FROZEN):
        vault.transfer(other_investor, 1, sender=investor)
    vault.approve(other_investor, 1, sender=investor)
    with ape.reverts(FROZEN):
        vault.transferFrom(investor, other_investor, 1, sender=other_investor)
    with ape.reverts(FROZEN):
        vault.redeem(10**12, investor, investor, sender=investor)
    with ape.reverts(FROZEN):
        vault.withdraw(10**6, investor, investor, sender=investor)
    with ape.reverts(FROZEN):
        vault.sell(10**12, investor, 0, 2**64, sender=investor)
    with ape.reverts(FROZEN):
        vault.claim(sender=investor)
    with ape.reverts(FROZEN):
        queue.requestRedeem(balance, investor, investor, sender=investor)
    # Nothing reaches it either: a transfer, a mint, a claim paid to it.
    with ape.reverts(RECEIVER_FROZEN):
        vault.transfer(investor, 1, sender=other_investor)
    token.approve(vault, 10**6, sender=other_investor)
    with ape.reverts(RECEIVER_FROZEN):
        vault.deposit(10**6, investor, sender=other_investor)
    with ape.reverts(RECEIVER_FROZEN):
        vault.claim(investor, sender=other_investor)
    assert not vault.canTransfer(investor, other_investor, 1)
    assert not vault.canTransfer(other_investor, investor, 1)
    assert vault.balanceOf(investor) == balance


def test_partial_freeze_moves_only_the_rest(pool, investor, other_investor, compliance):
    vault = pool.vault
    balance = vault.balanceOf(investor)
    frozen = balance // 3
    tx = pool.compliance.set_frozen_tokens(investor, frozen, REASON, sender=compliance)
    [log] = logs_of(tx, vault, "Frozen")
    assert (log.account, log.amount) == (investor, frozen)
    assert vault.getFrozenTokens(investor) == pool.compliance.getFrozenTokens(investor) == frozen
    free = balance - frozen
    assert vault.maxRedeem(investor) == min(free, vault.maxRedeem(investor))
    assert vault.canTransfer(investor, other_investor, free)
    assert not vault.canTransfer(investor, other_investor, free + 1)
    with ape.reverts(PART_FROZEN):
        vault.transfer(other_investor, free + 1, sender=investor)
    with ape.reverts(PART_FROZEN):
        vault.redeem(free + 1, investor, investor, sender=investor)
    with ape.reverts(PART_FROZEN):
        pool.queue.requestRedeem(free + 1, investor, investor, sender=investor)
    # The unfrozen rest moves; revenue is still claimed (it is not fractions).
    vault.transfer(other_investor, free, sender=investor)
    assert vault.balanceOf(investor) == frozen == vault.getFrozenTokens(investor)
    [claimed] = logs_of(vault.claim(sender=investor), vault, "RevenueClaimed")
    assert claimed.account == investor and claimed.amount > 0
    # A partly frozen holder still receives.
    vault.transfer(investor, 5, sender=other_investor)
    assert vault.balanceOf(investor) == frozen + 5


def test_freeze_bounds(pool, investor, compliance):
    vault, desk = pool.vault, pool.compliance
    with ape.reverts("compliance: frozen above balance"):
        desk.set_frozen_tokens(investor, vault.balanceOf(investor) + 1, REASON, sender=compliance)
    with ape.reverts("compliance: the vault itself"):
        desk.freeze(vault, REASON, sender=compliance)
    with ape.reverts("compliance: not frozen"):
        desk.unfreeze(investor, REASON, sender=compliance)
    # ERC-7943's call returns true (its result, like every call's, is what eth_call answers).
    assert desk.setFrozenTokens.call(investor, 7, sender=compliance)
    desk.setFrozenTokens(investor, 7, sender=compliance)
    assert vault.getFrozenTokens(investor) == 7


def test_freeze_works_while_paused(pool, investor, compliance, pauser):
    pool.vault.pause(sender=pauser)
    pool.compliance.freeze(investor, REASON, sender=compliance)
    assert pool.vault.is_frozen(investor)


@pytest.mark.parametrize(
    "call",
    [
        lambda desk, who, acct: desk.freeze(acct, REASON, sender=who),
        lambda desk, who, acct: desk.set_frozen_tokens(acct, 1, REASON, sender=who),
        lambda desk, who, acct: desk.setFrozenTokens(acct, 1, sender=who),
        lambda desk, who, acct: desk.force_transfer(acct, who, 1, REASON, sender=who),
        lambda desk, who, acct: desk.forcedTransfer(acct, who, 1, sender=who),
        lambda desk, who, acct: desk.recover(acct, who, [], REASON, sender=who),
    ],
)
def test_only_compliance_enforces(pool, investor, admin, attacker, call):
    for who in (admin, attacker, investor):
        with ape.reverts(MISSING_ROLE):
            call(pool.compliance, who, investor)


def test_only_the_enforcer_writes_the_vault(pool, investor, compliance, admin):
    vault = pool.vault
    for who in (compliance, admin, investor):
        with ape.reverts(MISSING_ROLE):
            vault.enforce_freeze(investor, 0, True, sender=who)
        with ape.reverts(MISSING_ROLE):
            vault.enforce_move(investor, admin, 1, False, sender=who)
        with ape.reverts(MISSING_ROLE):
            vault.enforce_rules(1, 0, sender=who)
    assert pool.compliance.hasRole(DEFAULT_ADMIN_ROLE, admin)


def test_erc165(pool):
    desk = pool.compliance
    assert desk.supportsInterface("0x01ffc9a7") and desk.supportsInterface("0x3edbb4c4")
    assert not desk.supportsInterface("0xffffffff")
