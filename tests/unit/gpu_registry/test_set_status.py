"""set_status(): the whole transition table of IGpuRegistry.vyi, each pair with its role."""

import itertools

import ape
import pytest

from tests.utils.registry import (
    MISSING_ROLE,
    PATH_FROM_ACTIVE,
    ROLE_FIXTURES,
    ROLE_HOLDER,
    TRANSITIONS,
    GpuStatus,
)

ALLOWED = list(TRANSITIONS)
DISALLOWED = [pair for pair in itertools.permutations(GpuStatus, 2) if pair not in TRANSITIONS]


def pair_id(pair) -> str:
    return f"{pair[0].name}->{pair[1].name}"


@pytest.fixture
def gpu_in(register_gpus, set_status):
    """A fresh unit brought to `status` through allowed transitions; returns its token id."""

    def _gpu_in(status: GpuStatus) -> int:
        token_id = register_gpus(1).token_id
        for step in PATH_FROM_ACTIVE[status]:
            set_status(token_id, step)
        return token_id

    return _gpu_in


def test_table_covers_every_pair():
    assert len(ALLOWED) == 11
    assert len(ALLOWED) + len(DISALLOWED) == 5 * 4
    # RETIRED is terminal.
    assert all(previous != GpuStatus.RETIRED for previous, _ in ALLOWED)


@pytest.mark.parametrize("pair", ALLOWED, ids=pair_id)
def test_allowed_transition(registry, gpu_in, request, pair):
    previous, current = pair
    token_id = gpu_in(previous)
    before = registry.gpu(token_id)
    holder = request.getfixturevalue(ROLE_HOLDER[TRANSITIONS[pair]])

    tx = registry.set_status(token_id, current, sender=holder)

    after = registry.gpu(token_id)
    assert after.status == current
    assert after[:7] == before[:7]
    assert after.last_attested_at == before.last_attested_at
    [log] = tx.decode_logs(registry.GpuStatusChanged)
    assert (log.token_id, log.previous, log.current, log.sender) == (
        token_id,
        previous,
        current,
        holder.address,
    )


@pytest.mark.parametrize(
    "pair, caller",
    [
        (pair, caller)
        for pair in ALLOWED
        for caller in ROLE_FIXTURES
        if caller != ROLE_HOLDER[TRANSITIONS[pair]]
    ],
    ids=lambda value: pair_id(value) if isinstance(value, tuple) else value,
)
def test_allowed_transition_refused_to_other_roles(registry, gpu_in, request, pair, caller):
    previous, current = pair
    token_id = gpu_in(previous)

    with ape.reverts(MISSING_ROLE):
        registry.set_status(token_id, current, sender=request.getfixturevalue(caller))

    assert registry.gpu(token_id).status == previous


@pytest.mark.parametrize("pair", DISALLOWED, ids=pair_id)
@pytest.mark.parametrize("caller", ["custodian", "appraiser", "operator", "admin"])
def test_disallowed_transition(registry, gpu_in, request, pair, caller):
    previous, current = pair
    token_id = gpu_in(previous)

    with ape.reverts("registry: transition not allowed"):
        registry.set_status(token_id, current, sender=request.getfixturevalue(caller))

    assert registry.gpu(token_id).status == previous


@pytest.mark.parametrize("status", list(GpuStatus), ids=lambda s: s.name)
def test_same_status(registry, gpu_in, custodian, status):
    token_id = gpu_in(status)

    with ape.reverts("registry: status unchanged"):
        registry.set_status(token_id, status, sender=custodian)


@pytest.mark.parametrize(
    "code",
    [0, GpuStatus.ACTIVE | GpuStatus.LEASED, GpuStatus.OFFLINE | GpuStatus.RETIRED, 31],
    ids=["empty", "active|leased", "offline|retired", "all"],
)
def test_combined_or_empty_flag(registry, gpu_in, custodian, operator, code):
    token_id = gpu_in(GpuStatus.ACTIVE)

    for sender in (custodian, operator):
        with ape.reverts("registry: transition not allowed"):
            registry.set_status(token_id, code, sender=sender)


def test_flag_out_of_range_cannot_be_decoded(registry, gpu_in, custodian):
    token_id = gpu_in(GpuStatus.ACTIVE)

    with ape.reverts():
        registry.set_status(token_id, 32, sender=custodian)


def test_unknown_gpu(registry, gpu_in, custodian):
    gpu_in(GpuStatus.ACTIVE)

    with ape.reverts("registry: unknown GPU"):
        registry.set_status(2, GpuStatus.OFFLINE, sender=custodian)


def test_lease_round_trip_and_retirement(registry, gpu_in, operator, appraiser, custodian):
    """A unit's life: leased, back, impaired, repaired, offline, retired; every step logged."""
    token_id = gpu_in(GpuStatus.ACTIVE)
    steps = [
        (GpuStatus.LEASED, operator),
        (GpuStatus.ACTIVE, operator),
        (GpuStatus.IMPAIRED, appraiser),
        (GpuStatus.ACTIVE, appraiser),
        (GpuStatus.OFFLINE, custodian),
        (GpuStatus.RETIRED, custodian),
    ]
    history = [GpuStatus.ACTIVE]

    for status, sender in steps:
        tx = registry.set_status(token_id, status, sender=sender)
        [log] = tx.decode_logs(registry.GpuStatusChanged)
        assert (log.previous, log.current) == (history[-1], status)
        history.append(status)

    assert registry.gpu(token_id).status == GpuStatus.RETIRED
