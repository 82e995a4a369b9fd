"""terms(): what a pool values a unit from, field by field the same as gpu() (and ownerOf)."""

import ape
import pytest

from tests.utils.custody import attest
from tests.utils.registry import (
    DAY,
    MAX_UINT40,
    MAX_UINT128,
    PATH_FROM_ACTIVE,
    GpuStatus,
)


def assert_terms_match(registry, token_id):
    """Every field of terms(token_id) against gpu(token_id) and ownerOf(token_id)."""
    terms = registry.terms(token_id)
    gpu = registry.gpu(token_id)
    assert terms.owner == registry.ownerOf(token_id)
    assert terms.cost == gpu.acquisition_cost
    assert terms.salvage == gpu.salvage_value
    assert terms.acquired_at == gpu.acquired_at
    assert terms.useful_life == gpu.useful_life
    assert terms.status == gpu.status
    assert terms.last_attested_at == gpu.last_attested_at
    return terms


def test_terms_of_a_registered_unit(registry, register_gpus, investor):
    registered = register_gpus(2)
    spec = registered.spec

    terms = assert_terms_match(registry, 1)

    assert tuple(terms) == (
        investor.address,
        spec["acquisition_cost"],
        spec["salvage_value"],
        spec["acquired_at"],
        spec["useful_life"],
        GpuStatus.ACTIVE,
        registered.receipts[0].timestamp,
    )
    assert_terms_match(registry, 2)


@pytest.mark.parametrize("status", list(GpuStatus), ids=lambda s: s.name)
def test_terms_status_is_the_code(registry, register_gpus, set_status, status):
    register_gpus(1)
    for step in PATH_FROM_ACTIVE[status]:
        set_status(1, step)

    terms = assert_terms_match(registry, 1)

    assert terms.status == int(status)


def test_terms_follow_transfer_and_attestation(
    registry, attestor, register_gpus, investor, other_investor, chain
):
    register_gpus(1)
    chain.mine(timestamp=chain.pending_timestamp + 3 * DAY)

    registry.transferFrom(investor, other_investor, 1, sender=investor)
    tx = attest(attestor, [1], holder=other_investor)

    terms = assert_terms_match(registry, 1)
    assert terms.owner == other_investor.address
    assert terms.last_attested_at == tx.timestamp


def test_terms_at_the_packing_bounds(registry, register_gpus):
    register_gpus(
        1,
        acquired_at=0,
        acquisition_cost=MAX_UINT128,
        salvage_value=MAX_UINT128 - 1,
        useful_life=MAX_UINT40,
    )

    terms = assert_terms_match(registry, 1)

    assert (terms.cost, terms.salvage, terms.acquired_at, terms.useful_life) == (
        MAX_UINT128,
        MAX_UINT128 - 1,
        0,
        MAX_UINT40,
    )


def test_terms_unknown_gpu(registry, register_gpus):
    register_gpus(1)

    for token_id in (0, 2):
        with ape.reverts("registry: unknown GPU"):
            registry.terms(token_id)
