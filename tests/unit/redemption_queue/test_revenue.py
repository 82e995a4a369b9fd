"""Pending shares stop earning at request (the Decision "Queued redemptions"): the escrow is the
vault's own balance, so from the request on the requester's revenue stops growing, and what the
escrowed shares earn is the vault's own account, streamed back to the holders who stay at the next
payment or skim. Every figure against the revenue model (tests/utils/vault.py), conservation to
the wei at each step."""

import copy

from tests.utils.queue import INSTALMENT, MAX_FULFIL_BATCH
from tests.utils.vault import (
    BPS,
    DAY,
    FEE_BPS,
    RevenueModel,
    check_conservation_all,
    claimed_in,
    logs_of,
)

NET = INSTALMENT - INSTALMENT * FEE_BPS // BPS


def pay(pool, lessee, model):
    """Pay the lease's next instalment and apply it to `model`; returns (receipt, recycled)."""
    vault = pool.kit.vault
    supply, own = vault.totalSupply(), vault.balanceOf(vault)
    tx = pool.kit.leases.pay_instalment(pool.lease_id, sender=lessee)
    rate, end, recycled = model.distribute(NET, supply, vault, own, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.amount, log.recycled, log.rate, log.vesting_end) == (
        INSTALMENT,
        recycled,
        rate,
        end,
    )
    return tx, recycled


def test_pending_shares_stop_earning(
    flat_queue_pool, investor, other_investor, operator, lessee, chain
):
    vault, queue = flat_queue_pool.kit.vault, flat_queue_pool.kit.queue
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(flat_queue_pool, lessee, model)
    chain.pending_timestamp += 5 * DAY
    supply, shares, own = vault.totalSupply(), vault.balanceOf(investor), vault.balanceOf(vault)
    # The same pool in which nobody requests, to compare with.
    stays = copy.deepcopy(model)
    tx = queue.requestRedeem(shares, investor, investor, sender=investor)
    model.transfer(investor, vault, shares, own, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    earned = vault.claimable(investor)
    assert earned == model.claimable(investor, 0, supply, tx.timestamp) > 0
    # Ten days on: the requester's revenue has not grown; the others' and the vault's own did.
    chain.mine(timestamp=tx.timestamp + 10 * DAY)
    now = chain.blocks.head.timestamp
    assert vault.claimable(investor) == earned
    for holder in (*holders, vault):
        assert vault.claimable(holder) == model.claimable(
            holder, vault.balanceOf(holder), supply, now
        )
    check_conservation_all(vault, holders, claimed=0)
    # The next payment streams the vault's own account back to holders: what the dead shares
    # earned, and what the escrowed shares would have earned for the requester (to the wei,
    # give or take the one the two accounts round apart).
    paid, recycled = pay(flat_queue_pool, lessee, model)
    would_have = stays.claimable(investor, shares, supply, paid.timestamp) - earned
    _, _, dead_only = stays.distribute(NET, supply, vault, own, paid.timestamp)
    assert would_have > 100 * 10**6
    assert abs(recycled - dead_only - would_have) <= 1
    model.assert_matches(vault, holders)
    check_conservation_all(vault, holders, claimed=0)
    # It vests to the holders who stay: by the end of the stream they have all of it, the
    # requester none.
    chain.mine(timestamp=model.end)
    end = model.end
    for holder in (other_investor, operator):
        balance = vault.balanceOf(holder)
        assert vault.claimable(holder) == model.claimable(holder, balance, supply, end)
        assert vault.claimable(holder) > stays.claimable(holder, balance, supply, end)
    assert vault.claimable(investor) == earned
    # What it had earned before the request is still the requester's (claimed to itself).
    claimed = claimed_in(vault.claim(sender=investor), vault)
    assert claimed == earned
    check_conservation_all(vault, holders, claimed=claimed)


def test_cancelled_shares_earn_again_once_claimed_back(
    flat_queue_pool, investor, other_investor, operator, lessee, chain
):
    """Cancelled shares wait in escrow, earning nothing, until the controller claims them back;
    from that block they earn again."""
    vault, queue = flat_queue_pool.kit.vault, flat_queue_pool.kit.queue
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(flat_queue_pool, lessee, model)
    supply, shares = vault.totalSupply(), vault.balanceOf(investor) // 2
    tx = queue.requestRedeem(shares, investor, investor, sender=investor)
    model.transfer(
        investor,
        vault,
        vault.balanceOf(investor) + shares,
        vault.balanceOf(vault) - shares,
        supply,
        tx.timestamp,
    )
    chain.pending_timestamp += 3 * DAY
    queue.cancelRedeemRequest(1, investor, sender=investor)
    chain.pending_timestamp += 3 * DAY
    balance, own = vault.balanceOf(investor), vault.balanceOf(vault)
    tx = queue.claimCancelRedeemRequest(1, investor, investor, sender=investor)
    model.transfer(vault, investor, own, balance, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    chain.mine(timestamp=tx.timestamp + 4 * DAY)
    now = chain.blocks.head.timestamp
    for holder in (*holders, vault):
        assert vault.claimable(holder) == model.claimable(
            holder, vault.balanceOf(holder), supply, now
        )
    check_conservation_all(vault, holders, claimed=0)


def test_fulfilled_shares_earnings_reach_those_who_stay(
    flat_queue_pool, investor, other_investor, operator, lessee, attacker, chain
):
    """The escrow burnt at fulfilment leaves what it earned until then in the vault's account;
    a skim streams it to the holders who stay."""
    vault, queue = flat_queue_pool.kit.vault, flat_queue_pool.kit.queue
    holders = (investor, other_investor, operator)
    model = RevenueModel.read(vault, holders)
    pay(flat_queue_pool, lessee, model)
    supply, shares, own = (
        vault.totalSupply(),
        vault.balanceOf(other_investor),
        vault.balanceOf(vault),
    )
    tx = queue.requestRedeem(shares, other_investor, other_investor, sender=other_investor)
    model.transfer(other_investor, vault, shares, own, supply, tx.timestamp)
    chain.pending_timestamp += 7 * DAY
    own = vault.balanceOf(vault)
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    model.burn(vault, own, supply, tx.timestamp)
    supply -= shares
    model.assert_matches(vault, holders)
    owed = vault.claimable(vault)
    assert owed == model.claimable(vault, vault.balanceOf(vault), supply, tx.timestamp) > 0
    chain.pending_timestamp += DAY
    tx = vault.skim(sender=attacker)
    rate, end, recycled = model.distribute(0, supply, vault, vault.balanceOf(vault), tx.timestamp)
    [log] = logs_of(tx, vault, "Skimmed")
    assert (log.donation, log.recycled, log.rate, log.vesting_end) == (0, recycled, rate, end)
    assert recycled >= owed
    model.assert_matches(vault, holders)
    check_conservation_all(vault, holders, claimed=0)
