"""The pool's GPUs, held and valued by its GpuCollateral: GPUs in (contributed for fractions, or
offered for and sold to the pool), the schedule kept current, and the collateral table.

A GPU enters only ACTIVE, freshly attested (its stale day, the last attestation plus the pool's
staleness window rounded down to a UTC midnight, still ahead) and once: the collateral values it
at book value x advance rate in the block it enters. Buying with free cash needs the owner's
consent: the operator offers a price (`offer_gpu`), the owner accepts it (`accept_offer`).

Everything the chain can answer is checked before anything is sent, in one line (as in
`gpu_rwa.pool`); what is sent goes through `send()`.
"""

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError
from pydantic import Field
from rich.table import Table

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import (
    BPS,
    COUNTED,
    NOT_HELD,
    Pool,
    require_current,
    require_entries_open,
    require_not_paused,
    require_verified,
)
from gpu_rwa.registry import STATUS_CODES, Terms
from gpu_rwa.types import (
    SECONDS_PER_DAY,
    GpuIdList,
    StableAmount,
    floor_day,
    format_age,
    format_time,
)

# GpuCollateral's constants (contracts/GpuCollateral.vy, contracts/schedule.vy).
PRECISION = 10**18
MAX_LIFE = 50 * 365 * SECONDS_PER_DAY
MAX_COST = 2**96
MAX_PROCESS_STEPS = 1_024
MAX_OFFER_PRICE = 2**128 - 1
# An offer's default and longest life, in days.
DEFAULT_OFFER_DAYS = 7
MAX_OFFER_DAYS = 365
# The accept pre-check values the GPU this much later than the pending block: the value only
# falls, so a price that passes here passes in the block that includes the sale.
PRICE_CHECK_MARGIN = 60


def _date(timestamp: int) -> str:
    return f"{format_time(timestamp)} UTC"


def terms_of(pool: Pool, token_id: int) -> Terms:
    """The registry's terms of `token_id`, or UserError if it is not registered."""
    try:
        raw = pool.registry.terms(token_id)
    except ContractLogicError as exc:
        raise UserError(f"GPU {token_id} is not registered") from exc
    return Terms(*(getattr(raw, field) for field in Terms._fields))


def stale_at(pool: Pool, terms: Terms) -> int:
    """The first second the GPU no longer counts unless attested again (a UTC midnight)."""
    return floor_day(terms.last_attested_at + pool.collateral.STALENESS_WINDOW())


def line_value(terms: Terms, timestamp: int, rate_bps: int) -> int:
    """The collateral value at `timestamp` of a GPU counted at full value (no ramp), computed as
    the contract does: straight line from cost at acquisition to salvage at the end of life
    rounded down to a UTC midnight, its slope rounded up, times the advance rate, floored.
    Staleness is left out (see `stale_at`)."""
    end = floor_day(terms.acquired_at + min(terms.useful_life, MAX_LIFE))
    if timestamp < end:
        span = end - terms.acquired_at
        fall = -(-(terms.cost - terms.salvage) * PRECISION // span)
        scaled = terms.cost * PRECISION - fall * (timestamp - terms.acquired_at)
    else:
        scaled = terms.salvage * PRECISION
    return max(scaled, 0) * rate_bps // (BPS * PRECISION)


def value_added(pool: Pool, terms: Terms, timestamp: int) -> int:
    """A floor on the collateral value a GPU entering at `timestamp` adds to the pool: its line
    value less the wei the aggregate gives up per counted GPU (one, or every counted GPU's when
    the aggregate is already at zero)."""
    collateral = pool.collateral
    own = line_value(terms, timestamp, collateral.ADVANCE_RATE_BPS())
    lost = 1 if collateral.value() > 0 else 1 + collateral.schedule_state()[1]
    return max(own - lost, 0)


# PRE-CHECKS #


def _require_fresh(pool: Pool, token_id: int, terms: Terms) -> None:
    stale = stale_at(pool, terms)
    if stale <= chain.pending_timestamp:
        raise UserError(
            f"GPU {token_id} was last attested on {_date(terms.last_attested_at)} and went stale "
            f"on {_date(stale)}: the custodian must attest it first "
            f"(`ape run registry attest {token_id}`)"
        )


def _require_enterable(pool: Pool, token_id: int, terms: Terms, doing: str) -> None:
    """What `_bring_in` checks: not held, ACTIVE, cost within bounds, attestation fresh."""
    if terms.owner == pool.collateral.address or pool.collateral.position(token_id)[0]:
        raise UserError(f"GPU {token_id} is already held by the pool")
    if terms.status != STATUS_CODES["ACTIVE"]:
        raise UserError(f"GPU {token_id} is {terms.status_name}; only ACTIVE GPUs can {doing}")
    if terms.cost > MAX_COST:
        raise UserError(
            f"GPU {token_id} cost {terms.cost} base units, more than the 2**96 a pool counts"
        )
    _require_fresh(pool, token_id, terms)


def _require_owner(token_id: int, terms: Terms, sender: str) -> None:
    if terms.owner != sender:
        raise UserError(f"GPU {token_id} belongs to {terms.owner}, not to the sender {sender}")


def _approve_all(pool: Pool, sender: AccountAPI) -> list[ReceiptAPI]:
    registry, collateral = pool.registry, pool.collateral.address
    if registry.isApprovedForAll(sender.address, collateral):
        return []
    return [
        send(
            "approving the GpuCollateral for GPUs",
            registry.setApprovalForAll,
            collateral,
            True,
            sender=sender,
        )
    ]


def _approve_one(pool: Pool, sender: AccountAPI, token_id: int) -> list[ReceiptAPI]:
    registry, collateral = pool.registry, pool.collateral.address
    if registry.getApproved(token_id) == collateral or registry.isApprovedForAll(
        sender.address, collateral
    ):
        return []
    return [
        send(
            f"approving the GpuCollateral for GPU {token_id}",
            registry.approve,
            collateral,
            token_id,
            sender=sender,
        )
    ]


# CONTRIBUTE #


class GpuIds(StrictModel):
    token_ids: GpuIdList = Field(min_length=1, alias="TOKEN")


class GpuId(StrictModel):
    token_id: int = Field(ge=1, alias="TOKEN")


def contribute(
    pool: Pool, sender: AccountAPI, token_ids: list[int], receiver: str | None
) -> list[tuple[int, int, int]]:
    """Contribute GPUs the sender (OPERATOR_ROLE) owns; returns (token id, collateral value,
    fractions minted) for each. Each GPU is checked first, then the pool: a contribution is an
    entry, refused while a GPU the pool counts is written down (stale or returning)."""
    receiver = receiver or sender.address
    require_not_paused(pool, "contributing")
    require_role(pool.collateral, "OPERATOR_ROLE", sender.address, "GpuCollateral")
    require_verified(pool, receiver, "receiver")
    require_current(pool)
    for token_id in token_ids:
        terms = terms_of(pool, token_id)
        if terms.owner != pool.collateral.address:
            _require_owner(token_id, terms, sender.address)
        _require_enterable(pool, token_id, terms, "enter the pool")
    require_entries_open(pool, "contributing")
    _approve_all(pool, sender)
    entered = []
    for token_id in token_ids:
        receipt = send(
            f"contributing GPU {token_id}",
            pool.collateral.contribute,
            token_id,
            receiver,
            0,  # fractions are minted at NAV for the value measured in the same block
            sender=sender,
        )
        log = next(iter(pool.collateral.GpuContributed.from_receipt(receipt)))
        entered.append((token_id, log.value, log.shares))
    return entered


# OFFERS #


class OfferOrder(StrictModel):
    token_id: int = Field(ge=1, alias="TOKEN")
    price: StableAmount = Field(alias="--price")
    expires_days: int = Field(
        default=DEFAULT_OFFER_DAYS, ge=1, le=MAX_OFFER_DAYS, alias="--expires-days"
    )


def offer_gpu(
    pool: Pool, operator: AccountAPI, token_id: int, price: int, expires_at: int
) -> ReceiptAPI:
    """The operator offers `price` of free cash for `token_id`, open until `expires_at`; its owner
    accepts with `accept_offer`. Refused unless the GPU could be sold now at that price."""
    collateral = pool.collateral
    require_role(collateral, "OPERATOR_ROLE", operator.address, "GpuCollateral")
    if price > MAX_OFFER_PRICE:
        raise UserError(f"--price {pool.cash(price)} is absurdly large")
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the offer would expire on {_date(expires_at)}, which has passed")
    terms = terms_of(pool, token_id)
    _require_enterable(pool, token_id, terms, "be sold to the pool")
    # The owner may accept until the expiry and the value only falls: check it there.
    ceiling = value_added(pool, terms, expires_at)
    if price > ceiling:
        raise UserError(
            f"--price {pool.cash(price)}: GPU {token_id} adds at most {pool.cash(ceiling)} of "
            f"collateral by the offer's expiry ({_date(expires_at)})"
        )
    free_cash = pool.vault.free_cash()
    if price > free_cash:
        raise UserError(f"--price {pool.cash(price)}: the vault has {pool.cash(free_cash)} free")
    require_verified(pool, terms.owner, "owner")
    return send(
        f"offering for GPU {token_id}",
        collateral.offer_gpu,
        token_id,
        price,
        expires_at,
        sender=operator,
    )


def cancel_offer(pool: Pool, operator: AccountAPI, token_id: int) -> ReceiptAPI:
    collateral = pool.collateral
    require_role(collateral, "OPERATOR_ROLE", operator.address, "GpuCollateral")
    if collateral.offer(token_id)[0] == 0:
        raise UserError(f"there is no offer for GPU {token_id}: nothing to cancel")
    return send(
        f"cancelling the offer for GPU {token_id}",
        collateral.cancel_offer,
        token_id,
        sender=operator,
    )


def open_offer(pool: Pool, token_id: int) -> tuple[int, int]:
    """(price, expires_at) of the open offer for `token_id`, or UserError if there is none."""
    price, expires_at = pool.collateral.offer(token_id)
    if price == 0:
        raise UserError(
            f"there is no offer for GPU {token_id} (the operator runs "
            f"`ape run vault offer-gpu {token_id} --price PRICE`)"
        )
    if expires_at < chain.pending_timestamp:
        raise UserError(f"the offer for GPU {token_id} expired on {_date(expires_at)}")
    return price, expires_at


def accept_offer(pool: Pool, seller: AccountAPI, token_id: int) -> tuple[int, int, ReceiptAPI]:
    """The GPU's owner sells it at the open offer's price; returns (price, collateral value that
    came in, the sale's receipt)."""
    price, _ = open_offer(pool, token_id)
    terms = terms_of(pool, token_id)
    if terms.owner != pool.collateral.address:
        _require_owner(token_id, terms, seller.address)
    _require_enterable(pool, token_id, terms, "be sold to the pool")
    require_not_paused(pool, "selling GPUs to the pool")
    require_current(pool)
    require_verified(pool, seller.address, "seller")
    ceiling = value_added(pool, terms, chain.pending_timestamp + PRICE_CHECK_MARGIN)
    if price > ceiling:
        raise UserError(
            f"the offer's price {pool.cash(price)} is above the {pool.cash(ceiling)} of "
            f"collateral GPU {token_id} adds now: the operator must offer again"
        )
    free_cash = pool.vault.free_cash()
    if price > free_cash:
        raise UserError(
            f"the offer's price {pool.cash(price)} is above the vault's free cash "
            f"{pool.cash(free_cash)}"
        )
    _approve_one(pool, seller, token_id)
    receipt = send(
        f"selling GPU {token_id}", pool.collateral.sell_gpu, token_id, price, sender=seller
    )
    log = next(iter(pool.collateral.GpuPurchased.from_receipt(receipt)))
    return log.price, log.value, receipt


# KEEPING CURRENT #


class MaturitySteps(StrictModel):
    max_steps: int = Field(default=MAX_PROCESS_STEPS, ge=1, le=MAX_PROCESS_STEPS, alias="--max")


def process_maturities(pool: Pool, sender: AccountAPI, max_steps: int) -> tuple[int, ReceiptAPI]:
    """Anyone: mature up to `max_steps` due changes of the collateral schedule; returns how many."""
    if pool.collateral.pending() == 0:
        raise UserError("no maturities are due: nothing to process")
    receipt = send(
        "processing maturities", pool.collateral.process_maturities, max_steps, sender=sender
    )
    return len(list(pool.collateral.ScheduleMatured.from_receipt(receipt))), receipt


def _sync_change(pool: Pool, token_id: int, terms: Terms, position) -> str | None:
    """What `sync(id)` would do (mirrors GpuCollateral.sync), or None if it would revert."""
    state, _, _, old_stale = position
    status = terms.status
    if state == COUNTED and status in (STATUS_CODES["IMPAIRED"], STATUS_CODES["RETIRED"]):
        return "uncount"
    counting = STATUS_CODES["ACTIVE"] | STATUS_CODES["LEASED"] | STATUS_CODES["OFFLINE"]
    if status & counting == 0:
        return None
    now = chain.pending_timestamp
    stale = stale_at(pool, terms)
    if stale <= now:
        return None
    if state == COUNTED and old_stale > now:
        return "extend" if stale > old_stale else None
    return "recount"


def return_deferred(pool: Pool, token_id: int) -> bool:
    """Whether a held GPU should count again (fresh, in a counting status) but the registry's hook
    deferred it because maturities were pending: `sync` applies it."""
    position = pool.collateral.position(token_id)
    if position[0] == NOT_HELD:
        return False
    return _sync_change(pool, token_id, terms_of(pool, token_id), position) == "recount"


def sync(pool: Pool, sender: AccountAPI, token_id: int) -> ReceiptAPI:
    """Anyone: apply to a held GPU what the registry says and its position does not yet (a return
    the registry's hook deferred while maturities were pending)."""
    terms = terms_of(pool, token_id)
    position = pool.collateral.position(token_id)
    if position[0] == NOT_HELD:
        raise UserError(f"GPU {token_id} is not held by the pool")
    change = _sync_change(pool, token_id, terms, position)
    if change is None:
        raise UserError(f"GPU {token_id} is in line with the registry: nothing to sync")
    if change == "recount":
        require_current(pool)
    return send(f"syncing GPU {token_id}", pool.collateral.sync, token_id, sender=sender)


# THE COLLATERAL TABLE #


def _position_cells(pool: Pool, token_id: int, terms: Terms, now: int) -> tuple[str, str, str]:
    """(counted, stale from, full value from) of a held GPU."""
    state, _, ramp_end, stale = pool.collateral.position(token_id)
    if state != COUNTED:
        return "no", "-", "-"
    counted = "yes" if stale > now else "stale"
    ramp = format_time(ramp_end) if ramp_end > now else "-"
    return counted, format_time(stale), ramp


def collateral_gpus_table(pool: Pool, limit: int | None = None) -> Table:
    """The GPUs the pool's GpuCollateral holds: status, whether they count, their collateral value,
    the age of the last attestation, the day they go stale and the end of a return ramp."""
    collateral, registry, leases = pool.collateral, pool.registry, pool.leases
    total = registry.balanceOf(collateral.address)
    shown = total if limit is None else min(limit, total)
    now = chain.blocks.head.timestamp
    table = Table(title=f"GPUs held by the pool: {total}")
    columns = (
        "id",
        "model",
        "status",
        "counted",
        "collateral value",
        "attested",
        "stale from (UTC)",
        "full value from (UTC)",
        "lease",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("model", "status") else "right")
    for index in range(shown):
        token_id = registry.tokenOfOwnerByIndex(collateral.address, index)
        terms = terms_of(pool, token_id)
        counted, stale, ramp = _position_cells(pool, token_id, terms, now)
        lease_id = leases.lease_of_gpu(token_id)
        table.add_row(
            str(token_id),
            registry.gpu(token_id).model,
            terms.status_name,
            counted,
            pool.cash(collateral.value_of(token_id)),
            f"{format_age(now - terms.last_attested_at)} ago",
            stale,
            ramp,
            str(lease_id) if lease_id else "-",
        )
    if shown < total:
        table.caption = f"first {shown} of {total}; --limit to see more"
    return table
