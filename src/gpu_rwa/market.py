"""The pool's GPU trades for cash, through its GpuMarket: GPUs bought in (the operator offers free
cash, the owner accepts) and GPUs sold out (the operator lists a GPU the pool holds, a buyer takes
it, paying in the same transaction).

A purchase pays at most the GPU's own collateral value as it comes in, from free cash, to a
verified owner, and never in wind-down. A sale is at no less than the GPU's floor in its block:
its collateral value, or the appraiser's recovery value for a GPU that is impaired, retired or
marked down by a lease default. The price enters free cash up to the collateral value that
leaves (NAV unchanged); the rest is a gain streamed to holders, or, in wind-down, free cash too.

Everything the chain can answer is checked before anything is sent, in one line (as in
`gpu_rwa.pool`); what is sent goes through `send()`.
"""

from dataclasses import dataclass

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError
from pydantic import Field

from gpu_rwa.chain import require_role, send
from gpu_rwa.collateral import (
    _approve_one,
    _date,
    _require_enterable,
    _require_owner,
    line_value,
    terms_of,
)
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import (
    COUNTED,
    NOT_HELD,
    Pool,
    require_current,
    require_not_paused,
    require_verified,
)
from gpu_rwa.registry import STATUS_CODES, Terms
from gpu_rwa.types import StableAmount

# An offer's default and longest life, in days; a listing's, in hours.
DEFAULT_OFFER_DAYS = 7
MAX_OFFER_DAYS = 365
DEFAULT_LISTING_HOURS = 7 * 24
MAX_LISTING_HOURS = 365 * 24
# The accept pre-check values the GPU this much later than the pending block: the value only
# falls, so a price that passes here passes in the block that includes the purchase.
PRICE_CHECK_MARGIN = 60


def own_value(pool: Pool, terms: Terms, timestamp: int) -> int:
    """The collateral value a GPU coming in now has at `timestamp` (its line, no ramp): what the
    collateral's `admit` caps a purchase's price at."""
    return line_value(terms, timestamp, pool.collateral.ADVANCE_RATE_BPS())


# BUYING IN #


class OfferOrder(StrictModel):
    token_id: int = Field(ge=1, alias="TOKEN")
    price: StableAmount = Field(alias="--price")
    expires_days: int = Field(
        default=DEFAULT_OFFER_DAYS, ge=1, le=MAX_OFFER_DAYS, alias="--expires-days"
    )


def _require_buying(pool: Pool) -> None:
    if pool.collateral.winding_down():
        raise UserError("the pool is winding down: it buys no more GPUs (it sells them)")


def offer_gpu(
    pool: Pool, operator: AccountAPI, token_id: int, price: int, expires_at: int
) -> ReceiptAPI:
    """The operator offers `price` of free cash for `token_id`, open until `expires_at`; its owner
    accepts with `accept_offer`. Refused unless the GPU could be sold now at that price."""
    market = pool.market
    require_role(market, "OPERATOR_ROLE", operator.address, "GpuMarket")
    _require_buying(pool)
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the offer would expire on {_date(expires_at)}, which has passed")
    terms = terms_of(pool, token_id)
    _require_enterable(pool, token_id, terms, "be sold to the pool")
    # The owner may accept until the expiry and the value only falls: check it there.
    ceiling = own_value(pool, terms, expires_at)
    if price > ceiling:
        raise UserError(
            f"--price {pool.cash(price)}: GPU {token_id} is worth at most {pool.cash(ceiling)} of "
            f"collateral by the offer's expiry ({_date(expires_at)})"
        )
    free_cash = pool.vault.free_cash()
    if price > free_cash:
        raise UserError(f"--price {pool.cash(price)}: the vault has {pool.cash(free_cash)} free")
    require_verified(pool, terms.owner, "owner")
    return send(
        f"offering for GPU {token_id}",
        market.offer_gpu,
        token_id,
        price,
        expires_at,
        sender=operator,
    )


def cancel_offer(pool: Pool, operator: AccountAPI, token_id: int) -> ReceiptAPI:
    market = pool.market
    require_role(market, "OPERATOR_ROLE", operator.address, "GpuMarket")
    if market.offer(token_id)[0] == 0:
        raise UserError(f"there is no offer for GPU {token_id}: nothing to cancel")
    return send(
        f"cancelling the offer for GPU {token_id}", market.cancel_offer, token_id, sender=operator
    )


def open_offer(pool: Pool, token_id: int) -> tuple[int, int]:
    """(price, expires_at) of the open offer for `token_id`, or UserError if there is none."""
    price, expires_at = pool.market.offer(token_id)
    if price == 0:
        raise UserError(
            f"there is no offer for GPU {token_id} (the operator runs "
            f"`ape run vault offer-gpu {token_id} --price PRICE`)"
        )
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the offer for GPU {token_id} expired on {_date(expires_at)}")
    return price, expires_at


def accept_offer(pool: Pool, seller: AccountAPI, token_id: int) -> tuple[int, int, ReceiptAPI]:
    """The GPU's owner sells it at the open offer's price; returns (price, its collateral value as
    it came in, the purchase's receipt)."""
    price, _ = open_offer(pool, token_id)
    terms = terms_of(pool, token_id)
    if terms.owner != pool.collateral.address:
        _require_owner(token_id, terms, seller.address)
    _require_enterable(pool, token_id, terms, "be sold to the pool")
    _require_buying(pool)
    require_not_paused(pool, "selling GPUs to the pool")
    require_current(pool)
    require_verified(pool, seller.address, "seller")
    ceiling = own_value(pool, terms, chain.pending_timestamp + PRICE_CHECK_MARGIN)
    if price > ceiling:
        raise UserError(
            f"the offer's price {pool.cash(price)} is above the {pool.cash(ceiling)} of "
            f"collateral GPU {token_id} is worth now: the operator must offer again"
        )
    free_cash = pool.vault.free_cash()
    if price > free_cash:
        raise UserError(
            f"the offer's price {pool.cash(price)} is above the vault's free cash "
            f"{pool.cash(free_cash)}"
        )
    _approve_one(pool, seller, token_id)
    receipt = send(f"selling GPU {token_id}", pool.market.sell_gpu, token_id, price, sender=seller)
    log = next(iter(pool.market.GpuPurchased.from_receipt(receipt)))
    return log.price, log.value, receipt


# SELLING OUT #


class ListingOrder(StrictModel):
    token_id: int = Field(ge=1, alias="TOKEN")
    price: StableAmount = Field(alias="PRICE")
    expires_in: int = Field(
        default=DEFAULT_LISTING_HOURS, ge=1, le=MAX_LISTING_HOURS, alias="--expires-in"
    )


@dataclass(frozen=True)
class Sale:
    """What `take_gpu` did (GpuSold and GpuReleased): the price paid, the collateral value that
    left NAV, the part of the price that entered free cash (the rest was streamed to holders),
    and the receipts sent."""

    price: int
    value: int
    to_cash: int
    receipts: list[ReceiptAPI]


def _require_held(pool: Pool, token_id: int, terms: Terms) -> None:
    """The pool holds the GPU (counted or not) and it is not under lease."""
    collateral = pool.collateral
    if terms.owner != collateral.address:
        raise UserError(f"GPU {token_id} is not held by the pool (its owner is {terms.owner})")
    if collateral.position(token_id)[0] == NOT_HELD:
        raise UserError(
            f"GPU {token_id} was sent to the pool's collateral by a plain transfer and never "
            "counted: it cannot be sold"
        )
    if terms.status == STATUS_CODES["LEASED"]:
        lease_id = pool.leases.lease_of_gpu(token_id)
        raise UserError(f"GPU {token_id} is under lease {lease_id}: close the lease first")


def floor_of(pool: Pool, token_id: int, terms: Terms) -> int:
    """The GPU's floor now (`GpuMarket.floor`), or UserError saying why it has none: stale (the
    custodian attests it), no longer counted with no recovery value (the appraiser sets one), or
    worth nothing in NAV."""
    try:
        return pool.market.floor(token_id)
    except ContractLogicError:
        pass
    state, _, _, stale = pool.collateral.position(token_id)
    if state == COUNTED and stale <= chain.blocks.head.timestamp:
        raise UserError(
            f"GPU {token_id} went stale on {_date(stale)}: it has no floor and cannot be sold "
            "until the custodian attests it (it then returns over the unlock period)"
        ) from None
    if state != COUNTED:
        raise UserError(
            f"GPU {token_id} is {terms.status_name} and no longer counts: its floor is the "
            "appraiser's recovery value, and none is set (`ape run appraise recovery "
            f"{token_id} VALUE --reason TEXT`)"
        ) from None
    raise UserError(f"GPU {token_id} is worth nothing in NAV now: it has no floor") from None


def _floor_kind(pool: Pool, token_id: int, floor: int) -> str:
    """What the floor is: the collateral value, or the appraiser's recovery value."""
    if pool.collateral.value_of(token_id) == floor:
        return "its collateral value now"
    return "its recovery value"


def _require_not_returning(pool: Pool, token_id: int) -> None:
    """A GPU on its return ramp (re-attested after going stale, restored, marked up) is worth
    less now than it returns to: its floor, the value now, would sell the holders' return."""
    state, _, ramp_end, _ = pool.collateral.position(token_id)
    if state == COUNTED and ramp_end > chain.pending_timestamp:
        raise UserError(
            f"GPU {token_id} is returning to its value until {_date(ramp_end)}: a sale now, at "
            "its floor, would sell it below what it returns to; list it after that"
        )


def list_gpu(
    pool: Pool, operator: AccountAPI, token_id: int, price: int, expires_at: int
) -> tuple[int, ReceiptAPI]:
    """The operator lists a GPU the pool holds (not leased, not returning) at `price`, at least
    its floor now, open until `expires_at`; a buyer takes it with `take_gpu`. Returns the floor
    and the receipt."""
    market = pool.market
    require_role(market, "OPERATOR_ROLE", operator.address, "GpuMarket")
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the listing would expire on {_date(expires_at)}, which has passed")
    terms = terms_of(pool, token_id)
    _require_held(pool, token_id, terms)
    _require_not_returning(pool, token_id)
    floor = floor_of(pool, token_id, terms)
    if price < floor:
        raise UserError(
            f"PRICE {pool.cash(price)} is below GPU {token_id}'s floor of {pool.cash(floor)} "
            f"({_floor_kind(pool, token_id, floor)})"
        )
    receipt = send(
        f"listing GPU {token_id}", market.list_gpu, token_id, price, expires_at, sender=operator
    )
    return floor, receipt


def cancel_listing(pool: Pool, operator: AccountAPI, token_id: int) -> ReceiptAPI:
    market = pool.market
    require_role(market, "OPERATOR_ROLE", operator.address, "GpuMarket")
    if market.listing(token_id)[0] == 0:
        raise UserError(f"GPU {token_id} is not listed: nothing to cancel")
    return send(
        f"cancelling the listing of GPU {token_id}",
        market.cancel_listing,
        token_id,
        sender=operator,
    )


def open_listing(pool: Pool, token_id: int) -> tuple[int, int]:
    """(price, expires_at) of the open listing of `token_id`, or UserError if there is none."""
    price, expires_at = pool.market.listing(token_id)
    if price == 0:
        raise UserError(
            f"GPU {token_id} is not listed (the operator runs "
            f"`ape run vault sell-gpu {token_id} PRICE`)"
        )
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the listing of GPU {token_id} expired on {_date(expires_at)}")
    return price, expires_at


def take_gpu(pool: Pool, buyer: AccountAPI, token_id: int) -> Sale:
    """The buyer takes a listed GPU at its price: approves the vault for it if needed, then
    `buy_gpu`, which pays the vault and hands over the GPU token in one transaction."""
    price, _ = open_listing(pool, token_id)
    terms = terms_of(pool, token_id)
    _require_held(pool, token_id, terms)
    require_not_paused(pool, "buying GPUs from the pool")
    require_current(pool)
    floor = floor_of(pool, token_id, terms)
    if price < floor:
        raise UserError(
            f"the listing's price {pool.cash(price)} is below GPU {token_id}'s floor of "
            f"{pool.cash(floor)} now: the operator must list it again"
        )
    token, vault = pool.stablecoin, pool.vault
    balance = token.balanceOf(buyer.address)
    if balance < price:
        raise UserError(
            f"{buyer.address} holds {pool.cash(balance)}, less than the {pool.cash(price)} to pay"
        )
    receipts = []
    if token.allowance(buyer.address, vault.address) < price:
        receipts.append(
            send("approving the vault", token.approve, vault.address, price, sender=buyer)
        )
    receipt = send(f"buying GPU {token_id}", pool.market.buy_gpu, token_id, price, sender=buyer)
    released = next(iter(pool.collateral.GpuReleased.from_receipt(receipt)))
    return Sale(
        price=released.price,
        value=released.value,
        to_cash=released.to_cash,
        receipts=[*receipts, receipt],
    )
