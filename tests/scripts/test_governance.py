"""`ape run governance schedule|execute|cancel|status|accept-handover` on the deployed suite, whose
admin is its GovernanceTimelock (60 s delay; TEST::0 proposes, cancels and executes), and `ape run
vault wind-down` pointing there. Every refusal is one line and sends nothing."""

import re

import pytest
from ape import project
from eth_utils import keccak

from gpu_rwa.governance import format_moment
from tests.scripts.utils import head_logs, refused, script
from tests.utils.governance import DELAY, after_delay, govern
from tests.utils.vault import DEFAULT_ADMIN_ROLE

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # TEST::0: proposer and executor
OPERATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1: no governance role
NEW_ADMIN = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9
OPERATION = re.compile(r"operation (0x[0-9a-f]{64})")
# The contracts the timelock administers after the deploy (more may join: PoolCompliance, ...).
CORE = {
    "GpuRegistry",
    "IdentityRegistry",
    "CustodyAttestor",
    "GpuCollateral",
    "CollateralVault",
    "GpuAppraisals",
    "LeaseManager",
    "RedemptionQueue",
    "GpuMarket",
}


def contract_of(kit, name: str):
    return getattr(project, name).at(kit.pool.manifest.contracts[name].address)


def administered(kit) -> list[str]:
    """The manifest's contracts with a DEFAULT_ADMIN_ROLE, the timelock aside, read from their
    ABIs (the set grows with the suite)."""
    return [
        name
        for name in kit.pool.manifest.contracts
        if name != "GovernanceTimelock"
        and "DEFAULT_ADMIN_ROLE"
        in {abi.name for abi in getattr(project, name).contract_type.abi if abi.type == "function"}
    ]


def scheduled_id(result) -> str:
    assert result.exit_code == 0, result.output
    return OPERATION.search(result.output).group(1)


def status_rows(output: str) -> list[tuple[str, str, str]]:
    """(id, state and ETA, call) of each operation `status` lists."""
    lines = output.splitlines()
    return [
        (line[:66], line[68:], lines[index + 1].strip())
        for index, line in enumerate(lines)
        if line.startswith("0x")
    ]


def test_schedule_wait_execute_a_fee(deployed_pool, admin, chain):
    vault = deployed_pool.vault
    nonce = admin.nonce

    result = script(
        deployed_pool, "governance", "schedule", "CollateralVault", "set_fee_bps", "500"
    )

    operation = scheduled_id(result)
    scheduled = chain.blocks.head.timestamp
    ready = format_moment(scheduled + DELAY)
    assert admin.nonce == nonce + 1
    assert f"scheduled CollateralVault.set_fee_bps(500) as operation {operation}: ready at " in (
        result.output
    )
    assert f"{ready}, in 1 min; then `ape run governance execute {operation}`" in result.output
    timelock = contract_of(deployed_pool, "GovernanceTimelock")
    (log,) = head_logs(chain, timelock.CallScheduled)
    assert (log.id.hex(), log.index, log.target, log.amount) == (operation[2:], 0, vault.address, 0)
    assert (log.payload, log.predecessor, log.delay) == (
        vault.set_fee_bps.encode_input(500),
        b"\x00" * 32,
        DELAY,
    )

    status = script(deployed_pool, "governance", "status")
    assert status.exit_code == 0, status.output
    assert "minimum delay 1 min; admin handover: none" in status.output
    [row] = status_rows(status.output)
    assert row[0] == operation
    assert row[1].startswith(f"waiting: ready at {ready}, in ")
    assert row[2] == "CollateralVault.set_fee_bps(500)"

    early = script(deployed_pool, "governance", "execute", operation)
    refused(
        early,
        f"operation {operation} (CollateralVault.set_fee_bps(500)) is not ready: ready at "
        f"{ready}, in ",
    )
    assert vault.fee_bps() == 1_000

    after_delay(chain)
    result = script(deployed_pool, "governance", "execute", operation)

    assert result.exit_code == 0, result.output
    assert f"executed operation {operation}: CollateralVault.set_fee_bps(500)" in result.output
    assert vault.fee_bps() == 500
    assert admin.nonce == nonce + 2
    after = script(deployed_pool, "governance", "status")
    assert "no operation pending (1 in all; --all lists them)" in after.output
    every = script(deployed_pool, "governance", "status", "--all")
    executed = format_moment(chain.blocks.head.timestamp)
    assert status_rows(every.output) == [
        (operation, f"executed on {executed}", "CollateralVault.set_fee_bps(500)")
    ]

    refused(
        script(deployed_pool, "governance", "execute", operation),
        f"operation {operation} (CollateralVault.set_fee_bps(500)) was already executed on "
        f"{format_moment(chain.blocks.head.timestamp)}: nothing to execute",
    )
    assert admin.nonce == nonce + 2


def test_a_routine_call_scheduled_again(deployed_pool, admin, pauser, chain):
    """The same call (an unpause after every pause) is scheduled, executed and scheduled again:
    each time under the first salt not in use (zero, then keccak256("1"), ...), so nobody picks
    salts; a second schedule while one is pending is refused unless --salt says it is meant."""
    vault = deployed_pool.vault
    ids = []
    for _ in range(2):
        vault.pause(sender=pauser)
        ids.append(
            scheduled_id(
                script(deployed_pool, "governance", "schedule", "CollateralVault", "unpause")
            )
        )
        after_delay(chain)
        assert (
            script(deployed_pool, "governance", "execute", "CollateralVault", "unpause").exit_code
            == 0
        )
        assert not vault.paused()
    timelock = contract_of(deployed_pool, "GovernanceTimelock")
    payload = vault.unpause.encode_input()
    zero = b"\x00" * 32
    assert ids == [
        "0x" + timelock.hash_operation(vault, 0, payload, zero, salt).hex().removeprefix("0x")
        for salt in (zero, keccak(text="1"))
    ]

    vault.pause(sender=pauser)
    pending = scheduled_id(
        script(deployed_pool, "governance", "schedule", "CollateralVault", "unpause")
    )
    nonce = admin.nonce
    refused(
        script(deployed_pool, "governance", "schedule", "CollateralVault", "unpause"),
        f"CollateralVault.unpause() is already scheduled as operation {pending}, ready at "
        f"{format_moment(chain.blocks.head.timestamp + DELAY)}; pass --salt to schedule it once "
        "more",
    )
    assert admin.nonce == nonce
    again = scheduled_id(
        script(deployed_pool, "governance", "schedule", "CollateralVault", "unpause", "--salt", "x")
    )
    after_delay(chain)
    refused(
        script(deployed_pool, "governance", "execute", "CollateralVault", "unpause"),
        f"2 pending operations make CollateralVault.unpause(): give the ID ({pending}, {again})",
    )


def test_execute_named_by_its_call_and_salt(deployed_pool, chain):
    pool = deployed_pool
    args = ("GpuRegistry", "grantRole", "CUSTODIAN_ROLE", NEW_ADMIN)
    operation = scheduled_id(
        script(pool, "governance", "schedule", *args, "--salt", "round-2", "--delay", "3600")
    )
    label = f"GpuRegistry.grantRole(CUSTODIAN_ROLE, {NEW_ADMIN})"
    ready = format_moment(chain.blocks.head.timestamp + 3_600)
    assert status_rows(script(pool, "governance", "status").output) == [
        (operation, f"waiting: ready at {ready}, in 1 h", label)
    ]

    # With another salt, the call names another operation, never scheduled.
    refused(
        script(pool, "governance", "execute", *args, "--salt", "round-3"),
        "was scheduled on the timelock (`ape run governance status` lists them)",
    )
    after_delay(chain, 3_600)
    result = script(pool, "governance", "execute", *args, "--salt", "round-2")

    assert result.exit_code == 0, result.output
    assert f"executed operation {operation}: {label}" in result.output
    assert pool.registry.hasRole(pool.registry.CUSTODIAN_ROLE(), NEW_ADMIN)
    refused(
        script(pool, "governance", "execute", *args),
        f"no operation making {label} is pending (`ape run governance status` lists them)",
    )


def test_cancel(deployed_pool, admin, chain):
    pool = deployed_pool
    operation = scheduled_id(
        script(pool, "governance", "schedule", "LeaseManager", "set_default_after", "86400")
    )

    result = script(pool, "governance", "cancel", operation)

    assert result.exit_code == 0, result.output
    assert f"cancelled operation {operation}: LeaseManager.set_default_after(86400)" in (
        result.output
    )
    cancelled = format_moment(chain.blocks.head.timestamp)
    assert status_rows(script(pool, "governance", "status", "--all").output) == [
        (operation, f"cancelled on {cancelled}", "LeaseManager.set_default_after(86400)")
    ]
    after_delay(chain)
    nonce = admin.nonce
    for command in ("execute", "cancel"):
        refused(
            script(pool, "governance", command, operation),
            f"operation {operation} (LeaseManager.set_default_after(86400)) was cancelled on "
            f"{cancelled}: schedule it again",
        )
    assert admin.nonce == nonce
    assert pool.leases.default_after() == 60 * 86_400


def test_cancel_named_by_its_call(deployed_pool, admin):
    operation = scheduled_id(
        script(deployed_pool, "governance", "schedule", "GpuCollateral", "wind_down")
    )

    result = script(deployed_pool, "governance", "cancel", "GpuCollateral", "wind_down")

    assert result.exit_code == 0, result.output
    assert f"cancelled operation {operation}: GpuCollateral.wind_down()" in result.output
    nonce = admin.nonce
    refused(
        script(deployed_pool, "governance", "cancel", "GpuCollateral", "wind_down"),
        "no operation making GpuCollateral.wind_down() is pending (`ape run governance status` "
        "lists them)",
    )
    assert admin.nonce == nonce
    assert not deployed_pool.collateral.winding_down()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Vault", "set_fee_bps", "1"), "CONTRACT: no contract Vault in the manifest (Governance"),
        (
            ("CollateralVaul", "set_fee_bps", "1"),
            "CONTRACT: no contract CollateralVaul in the manifest did you mean CollateralVault?",
        ),
        (
            ("CollateralVault", "set_fee", "1"),
            "FUNCTION: CollateralVault has no state-changing function set_fee; did you mean "
            "set_fee_bps?",
        ),
        (
            ("CollateralVault", "fee_bps"),
            "FUNCTION: CollateralVault.fee_bps is a view: it changes nothing to schedule",
        ),
        (
            ("CollateralVault", "set_fee_bps"),
            "ARGS: CollateralVault.set_fee_bps takes 1 (fee_bps_: uint256) argument(s), got 0",
        ),
        (
            ("CollateralVault", "set_fee_bps", "1", "2"),
            "ARGS: CollateralVault.set_fee_bps takes 1 (fee_bps_: uint256) argument(s), got 2",
        ),
        (
            ("CollateralVault", "set_fee_bps", "5%"),
            "ARGS: argument 1 of CollateralVault.set_fee_bps (fee_bps_: uint256): '5%' is not a "
            "whole number",
        ),
        (
            ("CollateralVault", "set_fee_bps", str(2**256)),
            f"ARGS: argument 1 of CollateralVault.set_fee_bps (fee_bps_: uint256): {2**256} is out "
            "of range for uint256",
        ),
        (
            ("CollateralVault", "set_fee_recipient", "0x12"),
            "ARGS: argument 1 of CollateralVault.set_fee_recipient (fee_recipient_: address): "
            "not an address: '0x12'",
        ),
        (
            ("GpuRegistry", "grantRole", "PAUSER_ROLE", NEW_ADMIN),
            "ARGS: argument 1 of GpuRegistry.grantRole (role: bytes32): GpuRegistry has no role "
            "PAUSER_ROLE",
        ),
        (
            ("GpuRegistry", "grantRole", "0x12", NEW_ADMIN),
            "ARGS: argument 1 of GpuRegistry.grantRole (role: bytes32): '0x12' is not a 32-byte "
            "0x-prefixed hex value",
        ),
        (
            ("CollateralVault", "set_fee_bps", "2001"),
            "CollateralVault.set_fee_bps(2001) would revert if executed now: vault: fee above "
            "maximum",
        ),
        (
            ("CollateralVault", "unpause"),
            "CollateralVault.unpause() would revert if executed now: pausable: contract is not "
            "paused",
        ),
        (
            ("CollateralVault", "set_fee_bps", "500", "--delay", "59"),
            "--delay 59: below the timelock's minimum delay of 60 s",
        ),
        (
            ("CollateralVault", "set_fee_bps", "500", "--delay", "soon"),
            "--delay: Input should be a valid integer",
        ),
        (
            ("CollateralVault", "set_fee_bps", "500", "--account", "TEST::1"),
            f"{OPERATOR} does not hold PROPOSER_ROLE on the GovernanceTimelock",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "-".join(value)[:40],
)
def test_schedule_refusals(deployed_pool, admin, operator, args, message):
    nonces = admin.nonce, operator.nonce

    refused(script(deployed_pool, "governance", "schedule", *args), message)

    assert (admin.nonce, operator.nonce) == nonces


def test_schedule_twice_and_execute_refusals(deployed_pool, admin, operator, chain):
    pool = deployed_pool
    args = ("RedemptionQueue", "set_min_request", "1000000000000")
    operation = scheduled_id(script(pool, "governance", "schedule", *args))
    ready = format_moment(chain.blocks.head.timestamp + DELAY)
    nonces = admin.nonce, operator.nonce

    refused(
        script(pool, "governance", "schedule", *args),
        f"RedemptionQueue.set_min_request(1000000000000) is already scheduled as operation "
        f"{operation}, ready at {ready}; pass --salt to schedule it once more",
    )
    unknown = "0x" + "ab" * 32
    refused(
        script(pool, "governance", "execute", unknown),
        f"no operation {unknown} was scheduled on the timelock (`ape run governance status` "
        "lists them)",
    )
    refused(script(pool, "governance", "execute", "0x12"), "ID: not a 32-byte hex value: '0x12'")
    refused(
        script(pool, "governance", "cancel", operation, "--account", "TEST::1"),
        f"{OPERATOR} does not hold CANCELLER_ROLE on the GovernanceTimelock",
    )
    after_delay(chain)
    refused(
        script(pool, "governance", "execute", operation, "--account", "TEST::1"),
        f"{OPERATOR} does not hold EXECUTOR_ROLE on the GovernanceTimelock",
    )
    assert (admin.nonce, operator.nonce) == nonces


def test_handover_by_the_scripts(deployed_pool, admin, attacker, chain):
    """propose_handover scheduled and executed; the wrong account refused; the proposed admin
    takes every contract's DEFAULT_ADMIN_ROLE; the timelock keeps none."""
    pool = deployed_pool
    refused(
        script(pool, "governance", "accept-handover"),
        "no handover is pending: an operation proposes one (`ape run governance schedule "
        "GovernanceTimelock propose_handover NEW_ADMIN`)",
    )
    operation = scheduled_id(
        script(pool, "governance", "schedule", "GovernanceTimelock", "propose_handover", NEW_ADMIN)
    )
    after_delay(chain)
    assert script(pool, "governance", "execute", operation).exit_code == 0
    assert f"admin handover: proposed to {NEW_ADMIN} (accept-handover)" in (
        script(pool, "governance", "status").output
    )
    nonce = admin.nonce
    refused(
        script(pool, "governance", "accept-handover", "--account", "TEST::0"),
        f"{ADMIN} is not the proposed admin ({NEW_ADMIN})",
    )
    assert admin.nonce == nonce

    result = script(pool, "governance", "accept-handover")

    assert result.exit_code == 0, result.output
    names = administered(pool)
    assert set(names) >= CORE
    assert f"{NEW_ADMIN} is the admin of {len(names)} contract(s) ({', '.join(names)})" in (
        " ".join(result.output.split())
    )
    timelock = contract_of(pool, "GovernanceTimelock")
    (accepted,) = head_logs(chain, timelock.HandoverAccepted)
    assert accepted.new_admin == NEW_ADMIN
    assert accepted.targets == [pool.pool.manifest.contracts[name].address for name in names]
    for name in names:
        contract = contract_of(pool, name)
        assert contract.hasRole(DEFAULT_ADMIN_ROLE, NEW_ADMIN), name
        assert not contract.hasRole(DEFAULT_ADMIN_ROLE, timelock), name
    assert timelock.pending_admin() == "0x" + "00" * 20
    # The new admin acts at once (it is an EOA here); the old timelock can no longer.
    assert attacker.address == NEW_ADMIN
    pool.vault.set_fee_bps(700, sender=attacker)
    assert pool.vault.fee_bps() == 700


def test_admin_setup_helper(deployed_pool, admin):
    """tests.utils.governance.govern: what script tests use to set up admin calls."""
    govern(deployed_pool, admin, "CollateralVault", "set_fee_recipient", NEW_ADMIN)
    assert deployed_pool.vault.fee_recipient() == NEW_ADMIN
