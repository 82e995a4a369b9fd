"""Claims (ERC-7540 `redeem` / `withdraw`): per controller, the fulfilled shares and assets of its
requests add up; the reserve pays the controller (or a receiver, see test_identity.py); `max*` is
exactly what a claim takes. Rounding of partial claims: test_rounding.py."""

import ape
import pytest

from tests.utils.queue import (
    ABOVE_CLAIMABLE,
    MAX_FULFIL_BATCH,
    NOT_OWNER_OR_OPERATOR,
    ZERO_ASSETS,
    ZERO_SHARES,
    QueueModel,
    check_queue_books,
    nav,
    request,
)
from tests.utils.vault import MIN_REQUEST, buy, logs_of, to_assets


@pytest.fixture
def fulfilled(flat_kit, investor, other_investor, operator):
    """Three requests fulfilled: two of the investor's (its claim adds them up) and one of the
    other investor's. Returns the model after it."""
    queue = flat_kit.queue
    model = QueueModel()
    for owner, shares in [
        (investor, 7 * MIN_REQUEST + 3),
        (other_investor, 2 * MIN_REQUEST),
        (investor, 11 * MIN_REQUEST + 5),
    ]:
        model.request(owner, shares)
        request(queue, owner, shares)
    model.fulfil(MAX_FULFIL_BATCH, *nav(flat_kit))
    queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    return model


@pytest.mark.parametrize("how", ["redeem", "withdraw"])
def test_claim_all(flat_kit, fulfilled, investor, other_investor, how):
    """All of a controller's claimable, in one claim: its assets, to the wei, and nothing left;
    the other controller's claim untouched."""
    queue, token = flat_kit.queue, flat_kit.token
    shares, assets = fulfilled.claimable[investor.address]
    assert queue.claimableRedeemRequest(1, investor) == queue.claimableRedeemRequest(0, investor)
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (shares, assets)
    before = token.balanceOf(investor)
    if how == "redeem":
        tx = queue.redeem(shares, investor, investor, sender=investor)
    else:
        tx = queue.withdraw(assets, investor, investor, sender=investor)
    [log] = logs_of(tx, queue, "Withdraw")
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        investor,
        investor,
        assets,
        shares,
    )
    [paid] = logs_of(tx, token, "Transfer")
    assert (paid.sender, paid.receiver, paid.value) == (queue, investor, assets)
    assert token.balanceOf(investor) == before + assets
    assert tuple(queue.controller_state(investor)) == (0, 0, 0, 0, 0)
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (0, 0)
    fulfilled.claimable.pop(investor.address)
    fulfilled.assert_matches(queue, [investor, other_investor])
    check_queue_books(flat_kit, [investor, other_investor])


def test_claims_in_parts(flat_kit, fulfilled, investor, other_investor):
    """A redeem, a withdraw, then the rest: each as the model rounds it, and the parts add up to
    the controller's claimable exactly."""
    queue, token = flat_kit.queue, flat_kit.token
    shares, assets = fulfilled.claimable[investor.address]
    expected = fulfilled.redeem(investor, shares // 3)
    tx = queue.redeem(shares // 3, investor, investor, sender=investor)
    assert logs_of(tx, queue, "Withdraw")[0].assets == expected
    taken = fulfilled.withdraw(investor, assets // 4)
    tx = queue.withdraw(assets // 4, investor, investor, sender=investor)
    assert logs_of(tx, queue, "Withdraw")[0].shares == taken
    fulfilled.assert_matches(queue, [investor, other_investor])
    rest_shares, rest_assets = fulfilled.claimable[investor.address]
    assert (queue.maxRedeem(investor), queue.maxWithdraw(investor)) == (rest_shares, rest_assets)
    tx = queue.redeem(rest_shares, investor, investor, sender=investor)
    assert logs_of(tx, queue, "Withdraw")[0].assets == rest_assets
    assert token.balanceOf(investor) == assets
    assert tuple(queue.controller_state(investor)) == (0, 0, 0, 0, 0)
    check_queue_books(flat_kit, [investor, other_investor])


def test_claim_reverts(flat_kit, fulfilled, investor, other_investor, attacker):
    queue = flat_kit.queue
    shares, assets = fulfilled.claimable[investor.address]
    with ape.reverts(ZERO_SHARES):
        queue.redeem(0, investor, investor, sender=investor)
    with ape.reverts(ZERO_ASSETS):
        queue.withdraw(0, investor, investor, sender=investor)
    with ape.reverts(ABOVE_CLAIMABLE):
        queue.redeem(shares + 1, investor, investor, sender=investor)
    with ape.reverts(ABOVE_CLAIMABLE):
        queue.withdraw(assets + 1, investor, investor, sender=investor)
    # A share is worth less than a wei: a claim of one share would pay nothing.
    with ape.reverts(ZERO_ASSETS):
        queue.redeem(1, investor, investor, sender=investor)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.redeem(shares, attacker, investor, sender=attacker)
    with ape.reverts(NOT_OWNER_OR_OPERATOR):
        queue.withdraw(assets, investor, investor, sender=other_investor)
    # Nothing claimable: nothing to take.
    with ape.reverts(ABOVE_CLAIMABLE):
        queue.redeem(1, attacker, attacker, sender=attacker)
    fulfilled.assert_matches(queue, [investor, other_investor])


def test_request_fulfil_claim_over_each_stablecoin(any_kit, investor, operator):
    """6 and 18 decimals, and a token that returns no bool: the queue's transfers and the
    vault's conversions (DEAD_SHARES and virtual shares scale with the decimals) to the wei."""
    vault, queue, token = any_kit.vault, any_kit.queue, any_kit.token
    unit = 10 ** token.decimals()
    buy(vault, token, investor, 1_000 * unit)
    shares = vault.balanceOf(investor) // 3
    request(queue, investor, shares)
    total, supply, cash = nav(any_kit)
    assert total == cash  # a pool of cash only
    assets = to_assets(shares, total, supply)
    assert 332 * unit < assets <= 333 * unit
    tx = queue.fulfil(1, sender=operator)
    assert queue.RedeemFulfilled.from_receipt(tx)[0].assets == assets
    assert token.balanceOf(queue) == queue.reserved() == assets
    queue.withdraw(assets // 2, investor, investor, sender=investor)
    queue.redeem(queue.maxRedeem(investor), investor, investor, sender=investor)
    assert token.balanceOf(investor) == assets
    check_queue_books(any_kit, [investor])
