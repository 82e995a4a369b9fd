"""Every economic parameter and role of a deployed suite changes only by schedule, wait, execute
on its GovernanceTimelock; pause stays immediate on the pauser's key.

The suite is deployed once for the module by the deploy script's `deploy_suite` from
config/local.yaml, with a proposer and an executor of their own (the `proposer` and `executor`
fixtures), so the deployer, the proposer and the executor are three keys. For each setter: none of
them may call it directly, it cannot run before the delay, and once executed it changes the
parameter with its event. The economic parameters that have no setter (fixed at deploy) are
listed in NO_SETTER.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ape
import pytest
from ape import project
from rich.console import Console

from gpu_rwa.config import GovernanceConfig, load_deploy_config
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.governance import administered_contracts
from tests.utils.governance import DEFAULT_ADMIN_ROLE, DELAY, NOT_READY, execute_call, schedule_call
from tests.utils.registry import CUSTODIAN_ROLE, DAY
from tests.utils.vault import COMPLIANCE_ROLE, MISSING_ROLE, OPERATOR_ROLE, PAUSER_ROLE

# Economic parameters fixed at deploy, with no setter (a new value means a new deployment):
# GpuCollateral's staleness window, unlock period and advance rate (constructor immutables;
# GpuCollateral has no bytes left for setters), the vault's vesting period. Listed here so a
# setter added later is noticed and given a test below.
NO_SETTER = {
    "GpuCollateral": ("STALENESS_WINDOW", "UNLOCK_PERIOD", "ADVANCE_RATE_BPS"),
    "CollateralVault": ("vesting_period",),
}


@pytest.fixture(scope="module")
def governed_suite(
    tmp_path_factory, admin, proposer, executor, operator, pauser, compliance, attacker
) -> dict[str, Any]:
    """The suite as `ape run deploy` leaves it, governed by `proposer` and `executor`. (Every
    session fixture the tests use is requested here first: one requested later would make ape
    rebase its snapshots.)"""
    config = load_deploy_config(Path("config/local.yaml"))
    config = config.model_copy(
        update={
            "governance": GovernanceConfig(
                delay_seconds=DELAY, proposers=[proposer.address], executors=[executor.address]
            )
        }
    )
    path = tmp_path_factory.mktemp("governed") / "local.json"
    manifest = deploy_suite(config, admin, path, Console(quiet=True))
    return {
        name: getattr(project, name).at(record.address)
        for name, record in manifest.contracts.items()
    } | {"manifest": manifest}


@dataclass(frozen=True)
class Setter:
    contract: str
    function: str
    args: tuple  # fixture names are resolved: ("@pauser",)
    read: str  # the view that shows the change, called with `read_args`
    read_args: tuple
    before: Any
    after: Any
    event: str | None
    fields: dict  # the event's fields after the change


RECIPIENT = "0x1111111111111111111111111111111111111111"
STRANGER = "0x2222222222222222222222222222222222222222"

SETTERS = [
    Setter(
        "CollateralVault",
        "set_fee_bps",
        (500,),
        "fee_bps",
        (),
        1_000,
        500,
        "UpdateFeeBps",
        {"previous": 1_000, "current": 500},
    ),
    Setter(
        "CollateralVault",
        "set_fee_recipient",
        (RECIPIENT,),
        "fee_recipient",
        (),
        "@admin",
        RECIPIENT,
        "UpdateFeeRecipient",
        {"previous": "@admin", "current": RECIPIENT},
    ),
    Setter(
        "LeaseManager",
        "set_default_after",
        (30 * DAY,),
        "default_after",
        (),
        60 * DAY,
        30 * DAY,
        "UpdateDefaultAfter",
        {"previous": 60 * DAY, "current": 30 * DAY},
    ),
    Setter(
        "RedemptionQueue",
        "set_min_request",
        (10**12,),
        "min_request",
        (),
        10 * 10**12,
        10**12,
        "UpdateMinRequest",
        {"previous": 10 * 10**12, "current": 10**12},
    ),
    Setter(
        "CustodyAttestor",
        "set_threshold",
        (2,),
        "threshold",
        (),
        1,
        2,
        "UpdateThreshold",
        {"previous": 1, "current": 2},
    ),
    Setter(
        "CustodyAttestor",
        "set_pool_threshold",
        ("@GpuCollateral", 3),
        "pool_threshold",
        ("@GpuCollateral",),
        0,
        3,
        "UpdatePoolThreshold",
        {"holder": "@GpuCollateral", "previous": 0, "current": 3},
    ),
    Setter(
        "GpuRegistry",
        "grantRole",
        (CUSTODIAN_ROLE, STRANGER),
        "hasRole",
        (CUSTODIAN_ROLE, STRANGER),
        False,
        True,
        "RoleGranted",
        {"role": CUSTODIAN_ROLE, "account": STRANGER, "sender": "@GovernanceTimelock"},
    ),
    Setter(
        "IdentityRegistry",
        "grantRole",
        (COMPLIANCE_ROLE, STRANGER),
        "hasRole",
        (COMPLIANCE_ROLE, STRANGER),
        False,
        True,
        "RoleGranted",
        {"role": COMPLIANCE_ROLE, "account": STRANGER, "sender": "@GovernanceTimelock"},
    ),
    Setter(
        "GpuCollateral",
        "revokeRole",
        (OPERATOR_ROLE, "@operator"),
        "hasRole",
        (OPERATOR_ROLE, "@operator"),
        True,
        False,
        "RoleRevoked",
        {"role": OPERATOR_ROLE, "account": "@operator", "sender": "@GovernanceTimelock"},
    ),
    Setter(
        "CollateralVault",
        "revokeRole",
        (PAUSER_ROLE, "@pauser"),
        "hasRole",
        (PAUSER_ROLE, "@pauser"),
        True,
        False,
        "RoleRevoked",
        {"role": PAUSER_ROLE, "account": "@pauser", "sender": "@GovernanceTimelock"},
    ),
    Setter(
        "GpuCollateral",
        "wind_down",
        (),
        "winding_down",
        (),
        False,
        True,
        "WindDownStarted",
        {"admin": "@GovernanceTimelock"},
    ),
    Setter(
        "GovernanceTimelock",
        "update_delay",
        (2 * DELAY,),
        "get_minimum_delay",
        (),
        DELAY,
        2 * DELAY,
        "MinimumDelayChange",
        {"old_duration": DELAY, "new_duration": 2 * DELAY},
    ),
]


def _resolve(value, suite, request):
    """`@name`: a contract of the suite or a role fixture, by its address."""
    if isinstance(value, str) and value.startswith("@"):
        name = value[1:]
        found = suite[name] if name in suite else request.getfixturevalue(name)
        return found.address
    return value


@pytest.mark.parametrize("setter", SETTERS, ids=lambda s: f"{s.contract}.{s.function}")
def test_only_by_schedule_wait_execute(governed_suite, setter, request, chain, proposer, executor):
    contract = governed_suite[setter.contract]
    timelock = governed_suite["GovernanceTimelock"]
    args = [_resolve(arg, governed_suite, request) for arg in setter.args]
    method = getattr(contract, setter.function)

    def read():
        value = getattr(contract, setter.read)(
            *(_resolve(arg, governed_suite, request) for arg in setter.read_args)
        )
        return value

    before = _resolve(setter.before, governed_suite, request)
    assert read() == before
    # No key calls it directly: not the deployer, the proposer, the executor.
    direct = (
        "timelock_controller: caller must be timelock"
        if setter.contract == "GovernanceTimelock"
        else MISSING_ROLE
    )
    for caller in ("admin", "proposer", "executor"):
        with ape.reverts(direct):
            method(*args, sender=request.getfixturevalue(caller))

    _, scheduled = schedule_call(timelock, proposer, method, *args)
    chain.pending_timestamp = scheduled.timestamp + DELAY // 2
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, method, *args)
    assert read() == before

    chain.pending_timestamp = scheduled.timestamp + DELAY
    tx = execute_call(timelock, executor, method, *args)

    assert read() == _resolve(setter.after, governed_suite, request)
    [log] = [
        log
        for log in tx.decode_logs(getattr(contract, setter.event))
        if log.contract_address == contract.address
    ]
    assert {key: log[key] for key in setter.fields} == {
        key: _resolve(value, governed_suite, request) for key, value in setter.fields.items()
    }
    with ape.reverts(NOT_READY):
        execute_call(timelock, executor, method, *args)


def test_pause_at_once_unpause_through_the_timelock(
    governed_suite, pauser, admin, proposer, executor, chain
):
    """Emergency power on its own key: the pauser pauses in one transaction; lifting the pause is
    the admin's, so it waits out the delay, and the pauser cannot lift it."""
    vault, timelock = governed_suite["CollateralVault"], governed_suite["GovernanceTimelock"]
    vault.pause(sender=pauser)
    assert vault.paused()
    for caller in (pauser, admin, proposer, executor):
        with ape.reverts(MISSING_ROLE):
            vault.unpause(sender=caller)

    _, scheduled = schedule_call(timelock, proposer, vault.unpause)
    chain.pending_timestamp = scheduled.timestamp + DELAY
    tx = execute_call(timelock, executor, vault.unpause)

    assert not vault.paused()
    [log] = tx.decode_logs(vault.Unpaused)
    assert log.account == timelock.address


def test_compliance_acts_at_once(governed_suite, compliance, attacker, chain):
    identity = governed_suite["IdentityRegistry"]
    identity.verify(attacker, chain.pending_timestamp + DAY, 840, sender=compliance)
    assert identity.is_verified(attacker)


def test_the_timelock_alone_administers_the_suite(governed_suite, admin, proposer, executor):
    timelock = governed_suite["GovernanceTimelock"]
    names = administered_contracts(governed_suite["manifest"])
    assert set(names) >= {"GpuRegistry", "CollateralVault", "GpuCollateral", "CustodyAttestor"}
    for name in [*names, "GovernanceTimelock"]:
        contract = governed_suite[name]
        assert contract.hasRole(DEFAULT_ADMIN_ROLE, timelock), name
        for account in (admin, proposer, executor):
            assert not contract.hasRole(DEFAULT_ADMIN_ROLE, account), name


@pytest.mark.parametrize(("name", "views"), NO_SETTER.items())
def test_parameters_without_a_setter(governed_suite, name, views):
    """Read-only: no state-changing function of the contract names them (a setter added later
    must come with its governance test above)."""
    contract_type = governed_suite[name].contract_type
    setters = {abi.name for abi in contract_type.mutable_methods}
    for view in views:
        assert view in {abi.name for abi in contract_type.view_methods}
        stem = view.lower().removesuffix("_bps")
        assert not any(stem in setter for setter in setters), (name, view, setters)
