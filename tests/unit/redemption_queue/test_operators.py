"""ERC-7540 operators: a controller (or owner) approves an operator, which may then request, cancel,
claim and claim back for it; nobody else may, and an ERC-20 allowance of the fractions is not an
operator approval."""

import ape

from tests.utils.queue import (
    NOT_OWNER_OR_OPERATOR,
    OPERATOR_IS_CALLER,
    check_queue_books,
    request,
)
from tests.utils.vault import MIN_REQUEST, RECEIVER_NOT_VERIFIED, logs_of


def test_set_operator(flat_kit, investor, attacker):
    queue = flat_kit.queue
    assert not queue.isOperator(investor, attacker)
    tx = queue.setOperator(attacker, True, sender=investor)
    [log] = queue.OperatorSet.from_receipt(tx)
    assert (log.controller, log.operator, log.approved) == (investor, attacker, True)
    assert queue.isOperator(investor, attacker)
    assert not queue.isOperator(attacker, investor)
    tx = queue.setOperator(attacker, False, sender=investor)
    [log] = queue.OperatorSet.from_receipt(tx)
    assert (log.controller, log.operator, log.approved) == (investor, attacker, False)
    assert not queue.isOperator(investor, attacker)
    with ape.reverts(OPERATOR_IS_CALLER):
        queue.setOperator(investor, True, sender=investor)


def test_operator_acts_for_the_controller(flat_kit, investor, other_investor, attacker, operator):
    """An operator needs no verification to act for a controller and pay the controller itself;
    paying the operator needs both verified."""
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    queue.setOperator(attacker, True, sender=investor)
    balance = vault.balanceOf(investor)
    tx = queue.requestRedeem(MIN_REQUEST, investor, investor, sender=attacker)
    [log] = queue.RedeemRequest.from_receipt(tx)
    assert (log.controller, log.owner, log.sender) == (investor, investor, attacker)
    assert vault.balanceOf(investor) == balance - MIN_REQUEST
    request(queue, investor, 2 * MIN_REQUEST, sender=attacker)
    # Cancel and claim back for it.
    tx = queue.cancelRedeemRequest(2, investor, sender=attacker)
    assert queue.CancelRedeemRequest.from_receipt(tx)[0].sender == attacker
    tx = queue.claimCancelRedeemRequest(2, investor, investor, sender=attacker)
    [log] = queue.CancelRedeemClaim.from_receipt(tx)
    assert (log.receiver, log.sender, log.shares) == (investor, attacker, 2 * MIN_REQUEST)
    assert vault.balanceOf(investor) == balance - MIN_REQUEST
    # Claim for it, to it.
    queue.fulfil(1, sender=operator)
    shares, assets = queue.maxRedeem(investor), queue.maxWithdraw(investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        queue.redeem(shares, attacker, investor, sender=attacker)
    tx = queue.redeem(shares // 2, investor, investor, sender=attacker)
    [log] = logs_of(tx, queue, "Withdraw")
    assert (log.sender, log.receiver, log.owner) == (attacker, investor, investor)
    # A verified operator may take the claim to itself.
    queue.setOperator(other_investor, True, sender=investor)
    rest = queue.maxWithdraw(investor)
    tx = queue.withdraw(rest, other_investor, investor, sender=other_investor)
    [log] = logs_of(tx, queue, "Withdraw")
    assert (log.sender, log.receiver, log.owner, log.assets) == (
        other_investor,
        other_investor,
        investor,
        rest,
    )
    assert token.balanceOf(investor) + token.balanceOf(other_investor) == assets
    assert token.balanceOf(attacker) == 0
    check_queue_books(flat_kit, [investor])


def test_only_the_controller_or_its_operator(
    flat_kit, investor, other_investor, attacker, operator
):
    """Another controller's operator, a revoked operator, and a spender with an ERC-20 allowance
    of the fractions are all refused, in every call that acts for a controller."""
    vault, queue = flat_kit.vault, flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    request(queue, investor, MIN_REQUEST)
    queue.fulfil(1, sender=operator)
    queue.cancelRedeemRequest(2, investor, sender=investor)
    request(queue, investor, MIN_REQUEST)
    queue.setOperator(attacker, True, sender=other_investor)
    vault.approve(attacker, 2**256 - 1, sender=investor)
    queue.setOperator(attacker, True, sender=investor)
    queue.setOperator(attacker, False, sender=investor)
    calls = [
        lambda: queue.requestRedeem(MIN_REQUEST, investor, investor, sender=attacker),
        lambda: queue.cancelRedeemRequest(3, investor, sender=attacker),
        lambda: queue.claimCancelRedeemRequest(2, investor, investor, sender=attacker),
        lambda: queue.redeem(MIN_REQUEST, investor, investor, sender=attacker),
        lambda: queue.withdraw(1, investor, investor, sender=attacker),
    ]
    state = tuple(queue.controller_state(investor))
    for call in calls:
        with ape.reverts(NOT_OWNER_OR_OPERATOR):
            call()
    assert tuple(queue.controller_state(investor)) == state
    check_queue_books(flat_kit, [investor])
