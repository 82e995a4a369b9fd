"""IdentityRegistry: verify, verify_batch, revoke, revoke_batch, is_verified, are_verified,
identity."""

import ape
import pytest

from tests.utils.vault import COMPLIANCE_ROLE, DAY, JURISDICTION, MISSING_ROLE


def test_roles(identity_registry, admin, compliance):
    assert identity_registry.hasRole(b"\x00" * 32, admin)
    assert identity_registry.hasRole(COMPLIANCE_ROLE, compliance)
    assert identity_registry.COMPLIANCE_ROLE() == COMPLIANCE_ROLE
    assert identity_registry.MAX_BATCH() == 256


def test_verify(identity_registry, compliance, investor, chain):
    expiry = chain.pending_timestamp + 30 * DAY
    tx = identity_registry.verify(investor, expiry, JURISDICTION, sender=compliance)
    assert identity_registry.is_verified(investor)
    assert identity_registry.identity(investor) == (expiry, JURISDICTION)
    [log] = tx.decode_logs(identity_registry.IdentityVerified)
    assert (log.account, log.expires_at, log.jurisdiction, log.sender) == (
        investor,
        expiry,
        JURISDICTION,
        compliance,
    )


def test_verify_expires(identity_registry, compliance, investor, chain):
    expiry = chain.pending_timestamp + DAY
    identity_registry.verify(investor, expiry, JURISDICTION, sender=compliance)
    chain.mine(timestamp=expiry - 1)
    assert identity_registry.is_verified(investor)
    chain.mine(timestamp=expiry)
    assert not identity_registry.is_verified(investor)


def test_verify_renews(identity_registry, compliance, investor, chain):
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    later = chain.pending_timestamp + 365 * DAY
    identity_registry.verify(investor, later, 250, sender=compliance)
    assert identity_registry.identity(investor) == (later, 250)


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
    identity_registry, compliance, investor, chain, who, expiry_delta, jurisdiction, reason
):
    account = ape.utils.ZERO_ADDRESS if who == "zero" else investor
    sender = investor if reason == MISSING_ROLE else compliance
    expiry = chain.pending_timestamp + expiry_delta if expiry_delta else chain.pending_timestamp - 1
    with ape.reverts(reason):
        identity_registry.verify(account, expiry, jurisdiction, sender=sender)


def test_verify_batch(identity_registry, compliance, investor, other_investor, chain):
    expiry = chain.pending_timestamp + DAY
    tx = identity_registry.verify_batch([investor, other_investor], expiry, 276, sender=compliance)
    assert identity_registry.are_verified(investor, other_investor) == (True, True)
    assert [log.account for log in tx.decode_logs(identity_registry.IdentityVerified)] == [
        investor,
        other_investor,
    ]


def test_verify_batch_reverts(identity_registry, compliance, investor, chain):
    expiry = chain.pending_timestamp + DAY
    with ape.reverts("identity: empty batch"):
        identity_registry.verify_batch([], expiry, 276, sender=compliance)
    with ape.reverts(MISSING_ROLE):
        identity_registry.verify_batch([investor], expiry, 276, sender=investor)


def test_revoke(identity_registry, compliance, investor, chain):
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    tx = identity_registry.revoke(investor, sender=compliance)
    assert not identity_registry.is_verified(investor)
    assert identity_registry.identity(investor) == (0, 0)
    [log] = tx.decode_logs(identity_registry.IdentityRevoked)
    assert (log.account, log.sender) == (investor, compliance)


def test_revoke_reverts(identity_registry, compliance, investor, attacker, chain):
    with ape.reverts("identity: not verified"):
        identity_registry.revoke(attacker, sender=compliance)
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    with ape.reverts(MISSING_ROLE):
        identity_registry.revoke(investor, sender=investor)


def test_revoke_batch(identity_registry, compliance, investor, other_investor, chain):
    identity_registry.verify_batch(
        [investor, other_investor], chain.pending_timestamp + DAY, 276, sender=compliance
    )
    tx = identity_registry.revoke_batch([investor, other_investor], sender=compliance)
    assert identity_registry.are_verified(investor, other_investor) == (False, False)
    assert len(tx.decode_logs(identity_registry.IdentityRevoked)) == 2
    with ape.reverts("identity: empty batch"):
        identity_registry.revoke_batch([], sender=compliance)
    with ape.reverts("identity: not verified"):
        identity_registry.revoke_batch([investor], sender=compliance)


def test_zero_address_never_verified(identity_registry):
    assert not identity_registry.is_verified(ape.utils.ZERO_ADDRESS)
