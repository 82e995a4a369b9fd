"""attest(): the custodian's periodic proof that each unit is in place and running."""

import ape
import pytest

from tests.utils.registry import (
    DAY,
    MAX_ATTEST_BATCH,
    MISSING_ROLE,
    ROLE_FIXTURES,
    GpuStatus,
)


def test_attest(registry, register_gpus, custodian, chain):
    registered = register_gpus(3)
    registered_at = registered.receipts[0].timestamp
    chain.mine(timestamp=chain.pending_timestamp + 7 * DAY)

    tx = registry.attest([3, 1], sender=custodian)

    assert tx.timestamp > registered_at
    assert registry.gpu(1).last_attested_at == tx.timestamp
    assert registry.gpu(2).last_attested_at == registered_at
    assert registry.gpu(3).last_attested_at == tx.timestamp
    logs = tx.decode_logs(registry.GpuAttested)
    assert [(log.token_id, log.attested_at, log.custodian) for log in logs] == [
        (3, tx.timestamp, custodian.address),
        (1, tx.timestamp, custodian.address),
    ]


def test_attest_leaves_other_fields_untouched(registry, register_gpus, custodian, chain):
    registered = register_gpus(1)
    before = registry.gpu(1)
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    tx = registry.attest([1], sender=custodian)

    after = registry.gpu(1)
    assert after.last_attested_at == tx.timestamp
    assert after[:-1] == before[:-1]
    assert registry.ownerOf(1) == registered.receipts[0].decode_logs(registry.Transfer)[0].receiver


def test_attest_repeated_id(registry, register_gpus, custodian):
    register_gpus(1)

    tx = registry.attest([1, 1], sender=custodian)

    assert [log.token_id for log in tx.decode_logs(registry.GpuAttested)] == [1, 1]
    assert registry.gpu(1).last_attested_at == tx.timestamp


@pytest.mark.parametrize(
    "status", [GpuStatus.LEASED, GpuStatus.OFFLINE, GpuStatus.IMPAIRED], ids=lambda s: s.name
)
def test_attest_any_status_but_retired(registry, register_gpus, set_status, custodian, status):
    register_gpus(1)
    set_status(1, status)

    tx = registry.attest([1], sender=custodian)

    assert registry.gpu(1).last_attested_at == tx.timestamp
    assert registry.gpu(1).status == status


def test_attest_retired(registry, register_gpus, set_status, custodian):
    register_gpus(2)
    set_status(2, GpuStatus.RETIRED)

    with ape.reverts("registry: GPU retired"):
        registry.attest([1, 2], sender=custodian)


def test_attest_unknown_gpu(registry, register_gpus, custodian):
    register_gpus(2)

    with ape.reverts("registry: unknown GPU"):
        registry.attest([1, 3], sender=custodian)
    with ape.reverts("registry: unknown GPU"):
        registry.attest([0], sender=custodian)


def test_attest_empty_batch(registry, custodian):
    with ape.reverts("registry: empty batch"):
        registry.attest([], sender=custodian)


def test_attest_batch_over_bound_cannot_be_decoded(registry, custodian):
    with ape.reverts():
        registry.attest([1] * (MAX_ATTEST_BATCH + 1), sender=custodian)


@pytest.mark.parametrize("caller", [name for name in ROLE_FIXTURES if name != "custodian"])
def test_attest_refused_without_custodian_role(registry, register_gpus, request, caller):
    register_gpus(1)

    with ape.reverts(MISSING_ROLE):
        registry.attest([1], sender=request.getfixturevalue(caller))
