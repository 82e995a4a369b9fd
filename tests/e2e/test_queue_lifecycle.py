"""Queued redemptions end to end, with the books rebuilt from events alone and every invariant
checked: holders who want out of more than the free cash request; the lessee pays instalments
through the LeaseManager (revenue streams to holders, outside NAV: it pays no request); the first
fulfilment pays what the cash covers, the rest waits at the head; a fulfilment without free cash is
refused; new deposits bring cash in and the next fulfilment pays the rest at the NAV of its own
block (the GPU has depreciated meanwhile); the controllers claim. Beside it, a request is cancelled
and its shares claimed back, and they earn revenue again."""

import ape

from tests.utils.custody import attest
from tests.utils.queue import (
    MAX_FULFIL_BATCH,
    NO_CASH,
    QueueModel,
    check_queue_books,
)
from tests.utils.vault import (
    DAY,
    accounted_cash,
    buy,
    check_conservation_all,
    claimed_in,
    collateral_value_at,
    fund,
    logs_of,
)

USDC = 10**6
INSTALMENT = 2_000 * USDC


def queue_books(kit, txs) -> dict:
    """The queue's books from its events alone (its module docstring): the shares in escrow and
    the reserve; and the vault's free cash from its Deposit and Withdraw events (a settlement is
    a Withdraw whose owner is the vault)."""
    vault, queue = kit.vault, kit.queue
    books = {"escrow": 0, "reserve": 0, "free_cash": 0}
    for tx in txs:
        for log in logs_of(tx, queue, "RedeemRequest"):
            books["escrow"] += log.shares
        for log in logs_of(tx, queue, "RedeemFulfilled"):
            books["escrow"] -= log.shares
            books["reserve"] += log.assets
        for log in logs_of(tx, queue, "CancelRedeemClaim"):
            books["escrow"] -= log.shares
        for log in logs_of(tx, queue, "Withdraw"):
            books["reserve"] -= log.assets
        for log in logs_of(tx, vault, "Deposit"):
            books["free_cash"] += log.assets
        for log in logs_of(tx, vault, "Withdraw"):
            books["free_cash"] -= log.assets
    return books


def fulfil(kit, operator, model, txs) -> list:
    """Fulfil everything the cash pays; each request priced at the NAV of the fulfilling block
    (the GPU's value at its second, read from the collateral's schedule). Returns the events."""
    vault, queue = kit.vault, kit.queue
    cash, supply = vault.free_cash(), vault.totalSupply()
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    txs.append(tx)
    total = cash + collateral_value_at(kit.collateral, tx.timestamp)
    expected = model.fulfil(MAX_FULFIL_BATCH, total, supply, cash)
    logs = queue.RedeemFulfilled.from_receipt(tx)
    assert len(logs) == len(expected)
    assert all(e.matches(log) for e, log in zip(expected, logs, strict=True))
    return logs


def test_queue_lifecycle(
    kit, seed, registry, attestor, operator, investor, other_investor, lessee, chain
):
    vault, queue, token, leases = kit.vault, kit.queue, kit.token, kit.leases
    pool = seed(investor=30_000, other_investor=10_000)
    # The books start after the seed's deposits (their receipts are the fixture's).
    txs, start_cash = [], vault.free_cash()
    holders = [operator, investor, other_investor]
    txs.append(
        leases.open_lease(
            lessee, INSTALMENT, 30 * DAY, 6, 5 * DAY, [pool.token_id], sender=operator
        )
    )
    fund(token, lessee, 6 * INSTALMENT)
    token.approve(vault, 6 * INSTALMENT, sender=lessee)
    model = QueueModel()
    claimed = 0

    def month():
        # The custodian attests at least every 20 days: the GPU never goes stale.
        chain.pending_timestamp += 20 * DAY
        attest(attestor, [pool.token_id])
        chain.pending_timestamp += 10 * DAY
        txs.append(leases.pay_instalment(1, sender=lessee))
        attest(attestor, [pool.token_id])

    month()
    chain.pending_timestamp += 10 * DAY
    # The investor and the operator want out of ~53.6k of NAV; the vault holds 40k of free cash.
    for owner in (investor, operator):
        shares = vault.balanceOf(owner)
        model.request(owner, shares)
        txs.append(queue.requestRedeem(shares, owner, owner, sender=owner))
    # From their requests on, their revenue stops growing.
    earned = {owner.address: vault.claimable(owner) for owner in (investor, operator)}
    # The other investor requests, thinks better of it, and takes its fractions back.
    kept = vault.balanceOf(other_investor)
    shares = kept // 2
    model.request(other_investor, shares)
    txs.append(queue.requestRedeem(shares, other_investor, other_investor, sender=other_investor))
    txs.append(queue.cancelRedeemRequest(3, other_investor, sender=other_investor))
    model.cancel(3)
    check_queue_books(kit, holders)
    txs.append(
        queue.claimCancelRedeemRequest(3, other_investor, other_investor, sender=other_investor)
    )
    model.claim_back(other_investor)
    assert vault.balanceOf(other_investor) == kept
    # The first fulfilment pays the investor in full and the operator in part: all the cash.
    chain.pending_timestamp += DAY
    full, part = fulfil(kit, operator, model, txs)
    assert (full.controller, full.remaining, part.controller) == (investor, 0, operator)
    assert part.remaining > 0 and vault.free_cash() == 0
    check_queue_books(kit, holders)
    books = queue_books(kit, txs)
    assert books["escrow"] == vault.balanceOf(vault) - vault.DEAD_SHARES() == part.remaining
    assert books["reserve"] == queue.reserved() == full.assets + part.assets
    assert start_cash + books["free_cash"] == vault.free_cash() == 0
    # Instalments come in: revenue, streamed to holders, not free cash.
    month()
    assert vault.free_cash() == 0
    with ape.reverts(NO_CASH):
        queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    # New money comes in: a deposit; the operator's rest is paid at this block's NAV.
    txs.append(buy(vault, token, other_investor, 25_000 * USDC))
    [rest] = fulfil(kit, operator, model, txs)
    assert (rest.controller, rest.remaining) == (operator, 0)
    assert queue.head() == 0
    check_queue_books(kit, holders)
    model.assert_matches(queue, holders)
    # The controllers claim: all of it, to the wei.
    for controller, how in ((investor, "redeem"), (operator, "withdraw")):
        shares, assets = model.claimable[controller.address]
        before = token.balanceOf(controller)
        if how == "redeem":
            tx = queue.redeem(shares, controller, controller, sender=controller)
        else:
            tx = queue.withdraw(assets, controller, controller, sender=controller)
        txs.append(tx)
        assert token.balanceOf(controller) == before + assets
    assert queue.reserved() == token.balanceOf(queue) == 0
    # Revenue: what each earned while it held its fractions; the requesters, what they had
    # earned by their requests and no more.
    month()
    for holder in holders:
        tx = vault.claim(sender=holder)
        claimed += claimed_in(tx, vault)
        if holder.address in earned:
            assert claimed_in(tx, vault) == earned[holder.address] > 0
        txs.append(tx)
    check_conservation_all(vault, holders, claimed)
    assert token.balanceOf(vault) == accounted_cash(vault)
    check_queue_books(kit, holders)
    # The books from events alone.
    books = queue_books(kit, txs)
    assert books["escrow"] == vault.balanceOf(vault) - vault.DEAD_SHARES() == 0
    assert books["reserve"] == queue.reserved() == 0
    assert start_cash + books["free_cash"] == vault.free_cash()
    assert vault.balanceOf(investor) == vault.balanceOf(operator) == 0
    assert sum(vault.balanceOf(h) for h in [*holders, vault]) == vault.totalSupply()
