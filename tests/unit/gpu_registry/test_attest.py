"""attest(holder, token_ids, attested_at): the custodians' periodic proof that each unit is in
place and running, recorded by ATTESTER_ROLE (the CustodyAttestor, once it checked their
signatures; here an account granted the role stands in, so the registry's own checks are seen
alone). The signed path end to end is in tests/unit/custody_attestor/."""

import ape
import pytest

from tests.utils.custody import attest, attestation_time
from tests.utils.registry import (
    ATTESTER_ROLE,
    DAY,
    MAX_ATTEST_BATCH,
    MISSING_ROLE,
    ROLE_FIXTURES,
    GpuStatus,
)


@pytest.fixture
def attester(registry, admin, operator):
    """`operator` holding ATTESTER_ROLE: calls `attest` as the CustodyAttestor would."""
    registry.grantRole(ATTESTER_ROLE, operator, sender=admin)
    return operator


def test_attest(registry, register_gpus, attester, investor, chain):
    registered = register_gpus(3)
    registered_at = registered.receipts[0].timestamp
    chain.mine(timestamp=chain.pending_timestamp + 7 * DAY)
    at = chain.pending_timestamp - DAY

    tx = registry.attest(investor, [3, 1], at, sender=attester)

    assert registry.gpu(1).last_attested_at == at
    assert registry.gpu(2).last_attested_at == registered_at
    assert registry.gpu(3).last_attested_at == at
    logs = tx.decode_logs(registry.GpuAttested)
    assert [(log.token_id, log.attested_at, log.custodian) for log in logs] == [
        (3, at, attester.address),
        (1, at, attester.address),
    ]


def test_attest_records_the_signed_time_not_the_block(registry, register_gpus, attester, chain):
    """A signed time in the past is fine (the pool reckons staleness from it); one second after
    the last attestation is newer."""
    registered = register_gpus(1, owner=attester)
    at = registered.receipts[0].timestamp + 1
    chain.mine(timestamp=at + 30 * DAY)

    tx = registry.attest(attester, [1], at, sender=attester)

    assert tx.timestamp > at
    assert registry.terms(1).last_attested_at == at


@pytest.mark.anvil_only("a block at an exact second: the signed time is the block's own")
def test_attest_now(registry, register_gpus, attester, investor, chain):
    register_gpus(1)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    at = chain.pending_timestamp
    chain.pending_timestamp = at

    tx = registry.attest(investor, [1], at, sender=attester)

    assert tx.timestamp == at
    assert registry.gpu(1).last_attested_at == at


def test_attest_leaves_other_fields_untouched(registry, register_gpus, attester, investor, chain):
    registered = register_gpus(1)
    before = registry.gpu(1)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    at = chain.blocks.head.timestamp

    registry.attest(investor, [1], at, sender=attester)

    after = registry.gpu(1)
    assert after.last_attested_at == at
    assert after[:-1] == before[:-1]
    assert registry.ownerOf(1) == registered.receipts[0].decode_logs(registry.Transfer)[0].receiver


def test_attest_repeated_id_is_not_newer(registry, register_gpus, attester, investor, chain):
    register_gpus(1)
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    with ape.reverts("registry: attestation not newer"):
        registry.attest(investor, [1, 1], chain.blocks.head.timestamp, sender=attester)


@pytest.mark.parametrize("offset", [0, -1], ids=["same time", "earlier"])
def test_attest_not_newer(registry, register_gpus, attester, investor, chain, offset):
    register_gpus(2)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    last = chain.blocks.head.timestamp - DAY // 2
    registry.attest(investor, [2], last, sender=attester)

    with ape.reverts("registry: attestation not newer"):
        registry.attest(investor, [1, 2], last + offset, sender=attester)

    assert registry.gpu(2).last_attested_at == last


def test_attest_in_the_future(registry, register_gpus, attester, investor, chain):
    register_gpus(1)
    at = chain.pending_timestamp + DAY
    chain.pending_timestamp = at - 1

    with ape.reverts("registry: attestation in the future"):
        registry.attest(investor, [1], at, sender=attester)


@pytest.mark.parametrize(
    "status", [GpuStatus.LEASED, GpuStatus.OFFLINE, GpuStatus.IMPAIRED], ids=lambda s: s.name
)
def test_attest_any_status_but_retired(
    registry, register_gpus, set_status, attester, investor, chain, status
):
    register_gpus(1)
    set_status(1, status)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    at = chain.blocks.head.timestamp

    registry.attest(investor, [1], at, sender=attester)

    assert registry.gpu(1).last_attested_at == at
    assert registry.gpu(1).status == status


def test_attest_retired(registry, register_gpus, set_status, attester, investor, chain):
    register_gpus(2)
    set_status(2, GpuStatus.RETIRED)
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    with ape.reverts("registry: GPU retired"):
        registry.attest(investor, [1, 2], chain.blocks.head.timestamp, sender=attester)


def test_attest_unknown_gpu(registry, register_gpus, attester, investor, chain):
    register_gpus(2)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    at = chain.blocks.head.timestamp

    with ape.reverts("registry: unknown GPU"):
        registry.attest(investor, [1, 3], at, sender=attester)
    with ape.reverts("registry: unknown GPU"):
        registry.attest(investor, [0], at, sender=attester)


def test_attest_gpu_not_held_by_the_holder(
    registry, register_gpus, attester, investor, other_investor, chain
):
    register_gpus(1)
    register_gpus(1, owner=other_investor)
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    at = chain.blocks.head.timestamp

    with ape.reverts("registry: gpu not held by holder"):
        registry.attest(investor, [1, 2], at, sender=attester)
    with ape.reverts("registry: gpu not held by holder"):
        registry.attest(other_investor, [1], at, sender=attester)


def test_attest_empty_batch(registry, attester, investor):
    with ape.reverts("registry: empty batch"):
        registry.attest(investor, [], 1, sender=attester)


def test_attest_batch_over_bound_cannot_be_decoded(registry, attester, investor):
    with ape.reverts():
        registry.attest(investor, [1] * (MAX_ATTEST_BATCH + 1), 1, sender=attester)


@pytest.mark.parametrize("caller", ROLE_FIXTURES)
def test_attest_refused_without_attester_role(
    registry, register_gpus, attestor, request, investor, chain, caller
):
    """Custodians included: their attestations reach the registry only signed, through the
    CustodyAttestor, which holds the role."""
    register_gpus(1)
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    with ape.reverts(MISSING_ROLE):
        registry.attest(
            investor, [1], chain.blocks.head.timestamp, sender=request.getfixturevalue(caller)
        )

    assert registry.hasRole(ATTESTER_ROLE, attestor)
    at = attestation_time(attestor, [1])
    attest(attestor, [1], holder=investor, at=at)
    assert registry.gpu(1).last_attested_at == at
