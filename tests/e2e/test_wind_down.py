"""Wind-down end to end ("Wind-down ends at zero", ../shared/DOMAIN.md): the admin puts a pool in
wind-down once and for good; every entry is refused (deposit, mint, a contribution, the market's
purchase of a GPU, a new lease) while exits go on (an instant redemption at the vault's price); the
queue prices fulfilments pro rata without the dead and virtual shares; the GPUs are sold (all of
each price enters free cash), the revenue vests and is claimed, and when the last holders leave
through the queue the pool holds no GPU, no free cash, nothing reserved, the dead shares only, and
no stablecoin but the revenue's sub-wei dust."""

from dataclasses import dataclass
from typing import Any

import ape
import pytest

from tests.utils.registry import USDC, GpuStatus, make_spec
from tests.utils.vault import (
    DAY,
    MISSING_ROLE,
    YEAR,
    buy,
    claimed_in,
    fund,
    logs_of,
    to_assets,
)

WINDING_DOWN = "collateral: pool winding down"
INSTALMENT = 3_000 * USDC
PERIOD = 30 * DAY
INSTALMENTS = 2
GRACE = 5 * DAY
# The operator's offer for its third GPU, made before the wind-down.
OFFER = 1_000 * USDC
# What the buyer pays above the floor for the first GPU sold.
PREMIUM = 500 * USDC
# Revenue dust left when every holder has claimed (contracts/revenue.vy): under one wei per
# account that ever held (its sub-wei rest), plus the accumulator's remainder and the floor of
# what is parked (under one wei each).
DUST_GLOBAL = 2


@dataclass
class Pool:
    """A pool ready to wind down: two GPUs contributed and leased for two instalments, both paid
    (the lease completed, the GPUs ACTIVE again), investors' cash, and an open offer for a third
    GPU of the operator's."""

    kit: Any
    gpu_ids: list[int]
    spare: int
    holders: list[Any]


@pytest.fixture(scope="module")
def winding_pool(
    create_vault,
    registry,
    admin,
    custodian,
    operator,
    investor,
    other_investor,
    lessee,
    attacker,
    chain,
) -> Pool:
    # Every session fixture the tests use is requested here first: ape's isolation would rebase
    # its snapshots (and set the pool up again) for one a test requests later.
    # A year's staleness window: the GPUs keep counting through the story without attestations.
    kit = create_vault(staleness_window=YEAR)
    vault, collateral, leases, token = kit.vault, kit.collateral, kit.leases, kit.token
    specs = [make_spec(acquired_at=chain.pending_timestamp - 30 * DAY) for _ in range(3)]
    tx = registry.register(operator, specs, sender=custodian)
    *gpu_ids, spare = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.setApprovalForAll(collateral, True, sender=operator)
    for token_id in gpu_ids:
        collateral.contribute(token_id, operator, 0, sender=operator)
    buy(vault, token, investor, 40_000 * USDC)
    buy(vault, token, other_investor, 20_000 * USDC)
    tx = leases.open_lease(lessee, INSTALMENT, PERIOD, INSTALMENTS, GRACE, gpu_ids, sender=operator)
    start = tx.decode_logs(leases.LeaseOpened)[0].start
    fund(token, lessee, INSTALMENTS * INSTALMENT)
    token.approve(vault, INSTALMENTS * INSTALMENT, sender=lessee)
    for k in range(1, INSTALMENTS + 1):
        chain.pending_timestamp = start + k * PERIOD
        leases.pay_instalment(1, sender=lessee)
    kit.market.offer_gpu(spare, OFFER, chain.pending_timestamp + YEAR, sender=operator)
    return Pool(kit, gpu_ids, spare, [operator, investor, other_investor])


def wind_down(kit, admin):
    return kit.collateral.wind_down(sender=admin)


def live_supply(vault) -> int:
    return vault.totalSupply() - vault.DEAD_SHARES()


def test_wind_down_once_by_the_admin(winding_pool, admin, operator):
    collateral = winding_pool.kit.collateral
    assert not collateral.winding_down()
    assert collateral.entries_open()
    with ape.reverts(MISSING_ROLE):
        collateral.wind_down(sender=operator)

    tx = wind_down(winding_pool.kit, admin)

    assert [log.admin for log in logs_of(tx, collateral, "WindDownStarted")] == [admin]
    assert collateral.winding_down()
    assert not collateral.entries_open()
    with ape.reverts("collateral: already winding down"):
        collateral.wind_down(sender=admin)


def test_entries_refused_in_wind_down(
    winding_pool, registry, admin, operator, investor, lessee, chain
):
    """Each entry is open just before the wind-down (simulated: nothing is sent) and refused
    after it, with the contract's reason; the views say so too."""
    kit, spare = winding_pool.kit, winding_pool.spare
    vault, collateral, market, leases, token = (
        kit.vault,
        kit.collateral,
        kit.market,
        kit.leases,
        kit.token,
    )
    fund(token, investor, 1_000 * USDC)
    token.approve(vault, 1_000 * USDC, sender=investor)
    gpus = winding_pool.gpu_ids
    entries = {
        "deposit": lambda: vault.deposit.call(1_000 * USDC, investor, sender=investor),
        "mint": lambda: vault.mint.call(10**12, investor, sender=investor),
        "contribute": lambda: collateral.contribute.call(spare, operator, 0, sender=operator),
        "sell_gpu": lambda: market.sell_gpu.call(spare, OFFER, sender=operator),
        "open_lease": lambda: leases.open_lease.call(
            lessee, INSTALMENT, PERIOD, 1, GRACE, gpus, sender=operator
        ),
    }
    for attempt in entries.values():
        attempt()
    assert vault.maxDeposit(investor) > 0 and vault.maxMint(investor) > 0

    wind_down(kit, admin)

    reasons = {
        "deposit": WINDING_DOWN,
        "mint": WINDING_DOWN,
        "contribute": WINDING_DOWN,
        "sell_gpu": "collateral: pool winding down",
        "open_lease": "lease: pool winding down",
    }
    for name, reason in reasons.items():
        with ape.reverts(reason):
            entries[name]()
    with ape.reverts(WINDING_DOWN):
        vault.buy(1_000 * USDC, investor, 0, chain.pending_timestamp + 3_600, sender=investor)
    assert (vault.maxDeposit(investor), vault.maxMint(investor)) == (0, 0)
    assert registry.ownerOf(spare) == operator
    assert all(registry.terms(i).status == GpuStatus.ACTIVE for i in gpus)


def test_instant_redemption_in_wind_down(winding_pool, admin, investor):
    """An exit from free cash is the vault's own conversion (virtual shares and all), as before."""
    kit = winding_pool.kit
    vault = kit.vault
    wind_down(kit, admin)
    shares = vault.balanceOf(investor) // 4
    cash, supply, before = vault.free_cash(), vault.totalSupply(), kit.token.balanceOf(investor)

    tx = vault.redeem(shares, investor, investor, sender=investor)

    total = cash + kit.collateral.value()
    expected = to_assets(shares, total, supply)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.shares, log.assets) == (shares, expected)
    assert kit.token.balanceOf(investor) == before + expected
    assert vault.free_cash() == cash - expected


def test_queue_prices_pro_rata_without_dead_shares(
    winding_pool, admin, operator, investor, other_investor
):
    """Two requests fulfilled in one call: each gets floor(shares * NAV / (supply - DEAD_SHARES)),
    more than the vault's own conversion (virtual and dead shares) would pay."""
    kit = winding_pool.kit
    vault, queue = kit.vault, kit.queue
    wind_down(kit, admin)
    requests = [(investor, vault.balanceOf(investor) // 3), (other_investor, 7 * 10**15)]
    for holder, shares in requests:
        queue.requestRedeem(shares, holder, holder, sender=holder)
    cash, supply, live = vault.free_cash(), vault.totalSupply(), live_supply(vault)

    tx = queue.fulfil(2, sender=operator)

    # The collateral's value in the fulfilment's block (it falls every second).
    total = cash + kit.collateral.value(block_id=tx.block_number)
    logs = logs_of(tx, queue, "RedeemFulfilled")
    expected = [(holder, shares, shares * total // live, 0) for holder, shares in requests]
    assert [(log.controller, log.shares, log.assets, log.remaining) for log in logs] == expected
    for _, shares, assets, _ in expected:
        assert assets > to_assets(shares, total, supply)
    assert queue.reserved() == sum(assets for _, _, assets, _ in expected)
    assert vault.free_cash() == cash - queue.reserved()
    assert vault.totalSupply() == supply - sum(shares for _, shares in requests)


def sell_every_gpu(pool: Pool, operator, buyer, chain) -> list:
    """The operator lists each GPU at its floor (the first one PREMIUM above it) and `buyer` takes
    it a block later: in wind-down all of each price enters free cash. Returns the receipts."""
    kit = pool.kit
    vault, market, collateral, token = kit.vault, kit.market, kit.collateral, kit.token
    receipts = []
    for index, token_id in enumerate(pool.gpu_ids):
        price = market.floor(token_id) + (PREMIUM if index == 0 else 0)
        market.list_gpu(token_id, price, chain.pending_timestamp + DAY, sender=operator)
        fund(token, buyer, price)
        token.approve(vault, price, sender=buyer)
        cash = vault.free_cash()
        tx = market.buy_gpu(token_id, price, sender=buyer)
        [released] = logs_of(tx, collateral, "GpuReleased")
        assert (released.token_id, released.to, released.price) == (token_id, buyer, price)
        assert released.to_cash == price
        assert vault.free_cash() == cash + price
        assert not logs_of(tx, vault, "Skimmed")
        receipts.append(tx)
    return receipts


def vest_and_recycle(kit, holders, chain) -> tuple[list[int], int]:
    """Let every stream end, the holders claim, and `skim` take what the vault's own fractions
    (the dead shares) earned back into a new stream, until it takes nothing. Returns what each
    skim recycled and what the holders claimed."""
    vault = kit.vault
    recycled, claimed = [], 0
    while True:
        chain.mine(timestamp=max(vault.revenue_state()[4], chain.pending_timestamp) + 1)
        for holder in holders:
            if vault.claimable(holder):
                claimed += claimed_in(vault.claim(sender=holder), vault)
        tx = vault.skim(sender=holder)
        [skimmed] = logs_of(tx, vault, "Skimmed")
        assert skimmed.donation == 0
        recycled.append(skimmed.recycled)
        if skimmed.recycled == 0:
            return recycled, claimed


def test_last_holder_exit_leaves_nothing_stranded(
    winding_pool, registry, admin, operator, attacker, chain
):
    """The GPUs sold, the revenue vested and claimed (what the dead shares earned recycled until
    nothing whole is left), every holder requests everything; the operator fulfils one request a
    call, the last taking the last of NAV; the controllers claim, the fees are claimed. Left: the
    dead shares, no GPU, no free cash, no reserve, and in the vault only the revenue's dust."""
    kit, holders = winding_pool.kit, winding_pool.holders
    vault, queue, collateral, token = kit.vault, kit.queue, kit.collateral, kit.token
    wind_down(kit, admin)
    sell_every_gpu(winding_pool, operator, attacker, chain)
    assert registry.balanceOf(collateral) == 0
    assert collateral.value() == 0 and collateral.schedule_state()[1] == 0

    recycled, claimed = vest_and_recycle(kit, holders, chain)
    assert vault.received() == vault.held() + claimed
    assert recycled[0] > 0 and recycled[-1] == 0
    nav = vault.totalAssets()
    assert nav == vault.free_cash()
    balances = [vault.balanceOf(holder) for holder in holders]
    for holder, shares in zip(holders, balances, strict=True):
        queue.requestRedeem(shares, holder, holder, sender=holder)
    paid = []
    for shares in balances:
        cash, live = vault.free_cash(), live_supply(vault)
        tx = queue.fulfil(1, sender=operator)
        [log] = logs_of(tx, queue, "RedeemFulfilled")
        assert (log.shares, log.assets, log.remaining) == (shares, shares * cash // live, 0)
        paid.append(log.assets)
    assert paid[-1] == nav - sum(paid[:-1])
    for holder, assets in zip(holders, paid, strict=True):
        before = token.balanceOf(holder)
        queue.redeem(queue.maxRedeem(holder), holder, holder, sender=holder)
        assert token.balanceOf(holder) == before + assets
    vault.claim_fees(sender=attacker)

    dead = vault.DEAD_SHARES()
    assert vault.totalSupply() == vault.balanceOf(vault) == dead
    assert all(vault.balanceOf(holder) == 0 for holder in holders)
    assert vault.free_cash() == 0 and vault.totalAssets() == 0
    assert vault.accrued_fees() == 0
    assert (queue.reserved(), queue.pending_shares(), queue.open_requests()) == (0, 0, 0)
    assert token.balanceOf(queue) == 0
    assert registry.balanceOf(collateral) == 0
    # Nothing is claimable or vesting: the vault's stablecoin is the revenue's dust alone.
    assert vault.unvested() == 0
    assert all(vault.claimable(account) == 0 for account in (*holders, vault))
    left = token.balanceOf(vault)
    assert left == vault.held() == vault.received() - claimed
    assert left <= len(holders) + 1 + DUST_GLOBAL


def test_batch_fulfilment_takes_the_last_wei(winding_pool, admin, operator, attacker, chain):
    """The same exit with every request fulfilled in one call: the request holding the last live
    fractions must take the last of NAV to the wei, wherever it sits in the batch."""
    kit, holders = winding_pool.kit, winding_pool.holders
    vault, queue = kit.vault, kit.queue
    wind_down(kit, admin)
    sell_every_gpu(winding_pool, operator, attacker, chain)
    vest_and_recycle(kit, holders, chain)
    nav = vault.totalAssets()
    for holder in holders:
        queue.requestRedeem(vault.balanceOf(holder), holder, holder, sender=holder)

    tx = queue.fulfil(len(holders), sender=operator)

    assert sum(log.assets for log in logs_of(tx, queue, "RedeemFulfilled")) == nav
    assert vault.free_cash() == 0
    assert vault.totalSupply() == vault.DEAD_SHARES()
