"""requestRedeem: the fractions go into escrow (the vault's own balance) at once; each request is an
entry of a first-in-first-out list with its own id; the minimum size, the per-controller and
overall caps; who may request for whom (operators: test_operators.py; identities:
test_identity.py; pause: test_pause.py)."""

import ape

from tests.utils.exploits import send_all
from tests.utils.queue import (
    BELOW_MINIMUM,
    EXCEEDS_BALANCE,
    MAX_OPEN_PER_CONTROLLER,
    MAX_OPEN_REQUESTS,
    NOT_OWNER_OR_OPERATOR,
    OPEN_REQUESTS_SLOT,
    QUEUE_FULL,
    TOO_MANY_OPEN,
    ZERO_CONTROLLER,
    QueueModel,
    check_queue_books,
    request,
    request_id_of,
    set_storage,
)
from tests.utils.vault import MIN_REQUEST, logs_of


def test_request_redeem(flat_kit, investor):
    vault, queue = flat_kit.vault, flat_kit.queue
    balance, supply = vault.balanceOf(investor), vault.totalSupply()
    dead = vault.DEAD_SHARES()
    shares = MIN_REQUEST + 12_345
    tx = queue.requestRedeem(shares, investor, investor, sender=investor)
    [log] = queue.RedeemRequest.from_receipt(tx)
    assert (log.controller, log.owner, log.requestId, log.sender, log.shares) == (
        investor,
        investor,
        1,
        investor,
        shares,
    )
    # Into escrow: a transfer from the owner to the vault's own balance, nothing burnt yet.
    [moved] = logs_of(tx, vault, "Transfer")
    assert (moved.sender, moved.receiver, moved.value) == (investor, vault, shares)
    assert vault.balanceOf(investor) == balance - shares
    assert vault.balanceOf(vault) == dead + shares
    assert vault.totalSupply() == supply
    assert queue.pendingRedeemRequest(1, investor) == shares
    assert queue.pendingRedeemRequest(0, investor) == shares
    assert queue.claimableRedeemRequest(1, investor) == 0
    assert (queue.head(), queue.tail(), queue.last_id()) == (1, 1, 1)
    assert (queue.open_requests(), queue.pending_shares()) == (1, shares)
    assert tuple(queue.request(1)) == (investor, shares, 0, 0)
    assert tuple(queue.controller_state(investor)) == (shares, 1, 0, 0, 0)
    check_queue_books(flat_kit, [investor])


def test_requests_queue_in_order(flat_kit, investor, other_investor, operator):
    """Ids 1, 2, 3... in request order, linked both ways; a controller's totals add its
    requests up."""
    queue = flat_kit.queue
    model = QueueModel()
    for owner, shares in [
        (investor, MIN_REQUEST),
        (other_investor, 2 * MIN_REQUEST),
        (investor, 3 * MIN_REQUEST + 1),
        (operator, MIN_REQUEST),
    ]:
        assert request(queue, owner, shares) == model.request(owner, shares)
    assert [tuple(queue.request(i)) for i in (1, 2, 3, 4)] == [
        (investor, MIN_REQUEST, 0, 2),
        (other_investor, 2 * MIN_REQUEST, 1, 3),
        (investor, 3 * MIN_REQUEST + 1, 2, 4),
        (operator, MIN_REQUEST, 3, 0),
    ]
    assert tuple(queue.controller_state(investor)) == (4 * MIN_REQUEST + 1, 2, 0, 0, 0)
    assert queue.pendingRedeemRequest(3, investor) == 3 * MIN_REQUEST + 1
    model.assert_matches(queue, [investor, other_investor, operator])
    check_queue_books(flat_kit, [investor, other_investor, operator])


def test_request_for_another_controller(flat_kit, investor, other_investor):
    """The owner's fractions, the controller's request: it is the controller that claims."""
    vault, queue = flat_kit.vault, flat_kit.queue
    balance = vault.balanceOf(investor)
    tx = queue.requestRedeem(MIN_REQUEST, other_investor, investor, sender=investor)
    [log] = queue.RedeemRequest.from_receipt(tx)
    assert (log.controller, log.owner, log.sender) == (other_investor, investor, investor)
    assert vault.balanceOf(investor) == balance - MIN_REQUEST
    assert queue.pendingRedeemRequest(1, other_investor) == MIN_REQUEST
    assert queue.pendingRedeemRequest(1, investor) == 0
    assert tuple(queue.controller_state(investor)) == (0, 0, 0, 0, 0)
    check_queue_books(flat_kit, [investor, other_investor])


def test_request_reverts(flat_kit, investor, other_investor, attacker):
    """Each bad request alone is refused with its reason and changes nothing; the minimum itself
    and the whole balance are accepted."""
    vault, queue = flat_kit.vault, flat_kit.queue
    balance = vault.balanceOf(investor)
    with ape.reverts(BELOW_MINIMUM):
        queue.requestRedeem(MIN_REQUEST - 1, investor, investor, sender=investor)
    with ape.reverts(ZERO_CONTROLLER):
        queue.requestRedeem(MIN_REQUEST, ape.utils.ZERO_ADDRESS, investor, sender=investor)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.requestRedeem(MIN_REQUEST, attacker, investor, sender=attacker)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=other_investor)
    with ape.reverts(EXCEEDS_BALANCE):
        queue.requestRedeem(balance + 1, investor, investor, sender=investor)
    assert vault.balanceOf(investor) == balance
    assert (queue.last_id(), queue.open_requests()) == (0, 0)
    assert request(queue, investor, MIN_REQUEST) == 1
    assert request(queue, investor, balance - MIN_REQUEST) == 2
    assert vault.balanceOf(investor) == 0
    check_queue_books(flat_kit, [investor])


def test_open_requests_per_controller(flat_kit, investor, other_investor, chain):
    """MAX_OPEN_PER_CONTROLLER open requests a controller, whoever owns the fractions; another
    controller is not affected; a request that leaves the list (cancelled) frees a place."""
    queue = flat_kit.queue
    assert queue.MAX_OPEN_PER_CONTROLLER() == MAX_OPEN_PER_CONTROLLER
    call = (queue.requestRedeem, (MIN_REQUEST, investor, investor), investor)
    send_all(chain, [call] * (MAX_OPEN_PER_CONTROLLER - 1))
    # The last place taken by a request of another owner for this controller.
    request(queue, other_investor, MIN_REQUEST, controller=investor)
    assert queue.controller_state(investor)[1] == MAX_OPEN_PER_CONTROLLER
    with ape.reverts(TOO_MANY_OPEN):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    with ape.reverts(TOO_MANY_OPEN):
        queue.requestRedeem(MIN_REQUEST, investor, other_investor, sender=other_investor)
    assert request(queue, investor, MIN_REQUEST, controller=other_investor) == 17
    queue.cancelRedeemRequest(3, investor, sender=investor)
    assert request(queue, investor, MIN_REQUEST) == 18
    assert queue.controller_state(investor)[1] == MAX_OPEN_PER_CONTROLLER
    check_queue_books(flat_kit, [investor, other_investor])


def test_queue_full(flat_kit, investor, other_investor, chain):
    """MAX_OPEN_REQUESTS open requests overall. Ten thousand requests take minutes to send, so the
    count is written into the queue's storage with one place left (the slot is checked first: it
    holds the count, not the last id)."""
    queue = flat_kit.queue
    assert queue.MAX_OPEN_REQUESTS() == MAX_OPEN_REQUESTS
    for _ in range(3):
        request(queue, investor, MIN_REQUEST)
    queue.cancelRedeemRequest(2, investor, sender=investor)
    assert (queue.last_id(), queue.open_requests()) == (3, 2)
    slot = chain.provider.web3.eth.get_storage_at(queue.address, OPEN_REQUESTS_SLOT)
    assert int.from_bytes(slot, "big") == 2
    set_storage(chain, queue.address, OPEN_REQUESTS_SLOT, MAX_OPEN_REQUESTS - 1)
    assert queue.open_requests() == MAX_OPEN_REQUESTS - 1
    tx = queue.requestRedeem(MIN_REQUEST, other_investor, other_investor, sender=other_investor)
    assert request_id_of(tx, queue) == 4
    assert queue.open_requests() == MAX_OPEN_REQUESTS
    with ape.reverts(QUEUE_FULL):
        queue.requestRedeem(MIN_REQUEST, other_investor, other_investor, sender=other_investor)
    # A request leaving the list frees a place.
    queue.cancelRedeemRequest(4, other_investor, sender=other_investor)
    assert request(queue, other_investor, MIN_REQUEST) == 5
