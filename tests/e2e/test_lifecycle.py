"""The whole life of a pool, with the books rebuilt from events alone and every invariant checked:
register -> contribute -> buy (approve and permit) -> buy a GPU with cash (offer, the seller
accepts) -> lease -> instalments over months, the custodian attesting -> claims, transfers, a sale
and a redemption -> lease completes -> what the dead shares earned is skimmed back to holders ->
the pool sells a GPU (listed, the buyer pays; the premium over its value streamed)."""

from collections import defaultdict

from tests.utils.custody import attest
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

USDC = 10**6
INSTALMENT = 25_000 * USDC
GPU_PRICE = 20_000 * USDC
SALE_PREMIUM = 1_000 * USDC


def rebuild_books(vault, collateral, txs) -> dict:
    """Free cash, fees, revenue held and balances from the vault's and the collateral's events
    (the collateral's GpuAdmitted / GpuReleased carry the cash side of the market's trades)."""
    books = defaultdict(int)
    balances = defaultdict(int)
    for tx in txs:
        for log in logs_of(tx, vault, "Deposit"):
            books["free_cash"] += log.assets
        for log in logs_of(tx, vault, "Withdraw"):
            books["free_cash"] -= log.assets
        for log in logs_of(tx, collateral, "GpuAdmitted"):
            books["free_cash"] -= log.price
        for log in logs_of(tx, collateral, "GpuReleased"):
            books["free_cash"] += log.to_cash
        for log in logs_of(tx, vault, "RevenueDistributed"):
            books["fees"] += log.fee
            books["held"] += log.amount - log.fee
        for log in logs_of(tx, vault, "Skimmed"):
            books["held"] += log.donation
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


def test_lifecycle(kit, registry, attestor, operator, investor, other_investor, lessee, gpu, chain):
    vault, leases, token, collateral = kit.vault, kit.leases, kit.token, kit.collateral
    txs = []
    ids = [gpu(), gpu(), gpu()]
    for token_id in ids[:2]:
        txs.append(contribute(collateral, registry, operator, token_id))
    assert vault.balanceOf(vault) == vault.DEAD_SHARES()
    txs.append(buy(vault, token, investor, 150_000 * USDC))
    fund(token, other_investor, 50_000 * USDC)
    deadline = chain.pending_timestamp + DAY
    v, r, s = permit_signature(token, other_investor, vault, 50_000 * USDC, deadline)
    txs.append(
        vault.buy_with_permit(
            50_000 * USDC, other_investor, 1, deadline, v, r, s, sender=other_investor
        )
    )
    # A GPU bought with cash: the operator offers, the owner (here the operator) accepts.
    txs.append(kit.market.offer_gpu(ids[2], GPU_PRICE, deadline, sender=operator))
    registry.approve(collateral, ids[2], sender=operator)
    txs.append(kit.market.sell_gpu(ids[2], GPU_PRICE, sender=operator))
    assert collateral.schedule_state()[1] == 3
    txs.append(leases.open_lease(lessee, INSTALMENT, 30 * DAY, 6, 5 * DAY, ids, sender=operator))
    fund(token, lessee, 6 * INSTALMENT)
    token.approve(vault, 6 * INSTALMENT, sender=lessee)
    holders = [operator, investor, other_investor, vault]
    claimed = 0
    for month in range(6):
        # The custodian attests at least every 20 days: the GPUs never go stale.
        chain.pending_timestamp += 20 * DAY
        attest(attestor, ids)
        chain.pending_timestamp += 10 * DAY
        txs.append(leases.pay_instalment(1, sender=lessee))
        attest(attestor, ids)
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
        if month == 4:
            shares = vault.balanceOf(investor) // 3
            floor = vault.previewRedeem(shares) * 999 // 1_000
            deadline = chain.pending_timestamp + DAY
            txs.append(vault.sell(shares, investor, floor, deadline, sender=investor))
        assert all(collateral.counts(t) for t in ids)
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
    check_conservation(vault, holders, claimed)
    assert vault.unvested() == 0
    # What the dead shares earned goes back to the holders with a skim.
    dead_earned = vault.claimable(vault)
    assert dead_earned > 0
    tx = vault.skim(sender=investor)
    txs.append(tx)
    (skimmed,) = vault.Skimmed.from_receipt(tx)
    assert (skimmed.donation, skimmed.recycled) == (0, dead_earned)
    assert vault.claimable(vault) == 0
    dust = check_conservation(vault, holders, claimed)
    assert vault.unvested() == dead_earned
    # The pool sells the GPU it bought to the lessee, who pays in the same transaction: free cash
    # takes its collateral value, the premium above it is streamed to holders. The GPUs went
    # stale since the lease ended: attested, they return over the unlock period first.
    attest(attestor, ids)
    chain.mine(timestamp=chain.blocks.head.timestamp + collateral.UNLOCK_PERIOD() + DAY)
    assert collateral.written_down() == 0
    price = kit.market.floor(ids[2]) + SALE_PREMIUM
    txs.append(kit.market.list_gpu(ids[2], price, chain.pending_timestamp + DAY, sender=operator))
    fund(token, lessee, price)
    token.approve(vault, price, sender=lessee)
    tx = kit.market.buy_gpu(ids[2], price, sender=lessee)
    txs.append(tx)
    (released,) = collateral.GpuReleased.from_receipt(tx)
    (skimmed,) = vault.Skimmed.from_receipt(tx)
    assert skimmed.donation == price - released.to_cash >= SALE_PREMIUM
    assert registry.ownerOf(ids[2]) == lessee.address
    assert collateral.schedule_state()[1] == 2
    dust = check_conservation(vault, holders, claimed)
    # Books from events alone equal the contract's books.
    books = rebuild_books(vault, collateral, txs)
    assert books["free_cash"] == vault.free_cash()
    assert books["fees"] == vault.accrued_fees() == 0
    assert books["held"] == vault.held() == vault.received() - claimed
    assert books["held"] == dust + sum(vault.claimable(h) for h in holders) + vault.unvested()
    for holder in holders:
        assert books["balances"][holder.address] == vault.balanceOf(holder)
    assert sum(vault.balanceOf(h) for h in holders) == vault.totalSupply()
    assert token.balanceOf(vault) == accounted_cash(vault)
