"""The pool's GPUs, held and valued by its GpuCollateral: GPUs contributed for fractions, the
schedule kept current, the wind-down, an RMA swap of a leased GPU, and the collateral table. GPUs
traded for cash (bought in at an offer, sold out at a listing) are `gpu_rwa.market`'s.

A GPU enters only ACTIVE, freshly attested (its stale day, the last attestation plus the pool's
staleness window rounded down to a UTC midnight, still ahead) and once: the collateral values it
at book value x advance rate in the block it enters.

Everything the chain can answer is checked before anything is sent, in one line (as in
`gpu_rwa.pool`); what is sent goes through `send()`.
"""

from dataclasses import dataclass

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError
from pydantic import Field
from rich.table import Table

from gpu_rwa.audit import Curve, collateral_value_at
from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.leases import require_active
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
    floor_day,
    format_age,
    format_time,
)

# GpuCollateral's constants (contracts/GpuCollateral.vy, contracts/schedule.vy).
PRECISION = 10**18
MAX_LIFE = 50 * 365 * SECONDS_PER_DAY
MAX_COST = 2**96
MAX_PROCESS_STEPS = 1_024


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
    entry, refused while a GPU the pool counts is written down (stale or returning) or one it
    holds is held down (impaired, or below its straight-line book value by a mark not settled),
    the refusal naming what fixes it."""
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


def _mark_cell(pool: Pool, token_id: int) -> str:
    """The appraiser's mark: `12,000.000000 USDC on 2027-03-01 12:00, default`, or `-`."""
    value, at, defaulted, _ = pool.collateral.appraisal(token_id)
    if at == 0:
        return "-"
    return f"{pool.cash(value)} on {format_time(at)}" + (", default" if defaulted else "")


def collateral_gpus_table(pool: Pool, limit: int | None = None) -> Table:
    """The GPUs the pool's GpuCollateral holds: status, whether they count, their collateral value,
    the appraiser's mark (book value, when; `default` for a lease default's), the age of the last
    attestation, the day they go stale and the end of a return ramp."""
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
        "mark (book value, UTC)",
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
            _mark_cell(pool, token_id),
            f"{format_age(now - terms.last_attested_at)} ago",
            stale,
            ramp,
            str(lease_id) if lease_id else "-",
        )
    if shown < total:
        table.caption = f"first {shown} of {total}; --limit to see more"
    return table


# WIND-DOWN #


# How the timelock puts a pool in wind-down (scripts/governance.py).
WIND_DOWN_BY_GOVERNANCE = (
    "`ape run governance schedule GpuCollateral wind_down`, then `ape run governance execute "
    "ID` once the timelock's delay has passed"
)


def wind_down(pool: Pool, admin: AccountAPI) -> ReceiptAPI:
    """The admin (DEFAULT_ADMIN_ROLE on the GpuCollateral) puts the pool in wind-down, once and
    for good: no deposit, mint, contribution, purchase of a GPU or new lease from then on; the
    GPUs are sold and holders leave through the queue. Once the deploy has handed the admin role
    to the GovernanceTimelock, the timelock is the admin: the refusal says how to schedule it."""
    collateral = pool.collateral
    if collateral.winding_down():
        raise UserError("the pool is already winding down")
    role = collateral.DEFAULT_ADMIN_ROLE()
    timelock = pool.manifest.contracts.get("GovernanceTimelock")
    if (
        not collateral.hasRole(role, admin.address)
        and timelock is not None
        and collateral.hasRole(role, timelock.address)
    ):
        raise UserError(
            f"the GpuCollateral's admin is the GovernanceTimelock, not {admin.address}: "
            f"{WIND_DOWN_BY_GOVERNANCE}"
        )
    require_role(collateral, "DEFAULT_ADMIN_ROLE", admin.address, "GpuCollateral")
    return send("putting the pool in wind-down", collateral.wind_down, sender=admin)


# RMA #

# The swap pre-check values both GPUs over this many seconds from the pending block: the values
# are straight lines over so short a span, so a replacement worth at least the failed GPU at both
# ends is worth at least as much in the block that includes the swap.
SWAP_CHECK_MARGIN = 300


def curve_of(pool: Pool, token_id: int, terms: Terms) -> Curve | None:
    """The curve GpuCollateral values a held GPU by (None unless it counts): the registry's cost
    line or, after an appraiser's mark, the line from the mark; its return ramp; its stale day."""
    state, since, ramp_end, stale = pool.collateral.position(token_id)
    if state != COUNTED:
        return None
    mark, marked_at, _, ramp_from = pool.collateral.appraisal(token_id)
    cost, start, salvage = terms.cost, terms.acquired_at, terms.salvage
    if marked_at:
        cost, start, salvage = mark, marked_at, min(salvage, mark)
    return Curve(
        cost=cost,
        salvage=salvage,
        start=start,
        end=floor_day(terms.acquired_at + min(terms.useful_life, MAX_LIFE)),
        since=since,
        ramp_end=ramp_end,
        stale_at=stale,
        ramp_from=ramp_from,
    )


def entering_curve(pool: Pool, terms: Terms, since: int) -> Curve:
    """The curve of a GPU counted from `since` (`admit`): the registry's cost line, no ramp."""
    return Curve(
        cost=terms.cost,
        salvage=terms.salvage,
        start=terms.acquired_at,
        end=floor_day(terms.acquired_at + min(terms.useful_life, MAX_LIFE)),
        since=since,
        ramp_end=0,
        stale_at=stale_at(pool, terms),
    )


class SwapOrder(StrictModel):
    lease_id: int = Field(ge=1, alias="LEASE")
    failed: int = Field(ge=1, alias="FAILED")
    replacement: int = Field(ge=1, alias="REPLACEMENT")


@dataclass(frozen=True)
class Swap:
    """What `swap_gpu` did: the collateral value that left with the failed GPU and came in with
    the replacement (LeaseManager's GpuReplaced), and the receipts sent."""

    value_out: int
    value_in: int
    receipts: list[ReceiptAPI]


def _require_in_active_lease(pool: Pool, lease_id: int, failed: int) -> None:
    require_active(pool, lease_id)
    if pool.leases.lease_of_gpu(failed) != lease_id:
        gpus = ", ".join(str(i) for i in pool.leases.lease_gpus(lease_id))
        raise UserError(f"GPU {failed} is not in lease {lease_id} (its GPUs: {gpus})")


def swap_gpu(
    pool: Pool, operator: AccountAPI, lease_id: int, failed: int, replacement: int
) -> Swap:
    """RMA: the operator (OPERATOR_ROLE on the LeaseManager) takes the failed GPU of an active
    lease back and puts `replacement`, a GPU it owns (ACTIVE, freshly attested, in no lease,
    never held by the pool), in its place; the replacement must be worth at least the failed
    GPU's collateral value now, computed as the contract will (its mark and ramp included). The
    script approves the GpuCollateral for the replacement on the registry if needed."""
    leases, collateral = pool.leases, pool.collateral
    require_role(leases, "OPERATOR_ROLE", operator.address, "LeaseManager")
    if replacement == failed:
        raise UserError(f"GPU {failed} cannot replace itself")
    _require_in_active_lease(pool, lease_id, failed)
    incoming = terms_of(pool, replacement)
    if other := leases.lease_of_gpu(replacement):
        raise UserError(f"GPU {replacement} is already leased (lease {other})")
    _require_owner(replacement, incoming, operator.address)
    _require_enterable(pool, replacement, incoming, "replace a leased GPU")
    require_current(pool)
    outgoing = terms_of(pool, failed)
    out_curve = curve_of(pool, failed, outgoing)
    rate = collateral.ADVANCE_RATE_BPS()
    now = chain.pending_timestamp
    for at in (now, now + SWAP_CHECK_MARGIN):
        value_out = collateral_value_at(out_curve, at, rate) if out_curve else 0
        value_in = collateral_value_at(entering_curve(pool, incoming, now), at, rate)
        if value_in < value_out:
            raise UserError(
                f"GPU {replacement} is worth {pool.cash(value_in)} of collateral, less than the "
                f"{pool.cash(value_out)} GPU {failed} is worth (at {_date(at)}): a replacement "
                "must be worth at least as much"
            )
    receipts = _approve_one(pool, operator, replacement)
    receipt = send(
        f"swapping GPU {failed} for GPU {replacement} in lease {lease_id}",
        leases.swap_gpu,
        lease_id,
        failed,
        replacement,
        sender=operator,
    )
    log = next(iter(leases.GpuReplaced.from_receipt(receipt)))
    return Swap(value_out=log.value_out, value_in=log.value_in, receipts=[*receipts, receipt])
