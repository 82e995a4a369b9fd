"""Rounding, always against the controller (invariant 7) and never leaving dust (invariant 10):
each request gets its shares' NAV rounded down; where the cash ends inside a request, the most
shares the cash pays (found by search here) and the rest pending at the head; a `redeem` claim
pays assets rounded down, a `withdraw` claim takes shares rounded up; a claim of all that is
claimable pays all of it and leaves the controller's claimable and the reserve at exactly 0."""

import math
from fractions import Fraction

import pytest

from tests.utils.queue import MAX_FULFIL_BATCH, QueueModel, check_queue_books, nav, request
from tests.utils.vault import MIN_REQUEST, VIRTUAL_SHARES, buy, largest, logs_of, to_assets


def test_each_request_gets_its_nav_rounded_down(flat_kit, investor, other_investor, operator):
    vault, queue = flat_kit.vault, flat_kit.queue
    sizes = [MIN_REQUEST + 999_999, 3 * MIN_REQUEST + 123_457, 7 * MIN_REQUEST + 1]
    for owner, shares in zip([investor, other_investor, operator], sizes, strict=True):
        request(queue, owner, shares)
    total, supply, cash = nav(flat_kit)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    exact = [Fraction(shares * (total + 1), supply + VIRTUAL_SHARES) for shares in sizes]
    for log, shares, value in zip(logs, sizes, exact, strict=True):
        assert log.assets == to_assets(shares, total, supply) == math.floor(value)
        assert log.assets < value  # none of these is a whole number of wei
    paid = sum(log.assets for log in logs)
    [settled] = logs_of(tx, vault, "Withdraw")
    assert (settled.assets, settled.shares) == (paid, sum(sizes))
    # Rounding each request down keeps at least what rounding their sum down would.
    assert paid <= to_assets(sum(sizes), total, supply)
    assert vault.free_cash() == cash - paid
    # The price of those who stay did not fall.
    after_total, after_supply, _ = nav(flat_kit)
    assert (after_total + 1) * (supply + VIRTUAL_SHARES) >= (total + 1) * (
        after_supply + VIRTUAL_SHARES
    )


def test_partial_fulfilment_exact_to_the_wei(flat_kit, investor, operator, other_investor):
    """The investor's request is paid in full; the operator's, behind it, gets the most shares the
    cash left pays (one share more would pay more than the cash) and the rest stays pending at
    the head, paid at the next fulfilment's NAV once cash comes in."""
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    controllers = [investor, operator]
    model = QueueModel()
    for owner in controllers:
        model.request(owner, vault.balanceOf(owner))
        request(queue, owner, vault.balanceOf(owner))
    total, supply, cash = nav(flat_kit)
    full, part = model.fulfil(MAX_FULFIL_BATCH, total, supply, cash)
    left = cash - full.assets
    assert part.assets <= left < to_assets(part.shares + 1, total, supply)
    assert part.shares == largest(lambda x: to_assets(x, total, supply) <= left, 10**30)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert full.matches(logs[0]) and part.matches(logs[1])
    assert vault.free_cash() == left - part.assets
    assert (queue.head(), queue.tail()) == (2, 2)
    assert tuple(queue.request(2))[:2] == (operator, part.remaining)
    assert tuple(queue.controller_state(operator)) == (
        part.remaining,
        1,
        part.shares,
        part.assets,
        0,
    )
    model.assert_matches(queue, controllers)
    check_queue_books(flat_kit, controllers)
    # Cash comes in: the rest is paid at the NAV of its own block.
    buy(vault, token, other_investor, 30_000 * 10**6)
    [rest] = model.fulfil(MAX_FULFIL_BATCH, *nav(flat_kit))
    [log] = queue.RedeemFulfilled.from_receipt(queue.fulfil(1, sender=operator))
    assert rest.matches(log) and (log.requestId, log.remaining) == (2, 0)
    model.assert_matches(queue, controllers)
    check_queue_books(flat_kit, controllers)


@pytest.fixture
def claimable(flat_kit, investor, operator):
    """The investor's claimable after one fulfilled request: (shares, assets)."""
    request(flat_kit.queue, investor, 123 * MIN_REQUEST + 4_567)
    flat_kit.queue.fulfil(1, sender=operator)
    return tuple(flat_kit.queue.controller_state(investor))[2:4]


def test_partial_claims_round_against_the_controller(flat_kit, claimable, investor):
    queue = flat_kit.queue
    shares, assets = claimable
    # redeem: assets rounded down.
    part = shares // 7
    expected = part * assets // shares
    assert part * assets % shares != 0
    tx = queue.redeem(part, investor, investor, sender=investor)
    assert logs_of(tx, queue, "Withdraw")[0].assets == expected
    shares, assets = shares - part, assets - expected
    # withdraw: shares rounded up.
    want = assets // 3
    taken = -(-want * shares // assets)
    assert want * shares % assets != 0
    tx = queue.withdraw(want, investor, investor, sender=investor)
    assert logs_of(tx, queue, "Withdraw")[0].shares == taken
    assert tuple(queue.controller_state(investor))[2:4] == (shares - taken, assets - want)


@pytest.mark.parametrize("last", ["redeem", "withdraw"])
def test_a_max_claim_leaves_nothing(flat_kit, claimable, investor, last):
    """After claims in parts, whatever their rounding, a max claim pays exactly the rest:
    claimable and reserve are 0, and the parts add up to the whole."""
    queue, token = flat_kit.queue, flat_kit.token
    _, assets = claimable
    for i in range(1, 4):
        queue.redeem(queue.maxRedeem(investor) // (i + 2), investor, investor, sender=investor)
        queue.withdraw(queue.maxWithdraw(investor) // (i + 3), investor, investor, sender=investor)
    if last == "redeem":
        queue.redeem(queue.maxRedeem(investor), investor, investor, sender=investor)
    else:
        queue.withdraw(queue.maxWithdraw(investor), investor, investor, sender=investor)
    assert tuple(queue.controller_state(investor)) == (0, 0, 0, 0, 0)
    assert queue.reserved() == token.balanceOf(queue) == 0
    assert token.balanceOf(investor) == assets
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (0, 0)
