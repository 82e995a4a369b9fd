"""`ape run vault pause|unpause|claim-fees`: who may send each, what changed (state, events,
balances to the wei), and one line with nothing sent when it would change nothing or the sender
lacks the role."""

import pytest

from tests.scripts.utils import head_logs, refused, script
from tests.utils.governance import DEFAULT_ADMIN_ROLE, govern
from tests.utils.registry import USDC

# The `leased` fixture's instalment and the config's fee (10 %), to the fee recipient TEST::0.
INSTALMENT = 1_000 * USDC
FEE = 100 * USDC


@pytest.fixture
def fees_accrued(leased, lessee) -> object:
    """`leased` after the lessee paid one instalment: 100 USDC of fees accrued."""
    leased.stablecoin.approve(leased.vault, INSTALMENT, sender=lessee)
    leased.leases.pay_instalment(1, sender=lessee)
    assert leased.vault.accrued_fees() == FEE
    return leased


# PAUSE #


def test_pause_by_the_pauser(deployed_pool, pauser, chain):
    vault = deployed_pool.vault
    nonce = pauser.nonce

    result = script(deployed_pool, "vault", "pause")

    assert result.exit_code == 0, result.output
    assert pauser.nonce == nonce + 1
    assert vault.paused()
    (log,) = head_logs(chain, vault.Paused)
    assert log.account == pauser
    assert (
        f"the vault is paused (by {pauser.address}): no fraction moves and no cash leaves until "
        "the admin unpauses it; lease instalments are still taken in"
    ) in result.output


def test_pause_refused(deployed_pool, pauser, investor):
    """Without PAUSER_ROLE, or already paused: one line, nothing sent."""
    vault = deployed_pool.vault
    nonces = pauser.nonce, investor.nonce

    refused(
        script(deployed_pool, "vault", "pause", "--account", "TEST::7"),
        f"{investor.address} does not hold PAUSER_ROLE on the CollateralVault",
    )
    assert not vault.paused()
    vault.pause(sender=pauser)
    nonces = pauser.nonce, investor.nonce
    refused(
        script(deployed_pool, "vault", "pause"), "the vault is already paused: nothing to pause"
    )
    refused(
        script(deployed_pool, "vault", "pause", "--account", "TEST::99"),
        "--account TEST::99: no such test account",
    )
    assert (pauser.nonce, investor.nonce) == nonces
    assert vault.paused()


# UNPAUSE #


def test_unpause_by_the_admin(deployed_pool, admin, pauser, chain):
    """An account holding DEFAULT_ADMIN_ROLE (after a handover, say: here granted by the timelock)
    unpauses directly."""
    vault = deployed_pool.vault
    govern(deployed_pool, admin, "CollateralVault", "grantRole", DEFAULT_ADMIN_ROLE, admin)
    vault.pause(sender=pauser)
    nonce = admin.nonce

    result = script(deployed_pool, "vault", "unpause")

    assert result.exit_code == 0, result.output
    assert admin.nonce == nonce + 1
    assert not vault.paused()
    (log,) = head_logs(chain, vault.Unpaused)
    assert log.account == admin
    assert (
        f"the vault is unpaused (by {admin.address}): fractions and cash move again"
    ) in result.output


def test_unpause_refused(deployed_pool, admin, pauser):
    """Not paused: nothing to unpause. Paused, by a sender without DEFAULT_ADMIN_ROLE (the pauser
    itself): the line says unpausing is the admin's and the timelock's way. Nothing sent."""
    vault = deployed_pool.vault
    nonces = admin.nonce, pauser.nonce

    refused(
        script(deployed_pool, "vault", "unpause"), "the vault is not paused: nothing to unpause"
    )
    assert (admin.nonce, pauser.nonce) == nonces
    vault.pause(sender=pauser)
    nonces = admin.nonce, pauser.nonce

    refused(
        script(deployed_pool, "vault", "unpause", "--account", "TEST::5"),
        f"{pauser.address} does not hold DEFAULT_ADMIN_ROLE on the CollateralVault: unpausing is "
        "the admin's; through the timelock it is `ape run governance schedule CollateralVault "
        "unpause`, then, once the delay has passed, `ape run governance execute CollateralVault "
        "unpause`",
    )
    assert (admin.nonce, pauser.nonce) == nonces
    assert vault.paused()


# CLAIM FEES #


def test_claim_fees_pays_the_fee_recipient(fees_accrued, admin, operator, chain):
    """Anyone sends it (the operator by default locally); the fees go to the recipient only."""
    kit = fees_accrued
    vault, token = kit.vault, kit.stablecoin
    assert vault.fee_recipient() == admin.address
    recipient_cash, vault_cash = token.balanceOf(admin), token.balanceOf(vault)
    operator_cash, nonce = token.balanceOf(operator), operator.nonce
    books = vault.free_cash(), vault.held()

    result = script(kit, "vault", "claim-fees")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    assert token.balanceOf(admin) == recipient_cash + FEE
    assert token.balanceOf(vault) == vault_cash - FEE
    assert token.balanceOf(operator) == operator_cash
    assert vault.accrued_fees() == 0
    assert (vault.free_cash(), vault.held()) == books
    (log,) = head_logs(chain, vault.FeesClaimed)
    assert (log.recipient, log.amount) == (admin, FEE)
    assert (
        f"paid 100.000000 USDC (100000000 base units) of accrued fees to the fee recipient "
        f"{admin.address}"
    ) in result.output

    # Paid: nothing left to claim.
    refused(
        script(kit, "vault", "claim-fees"),
        f"no fees have accrued since the last claim: nothing to pay to the fee recipient "
        f"{admin.address} (the vault keeps 10 % of each lease payment)",
    )
    assert operator.nonce == nonce + 1


def test_claim_fees_by_another_sender_pays_the_recipient(fees_accrued, admin, attacker):
    token = fees_accrued.stablecoin
    recipient_cash, attacker_cash = token.balanceOf(admin), token.balanceOf(attacker)

    result = script(fees_accrued, "vault", "claim-fees", "--account", "TEST::9")

    assert result.exit_code == 0, result.output
    assert token.balanceOf(admin) == recipient_cash + FEE
    assert token.balanceOf(attacker) == attacker_cash


def test_claim_fees_refused_while_paused(fees_accrued, admin, operator, pauser):
    """Fees accrued, but the vault paused: one line, nothing sent."""
    vault, token = fees_accrued.vault, fees_accrued.stablecoin
    vault.pause(sender=pauser)
    nonce, recipient_cash = operator.nonce, token.balanceOf(admin)

    refused(
        script(fees_accrued, "vault", "claim-fees"),
        "the vault is paused: claiming fees is stopped until the admin unpauses it",
    )
    assert (operator.nonce, token.balanceOf(admin), vault.accrued_fees()) == (
        nonce,
        recipient_cash,
        FEE,
    )


def test_claim_fees_with_nothing_accrued(deployed_pool, admin, operator):
    nonce = operator.nonce

    refused(
        script(deployed_pool, "vault", "claim-fees"),
        f"no fees have accrued since the last claim: nothing to pay to the fee recipient "
        f"{admin.address} (the vault keeps 10 % of each lease payment)",
    )
    assert operator.nonce == nonce
