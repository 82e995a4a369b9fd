"""GovernanceTimelock's constructor: self-administered, proposers also cancellers, the delay, the
deployer with no role; no timelock without a proposer or an executor."""

import ape
import pytest

from tests.utils.governance import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    DELAY,
    EXECUTOR_ROLE,
    PROPOSER_ROLE,
)


def test_roles_and_delay(timelock, admin, proposer, executor):
    assert timelock.get_minimum_delay() == DELAY
    assert timelock.hasRole(DEFAULT_ADMIN_ROLE, timelock)
    assert timelock.hasRole(PROPOSER_ROLE, proposer)
    assert timelock.hasRole(CANCELLER_ROLE, proposer)
    assert timelock.hasRole(EXECUTOR_ROLE, executor)
    assert not timelock.hasRole(EXECUTOR_ROLE, proposer)
    assert not any(timelock.hasRole(role, executor) for role in (PROPOSER_ROLE, CANCELLER_ROLE))
    roles = (DEFAULT_ADMIN_ROLE, PROPOSER_ROLE, CANCELLER_ROLE, EXECUTOR_ROLE)
    assert not any(timelock.hasRole(role, admin) for role in roles)
    assert all(timelock.getRoleAdmin(role) == DEFAULT_ADMIN_ROLE for role in roles)
    assert (timelock.PROPOSER_ROLE(), timelock.EXECUTOR_ROLE(), timelock.CANCELLER_ROLE()) == (
        PROPOSER_ROLE,
        EXECUTOR_ROLE,
        CANCELLER_ROLE,
    )
    assert timelock.pending_admin() == "0x" + "00" * 20
    assert timelock.MAX_TARGETS() == 64


def test_deploy_events(project, admin, proposer, executor):
    contract = project.GovernanceTimelock.deploy(7_200, [proposer], [executor], sender=admin)
    receipt = contract.creation_metadata.receipt

    granted = [
        (log.role, log.account, log.sender) for log in receipt.decode_logs(contract.RoleGranted)
    ]
    assert granted == [
        (DEFAULT_ADMIN_ROLE, admin.address, admin.address),
        (DEFAULT_ADMIN_ROLE, contract.address, admin.address),
        (PROPOSER_ROLE, proposer.address, admin.address),
        (CANCELLER_ROLE, proposer.address, admin.address),
        (EXECUTOR_ROLE, executor.address, admin.address),
    ]
    # access_control's constructor grants the deployer, the timelock's takes it back at once.
    [revoked] = receipt.decode_logs(contract.RoleRevoked)
    assert (revoked.role, revoked.account) == (DEFAULT_ADMIN_ROLE, admin.address)
    [delay] = receipt.decode_logs(contract.MinimumDelayChange)
    assert (delay.old_duration, delay.new_duration) == (0, 7_200)


@pytest.mark.parametrize(
    ("proposers", "executors", "reason"),
    [([], ["executor"], "governance: no proposer"), (["proposer"], [], "governance: no executor")],
)
def test_refused_without_a_proposer_or_an_executor(
    project, admin, request, proposers, executors, reason
):
    accounts = {name: request.getfixturevalue(name) for name in ("proposer", "executor")}
    with ape.reverts(reason):
        project.GovernanceTimelock.deploy(
            DELAY, [accounts[p] for p in proposers], [accounts[e] for e in executors], sender=admin
        )


def test_many_proposers_and_executors(project, admin, operator, custodian, appraiser):
    contract = project.GovernanceTimelock.deploy(
        DELAY, [admin, operator], [custodian, appraiser], sender=admin
    )
    for account in (admin, operator):
        assert contract.hasRole(PROPOSER_ROLE, account)
        assert contract.hasRole(CANCELLER_ROLE, account)
    for account in (custodian, appraiser):
        assert contract.hasRole(EXECUTOR_ROLE, account)
    # A proposer that deploys it keeps only its proposer's roles.
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, admin)
