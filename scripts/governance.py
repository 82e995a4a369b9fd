"""Governance: every admin call of the suite goes through its GovernanceTimelock, which holds
DEFAULT_ADMIN_ROLE of every contract: a proposer schedules it, it waits the timelock's delay
(60 s in config/local.yaml), an executor executes it.

    ape run governance schedule CollateralVault set_fee_bps 500
    ape run governance schedule GpuRegistry grantRole CUSTODIAN_ROLE 0x976EA740...0aa9
    ape run governance schedule LeaseManager set_default_after 5184000 --delay 3600 --salt round-2
    ape run governance status [--all]          # pending operations: ETA, state, decoded call
    ape run governance execute 0x<operation id>
    ape run governance execute CollateralVault set_fee_bps 500   # the same, named by its call
    ape run governance cancel 0x<operation id>     # or named by its call, as execute
    ape run governance schedule GovernanceTimelock propose_handover 0x<new admin>
    ape run governance accept-handover --account NEW_ADMIN

`schedule CONTRACT FUNCTION [ARGS...]` names a contract of the manifest (CollateralVault,
GpuCollateral, LeaseManager, RedemptionQueue, CustodyAttestor, GpuRegistry, ..., or the
GovernanceTimelock itself for its delay, its roles and the handover), one of its state-changing
functions and its arguments: numbers in base units, addresses (or a contract of the manifest by
name), roles by name (`PAUSER_ROLE`), lists comma-separated. Everything is checked against the
ABI, the timelock's minimum delay and a dry run of the call as the timelock would make it now,
before anything is sent. `--delay` waits longer than the minimum. A call executed before is
scheduled again under the first salt not in use; `--salt` (a 0x 32-byte value or any text)
schedules a call that is already pending once more. `execute` and `cancel` take the operation's
id, or its call when exactly one pending operation makes it. Proposers (PROPOSER_ROLE) schedule
and cancel, executors (EXECUTOR_ROLE) execute: TEST::0 for both on a local chain. `status` is
rebuilt from the timelock's events (CallScheduled, CallSalt, CallExecuted, Cancelled).

The admin handover: an operation calls `propose_handover(NEW_ADMIN)`; once it is executed, the new
admin runs `accept-handover`, which moves DEFAULT_ADMIN_ROLE of every contract the timelock
administers to it (the timelock renouncing its own); an operation calling `cancel_handover` drops
a proposal not yet accepted.
"""

import click
from ape import chain

from gpu_rwa import governance
from gpu_rwa.chain import resolve_account_of, resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.errors import UserError
from gpu_rwa.governance import Governance, format_moment, format_wait

salt_option = click.option(
    "--salt", default=None, help="Tells apart two operations of the same call (hex or text)."
)


@click.group(short_help="Schedule, execute and cancel admin calls through the timelock")
def cli():
    """Admin calls through the GovernanceTimelock: a proposer schedules a call, it waits the
    delay, an executor executes it; status, cancel and the admin handover."""


def _load(manifest_file) -> Governance:
    return governance.load_governance(require_manifest(manifest_file))


def _operation_id(gov: Governance, items: tuple[str, ...], salt: str | None) -> str:
    """ID, or CONTRACT FUNCTION [ARGS...]: the one pending operation making that call (with
    --salt, the one of that salt)."""
    if len(items) == 1 and items[0].startswith("0x"):
        if salt is not None:
            raise click.UsageError("--salt names an operation by its call, not by its ID")
        return validated(governance.OperationId, dict(operation_id=items[0])).operation_id
    if len(items) < 2:
        raise click.UsageError("give the operation's ID, or CONTRACT FUNCTION [ARGS...]")
    call = governance.parse_call(gov, items[0], items[1], list(items[2:]))
    if salt is not None:
        options = validated(governance.ScheduleOptions, dict(salt=salt))
        return governance.operation_of_call(gov, call, governance.salt_of(options.salt))
    pending = governance.pending_of_call(gov, call, chain.pending_timestamp)
    if not pending:
        raise UserError(
            f"no operation making {call.label} is pending (`ape run governance status` lists them)"
        )
    if len(pending) > 1:
        raise UserError(
            f"{len(pending)} pending operations make {call.label}: give the ID "
            f"({', '.join(op.id for op in pending)})"
        )
    return pending[0].id


@cli.command(cls=ConnectedProviderCommand, short_help="Schedule a call (proposer)")
@click.argument("contract", metavar="CONTRACT")
@click.argument("function", metavar="FUNCTION")
@click.argument("args", metavar="[ARGS...]", nargs=-1)
@click.option("--delay", default=None, help="Seconds before it is ready [default: the minimum].")
@salt_option
@manifest_option
@account_option
def schedule(contract, function, args, delay, salt, manifest_file, account_alias):
    """Schedule CONTRACT.FUNCTION(ARGS...) on the timelock (proposer). CONTRACT is a contract of
    the manifest, FUNCTION one of its state-changing functions, ARGS its arguments: numbers in
    base units, addresses or contract names, roles by name, lists comma-separated. Checked
    against the ABI and by a dry run first."""
    gov = _load(manifest_file)
    options = validated(governance.ScheduleOptions, dict(delay=delay, salt=salt))
    call = governance.parse_call(gov, contract, function, list(args))
    proposer = resolve_sender(account_alias, "admin")
    salt = None if options.salt is None else governance.salt_of(options.salt)
    operation, _ = governance.schedule(gov, proposer, call, options.delay, salt)
    wait = format_wait(operation.ready_at - operation.scheduled_at)
    console.print(
        f"scheduled {call.label} as operation {operation.id}: ready at "
        f"{format_moment(operation.ready_at)}, in {wait}; then `ape run governance execute "
        f"{operation.id}`",
        soft_wrap=True,
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Execute a ready operation (executor)")
@click.argument("items", metavar="ID | CONTRACT FUNCTION [ARGS...]", nargs=-1, required=True)
@salt_option
@manifest_option
@account_option
def execute(items, salt, manifest_file, account_alias):
    """Execute a ready operation (executor), named by its ID or by its call CONTRACT FUNCTION
    [ARGS...] when exactly one pending operation makes it."""
    gov = _load(manifest_file)
    operation_id = _operation_id(gov, items, salt)
    executor = resolve_sender(account_alias, "admin")
    operation, _ = governance.execute(gov, executor, operation_id)
    console.print(f"executed operation {operation.id}: {operation.label}", soft_wrap=True)


@cli.command(cls=ConnectedProviderCommand, short_help="Cancel a pending operation (proposer)")
@click.argument("items", metavar="ID | CONTRACT FUNCTION [ARGS...]", nargs=-1, required=True)
@salt_option
@manifest_option
@account_option
def cancel(items, salt, manifest_file, account_alias):
    """Cancel a pending operation (proposer), named by its ID or by its call CONTRACT FUNCTION
    [ARGS...] when exactly one pending operation makes it."""
    gov = _load(manifest_file)
    operation_id = _operation_id(gov, items, salt)
    canceller = resolve_sender(account_alias, "admin")
    operation, _ = governance.cancel(gov, canceller, operation_id)
    console.print(f"cancelled operation {operation.id}: {operation.label}", soft_wrap=True)


@cli.command(cls=ConnectedProviderCommand, short_help="Pending operations, their ETA and calls")
@click.option("--all", "show_all", is_flag=True, help="Executed and cancelled ones too.")
@manifest_option
def status(show_all, manifest_file):
    """List the timelock's operations rebuilt from its events: pending ones by default, each
    with its state, ETA and decoded call."""
    gov = _load(manifest_file)
    timelock = gov.timelock
    now = chain.pending_timestamp
    found = list(governance.operations(gov).values())
    shown = [op for op in found if show_all or op.state(now) in ("waiting", "ready")]
    pending = timelock.pending_admin()
    handover = "none" if int(pending, 16) == 0 else f"proposed to {pending} (accept-handover)"
    console.print(
        f"{governance.TIMELOCK} {timelock.address}: minimum delay "
        f"{format_wait(timelock.get_minimum_delay())}; admin handover: {handover}",
        soft_wrap=True,
    )
    if not shown:
        what = "scheduled" if show_all else "pending"
        console.print(f"no operation {what} ({len(found)} in all; --all lists them)")
        return
    for line in governance.operation_lines(shown, now):
        console.print(line, soft_wrap=True)


@cli.command(
    "accept-handover",
    cls=ConnectedProviderCommand,
    short_help="Take the admin role of every contract (the proposed admin)",
)
@manifest_option
@account_option
def accept_handover(manifest_file, account_alias):
    """Take DEFAULT_ADMIN_ROLE of every contract the timelock administers (the admin proposed by
    an executed propose_handover operation)."""
    gov = _load(manifest_file)
    pending = gov.timelock.pending_admin()
    new_admin = (
        resolve_account_of(account_alias, pending, "the proposed admin")
        if int(pending, 16)
        else resolve_sender(account_alias, "admin")
    )
    targets, _ = governance.accept_handover(gov, new_admin)
    console.print(
        f"{new_admin.address} is the admin of {len(targets)} contract(s) ({', '.join(targets)}); "
        f"the {governance.TIMELOCK} administers none of them any more",
        soft_wrap=True,
    )
