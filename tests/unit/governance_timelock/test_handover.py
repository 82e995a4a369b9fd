"""The two-step admin handover: proposed and cancelled only by the timelock itself (an executed
operation); accepted only by the proposed admin, moving DEFAULT_ADMIN_ROLE of every target from
the timelock to it."""

import ape
import pytest

from tests.utils.governance import DEFAULT_ADMIN_ROLE, NOT_TIMELOCK, through
from tests.utils.vault import COMPLIANCE_ROLE, MISSING_ROLE

ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def propose(timelock, proposer, executor, chain):
    """`propose(new_admin)`: the handover proposed by an executed operation; its receipt."""

    def _propose(new_admin):
        return through(timelock, proposer, executor, chain, timelock.propose_handover, new_admin)

    return _propose


@pytest.mark.parametrize("caller", ("admin", "proposer", "executor", "attacker"))
def test_proposed_only_by_the_timelock(timelock, request, attacker, caller):
    with ape.reverts(NOT_TIMELOCK):
        timelock.propose_handover(attacker, sender=request.getfixturevalue(caller))
    assert timelock.pending_admin() == ZERO_ADDRESS


def test_propose(timelock, propose, other_investor, investor):
    tx = propose(other_investor)

    [log] = tx.decode_logs(timelock.HandoverProposed)
    assert (log.new_admin, log.previous) == (other_investor.address, ZERO_ADDRESS)
    assert timelock.pending_admin() == other_investor.address

    # A new proposal replaces one not yet accepted.
    tx = propose(investor)
    [log] = tx.decode_logs(timelock.HandoverProposed)
    assert (log.new_admin, log.previous) == (investor.address, other_investor.address)
    assert timelock.pending_admin() == investor.address


@pytest.mark.parametrize(
    ("new_admin", "reason"),
    [
        ("zero", "governance: new admin is the zero address"),
        ("timelock", "governance: new admin is the timelock itself"),
    ],
)
def test_propose_refused(timelock, propose, request, new_admin, reason):
    account = ZERO_ADDRESS if new_admin == "zero" else request.getfixturevalue(new_admin)
    # The timelock bubbles up the refusal of the call it makes.
    with ape.reverts(reason):
        propose(account)
    assert timelock.pending_admin() == ZERO_ADDRESS


def test_accept_moves_every_target(
    timelock, governed, governed_too, propose, other_investor, compliance
):
    propose(other_investor)

    tx = timelock.accept_handover([governed, governed_too], sender=other_investor)

    [log] = tx.decode_logs(timelock.HandoverAccepted)
    assert (log.new_admin, log.targets) == (
        other_investor.address,
        [governed.address, governed_too.address],
    )
    for target in (governed, governed_too):
        # Both targets share an ABI: each one's logs by its address.
        [granted] = [e for e in tx.decode_logs(target.RoleGranted) if e.contract_address == target]
        [revoked] = [e for e in tx.decode_logs(target.RoleRevoked) if e.contract_address == target]
        assert (granted.role, granted.account, granted.sender) == (
            DEFAULT_ADMIN_ROLE,
            other_investor.address,
            timelock.address,
        )
        assert (revoked.role, revoked.account, revoked.sender) == (
            DEFAULT_ADMIN_ROLE,
            timelock.address,
            timelock.address,
        )
        assert target.hasRole(DEFAULT_ADMIN_ROLE, other_investor)
        assert not target.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert timelock.pending_admin() == ZERO_ADDRESS
    # The new admin acts; the old timelock cannot any more, even through an operation.
    governed.grantRole(COMPLIANCE_ROLE, compliance, sender=other_investor)
    assert governed.hasRole(COMPLIANCE_ROLE, compliance)


def test_the_old_timelock_loses_its_power(
    timelock, governed, propose, other_investor, proposer, executor, compliance, chain
):
    propose(other_investor)
    timelock.accept_handover([governed], sender=other_investor)
    with ape.reverts(MISSING_ROLE):
        through(
            timelock, proposer, executor, chain, governed.grantRole, COMPLIANCE_ROLE, compliance
        )
    assert not governed.hasRole(COMPLIANCE_ROLE, compliance)


@pytest.mark.parametrize("caller", ("admin", "proposer", "executor", "attacker"))
def test_accepted_only_by_the_proposed_admin(
    timelock, governed, propose, other_investor, request, caller
):
    propose(other_investor)
    with ape.reverts("governance: caller is not the proposed admin"):
        timelock.accept_handover([governed], sender=request.getfixturevalue(caller))
    assert governed.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert timelock.pending_admin() == other_investor.address


def test_accept_with_nothing_pending(timelock, governed, other_investor):
    with ape.reverts("governance: no handover pending"):
        timelock.accept_handover([governed], sender=other_investor)


def test_accept_refused_targets(timelock, governed, project, admin, propose, other_investor):
    propose(other_investor)
    not_governed = project.IdentityRegistry.deploy(sender=admin)
    for targets, reason in (
        ([], "governance: no target"),
        ([governed, not_governed], "governance: target not administered by the timelock"),
        ([governed, governed], "governance: target not administered by the timelock"),
        ([timelock], "governance: the timelock administers itself"),
    ):
        with ape.reverts(reason):
            timelock.accept_handover(targets, sender=other_investor)
    # All or nothing: the governed target is still the timelock's, the proposal still stands.
    assert governed.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert not governed.hasRole(DEFAULT_ADMIN_ROLE, other_investor)
    assert timelock.pending_admin() == other_investor.address


def test_accepted_once(timelock, governed, governed_too, propose, other_investor):
    propose(other_investor)
    timelock.accept_handover([governed], sender=other_investor)
    with ape.reverts("governance: no handover pending"):
        timelock.accept_handover([governed_too], sender=other_investor)
    # Left out, it stays the timelock's.
    assert governed_too.hasRole(DEFAULT_ADMIN_ROLE, timelock)


def test_cancel(timelock, governed, proposer, executor, propose, other_investor, chain):
    propose(other_investor)

    tx = through(timelock, proposer, executor, chain, timelock.cancel_handover)

    [log] = tx.decode_logs(timelock.HandoverCancelled)
    assert log.new_admin == other_investor.address
    assert timelock.pending_admin() == ZERO_ADDRESS
    with ape.reverts("governance: no handover pending"):
        timelock.accept_handover([governed], sender=other_investor)
    assert governed.hasRole(DEFAULT_ADMIN_ROLE, timelock)


def test_cancel_refused(timelock, proposer, executor, propose, other_investor, chain):
    with ape.reverts("governance: no handover pending"):
        through(timelock, proposer, executor, chain, timelock.cancel_handover)
    propose(other_investor)
    for caller in (proposer, executor, other_investor):
        with ape.reverts(NOT_TIMELOCK):
            timelock.cancel_handover(sender=caller)
    assert timelock.pending_admin() == other_investor.address
