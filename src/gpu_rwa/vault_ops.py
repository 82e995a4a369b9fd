"""Routine operations on a pool's CollateralVault: pause (PAUSER_ROLE), unpause
(DEFAULT_ADMIN_ROLE, the timelock's once governance holds it) and paying the accrued servicing
fees to their recipient (anyone).

Each checks what the chain can tell first (the pause flag, the sender's role, fees accrued) and
raises UserError with one line, sending nothing, when the call would revert or change nothing.
"""

from dataclasses import dataclass

from ape.api import AccountAPI, ReceiptAPI

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.pool import Pool, require_not_paused

# Lifting a pause is the vault's admin's; once the admin role is a timelock's, it is a scheduled
# call, executed after the delay (`ape run governance`).
UNPAUSE_THROUGH_TIMELOCK = (
    "`ape run governance schedule CollateralVault unpause`, then, once the delay has passed, "
    "`ape run governance execute CollateralVault unpause`"
)


def pause(pool: Pool, sender: AccountAPI) -> ReceiptAPI:
    """Pause the vault (PAUSER_ROLE): no fraction moves and no cash leaves until unpaused."""
    if pool.vault.paused():
        raise UserError("the vault is already paused: nothing to pause")
    require_role(pool.vault, "PAUSER_ROLE", sender.address, "CollateralVault")
    return send("pause", pool.vault.pause, sender=sender)


def unpause(pool: Pool, sender: AccountAPI) -> ReceiptAPI:
    """Lift the pause (DEFAULT_ADMIN_ROLE); a sender without the role is told the timelock's way."""
    vault = pool.vault
    if not vault.paused():
        raise UserError("the vault is not paused: nothing to unpause")
    if not vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), sender.address):
        raise UserError(
            f"{sender.address} does not hold DEFAULT_ADMIN_ROLE on the CollateralVault: unpausing "
            f"is the admin's; through the timelock it is {UNPAUSE_THROUGH_TIMELOCK}"
        )
    return send("unpause", vault.unpause, sender=sender)


@dataclass(frozen=True)
class FeesPaid:
    """What `claim_fees` paid (its FeesClaimed event) and the receipt."""

    recipient: str
    amount: int
    receipt: ReceiptAPI


def claim_fees(pool: Pool, sender: AccountAPI) -> FeesPaid:
    """Pay every fee accrued on lease revenue to the vault's fee recipient (anyone may send it;
    the stablecoin goes only to the recipient)."""
    vault = pool.vault
    require_not_paused(pool, "claiming fees")
    if vault.accrued_fees() == 0:
        raise UserError(
            f"no fees have accrued since the last claim: nothing to pay to the fee recipient "
            f"{vault.fee_recipient()} (the vault keeps {vault.fee_bps() / 100:g} % of each lease "
            "payment)"
        )
    receipt = send("claim_fees", vault.claim_fees, sender=sender)
    log = next(iter(vault.FeesClaimed.from_receipt(receipt)))
    return FeesPaid(recipient=log.recipient, amount=log.amount, receipt=receipt)
