"""Schedule, wait, execute, cancel on the GovernanceTimelock, and every way around it refused:
direct admin calls by the deployer, the proposer or the executor; executing too early, unscheduled
or twice; a delay below the minimum; changing the delay or the timelock's roles without it; a
stranger or the executor cancelling."""

import ape
import pytest

from tests.utils.governance import (
    DEFAULT_ADMIN_ROLE,
    DELAY,
    DONE,
    EXECUTOR_ROLE,
    NOT_READY,
    PROPOSER_ROLE,
    READY,
    SNEKMATE_NOT_TIMELOCK,
    UNSET,
    WAITING,
    ZERO,
    execute_call,
    schedule_call,
    through,
)
from tests.utils.vault import COMPLIANCE_ROLE, MISSING_ROLE

GOVERNORS = ("admin", "proposer", "executor")


def test_schedule_wait_execute(timelock, governed, proposer, executor, compliance, chain):
    payload = governed.grantRole.encode_input(COMPLIANCE_ROLE, compliance)

    operation, tx = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )

    ready_at = tx.timestamp + DELAY
    [log] = tx.decode_logs(timelock.CallScheduled)
    assert (log.id, log.index, log.target, log.amount) == (operation, 0, governed.address, 0)
    assert (log.payload, log.predecessor, log.delay) == (payload, ZERO, DELAY)
    assert not tx.decode_logs(timelock.CallSalt)
    assert timelock.get_timestamp(operation) == ready_at
    assert timelock.get_operation_state(operation) == WAITING
    assert timelock.is_operation_pending(operation) and not timelock.is_operation_ready(operation)

    chain.pending_timestamp = ready_at
    tx = execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)

    assert governed.hasRole(COMPLIANCE_ROLE, compliance)
    [log] = tx.decode_logs(timelock.CallExecuted)
    assert (log.id, log.index, log.target, log.amount, log.payload) == (
        operation,
        0,
        governed.address,
        0,
        payload,
    )
    [granted] = tx.decode_logs(governed.RoleGranted)
    assert (granted.role, granted.account, granted.sender) == (
        COMPLIANCE_ROLE,
        compliance.address,
        timelock.address,
    )
    assert (timelock.get_timestamp(operation), timelock.get_operation_state(operation)) == (1, DONE)


@pytest.mark.parametrize("caller", GOVERNORS)
def test_no_direct_admin_call(governed, request, compliance, caller):
    """Neither the deployer (who renounced) nor the proposer nor the executor is an admin."""
    with ape.reverts(MISSING_ROLE):
        governed.grantRole(COMPLIANCE_ROLE, compliance, sender=request.getfixturevalue(caller))


@pytest.mark.parametrize("caller", ("admin", "executor", "attacker"))
def test_only_a_proposer_schedules(timelock, governed, request, compliance, caller):
    with ape.reverts(MISSING_ROLE):
        schedule_call(
            timelock,
            request.getfixturevalue(caller),
            governed.grantRole,
            COMPLIANCE_ROLE,
            compliance,
        )


@pytest.mark.parametrize("caller", ("admin", "proposer", "attacker"))
def test_only_an_executor_executes(
    timelock, governed, proposer, request, compliance, chain, caller
):
    schedule_call(timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance)
    chain.pending_timestamp += DELAY
    with ape.reverts(MISSING_ROLE):
        execute_call(
            timelock,
            request.getfixturevalue(caller),
            governed.grantRole,
            COMPLIANCE_ROLE,
            compliance,
        )
    assert not governed.hasRole(COMPLIANCE_ROLE, compliance)


def test_too_early(timelock, governed, proposer, executor, compliance, chain):
    operation, tx = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )
    chain.pending_timestamp = tx.timestamp + DELAY // 2
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    assert timelock.get_operation_state(operation) == WAITING
    assert not governed.hasRole(COMPLIANCE_ROLE, compliance)


@pytest.mark.anvil_only("transactions at exact seconds")
def test_ready_at_its_second_not_before(timelock, governed, proposer, executor, compliance, chain):
    operation, tx = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )
    ready_at = tx.timestamp + DELAY
    chain.pending_timestamp = ready_at - 1
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    chain.pending_timestamp = ready_at
    tx = execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    assert tx.timestamp == ready_at
    assert timelock.get_operation_state(operation) == DONE


def test_unscheduled(timelock, governed, executor, compliance, chain):
    chain.pending_timestamp += 10 * DELAY
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)


def test_another_call_than_scheduled(
    timelock, governed, proposer, executor, compliance, attacker, chain
):
    """The id binds target, value, payload, predecessor and salt: a different argument is an
    operation never scheduled."""
    schedule_call(timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance)
    chain.pending_timestamp += DELAY
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, attacker)
    with ape.reverts(NOT_READY):
        execute_call(
            timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance, salt=b"\x01" * 32
        )


def test_twice(timelock, governed, proposer, executor, compliance, chain):
    through(timelock, proposer, executor, chain, governed.grantRole, COMPLIANCE_ROLE, compliance)
    governed_revoke = governed.revokeRole
    # Undone in between, so a second execution would change something again.
    through(timelock, proposer, executor, chain, governed_revoke, COMPLIANCE_ROLE, compliance)
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    assert not governed.hasRole(COMPLIANCE_ROLE, compliance)
    with ape.reverts("timelock_controller: operation already scheduled"):
        schedule_call(timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance)


def test_a_salt_schedules_the_same_call_again(
    timelock, governed, proposer, executor, compliance, chain
):
    first, _ = schedule_call(timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance)
    with ape.reverts("timelock_controller: operation already scheduled"):
        schedule_call(timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance)
    salt = b"\x07" * 32
    second, tx = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance, salt=salt
    )
    assert second != first
    [log] = tx.decode_logs(timelock.CallSalt)
    assert (log.id, log.salt) == (second, salt)


@pytest.mark.parametrize("delay", (0, DELAY - 1))
def test_delay_below_the_minimum(timelock, governed, proposer, compliance, delay):
    with ape.reverts("timelock_controller: insufficient delay"):
        schedule_call(
            timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance, delay=delay
        )


def test_a_longer_delay(timelock, governed, proposer, executor, compliance, chain):
    _, tx = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance, delay=10 * DELAY
    )
    chain.pending_timestamp = tx.timestamp + DELAY
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    chain.pending_timestamp = tx.timestamp + 10 * DELAY
    execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    assert governed.hasRole(COMPLIANCE_ROLE, compliance)


# THE TIMELOCK'S OWN DELAY AND ROLES: only through itself. #


@pytest.mark.parametrize("caller", (*GOVERNORS, "attacker"))
def test_delay_not_changed_directly(timelock, request, caller):
    with ape.reverts(SNEKMATE_NOT_TIMELOCK):
        timelock.update_delay(1, sender=request.getfixturevalue(caller))
    assert timelock.get_minimum_delay() == DELAY


@pytest.mark.parametrize("caller", (*GOVERNORS, "attacker"))
def test_roles_not_changed_directly(timelock, request, attacker, proposer, caller):
    account = request.getfixturevalue(caller)
    with ape.reverts(MISSING_ROLE):
        timelock.grantRole(PROPOSER_ROLE, attacker, sender=account)
    with ape.reverts(MISSING_ROLE):
        timelock.revokeRole(PROPOSER_ROLE, proposer, sender=account)
    with ape.reverts(MISSING_ROLE):
        timelock.set_role_admin(PROPOSER_ROLE, EXECUTOR_ROLE, sender=account)
    assert not timelock.hasRole(PROPOSER_ROLE, attacker)
    assert timelock.hasRole(PROPOSER_ROLE, proposer)


def test_delay_changed_through_the_timelock(timelock, proposer, executor, chain):
    tx = through(timelock, proposer, executor, chain, timelock.update_delay, 2 * DELAY)

    [log] = tx.decode_logs(timelock.MinimumDelayChange)
    assert (log.old_duration, log.new_duration) == (DELAY, 2 * DELAY)
    assert timelock.get_minimum_delay() == 2 * DELAY
    with ape.reverts("timelock_controller: insufficient delay"):
        schedule_call(timelock, proposer, timelock.update_delay, DELAY)


def test_roles_changed_through_the_timelock(timelock, proposer, executor, attacker, chain):
    tx = through(timelock, proposer, executor, chain, timelock.grantRole, EXECUTOR_ROLE, attacker)

    [log] = tx.decode_logs(timelock.RoleGranted)
    assert (log.role, log.account, log.sender) == (
        EXECUTOR_ROLE,
        attacker.address,
        timelock.address,
    )
    assert timelock.hasRole(EXECUTOR_ROLE, attacker)
    through(timelock, proposer, executor, chain, timelock.revokeRole, EXECUTOR_ROLE, executor)
    assert not timelock.hasRole(EXECUTOR_ROLE, executor)


def test_the_deployer_cannot_take_the_timelock_back(timelock, admin):
    with ape.reverts(MISSING_ROLE):
        timelock.grantRole(DEFAULT_ADMIN_ROLE, admin, sender=admin)


# CANCEL #


def test_cancel(timelock, governed, proposer, executor, compliance, chain):
    operation, _ = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )

    tx = timelock.cancel(operation, sender=proposer)

    [log] = tx.decode_logs(timelock.Cancelled)
    assert log.id == operation
    assert timelock.get_operation_state(operation) == UNSET
    chain.pending_timestamp += DELAY
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, governed.grantRole, COMPLIANCE_ROLE, compliance)
    with ape.reverts("timelock_controller: operation cannot be cancelled"):
        timelock.cancel(operation, sender=proposer)


def test_cancel_a_ready_operation(timelock, governed, proposer, compliance, chain):
    operation, _ = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )
    chain.pending_timestamp += DELAY
    chain.mine()
    assert timelock.get_operation_state(operation) == READY
    timelock.cancel(operation, sender=proposer)
    assert timelock.get_operation_state(operation) == UNSET


@pytest.mark.parametrize("caller", ("admin", "executor", "attacker"))
def test_only_a_canceller_cancels(timelock, governed, proposer, request, compliance, caller):
    operation, _ = schedule_call(
        timelock, proposer, governed.grantRole, COMPLIANCE_ROLE, compliance
    )
    with ape.reverts(MISSING_ROLE):
        timelock.cancel(operation, sender=request.getfixturevalue(caller))
    assert timelock.get_operation_state(operation) == WAITING


def test_an_executed_operation_is_not_cancelled(
    timelock, governed, proposer, executor, compliance, chain
):
    through(timelock, proposer, executor, chain, governed.grantRole, COMPLIANCE_ROLE, compliance)
    operation = timelock.hash_operation(
        governed, 0, governed.grantRole.encode_input(COMPLIANCE_ROLE, compliance), ZERO, ZERO
    )
    with ape.reverts("timelock_controller: operation cannot be cancelled"):
        timelock.cancel(operation, sender=proposer)
    assert timelock.get_operation_state(operation) == DONE


def test_a_reverting_call_is_not_done(timelock, governed, proposer, executor, chain):
    """The target's revert reason bubbles up; the operation stays ready to execute again."""
    operation, _ = schedule_call(timelock, proposer, governed.revoke, executor)
    chain.pending_timestamp += DELAY
    with ape.reverts(MISSING_ROLE):
        execute_call(timelock, executor, governed.revoke, executor)
    assert timelock.get_operation_state(operation) == READY
