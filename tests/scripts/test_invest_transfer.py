"""`ape run invest transfer TO AMOUNT`: fractions between verified investors, exact balances and
the Transfer event; one line and nothing sent on bad input or when the vault would refuse."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import balances, head_logs, refused, script
from tests.utils.registry import DAY
from tests.utils.vault import JURISDICTION

F = 10**12  # one whole fraction of the script pool (6-decimal USDC, offset 6)


def test_transfer_between_verified_investors(invested, investor, other_investor, chain):
    vault = invested.vault
    held, supply, nonce = vault.balanceOf(investor), vault.totalSupply(), investor.nonce
    cash = invested.stablecoin.balanceOf(investor), invested.stablecoin.balanceOf(other_investor)
    shares = 100 * F + F // 2  # 100.5

    result = script(invested, "invest", "transfer", other_investor.address, "100.5")

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1
    assert vault.balanceOf(investor) == held - shares
    assert vault.balanceOf(other_investor) == shares
    assert vault.totalSupply() == supply
    assert (
        invested.stablecoin.balanceOf(investor),
        invested.stablecoin.balanceOf(other_investor),
    ) == cash
    (log,) = head_logs(chain, vault.Transfer)
    assert (log.sender, log.receiver, log.value) == (investor, other_investor, shares)
    assert (
        f"transferred 100.500000000000 GPU1 (100500000000000 base units) from {investor.address} "
        f"to {other_investor.address}"
    ) in result.output
    assert (
        f"{investor.address} now holds {invested.fractions(held - shares)}, "
        f"{other_investor.address} 100.500000000000 GPU1"
    ) in result.output


def test_transfer_back_with_account(invested, investor, other_investor, chain):
    """--account picks the sender: the receiver sends the fractions back, whole and to the wei."""
    vault = invested.vault
    held = vault.balanceOf(investor)
    vault.transfer(other_investor, 3 * F + 1, sender=investor)
    nonce = other_investor.nonce

    result = script(
        invested,
        "invest",
        "transfer",
        investor.address,
        "3.000000000001",
        "--account",
        "TEST::8",
    )

    assert result.exit_code == 0, result.output
    assert other_investor.nonce == nonce + 1
    assert vault.balanceOf(other_investor) == 0
    assert vault.balanceOf(investor) == held
    (log,) = head_logs(chain, vault.Transfer)
    assert (log.sender, log.receiver, log.value) == (other_investor, investor, 3 * F + 1)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "AMOUNT: must be more than 0"),
        ("1,000", "AMOUNT: not a non-negative decimal amount: '1,000'"),
        ("1e3", "AMOUNT: not a non-negative decimal amount: '1e3'"),
        ("0.0000000000001", "AMOUNT: '0.0000000000001' has more than 12 decimal places"),
        ("1" + "0" * 40, "is absurdly large"),
    ],
)
def test_bad_amount_sends_nothing(invested, investor, other_investor, amount, message):
    before = balances(invested, investor, other_investor)
    refused(script(invested, "invest", "transfer", other_investor.address, amount), message)
    assert balances(invested, investor, other_investor) == before


def test_more_than_the_balance_sends_nothing(invested, investor, other_investor):
    held = invested.vault.balanceOf(investor)
    before = balances(invested, investor, other_investor)
    refused(
        script(
            invested, "invest", "transfer", other_investor.address, invested.fractions_arg(held + 1)
        ),
        f"{investor.address} holds {invested.fractions(held)}, fewer than "
        f"{invested.fractions(held + 1)}",
    )
    assert balances(invested, investor, other_investor) == before


def test_bad_receiver_sends_nothing(invested, investor, other_investor):
    before = balances(invested, investor, other_investor)
    refused(script(invested, "invest", "transfer", "0x12", "1"), "TO: not an address: '0x12'")
    refused(
        script(invested, "invest", "transfer", investor.address, "1"),
        f"TO {investor.address} is the sender itself: a transfer to oneself moves nothing",
    )
    assert balances(invested, investor, other_investor) == before


def test_unverified_receiver_is_refused(invested, investor, attacker):
    before = balances(invested, investor, attacker)
    refused(
        script(invested, "invest", "transfer", attacker.address, "1"),
        f"receiver {attacker.address}: it is not a verified investor: fractions go only to "
        f"verified investors (compliance runs `ape run kyc add {attacker.address}`)",
    )
    assert balances(invested, investor, attacker) == before


def test_revoked_sender_is_refused(invested, investor, other_investor, compliance):
    """Exit rights: a holder no longer verified only redeems and claims to itself."""
    invested.identity.revoke(investor, sender=compliance)
    before = balances(invested, investor, other_investor)
    refused(
        script(invested, "invest", "transfer", other_investor.address, "1"),
        f"sender {investor.address}: it is not a verified investor: exit rights let it only "
        "redeem and claim to itself (`ape run invest redeem`), not transfer (compliance runs "
        f"`ape run kyc add {investor.address}`)",
    )
    assert balances(invested, investor, other_investor) == before


def test_expired_sender_is_refused(invested, investor, other_investor, compliance, chain):
    expiry = chain.pending_timestamp + DAY
    invested.identity.verify(investor, expiry, JURISDICTION, sender=compliance)
    chain.mine(timestamp=expiry + 1)
    before = balances(invested, investor, other_investor)
    refused(
        script(invested, "invest", "transfer", other_investor.address, "1"),
        f"sender {investor.address}: its verification expired on {format_time(expiry)} UTC: exit "
        "rights let it only redeem and claim to itself",
    )
    assert balances(invested, investor, other_investor) == before


def test_transfer_refused_while_paused(invested, investor, other_investor, pauser):
    invested.vault.pause(sender=pauser)
    before = balances(invested, investor, other_investor)
    refused(
        script(invested, "invest", "transfer", other_investor.address, "1"),
        "the vault is paused: transferring is stopped until the admin unpauses it",
    )
    assert balances(invested, investor, other_investor) == before
