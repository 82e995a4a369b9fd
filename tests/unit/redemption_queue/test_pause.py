"""The vault's pause stops requestRedeem, fulfil, redeem, withdraw and claimCancelRedeemRequest (no
fraction moves, no cash leaves) and zeroes maxRedeem/maxWithdraw; it leaves cancelRedeemRequest
(nothing moves until the claim), setOperator, sweep, the minimum and role management."""

import ape
import pytest

from tests.utils.queue import check_queue_books, request
from tests.utils.vault import FULFILLER_ROLE, MIN_REQUEST, PAUSED, fund


@pytest.fixture
def queued(flat_kit, investor, other_investor, operator):
    """The investor has a request fulfilled (claimable), one cancelled (to claim back) and one
    pending; the other investor has a pending request."""
    queue = flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    queue.fulfil(1, sender=operator)
    request(queue, investor, 2 * MIN_REQUEST)
    queue.cancelRedeemRequest(2, investor, sender=investor)
    request(queue, investor, 3 * MIN_REQUEST)
    request(queue, other_investor, MIN_REQUEST)


def snapshot(kit, *accounts) -> tuple:
    vault, queue, token = kit.vault, kit.queue, kit.token
    return (
        vault.totalSupply(),
        vault.free_cash(),
        queue.reserved(),
        queue.pending_shares(),
        queue.cancelled_shares(),
        queue.last_id(),
        *[(vault.balanceOf(a), token.balanceOf(a), *queue.controller_state(a)) for a in accounts],
    )


def test_pause_stops_what_moves(
    flat_kit, queued, pauser, admin, investor, other_investor, operator
):
    vault, queue = flat_kit.vault, flat_kit.queue
    shares, assets = queue.maxRedeem(investor), queue.maxWithdraw(investor)
    assert shares > 0 and assets > 0
    vault.pause(sender=pauser)
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (0, 0)
    # The claimable is still there, only not claimable now.
    assert queue.claimableRedeemRequest(0, investor) == shares
    before = snapshot(flat_kit, investor)
    for call in (
        lambda: queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor),
        lambda: queue.fulfil(1, sender=operator),
        lambda: queue.redeem(shares, investor, investor, sender=investor),
        lambda: queue.withdraw(assets, investor, investor, sender=investor),
        lambda: queue.claimCancelRedeemRequest(2, investor, investor, sender=investor),
    ):
        with ape.reverts(PAUSED):
            call()
    assert snapshot(flat_kit, investor) == before
    # Unpaused, each goes through.
    vault.unpause(sender=admin)
    request(queue, investor, MIN_REQUEST)
    queue.fulfil(1, sender=operator)
    queue.redeem(shares // 2, investor, investor, sender=investor)
    queue.withdraw(queue.maxWithdraw(investor), investor, investor, sender=investor)
    queue.claimCancelRedeemRequest(2, investor, investor, sender=investor)
    assert tuple(queue.controller_state(investor))[2:] == (0, 0, 0)
    check_queue_books(flat_kit, [investor, other_investor])


def test_pause_leaves_what_moves_nothing(
    flat_kit, queued, pauser, admin, investor, other_investor, attacker
):
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    vault.pause(sender=pauser)
    tx = queue.cancelRedeemRequest(3, investor, sender=investor)
    assert queue.CancelRedeemRequest.from_receipt(tx)[0].requestId == 3
    assert queue.claimableCancelRedeemRequest(0, investor) == 5 * MIN_REQUEST
    queue.setOperator(attacker, True, sender=investor)
    assert queue.isOperator(investor, attacker)
    fund(token, attacker, 1_000)
    token.transfer(queue, 1_000, sender=attacker)
    assert queue.Swept.from_receipt(queue.sweep(sender=attacker))[0].amount == 1_000
    queue.set_min_request(MIN_REQUEST + 1, sender=admin)
    queue.grantRole(FULFILLER_ROLE, other_investor, sender=admin)
    assert queue.hasRole(FULFILLER_ROLE, other_investor)
    assert vault.paused()
    check_queue_books(flat_kit, [investor, other_investor])
