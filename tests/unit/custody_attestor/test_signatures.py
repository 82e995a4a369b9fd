"""The signatures `submit` accepts: a custodian's, now, over this chain and this attestor, each
signer once and in ascending order, low s, 65 bytes. Every way around it is refused with its
reason, and nothing is recorded."""

import ape
import pytest

from gpu_rwa.custody import attestation_message, sign
from tests.utils.custody import SECP256K1_N, attestation_time, high_s_twin, submit_args
from tests.utils.registry import ATTESTER_ROLE, CUSTODIAN_ROLE


def refused(attestor, args, reason, sender):
    """`submit(*args)` reverts with `reason` and the digest stays unsubmitted."""
    _, ids, at, _ = args
    with ape.reverts(reason):
        attestor.submit(*args, sender=sender)
    assert not attestor.submitted(attestor.digest(ids, at))


def with_signatures(args, signatures):
    holder, ids, at, _ = args
    return holder, ids, at, signatures


def test_replay_in_another_encoding_is_already_submitted(attestor, gpus, investor, attacker):
    """The digest is what is recorded, so the high-s twin of a submitted signature (or any other
    encoding) is a replay too."""
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus))
    attestor.submit(*args, sender=attacker)
    [signature] = args[3]

    with ape.reverts("attestor: already submitted"):
        attestor.submit(*with_signatures(args, [high_s_twin(signature)]), sender=attacker)


def test_a_signature_for_another_chain_id(attestor, gpus, investor, custodian, chain, attacker):
    at = attestation_time(attestor, gpus)
    message = attestation_message(chain.chain_id + 1, attestor.address, gpus, at)
    args = (investor, gpus, at, [sign(custodian, message)])

    refused(attestor, args, "attestor: signer is not a custodian", attacker)


def test_a_signature_for_another_verifying_contract(
    project, registry, attestor, admin, gpus, investor, custodian, attacker, chain
):
    """Signed for a second attestor of the same registry: refused here, accepted there."""
    other = project.CustodyAttestor.deploy(registry, 1, sender=admin)
    registry.grantRole(ATTESTER_ROLE, other, sender=admin)
    at = attestation_time(attestor, gpus)
    args = submit_args(other, gpus, investor, at)

    refused(attestor, args, "attestor: signer is not a custodian", attacker)

    other.submit(*args, sender=attacker)
    assert other.submitted(other.digest(gpus, at))
    assert registry.terms(gpus[0]).last_attested_at == at


def test_an_attestor_without_the_role_is_refused_by_the_registry(
    project, registry, admin, gpus, investor, attacker
):
    other = project.CustodyAttestor.deploy(registry, 1, sender=admin)
    args = submit_args(other, gpus, investor, attestation_time(other, gpus))

    refused(other, args, "access_control: account is missing role", attacker)


def test_a_signer_who_is_not_a_custodian(attestor, gpus, investor, attacker):
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus), [attacker])

    refused(attestor, args, "attestor: signer is not a custodian", attacker)


def test_a_custodian_revoked_after_signing(registry, attestor, admin, gpus, investor, custodian):
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus))
    registry.revokeRole(CUSTODIAN_ROLE, custodian, sender=admin)

    refused(attestor, args, "attestor: signer is not a custodian", admin)


def test_the_same_signature_twice(attestor, admin, gpus, investor, custodians):
    """Two copies of one custodian's signature do not make two of a 2-of-3."""
    attestor.set_threshold(2, sender=admin)
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus), custodians[:1])
    [signature] = args[3]

    refused(
        attestor,
        with_signatures(args, [signature, signature]),
        "attestor: signers not ascending",
        admin,
    )
    refused(
        attestor,
        with_signatures(args, [signature, high_s_twin(signature)]),
        "ecdsa: invalid signature `s` value",
        admin,
    )


def test_signers_not_ascending(attestor, admin, gpus, investor, custodians):
    attestor.set_threshold(2, sender=admin)
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus), custodians[:2])
    first, second = args[3]

    refused(
        attestor, with_signatures(args, [second, first]), "attestor: signers not ascending", admin
    )
    attestor.submit(*args, sender=admin)


def test_a_malleable_high_s_signature(attestor, gpus, investor, attacker):
    """n - s with the other v: the same signer for ecrecover (EIP-2 malleability), refused by
    snekmate's ecdsa."""
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus))
    [signature] = args[3]
    twin = high_s_twin(signature)
    assert twin[:32] == signature[:32]
    assert int.from_bytes(twin[32:64], "big") > SECP256K1_N // 2
    assert twin[64] == 55 - signature[64]

    refused(attestor, with_signatures(args, [twin]), "ecdsa: invalid signature `s` value", attacker)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda sig: sig[:64], "attestor: invalid signature"),
        (lambda sig: sig[:40], "attestor: invalid signature"),
        (lambda sig: b"", "attestor: invalid signature"),
        (lambda sig: sig[:64] + b"\x00", "attestor: invalid signature"),
        (lambda sig: sig[:64] + b"\x01", "attestor: invalid signature"),
        (lambda sig: sig[:64] + b"\x1d", "attestor: invalid signature"),
        (lambda sig: b"\x00" * 64 + b"\x1b", "ecdsa: invalid signature"),
        (lambda sig: b"\xff" * 32 + b"\x00" * 32 + b"\x1c", "ecdsa: invalid signature"),
    ],
    ids=[
        "64 bytes (no compact form)",
        "40 bytes",
        "empty",
        "v 0",
        "v 1",
        "v 29",
        "r and s zero",
        "r beyond the curve order",
    ],
)
def test_a_truncated_or_garbage_signature(attestor, gpus, investor, attacker, mangle, reason):
    args = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus))
    [signature] = args[3]

    refused(attestor, with_signatures(args, [mangle(signature)]), reason, attacker)
