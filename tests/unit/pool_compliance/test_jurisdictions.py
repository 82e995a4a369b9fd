"""Jurisdiction rules and the maximum balance (issue 9.3): the admin (the timelock) sets what the
pool admits; every path that makes someone a holder checks it: a mint, a transfer, a forced
transfer, a recovery, a cancelled request claimed back to another address."""

import ape

from tests.unit.pool_compliance.conftest import REASON
from tests.utils.vault import JURISDICTION, MIN_REQUEST, MISSING_ROLE, buy, fund, logs_of

US = 840
NOT_ADMITTED = "compliance: jurisdiction not admitted"
ABOVE_MAX = "compliance: balance above maximum"


def _rehome(identity, account, code, compliance, chain):
    identity.verify(account, chain.pending_timestamp + 365 * 86_400, code, sender=compliance)


def test_allow_list(pool, investor, other_investor, identity, compliance, admin, chain):
    vault, desk, token = pool.vault, pool.compliance, pool.token
    tx = desk.set_jurisdiction_mode(1, sender=admin)
    [mode] = logs_of(tx, desk, "JurisdictionModeUpdated")
    assert (mode.previous, mode.current) == (0, 1)
    # An allow list with nothing on it admits nobody new.
    with ape.reverts(NOT_ADMITTED):
        vault.transfer(other_investor, 1, sender=investor)
    tx = desk.set_jurisdictions([JURISDICTION], True, sender=admin)
    [listed] = logs_of(tx, identity, "JurisdictionsListed")
    assert (listed.pool, list(listed.codes), listed.listed) == (vault, [JURISDICTION], True)
    assert identity.is_listed(vault, JURISDICTION) and not identity.is_listed(vault, US)
    vault.transfer(other_investor, 1, sender=investor)
    _rehome(identity, other_investor, US, compliance, chain)
    assert not desk.canReceive(other_investor) and vault.maxDeposit(other_investor) == 0
    with ape.reverts(NOT_ADMITTED):
        vault.transfer(other_investor, 1, sender=investor)
    fund(token, other_investor, 10**6)
    token.approve(vault, 10**6, sender=other_investor)
    with ape.reverts(NOT_ADMITTED):
        vault.deposit(10**6, other_investor, sender=other_investor)
    with ape.reverts(NOT_ADMITTED):
        desk.force_transfer(investor, other_investor, 1, REASON, sender=compliance)
    # Exit rights are not a jurisdiction question: the holder still sells to itself.
    vault.redeem(10**12, other_investor, other_investor, sender=other_investor)


def test_block_list(pool, investor, other_investor, identity, compliance, admin, chain):
    vault, desk = pool.vault, pool.compliance
    desk.set_jurisdiction_mode(2, sender=admin)
    desk.set_jurisdictions([US], True, sender=admin)
    vault.transfer(other_investor, 1, sender=investor)
    _rehome(identity, other_investor, US, compliance, chain)
    with ape.reverts(NOT_ADMITTED):
        vault.transfer(other_investor, 1, sender=investor)
    desk.set_jurisdictions([US], False, sender=admin)
    vault.transfer(other_investor, 1, sender=investor)


def test_cancel_claimed_to_another_holder_is_admitted(
    pool, investor, other_investor, identity, compliance, admin, chain
):
    queue = pool.queue
    queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    request_id = queue.last_id()
    queue.cancelRedeemRequest(request_id, investor, sender=investor)
    pool.compliance.set_jurisdiction_mode(2, sender=admin)
    pool.compliance.set_jurisdictions([US], True, sender=admin)
    _rehome(identity, other_investor, US, compliance, chain)
    with ape.reverts(NOT_ADMITTED):
        queue.claimCancelRedeemRequest(request_id, other_investor, investor, sender=investor)
    # Its own fractions back to the controller itself are not an admission.
    queue.claimCancelRedeemRequest(request_id, investor, investor, sender=investor)


def test_maximum_balance(pool, investor, other_investor, admin):
    vault, desk, token = pool.vault, pool.compliance, pool.token
    held = vault.balanceOf(other_investor)
    room = 10**12
    tx = desk.set_max_balance(held + room, sender=admin)
    [log] = logs_of(tx, desk, "MaxBalanceUpdated")
    assert (log.previous, log.current) == (0, held + room)
    assert vault.rules() == (0, held + room)
    assert vault.maxMint(other_investor) == room
    with ape.reverts(ABOVE_MAX):
        vault.transfer(other_investor, room + 1, sender=investor)
    vault.transfer(other_investor, room, sender=investor)
    assert vault.maxMint(other_investor) == vault.maxDeposit(other_investor) == 0
    fund(token, other_investor, 10**6)
    token.approve(vault, 10**6, sender=other_investor)
    with ape.reverts(ABOVE_MAX):
        vault.deposit(10**6, other_investor, sender=other_investor)
    # A holder above a lowered maximum keeps its fractions and may still sell them.
    desk.set_max_balance(1, sender=admin)
    vault.redeem(room, other_investor, other_investor, sender=other_investor)
    assert vault.maxDeposit(investor) == 0


def test_maximum_balance_bounds_max_deposit(pool, other_investor, admin):
    vault, token = pool.vault, pool.token
    held = vault.balanceOf(other_investor)
    pool.compliance.set_max_balance(held + 10**12, sender=admin)
    assets = vault.maxDeposit(other_investor)
    assert assets > 0 and vault.previewDeposit(assets) <= 10**12
    buy(vault, token, other_investor, assets)
    assert vault.balanceOf(other_investor) <= held + 10**12


def test_rules_are_the_admins(pool, investor, compliance, identity, attacker):
    desk = pool.compliance
    for who in (compliance, investor, attacker):
        with ape.reverts(MISSING_ROLE):
            desk.set_jurisdiction_mode(1, sender=who)
        with ape.reverts(MISSING_ROLE):
            desk.set_jurisdictions([US], True, sender=who)
        with ape.reverts(MISSING_ROLE):
            desk.set_max_balance(1, sender=who)
        with ape.reverts("identity: caller is not the pool's enforcer"):
            identity.set_jurisdictions(pool.vault, [US], True, sender=who)


def test_rules_bounds(pool, admin):
    desk = pool.compliance
    with ape.reverts("compliance: unknown jurisdiction mode"):
        desk.set_jurisdiction_mode(3, sender=admin)
    with ape.reverts("compliance: not an ISO 3166-1 numeric code"):
        desk.set_jurisdictions([1000], True, sender=admin)
    with ape.reverts("identity: zero jurisdiction"):
        desk.set_jurisdictions([0], True, sender=admin)
    with ape.reverts("identity: empty batch"):
        desk.set_jurisdictions([], True, sender=admin)
    with ape.reverts("compliance: maximum balance too large"):
        desk.set_max_balance(2**127, sender=admin)


def test_a_named_controller_must_be_admitted(
    pool, investor, other_investor, identity, compliance, admin, chain
):
    """A controller named by another holder may claim the fractions back after a cancel: it is
    checked as their receiver when named (its jurisdiction, the maximum balance)."""
    queue = pool.queue
    pool.compliance.set_jurisdiction_mode(2, sender=admin)
    pool.compliance.set_jurisdictions([US], True, sender=admin)
    _rehome(identity, other_investor, US, compliance, chain)
    with ape.reverts(NOT_ADMITTED):
        queue.requestRedeem(MIN_REQUEST, other_investor, investor, sender=investor)
    pool.compliance.set_jurisdiction_mode(0, sender=admin)
    pool.compliance.set_max_balance(
        pool.vault.balanceOf(other_investor) + MIN_REQUEST - 1, sender=admin
    )
    with ape.reverts(ABOVE_MAX):
        queue.requestRedeem(MIN_REQUEST, other_investor, investor, sender=investor)
