"""Self-onboarding: `onboard` verifies an account with a compliance officer's EIP-712 signed
verification, submitted by anyone (normally the investor, who pays the gas). Every way around it
is refused with its own reason and changes nothing: a replay, a deadline passed, an expiry not in
the future, a signer who is not (or no longer) an officer, a changed field, another chain or
contract, a malleable or malformed signature, the zero account, and a signature the officer
voided by acting on the account after signing (`verify`, `revoke`, their batches, `invalidate`
all bump the account's nonce). Also the views: `nonces`, `DOMAIN_SEPARATOR`, `eip712Domain`,
`VERIFICATION_TYPEHASH` and `digest`."""

import ape
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from gpu_rwa.onboarding import VERIFICATION_TYPE, domain_separator, verification_message
from gpu_rwa.signing import message_digest
from tests.utils.custody import SECP256K1_N, high_s_twin
from tests.utils.identity import (
    EXPIRED,
    INVALID,
    MALLEABLE,
    NOT_BY_SIGNER,
    NOT_OFFICER,
    STALE_NONCE,
    onboard_args,
)
from tests.utils.vault import (
    COMPLIANCE_ROLE,
    DAY,
    EIP712_DOMAIN_TYPE,
    JURISDICTION,
    MISSING_ROLE,
    YEAR,
)

ZERO = ape.utils.ZERO_ADDRESS


def refused(identity, args, reason, sender):
    """`onboard(*args)` reverts with `reason`; the account's identity and nonce are unchanged."""
    account = args[0]
    before = identity.identity(account), identity.nonces(account)
    with ape.reverts(reason):
        identity.onboard(*args, sender=sender)
    assert (identity.identity(account), identity.nonces(account)) == before


def with_signature(args, signature):
    return (*args[:6], signature)


# ONBOARDING #


def test_the_investor_onboards_itself(identity_registry, investor, compliance, chain):
    expires_at = chain.pending_timestamp + YEAR
    args = onboard_args(identity_registry, investor.address, expires_at=expires_at)
    balance = investor.balance

    tx = identity_registry.onboard(*args, sender=investor)

    assert tx.sender == investor.address
    assert investor.balance == balance - tx.total_fees_paid  # the investor paid the gas
    assert identity_registry.is_verified(investor)
    assert identity_registry.identity(investor) == (expires_at, JURISDICTION)
    assert identity_registry.nonces(investor) == 1
    assert [log.event_name for log in tx.decode_logs()] == ["IdentityVerified", "SelfOnboarded"]
    [verified] = tx.decode_logs(identity_registry.IdentityVerified)
    assert (verified.account, verified.expires_at, verified.jurisdiction, verified.sender) == (
        investor.address,
        expires_at,
        JURISDICTION,
        compliance.address,
    )
    [onboarded] = tx.decode_logs(identity_registry.SelfOnboarded)
    assert (onboarded.account, onboarded.signer, onboarded.nonce) == (
        investor.address,
        compliance.address,
        0,
    )


def test_anyone_may_submit(identity_registry, investor, attacker, compliance):
    """The signature is the authority: a third party submitting changes nothing in the outcome
    (the verification is the one signed, its sender the signer)."""
    args = onboard_args(identity_registry, investor.address, jurisdiction=840)

    tx = identity_registry.onboard(*args, sender=attacker)

    assert identity_registry.identity(investor) == (args[2], 840)
    [verified] = tx.decode_logs(identity_registry.IdentityVerified)
    assert verified.sender == compliance.address


def test_onboarding_renews_a_verified_account(identity_registry, investor, compliance, chain):
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 250, sender=compliance)
    later = chain.pending_timestamp + 2 * YEAR
    args = onboard_args(identity_registry, investor.address, expires_at=later)
    assert args[3] == 1  # the officer's verify used nonce 0

    identity_registry.onboard(*args, sender=investor)

    assert identity_registry.identity(investor) == (later, JURISDICTION)
    assert identity_registry.nonces(investor) == 2


def test_a_replay_is_refused(identity_registry, investor, attacker):
    args = onboard_args(identity_registry, investor.address)
    identity_registry.onboard(*args, sender=investor)

    refused(identity_registry, args, STALE_NONCE, attacker)
    # The high-s twin (another encoding of the same signature) is no way around it either.
    refused(identity_registry, with_signature(args, high_s_twin(args[6])), STALE_NONCE, attacker)


def test_a_nonce_ahead_is_refused(identity_registry, investor):
    args = onboard_args(identity_registry, investor.address, nonce=1)

    refused(identity_registry, args, STALE_NONCE, investor)


def test_the_deadline_passed(identity_registry, investor, chain):
    deadline = chain.pending_timestamp + 60
    args = onboard_args(identity_registry, investor.address, deadline=deadline)
    chain.mine(timestamp=deadline + 1)

    refused(identity_registry, args, EXPIRED, investor)


@pytest.mark.anvil_only("a transaction at an exact second")
def test_the_deadline_is_the_last_second(identity_registry, investor, chain):
    deadline = chain.pending_timestamp + 60
    args = onboard_args(identity_registry, investor.address, deadline=deadline)
    chain.pending_timestamp = deadline

    tx = identity_registry.onboard(*args, sender=investor)

    assert tx.timestamp == deadline
    assert identity_registry.is_verified(investor)


@pytest.mark.parametrize("delta", [0, -1], ids=["now", "in the past"])
def test_an_expiry_not_in_the_future(identity_registry, investor, chain, delta):
    """Signed as such (a valid signature), refused as `verify` would refuse it."""
    chain.mine()
    expires_at = chain.pending_timestamp + delta
    if delta == 0:
        chain.pending_timestamp = expires_at
    args = onboard_args(identity_registry, investor.address, expires_at=expires_at)

    refused(identity_registry, args, "identity: expiry not in the future", investor)


def test_a_zero_jurisdiction(identity_registry, investor):
    args = onboard_args(identity_registry, investor.address, jurisdiction=0)

    refused(identity_registry, args, "identity: zero jurisdiction", investor)


def test_the_zero_account(identity_registry, investor):
    """An officer's valid signature for the zero address: it is never verified."""
    args = onboard_args(identity_registry, ZERO)

    refused(identity_registry, args, "identity: zero address", investor)
    assert not identity_registry.is_verified(ZERO)


# SIGNERS #


def test_a_signer_who_is_not_an_officer(identity_registry, investor, attacker):
    args = onboard_args(identity_registry, investor.address, signer=attacker)

    refused(identity_registry, args, NOT_OFFICER, attacker)


def test_an_officer_named_for_someone_elses_signature(
    identity_registry, investor, attacker, compliance
):
    """The attacker signs and names the officer as signer: the signature is not the officer's."""
    *fields, _, signature = onboard_args(identity_registry, investor.address, signer=attacker)
    forged = (*fields, compliance.address, signature)

    refused(identity_registry, forged, NOT_BY_SIGNER, attacker)


def test_an_officer_revoked_after_signing(identity_registry, admin, investor):
    args = onboard_args(identity_registry, investor.address)
    identity_registry.revokeRole(COMPLIANCE_ROLE, args[5], sender=admin)

    refused(identity_registry, args, NOT_OFFICER, investor)


def test_a_second_officer_signs_as_well(identity_registry, admin, investor, operator):
    """Any holder of COMPLIANCE_ROLE signs; the event names it."""
    identity_registry.grantRole(COMPLIANCE_ROLE, operator, sender=admin)
    args = onboard_args(identity_registry, investor.address, signer=operator)

    tx = identity_registry.onboard(*args, sender=investor)

    [onboarded] = tx.decode_logs(identity_registry.SelfOnboarded)
    assert onboarded.signer == operator.address


# TAMPERING AND DOMAIN #


@pytest.mark.parametrize(
    ("index", "value", "reason"),
    [
        (0, "attacker", NOT_BY_SIGNER),
        (1, 840, NOT_BY_SIGNER),
        (2, "later", NOT_BY_SIGNER),
        (4, "later", NOT_BY_SIGNER),
        (3, 1, STALE_NONCE),
    ],
    ids=["account", "jurisdiction", "expiry", "deadline", "nonce"],
)
def test_a_field_changed_after_signing(identity_registry, investor, attacker, index, value, reason):
    """Each signed field changed: the signature recovers someone else (the nonce, checked first
    against the account's, is refused as such)."""
    args = list(onboard_args(identity_registry, investor.address))
    if value == "attacker":
        value = attacker.address
    elif value == "later":
        value = args[index] + 1
    args[index] = value

    refused(identity_registry, tuple(args), reason, attacker)
    assert not identity_registry.is_verified(attacker)


def test_a_signature_for_another_chain(identity_registry, investor, chain):
    args = onboard_args(identity_registry, investor.address, chain_id=chain.chain_id + 1)

    refused(identity_registry, args, NOT_BY_SIGNER, investor)


def test_a_signature_for_another_registry(project, identity_registry, admin, compliance, investor):
    """Signed for a second registry: refused here, accepted there."""
    other = project.IdentityRegistry.deploy(sender=admin)
    other.grantRole(COMPLIANCE_ROLE, compliance, sender=admin)
    args = onboard_args(other, investor.address)

    refused(identity_registry, args, NOT_BY_SIGNER, investor)

    other.onboard(*args, sender=investor)
    assert other.is_verified(investor)
    assert not identity_registry.is_verified(investor)


# SIGNATURE ENCODING #


def test_a_malleable_high_s_signature(identity_registry, investor):
    """n - s with the other v: the same signer for ecrecover (EIP-2 malleability), refused."""
    args = onboard_args(identity_registry, investor.address)
    twin = high_s_twin(args[6])
    assert int.from_bytes(twin[32:64], "big") > SECP256K1_N // 2

    refused(identity_registry, with_signature(args, twin), MALLEABLE, investor)
    identity_registry.onboard(*args, sender=investor)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda sig: sig[:64], INVALID),
        (lambda sig: b"", INVALID),
        (lambda sig: sig[:64] + b"\x00", INVALID),
        (lambda sig: sig[:64] + b"\x01", INVALID),
        (lambda sig: sig[:64] + b"\x1d", INVALID),
        (lambda sig: b"\x00" * 64 + b"\x1b", "ecdsa: invalid signature"),
        (lambda sig: b"\xff" * 32 + b"\x00" * 31 + b"\x01\x1c", "ecdsa: invalid signature"),
    ],
    ids=["64 bytes (no compact form)", "empty", "v 0", "v 1", "v 29", "r and s zero", "r too big"],
)
def test_a_malformed_signature(identity_registry, investor, mangle, reason):
    args = onboard_args(identity_registry, investor.address)

    refused(identity_registry, with_signature(args, mangle(args[6])), reason, investor)


# NONCES: EVERY IDENTITY CHANGE VOIDS OUTSTANDING SIGNATURES #


def test_revoked_after_signing(identity_registry, compliance, investor, chain):
    """The officer signs a renewal, then revokes the account: the signature cannot undo it."""
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    args = onboard_args(
        identity_registry, investor.address, expires_at=chain.pending_timestamp + YEAR
    )
    identity_registry.revoke(investor, sender=compliance)

    refused(identity_registry, args, STALE_NONCE, investor)
    assert not identity_registry.is_verified(investor)


@pytest.mark.parametrize("change", ["verify", "verify_batch", "revoke", "revoke_batch"])
def test_each_identity_change_bumps_the_nonce(
    identity_registry, compliance, investor, other_investor, chain, change
):
    accounts = [investor, other_investor]
    expiry = chain.pending_timestamp + DAY
    identity_registry.verify_batch(accounts, expiry, 276, sender=compliance)
    assert [identity_registry.nonces(a) for a in accounts] == [1, 1]
    signed = onboard_args(identity_registry, investor.address)

    if change == "verify":
        identity_registry.verify(investor, expiry + DAY, 276, sender=compliance)
    elif change == "verify_batch":
        identity_registry.verify_batch(accounts, expiry + DAY, 276, sender=compliance)
    elif change == "revoke":
        identity_registry.revoke(investor, sender=compliance)
    else:
        identity_registry.revoke_batch(accounts, sender=compliance)

    other_nonce = 2 if change.endswith("batch") else 1
    assert [identity_registry.nonces(a) for a in accounts] == [2, other_nonce]
    refused(identity_registry, signed, STALE_NONCE, investor)


def test_a_refused_change_bumps_nothing(identity_registry, compliance, investor, chain):
    with ape.reverts("identity: not verified"):
        identity_registry.revoke(investor, sender=compliance)
    with ape.reverts("identity: expiry not in the future"):
        identity_registry.verify(investor, chain.pending_timestamp - 1, 276, sender=compliance)

    assert identity_registry.nonces(investor) == 0


def test_invalidate_an_unverified_account(identity_registry, compliance, investor):
    """`revoke` refuses an account that is not verified; `invalidate` voids its signature."""
    args = onboard_args(identity_registry, investor.address)

    tx = identity_registry.invalidate(investor, sender=compliance)

    [log] = tx.decode_logs(identity_registry.OnboardingInvalidated)
    assert (log.account, log.nonce, log.sender) == (investor.address, 0, compliance.address)
    assert identity_registry.nonces(investor) == 1
    assert identity_registry.identity(investor) == (0, 0)
    refused(identity_registry, args, STALE_NONCE, investor)
    # A new signature, at the new nonce, is accepted.
    identity_registry.onboard(*onboard_args(identity_registry, investor.address), sender=investor)
    assert identity_registry.nonces(investor) == 2


def test_invalidate_keeps_a_verified_identity(identity_registry, compliance, investor, chain):
    expiry = chain.pending_timestamp + YEAR
    identity_registry.verify(investor, expiry, 840, sender=compliance)

    tx = identity_registry.invalidate(investor, sender=compliance)

    assert identity_registry.identity(investor) == (expiry, 840)
    assert identity_registry.is_verified(investor)
    assert identity_registry.nonces(investor) == 2
    assert [log.nonce for log in tx.decode_logs(identity_registry.OnboardingInvalidated)] == [1]
    assert tx.decode_logs(identity_registry.IdentityVerified) == []


def test_invalidate_refusals(identity_registry, compliance, investor, attacker):
    with ape.reverts(MISSING_ROLE):
        identity_registry.invalidate(investor, sender=investor)
    with ape.reverts(MISSING_ROLE):
        identity_registry.invalidate(attacker, sender=attacker)
    with ape.reverts("identity: zero address"):
        identity_registry.invalidate(ZERO, sender=compliance)
    assert identity_registry.nonces(investor) == 0


def test_nonces_count_every_change(identity_registry, compliance, investor, chain):
    """0 at first; +1 for each of verify, onboard, invalidate, revoke, in any order."""
    assert identity_registry.nonces(investor) == 0
    identity_registry.verify(investor, chain.pending_timestamp + DAY, 276, sender=compliance)
    identity_registry.onboard(*onboard_args(identity_registry, investor.address), sender=investor)
    identity_registry.invalidate(investor, sender=compliance)
    identity_registry.revoke(investor, sender=compliance)

    assert identity_registry.nonces(investor) == 4
    assert identity_registry.identity(investor) == (0, 0)


# VIEWS #


TYPED_DATA_TYPES = {
    "EIP712Domain": EIP712_DOMAIN_TYPE,
    "Verification": [
        {"name": "account", "type": "address"},
        {"name": "jurisdiction", "type": "uint16"},
        {"name": "expiresAt", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


TYPED_DATA_FIELDS = [field["name"] for field in TYPED_DATA_TYPES["Verification"]]


def test_domain(identity_registry, chain):
    fields, name, version, chain_id, verifying, salt, extensions = identity_registry.eip712Domain()
    assert (bytes(fields), name, version, chain_id, verifying) == (
        b"\x0f",
        "GPU RWA Identity",
        "1",
        chain.chain_id,
        identity_registry.address,
    )
    assert (bytes(salt), list(extensions)) == (b"\x00" * 32, [])
    assert bytes(identity_registry.DOMAIN_SEPARATOR()) == domain_separator(
        chain.chain_id, identity_registry.address
    )
    assert bytes(identity_registry.VERIFICATION_TYPEHASH()) == keccak(text=VERIFICATION_TYPE)


@pytest.mark.parametrize(
    ("jurisdiction", "expires_at", "nonce", "deadline"),
    [(276, 1_900_000_000, 0, 1_800_000_000), (65_535, 2**64 - 1, 2**256 - 1, 2**256 - 1)],
    ids=["typical", "extremes"],
)
def test_python_digest_is_the_contracts(
    identity_registry, investor, chain, jurisdiction, expires_at, nonce, deadline
):
    """Three computations of one hash: the registry's view, gpu_rwa.onboarding (what the scripts
    and tests sign), and eth_account's own EIP-712 encoder."""
    fields = (investor.address, jurisdiction, expires_at, nonce, deadline)
    message = verification_message(chain.chain_id, identity_registry.address, *fields)
    typed = encode_typed_data(
        full_message={
            "types": TYPED_DATA_TYPES,
            "primaryType": "Verification",
            "domain": {
                "name": "GPU RWA Identity",
                "version": "1",
                "chainId": chain.chain_id,
                "verifyingContract": identity_registry.address,
            },
            "message": dict(zip(TYPED_DATA_FIELDS, fields, strict=True)),
        }
    )

    assert bytes(identity_registry.digest(*fields)) == message_digest(message)
    assert message_digest(typed) == message_digest(message)


def test_views_are_views(identity_registry):
    """Gas-free to read: none of the onboarding views is a transaction."""
    views = {
        "nonces",
        "DOMAIN_SEPARATOR",
        "eip712Domain",
        "VERIFICATION_TYPEHASH",
        "digest",
        "are_verified",
        "is_verified",
        "identity",
    }
    functions = [abi for abi in identity_registry.contract_type.abi if abi.type == "function"]
    mutability = {abi.name: abi.stateMutability for abi in functions}
    assert {name: mutability[name] for name in views} == dict.fromkeys(views, "view")
    assert {mutability["onboard"], mutability["invalidate"]} == {"nonpayable"}
