"""`ape run compliance freeze|unfreeze|force-transfer|recover|status`: the officer's enforcement on
the pool's PoolCompliance, each with its reason's hash in the event; one line and nothing sent when
the chain would refuse; `invest transfer` names a freeze or a jurisdiction in its refusal."""

import pytest
from eth_utils import keccak

from tests.scripts.utils import head_logs, refused, script, table_cells
from tests.utils.registry import DAY
from tests.utils.vault import JURISDICTION

F = 10**12  # one whole fraction of the script pool
NEW = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9


def _hash(text: str) -> bytes:
    return keccak(text=text)


def test_freeze_entirely_then_unfreeze(invested, investor, other_investor, compliance, chain):
    vault, desk = invested.vault, invested.compliance
    nonce = compliance.nonce

    result = script(invested, "compliance", "freeze", investor.address, "--reason", "order 17")

    assert result.exit_code == 0, result.output
    assert compliance.nonce == nonce + 1
    assert vault.is_frozen(investor) and vault.getFrozenTokens(investor) == 0
    (log,) = head_logs(chain, desk.FreezeUpdated)
    assert (log.account, log.frozen, log.full, log.reason) == (
        investor,
        0,
        True,
        _hash("order 17"),
    )
    assert f"froze {investor.address} entirely (reason hash 0x{_hash('order 17').hex()}" in (
        result.output
    )
    refused(
        script(invested, "invest", "transfer", other_investor.address, "1"),
        f"{investor.address} is frozen by compliance",
    )
    result = script(invested, "compliance", "unfreeze", investor.address, "--reason", "lifted")
    assert result.exit_code == 0, result.output
    assert not vault.is_frozen(investor)


def test_freeze_part_then_transfer_names_what_may_move(
    invested, investor, other_investor, compliance
):
    vault = invested.vault
    held = vault.balanceOf(investor)
    result = script(
        invested, "compliance", "freeze", investor.address, "--fractions", "100", "--reason", "x1y"
    )
    assert result.exit_code == 0, result.output
    assert vault.getFrozenTokens(investor) == 100 * F and not vault.is_frozen(investor)
    free = held - 100 * F
    refused(
        script(
            invested, "invest", "transfer", other_investor.address, invested.fractions_arg(free + 1)
        ),
        f"{investor.address} has 100.000000000000 GPU1 frozen by compliance: at most "
        f"{invested.fractions(free)} may move",
    )
    # Unfreeze lifts the partial freeze too.
    assert (
        script(invested, "compliance", "unfreeze", investor.address, "--reason", "ok!").exit_code
        == 0
    )
    assert vault.getFrozenTokens(investor) == 0


def test_force_transfer(invested, investor, other_investor, compliance, chain):
    vault = invested.vault
    held = vault.balanceOf(investor)
    script(invested, "compliance", "freeze", investor.address, "--reason", "sanction")

    result = script(
        invested,
        "compliance",
        "force-transfer",
        investor.address,
        other_investor.address,
        "50",
        "--reason",
        "court order 2026-113",
    )

    assert result.exit_code == 0, result.output
    assert vault.balanceOf(investor) == held - 50 * F
    assert vault.balanceOf(other_investor) == 50 * F
    (log,) = head_logs(chain, vault.ForcedTransfer)
    assert (log.sender, log.receiver, log.amount) == (investor, other_investor, 50 * F)
    (forced,) = head_logs(chain, invested.compliance.TransferForced)
    assert forced.reason == _hash("court order 2026-113")


def test_recover(invested, investor, identity_of_new, compliance, chain):
    vault = invested.vault
    held = vault.balanceOf(investor)
    invested.queue.requestRedeem(20 * F, investor, investor, sender=investor)

    result = script(
        invested, "compliance", "recover", investor.address, NEW, "--reason", "lost key 4411"
    )

    assert result.exit_code == 0, result.output
    assert vault.balanceOf(NEW) == held - 20 * F and vault.balanceOf(investor) == 0
    assert vault.is_frozen(investor)
    assert invested.queue.controller_state(NEW)[:2] == (20 * F, 1)
    said = " ".join(result.output.split())
    assert f"recovered {investor.address} into {NEW}" in said
    assert "1 pending request(s)" in said


@pytest.fixture
def identity_of_new(invested, compliance, chain):
    invested.identity.verify(
        NEW, chain.pending_timestamp + 365 * DAY, JURISDICTION, sender=compliance
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("freeze", "0x12", "--reason", "why"), "ADDRESS: not an address: '0x12'"),
        (("freeze", NEW, "--reason", "x"), "--reason: String should have at least 3 characters"),
        (
            ("freeze", NEW, "--fractions", "0", "--reason", "why"),
            "--fractions: must be more than 0",
        ),
        (("freeze", NEW, "--fractions", "1", "--reason", "why"), f"--fractions: {NEW} holds 0"),
        (("unfreeze", NEW, "--reason", "why"), f"{NEW} is not frozen"),
        (
            ("force-transfer", NEW, NEW, "1", "--reason", "why"),
            "TO: a forced transfer never goes to the holder itself",
        ),
        (("recover", NEW, NEW, "--reason", "why"), "NEW: the new wallet is the lost one"),
    ],
)
def test_bad_orders_send_nothing(invested, compliance, args, message):
    nonce = compliance.nonce
    refused(script(invested, "compliance", *args), message)
    assert compliance.nonce == nonce


def test_force_transfer_to_an_unverified_receiver_sends_nothing(invested, investor, compliance):
    nonce = compliance.nonce
    refused(
        script(
            invested, "compliance", "force-transfer", investor.address, NEW, "1", "--reason", "why"
        ),
        "TO: identity: receiver not verified",
    )
    assert compliance.nonce == nonce


def test_only_the_officer(invested, investor):
    refused(
        script(
            invested,
            "compliance",
            "freeze",
            investor.address,
            "--reason",
            "why",
            "--account",
            "TEST::9",
        ),
        "does not hold COMPLIANCE_ROLE on the PoolCompliance",
    )


def test_status(invested, investor, compliance):
    invested.compliance.set_frozen_tokens(investor, 5 * F, b"\x00" * 32, sender=compliance)
    result = script(invested, "compliance", "status", investor.address, NEW)
    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells for cells in map(table_cells, result.output.splitlines()) if cells}
    assert rows[investor.address][2:] == ["5.000000000000 GPU1", "no", "yes", "yes"]
    assert rows[NEW][2:] == ["0.000000000000 GPU1", "no", "no", "no"]
    assert "jurisdictions: every jurisdiction; maximum balance: none" in result.output
