"""The whole life of a pool, with the books rebuilt from events alone and every invariant checked:
register -> contribute -> buy (approve and permit) -> buy a GPU with cash -> lease -> instalments
over months -> claims, transfers, redemptions -> lease completes."""

from collections import defaultdict

from tests.utils.vault import (
    DAY,
    accounted_cash,
    buy,
    check_conservation,
    claimed_in,
    contribute,
    fund,
    logs_of,
    permit_signature,
)

INSTALMENT = 25_000 * 10**6


def rebuild_books(vault, txs) -> dict:
    books = defaultdict(int)
    balances = defaultdict(int)
    for tx in txs:
        for log in logs_of(tx, vault, "Deposit"):
            books["free_cash"] += log.assets
        for log in logs_of(tx, vault, "Withdraw"):
            books["free_cash"] -= log.assets
        for log in logs_of(tx, vault, "GpuPurchased"):
            books["free_cash"] -= log.price
        for log in logs_of(tx, vault, "RevenueDistributed"):
            books["fees"] += log.fee
            books["held"] += log.amount - log.fee
        for log in logs_of(tx, vault, "FeesClaimed"):
            books["fees"] -= log.amount
        for log in logs_of(tx, vault, "RevenueClaimed"):
            books["held"] -= log.amount
            books["claimed"] += log.amount
        for log in logs_of(tx, vault, "Transfer"):
            balances[log.sender] -= log.value
            balances[log.receiver] += log.value
    books["balances"] = balances
    return books


def test_lifecycle(kit, registry, operator, investor, other_investor, lessee, gpu, chain):
    vault, leases, token = kit.vault, kit.leases, kit.token
    txs = []
    ids = [gpu(), gpu(), gpu()]
    for token_id in ids[:2]:
        txs.append(contribute(vault, registry, operator, token_id))
    txs.append(buy(vault, token, investor, 150_000 * 10**6))
    fund(token, other_investor, 50_000 * 10**6)
    deadline = chain.pending_timestamp + DAY
    v, r, s = permit_signature(token, other_investor, vault, 50_000 * 10**6, deadline)
    txs.append(
        vault.buy_with_permit(
            50_000 * 10**6, other_investor, 1, deadline, v, r, s, sender=other_investor
        )
    )
    registry.approve(vault, ids[2], sender=operator)
    txs.append(vault.buy_gpu(ids[2], 20_000 * 10**6, vault.end_time_hint(ids[2]), sender=operator))
    txs.append(leases.open_lease(lessee, INSTALMENT, 30 * DAY, 6, 5 * DAY, ids, sender=operator))
    fund(token, lessee, 6 * INSTALMENT)
    token.approve(vault, 6 * INSTALMENT, sender=lessee)
    holders = [operator, investor, other_investor]
    claimed = 0
    for month in range(6):
        chain.pending_timestamp += 30 * DAY
        txs.append(leases.pay_instalment(1, sender=lessee))
        chain.pending_timestamp += 10 * DAY
        tx = vault.claim(sender=investor)
        claimed += claimed_in(tx, vault)
        txs.append(tx)
        if month == 2:
            txs.append(
                vault.transfer(other_investor, vault.balanceOf(investor) // 4, sender=investor)
            )
        if month == 3:
            shares = vault.maxRedeem(other_investor) // 2
            txs.append(vault.redeem(shares, other_investor, other_investor, sender=other_investor))
        check_conservation(vault, holders, claimed)
        assert token.balanceOf(vault) == accounted_cash(vault)
    # The last instalment completed the lease and freed the GPUs.
    assert leases.lease(1).status == 2
    assert all(registry.gpu(t).status == 1 for t in ids)
    chain.pending_timestamp += 31 * DAY
    for holder in (operator, other_investor):
        tx = vault.claim(sender=holder)
        claimed += claimed_in(tx, vault)
        txs.append(tx)
    txs.append(vault.claim_fees(sender=operator))
    dust = check_conservation(vault, holders, claimed)
    assert vault.unvested() == 0
    # Books from events alone equal the contract's books.
    books = rebuild_books(vault, txs)
    assert books["free_cash"] == vault.free_cash()
    assert books["fees"] == vault.accrued_fees() == 0
    assert books["held"] == vault.held() == vault.received() - claimed
    assert books["held"] == dust + sum(vault.claimable(h) for h in holders)
    for holder in holders:
        assert books["balances"][holder.address] == vault.balanceOf(holder)
    assert sum(vault.balanceOf(h) for h in holders) == vault.totalSupply()
    assert token.balanceOf(vault) == accounted_cash(vault)
