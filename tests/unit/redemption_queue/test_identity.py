"""Exit rights in the queue (the Decision "Exit rights"): a holder whose verification was revoked or
expired still requests its own exit and claims the stablecoin to itself; naming another
controller, paying another receiver, or taking fractions back after a cancel needs verified
parties (fractions go only to verified investors)."""

import ape
import pytest

from tests.utils.queue import CONTROLLER_NOT_VERIFIED, check_queue_books, request
from tests.utils.vault import (
    DAY,
    JURISDICTION,
    MIN_REQUEST,
    OWNER_NOT_VERIFIED,
    RECEIVER_NOT_VERIFIED,
    logs_of,
)


def lose_verification(how, account, identity, compliance, chain) -> None:
    """Revoked by compliance, or expired."""
    if how == "revoked":
        identity.revoke(account, sender=compliance)
    else:
        identity.verify(account, chain.pending_timestamp + 60, JURISDICTION, sender=compliance)
        chain.pending_timestamp += DAY
        chain.mine()
    assert not identity.is_verified(account)


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_an_exiled_holder_requests_and_claims_to_itself(
    flat_kit, investor, operator, identity, compliance, chain, how
):
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    lose_verification(how, investor, identity, compliance, chain)
    balance = vault.balanceOf(investor)
    request(queue, investor, balance // 2)
    request(queue, investor, balance - balance // 2)
    assert vault.balanceOf(investor) == 0
    queue.fulfil(2, sender=operator)
    shares, assets = queue.maxRedeem(investor), queue.maxWithdraw(investor)
    tx = queue.redeem(shares // 3, investor, investor, sender=investor)
    [first] = logs_of(tx, queue, "Withdraw")
    tx = queue.withdraw(queue.maxWithdraw(investor), investor, investor, sender=investor)
    [second] = logs_of(tx, queue, "Withdraw")
    assert first.assets + second.assets == assets == token.balanceOf(investor)
    assert first.shares + second.shares == shares
    check_queue_books(flat_kit, [investor])


def test_naming_another_controller_needs_both_verified(
    flat_kit, investor, other_investor, attacker, identity, compliance, chain
):
    queue = flat_kit.queue
    with ape.reverts(CONTROLLER_NOT_VERIFIED):
        queue.requestRedeem(MIN_REQUEST, attacker, investor, sender=investor)
    lose_verification("revoked", investor, identity, compliance, chain)
    with ape.reverts(OWNER_NOT_VERIFIED):
        queue.requestRedeem(MIN_REQUEST, other_investor, investor, sender=investor)
    assert queue.last_id() == 0
    identity.verify(investor, 2**40, JURISDICTION, sender=compliance)
    request(queue, investor, MIN_REQUEST, controller=other_investor)
    assert queue.pendingRedeemRequest(1, other_investor) == MIN_REQUEST


def test_paying_another_receiver_needs_both_verified(
    flat_kit, investor, other_investor, attacker, operator, identity, compliance, chain
):
    queue, token = flat_kit.queue, flat_kit.token
    request(queue, investor, 5 * MIN_REQUEST)
    queue.fulfil(1, sender=operator)
    shares, assets = queue.maxRedeem(investor), queue.maxWithdraw(investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        queue.redeem(shares, attacker, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        queue.withdraw(assets, attacker, investor, sender=investor)
    lose_verification("revoked", investor, identity, compliance, chain)
    with ape.reverts(CONTROLLER_NOT_VERIFIED):
        queue.redeem(shares, other_investor, investor, sender=investor)
    with ape.reverts(CONTROLLER_NOT_VERIFIED):
        queue.withdraw(assets, other_investor, investor, sender=investor)
    assert queue.controller_state(investor)[2:4] == (shares, assets)
    identity.verify(investor, 2**40, JURISDICTION, sender=compliance)
    tx = queue.redeem(shares, other_investor, investor, sender=investor)
    [log] = logs_of(tx, queue, "Withdraw")
    assert (log.receiver, log.owner, log.assets) == (other_investor, investor, assets)
    assert token.balanceOf(other_investor) == assets


def test_claim_back_to_itself_whatever_its_verification(
    flat_kit, investor, other_investor, attacker, identity, compliance, chain
):
    """Exit rights: cancelled shares come back to the controller itself even once its
    verification lapsed (its own fractions, which it can redeem or queue again); to anyone else
    only with both verified."""
    vault, queue = flat_kit.vault, flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    queue.cancelRedeemRequest(1, investor, sender=investor)
    request(queue, investor, MIN_REQUEST)
    queue.cancelRedeemRequest(2, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        queue.claimCancelRedeemRequest(1, attacker, investor, sender=investor)
    lose_verification("revoked", investor, identity, compliance, chain)
    with ape.reverts(CONTROLLER_NOT_VERIFIED):
        queue.claimCancelRedeemRequest(1, other_investor, investor, sender=investor)
    assert queue.claimableCancelRedeemRequest(1, investor) == 2 * MIN_REQUEST
    balance = vault.balanceOf(investor)
    queue.claimCancelRedeemRequest(2, investor, investor, sender=investor)
    assert vault.balanceOf(investor) == balance + 2 * MIN_REQUEST
    assert queue.claimableCancelRedeemRequest(2, investor) == 0
    # Back in its hands, its exit is open again: it queues them anew.
    request(queue, investor, 2 * MIN_REQUEST)
    assert queue.pendingRedeemRequest(3, investor) == 2 * MIN_REQUEST
    check_queue_books(flat_kit, [investor, other_investor])
