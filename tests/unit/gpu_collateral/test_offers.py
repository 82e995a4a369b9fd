"""offer_gpu / cancel_offer / sell_gpu: the pool buys a GPU with free cash only if its owner
accepts the operator's offer, at most for the collateral value that comes in, from a verified
seller, within the free cash."""

import ape
import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, matured_logs, reasons
from tests.utils.collateral import (
    ALREADY_HELD,
    DAY,
    EXPIRY_TOO_FAR,
    INSUFFICIENT_CASH,
    MAX_EXPIRY,
    MAX_PRICE,
    NO_OFFER,
    NOT_ACTIVE,
    NOT_APPROVED,
    NOT_OWNER,
    OFFER_EXPIRED,
    PRICE_ABOVE_VALUE,
    PRICE_DIFFERS,
    PRICE_TOO_LARGE,
    SELLER_NOT_VERIFIED,
    STALE,
    ZERO_PRICE,
    State,
    floor_day,
)
from tests.utils.registry import ROLE_FIXTURES, USDC, GpuStatus
from tests.utils.vault import MISSING_ROLE, PAUSED, buy, logs_of


@pytest.fixture
def funded(stocked):
    """The `stocked` pool: 100,000 USDC of free cash and two GPUs counted already (so the
    aggregate's one wei per GPU shows in the value a sale brings in)."""
    return stocked.pool


def owned_by(pool, owner) -> int:
    """A fresh GPU registered to `owner`, who approved the collateral for it (the investor
    approved it for all in the `stocked` pool)."""
    token_id = pool.register(owner=owner)
    if not pool.registry.isApprovedForAll(owner, pool.collateral):
        pool.registry.approve(pool.collateral, token_id, sender=owner)
    return token_id


def offer_logs(tx, collateral):
    return [
        (log.token_id, log.price, log.expires_at, log.operator)
        for log in logs_of(tx, collateral, "GpuOffered")
    ]


def test_sale_at_the_value_that_comes_in(funded, investor, operator):
    pool = funded
    collateral, vault, token, registry = pool.collateral, pool.vault, pool.kit.token, pool.registry
    token_id = owned_by(pool, investor)
    at = pool.chain.pending_timestamp + 1_000
    value, before = pool.predict(token_id, at, entry=False)
    expires_at = at + DAY

    tx = collateral.offer_gpu(token_id, value, expires_at, sender=operator)

    assert offer_logs(tx, collateral) == [(token_id, value, expires_at, operator.address)]
    assert collateral.offer(token_id) == (value, expires_at)
    cash, balance, supply = vault.free_cash(), token.balanceOf(investor), vault.totalSupply()
    pool.pin(at)
    assert collateral.sell_gpu.call(token_id, value, sender=investor) == value

    s = pool.sell(token_id, investor, value)

    assert s.tx.timestamp == at
    assert (s.value, s.before) == (value, before)
    [log] = logs_of(s.tx, collateral, "GpuPurchased")
    assert (log.token_id, log.seller, log.price, log.value) == (
        token_id,
        investor.address,
        value,
        value,
    )
    stale_at = floor_day(pool.terms(token_id).last_attested_at + 30 * DAY)
    value_of = pool.book.value_of(token_id, at)
    assert counted_logs(s.tx, collateral) == [(token_id, at, 0, stale_at, value_of)]
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
    assert vault.totalAssets() == cash - value + before + value
    assert collateral.offer(token_id) == (0, 0)
    assert collateral.position(token_id) == (State.COUNTED, at, 0, stale_at)
    assert registry.ownerOf(token_id) == collateral.address
    pool.check()


def test_price_above_the_value_that_comes_in(funded, investor, operator):
    """One wei above the value the aggregate gains is refused (that value is the GPU's value_of
    less the aggregate's rounding: an offer at value_of itself would be refused too)."""
    pool = funded
    token_id = owned_by(pool, investor)
    at = pool.chain.pending_timestamp + 1_000
    value, _ = pool.predict(token_id, at, entry=False)
    expires_at = at + DAY
    pool.collateral.offer_gpu(token_id, value + 1, expires_at, sender=operator)
    pool.next_at(at)
    with ape.reverts(PRICE_ABOVE_VALUE):
        pool.collateral.sell_gpu(token_id, value + 1, sender=investor)
    assert pool.collateral.offer(token_id) == (value + 1, expires_at)

    later = at + 100
    value, _ = pool.predict(token_id, later, entry=False)
    pool.collateral.offer_gpu(token_id, value, expires_at, sender=operator)
    pool.next_at(later)
    assert pool.sell(token_id, investor, value).value == value
    pool.check()


def test_only_the_owner_accepts(funded, investor, operator, request):
    """Every other account, the operator who made the offer included, is refused; the owner
    accepts."""
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    pool.collateral.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    others = [request.getfixturevalue(name) for name in ROLE_FIXTURES if name != "investor"]
    calls = [(pool.collateral, "sell_gpu", (token_id, price), account) for account in others]
    assert reasons(pool.chain, calls) == [NOT_OWNER] * len(others)
    with ape.reverts(NOT_OWNER):
        pool.collateral.sell_gpu(token_id, price, sender=operator)
    assert pool.registry.ownerOf(token_id) == investor.address
    assert pool.collateral.offer(token_id)[0] == price
    assert reasons(pool.chain, [(pool.collateral, "sell_gpu", (token_id, price), investor)]) == [
        None
    ]


def test_price_must_equal_the_offer(funded, investor, operator):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    pool.collateral.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    for wrong in (price - 1, price + 1, 0):
        with ape.reverts(PRICE_DIFFERS):
            pool.collateral.sell_gpu(token_id, wrong, sender=investor)
    pool.sell(token_id, investor, price)
    pool.check()


def test_offer_expires_after_its_last_second(funded, investor, operator, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    expires_at = chain.pending_timestamp + DAY
    pool.collateral.offer_gpu(token_id, price, expires_at, sender=operator)
    pool.next_at(expires_at + 1)
    with ape.reverts(OFFER_EXPIRED):
        pool.collateral.sell_gpu(token_id, price, sender=investor)
    assert pool.registry.ownerOf(token_id) == investor.address


def test_offer_can_be_accepted_at_its_last_second(funded, investor, operator, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    price = 1_000 * USDC
    expires_at = chain.pending_timestamp + DAY
    pool.collateral.offer_gpu(token_id, price, expires_at, sender=operator)
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
    pool.collateral.offer_gpu(token_id, cash + 1, expires_at, sender=operator)
    with ape.reverts(INSUFFICIENT_CASH):
        pool.collateral.sell_gpu(token_id, cash + 1, sender=investor)
    pool.collateral.offer_gpu(token_id, cash, expires_at, sender=operator)
    pool.sell(token_id, investor, cash)
    assert pool.vault.free_cash() == 0
    pool.check()


@pytest.mark.parametrize("seller", ["attacker", "lessee"])
def test_seller_must_be_verified(funded, operator, seller, request):
    pool = funded
    account = request.getfixturevalue(seller)
    token_id = owned_by(pool, account)
    price = 1_000 * USDC
    pool.collateral.offer_gpu(token_id, price, pool.chain.pending_timestamp + DAY, sender=operator)
    with ape.reverts(SELLER_NOT_VERIFIED):
        pool.collateral.sell_gpu(token_id, price, sender=account)
    assert pool.registry.ownerOf(token_id) == account.address
    assert pool.collateral.position(token_id) == (State.NONE, 0, 0, 0)


def test_offer_replaced(funded, investor, operator, chain):
    pool = funded
    collateral = pool.collateral
    token_id = owned_by(pool, investor)
    first, second = 2_000 * USDC, 1_500 * USDC
    now = chain.pending_timestamp
    collateral.offer_gpu(token_id, first, now + DAY, sender=operator)
    tx = collateral.offer_gpu(token_id, second, now + 2 * DAY, sender=operator)
    assert offer_logs(tx, collateral) == [(token_id, second, now + 2 * DAY, operator.address)]
    assert collateral.offer(token_id) == (second, now + 2 * DAY)
    with ape.reverts(PRICE_DIFFERS):
        collateral.sell_gpu(token_id, first, sender=investor)
    pool.sell(token_id, investor, second)
    pool.check()


def test_no_offer_for_a_gpu_already_held(funded, operator, chain):
    pool = funded
    token_id = pool.register()
    pool.contribute(token_id)
    with ape.reverts(ALREADY_HELD):
        pool.collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    assert pool.collateral.offer(token_id) == (0, 0)


def test_no_offer_for_a_gpu_the_collateral_owns(funded, operator, chain):
    """A GPU sent to the collateral with a plain transfer is owned by it though it never came
    in (no position): no offer for it either, since nobody but the collateral could accept."""
    pool = funded
    token_id = pool.register()
    pool.registry.transferFrom(operator, pool.collateral, token_id, sender=operator)
    assert pool.collateral.position(token_id) == (State.NONE, 0, 0, 0)
    with ape.reverts(ALREADY_HELD):
        pool.collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    assert pool.collateral.offer(token_id) == (0, 0)


def test_offer_outlived_by_a_contribution_cannot_be_used(funded, operator, chain):
    """An offer made before the GPU came in stays on record, but nobody can accept it: the
    collateral owns the GPU."""
    pool = funded
    token_id = pool.register()
    price = USDC
    pool.collateral.offer_gpu(token_id, price, chain.pending_timestamp + DAY, sender=operator)
    pool.contribute(token_id)
    with ape.reverts(NOT_OWNER):
        pool.collateral.sell_gpu(token_id, price, sender=operator)
    tx = pool.collateral.cancel_offer(token_id, sender=operator)
    assert logs_of(tx, pool.collateral, "GpuOfferCancelled")[0].token_id == token_id
    pool.check()


def test_offer_bounds(pool, operator, chain):
    collateral = pool.collateral
    token_id = pool.register()
    now = chain.pending_timestamp
    with ape.reverts(ZERO_PRICE):
        collateral.offer_gpu(token_id, 0, now + DAY, sender=operator)
    with ape.reverts(PRICE_TOO_LARGE):
        collateral.offer_gpu(token_id, MAX_PRICE + 1, now + DAY, sender=operator)
    pool.next_at(now + 10)
    with ape.reverts(OFFER_EXPIRED):
        collateral.offer_gpu(token_id, 1, now + 9, sender=operator)
    with ape.reverts(EXPIRY_TOO_FAR):
        collateral.offer_gpu(token_id, 1, MAX_EXPIRY + 1, sender=operator)
    assert collateral.offer(token_id) == (0, 0)
    # The bounds themselves are accepted: the largest price, the latest expiry, and an offer
    # that expires in the block it is made.
    collateral.offer_gpu(token_id, MAX_PRICE, MAX_EXPIRY, sender=operator)
    assert collateral.offer(token_id) == (MAX_PRICE, MAX_EXPIRY)
    pool.next_at(now + 20)
    tx = collateral.offer_gpu(token_id, 1, now + 20, sender=operator)
    assert offer_logs(tx, collateral) == [(token_id, 1, now + 20, operator.address)]


def test_offer_and_cancel_need_the_operator_role(pool, investor, operator, chain):
    token_id = pool.register()
    with ape.reverts(MISSING_ROLE):
        pool.collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=investor)
    pool.collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    with ape.reverts(MISSING_ROLE):
        pool.collateral.cancel_offer(token_id, sender=investor)
    assert pool.collateral.offer(token_id)[0] == USDC


def test_cancel_offer(funded, investor, operator, chain):
    pool = funded
    collateral = pool.collateral
    token_id = owned_by(pool, investor)
    collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)

    tx = collateral.cancel_offer(token_id, sender=operator)

    [log] = logs_of(tx, collateral, "GpuOfferCancelled")
    assert (log.token_id, log.operator) == (token_id, operator.address)
    assert collateral.offer(token_id) == (0, 0)
    with ape.reverts(NO_OFFER):
        collateral.sell_gpu(token_id, USDC, sender=investor)
    with ape.reverts(NO_OFFER):
        collateral.cancel_offer(token_id, sender=operator)


def test_sale_refusals_from_the_gpu(funded, other_investor, operator, chain):
    """The GPU must be approved, ACTIVE and fresh when the owner accepts."""
    pool = funded
    collateral = pool.collateral
    token_id = pool.register(owner=other_investor)
    price = USDC
    stale_at = floor_day(pool.terms(token_id).last_attested_at + 30 * DAY)
    collateral.offer_gpu(token_id, price, stale_at + DAY, sender=operator)
    with ape.reverts(NOT_APPROVED):
        collateral.sell_gpu(token_id, price, sender=other_investor)
    pool.registry.approve(collateral, token_id, sender=other_investor)
    pool.set_status(token_id, GpuStatus.OFFLINE)
    with ape.reverts(NOT_ACTIVE):
        collateral.sell_gpu(token_id, price, sender=other_investor)
    pool.set_status(token_id, GpuStatus.ACTIVE)
    pool.next_at(stale_at)
    with ape.reverts(STALE):
        collateral.sell_gpu(token_id, price, sender=other_investor)
    pool.attest(token_id)
    s = pool.sell(token_id, other_investor, price)
    assert matured_logs(s.tx, collateral) == s.matured
    pool.check()


def test_sale_refused_while_paused(funded, investor, operator, pauser, chain):
    pool = funded
    token_id = owned_by(pool, investor)
    pool.collateral.offer_gpu(token_id, USDC, chain.pending_timestamp + DAY, sender=operator)
    pool.vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        pool.collateral.sell_gpu(token_id, USDC, sender=investor)
    assert pool.registry.ownerOf(token_id) == investor.address
