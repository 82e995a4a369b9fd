"""ERC-7887 cancellation: a pending request (or what is still pending of one) is cancelled at once
(its shares become claimable back; a cancel is never pending), the list unlinks it wherever it
is, and the controller takes the shares back with claimCancelRedeemRequest (identities:
test_identity.py; pause: test_pause.py)."""

import ape
import pytest

from tests.utils.queue import (
    MAX_FULFIL_BATCH,
    NO_PENDING,
    NOT_OWNER_OR_OPERATOR,
    NOTHING_CANCELLED,
    QueueModel,
    check_queue_books,
    nav,
    request,
)
from tests.utils.vault import MIN_REQUEST, logs_of


@pytest.fixture
def four(flat_kit, investor, other_investor):
    """Four pending requests, 1 and 3 the investor's, 2 and 4 the other investor's. Returns the
    model."""
    model = QueueModel()
    for i, owner in enumerate([investor, other_investor, investor, other_investor]):
        shares = (i + 1) * MIN_REQUEST + i
        model.request(owner, shares)
        request(flat_kit.queue, owner, shares)
    return model


@pytest.mark.parametrize("which", [1, 2, 4], ids=["head", "middle", "tail"])
def test_cancel(flat_kit, four, investor, other_investor, operator, which):
    vault, queue = flat_kit.vault, flat_kit.queue
    controller = investor if which % 2 else other_investor
    shares = four.pending[which][1]
    balance = vault.balanceOf(controller)
    tx = queue.cancelRedeemRequest(which, controller, sender=controller)
    [log] = queue.CancelRedeemRequest.from_receipt(tx)
    assert (log.controller, log.requestId, log.sender) == (controller, which, controller)
    # Nothing moves until the claim: the shares stay in escrow, no longer pending.
    assert logs_of(tx, vault, "Transfer") == []
    assert vault.balanceOf(controller) == balance
    assert queue.pendingRedeemRequest(which, controller) == 0
    assert queue.pendingCancelRedeemRequest(which, controller) is False
    assert queue.claimableCancelRedeemRequest(which, controller) == shares
    assert tuple(queue.request(which)) == (ape.utils.ZERO_ADDRESS, 0, 0, 0)
    four.cancel(which)
    four.assert_matches(queue, [investor, other_investor])
    check_queue_books(flat_kit, [investor, other_investor])
    # Claimed back: the shares leave the escrow to the controller.
    tx = queue.claimCancelRedeemRequest(which, controller, controller, sender=controller)
    [log] = queue.CancelRedeemClaim.from_receipt(tx)
    assert (log.controller, log.receiver, log.requestId, log.sender, log.shares) == (
        controller,
        controller,
        which,
        controller,
        shares,
    )
    [moved] = logs_of(tx, vault, "Transfer")
    assert (moved.sender, moved.receiver, moved.value) == (vault, controller, shares)
    assert vault.balanceOf(controller) == balance + shares
    assert queue.claimableCancelRedeemRequest(0, controller) == 0
    four.claim_back(controller)
    four.assert_matches(queue, [investor, other_investor])
    check_queue_books(flat_kit, [investor, other_investor])
    # The rest are fulfilled in order: the list kept no hole.
    expected = four.fulfil(MAX_FULFIL_BATCH, *nav(flat_kit))
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert [log.requestId for log in logs] == [i for i in (1, 2, 3, 4) if i != which]
    assert all(e.matches(log) for e, log in zip(expected, logs, strict=True))
    check_queue_books(flat_kit, [investor, other_investor])


def test_cancels_add_up_and_a_new_request_is_not_blocked(flat_kit, four, investor, other_investor):
    """Two cancels of one controller add up (one claim takes them all); the controller requests
    again at once (a cancel is never pending); the last cancel empties the list."""
    queue = flat_kit.queue
    queue.cancelRedeemRequest(3, investor, sender=investor)
    queue.cancelRedeemRequest(1, investor, sender=investor)
    four.cancel(3)
    four.cancel(1)
    assert four.cancelled[investor.address] == MIN_REQUEST + 3 * MIN_REQUEST + 2
    assert queue.claimableCancelRedeemRequest(0, investor) == four.cancelled[investor.address]
    assert four.request(investor, MIN_REQUEST) == request(queue, investor, MIN_REQUEST) == 5
    for which in (2, 4, 5):
        controller = investor if which == 5 else other_investor
        queue.cancelRedeemRequest(which, controller, sender=controller)
        four.cancel(which)
    assert (queue.head(), queue.tail(), queue.open_requests()) == (0, 0, 0)
    four.assert_matches(queue, [investor, other_investor])
    check_queue_books(flat_kit, [investor, other_investor])
    assert four.request(other_investor, MIN_REQUEST) == request(queue, other_investor, MIN_REQUEST)
    assert (queue.head(), queue.tail()) == (6, 6)


def test_cancel_around_a_head_moved_by_fulfilment(
    flat_kit, four, investor, other_investor, operator
):
    """Fulfilment moves the head without rewriting the next entry's link back: cancelling that new
    head, then the tail, then the last entry, leaves a consistent list each time."""
    queue = flat_kit.queue
    controllers = [investor, other_investor]
    four.fulfil(1, *nav(flat_kit))
    queue.fulfil(1, sender=operator)
    for which, head_tail in [(2, (3, 4)), (4, (3, 3)), (3, (0, 0))]:
        controller = investor if which % 2 else other_investor
        queue.cancelRedeemRequest(which, controller, sender=controller)
        four.cancel(which)
        assert (queue.head(), queue.tail()) == head_tail
        four.assert_matches(queue, controllers)
        check_queue_books(flat_kit, controllers)
    assert four.request(investor, MIN_REQUEST) == request(queue, investor, MIN_REQUEST) == 5
    assert (queue.head(), queue.tail()) == (5, 5)
    check_queue_books(flat_kit, controllers)


def test_cancel_what_is_left_of_a_partly_fulfilled_request(flat_kit, investor, operator):
    """The fulfilled part stays claimable as assets; the rest is claimable back as shares."""
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    request(queue, investor, vault.balanceOf(investor))
    shares = vault.balanceOf(operator)
    request(queue, operator, shares)
    model = QueueModel.read(queue)
    full, part = model.fulfil(2, *nav(flat_kit))
    queue.fulfil(2, sender=operator)
    assert (full.remaining, part.shares + part.remaining) == (0, shares)
    assert part.remaining > 0
    queue.cancelRedeemRequest(2, operator, sender=operator)
    assert tuple(queue.controller_state(operator)) == (
        0,
        0,
        part.shares,
        part.assets,
        part.remaining,
    )
    queue.claimCancelRedeemRequest(2, operator, operator, sender=operator)
    assert vault.balanceOf(operator) == part.remaining
    queue.redeem(part.shares, operator, operator, sender=operator)
    assert token.balanceOf(operator) == part.assets
    # The cash paid the two requests to the wei.
    assert vault.free_cash() == 0
    check_queue_books(flat_kit, [investor, operator])


def test_cancel_reverts(flat_kit, four, investor, other_investor, operator, attacker):
    queue = flat_kit.queue
    # Someone else's request, an id never given, a request fulfilled, a request cancelled.
    with ape.reverts(NO_PENDING):
        queue.cancelRedeemRequest(2, investor, sender=investor)
    with ape.reverts(NO_PENDING):
        queue.cancelRedeemRequest(99, investor, sender=investor)
    with ape.reverts(NO_PENDING):
        queue.cancelRedeemRequest(0, investor, sender=investor)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.cancelRedeemRequest(1, investor, sender=attacker)
    queue.fulfil(1, sender=operator)
    with ape.reverts(NO_PENDING):
        queue.cancelRedeemRequest(1, investor, sender=investor)
    queue.cancelRedeemRequest(3, investor, sender=investor)
    with ape.reverts(NO_PENDING):
        queue.cancelRedeemRequest(3, investor, sender=investor)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.claimCancelRedeemRequest(3, attacker, investor, sender=attacker)
    with ape.reverts(NOTHING_CANCELLED):
        queue.claimCancelRedeemRequest(2, other_investor, other_investor, sender=other_investor)
    queue.claimCancelRedeemRequest(3, investor, investor, sender=investor)
    with ape.reverts(NOTHING_CANCELLED):
        queue.claimCancelRedeemRequest(3, investor, investor, sender=investor)
    check_queue_books(flat_kit, [investor, other_investor])
