"""offer_gpu / cancel_offer / sell_gpu: the pool buys a GPU with free cash only if its owner
accepts the operator's offer, at most for the GPU's own collateral value as it comes in (the
collateral's `admit`), from a verified seller, within the free cash, never in wind-down."""

import ape
import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, matured_logs, reasons
from tests.utils.collateral import (
    DAY,
    INSUFFICIENT_CASH,
    NOT_ACTIVE,
    NOT_APPROVED,
    PRICE_ABOVE_VALUE,
    SELLER_NOT_VERIFIED,
    STALE,
    State,
    floor_day,
)
from tests.utils.market import (
    ALREADY_HELD,
    EXPIRED,
    EXPIRY_TOO_FAR,
    MAX_EXPIRY,
    MAX_PRICE,
    NO_OFFER,
    OWNER_NOT_OWNER,
    PRICE_DIFFERS,
    PRICE_TOO_LARGE,
    WINDING_DOWN,
    ZERO_PRICE,
)
from tests.utils.registry import ROLE_FIXTURES, USDC, GpuStatus
from tests.utils.vault import MISSING_ROLE, PAUSED, buy, logs_of


@pytest.fixture
def funded(stocked_market):
    """The stocked pool: 100,000 USDC of free cash and two GPUs counted already (so the
    aggregate's one wei per GPU shows in the value a purchase brings in)."""
    return stocked_market.pool


@pytest.fixture
def pool(empty_market):
    return empty_market


def owned_by(pool, owner) -> int:
    """A fresh GPU registered to `owner`, who approved the collateral for it (the investor
    approved it for all in the stocked pool)."""
    token_id = pool.register(owner=owner)
    if not pool.registry.isApprovedForAll(owner, pool.collateral):
        pool.registry.approve(pool.collateral, token_id, sender=owner)
    return token_id


def own_value(pool, token_id: int, at: int) -> int:
    """The GPU's own collateral value if it came in at `at` (on a copy of the reference)."""
    book = pool.fork().book
    book.make_current(at)
    book.bring_in(token_id, pool.terms(token_id), at, False)
    return book.value_of(token_id, at)


def offer_logs(tx, market):
    return [
        (log.token_id, log.price, log.expires_at, log.operator)
        for log in logs_of(tx, market, "GpuOffered")
    ]


def test_purchase_at_the_gpus_own_value(funded, investor, operator):
    """The price may be the GPU's whole `value_of` as it comes in: the seller is paid from free
    cash, the market logs GpuPurchased and the collateral GpuAdmitted with that value, and NAV
    moves only by the aggregate's rounding (the value added is `value_of` less at most a wei)."""
    pool = funded
    market, collateral, vault = pool.market, pool.collateral, pool.vault
    token, registry = pool.kit.token, pool.registry
    token_id = owned_by(pool, investor)
    at = pool.chain.pending_timestamp + 1_000
    added, before = pool.predict(token_id, at, entry=False)
    stale_at = floor_day(pool.terms(token_id).last_attested_at + 30 * DAY)
    value = own_value(pool, token_id, at)
    assert value - 1 <= added <= value
    expires_at = at + DAY

    tx = market.offer_gpu(token_id, value, expires_at, sender=operator)

    assert offer_logs(tx, market) == [(token_id, value, expires_at, operator.address)]
    assert market.offer(token_id) == (value, expires_at)
    cash, balance, supply = vault.free_cash(), token.balanceOf(investor), vault.totalSupply()
    pool.pin(at)
    assert market.sell_gpu.call(token_id, value, sender=investor) == value

    s = pool.sell(token_id, investor, value)

    assert s.tx.timestamp == at
    assert (s.value, s.before) == (value, before)
    [log] = logs_of(s.tx, market, "GpuPurchased")
    assert (log.token_id, log.seller, log.price, log.value) == (
        token_id,
        investor.address,
        value,
        value,
    )
    [admitted] = logs_of(s.tx, collateral, "GpuAdmitted")
    assert (admitted.token_id, admitted.owner, admitted.price, admitted.value) == (
        token_id,
        investor.address,
        value,
        value,
    )
    assert counted_logs(s.tx, collateral) == [(token_id, at, 0, stale_at, value)]
    [moved] = logs_of(s.tx, registry, "Transfer")
    assert (moved.sender, moved.receiver, moved.token_id) == (
        investor.address,
        collateral.address,
        token_id,
    )
    [paid] = logs_of(s.tx, token, "Transfer")
    assert (paid.sender, paid.receiver, paid.value) == (vault.address, investor.address, value)
    assert vault.free_cash() == cash - value
    assert token.balanceOf(investor) == balance + value
    assert vault.totalSupply() == supply
    assert vault.totalAssets() == cash - value + before + added
    assert market.offer(token_id) == (0, 0)
    assert collateral.position(token_id) == (State.COUNTED, at, 0, stale_at)
    assert registry.ownerOf(token_id) == collateral.address
    pool.check()


def test_price_above_the_gpus_own_value(funded, investor, operator):
    """One wei above the GPU's `value_of` as it comes in is refused by the collateral (the offer
    stays open); a fresh offer at the value in a later block is accepted."""
    pool = funded
    market = pool.market
    token_id = owned_by(pool, investor)
    at = pool.chain.pending_timestamp + 1_000
    value = own_value(pool, token_id, at)
    expires_at = at + DAY
    market.offer_gpu(token_id, value + 1, expires_at, sender=operator)
    pool.next_at(at)
    with ape.reverts(PRICE_ABOVE_VALUE):
        market.sell_gpu(token_id, value + 1, sender=investor)
    assert market.offer(token_id) == (value + 1, expires_at)

    later = at + 100
    value = own_value(pool, token_id, later)
    market.offer_gpu(token_id, value, expires_at, sender=operator)
    pool.next_at(later)
    assert pool.sell(token_id, investor, value).value == value
    pool.check()


def test_only_the_owner_accepts(funded, investor, operator, request):
    """Every other account, the operator who made the offer included, is refused by the
    collateral's `admit`; the owner accepts."""
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    pool.market.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    others = [request.getfixturevalue(name) for name in ROLE_FIXTURES if name != "investor"]
    calls = [(pool.market, "sell_gpu", (token_id, price), account) for account in others]
    assert reasons(pool.chain, calls) == [OWNER_NOT_OWNER] * len(others)
    with ape.reverts(OWNER_NOT_OWNER):
        pool.market.sell_gpu(token_id, price, sender=operator)
    assert pool.registry.ownerOf(token_id) == investor.address
    assert pool.market.offer(token_id)[0] == price
    assert reasons(pool.chain, [(pool.market, "sell_gpu", (token_id, price), investor)]) == [None]
    pool.sell(token_id, investor, price)
    assert pool.registry.ownerOf(token_id) == pool.collateral.address
    pool.check()


def test_price_must_equal_the_offer(funded, investor, operator):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    pool.market.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    for wrong in (price - 1, price + 1, 0):
        with ape.reverts(PRICE_DIFFERS):
            pool.market.sell_gpu(token_id, wrong, sender=investor)
    pool.sell(token_id, investor, price)
    pool.check()


def test_offer_expires_after_its_last_second(funded, investor, operator, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    expires_at = chain.pending_timestamp + DAY
    pool.market.offer_gpu(token_id, price, expires_at, sender=operator)
    pool.next_at(expires_at + 1)
    with ape.reverts(EXPIRED):
        pool.market.sell_gpu(token_id, price, sender=investor)
    assert pool.registry.ownerOf(token_id) == investor.address


def test_offer_can_be_accepted_at_its_last_second(funded, investor, operator, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    expires_at = chain.pending_timestamp + DAY
    pool.market.offer_gpu(token_id, price, expires_at, sender=operator)
    pool.next_at(expires_at)
    s = pool.sell(token_id, investor, price)
    assert s.tx.timestamp == expires_at
    pool.check()


def test_price_above_free_cash(pool, investor, other_investor, operator):
    """Free cash is exactly the 1,000 USDC deposited: 1 wei more is refused by the vault."""
    buy(pool.vault, pool.kit.token, other_investor, 1_000 * USDC)
    cash = pool.vault.free_cash()
    assert cash == 1_000 * USDC
    token_id = owned_by(pool, investor)
    expires_at = pool.chain.pending_timestamp + DAY
    pool.market.offer_gpu(token_id, cash + 1, expires_at, sender=operator)
    with ape.reverts(INSUFFICIENT_CASH):
        pool.market.sell_gpu(token_id, cash + 1, sender=investor)
    pool.market.offer_gpu(token_id, cash, expires_at, sender=operator)
    pool.sell(token_id, investor, cash)
    assert pool.vault.free_cash() == 0
    pool.check()


@pytest.mark.parametrize("seller", ["attacker", "lessee"])
def test_seller_must_be_verified(funded, operator, seller, request):
    pool = funded
    account = request.getfixturevalue(seller)
    token_id = owned_by(pool, account)
    price = 1_000 * USDC
    pool.market.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    with ape.reverts(SELLER_NOT_VERIFIED):
        pool.market.sell_gpu(token_id, price, sender=account)
    assert pool.registry.ownerOf(token_id) == account.address
    assert pool.collateral.position(token_id) == (State.NONE, 0, 0, 0)


def test_offer_replaced(funded, investor, operator, chain):
    pool = funded
    market = pool.market
    token_id = owned_by(pool, investor)
    first, second = 2_000 * USDC, 1_500 * USDC
    now = chain.pending_timestamp
    market.offer_gpu(token_id, first, now + DAY, sender=operator)
    tx = market.offer_gpu(token_id, second, now + 2 * DAY, sender=operator)
    assert offer_logs(tx, market) == [(token_id, second, now + 2 * DAY, operator.address)]
    assert market.offer(token_id) == (second, now + 2 * DAY)
    with ape.reverts(PRICE_DIFFERS):
        market.sell_gpu(token_id, first, sender=investor)
    pool.sell(token_id, investor, second)
    pool.check()


def test_no_offer_for_a_gpu_already_held(funded, operator, chain):
    pool = funded
    token_id = pool.register()
    pool.contribute(token_id)
    with ape.reverts(ALREADY_HELD):
        pool.market.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    assert pool.market.offer(token_id) == (0, 0)


def test_no_offer_for_a_gpu_the_collateral_owns(funded, operator, chain):
    """A GPU sent to the collateral with a plain transfer is owned by it though it never came
    in (no position): no offer for it either, since nobody but the collateral could accept."""
    pool = funded
    token_id = pool.register()
    pool.registry.transferFrom(operator, pool.collateral, token_id, sender=operator)
    assert pool.collateral.position(token_id) == (State.NONE, 0, 0, 0)
    with ape.reverts(ALREADY_HELD):
        pool.market.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    assert pool.market.offer(token_id) == (0, 0)


def test_offer_outlived_by_a_contribution_cannot_be_used(funded, operator, chain):
    """An offer made before the GPU came in stays on record, but nobody can accept it: the
    collateral owns the GPU."""
    pool = funded
    token_id = pool.register()
    price = USDC
    pool.market.offer_gpu(token_id, price, chain.pending_timestamp + DAY, sender=operator)
    pool.contribute(token_id)
    with ape.reverts(OWNER_NOT_OWNER):
        pool.market.sell_gpu(token_id, price, sender=operator)
    tx = pool.market.cancel_offer(token_id, sender=operator)
    assert logs_of(tx, pool.market, "GpuOfferCancelled")[0].token_id == token_id
    pool.check()


def test_offer_bounds(pool, operator, chain):
    market = pool.market
    token_id = pool.register()
    now = chain.pending_timestamp
    with ape.reverts(ZERO_PRICE):
        market.offer_gpu(token_id, 0, now + DAY, sender=operator)
    with ape.reverts(PRICE_TOO_LARGE):
        market.offer_gpu(token_id, MAX_PRICE + 1, now + DAY, sender=operator)
    pool.next_at(now + 10)
    with ape.reverts(EXPIRED):
        market.offer_gpu(token_id, 1, now + 9, sender=operator)
    with ape.reverts(EXPIRY_TOO_FAR):
        market.offer_gpu(token_id, 1, MAX_EXPIRY + 1, sender=operator)
    assert market.offer(token_id) == (0, 0)
    # The bounds themselves are accepted: the largest price, the latest expiry, and an offer
    # that expires in the block it is made.
    market.offer_gpu(token_id, MAX_PRICE, MAX_EXPIRY, sender=operator)
    assert market.offer(token_id) == (MAX_PRICE, MAX_EXPIRY)
    pool.next_at(now + 20)
    tx = market.offer_gpu(token_id, 1, now + 20, sender=operator)
    assert offer_logs(tx, market) == [(token_id, 1, now + 20, operator.address)]


def test_offer_and_cancel_operator_only(pool, operator, chain, request):
    """Every role fixture but the operator, and a stranger, is refused both."""
    market = pool.market
    token_id = pool.register()
    expires_at = chain.pending_timestamp + DAY
    others = [request.getfixturevalue(name) for name in ROLE_FIXTURES if name != "operator"]
    offers = [(market, "offer_gpu", (token_id, USDC, expires_at), who) for who in others]
    assert reasons(pool.chain, offers) == [MISSING_ROLE] * len(others)
    market.offer_gpu(token_id, USDC, expires_at, sender=operator)
    cancels = [(market, "cancel_offer", (token_id,), who) for who in others]
    assert reasons(pool.chain, cancels) == [MISSING_ROLE] * len(others)
    assert market.offer(token_id) == (USDC, expires_at)
    market.cancel_offer(token_id, sender=operator)
    assert market.offer(token_id) == (0, 0)


def test_cancel_offer(funded, investor, operator, chain):
    pool = funded
    market = pool.market
    token_id = owned_by(pool, investor)
    market.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)

    tx = market.cancel_offer(token_id, sender=operator)

    [log] = logs_of(tx, market, "GpuOfferCancelled")
    assert (log.token_id, log.operator) == (token_id, operator.address)
    assert market.offer(token_id) == (0, 0)
    with ape.reverts(NO_OFFER):
        market.sell_gpu(token_id, USDC, sender=investor)
    with ape.reverts(NO_OFFER):
        market.cancel_offer(token_id, sender=operator)


def test_sale_refusals_from_the_gpu(funded, other_investor, operator, chain):
    """The GPU must be approved, ACTIVE and fresh when the owner accepts."""
    pool = funded
    market = pool.market
    token_id = pool.register(owner=other_investor)
    price = USDC
    stale_at = floor_day(pool.terms(token_id).last_attested_at + 30 * DAY)
    market.offer_gpu(token_id, price, stale_at + DAY, sender=operator)
    with ape.reverts(NOT_APPROVED):
        market.sell_gpu(token_id, price, sender=other_investor)
    pool.registry.approve(pool.collateral, token_id, sender=other_investor)
    pool.set_status(token_id, GpuStatus.OFFLINE)
    with ape.reverts(NOT_ACTIVE):
        market.sell_gpu(token_id, price, sender=other_investor)
    pool.set_status(token_id, GpuStatus.ACTIVE)
    pool.next_at(stale_at)
    with ape.reverts(STALE):
        market.sell_gpu(token_id, price, sender=other_investor)
    pool.attest(token_id)
    s = pool.sell(token_id, other_investor, price)
    assert matured_logs(s.tx, pool.collateral) == s.matured
    pool.check()


def test_purchase_refused_while_paused(funded, investor, operator, pauser, admin, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    pool.market.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    pool.vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        pool.market.sell_gpu(token_id, USDC, sender=investor)
    assert pool.registry.ownerOf(token_id) == investor.address
    pool.vault.unpause(sender=admin)
    pool.sell(token_id, investor, USDC)
    pool.check()


def test_purchase_refused_in_wind_down(funded, investor, operator, admin, chain):
    """In wind-down the pool buys nothing with its cash (it goes to redemptions): an offer can
    still be made, but not accepted."""
    pool = funded
    token_id = owned_by(pool, investor)
    pool.market.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    pool.collateral.wind_down(sender=admin)
    cash = pool.vault.free_cash()
    with ape.reverts(WINDING_DOWN):
        pool.market.sell_gpu(token_id, USDC, sender=investor)
    assert pool.registry.ownerOf(token_id) == investor.address
    assert pool.market.offer(token_id)[0] == USDC
    assert pool.vault.free_cash() == cash
    assert pool.collateral.value() == pool.book.value(pool.now())
