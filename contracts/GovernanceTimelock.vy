# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GovernanceTimelock
@custom:contract-name GovernanceTimelock
@license GNU Affero General Public License v3.0 only
@notice The suite's admin. It holds DEFAULT_ADMIN_ROLE of every contract (the deploy script hands
        it over as its last step), so every economic parameter (fees and fee recipient, a pool's
        default delay and smallest redemption request, attestation thresholds, wind-down, lifting
        a pause) and every role grant changes only by schedule, wait, execute.
        snekmate's timelock_controller: PROPOSER_ROLE schedules an operation (a call, or a batch
        of calls, with a salt), which becomes ready `delay` seconds later, at least
        `get_minimum_delay`; EXECUTOR_ROLE then executes it and the timelock makes the call;
        CANCELLER_ROLE (every proposer) cancels it while it waits. Self-administered: no account
        holds its DEFAULT_ADMIN_ROLE, so its own roles and its delay change only through an
        operation that targets the timelock itself.
        Admin handover in two steps: an executed operation calls `propose_handover(new_admin)`;
        the proposed admin then calls `accept_handover(targets)`, and on each target the timelock
        grants it DEFAULT_ADMIN_ROLE and renounces its own. `cancel_handover` (an operation too)
        drops a proposal not yet accepted.
@custom:security
        - Emergency powers are not here: PAUSER_ROLE (pause) and COMPLIANCE_ROLE stay with their
          own keys and act at once. Lifting a pause is the admin's, so it waits for the delay.
        - Proposing or cancelling a handover is an operation (it waits); accepting needs the
          proposed admin's own transaction, so a mistyped address never receives a role.
        - `execute` may reenter (see snekmate): the operation is checked ready again and marked
          done after its call, so a reentered execution of the same id fails.
@custom:kill Cancel every pending operation (CANCELLER_ROLE): nothing changes until a proposer
        schedules again. Pausing the vault (PAUSER_ROLE) needs no operation.
"""


from snekmate.auth.interfaces import IAccessControl


from .interfaces import IGovernanceTimelock
implements: IGovernanceTimelock


from snekmate.auth import access_control
initializes: access_control


from snekmate.governance import timelock_controller
initializes: timelock_controller[access_control := access_control]


# Everything the timelock offers: schedule(_batch), execute(_batch), cancel, update_delay, the
# operation views and hashes, the token-receiver hooks, and the role management of access_control
# (grantRole, revokeRole, renounceRole, set_role_admin: only the timelock itself may call them).
exports: timelock_controller.__interface__


# @dev Most contracts one `accept_handover` moves (the suite has about a dozen).
MAX_TARGETS: public(constant(uint256)) = 64


# The admin an executed `propose_handover` named; zero when no handover is pending.
pending_admin: public(address)


@deploy
def __init__(
    minimum_delay_: uint256,
    proposers_: DynArray[address, timelock_controller._DYNARRAY_BOUND],
    executors_: DynArray[address, timelock_controller._DYNARRAY_BOUND],
):
    """
    @notice Deploys the timelock, administered by itself alone (no extra admin, the deployer keeps
            no role). Proposers also become cancellers.
    @param minimum_delay_ Seconds an operation waits at least between schedule and execute.
    @param proposers_ Who schedules and cancels operations (at least one).
    @param executors_ Who executes ready operations (at least one).
    """
    assert len(proposers_) != 0, "governance: no proposer"
    assert len(executors_) != 0, "governance: no executor"
    access_control.__init__()
    timelock_controller.__init__(minimum_delay_, proposers_, executors_, empty(address))


# ADMIN HANDOVER #


@external
def propose_handover(new_admin: address):
    """
    @notice The timelock itself (an executed operation): name the suite's next admin, who takes
            over with `accept_handover`. A new proposal replaces one not yet accepted.
    @param new_admin The successor (a new timelock, a multisig): not zero, not this contract.
    """
    self._only_self()
    assert new_admin != empty(address), "governance: new admin is the zero address"
    assert new_admin != self, "governance: new admin is the timelock itself"
    log IGovernanceTimelock.HandoverProposed(new_admin=new_admin, previous=self.pending_admin)
    self.pending_admin = new_admin


@external
def cancel_handover():
    """
    @notice The timelock itself (an executed operation): drop the pending proposal.
    """
    self._only_self()
    new_admin: address = self.pending_admin
    assert new_admin != empty(address), "governance: no handover pending"
    self.pending_admin = empty(address)
    log IGovernanceTimelock.HandoverCancelled(new_admin=new_admin)


@external
def accept_handover(targets: DynArray[address, MAX_TARGETS]):
    """
    @notice The proposed admin: on each target the timelock grants it DEFAULT_ADMIN_ROLE and
            renounces its own. The handover then ends; a contract left out stays the timelock's.
    @dev Each target is a snekmate access_control contract the timelock administers now; the
         timelock itself is never a target (it stays self-administered).
    @param targets The contracts to hand over (at most MAX_TARGETS, each once).
    """
    new_admin: address = self.pending_admin
    assert new_admin != empty(address), "governance: no handover pending"
    assert msg.sender == new_admin, "governance: caller is not the proposed admin"
    assert len(targets) != 0, "governance: no target"
    # Cleared before the calls: a target cannot reenter a handover half done.
    self.pending_admin = empty(address)
    for target: address in targets:
        assert target != self, "governance: the timelock administers itself"
        assert staticcall IAccessControl(target).hasRole(
            access_control.DEFAULT_ADMIN_ROLE, self
        ), "governance: target not administered by the timelock"
        extcall IAccessControl(target).grantRole(access_control.DEFAULT_ADMIN_ROLE, new_admin)
        extcall IAccessControl(target).renounceRole(access_control.DEFAULT_ADMIN_ROLE, self)
    log IGovernanceTimelock.HandoverAccepted(new_admin=new_admin, targets=targets)


@internal
@view
def _only_self():
    """
    @dev Only an executed operation of this timelock: it makes the call itself.
    """
    assert msg.sender == self, "governance: caller must be the timelock"
