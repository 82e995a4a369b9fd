"""The compliance officer's enforcement on a pool's PoolCompliance: freeze, unfreeze, forced
transfer and wallet recovery, each with the hash of its reason recorded in the event.

Every check the chain can answer is made before anything is sent (the role, the vault's pause, the
balances, the receiver's eligibility with the exact reason the contracts would give, the lost
wallet's pending redemption requests), so a bad order is one line and no transaction.
"""

from dataclasses import dataclass

from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ContractLogicError
from eth_utils import keccak
from pydantic import Field
from rich.table import Table

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool
from gpu_rwa.types import Address, FractionAmount

# IdentityRegistry.check_move kinds (see the contract).
TRANSFER = 0
FORCED = 2
MODES = {0: "every jurisdiction", 1: "listed jurisdictions only", 2: "all but the listed ones"}
# RedemptionQueue.MAX_OPEN_PER_CONTROLLER: the most pending requests a recovery moves; MAX_PAGE.
MAX_REQUESTS = 16
PAGE = 64


class Reason(StrictModel):
    """Why: a court order, a sanctions hit, a ticket. Only its keccak-256 hash goes on-chain."""

    reason: str = Field(min_length=3, max_length=500, alias="--reason")

    @property
    def digest(self) -> bytes:
        return keccak(text=self.reason)


class FreezeOrder(Reason):
    account: Address = Field(alias="ADDRESS")
    # None: the whole account; else exactly this many fractions.
    fractions: FractionAmount | None = Field(default=None, alias="--fractions")


class UnfreezeOrder(Reason):
    account: Address = Field(alias="ADDRESS")


class ForceOrder(Reason):
    owner: Address = Field(alias="FROM")
    to: Address = Field(alias="TO")
    amount: FractionAmount = Field(alias="FRACTIONS")


class RecoveryOrder(Reason):
    lost: Address = Field(alias="LOST")
    new: Address = Field(alias="NEW")


@dataclass(frozen=True)
class FreezeState:
    balance: int
    frozen: int
    full: bool


def freeze_state(pool: Pool, account: str) -> FreezeState:
    vault = pool.vault
    return FreezeState(
        vault.balanceOf(account), vault.getFrozenTokens(account), vault.is_frozen(account)
    )


def movement_refusal(pool: Pool, kind: int, owner: str, to: str, amount: int) -> str | None:
    """The identity registry's reason a movement of `amount` of `owner`'s fractions to `to`
    would be refused (`kind`: TRANSFER, FORCED...), asked with what the vault passes it (its
    `packed` holdings and rules), or None."""
    owner_holding, rules = pool.vault.packed(owner)
    to_holding, _ = pool.vault.packed(to)
    try:
        pool.identity.check_move(
            pool.vault.address, kind, owner, owner_holding, to, to_holding, amount, rules
        )
    except ContractLogicError as exc:
        return exc.message
    return None


def explain(pool: Pool, reason: str, owner: str, to: str) -> str:
    """A compliance refusal of the contracts in words an investor can act on."""
    state = freeze_state(pool, owner)
    mode, cap = pool.vault.rules()
    if reason == "compliance: account frozen":
        return f"{owner} is frozen by compliance: its fractions move only by a forced transfer"
    if reason == "compliance: fractions frozen":
        free = max(state.balance - state.frozen, 0)
        return (
            f"{owner} has {pool.fractions(state.frozen)} frozen by compliance: at most "
            f"{pool.fractions(free)} may move"
        )
    if reason == "compliance: receiver frozen":
        return f"{to} is frozen by compliance: it can receive nothing"
    if reason == "compliance: jurisdiction not admitted":
        code = pool.identity.identity(to).jurisdiction
        return f"{to}: its jurisdiction ({code}) is not admitted by this pool ({MODES[mode]})"
    if reason == "compliance: balance above maximum":
        return f"{to} would hold more than the pool's maximum of {pool.fractions(cap)} an investor"
    return reason


def _prepare(pool: Pool, sender: AccountAPI) -> None:
    require_role(pool.compliance, "COMPLIANCE_ROLE", sender.address, "PoolCompliance")


def freeze(pool: Pool, sender: AccountAPI, order: FreezeOrder) -> ReceiptAPI:
    """Freeze the account entirely, or exactly `fractions` of it."""
    _prepare(pool, sender)
    state = freeze_state(pool, order.account)
    if order.account == pool.vault.address:
        raise UserError("ADDRESS: the vault's own fractions (dead shares, escrow) cannot be frozen")
    if order.fractions is None:
        if state.full:
            raise UserError(f"{order.account} is already frozen entirely")
        return send(
            "freezing",
            pool.compliance.freeze,
            order.account,
            order.digest,
            sender=sender,
        )
    if order.fractions > state.balance:
        raise UserError(
            f"--fractions: {order.account} holds {pool.fractions(state.balance)}, fewer than "
            f"{pool.fractions(order.fractions)}"
        )
    if order.fractions == state.frozen:
        raise UserError(f"{order.account} already has {pool.fractions(state.frozen)} frozen")
    return send(
        "freezing fractions",
        pool.compliance.set_frozen_tokens,
        order.account,
        order.fractions,
        order.digest,
        sender=sender,
    )


def unfreeze(pool: Pool, sender: AccountAPI, order: UnfreezeOrder) -> list[ReceiptAPI]:
    """Lift the full freeze and unfreeze every frozen fraction of the account."""
    _prepare(pool, sender)
    state = freeze_state(pool, order.account)
    if not state.full and state.frozen == 0:
        raise UserError(f"{order.account} is not frozen")
    receipts = []
    if state.full:
        receipts.append(
            send("unfreezing", pool.compliance.unfreeze, order.account, order.digest, sender=sender)
        )
    if state.frozen:
        receipts.append(
            send(
                "unfreezing fractions",
                pool.compliance.set_frozen_tokens,
                order.account,
                0,
                order.digest,
                sender=sender,
            )
        )
    return receipts


def _require_unpaused(pool: Pool, what: str) -> None:
    if pool.vault.paused():
        raise UserError(f"the vault is paused: a {what} waits for the unpause")


def force_transfer(pool: Pool, sender: AccountAPI, order: ForceOrder) -> ReceiptAPI:
    _prepare(pool, sender)
    if order.to == order.owner:
        raise UserError("TO: a forced transfer never goes to the holder itself")
    _require_unpaused(pool, "forced transfer")
    held = pool.vault.balanceOf(order.owner)
    if order.amount > held:
        raise UserError(
            f"FRACTIONS: {order.owner} holds {pool.fractions(held)}, fewer than "
            f"{pool.fractions(order.amount)}"
        )
    refusal = movement_refusal(pool, FORCED, order.owner, order.to, order.amount)
    if refusal:
        raise UserError(f"TO: {explain(pool, refusal, order.owner, order.to)}")
    return send(
        "forcing the transfer",
        pool.compliance.force_transfer,
        order.owner,
        order.to,
        order.amount,
        order.digest,
        sender=sender,
    )


def pending_requests(pool: Pool, controller: str) -> list[int]:
    """Ids of the pending redemption requests `controller` controls, in queue order (the queue
    is read a page at a time; each page starts where the last one's next id points)."""
    ids: list[int] = []
    start = 0
    while True:
        page = pool.queue.requests(start, PAGE)
        ids += [int(entry[0]) for entry in page if int(entry[1]) == int(controller, 16)]
        if len(page) < PAGE:
            return ids
        start = pool.queue.request(page[-1][0])[3]
        if start == 0:
            return ids


def recover(pool: Pool, sender: AccountAPI, order: RecoveryOrder) -> ReceiptAPI:
    _prepare(pool, sender)
    if order.new == order.lost:
        raise UserError("NEW: the new wallet is the lost one")
    _require_unpaused(pool, "recovery")
    held = pool.vault.balanceOf(order.lost)
    refusal = movement_refusal(pool, FORCED, order.lost, order.new, held)
    if refusal:
        raise UserError(f"NEW: {explain(pool, refusal, order.lost, order.new)}")
    request_ids = pending_requests(pool, order.lost)
    open_new = pool.queue.controller_state(order.new)[1]
    if open_new + len(request_ids) > MAX_REQUESTS:
        raise UserError(
            f"NEW: {order.new} has {open_new} pending redemption request(s); with the lost "
            f"wallet's {len(request_ids)} that is more than {MAX_REQUESTS}: cancel some first"
        )
    return send(
        "recovering the wallet",
        pool.compliance.recover,
        order.lost,
        order.new,
        request_ids,
        order.digest,
        sender=sender,
    )


def compliance_table(pool: Pool, accounts: list[str]) -> Table:
    """Each account's freezes and whether it may send and receive, under the pool's rules."""
    mode, cap = pool.vault.rules()
    limit = pool.fractions(cap) if cap else "none"
    table = Table(title=f"PoolCompliance {pool.compliance.address}")
    table.caption = f"jurisdictions: {MODES[mode]}; maximum balance: {limit}"
    for column in ("address", "balance", "frozen", "frozen entirely", "may send", "may receive"):
        table.add_column(column)
    for account in accounts:
        state = freeze_state(pool, account)
        table.add_row(
            account,
            pool.fractions(state.balance),
            pool.fractions(state.frozen),
            "yes" if state.full else "no",
            "yes" if pool.compliance.canSend(account) else "no",
            "yes" if pool.compliance.canReceive(account) else "no",
        )
    return table
