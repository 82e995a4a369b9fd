"""IdentityRegistry: verify, verify_batch, revoke, revoke_batch, is_verified, are_verified,
identity."""

import ape
import pytest

from tests.utils.vault import COMPLIANCE_ROLE, DAY, JURISDICTION, MISSING_ROLE


@pytest.fixture(scope="module")
def registry_(project, admin, compliance):
    contract = project.IdentityRegistry.deploy(sender=admin)
    contract.grantRole(COMPLIANCE_ROLE, compliance, sender=admin)
    return contract


def test_roles(registry_, admin, compliance):
    assert registry_.hasRole(b"\x00" * 32, admin)
    assert registry_.hasRole(COMPLIANCE_ROLE, compliance)
    assert registry_.COMPLIANCE_ROLE() == COMPLIANCE_ROLE
    assert registry_.MAX_BATCH() == 256


def test_verify(registry_, compliance, investor, chain):
    expiry = chain.pending_timestamp + 30 * DAY
    tx = registry_.verify(investor, expiry, JURISDICTION, sender=compliance)
    assert registry_.is_verified(investor)
    assert registry_.identity(investor) == (expiry, JURISDICTION)
    [log] = tx.decode_logs(registry_.IdentityVerified)
    assert (log.account, log.expires_at, log.jurisdiction, log.sender) == (
        investor,
        expiry,
        JURISDICTION,
        compliance,
    )


def test_verify_expires(registry_, compliance, investor, chain):
    expiry = chain.pending_timestamp + DAY
    registry_.verify(investor, expiry, JURISDICTION, sender=compliance)
    chain.mine(timestamp=expiry - 1)
    assert registry_.is_verified(investor)
    chain.mine(timestamp=expiry)
    assert not registry_.is_verified(investor)


def test_verify_renews(registry_, compliance, investor, chain):
    registry_.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    later = chain.pending_timestamp + 365 * DAY
    registry_.verify(investor, later, 250, sender=compliance)
    assert registry_.identity(investor) == (later, 250)


@pytest.mark.parametrize(
    ("who", "expiry_delta", "jurisdiction", "reason"),
    [
        ("investor", DAY, 276, MISSING_ROLE),
        ("zero", DAY, 276, "identity: zero address"),
        ("investor", 0, 276, "identity: expiry not in the future"),
        ("investor", DAY, 0, "identity: zero jurisdiction"),
    ],
)
def test_verify_reverts(
    registry_, compliance, investor, chain, who, expiry_delta, jurisdiction, reason
):
    account = ape.utils.ZERO_ADDRESS if who == "zero" else investor
    sender = investor if reason == MISSING_ROLE else compliance
    expiry = chain.pending_timestamp + expiry_delta if expiry_delta else chain.pending_timestamp - 1
    with ape.reverts(reason):
        registry_.verify(account, expiry, jurisdiction, sender=sender)


def test_verify_batch(registry_, compliance, investor, other_investor, chain):
    expiry = chain.pending_timestamp + DAY
    tx = registry_.verify_batch([investor, other_investor], expiry, 276, sender=compliance)
    assert registry_.are_verified(investor, other_investor) == (True, True)
    assert [log.account for log in tx.decode_logs(registry_.IdentityVerified)] == [
        investor,
        other_investor,
    ]


def test_verify_batch_reverts(registry_, compliance, investor, chain):
    expiry = chain.pending_timestamp + DAY
    with ape.reverts("identity: empty batch"):
        registry_.verify_batch([], expiry, 276, sender=compliance)
    with ape.reverts(MISSING_ROLE):
        registry_.verify_batch([investor], expiry, 276, sender=investor)


def test_revoke(registry_, compliance, investor, chain):
    registry_.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    tx = registry_.revoke(investor, sender=compliance)
    assert not registry_.is_verified(investor)
    assert registry_.identity(investor) == (0, 0)
    [log] = tx.decode_logs(registry_.IdentityRevoked)
    assert (log.account, log.sender) == (investor, compliance)


def test_revoke_reverts(registry_, compliance, investor, attacker, chain):
    with ape.reverts("identity: not verified"):
        registry_.revoke(attacker, sender=compliance)
    registry_.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    with ape.reverts(MISSING_ROLE):
        registry_.revoke(investor, sender=investor)


def test_revoke_batch(registry_, compliance, investor, other_investor, chain):
    registry_.verify_batch(
        [investor, other_investor], chain.pending_timestamp + DAY, 276, sender=compliance
    )
    tx = registry_.revoke_batch([investor, other_investor], sender=compliance)
    assert registry_.are_verified(investor, other_investor) == (False, False)
    assert len(tx.decode_logs(registry_.IdentityRevoked)) == 2
    with ape.reverts("identity: empty batch"):
        registry_.revoke_batch([], sender=compliance)
    with ape.reverts("identity: not verified"):
        registry_.revoke_batch([investor], sender=compliance)


def test_zero_address_never_verified(registry_):
    assert not registry_.is_verified(ape.utils.ZERO_ADDRESS)
