"""Leases of a pool: open one over GPUs the pool counts, pay instalments, and the lease book.

As in `gpu_rwa.pool`, everything the chain can tell is checked before sending (role, GPUs counted
and free, lessee, amounts, balance, allowance) and a revert is one line.
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
from gpu_rwa.types import SECONDS_PER_DAY, ZERO_ADDRESS, Address, StableAmount, format_time

# The lease book's bounds (contracts/leases.vy).
MAX_LEASE_GPUS = 32
MAX_INSTALMENTS = 1_200
MAX_GRACE_DAYS = 365
# Period in whole days: the contract's one-hour minimum is below one day; ten years is plenty.
MAX_PERIOD_DAYS = 3_650
# ILeaseManager.LeaseStatus flags.
LEASE_ACTIVE, LEASE_COMPLETED = 1, 2


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


def open_lease(pool: Pool, sender: AccountAPI, terms: LeaseTerms) -> tuple[int, ReceiptAPI]:
    """Open a lease starting now; returns its id and the receipt."""
    require_role(pool.leases, "OPERATOR_ROLE", sender.address, "LeaseManager")
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


def pay_instalments(
    pool: Pool, sender: AccountAPI, lease_id: int, times: int, console: Console
) -> list[ReceiptAPI]:
    """Pay the next `times` instalments of a lease from the sender; the vault pulls them, so it is
    approved for the total first if the allowance is short."""
    lease = require_lease(pool, lease_id)
    if lease.status != LEASE_ACTIVE:
        raise UserError(f"lease {lease_id} is completed: all {lease.instalments} instalments paid")
    left = lease.instalments - lease.paid
    if times > left:
        raise UserError(
            f"--times {times}: lease {lease_id} has only {left} instalment(s) left to pay"
        )
    token, vault = pool.stablecoin, pool.vault
    total = lease.instalment * times
    balance = token.balanceOf(sender.address)
    if balance < total:
        raise UserError(
            f"{sender.address} holds {pool.cash(balance)}, less than the {pool.cash(total)} to pay"
        )
    receipts = []
    if token.allowance(sender.address, vault.address) < total:
        console.print(f"approving the vault for {pool.cash(total)}")
        receipts.append(
            send("approving the vault", token.approve, vault.address, total, sender=sender)
        )
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


def _date(timestamp: int) -> str:
    return format_time(timestamp) if timestamp else "-"


def lease_table(pool: Pool, lease_ids: list[int]) -> Table:
    leases = pool.leases
    table = Table(title=f"leases of {leases.address}: {leases.lease_count()}")
    columns = (
        "id",
        "lessee",
        "GPUs",
        "instalment",
        "paid",
        "next due (UTC)",
        "overdue",
        "in arrears",
        "status",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("lessee", "GPUs") else "right")
    for lease_id in lease_ids:
        lease = require_lease(pool, lease_id)
        active = lease.status == LEASE_ACTIVE
        table.add_row(
            str(lease_id),
            lease.lessee,
            ", ".join(str(token_id) for token_id in leases.lease_gpus(lease_id)),
            pool.cash(lease.instalment),
            f"{lease.paid}/{lease.instalments}",
            _date(leases.next_due(lease_id)),
            str(leases.instalments_overdue(lease_id)),
            "yes" if leases.in_arrears(lease_id) else "no",
            "active" if active else "completed",
        )
    return table
