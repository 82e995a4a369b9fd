"""The registry's hooks, from the registry's side: a status change or an attestation of a unit whose
owner holds COLLATERAL_ROLE is passed to that owner (`IGpuHolder.on_gpu_status` /
`on_gpu_attested`) in the same transaction; any other owner gets no call; a hook that reverts
reverts the change.

The pool is the `kit` fixture: a real GpuCollateral holding COLLATERAL_ROLE. The collateral's own
rules (ramps, staleness, maturities) are tested in tests/unit/gpu_collateral; here only what the
registry's call makes happen, in the receipt of the registry's transaction.
"""

import ape
import pytest
from ape.exceptions import TransactionError

from tests.utils.collateral import State, ceil_day, floor_day
from tests.utils.custody import attest
from tests.utils.registry import COLLATERAL_ROLE, DAY, WRITE_DOWN_PATHS, GpuStatus, path_id
from tests.utils.vault import STALENESS_WINDOW, UNLOCK_PERIOD, contribute, logs_of

# What ape reports for a revert that carries no reason (a call to a missing function).
NO_REASON = TransactionError.DEFAULT_MESSAGE


def across(chain, read, send):
    """`read()` just before and just after the transaction `send()`, both at the transaction's
    timestamp (collateral value depreciates every second): the "before" is read in a block mined
    at that time on a branch that is then thrown away. Returns (before, receipt, after)."""
    timestamp = chain.pending_timestamp + 60
    with chain.isolate():
        chain.mine(timestamp=timestamp)
        before = read()
    chain.pending_timestamp = timestamp
    tx = send()
    assert tx.timestamp == timestamp
    return before, tx, read()


def emitters(tx) -> set[str]:
    """Addresses of every contract that logged in the receipt."""
    return {log["address"] for log in tx.logs}


@pytest.fixture
def held(registry, collateral, register_gpus, operator):
    """Two GPUs registered to the operator and contributed to the default pool (two, so that the
    aggregate's one-wei-per-GPU margin is in play). Returns (token_id, other_token_id, receipt of
    the first contribution)."""
    first, second = register_gpus(2, owner=operator).token_ids
    tx = contribute(collateral, registry, operator, first)
    contribute(collateral, registry, operator, second)
    assert registry.hasRole(COLLATERAL_ROLE, collateral)
    assert registry.ownerOf(first) == registry.ownerOf(second) == collateral.address
    return first, second, tx


def values(collateral, *token_ids):
    """collateral.value() and value_of each token, read together."""
    return lambda: (collateral.value(), *(collateral.value_of(t) for t in token_ids))


# DOWN AT ONCE: IMPAIRED, RETIRED #


@pytest.mark.parametrize("path", WRITE_DOWN_PATHS, ids=path_id)
def test_write_down_leaves_the_pool_in_the_same_transaction(
    registry, collateral, held, set_status, chain, path
):
    token_id, other, _ = held
    *steps, status = path
    for step in steps:
        set_status(token_id, step)

    (before, worth, other_worth), tx, (after, worth_after, other_after) = across(
        chain, values(collateral, token_id, other), lambda: set_status(token_id, status)
    )

    # value() = floor(sum of the GPUs' scaled curves) - 1 wei per counted GPU, and value_of(id) is
    # the floor of that GPU's own curve: with n counted GPUs, sum(value_of) - n <= value() <=
    # sum(value_of) - 1. Taking one GPU out lowers the floored sum by value_of or value_of + 1 and
    # the margin by 1: value() falls by value_of or value_of - 1, never more, never less.
    assert worth > 0
    assert worth + other_worth - 2 <= before <= worth + other_worth - 1
    assert worth - 1 <= before - after <= worth
    # One GPU left: its curve alone is floored, then the single wei of margin.
    assert after == other_after - 1
    assert other_after == other_worth
    assert worth_after == 0
    # The registry's event, then the collateral's, in the same receipt.
    [changed] = tx.decode_logs(registry.GpuStatusChanged)
    [uncounted] = logs_of(tx, collateral, "GpuUncounted")
    assert (changed.token_id, changed.current) == (token_id, status)
    assert (uncounted.token_id, uncounted.status, uncounted.value) == (token_id, status, worth)
    assert changed.log_index < uncounted.log_index
    assert logs_of(tx, collateral, "GpuCounted") == []
    assert collateral.position(token_id)[0] == State.UNCOUNTED
    assert not collateral.counts(token_id)
    assert collateral.schedule_state()[1] == 1
    assert registry.gpu(token_id).status == status


def test_retiring_an_impaired_unit_takes_nothing_more(
    registry, collateral, held, set_status, chain
):
    """Already out of the pool: the hook runs and changes nothing."""
    token_id, other, _ = held
    set_status(token_id, GpuStatus.IMPAIRED)

    before, tx, after = across(
        chain, values(collateral, token_id, other), lambda: set_status(token_id, GpuStatus.RETIRED)
    )

    assert after == before
    assert before[1] == 0
    assert emitters(tx) == {registry.address}
    assert registry.gpu(token_id).status == GpuStatus.RETIRED
    assert collateral.position(token_id)[0] == State.UNCOUNTED


# OPERATIONAL: OFFLINE, LEASED #


@pytest.mark.parametrize(
    "path",
    [
        (GpuStatus.LEASED,),
        (GpuStatus.LEASED, GpuStatus.ACTIVE),
        (GpuStatus.OFFLINE,),
        (GpuStatus.OFFLINE, GpuStatus.ACTIVE),
    ],
    ids=lambda path: "ACTIVE->" + path_id(path),
)
def test_operational_status_leaves_the_value(registry, collateral, held, set_status, chain, path):
    token_id, other, _ = held
    *steps, status = path
    for step in steps:
        set_status(token_id, step)
    position = collateral.position(token_id)

    before, tx, after = across(
        chain, values(collateral, token_id, other), lambda: set_status(token_id, status)
    )

    assert after == before
    assert before[1] > 0
    assert emitters(tx) == {registry.address}
    assert registry.gpu(token_id).status == status
    assert collateral.position(token_id) == position
    assert collateral.counts(token_id)


# UP GRADUALLY: IMPAIRED -> ACTIVE #


def test_restored_unit_returns_over_the_unlock_period(
    registry, collateral, held, set_status, chain
):
    token_id, other, _ = held
    set_status(token_id, GpuStatus.IMPAIRED)
    attested_at = registry.gpu(token_id).last_attested_at

    before, tx, after = across(
        chain, values(collateral, token_id, other), lambda: set_status(token_id, GpuStatus.ACTIVE)
    )

    # Counted again from now, at zero: nothing comes back in the transaction itself, and the
    # aggregate's margin grows by the one wei of a second counted GPU.
    (value, worth, other_worth), (value_after, worth_after, other_after) = before, after
    assert worth == worth_after == 0
    assert other_after == other_worth
    assert value == other_worth - 1
    assert value_after == value - 1
    [counted] = logs_of(tx, collateral, "GpuCounted")
    ramp_end = ceil_day(tx.timestamp + UNLOCK_PERIOD)
    stale_at = floor_day(attested_at + STALENESS_WINDOW)
    assert (counted.token_id, counted.since, counted.ramp_end, counted.stale_at, counted.value) == (
        token_id,
        tx.timestamp,
        ramp_end,
        stale_at,
        0,
    )
    [changed] = tx.decode_logs(registry.GpuStatusChanged)
    assert changed.log_index < counted.log_index
    assert collateral.position(token_id) == (State.COUNTED, tx.timestamp, ramp_end, stale_at)


# ATTESTATION #


def test_attestation_moves_the_stale_day(
    registry, attestor, collateral, held, register_gpus, chain
):
    """A held unit's attestation is passed on with its time: GpuCounted in the same receipt with
    the new stale day, right after the registry's GpuAttested; a unit held by an investor gets no
    call."""
    token_id, other, contributed = held
    elsewhere = register_gpus(1).token_id
    old_stale_at = collateral.position(token_id)[3]
    assert old_stale_at == floor_day(registry.gpu(token_id).last_attested_at + STALENESS_WINDOW)
    # Two days on: the new stale day is at least one grid day later.
    chain.mine(timestamp=chain.pending_timestamp + 2 * DAY)

    before, tx, after = across(
        chain,
        values(collateral, token_id, other),
        lambda: attest(attestor, [token_id], holder=collateral),
    )

    stale_at = floor_day(tx.timestamp + STALENESS_WINDOW)
    assert stale_at > old_stale_at
    # Only the future changes: the value now is the same.
    assert after == before
    [counted] = logs_of(tx, collateral, "GpuCounted")
    assert (counted.token_id, counted.since, counted.ramp_end, counted.stale_at) == (
        token_id,
        contributed.timestamp,
        0,
        stale_at,
    )
    assert counted.value == after[1] > 0
    [attested] = tx.decode_logs(registry.GpuAttested)
    assert (attested.token_id, attested.attested_at) == (token_id, tx.timestamp)
    assert attested.log_index < counted.log_index
    assert collateral.position(token_id) == (State.COUNTED, contributed.timestamp, 0, stale_at)
    assert registry.gpu(token_id).last_attested_at == tx.timestamp
    assert emitters(attest(attestor, [elsewhere])) == {attestor.address, registry.address}


# NO ROLE, NO CALL #


def test_owner_without_the_role_gets_no_call(registry, attestor, register_gpus, set_status):
    """Every transition and an attestation of a unit the investor (an EOA) holds: the registry
    alone logs (and, for the attestation, the attestor that submitted it). Vyper's extcall refuses
    a target without code, so a call to the investor would have reverted (see the next test): none
    was made."""
    token_id = register_gpus(1).token_id

    assert emitters(attest(attestor, [token_id])) == {attestor.address, registry.address}
    receipts = []
    for status in (
        GpuStatus.LEASED,
        GpuStatus.ACTIVE,
        GpuStatus.OFFLINE,
        GpuStatus.IMPAIRED,
        GpuStatus.ACTIVE,
        GpuStatus.RETIRED,
    ):
        receipts.append(set_status(token_id, status))

    assert all(emitters(tx) == {registry.address} for tx in receipts)
    assert registry.gpu(token_id).status == GpuStatus.RETIRED


def test_the_role_not_the_code_decides_the_call(
    registry, register_gpus, set_status, admin, investor
):
    """The same investor-held unit once the investor holds COLLATERAL_ROLE: the registry calls it,
    the call to an address without code reverts, so does the change. The admin grants the role to
    pools' collateral contracts only."""
    token_id = register_gpus(1).token_id
    registry.grantRole(COLLATERAL_ROLE, investor, sender=admin)

    with ape.reverts(NO_REASON):
        set_status(token_id, GpuStatus.OFFLINE)

    registry.revokeRole(COLLATERAL_ROLE, investor, sender=admin)
    set_status(token_id, GpuStatus.OFFLINE)
    assert registry.gpu(token_id).status == GpuStatus.OFFLINE


def test_collateral_whose_role_was_revoked_gets_no_call(
    registry, attestor, collateral, held, set_status, admin, chain
):
    """Revoking the role cuts the notifications: the pool keeps counting the unit at its old
    terms, which is why the admin revokes it only from a contract that holds no unit (see the
    registry's @custom:security)."""
    token_id, other, _ = held
    registry.revokeRole(COLLATERAL_ROLE, collateral, sender=admin)
    position = collateral.position(token_id)
    chain.mine(timestamp=chain.pending_timestamp + 2 * DAY)

    before, impaired, after = across(
        chain,
        values(collateral, token_id, other),
        lambda: set_status(token_id, GpuStatus.IMPAIRED),
    )
    attested = attest(attestor, [token_id], holder=collateral)

    assert emitters(impaired) == {registry.address}
    assert emitters(attested) == {attestor.address, registry.address}
    assert registry.gpu(token_id).status == GpuStatus.IMPAIRED
    assert after == before
    assert before[1] > 0
    assert collateral.position(token_id) == position


def test_unit_sent_to_the_collateral_by_a_plain_transfer(
    registry, attestor, collateral, register_gpus, set_status, operator
):
    """The collateral holds the role, so the registry calls it for a unit that was transferred in
    rather than contributed; the collateral ignores a unit it does not hold and the change goes
    through."""
    token_id = register_gpus(1, owner=operator).token_id
    registry.transferFrom(operator, collateral, token_id, sender=operator)
    value = collateral.value()

    impaired = set_status(token_id, GpuStatus.IMPAIRED)
    attested = attest(attestor, [token_id], holder=collateral)

    assert emitters(impaired) == {registry.address}
    assert emitters(attested) == {attestor.address, registry.address}
    assert registry.gpu(token_id).status == GpuStatus.IMPAIRED
    assert collateral.position(token_id)[0] == State.NONE
    assert collateral.value() == value == 0


# A HOOK THAT REVERTS #


def test_hook_that_reverts_reverts_the_change(
    registry, attestor, usdc, register_gpus, set_status, admin, investor
):
    """A contract that holds COLLATERAL_ROLE but has no hook (the MockUSDC) and holds a unit: the
    registry's call fails, and the status change or attestation fails with it. Intended: the role
    marks trusted holders only (pools' collateral contracts, named by the admin), and a pool must
    never miss a change of its units; a registry that went on when the hook failed would leave
    that pool pricing from a status or an attestation the registry has already changed (DOMAIN:
    "one price, always current"). The admin's remedy is to revoke the role."""
    token_id = register_gpus(1).token_id
    registry.grantRole(COLLATERAL_ROLE, usdc, sender=admin)
    registry.transferFrom(investor, usdc, token_id, sender=investor)
    before = registry.gpu(token_id)

    with ape.reverts(NO_REASON):
        set_status(token_id, GpuStatus.IMPAIRED)
    with ape.reverts(NO_REASON):
        attest(attestor, [token_id], holder=usdc)

    assert registry.gpu(token_id) == before
    assert registry.ownerOf(token_id) == usdc.address

    registry.revokeRole(COLLATERAL_ROLE, usdc, sender=admin)
    tx = set_status(token_id, GpuStatus.OFFLINE)
    assert emitters(tx) == {registry.address}
    assert registry.gpu(token_id).status == GpuStatus.OFFLINE
