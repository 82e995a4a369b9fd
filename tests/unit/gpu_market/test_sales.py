"""list_gpu / cancel_listing / buy_gpu / floor: the pool sells a GPU it holds to a buyer who pays
in the same transaction, at the operator's listed price and never below the floor (the GPU's
collateral value in that block, or the appraiser's recovery value for a GPU that is impaired,
retired or marked down by a default). The proceeds enter free cash up to the GPU's collateral
value, so NAV does not move but for the aggregate's rounding; the rest is a gain streamed to
holders (the vault's `skim`); in wind-down all of it enters free cash."""

from dataclasses import dataclass

import ape
import pytest

from tests.unit.gpu_collateral.conftest import REASON, read_many, reasons
from tests.utils.collateral import DAY, State
from tests.utils.market import (
    BELOW_FLOOR,
    EXPIRED,
    EXPIRY_TOO_FAR,
    MAX_EXPIRY,
    MAX_PRICE,
    NO_FLOOR,
    NO_LISTING,
    NOT_HELD_BY_POOL,
    PRICE_DIFFERS,
    PRICE_TOO_LARGE,
    RELEASE_UNDER_LEASE,
    UNDER_LEASE,
    WINDING_DOWN,
    ZERO_PRICE,
)
from tests.utils.registry import ROLE_FIXTURES, USDC, GpuStatus
from tests.utils.vault import LEASE_MANAGER_ROLE, MISSING_ROLE, PAUSED, fund, logs_of

PREMIUM = 1_234 * USDC + 1
INSUFFICIENT_ALLOWANCE = "erc20: insufficient allowance"


@pytest.fixture
def stocked(stocked_market):
    return stocked_market


@pytest.fixture(scope="session")
def buyer(lessee):
    """Whoever buys a GPU out of the pool: no verification needed (a GPU is not a fraction)."""
    return lessee


def list_for(pool, token_id: int, price: int, buyer, operator, expires_at: int | None = None):
    """The operator lists `token_id` at `price` (for a day unless `expires_at`); `buyer` is
    funded with the price and approved the vault for it. Returns the receipt."""
    expires_at = expires_at or pool.chain.pending_timestamp + DAY
    tx = pool.market.list_gpu(token_id, price, expires_at, sender=operator)
    fund(pool.kit.token, buyer, price)
    pool.kit.token.approve(pool.vault, price, sender=buyer)
    return tx


@dataclass(frozen=True)
class Figures:
    """What a sale moves, read in one batch at the latest block."""

    free_cash: int
    nav: int
    collateral: int
    unvested: int
    received: int
    supply: int
    buyers_cash: int
    vaults_cash: int

    @property
    def balances(self) -> tuple[int, ...]:
        """The figures only a flow moves (NAV and the collateral value move with the clock)."""
        return self.free_cash, self.received, self.supply, self.buyers_cash, self.vaults_cash

    @classmethod
    def read(cls, pool, buyer) -> "Figures":
        vault, token = pool.vault, pool.kit.token
        return cls(
            *read_many(
                pool.chain,
                [
                    (vault, "free_cash", ()),
                    (vault, "totalAssets", ()),
                    (pool.collateral, "value", ()),
                    (vault, "unvested", ()),
                    (vault, "received", ()),
                    (vault, "totalSupply", ()),
                    (token, "balanceOf", (buyer,)),
                    (token, "balanceOf", (pool.vault,)),
                ],
            )
        )


def sold_logs(tx, market) -> list[tuple]:
    return [
        (log.token_id, log.buyer, log.price, log.value, log.floor)
        for log in logs_of(tx, market, "GpuSold")
    ]


def released_logs(tx, collateral) -> list[tuple]:
    return [
        (log.token_id, log.to, log.price, log.value, log.to_cash)
        for log in logs_of(tx, collateral, "GpuReleased")
    ]


def gone(pool, token_id: int, buyer) -> None:
    """The GPU is the buyer's and the pool keeps nothing of it: no position, no mark, no
    listing, no value."""
    collateral = pool.collateral
    assert pool.registry.ownerOf(token_id) == buyer.address
    assert collateral.position(token_id) == (State.NONE, 0, 0, 0)
    assert collateral.appraisal(token_id) == (0, 0, False, 0)
    assert collateral.value_of(token_id) == 0
    assert pool.market.listing(token_id) == (0, 0)


# LISTING #


def test_list_gpu(stocked, operator, chain):
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    price, expires_at = 30_000 * USDC, chain.pending_timestamp + 3 * DAY

    tx = market.list_gpu(gpu, price, expires_at, sender=operator)

    [log] = logs_of(tx, market, "GpuListed")
    assert (log.token_id, log.price, log.expires_at, log.operator) == (
        gpu,
        price,
        expires_at,
        operator.address,
    )
    assert market.listing(gpu) == (price, expires_at)
    # Listing moves nothing: the GPU stays held and counted.
    assert pool.registry.ownerOf(gpu) == pool.collateral.address
    pool.check()


def test_listing_and_cancel_operator_only(stocked, operator, chain, request):
    """Every role fixture but the operator, and a stranger, is refused both."""
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    expires_at = chain.pending_timestamp + DAY
    others = [request.getfixturevalue(name) for name in ROLE_FIXTURES if name != "operator"]
    lists = [(market, "list_gpu", (gpu, USDC, expires_at), who) for who in others]
    assert reasons(pool.chain, lists) == [MISSING_ROLE] * len(others)
    market.list_gpu(gpu, USDC, expires_at, sender=operator)
    cancels = [(market, "cancel_listing", (gpu,), who) for who in others]
    assert reasons(pool.chain, cancels) == [MISSING_ROLE] * len(others)
    assert market.listing(gpu) == (USDC, expires_at)


def test_only_a_gpu_the_pool_holds_is_listed(stocked, operator, buyer, chain):
    """A GPU its owner keeps, and one the pool has sold, are refused; one the pool holds is
    listed."""
    pool = stocked.pool
    market = pool.market
    expires_at = chain.pending_timestamp + DAY
    outside = pool.register()
    with ape.reverts(NOT_HELD_BY_POOL):
        market.list_gpu(outside, USDC, expires_at, sender=operator)
    assert market.listing(outside) == (0, 0)

    gpu = stocked.first
    price = market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    pool.take(gpu, buyer, price)
    with ape.reverts(NOT_HELD_BY_POOL):
        market.list_gpu(gpu, USDC, expires_at, sender=operator)
    market.list_gpu(stocked.twin, USDC, expires_at, sender=operator)
    assert market.listing(stocked.twin) == (USDC, expires_at)


def test_no_listing_and_no_sale_under_lease(stocked, operator, lessee, buyer, chain):
    """A GPU under lease is not listed; one listed before its lease opened is not sold (the
    collateral refuses to release it): the lessee keeps using it."""
    pool, gpu = stocked.pool, stocked.first
    market, leases = pool.market, pool.kit.leases
    price = market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    leases.open_lease(lessee, 1_000 * USDC, 30 * DAY, 3, DAY, [gpu], sender=operator)
    assert pool.registry.gpu(gpu).status == GpuStatus.LEASED
    with ape.reverts(UNDER_LEASE):
        market.list_gpu(gpu, price, chain.pending_timestamp + DAY, sender=operator)
    before = Figures.read(pool, buyer)
    with ape.reverts(RELEASE_UNDER_LEASE):
        market.buy_gpu(gpu, price, sender=buyer)
    assert Figures.read(pool, buyer).balances == before.balances
    assert pool.registry.ownerOf(gpu) == pool.collateral.address
    assert market.listing(gpu) == (price, market.listing(gpu)[1])
    pool.check()


def test_listing_bounds(stocked, operator, chain):
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    now = chain.pending_timestamp
    with ape.reverts(ZERO_PRICE):
        market.list_gpu(gpu, 0, now + DAY, sender=operator)
    with ape.reverts(PRICE_TOO_LARGE):
        market.list_gpu(gpu, MAX_PRICE + 1, now + DAY, sender=operator)
    pool.next_at(now + 10)
    with ape.reverts(EXPIRED):
        market.list_gpu(gpu, 1, now + 9, sender=operator)
    with ape.reverts(EXPIRY_TOO_FAR):
        market.list_gpu(gpu, 1, MAX_EXPIRY + 1, sender=operator)
    assert market.listing(gpu) == (0, 0)
    # The bounds themselves: the largest price, the latest expiry, one that ends in its block.
    market.list_gpu(gpu, MAX_PRICE, MAX_EXPIRY, sender=operator)
    assert market.listing(gpu) == (MAX_PRICE, MAX_EXPIRY)
    pool.next_at(now + 20)
    market.list_gpu(gpu, 1, now + 20, sender=operator)
    assert market.listing(gpu) == (1, now + 20)


def test_listing_replaced(stocked, operator, buyer, chain):
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    first = market.floor(gpu) + 2 * PREMIUM
    second = first - PREMIUM
    now = chain.pending_timestamp
    list_for(pool, gpu, first, buyer, operator, now + DAY)
    tx = market.list_gpu(gpu, second, now + 2 * DAY, sender=operator)
    [log] = logs_of(tx, market, "GpuListed")
    assert (log.price, log.expires_at) == (second, now + 2 * DAY)
    assert market.listing(gpu) == (second, now + 2 * DAY)
    with ape.reverts(PRICE_DIFFERS):
        market.buy_gpu(gpu, first, sender=buyer)
    pool.take(gpu, buyer, second)
    gone(pool, gpu, buyer)
    pool.check()


def test_cancel_listing(stocked, operator, buyer, chain):
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    price = market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)

    tx = market.cancel_listing(gpu, sender=operator)

    [log] = logs_of(tx, market, "GpuListingCancelled")
    assert (log.token_id, log.operator) == (gpu, operator.address)
    assert market.listing(gpu) == (0, 0)
    with ape.reverts(NO_LISTING):
        market.buy_gpu(gpu, price, sender=buyer)
    with ape.reverts(NO_LISTING):
        market.cancel_listing(gpu, sender=operator)
    assert pool.registry.ownerOf(gpu) == pool.collateral.address


# BUYING #


def test_buy_at_the_listed_price(stocked, operator, buyer):
    """Price = the GPU's collateral value + a premium: the buyer pays the vault and receives the
    GPU token in one transaction; free cash takes exactly the value, the premium is streamed
    (Skimmed, unvested grows by it to the wei), NAV is unchanged but for the aggregate's one wei
    a counted GPU, the collateral value falls by the GPU's, and the pool keeps nothing of it."""
    pool, gpu = stocked.pool, stocked.first
    market, collateral, vault = pool.market, pool.collateral, pool.vault
    token, registry = pool.kit.token, pool.registry
    at = pool.chain.pending_timestamp + 1_000
    value = pool.book.value_of(gpu, at)
    price = value + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    pool.pin(at)
    before = Figures.read(pool, buyer)
    assert before.unvested == 0
    assert market.floor(gpu) == value
    assert market.buy_gpu.call(gpu, price, sender=buyer) == value

    tx, released = pool.take(gpu, buyer, price)

    assert tx.timestamp == at
    assert released == value
    assert sold_logs(tx, market) == [(gpu, buyer.address, price, value, value)]
    assert released_logs(tx, collateral) == [(gpu, buyer.address, price, value, value)]
    [skimmed] = logs_of(tx, vault, "Skimmed")
    assert (skimmed.donation, skimmed.recycled) == (PREMIUM, 0)
    [moved] = logs_of(tx, registry, "Transfer")
    assert (moved.sender, moved.receiver, moved.token_id) == (
        collateral.address,
        buyer.address,
        gpu,
    )
    [paid] = logs_of(tx, token, "Transfer")
    assert (paid.sender, paid.receiver, paid.value) == (buyer.address, vault.address, price)
    after = Figures.read(pool, buyer)
    assert after.buyers_cash == before.buyers_cash - price
    assert after.vaults_cash == before.vaults_cash + price
    assert after.free_cash == before.free_cash + value
    assert after.unvested == before.unvested + PREMIUM
    assert after.received == before.received + PREMIUM
    assert after.supply == before.supply
    assert after.collateral == pool.book.value(at)
    # The aggregate held the GPU at its value_of less up to one wei: NAV moves by 0 or +1.
    assert after.nav == after.free_cash + after.collateral
    assert after.nav - before.nav == value - (before.collateral - after.collateral)
    assert after.nav - before.nav in (0, 1)
    gone(pool, gpu, buyer)
    pool.check()


def test_buy_at_the_floor_streams_nothing(stocked, operator, buyer):
    """At exactly the floor (the collateral value) all of the price enters free cash, nothing is
    skimmed; one wei less is refused."""
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    at = pool.chain.pending_timestamp + 1_000
    value = pool.book.value_of(gpu, at)
    with pool.chain.isolate():
        list_for(pool, gpu, value - 1, buyer, operator)
        pool.next_at(at)
        with ape.reverts(BELOW_FLOOR):
            market.buy_gpu(gpu, value - 1, sender=buyer)
    list_for(pool, gpu, value, buyer, operator)
    pool.pin(at)
    before = Figures.read(pool, buyer)

    tx, released = pool.take(gpu, buyer, value)

    assert released == value
    assert released_logs(tx, pool.collateral) == [(gpu, buyer.address, value, value, value)]
    assert logs_of(tx, pool.vault, "Skimmed") == []
    after = Figures.read(pool, buyer)
    assert after.free_cash == before.free_cash + value
    assert after.unvested == before.unvested == 0
    gone(pool, gpu, buyer)
    pool.check()


def test_price_must_equal_the_listing(stocked, operator, buyer):
    pool, gpu = stocked.pool, stocked.first
    price = pool.market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    for wrong in (price - 1, price + 1, 0):
        with ape.reverts(PRICE_DIFFERS):
            pool.market.buy_gpu(gpu, wrong, sender=buyer)
    pool.take(gpu, buyer, price)
    pool.check()


def test_listing_expires_after_its_last_second(stocked, operator, buyer, chain):
    pool, gpu = stocked.pool, stocked.first
    price = pool.market.floor(gpu) + PREMIUM
    expires_at = chain.pending_timestamp + DAY
    list_for(pool, gpu, price, buyer, operator, expires_at)
    with chain.isolate():
        pool.next_at(expires_at + 1)
        with ape.reverts(EXPIRED):
            pool.market.buy_gpu(gpu, price, sender=buyer)
    pool.next_at(expires_at)
    tx, _ = pool.take(gpu, buyer, price)
    assert tx.timestamp == expires_at
    pool.check()


def test_no_listing_no_sale(stocked, buyer):
    pool, gpu = stocked.pool, stocked.first
    fund(pool.kit.token, buyer, 30_000 * USDC)
    pool.kit.token.approve(pool.vault, 30_000 * USDC, sender=buyer)
    with ape.reverts(NO_LISTING):
        pool.market.buy_gpu(gpu, 30_000 * USDC, sender=buyer)
    assert pool.registry.ownerOf(gpu) == pool.collateral.address


def test_the_buyer_pays_in_the_same_transaction(stocked, operator, buyer):
    """Without the vault's allowance for the price nothing moves (the GPU stays counted)."""
    pool, gpu = stocked.pool, stocked.first
    price = pool.market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    pool.kit.token.approve(pool.vault, price - 1, sender=buyer)
    before = Figures.read(pool, buyer)
    with ape.reverts(INSUFFICIENT_ALLOWANCE):
        pool.market.buy_gpu(gpu, price, sender=buyer)
    assert Figures.read(pool, buyer).balances == before.balances
    assert pool.registry.ownerOf(gpu) == pool.collateral.address
    pool.kit.token.approve(pool.vault, price, sender=buyer)
    pool.take(gpu, buyer, price)
    gone(pool, gpu, buyer)
    pool.check()


def test_sale_refused_while_paused(stocked, operator, buyer, pauser, admin):
    """The vault collects the price: paused, it refuses (its own reason); unpaused, it sells."""
    pool, gpu = stocked.pool, stocked.first
    price = pool.market.floor(gpu) + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    pool.vault.pause(sender=pauser)
    before = Figures.read(pool, buyer)
    with ape.reverts(PAUSED):
        pool.market.buy_gpu(gpu, price, sender=buyer)
    assert Figures.read(pool, buyer).balances == before.balances
    assert pool.registry.ownerOf(gpu) == pool.collateral.address
    pool.vault.unpause(sender=admin)
    pool.take(gpu, buyer, price)
    gone(pool, gpu, buyer)
    pool.check()


def test_sale_in_wind_down_puts_the_whole_price_in_free_cash(stocked, operator, buyer, admin):
    """In wind-down no entry is left to capture a gain: the premium enters free cash with the
    rest (nothing skimmed), and NAV rises by it (but for the aggregate's wei)."""
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    pool.collateral.wind_down(sender=admin)
    at = pool.chain.pending_timestamp + 1_000
    value = pool.book.value_of(gpu, at)
    price = value + PREMIUM
    list_for(pool, gpu, price, buyer, operator)
    pool.pin(at)
    before = Figures.read(pool, buyer)

    tx, released = pool.take(gpu, buyer, price)

    assert released == value
    assert sold_logs(tx, market) == [(gpu, buyer.address, price, value, value)]
    assert released_logs(tx, pool.collateral) == [(gpu, buyer.address, price, value, price)]
    assert logs_of(tx, pool.vault, "Skimmed") == []
    after = Figures.read(pool, buyer)
    assert after.free_cash == before.free_cash + price
    assert after.unvested == before.unvested == 0
    assert after.collateral == pool.book.value(at)
    assert after.nav - before.nav - PREMIUM in (0, 1)
    gone(pool, gpu, buyer)


def test_purchase_refused_but_sale_open_in_wind_down(stocked, operator, investor, admin, chain):
    """Wind-down stops the pool buying GPUs with its cash (sell_gpu), not selling them."""
    pool = stocked.pool
    market = pool.market
    theirs = pool.register(owner=investor)
    market.offer_gpu(theirs, USDC, chain.pending_timestamp + DAY, sender=operator)
    pool.collateral.wind_down(sender=admin)
    with ape.reverts(WINDING_DOWN):
        market.sell_gpu(theirs, USDC, sender=investor)
    market.list_gpu(stocked.first, USDC, chain.pending_timestamp + DAY, sender=operator)
    assert market.listing(stocked.first)[0] == USDC


# THE FLOOR #


def test_floor_of_a_healthy_gpu_is_its_collateral_value(stocked):
    """At any time the floor is `value_of`, which the sale takes out of NAV in that block."""
    pool, gpu = stocked.pool, stocked.first
    for later in (0, DAY, 10 * DAY):
        pool.view_at(pool.now() + later + 1)
        floor, value_of = read_many(
            pool.chain, [(pool.market, "floor", (gpu,)), (pool.collateral, "value_of", (gpu,))]
        )
        assert floor == value_of == pool.book.value_of(gpu, pool.now()) > 0


@pytest.mark.parametrize("status", [GpuStatus.IMPAIRED, GpuStatus.RETIRED])
def test_floor_of_a_gpu_that_no_longer_counts_is_its_recovery_value(
    stocked, operator, appraiser, buyer, status
):
    """An impaired or retired GPU is worth nothing in NAV: without the appraiser's recovery value
    it has no floor and cannot be sold; with one, that is its floor (one wei less refused), and
    all of the price is a gain streamed to holders (no value leaves NAV). An impaired one holds
    entries until it leaves; a retired one holds nothing."""
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    pool.set_status(gpu, status)
    assert pool.collateral.value_of(gpu) == 0
    assert pool.collateral.held_down() == (1 if status == GpuStatus.IMPAIRED else 0)
    recovery = 5_000 * USDC
    list_for(pool, gpu, recovery, buyer, operator)
    with ape.reverts(NO_FLOOR):
        market.floor(gpu)
    with ape.reverts(NO_FLOOR):
        market.buy_gpu(gpu, recovery, sender=buyer)

    pool.kit.appraisals.set_recovery_value(gpu, recovery, REASON, sender=appraiser)

    assert market.floor(gpu) == recovery
    list_for(pool, gpu, recovery - 1, buyer, operator)
    with ape.reverts(BELOW_FLOOR):
        market.buy_gpu(gpu, recovery - 1, sender=buyer)
    list_for(pool, gpu, recovery, buyer, operator)
    before = Figures.read(pool, buyer)
    tx, released = pool.take(gpu, buyer, recovery)
    assert released == 0
    assert sold_logs(tx, market) == [(gpu, buyer.address, recovery, 0, recovery)]
    assert released_logs(tx, pool.collateral) == [(gpu, buyer.address, recovery, 0, 0)]
    assert logs_of(tx, pool.vault, "Skimmed")[0].donation == recovery
    after = Figures.read(pool, buyer)
    assert after.free_cash == before.free_cash
    assert after.unvested == before.unvested + recovery
    assert after.collateral == pool.book.value(pool.now())
    gone(pool, gpu, buyer)
    assert pool.collateral.held_down() == 0
    pool.check()


def test_floor_of_a_defaulted_gpu(stocked, operator, appraiser, admin, buyer):
    """A default marks the GPU down to its recovery value (book), which is then its floor, above
    its collateral value (book x advance rate): the difference is a gain streamed. Without a
    recovery value set, a defaulted GPU's floor is its collateral value. Both marks are below the
    GPUs' lines and hold entries; the sale takes the sold GPU's hold with it."""
    pool = stocked.pool
    market, appraisals = pool.market, pool.kit.appraisals
    appraisals.grantRole(LEASE_MANAGER_ROLE, operator, sender=admin)  # stands in for a lease
    recovery = 12_000 * USDC
    appraisals.set_recovery_value(stocked.first, recovery, REASON, sender=appraiser)
    pool.mark_default([stocked.first, stocked.twin], {stocked.first: recovery}, operator)

    assert pool.collateral.appraisal(stocked.first)[2] is True
    value = pool.collateral.value_of(stocked.first)
    assert market.floor(stocked.first) == recovery > value > 0
    assert market.floor(stocked.twin) == pool.collateral.value_of(stocked.twin) > 0
    assert pool.collateral.held_down() == 2

    list_for(pool, stocked.first, recovery, buyer, operator)
    before = Figures.read(pool, buyer)
    tx, released = pool.take(stocked.first, buyer, recovery)
    assert released_logs(tx, pool.collateral) == [
        (stocked.first, buyer.address, recovery, released, released)
    ]
    assert logs_of(tx, pool.vault, "Skimmed")[0].donation == recovery - released
    after = Figures.read(pool, buyer)
    assert after.free_cash == before.free_cash + released
    gone(pool, stocked.first, buyer)
    assert (pool.collateral.held_down(), pool.collateral.entries_open()) == (1, False)
    pool.check()


def test_a_stale_gpu_has_no_floor(stocked, operator, appraiser, buyer):
    """A GPU past its stale day is worth nothing until the custodian attests it: no floor, no
    sale, a recovery value notwithstanding (it still counts, stale)."""
    pool, gpu = stocked.pool, stocked.first
    market = pool.market
    stale_at = pool.collateral.position(gpu)[3]
    price = 20_000 * USDC
    list_for(pool, gpu, price, buyer, operator, stale_at + DAY)
    pool.kit.appraisals.set_recovery_value(gpu, price, REASON, sender=appraiser)
    pool.pin(stale_at)
    assert pool.collateral.value_of(gpu) == 0
    with ape.reverts(NO_FLOOR):
        market.floor(gpu)
    with ape.reverts(NO_FLOOR):
        market.buy_gpu(gpu, price, sender=buyer)
    assert pool.registry.ownerOf(gpu) == pool.collateral.address
