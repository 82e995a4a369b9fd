"""Fractions moved from one verified investor to another (`ape run invest transfer`).

`transfer_refusal` is the one place that says, before anything is sent, why a transfer of a
pool's fractions would not go through: every rule a transfer obeys off-chain is checked there, so
a rule added on-chain (a freeze of all or part of a holding, the jurisdictions a pool admits, a
maximum balance per investor) is added there once and every caller refuses with its line.
"""

from dataclasses import dataclass

from ape.api import AccountAPI, ReceiptAPI
from pydantic import Field

from gpu_rwa.chain import send
from gpu_rwa.enforcement import TRANSFER, explain, movement_refusal
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool, verification_problem
from gpu_rwa.types import Address, FractionAmount

REDEEM_HINT = "`ape run invest redeem`"


class TransferOrder(StrictModel):
    to: Address = Field(alias="TO")
    shares: FractionAmount = Field(alias="AMOUNT")


def transfer_refusal(pool: Pool, owner: str, to: str, shares: int) -> str | None:
    """Why `owner` cannot transfer `shares` of its fractions to `to` now, in one line, or None:
    a transfer to itself (it would move nothing), the vault paused, the sender or the receiver
    not verified (exit rights: a holder no longer verified only redeems and claims to itself), a
    balance short, then what the identity registry's `check_move` refuses (a freeze of the
    holding or of part of it, a frozen receiver, a jurisdiction the pool does not admit, the
    maximum balance). The vault checks the same in `transfer`; the first that fails is named."""
    if to == owner:
        return f"TO {to} is the sender itself: a transfer to oneself moves nothing"
    if pool.vault.paused():
        return "the vault is paused: transferring is stopped until the admin unpauses it"
    if problem := verification_problem(pool, owner):
        return (
            f"sender {owner}: {problem}: exit rights let it only redeem and claim to itself "
            f"({REDEEM_HINT}), not transfer (compliance runs `ape run kyc add {owner}`)"
        )
    if problem := verification_problem(pool, to):
        return (
            f"receiver {to}: {problem}: fractions go only to verified investors (compliance "
            f"runs `ape run kyc add {to}`)"
        )
    held = pool.vault.balanceOf(owner)
    if held < shares:
        return f"{owner} holds {pool.fractions(held)}, fewer than {pool.fractions(shares)}"
    if reason := movement_refusal(pool, TRANSFER, owner, to, shares):
        return explain(pool, reason, owner, to)
    return None


def require_transferable(pool: Pool, owner: str, to: str, shares: int) -> None:
    """UserError with `transfer_refusal`'s line if the transfer would not go through."""
    if (refusal := transfer_refusal(pool, owner, to, shares)) is not None:
        raise UserError(refusal)


@dataclass(frozen=True)
class Transferred:
    """What a transfer moved (its Transfer event) and the receipt."""

    sender: str
    receiver: str
    shares: int
    receipt: ReceiptAPI


def transfer(pool: Pool, sender: AccountAPI, order: TransferOrder) -> Transferred:
    """Move `order.shares` of the sender's fractions to `order.to` with the vault's `transfer`,
    once `transfer_refusal` finds nothing against it. The vault checkpoints both sides' revenue
    first: what the fractions earned so far stays the sender's to claim."""
    require_transferable(pool, sender.address, order.to, order.shares)
    receipt = send("transfer", pool.vault.transfer, order.to, order.shares, sender=sender)
    log = next(iter(pool.vault.Transfer.from_receipt(receipt)))
    return Transferred(sender=log.sender, receiver=log.receiver, shares=log.value, receipt=receipt)
