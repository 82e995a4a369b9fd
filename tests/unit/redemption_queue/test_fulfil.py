"""fulfil: requests paid from the head of the list at the NAV of the fulfilling block, as far as the
vault's free cash goes; the escrow burnt and the assets reserved in the queue (outside NAV and free
cash). The figures come from QueueModel (tests/utils/queue.py) over the flat pool's NAV. Partial
fulfilment and rounding: test_rounding.py."""

import ape

from tests.utils.queue import (
    ARRIVED_SHORT,
    MAX_FULFIL_BATCH,
    NO_CASH,
    NO_PENDING,
    TOO_MANY_REQUESTS,
    ZERO_REQUESTS,
    QueueModel,
    check_queue_books,
    nav,
    request,
)
from tests.utils.vault import MIN_REQUEST, MISSING_ROLE, buy, largest, logs_of, to_assets


def test_fulfil_one_request(flat_kit, investor, operator):
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    shares = vault.balanceOf(investor) // 3
    request(queue, investor, shares)
    total, supply, cash = nav(flat_kit)
    assets = to_assets(shares, total, supply)
    assert 13_333 * 10**6 < assets < cash
    assert tuple(queue.fulfil.call(1, sender=operator)) == (1, shares, assets)
    tx = queue.fulfil(1, sender=operator)
    [log] = queue.RedeemFulfilled.from_receipt(tx)
    assert (log.controller, log.requestId, log.shares, log.assets, log.remaining) == (
        investor,
        1,
        shares,
        assets,
        0,
    )
    # The vault burns the escrowed fractions and pays their NAV from free cash to the queue: a
    # Withdraw whose owner is the vault itself.
    [withdrawn] = logs_of(tx, vault, "Withdraw")
    assert (withdrawn.sender, withdrawn.receiver, withdrawn.owner) == (queue, queue, vault)
    assert (withdrawn.assets, withdrawn.shares) == (assets, shares)
    [burnt] = logs_of(tx, vault, "Transfer")
    assert (burnt.sender, burnt.receiver, burnt.value) == (vault, ape.utils.ZERO_ADDRESS, shares)
    [paid] = logs_of(tx, token, "Transfer")
    assert (paid.sender, paid.receiver, paid.value) == (vault, queue, assets)
    assert vault.totalSupply() == supply - shares
    assert vault.free_cash() == cash - assets
    # The reserve is outside NAV.
    assert vault.totalAssets() == total - assets
    assert token.balanceOf(queue) == queue.reserved() == assets
    assert queue.pendingRedeemRequest(1, investor) == 0
    assert queue.claimableRedeemRequest(1, investor) == shares
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (shares, assets)
    assert (queue.head(), queue.tail(), queue.open_requests(), queue.pending_shares()) == (
        0,
        0,
        0,
        0,
    )
    assert tuple(queue.request(1)) == (ape.utils.ZERO_ADDRESS, 0, 0, 0)
    assert tuple(queue.controller_state(investor)) == (0, 0, shares, assets, 0)
    check_queue_books(flat_kit, [investor])
    # Those who stay lost nothing: the price of a fraction did not fall.
    assert vault.convertToAssets(10**18) >= to_assets(10**18, total, supply)


def test_fulfil_in_queue_order(flat_kit, investor, other_investor, operator):
    """From the head, `max_requests` at most, skipping nothing (a cancelled request left no hole),
    all at one NAV; the rest stays pending in order."""
    queue = flat_kit.queue
    controllers = [investor, other_investor, operator]
    model = QueueModel()
    for owner, shares in [
        (investor, MIN_REQUEST + 1),
        (other_investor, 3 * MIN_REQUEST),
        (operator, 5 * MIN_REQUEST + 7),
        (investor, 2 * MIN_REQUEST),
        (other_investor, MIN_REQUEST),
    ]:
        assert request(queue, owner, shares) == model.request(owner, shares)
    queue.cancelRedeemRequest(2, other_investor, sender=other_investor)
    model.cancel(2)
    expected = model.fulfil(3, *nav(flat_kit))
    assert [e.request_id for e in expected] == [1, 3, 4]
    tx = queue.fulfil(3, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert len(logs) == 3 and all(e.matches(log) for e, log in zip(expected, logs, strict=True))
    assert (queue.head(), queue.tail()) == (5, 5)
    model.assert_matches(queue, controllers)
    check_queue_books(flat_kit, controllers)
    # The next call goes on from there.
    [last] = model.fulfil(MAX_FULFIL_BATCH, *nav(flat_kit))
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    [log] = queue.RedeemFulfilled.from_receipt(tx)
    assert last.matches(log) and log.requestId == 5
    model.assert_matches(queue, controllers)
    check_queue_books(flat_kit, controllers)


def test_fulfil_reverts(flat_kit, investor, other_investor, operator, attacker):
    vault, queue = flat_kit.vault, flat_kit.queue
    with ape.reverts(NO_PENDING):
        queue.fulfil(1, sender=operator)
    request(queue, investor, MIN_REQUEST)
    for stranger in (attacker, investor):
        with ape.reverts(MISSING_ROLE):
            queue.fulfil(1, sender=stranger)
    with ape.reverts(ZERO_REQUESTS):
        queue.fulfil(0, sender=operator)
    with ape.reverts(TOO_MANY_REQUESTS):
        queue.fulfil(MAX_FULFIL_BATCH + 1, sender=operator)
    # No free cash: the holders who stay took it all out instantly.
    vault.redeem(
        vault.balanceOf(other_investor), other_investor, other_investor, sender=other_investor
    )
    vault.redeem(vault.balanceOf(investor), investor, investor, sender=investor)
    vault.withdraw(vault.free_cash(), operator, operator, sender=operator)
    assert vault.free_cash() == 0
    with ape.reverts(NO_CASH):
        queue.fulfil(1, sender=operator)
    assert queue.pending_shares() == MIN_REQUEST
    # Cash comes in (a deposit): the request is paid.
    buy(vault, flat_kit.token, other_investor, 100 * 10**6)
    total, supply, _ = nav(flat_kit)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    [log] = queue.RedeemFulfilled.from_receipt(tx)
    assert (log.shares, log.assets) == (MIN_REQUEST, to_assets(MIN_REQUEST, total, supply))
    check_queue_books(flat_kit, [investor])


def test_a_remainder_worth_nothing_does_not_block_the_queue(
    flat_kit, investor, other_investor, operator
):
    """Where the cash falls one wei short of a request, the most shares the cash pays leave a
    remainder worth nothing at that NAV (less than a wei). It stays pending at the head; a later
    fulfilment, with cash in, must not stop at it: it is closed for nothing (its NAV rounded
    down) and the requests behind it are paid."""
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    controllers = [investor, other_investor, operator]
    model = QueueModel()
    first = vault.balanceOf(investor)
    model.request(investor, first)
    request(queue, investor, first)
    total, supply, cash = nav(flat_kit)
    # The second request is worth one wei more than the cash the first leaves.
    short = cash - to_assets(first, total, supply) + 1
    second = largest(lambda x: to_assets(x, total, supply) < short, 10**30) + 1
    assert to_assets(second, total, supply) == short
    model.request(operator, second)
    request(queue, operator, second)
    expected = model.fulfil(MAX_FULFIL_BATCH, total, supply, cash)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert all(e.matches(log) for e, log in zip(expected, logs, strict=True))
    dust = logs[-1].remaining
    assert dust > 0 and to_assets(dust, *nav(flat_kit)[:2]) == 0
    assert vault.free_cash() == 0
    assert queue.pendingRedeemRequest(2, operator) == dust
    # Another request behind it; then cash comes in.
    model.request(other_investor, MIN_REQUEST)
    request(queue, other_investor, MIN_REQUEST)
    buy(vault, token, other_investor, 1_000 * 10**6)
    expected = model.fulfil(MAX_FULFIL_BATCH, *nav(flat_kit))
    assert (expected[0].request_id, expected[0].shares, expected[0].assets) == (2, dust, 0)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert len(logs) == 2 and all(e.matches(log) for e, log in zip(expected, logs, strict=True))
    assert queue.head() == 0
    model.assert_matches(queue, controllers)
    check_queue_books(flat_kit, controllers)
    # The dust was burnt, and nothing was credited for it: the controller claims what its
    # first part was worth, all of it.
    assets = queue.maxWithdraw(operator)
    assert assets == short - 1
    queue.withdraw(assets, operator, operator, sender=operator)
    assert tuple(queue.controller_state(operator)) == (0, 0, 0, 0, 0)


def test_fulfil_refuses_a_stablecoin_that_arrives_short(usdt_queue_kit, investor, operator, admin):
    """A stablecoin that takes a fee on transfers (USDT can switch one on) would pay the reserve
    less than the queue books for the controllers: the last claim could not be paid. Fulfilment
    is refused while the fee is on, as the vault refuses stablecoin that arrives short; the
    requests wait, and are paid once it is off."""
    kit = usdt_queue_kit
    vault, queue, token = kit.vault, kit.queue, kit.token
    shares = vault.balanceOf(investor) // 2
    request(queue, investor, shares)
    token.set_fee_bps(100, sender=admin)
    with ape.reverts(ARRIVED_SHORT):
        queue.fulfil(1, sender=operator)
    assert queue.pending_shares() == shares and queue.reserved() == 0
    token.set_fee_bps(0, sender=admin)
    total, supply, _ = nav(kit)
    tx = queue.fulfil(1, sender=operator)
    [log] = queue.RedeemFulfilled.from_receipt(tx)
    assert log.assets == to_assets(shares, total, supply) == token.balanceOf(queue)
    queue.redeem(shares, investor, investor, sender=investor)
    assert token.balanceOf(investor) == log.assets
    check_queue_books(kit, [investor])
