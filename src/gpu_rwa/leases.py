"""Leases of a pool: open one over GPUs the pool counts, pay instalments, cure arrears, declare a
default, close a defaulted lease, pay recoveries, and the lease book.

As in `gpu_rwa.pool`, everything the chain can tell is checked before sending (role, GPUs counted
and free, lessee, amounts, lease state, arrears, balance, allowance) and a revert is one line.
"""

from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError
from pydantic import Field, field_validator
from rich.console import Console
from rich.table import Table

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool
from gpu_rwa.registry import STATUS_CODES, STATUS_NAMES
from gpu_rwa.types import (
    SECONDS_PER_DAY,
    ZERO_ADDRESS,
    Address,
    StableAmount,
    format_age,
    format_time,
)

# The lease book's bounds (contracts/leases.vy).
MAX_LEASE_GPUS = 32
MAX_INSTALMENTS = 1_200
# The grace must be below the pool's default_after, at most 365 days (LeaseManager).
MAX_GRACE_DAYS = 364
# Period in whole days: the contract's one-hour minimum is below one day; ten years is plenty.
MAX_PERIOD_DAYS = 3_650
# ILeaseManager.LeaseStatus flags.
LEASE_ACTIVE, LEASE_COMPLETED, LEASE_DEFAULTED, LEASE_CLOSED = 1, 2, 4, 8
LEASE_STATUS_NAMES = {
    LEASE_ACTIVE: "active",
    LEASE_COMPLETED: "completed",
    LEASE_DEFAULTED: "defaulted",
    LEASE_CLOSED: "closed",
}


class LeaseTerms(StrictModel):
    lessee: Address = Field(alias="--lessee")
    instalment: StableAmount = Field(alias="--instalment")
    period_days: int = Field(ge=1, le=MAX_PERIOD_DAYS, alias="--period-days")
    instalments: int = Field(ge=1, le=MAX_INSTALMENTS, alias="--instalments")
    grace_days: int = Field(default=0, ge=0, le=MAX_GRACE_DAYS, alias="--grace-days")
    gpu_ids: list[int] = Field(min_length=1, max_length=MAX_LEASE_GPUS, alias="--gpu")

    @field_validator("lessee")
    @classmethod
    def _not_zero(cls, value: str) -> str:
        if value == ZERO_ADDRESS:
            raise ValueError("the zero address cannot be a lessee")
        return value

    @field_validator("gpu_ids")
    @classmethod
    def _distinct_positive(cls, value: list[int]) -> list[int]:
        if any(token_id <= 0 for token_id in value):
            raise ValueError("GPU ids start at 1")
        if len(set(value)) != len(value):
            raise ValueError("a GPU is listed twice")
        return value


def _require_leasable(pool: Pool, token_id: int) -> None:
    """What LeaseManager.open_lease checks of each GPU: held and counted (fresh) by the pool's
    GpuCollateral, in no other lease, ACTIVE."""
    try:
        terms = pool.registry.terms(token_id)
    except ContractLogicError as exc:
        raise UserError(f"GPU {token_id} is not registered") from exc
    collateral = pool.collateral
    if terms.owner != collateral.address:
        raise UserError(
            f"GPU {token_id} is not in the pool (contribute it or sell it to the pool first)"
        )
    if not collateral.counts(token_id):
        state, _, _, stale_at = collateral.position(token_id)
        if state == 1:
            raise UserError(
                f"GPU {token_id}'s attestation went stale on {format_time(stale_at)} UTC: the "
                f"custodian must attest it first (`ape run registry attest {token_id}`)"
            )
        raise UserError(f"GPU {token_id} no longer counts in the pool (impaired or retired)")
    if lease_id := pool.leases.lease_of_gpu(token_id):
        raise UserError(f"GPU {token_id} is already leased (lease {lease_id})")
    if terms.status != STATUS_CODES["ACTIVE"]:
        name = STATUS_NAMES.get(terms.status, str(terms.status))
        raise UserError(f"GPU {token_id} is {name} in the registry; only ACTIVE GPUs can be leased")


class Recovery(StrictModel):
    amount: StableAmount = Field(alias="AMOUNT")


def _duration(seconds: int) -> str:
    """`60 days`, or `1d 12h` for a duration that is not whole days."""
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    if rest:
        return format_age(seconds)
    return f"{days} day" if days == 1 else f"{days} days"


def open_lease(pool: Pool, sender: AccountAPI, terms: LeaseTerms) -> tuple[int, ReceiptAPI]:
    """Open a lease starting now; returns its id and the receipt."""
    require_role(pool.leases, "OPERATOR_ROLE", sender.address, "LeaseManager")
    if pool.collateral.winding_down():
        raise UserError("the pool is winding down: it opens no new lease")
    default_after = pool.leases.default_after()
    if terms.grace_days * SECONDS_PER_DAY >= default_after:
        raise UserError(
            f"--grace-days {terms.grace_days}: must be below the pool's default_after of "
            f"{_duration(default_after)} (past its grace a lease is in arrears; past "
            "default_after it may be declared in default)"
        )
    for token_id in terms.gpu_ids:
        _require_leasable(pool, token_id)
    receipt = send(
        "open_lease",
        pool.leases.open_lease,
        terms.lessee,
        terms.instalment,
        terms.period_days * SECONDS_PER_DAY,
        terms.instalments,
        terms.grace_days * SECONDS_PER_DAY,
        terms.gpu_ids,
        sender=sender,
    )
    opened = next(iter(pool.leases.LeaseOpened.from_receipt(receipt)))
    return opened.lease_id, receipt


def require_lease(pool: Pool, lease_id: int):
    count = pool.leases.lease_count()
    if not 1 <= lease_id <= count:
        known = f"lease ids run from 1 to {count}" if count else "no lease is open yet"
        raise UserError(f"no lease {lease_id} ({known})")
    return pool.leases.lease(lease_id)


def _not_active(lease_id: int, lease) -> str:
    """Why a lease that is not active takes no instalment, cure or default."""
    if lease.status == LEASE_COMPLETED:
        return f"lease {lease_id} is completed: all {lease.instalments} instalments paid"
    state = "defaulted" if lease.status == LEASE_DEFAULTED else "closed"
    return (
        f"lease {lease_id} is {state} (declared in default on {format_time(lease.defaulted_at)} "
        f"UTC): recoveries go through `ape run lease recover {lease_id} AMOUNT`"
    )


def require_active(pool: Pool, lease_id: int):
    """The lease, or UserError unless it is active."""
    lease = require_lease(pool, lease_id)
    if lease.status != LEASE_ACTIVE:
        raise UserError(_not_active(lease_id, lease))
    return lease


def _approve_for(pool: Pool, sender: AccountAPI, total: int, console: Console) -> list[ReceiptAPI]:
    """UserError unless the sender holds `total`; approves the vault (which pulls the money) for
    it if the allowance is short. Returns the approval's receipt, if any."""
    token, vault = pool.stablecoin, pool.vault
    balance = token.balanceOf(sender.address)
    if balance < total:
        raise UserError(
            f"{sender.address} holds {pool.cash(balance)}, less than the {pool.cash(total)} to pay"
        )
    if token.allowance(sender.address, vault.address) >= total:
        return []
    console.print(f"approving the vault for {pool.cash(total)}")
    return [send("approving the vault", token.approve, vault.address, total, sender=sender)]


def pay_instalments(
    pool: Pool, sender: AccountAPI, lease_id: int, times: int, console: Console
) -> list[ReceiptAPI]:
    """Pay the next `times` instalments of a lease from the sender; the vault pulls them, so it is
    approved for the total first if the allowance is short."""
    lease = require_active(pool, lease_id)
    left = lease.instalments - lease.paid
    if times > left:
        raise UserError(
            f"--times {times}: lease {lease_id} has only {left} instalment(s) left to pay"
        )
    receipts = _approve_for(pool, sender, lease.instalment * times, console)
    for _ in range(times):
        receipt = send(
            f"paying lease {lease_id}", pool.leases.pay_instalment, lease_id, sender=sender
        )
        paid = next(iter(pool.leases.InstalmentPaid.from_receipt(receipt)))
        console.print(
            f"paid instalment {paid.index + 1} of {lease.instalments} of lease {lease_id}: "
            f"{pool.cash(paid.amount)} (fee {pool.cash(paid.fee)})"
        )
        receipts.append(receipt)
    return receipts


def cure(pool: Pool, sender: AccountAPI, lease_id: int, console: Console) -> list[ReceiptAPI]:
    """Pay every instalment of a lease in arrears in one transaction (approving the vault for
    their sum first if the allowance is short)."""
    require_active(pool, lease_id)
    count, amount, _, _ = pool.leases.arrears(lease_id)
    if count == 0:
        raise UserError(
            f"lease {lease_id} has nothing in arrears (next instalment due "
            f"{format_time(pool.leases.next_due(lease_id))} UTC); pay ahead with "
            f"`ape run lease pay {lease_id}`"
        )
    receipts = _approve_for(pool, sender, amount, console)
    receipt = send(f"curing lease {lease_id}", pool.leases.cure, lease_id, sender=sender)
    cured = next(iter(pool.leases.LeaseCured.from_receipt(receipt)))
    console.print(
        f"cured lease {lease_id}: paid {cured.instalments} instalment(s) in arrears, "
        f"{pool.cash(cured.amount)} (fee {pool.cash(cured.fee)})"
    )
    return [*receipts, receipt]


def declare_default(pool: Pool, sender: AccountAPI, lease_id: int, console: Console) -> ReceiptAPI:
    """Declare a lease in default once it is more than its default_after past due; its GPUs are
    marked down in the pool at once."""
    leases = pool.leases
    lease = require_active(pool, lease_id)
    if not leases.defaultable(lease_id):
        due = leases.next_due(lease_id)
        count, _, _, days_late = leases.arrears(lease_id)
        late = (
            f"its oldest unpaid instalment, due {format_time(due)} UTC, is {days_late} day(s) late"
            if count
            else f"nothing is in arrears (next instalment due {format_time(due)} UTC)"
        )
        raise UserError(
            f"lease {lease_id} cannot be declared in default before "
            f"{format_time(due + lease.default_after + 1)} UTC: {late}, and its default_after is "
            f"{_duration(lease.default_after)}"
        )
    value_before = pool.collateral.value()
    receipt = send(
        f"declaring lease {lease_id} in default", leases.declare_default, lease_id, sender=sender
    )
    event = next(iter(leases.LeaseDefaulted.from_receipt(receipt)))
    gpus = ", ".join(str(token_id) for token_id in leases.lease_gpus(lease_id))
    console.print(
        f"lease {lease_id} declared in default: {event.instalments} instalment(s) "
        f"({pool.cash(event.arrears_amount)}) in arrears, {event.days_late} day(s) late; GPUs "
        f"{gpus} marked down: the pool's collateral value went from "
        f"{pool.cash(value_before)} to {pool.cash(pool.collateral.value())}",
        soft_wrap=True,
    )
    return receipt


def close_lease(pool: Pool, sender: AccountAPI, lease_id: int, console: Console) -> ReceiptAPI:
    """Close a defaulted lease: its GPUs are freed for sale or a new lease."""
    require_role(pool.leases, "OPERATOR_ROLE", sender.address, "LeaseManager")
    lease = require_lease(pool, lease_id)
    if lease.status != LEASE_DEFAULTED:
        reason = {
            LEASE_ACTIVE: f"it is active (`ape run lease default {lease_id}` once it may be)",
            LEASE_COMPLETED: "it is completed and its GPUs are free already",
            LEASE_CLOSED: "it is closed already",
        }[lease.status]
        raise UserError(f"lease {lease_id}: only a defaulted lease can be closed; {reason}")
    receipt = send(f"closing lease {lease_id}", pool.leases.close_lease, lease_id, sender=sender)
    statuses = []
    for token_id in pool.leases.lease_gpus(lease_id):
        status = pool.registry.terms(token_id).status
        statuses.append(f"{token_id} {STATUS_NAMES.get(status, str(status))}")
    console.print(f"closed lease {lease_id}: its GPUs are free ({', '.join(statuses)})")
    return receipt


def pay_recovery(
    pool: Pool, sender: AccountAPI, lease_id: int, amount: int, console: Console
) -> list[ReceiptAPI]:
    """Pay `amount` recovered on a defaulted or closed lease: the vault pulls it and streams it to
    holders as revenue (approved first if the allowance is short)."""
    lease = require_lease(pool, lease_id)
    if lease.status not in (LEASE_DEFAULTED, LEASE_CLOSED):
        raise UserError(
            f"lease {lease_id} is {LEASE_STATUS_NAMES[lease.status]}: recoveries are for a "
            f"defaulted lease (instalments go through `ape run lease pay {lease_id}`)"
        )
    receipts = _approve_for(pool, sender, amount, console)
    receipt = send(
        f"paying a recovery on lease {lease_id}",
        pool.leases.pay_recovery,
        lease_id,
        amount,
        sender=sender,
    )
    paid = next(iter(pool.leases.RecoveryPaid.from_receipt(receipt)))
    console.print(
        f"recovered {pool.cash(paid.amount)} on lease {lease_id} (fee {pool.cash(paid.fee)}); "
        f"recovered in all: {pool.cash(pool.leases.lease(lease_id).recovered)}"
    )
    return [*receipts, receipt]


def _date(timestamp: int) -> str:
    return format_time(timestamp) if timestamp else "-"


def _state(pool: Pool, lease_id: int, lease, in_arrears: bool) -> str:
    if lease.status != LEASE_ACTIVE:
        return LEASE_STATUS_NAMES[lease.status]
    if pool.leases.defaultable(lease_id):
        return "defaultable"
    return "in arrears" if in_arrears else "active"


def lease_table(pool: Pool, lease_ids: list[int]) -> Table:
    """The lease book: arrears are as of now for an active lease, as of its default for a
    defaulted or closed one."""
    leases = pool.leases
    table = Table(title=f"leases of {leases.address}: {leases.lease_count()}")
    columns = (
        "id",
        "lessee",
        "GPUs",
        "instalment",
        "paid",
        "next due (UTC)",
        "arrears",
        "days late",
        "status",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("lessee", "GPUs") else "right")
    for lease_id in lease_ids:
        lease = require_lease(pool, lease_id)
        count, amount, _, days_late = leases.arrears(lease_id)
        table.add_row(
            str(lease_id),
            lease.lessee,
            ", ".join(str(token_id) for token_id in leases.lease_gpus(lease_id)),
            pool.cash(lease.instalment),
            f"{lease.paid}/{lease.instalments}",
            _date(leases.next_due(lease_id)),
            pool.cash(amount) if count else "-",
            str(days_late) if count else "-",
            _state(pool, lease_id, lease, count != 0),
        )
    return table


def lease_notes(pool: Pool, lease_ids: list[int]) -> list[str]:
    """One line for each lease in arrears, defaulted or closed: what it owes and what comes next."""
    leases, notes = pool.leases, []
    for lease_id in lease_ids:
        lease = leases.lease(lease_id)
        count, amount, due, days_late = leases.arrears(lease_id)
        owed = f"{count} instalment(s) ({pool.cash(amount)}) in arrears, {days_late} day(s) late"
        if lease.status in (LEASE_DEFAULTED, LEASE_CLOSED):
            then = (
                f"the operator closes it with `ape run lease close {lease_id}`"
                if lease.status == LEASE_DEFAULTED
                else "its GPUs are free"
            )
            notes.append(
                f"lease {lease_id} defaulted on {format_time(lease.defaulted_at)} UTC with "
                f"{owed}; recovered {pool.cash(lease.recovered)}; {then}"
            )
        elif leases.defaultable(lease_id):
            notes.append(
                f"lease {lease_id}: {owed}; anyone may declare it in default "
                f"(`ape run lease default {lease_id}`) unless it is cured first "
                f"(`ape run lease cure {lease_id}`)"
            )
        elif count:
            notes.append(
                f"lease {lease_id}: {owed}; it may be declared in default after "
                f"{format_time(due + lease.default_after)} UTC unless cured "
                f"(`ape run lease cure {lease_id}`)"
            )
    return notes
