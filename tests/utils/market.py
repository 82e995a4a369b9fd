"""GpuMarket mirrors for tests: bounds, revert reasons, and the flows that trade a GPU for cash
(the pool buys one in at the operator's offer; a buyer takes one out at the operator's listing)."""

from __future__ import annotations

import ape

from tests.utils.vault import fund

# Bounds of an offer's or a listing's price and expiry (their packing).
MAX_PRICE = 2**128 - 1
MAX_EXPIRY = 2**40 - 1

# Revert reasons.
ALREADY_HELD = "market: gpu already held"
NO_OFFER = "market: no offer"
NO_LISTING = "market: no listing"
ZERO_PRICE = "market: zero price"
PRICE_TOO_LARGE = "market: price too large"
EXPIRED = "market: expired"
EXPIRY_TOO_FAR = "market: expiry too far"
PRICE_DIFFERS = "market: price differs from the offer"
WINDING_DOWN = "collateral: pool winding down"
NOT_HELD_BY_POOL = "market: gpu not held by the pool"
UNDER_LEASE = "market: gpu under lease; close the lease first"
BELOW_FLOOR = "market: price below floor"
NO_FLOOR = "market: no floor; the appraiser sets a recovery value"
# The collateral's, reached through the market.
OWNER_NOT_OWNER = "collateral: owner does not own the gpu"
RELEASE_UNDER_LEASE = "collateral: gpu under lease; close the lease first"


def sell_gpu(market, registry, operator, token_id: int, price: int, seller=None):
    """The operator offers `price` for `token_id` (an hour to accept) and its owner (`seller`, the
    operator by default) approves the pool's collateral and accepts: the GPU comes in for free
    cash. Returns the sell receipt."""
    seller = seller or operator
    expires_at = ape.chain.pending_timestamp + 3_600
    market.offer_gpu(token_id, price, expires_at, sender=operator)
    registry.approve(market.COLLATERAL(), token_id, sender=seller)
    return market.sell_gpu(token_id, price, sender=seller)


def buy_gpu(kit, operator, token_id: int, price: int, buyer):
    """The operator lists `token_id` at `price` (an hour to take it) and `buyer`, funded and
    having approved the vault for it, buys it. Returns the buy receipt."""
    kit.market.list_gpu(token_id, price, ape.chain.pending_timestamp + 3_600, sender=operator)
    fund(kit.token, buyer, price)
    kit.token.approve(kit.vault, price, sender=buyer)
    return kit.market.buy_gpu(token_id, price, sender=buyer)
