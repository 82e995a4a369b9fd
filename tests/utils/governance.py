"""The GovernanceTimelock in tests: operations on a timelock contract (`schedule_call`,
`execute_call`), and admin calls on a deployed suite (`govern`), whose admin is its timelock."""

from eth_utils import keccak

from gpu_rwa.governance import encode_call, govern_now, load_governance

# The `timelock` fixture's delay, and config/local.yaml's.
DELAY = 60
ZERO = b"\x00" * 32
DEFAULT_ADMIN_ROLE = ZERO
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
# timelock_controller's OperationState flags.
UNSET, WAITING, READY, DONE = 1, 2, 4, 8
NOT_TIMELOCK = "governance: caller must be the timelock"
NOT_READY = "timelock_controller: operation is not ready"
SNEKMATE_NOT_TIMELOCK = "timelock_controller: caller must be timelock"


def schedule_call(timelock, proposer, method, *args, delay: int = DELAY, salt: bytes = ZERO):
    """Schedule `method(*args)` (a contract method: its contract is the target) on `timelock`;
    returns (operation id, receipt)."""
    target, payload = method.contract.address, method.encode_input(*args)
    tx = timelock.schedule(target, 0, payload, ZERO, salt, delay, sender=proposer)
    return timelock.hash_operation(target, 0, payload, ZERO, salt), tx


def execute_call(timelock, executor, method, *args, salt: bytes = ZERO):
    """Execute the operation `method(*args)` (with `salt`); returns the receipt."""
    payload = method.encode_input(*args)
    return timelock.execute(method.contract.address, 0, payload, ZERO, salt, sender=executor)


def through(timelock, proposer, executor, chain, method, *args):
    """`method(*args)` made by `timelock`: scheduled, the clock moved past its delay, executed.
    Returns the execution's receipt."""
    _, tx = schedule_call(timelock, proposer, method, *args)
    chain.pending_timestamp = max(chain.pending_timestamp, tx.timestamp + DELAY)
    return execute_call(timelock, executor, method, *args)


def after_delay(chain, delay: int = DELAY) -> None:
    """The clock a second past `delay` after the head block (the schedule's): the scripts check
    readiness against the pending block's time, which Ganache reads up to a second behind the
    time it mines at (the contract's exact second is tested on Anvil)."""
    chain.pending_timestamp = chain.blocks.head.timestamp + delay + 1


def govern(pool, admin, contract: str, function: str, *args):
    """`contract.function(*args)` made by the timelock of `pool`'s suite (a `Pool`, or the
    script tests' `PoolKit`): scheduled, the clock moved past the delay, executed. What a test
    needs set up by the admin; returns the execution's receipt."""
    gov = load_governance(getattr(pool, "pool", pool).manifest)
    return govern_now(gov, admin, admin, encode_call(gov, contract, function, *args))
