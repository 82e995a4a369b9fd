"""Governance of the suite through its GovernanceTimelock: schedule, wait, execute, cancel, the
operations rebuilt from the timelock's events, and the two-step admin handover.

The timelock holds DEFAULT_ADMIN_ROLE of every contract (the deploy script hands it over), so
every admin call (a fee, a pool's default delay or smallest request, an attestation threshold,
wind-down, unpause, a role grant) is an operation: a proposer schedules the call, it waits at
least the timelock's delay, then an executor executes it and the timelock makes the call.

A call is named as the scripts take it: a contract of the manifest, one of its state-changing
functions and its arguments as text, each checked against the ABI before anything is sent
(`parse_call`); Python callers pass values (`encode_call`). Every function checks what the chain
can tell first (roles, the delay, the operation's state and ETA, whether the call would revert
now) and raises UserError with one line otherwise.
"""

import difflib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ape import chain, project
from ape.api import AccountAPI, ReceiptAPI
from ape.contracts import ContractInstance
from ape.exceptions import ApeException, ContractLogicError
from ape.types import LogFilter
from eth_abi import encode as abi_encode
from eth_abi.grammar import BasicType, TupleType, parse
from eth_utils import encode_hex, keccak, to_checksum_address
from ethpm_types.abi import MethodABI
from pydantic import Field

from gpu_rwa.chain import is_local, send
from gpu_rwa.errors import UserError
from gpu_rwa.manifest import Manifest
from gpu_rwa.models import StrictModel
from gpu_rwa.types import ZERO_ADDRESS, Bytes32, address_or_error

TIMELOCK = "GovernanceTimelock"
ZERO32 = b"\x00" * 32
# timelock_controller's OperationState flags (2**n).
UNSET, WAITING, READY, DONE = 1, 2, 4, 8
# The timelock's ABI bound on a call's calldata (Bytes[1_024]).
MAX_PAYLOAD = 1_024
# Integers as typed: digits, maybe a sign and `_` separators.
_INTEGER = re.compile(r"^-?\d[\d_]*$")
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


class OperationId(StrictModel):
    operation_id: Bytes32 = Field(alias="ID")


class ScheduleOptions(StrictModel):
    delay: int | None = Field(default=None, ge=0, lt=2**64, alias="--delay")
    salt: str | None = Field(default=None, min_length=1, alias="--salt")


@dataclass(frozen=True)
class Governance:
    """The timelock of a deployed suite and the manifest whose contracts it administers."""

    manifest: Manifest
    timelock: ContractInstance

    def contract(self, name: str) -> ContractInstance:
        """The manifest's `name`, or UserError naming what there is."""
        if name not in self.manifest.contracts:
            close = difflib.get_close_matches(name, self.manifest.contracts, n=1)
            hint = (
                f"did you mean {close[0]}?" if close else f"({', '.join(self.manifest.contracts)})"
            )
            raise UserError(f"CONTRACT: no contract {name} in the manifest {hint}")
        return getattr(project, name).at(self.manifest.contracts[name].address)

    def name_of(self, address: str) -> str | None:
        for name, record in self.manifest.contracts.items():
            if record.address == address:
                return name
        return None


def load_governance(manifest: Manifest) -> Governance:
    """The suite's governance, or UserError if the manifest has no timelock (deploy first)."""
    return Governance(
        manifest=manifest, timelock=project.GovernanceTimelock.at(manifest.address_of(TIMELOCK))
    )


# CALLS: a contract's function and its arguments, checked against the ABI. #


@dataclass(frozen=True)
class Call:
    """One call an operation makes: `target` with `payload` (and `value` wei), and how it reads."""

    target: str
    payload: bytes
    label: str
    value: int = 0


def _mutable(contract: ContractInstance, name: str, function: str) -> list[MethodABI]:
    """The state-changing ABIs called `function`, or UserError (a view, a typo)."""
    contract_type = contract.contract_type
    found = [abi for abi in contract_type.mutable_methods if abi.name == function]
    if found:
        return found
    if any(abi.name == function for abi in contract_type.view_methods):
        raise UserError(f"FUNCTION: {name}.{function} is a view: it changes nothing to schedule")
    names = sorted({abi.name for abi in contract_type.mutable_methods})
    close = difflib.get_close_matches(function, names, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise UserError(f"FUNCTION: {name} has no state-changing function {function}{hint}")


def _signature(abi: MethodABI) -> str:
    return ", ".join(f"{arg.name}: {arg.canonical_type}" for arg in abi.inputs)


def _by_arity(name: str, abis: list[MethodABI], count: int) -> MethodABI:
    for abi in abis:
        if len(abi.inputs) == count:
            return abi
    takes = " or ".join(f"{len(abi.inputs)} ({_signature(abi)})" for abi in abis)
    raise UserError(f"ARGS: {name}.{abis[0].name} takes {takes} argument(s), got {count}")


def _roles(contract: ContractInstance) -> dict[bytes, str]:
    """The contract's role constants (`*_ROLE`, keccak256 of their names) by value."""
    names = {abi.name for abi in contract.contract_type.view_methods if abi.name.endswith("_ROLE")}
    return {(ZERO32 if role == "DEFAULT_ADMIN_ROLE" else keccak(text=role)): role for role in names}


def _parse_value(gov: Governance, contract: ContractInstance, type_: str, text: str):
    """`text` as a value of ABI `type_`, or ValueError saying what it should be."""
    parsed = parse(type_)
    if isinstance(parsed, TupleType):
        raise ValueError("tuple arguments are not taken here; schedule from a console")
    if parsed.is_array:
        inner = text.strip().removeprefix("[").removesuffix("]").strip()
        items = [item.strip() for item in inner.split(",")] if inner else []
        length = parsed.arrlist[-1]
        if length and len(items) != length[0]:
            raise ValueError(f"{type_} takes {length[0]} items, got {len(items)}")
        item_type = type_[: type_.rindex("[")]
        return [_parse_value(gov, contract, item_type, item) for item in items]
    assert isinstance(parsed, BasicType)
    base, size = parsed.base, parsed.sub
    if base == "address":
        if text in gov.manifest.contracts:
            return gov.manifest.contracts[text].address
        try:
            return address_or_error(text, "address")
        except UserError as exc:
            raise ValueError(exc.message.removeprefix("address: ")) from exc
    if base in ("uint", "int"):
        if not _INTEGER.match(text):
            raise ValueError(f"{text!r} is not a whole number")
        number = int(text.replace("_", ""))
        low, high = (
            (0, 2**size - 1) if base == "uint" else (-(2 ** (size - 1)), 2 ** (size - 1) - 1)
        )
        if not low <= number <= high:
            raise ValueError(f"{text} is out of range for {type_}")
        return number
    if base == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() == "true"
    if base == "string":
        return text
    if base == "bytes":
        if size == 32 and text.endswith("_ROLE"):
            roles = {name: value for value, name in _roles(contract).items()}
            if text not in roles:
                raise ValueError(f"{contract.contract_type.name} has no role {text}")
            return roles[text]
        if not re.fullmatch(r"0x([0-9a-fA-F]{2})*", text) or (size and len(text) != 2 + 2 * size):
            what = f"a {size}-byte" if size else "a"
            raise ValueError(f"{text!r} is not {what} 0x-prefixed hex value")
        return bytes.fromhex(text[2:])
    raise ValueError(f"arguments of type {type_} are not taken here")


def parse_call(gov: Governance, name: str, function: str, texts: list[str]) -> Call:
    """CONTRACT FUNCTION ARGS as typed: a contract of the manifest, a state-changing function of
    its ABI with that many arguments, each of its type (an address may be a contract of the
    manifest by name, a bytes32 role its `*_ROLE` name), or UserError with one line."""
    contract = gov.contract(name)
    abi = _by_arity(name, _mutable(contract, name, function), len(texts))
    values = []
    for index, (arg, text) in enumerate(zip(abi.inputs, texts, strict=True)):
        try:
            values.append(_parse_value(gov, contract, arg.canonical_type, text))
        except ValueError as exc:
            raise UserError(
                f"ARGS: argument {index + 1} of {name}.{function} ({arg.name}: "
                f"{arg.canonical_type}): {exc}"
            ) from exc
    return _call(gov, contract, abi, values)


def encode_call(gov: Governance, name: str, function: str, *args) -> Call:
    """The call `name.function(*args)` with Python values (accounts and contracts are taken for
    their addresses), for the demos and the tests."""
    contract = gov.contract(name)
    abi = _by_arity(name, _mutable(contract, name, function), len(args))
    return _call(gov, contract, abi, [getattr(arg, "address", arg) for arg in args])


def _call(gov: Governance, contract: ContractInstance, abi: MethodABI, values: list) -> Call:
    types = [arg.canonical_type for arg in abi.inputs]
    payload = keccak(text=abi.selector)[:4] + abi_encode(types, values)
    if len(payload) > MAX_PAYLOAD:
        raise UserError(f"ARGS: the call is {len(payload)} bytes; the timelock takes {MAX_PAYLOAD}")
    label = describe(gov, contract.address, payload)
    return Call(target=contract.address, payload=payload, label=label)


def describe(gov: Governance, target: str, payload: bytes) -> str:
    """A call as it reads: `CollateralVault.set_fee_bps(500)`, with roles and the manifest's
    contracts by name (`GpuCollateral.grantRole(MOVER_ROLE, GpuMarket)`)."""
    name = gov.name_of(target)
    if name is None:
        return f"{target}: 0x{payload.hex()}"
    contract = getattr(project, name).at(target)
    try:
        selector, arguments = contract.decode_input(payload)
    except (ApeException, ValueError):
        return f"{name}: 0x{payload.hex()}"
    roles = _roles(contract)
    shown = ", ".join(_show(gov, roles, value) for value in arguments.values())
    return f"{name}.{selector.split('(')[0]}({shown})"


def _show(gov: Governance, roles: dict[bytes, str], value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(gov, roles, item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return roles.get(bytes(value), "0x" + bytes(value).hex())
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        address = to_checksum_address(value)
        return gov.name_of(address) or address
    return str(value)


def salt_of(text: str | None) -> bytes:
    """`--salt`: a 0x-prefixed 32-byte hex salt as it is, any other text as its keccak256."""
    if text is None:
        return ZERO32
    if _HEX32.match(text):
        return bytes.fromhex(text[2:])
    return keccak(text=text)


# OPERATIONS: rebuilt from the timelock's events. #


@dataclass
class Operation:
    """One operation id: its calls (as last scheduled), and what became of them."""

    id: str
    calls: list[Call] = field(default_factory=list)
    predecessor: bytes = ZERO32
    salt: bytes = ZERO32
    delay: int = 0
    scheduled_at: int = 0
    ready_at: int = 0
    executed_at: int | None = None
    cancelled_at: int | None = None

    @property
    def label(self) -> str:
        return "; ".join(call.label for call in self.calls)

    def state(self, now: int) -> str:
        """done, cancelled, ready (at `now`) or waiting."""
        if self.executed_at is not None:
            return "done"
        if self.cancelled_at is not None:
            return "cancelled"
        return "ready" if self.ready_at <= now else "waiting"


def _timelock_logs(gov: Governance, start: int, stop: int, operation_id: str | None) -> list:
    """The timelock's operation events in blocks [start, stop] (of one id, if given), in one
    query, in chain order."""
    timelock = gov.timelock
    events = [timelock.CallScheduled, timelock.CallSalt, timelock.CallExecuted, timelock.Cancelled]
    abis = [event.abi for event in events]
    topic_filter = [[encode_hex(keccak(text=abi.selector)) for abi in abis]]
    if operation_id is not None:
        topic_filter.append([operation_id])
    query = LogFilter(
        addresses=[timelock.address],
        events=abis,
        topic_filter=topic_filter,
        start_block=start,
        stop_block=stop,
    )
    return list(chain.provider.get_contract_logs(query))


def operations(gov: Governance, operation_id: str | None = None) -> dict[str, Operation]:
    """Every operation the timelock scheduled (or only `operation_id`), by id in the order of
    their last schedule, rebuilt from CallScheduled, CallSalt, CallExecuted and Cancelled. An id
    scheduled again after a cancellation reads as its last schedule."""
    start = gov.manifest.contracts[TIMELOCK].block
    found: dict[str, Operation] = {}
    times: dict[int, int] = {}

    def time_of(block: int) -> int:
        if block not in times:
            times[block] = chain.blocks[block].timestamp
        return times[block]

    for log in _timelock_logs(gov, start, chain.blocks.head.number, operation_id):
        fields = log.event_arguments
        key = encode_hex(fields["id"])
        if log.event_name == "CallScheduled":
            if fields["index"] == 0:
                # A new schedule of the id: it starts afresh and moves last.
                found.pop(key, None)
                found[key] = Operation(id=key)
            operation = found[key]
            target, payload = fields["target"], bytes(fields["payload"])
            operation.calls.append(
                Call(target, payload, describe(gov, target, payload), fields["amount"])
            )
            operation.predecessor = bytes(fields["predecessor"])
            operation.delay = fields["delay"]
            operation.scheduled_at = time_of(log.block_number)
            operation.ready_at = operation.scheduled_at + fields["delay"]
        elif log.event_name == "CallSalt":
            found[key].salt = bytes(fields["salt"])
        elif log.event_name == "CallExecuted":
            found[key].executed_at = time_of(log.block_number)
        else:
            found[key].cancelled_at = time_of(log.block_number)
    return found


def format_wait(seconds: int) -> str:
    """A wait as `1 h 2 min`, `3 d 4 h`, `45 s`: its two largest units."""
    days, rest = divmod(max(seconds, 0), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{amount} {unit}" for amount, unit in units if amount][:2]
    return " ".join(shown) or "0 s"


def format_moment(timestamp: int) -> str:
    """`2026-11-26 06:16:40 UTC`: to the second (a delay may be a minute)."""
    return f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d %H:%M:%S} UTC"


def operation_of_call(gov: Governance, call: Call, salt: bytes = ZERO32) -> str:
    """The id the timelock gives `call` with `salt` (and no predecessor)."""
    timelock = gov.timelock
    return encode_hex(timelock.hash_operation(call.target, call.value, call.payload, ZERO32, salt))


def _require(gov: Governance, role: str, account: str) -> None:
    timelock = gov.timelock
    role_id = getattr(timelock, role)()
    # A role the zero address holds is open to anyone (timelock_controller's open executor).
    if role == "EXECUTOR_ROLE" and timelock.hasRole(role_id, ZERO_ADDRESS):
        return
    if not timelock.hasRole(role_id, account):
        raise UserError(f"{account} does not hold {role} on the {TIMELOCK}")


def _would_revert(gov: Governance, call: Call) -> str | None:
    """The revert reason if the timelock made `call` now, else None."""
    ecosystem = chain.provider.network.ecosystem
    txn = ecosystem.create_transaction(
        receiver=call.target, data=call.payload, value=call.value, sender=gov.timelock.address
    )
    try:
        chain.provider.send_call(txn)
    except ContractLogicError as exc:
        return exc.message or "reverted without a reason"
    return None


def _same(first: Call, second: Call) -> bool:
    return (first.target, first.payload, first.value) == (
        second.target,
        second.payload,
        second.value,
    )


def pending_of_call(gov: Governance, call: Call, now: int) -> list[Operation]:
    """The operations waiting or ready whose one call is `call` (whatever their salt)."""
    return [
        operation
        for operation in operations(gov).values()
        if operation.state(now) in ("waiting", "ready")
        and len(operation.calls) == 1
        and _same(operation.calls[0], call)
    ]


def _free_salt(gov: Governance, call: Call) -> bytes:
    """The zero salt while `call` was never executed with it, else the first of keccak256("1"),
    keccak256("2"), ... not in use: a routine call (an unpause) can be scheduled again and again
    without the proposer choosing salts."""
    salt, count = ZERO32, 0
    while gov.timelock.get_operation_state(operation_of_call(gov, call, salt)) != UNSET:
        count += 1
        salt = keccak(text=str(count))
    return salt


def schedule(
    gov: Governance,
    proposer: AccountAPI,
    call: Call,
    delay: int | None = None,
    salt: bytes | None = None,
) -> tuple[Operation, ReceiptAPI]:
    """Schedule `call` (PROPOSER_ROLE), ready `delay` seconds after its block (by default the
    timelock's minimum). Without `salt`, the call must not be pending already (a second one is
    usually a mistake; a salt makes it deliberate) and gets the first salt not in use. Refused
    first: a delay below the minimum, the call pending (or its salt used), a call the timelock
    could not make now (its revert reason)."""
    timelock = gov.timelock
    _require(gov, "PROPOSER_ROLE", proposer.address)
    minimum = timelock.get_minimum_delay()
    delay = minimum if delay is None else delay
    if delay < minimum:
        raise UserError(f"--delay {delay}: below the timelock's minimum delay of {minimum} s")
    if salt is None:
        if pending := pending_of_call(gov, call, chain.pending_timestamp):
            raise UserError(
                f"{call.label} is already scheduled as operation {pending[0].id}, ready at "
                f"{format_moment(pending[0].ready_at)}; pass --salt to schedule it once more"
            )
        salt = _free_salt(gov, call)
    operation_id = operation_of_call(gov, call, salt)
    state = timelock.get_operation_state(operation_id)
    if state == DONE:
        raise UserError(
            f"{call.label} was already executed with this salt as operation {operation_id}; "
            "pass another --salt"
        )
    if state in (WAITING, READY):
        raise UserError(
            f"{call.label} is already scheduled with this salt as operation {operation_id}, "
            f"ready at {format_moment(timelock.get_timestamp(operation_id))}"
        )
    if (reason := _would_revert(gov, call)) is not None:
        raise UserError(f"{call.label} would revert if executed now: {reason}")
    receipt = send(
        f"scheduling {call.label}",
        timelock.schedule,
        call.target,
        call.value,
        call.payload,
        ZERO32,
        salt,
        delay,
        sender=proposer,
    )
    operation = Operation(
        id=operation_id,
        calls=[call],
        salt=salt,
        delay=delay,
        scheduled_at=receipt.timestamp,
        ready_at=receipt.timestamp + delay,
    )
    return operation, receipt


def pending_operation(gov: Governance, operation_id: str, doing: str) -> Operation:
    """Operation `operation_id` while it waits or is ready, or UserError: never scheduled,
    already executed, cancelled."""
    found = operations(gov, operation_id).get(operation_id)
    if found is None:
        raise UserError(
            f"no operation {operation_id} was scheduled on the timelock "
            "(`ape run governance status` lists them)"
        )
    if found.executed_at is not None:
        raise UserError(
            f"operation {operation_id} ({found.label}) was already executed on "
            f"{format_moment(found.executed_at)}: nothing to {doing}"
        )
    if found.cancelled_at is not None:
        raise UserError(
            f"operation {operation_id} ({found.label}) was cancelled on "
            f"{format_moment(found.cancelled_at)}: schedule it again"
        )
    return found


def execute(
    gov: Governance, executor: AccountAPI, operation_id: str
) -> tuple[Operation, ReceiptAPI]:
    """Execute a ready operation (EXECUTOR_ROLE): the timelock makes its call(s). Refused first:
    unknown, executed or cancelled, not ready yet (saying when it will be), a predecessor not
    executed, the executor's role."""
    timelock = gov.timelock
    operation = pending_operation(gov, operation_id, "execute")
    now = chain.pending_timestamp
    if operation.ready_at > now:
        raise UserError(
            f"operation {operation_id} ({operation.label}) is not ready: ready at "
            f"{format_moment(operation.ready_at)}, in {format_wait(operation.ready_at - now)}"
        )
    if operation.predecessor != ZERO32 and not timelock.is_operation_done(operation.predecessor):
        raise UserError(
            f"operation {operation_id} waits for operation {encode_hex(operation.predecessor)} "
            "to be executed first"
        )
    _require(gov, "EXECUTOR_ROLE", executor.address)
    calls = operation.calls
    if len(calls) == 1:
        method, targets = timelock.execute, (calls[0].target, calls[0].value, calls[0].payload)
    else:
        method = timelock.execute_batch
        targets = ([c.target for c in calls], [c.value for c in calls], [c.payload for c in calls])
    receipt = send(
        f"executing {operation.label}",
        method,
        *targets,
        operation.predecessor,
        operation.salt,
        sender=executor,
        value=sum(c.value for c in calls),
    )
    operation.executed_at = receipt.timestamp
    return operation, receipt


def cancel(
    gov: Governance, canceller: AccountAPI, operation_id: str
) -> tuple[Operation, ReceiptAPI]:
    """Cancel an operation that waits or is ready (CANCELLER_ROLE: every proposer)."""
    operation = pending_operation(gov, operation_id, "cancel")
    _require(gov, "CANCELLER_ROLE", canceller.address)
    receipt = send(
        f"cancelling {operation.label}", gov.timelock.cancel, operation_id, sender=canceller
    )
    operation.cancelled_at = receipt.timestamp
    return operation, receipt


def govern_now(
    gov: Governance, proposer: AccountAPI, executor: AccountAPI, call: Call
) -> ReceiptAPI:
    """On a local chain: schedule `call` with the minimum delay, move the clock to when it is
    ready, execute it (what a public network does in real time). Returns the execution's
    receipt."""
    if not is_local():
        raise UserError("only a local chain's clock moves on demand: schedule, wait, execute")
    operation, _ = schedule(gov, proposer, call)
    # A second past: Ganache reads its pending time up to a second behind the time it mines at.
    chain.pending_timestamp = max(chain.pending_timestamp, operation.ready_at + 1)
    return execute(gov, executor, operation.id)[1]


def operation_lines(shown: list[Operation], now: int) -> list[str]:
    """Each operation in two lines, its id whole (to copy into execute or cancel): its state and
    ETA, then its decoded call(s)."""
    lines = []
    for operation in shown:
        state = operation.state(now)
        ready = format_moment(operation.ready_at)
        if state == "waiting":
            when = f"waiting: ready at {ready}, in {format_wait(operation.ready_at - now)}"
        elif state == "ready":
            when = f"ready since {ready}"
        elif state == "done":
            when = f"executed on {format_moment(operation.executed_at)}"
        else:
            when = f"cancelled on {format_moment(operation.cancelled_at)}"
        lines += [f"{operation.id}  {when}", f"    {operation.label}"]
    return lines


# ADMIN HANDOVER #


def administered_contracts(manifest: Manifest) -> list[str]:
    """The manifest's contracts that have a DEFAULT_ADMIN_ROLE (snekmate access_control), the
    timelock itself aside, in deployment order: whatever the suite grows to, each is handed over."""
    return [
        name
        for name in manifest.contracts
        if name != TIMELOCK
        and any(
            abi.name == "DEFAULT_ADMIN_ROLE"
            for abi in getattr(project, name).contract_type.view_methods
        )
    ]


def handover_targets(gov: Governance) -> list[str]:
    """The manifest's contracts whose DEFAULT_ADMIN_ROLE the timelock holds (names)."""
    targets = []
    for name in administered_contracts(gov.manifest):
        contract = gov.contract(name)
        if contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), gov.timelock.address):
            targets.append(name)
    return targets


def accept_handover(gov: Governance, new_admin: AccountAPI) -> tuple[list[str], ReceiptAPI]:
    """The proposed admin takes DEFAULT_ADMIN_ROLE of every contract the timelock administers."""
    timelock = gov.timelock
    pending = timelock.pending_admin()
    if pending == ZERO_ADDRESS:
        raise UserError(
            "no handover is pending: an operation proposes one "
            f"(`ape run governance schedule {TIMELOCK} propose_handover NEW_ADMIN`)"
        )
    if new_admin.address != pending:
        raise UserError(f"{new_admin.address} is not the proposed admin ({pending})")
    targets = handover_targets(gov)
    if not targets:
        raise UserError("the timelock administers none of the manifest's contracts")
    receipt = send(
        f"accepting the handover of {len(targets)} contract(s)",
        timelock.accept_handover,
        [gov.manifest.contracts[name].address for name in targets],
        sender=new_admin,
    )
    return targets, receipt
