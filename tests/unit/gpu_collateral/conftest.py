"""Shared set-ups for GpuCollateral's unit tests.

`Pool` acts on a deployed pool and on its reference `Book` (tests/utils/collateral.py) side by
side: every call that changes the collateral goes through it, so `check()` can compare every view
of the contract with the reference, to the wei, at any block.

Pools: every set-up has a pool of its own (`new_pool`), so that no session-scoped state leaks
into another: `pool` has the default parameters (30-day staleness window, 7-day unlock period) and
nothing in it; `many` has a 365-day window and 100 GPUs whose end-of-life days are 100
consecutive days, built once per session (bulk transactions go straight to Anvil's JSON-RPC:
through ape each costs ~75 ms, under load several times that).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_abi import decode
from eth_abi import encode as encode_abi
from eth_utils import keccak
from hexbytes import HexBytes

from tests.utils.appraisals import next_step
from tests.utils.collateral import (
    DAY,
    DEFAULTED,
    ENTRIES_WAIT,
    MAX_MATURE_STEPS,
    MAX_VIEW_STEPS,
    PENDING,
    Book,
    Pending,
    State,
    Terms,
    ceil_day,
)
from tests.utils.custody import attest
from tests.utils.exploits import one_block, skip_unless_anvil
from tests.utils.registry import ROLE_HOLDER, TRANSITIONS, USDC, GpuStatus, make_spec
from tests.utils.vault import buy, logs_of, to_shares

# GPUs in the `many` pool.
MANY = 100
# Free cash of the `stocked` pool.
STOCKED_CASH = 100_000 * USDC
# Error(string)
ERROR_SELECTOR = bytes.fromhex("08c379a0")
# The reason a test mark carries (a report's hash).
REASON = keccak(text="appraisal report 2026-11")
# Gas of each transaction `send_spaced` queues (the block gas limit admits one).
_SPACED_GAS = 300_000


def _hex(data) -> str:
    return "0x" + bytes(HexBytes(data)).hex()


def rpc(chain, method: str, *params):
    """One JSON-RPC request to the node; returns its result (raises on an error)."""
    response = chain.provider.web3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


# (contract address, method, number of arguments) -> (selector, input types, output types).
_METHODS: dict[tuple[str, str, int], tuple[bytes, list[str], list[str]]] = {}


def _method(contract, method: str, args: tuple) -> tuple[bytes, list[str], list[str]]:
    key = (contract.address, method, len(args))
    if key not in _METHODS:
        handler = getattr(contract, method)
        [abi] = [m for m in handler.abis if len(m.inputs) == len(args)]
        _METHODS[key] = (
            bytes(HexBytes(handler.encode_input(*args))[:4]),
            [i.canonical_type for i in abi.inputs],
            [o.canonical_type for o in abi.outputs],
        )
    return _METHODS[key]


def encode(contract, method: str, args: tuple) -> str:
    """Calldata of `contract.method(*args)` (hex). Ape's `encode_input` takes ~0.7 ms a call, which
    adds up over hundreds of calls: for arguments eth_abi takes as they are (numbers, lists of
    numbers, accounts and contracts as their address) the selector and types are worked out
    once, then eth_abi encodes."""
    plain = (
        isinstance(a, int) or hasattr(a, "address") or all(isinstance(x, int) for x in a)
        for a in args
    )
    if not all(plain):
        return _hex(getattr(contract, method).encode_input(*args))
    selector, types, _ = _method(contract, method, args)
    values = [a.address if hasattr(a, "address") else a for a in args]
    return _hex(selector + encode_abi(types, values))


def queue(chain, chunk: list[tuple[Any, str, tuple, Any]], gas: int, nonces: dict[str, int]):
    """Queue (contract, method, args, sender) transactions in one JSON-RPC batch, automine off.
    Anvil serves a batch concurrently, so every transaction carries its nonce (`nonces`, kept
    across chunks): the mining order. Returns their hashes."""
    requests = []
    for contract, method, args, sender in chunk:
        if sender.address not in nonces:
            nonces[sender.address] = sender.nonce
        tx = {
            "from": sender.address,
            "to": contract.address,
            "data": encode(contract, method, args),
            "gas": hex(gas),
            "nonce": hex(nonces[sender.address]),
        }
        nonces[sender.address] += 1
        requests.append(("eth_sendTransaction", [tx]))
    responses = chain.provider.web3.provider.make_batch_request(requests)
    assert all("error" not in response for response in responses), responses
    return [response["result"] for response in responses]


# What send_spaced and send_packed need from the node; a test that uses them is skipped elsewhere.
ANVIL_MINING = "mines hundreds of transactions at chosen seconds (anvil_mine, evm_setBlockGasLimit)"


def send_spaced(
    chain,
    txs: list[tuple[Any, str, tuple, Any]],
    start: int,
    interval: int,
    gas: int = _SPACED_GAS,
) -> None:
    """Mine each (contract, method, args, sender) in a block of its own, the first at `start`,
    the next `interval` seconds later, and so on: all are queued with automine off, the block
    gas limit lets one in a block, and `anvil_mine` mines them in one request. Checks every
    receipt (one batch). For set-ups of hundreds of transactions (~20 ms a block: where the
    times do not matter, `send_packed` is much faster).

    `anvil_mine` spaces its blocks by `interval` on top of Anvil's clock, which keeps running
    while it mines: a long chunk may end a second or two late, so the blocks are only spaced at
    least `interval` apart (each chunk starts at its nominal time, or right after the last
    block if that is later)."""
    skip_unless_anvil(chain, ANVIL_MINING)
    hashes = []
    gas_limit = rpc(chain, "eth_getBlockByNumber", "latest", False)["gasLimit"]
    rpc(chain, "evm_setAutomine", False)
    rpc(chain, "evm_setBlockGasLimit", hex(gas + 10_000))
    nonces: dict[str, int] = {}
    try:
        # In chunks: Anvil's pool slows down as it fills.
        for first in range(0, len(txs), 128):
            chunk = txs[first : first + 128]
            hashes += queue(chain, chunk, gas, nonces)
            latest = int(rpc(chain, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
            rpc(chain, "evm_setNextBlockTimestamp", max(start + first * interval, latest + 1))
            rpc(chain, "anvil_mine", hex(len(chunk)), hex(interval))
    finally:
        rpc(chain, "evm_setBlockGasLimit", gas_limit)
        rpc(chain, "evm_setAutomine", True)
    receipts = chain.provider.web3.provider.make_batch_request(
        [("eth_getTransactionReceipt", [h]) for h in hashes]
    )
    assert all(r["result"]["status"] == "0x1" for r in receipts)
    blocks = [int(r["result"]["blockNumber"], 16) for r in receipts]
    assert blocks == list(range(blocks[0], blocks[0] + len(txs)))


def send_packed(
    chain, txs: list[tuple[Any, str, tuple, Any]], at: int, gas: int, per_block: int = 128
) -> list[int]:
    """Mine (contract, method, args, sender) transactions in order, `per_block` to a block (the
    block gas limit raised to admit them), the first block at `at`, the next a second later, and
    so on. Anvil spends ~20 ms on a block whatever it holds, so hundreds of transactions that
    need no time of their own go ~20 times faster than with `send_spaced`. An empty block follows
    a second after the last, with the usual gas limit. Checks every receipt; returns the
    timestamps of the blocks of transactions, in order."""
    skip_unless_anvil(chain, ANVIL_MINING)
    gas_limit = rpc(chain, "eth_getBlockByNumber", "latest", False)["gasLimit"]
    rpc(chain, "evm_setAutomine", False)
    nonces: dict[str, int] = {}
    hashes, times = [], []
    try:
        for first in range(0, len(txs), per_block):
            chunk = txs[first : first + per_block]
            # Before queueing: Anvil checks each transaction's gas against the block gas limit.
            rpc(chain, "evm_setBlockGasLimit", hex(gas * len(chunk) + 10_000))
            hashes += queue(chain, chunk, gas, nonces)
            times.append(at + len(times))
            rpc(chain, "evm_mine", times[-1])
    finally:
        rpc(chain, "evm_setBlockGasLimit", gas_limit)
        rpc(chain, "evm_setAutomine", True)
        # One empty block with the usual limit: ape sizes transactions by the head block's.
        rpc(chain, "evm_mine", (times[-1] if times else at) + 1)
    receipts = chain.provider.web3.provider.make_batch_request(
        [("eth_getTransactionReceipt", [h]) for h in hashes]
    )
    assert all(r["result"]["status"] == "0x1" for r in receipts), "a packed transaction failed"
    blocks = sorted({int(r["result"]["blockNumber"], 16) for r in receipts})
    assert len(blocks) == len(times)
    return times


def call_many(chain, calls: list[tuple[Any, str, tuple]]) -> list:
    """Many calls (views or not) as eth_calls in one JSON-RPC batch at the latest block; each
    result decoded (a single output unwrapped), or a `Reverted(reason)` where it reverts."""
    requests, types = [], []
    for contract, method, args in calls:
        types.append(_method(contract, method, args)[2])
        data = encode(contract, method, args)
        requests.append(("eth_call", [{"to": contract.address, "data": data}, "latest"]))
    results = []
    for output_types, response in zip(
        types, chain.provider.web3.provider.make_batch_request(requests), strict=True
    ):
        if "error" in response:
            data = HexBytes(response["error"].get("data") or "0x")
            assert data[:4] == ERROR_SELECTOR, response
            results.append(Reverted(decode(["string"], data[4:])[0]))
            continue
        decoded = decode(output_types, HexBytes(response["result"]))
        results.append(decoded[0] if len(decoded) == 1 else tuple(decoded))
    return results


@dataclass(frozen=True)
class Reverted:
    """A call that reverted, with its reason (`call_many`)."""

    reason: str


def reasons(chain, calls: list[tuple[Any, str, tuple, Any]]) -> list[str | None]:
    """Run each (contract, method, args, sender) as an eth_call from `sender` at the latest
    block, all in one JSON-RPC batch; returns each revert reason (None: it would succeed).
    Straight to the node: ape would trace a reverting call step by step to build a source
    traceback, which for a view walking 1,024 nodes takes minutes."""
    requests = []
    for contract, method, args, sender in calls:
        data = encode(contract, method, args)
        call = {
            "from": sender.address,
            "to": contract.address,
            "data": data,
            "gas": hex(30_000_000),
        }
        requests.append(("eth_call", [call, "latest"]))
    results = []
    for response in chain.provider.web3.provider.make_batch_request(requests):
        if "error" not in response:
            results.append(None)
            continue
        data = HexBytes(response["error"].get("data") or "0x")
        assert data[:4] == ERROR_SELECTOR, response
        results.append(decode(["string"], data[4:])[0])
    return results


def read_many(chain, calls: list[tuple[Any, str, tuple]]) -> list:
    """Many view calls in one JSON-RPC batch at the latest block; each result decoded (a single
    output unwrapped). None may revert."""
    results = call_many(chain, calls)
    assert not any(isinstance(r, Reverted) for r in results), results
    return results


@dataclass
class Contribution:
    """What a contribution or a sale brought in, per the reference."""

    tx: Any
    value: int  # GpuContributed.value (collateral value added) / GpuPurchased.value (value_of)
    before: int  # collateral value before it
    shares: int  # fractions the receiver gets (contribution)
    matured: list  # ScheduleMatured (at, intercept, slope, gpus) the flow did first


@dataclass
class Pool:
    """One pool on chain and its reference Book."""

    kit: Any
    registry: Any
    chain: Any
    book: Book
    roles: dict[str, Any]
    attestor: Any

    @property
    def collateral(self):
        return self.kit.collateral

    @property
    def vault(self):
        return self.kit.vault

    @property
    def market(self):
        return self.kit.market

    def fork(self) -> Pool:
        """The same pool with its own copy of the Book: a session-scoped set-up hands each test
        a fork (the chain side is reverted by ape's isolation, the Book is copied)."""
        return replace(self, book=copy.deepcopy(self.book))

    # CLOCK #

    def now(self) -> int:
        """The latest block's time: what views see."""
        return self.chain.blocks.head.timestamp

    def view_at(self, timestamp: int) -> None:
        """Mine an empty block at `timestamp`: views then see that time."""
        self.chain.mine(timestamp=timestamp)

    def next_at(self, timestamp: int) -> None:
        """The next transaction is mined at `timestamp`."""
        self.chain.pending_timestamp = timestamp

    def send(self, method, args: tuple, sender, at: int | None = None):
        """`method(*args)` from `sender`; returns its receipt. With `at`, mined in a block of its
        own at exactly `at` (`one_block`), on Ganache too: there `next_at` sets the node's clock,
        and a transaction sent after it lands a second later if a wall-clock second passes
        first. For a transaction whose outcome depends on its second (a mark at the step's
        edge, a sale at the GPU's value, a contribution's exact shares, a boundary second);
        otherwise the test reads the figures of the transaction's own block (`tx.timestamp`)."""
        if at is None:
            return method(*args, sender=sender)
        with one_block(self.chain, at) as block:
            block.append((method, args, sender))
        return block[0]

    def pin(self, timestamp: int) -> None:
        """Views see `timestamp`, and the next transaction is mined at it too."""
        self.view_at(timestamp)
        self.next_at(timestamp)

    def predict(self, token_id: int, at: int, entry: bool = True) -> tuple[int, int]:
        """(value added, value before) if `token_id` came in at `at` (contributed, or sold if
        not `entry`), on a copy of the Book."""
        book = copy.deepcopy(self.book)
        book.make_current(at)
        return book.bring_in(token_id, self.terms(token_id), at, entry)

    # REGISTRY #

    def terms(self, token_id: int) -> Terms:
        return self.terms_of([token_id])[0]

    def terms_of(self, token_ids) -> list[Terms]:
        """The registry's terms of each GPU, in one request."""
        results = read_many(self.chain, [(self.registry, "terms", (t,)) for t in token_ids])
        return [Terms(*t[1:]) for t in results]

    def register(self, owner=None, **fields) -> int:
        """Register one GPU (to the operator unless `owner`), acquired 30 days ago unless given."""
        return self.register_alike(1, owner, **fields)[0]

    def register_alike(self, count: int, owner=None, **fields) -> list[int]:
        """Register `count` GPUs of one spec (each its own serial) in one transaction: the same
        terms to the second (registered, so attested, in one block whichever second it is mined
        in)."""
        fields.setdefault("acquired_at", self.chain.pending_timestamp - 30 * DAY)
        tx = self.registry.register(
            owner or self.roles["operator"],
            [make_spec(**fields) for _ in range(count)],
            sender=self.roles["custodian"],
        )
        return [log.token_id for log in tx.decode_logs(self.registry.GpuRegistered)]

    def set_status(self, token_id: int, status: int):
        """Move a GPU on the registry with the role its transition needs; the hook follows.
        Returns the receipt and the value the GPU took out of the pool (None if it did not)."""
        previous = GpuStatus(self.terms(token_id).status)
        holder = self.roles[ROLE_HOLDER[TRANSITIONS[previous, GpuStatus(status)]]]
        mark = self._marks()
        tx = self.registry.set_status(token_id, status, sender=holder)
        removed = self.book.on_status(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        return tx, removed

    def attest(self, *token_ids: int):
        """The custodian's signed attestation of `token_ids` now, each once: one submission per
        holder (an attestation names one), in the order their GPUs are first listed. Returns the
        last receipt."""
        token_ids = list(dict.fromkeys(token_ids))
        owners = read_many(self.chain, [(self.registry, "ownerOf", (t,)) for t in token_ids])
        by_holder: dict[str, list[int]] = {}
        for token_id, owner in zip(token_ids, owners, strict=True):
            by_holder.setdefault(owner, []).append(token_id)
        for holder, ids in by_holder.items():
            mark = self._marks()
            tx = attest(self.attestor, ids, holder=holder)
            for token_id, terms in zip(ids, self.terms_of(ids), strict=True):
                self.book.on_attested(token_id, terms, tx.timestamp)
            self._matured(tx, mark)
        return tx

    def _marks(self) -> tuple[int, int]:
        """Where the reference's logs stand (matured nodes, revaluations), for `_matured`."""
        return len(self.book.matured_log), len(self.book.revalued_log)

    def _matured(self, tx, mark: tuple[int, int]) -> None:
        """The nodes `tx` matured (ScheduleMatured: time and changes) and the revaluations it
        made (GpuRevalued: a restore's cap, a mark) are the reference's."""
        assert matured_logs(tx, self.collateral) == self.book.matured_log[mark[0] :]
        assert revalued_logs(tx, self.collateral) == self.book.revalued_log[mark[1] :]

    # COLLATERAL #

    def contribute(
        self, token_id: int, receiver=None, min_shares: int = 0, at: int | None = None
    ) -> Contribution:
        """The operator contributes `token_id` (approved for all by the fixture); mined at `at`
        exactly if given (`send`)."""
        vault = self.vault
        cash, supply, dead = read_many(
            self.chain,
            [(vault, "free_cash", ()), (vault, "totalSupply", ()), (vault, "DEAD_SHARES", ())],
        )
        args = (token_id, receiver or self.roles["operator"], min_shares)
        tx = self.send(self.collateral.contribute, args, self.roles["operator"], at)
        matured = self.book.make_current(tx.timestamp)
        value, before = self.book.bring_in(token_id, self.terms(token_id), tx.timestamp, True)
        assert matured_logs(tx, self.collateral) == matured
        shares = to_shares(value, cash + before, supply) - (dead if supply == 0 else 0)
        return Contribution(tx, value, before, shares, matured)

    # MARKET #

    def sell(self, token_id: int, seller, price: int, at: int | None = None) -> Contribution:
        """The owner accepts the market's offer for `token_id` at `price`: the GPU comes in, its
        value the GPU's own collateral value then (GpuPurchased.value). Mined at `at` exactly if
        given (`send`)."""
        tx = self.send(self.market.sell_gpu, (token_id, price), seller, at)
        matured = self.book.make_current(tx.timestamp)
        _, before = self.book.bring_in(token_id, self.terms(token_id), tx.timestamp, False)
        assert matured_logs(tx, self.collateral) == matured
        value = self.book.value_of(token_id, tx.timestamp)
        return Contribution(tx, value, before, 0, matured)

    def take(self, token_id: int, buyer, price: int):
        """`buyer` buys the listed `token_id` at `price` (funded and approved beforehand): the GPU
        leaves. Returns the receipt and its collateral value then (GpuSold.value)."""
        mark = self._marks()
        tx = self.market.buy_gpu(token_id, price, sender=buyer)
        value = self.book.release(token_id, tx.timestamp)
        self._matured(tx, mark)
        return tx, value

    def process(self, max_steps: int, sender=None):
        """process_maturities; returns the receipt and the nodes matured (per the reference,
        checked against ScheduleMatured)."""
        tx = self.collateral.process_maturities(max_steps, sender=sender or self.roles["operator"])
        matured = self.book.mature(tx.timestamp, min(max_steps, MAX_VIEW_STEPS))
        assert matured_logs(tx, self.collateral) == matured
        return tx, matured

    def sync(self, token_id: int, sender=None):
        mark = self._marks()
        tx = self.collateral.sync(token_id, sender=sender or self.roles["operator"])
        assert self.book.sync(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        return tx

    # APPRAISALS #

    def mark(
        self,
        token_id: int,
        book_value: int,
        reason: bytes = REASON,
        sender=None,
        at: int | None = None,
    ):
        """The appraiser's `appraisals.mark`; the reference follows the collateral's `revalue`
        (at most the registry's line; rising when counted and above where the GPU stood, held
        below the registry's book value unless settled: the rules are the contract's to enforce,
        the tests' to check). Mined at `at` exactly if given (`send`). Returns the receipt and
        where the GPU stood."""
        mark = self._marks()
        terms = self.terms(token_id)
        args = (token_id, book_value, reason)
        tx = self.send(self.kit.appraisals.mark, args, sender or self.roles["appraiser"], at)
        book, now = self.book, tx.timestamp
        previous = book.book_of(token_id, terms, now)
        # Above the registry's straight line, the mark is the line.
        target = min(book_value, self.registry.book_value_at(token_id, now))
        rising = book.positions[token_id].state == State.COUNTED and target > previous
        book.revalue(token_id, terms, target, rising, book.hold(token_id, terms, target, now), now)
        self._matured(tx, mark)
        return tx, previous

    def settle(self, token_id: int, reason: bytes = REASON, sender=None, at: int | None = None):
        """The appraiser's `appraisals.settle`: the reference re-marks the GPU where it stands,
        not rising, holding nothing. Mined at `at` exactly if given (`send`). Returns the
        receipt and that book value (checked against MarkSettled, with the reason and the
        appraiser)."""
        mark = self._marks()
        sender = sender or self.roles["appraiser"]
        tx = self.send(self.kit.appraisals.settle, (token_id, reason), sender, at)
        value = self.book.settle(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        [settled] = logs_of(tx, self.kit.appraisals, "MarkSettled")
        assert (settled.token_id, settled.book_value, settled.reason, settled.appraiser) == (
            token_id,
            value,
            reason,
            sender.address,
        )
        return tx, value

    def mark_up_to_the_line(self, token_id: int, at: int) -> list[tuple[int, int]]:
        """The appraiser marks a counted GPU up by the largest step at `at`, then again at each
        ramp end, until a mark reaches its straight line (the registry's book value then),
        checking every view after each: below the line each mark holds entries, the last lifts
        the hold (its ramp still writes the GPU down until its end, `position(id)[2]`). Returns
        each mark's (time, value)."""
        marks = []
        while True:
            terms = self.terms(token_id)
            up = next_step(terms, self.book.book_of(token_id, terms, at), at)
            # The largest step at `at` is more than the step a second later: mined at `at`.
            tx, _ = self.mark(token_id, up, at=at)
            assert tx.timestamp == at
            marks.append((at, up))
            self.check()
            if up == terms.book_value(at):
                assert not self.book.positions[token_id].held
                return marks
            assert self.book.positions[token_id].held
            at = self.book.positions[token_id].curve.ramp_end

    def mark_default(self, token_ids: list[int], recovery: dict[int, int], sender):
        """`appraisals.mark_default` by `sender` (a LEASE_MANAGER_ROLE holder): each GPU down to
        min(its recovery value, else salvage; where it stands). Returns the receipt and the
        targets."""
        mark = self._marks()
        terms = self.terms_of(token_ids)
        tx = self.kit.appraisals.mark_default(token_ids, sender=sender)
        book, now, targets = self.book, tx.timestamp, []
        for token_id, t in zip(token_ids, terms, strict=True):
            target = min(recovery.get(token_id, t.salvage), book.book_of(token_id, t, now))
            flags = DEFAULTED | book.hold(token_id, t, target, now)
            book.revalue(token_id, t, target, False, flags, now)
            targets.append(target)
        self._matured(tx, mark)
        return tx, targets

    def flow(self, tx) -> list:
        """A vault flow priced from `current_value()` or `entry_value()` happened in `tx`: the
        schedule matured (checked against ScheduleMatured); returns the nodes matured."""
        matured = self.book.make_current(tx.timestamp)
        assert matured_logs(tx, self.collateral) == matured
        return matured

    # CHECKS #

    def check(self, token_ids=None) -> None:
        """Every view of the collateral equals the reference at the latest block, and the
        aggregate keeps its bound: value() <= sum of value_of <= value() + counted. So do the
        entry gate (`written_down()`, `held_down()`, `entries_open()`) and what a flow would get
        now from `current_value()` and `entry_value()` (eth_calls: the value, or the revert
        reason). One JSON-RPC batch."""
        collateral, book = self.collateral, self.book
        now = self.now()
        token_ids = list(book.positions) if token_ids is None else list(token_ids)
        unmatured = sorted(d for d in book.days if d > book.matured)
        gate = (
            "written_down",
            "held_down",
            "entries_open",
            "current_value",
            "entry_value",
            "value",
        )
        calls = [(collateral, method, ()) for method in gate]
        calls += [
            (collateral, "pending", ()),
            (collateral, "schedule_state", ()),
            (collateral, "intercept_sum", ()),
            (collateral, "slope_sum", ()),
        ]
        calls += [(collateral, "nodes", (d,)) for d in unmatured]
        for token_id in token_ids:
            calls += [
                (collateral, "value_of", (token_id,)),
                (collateral, "position", (token_id,)),
                (collateral, "counts", (token_id,)),
                (collateral, "appraisal", (token_id,)),
            ]
        results = call_many(self.chain, calls)
        down, held, is_open, current, entry, value = results[: len(gate)]
        results = results[len(gate) :]
        try:
            expected, expected_down = book.value(now), book.written_down(now)
        except Pending:
            # More than 1,024 due: the views revert rather than understate.
            expected = expected_down = Reverted(PENDING)
        assert (value, down, held) == (expected, expected_down, book.held_down())
        assert is_open == book.entries_open(now)
        # A flow matures up to 16 due nodes and refuses beyond; then exits get the value, entries
        # only while no counted GPU is written down and none is held down.
        if len(book.due(now)) > MAX_MATURE_STEPS:
            assert current == entry == Reverted(PENDING)
        else:
            assert current == expected
            waits = expected_down != 0 or held != 0
            assert entry == (Reverted(ENTRIES_WAIT) if waits else expected)
        pending, state, intercept, slope = results[:4]
        assert pending == book.pending(now)
        assert state == book.schedule_state(now)
        assert (intercept, slope) == book.sums(now)
        nodes, rest = results[4 : 4 + len(unmatured)], results[4 + len(unmatured) :]
        assert nodes == [book.delta(d) for d in unmatured]
        for i, token_id in enumerate(token_ids):
            value_of, position, counts, appraisal = rest[4 * i : 4 * i + 4]
            assert value_of == book.value_of(token_id, now), token_id
            assert position == book.position(token_id), token_id
            assert counts == book.counts(token_id, now), token_id
            assert appraisal == book.appraisal(token_id), token_id
        if (
            not isinstance(expected, Reverted)
            and token_ids
            and set(token_ids) >= set(book.positions)
        ):
            total = sum(rest[4 * i] for i in range(len(token_ids)))
            assert value <= total <= value + book.counted()


def matured_logs(tx, collateral) -> list[tuple[int, int, int, int]]:
    return [
        (log.at, log.intercept, log.slope, log.gpus)
        for log in logs_of(tx, collateral, "ScheduleMatured")
    ]


def counted_logs(tx, collateral) -> list[tuple]:
    return [
        (log.token_id, log.since, log.ramp_end, log.stale_at, log.value)
        for log in logs_of(tx, collateral, "GpuCounted")
    ]


def uncounted_logs(tx, collateral) -> list[tuple]:
    return [
        (log.token_id, log.status, log.value) for log in logs_of(tx, collateral, "GpuUncounted")
    ]


def revalued_logs(tx, collateral) -> list[tuple]:
    return [
        (log.token_id, log.book_value, log.previous, log.ramp_end)
        for log in logs_of(tx, collateral, "GpuRevalued")
    ]


@pytest.fixture(scope="session")
def role_accounts(admin, operator, custodian, appraiser, compliance, pauser, investor):
    return {
        "admin": admin,
        "operator": operator,
        "custodian": custodian,
        "appraiser": appraiser,
        "compliance": compliance,
        "pauser": pauser,
        "investor": investor,
    }


def book_of(kit) -> Book:
    c = kit.collateral
    return Book(c.ADVANCE_RATE_BPS(), c.STALENESS_WINDOW(), c.UNLOCK_PERIOD())


@pytest.fixture(scope="session")
def new_pool(create_vault, usdc, registry, attestor, chain, operator, role_accounts):
    """Factory for session-scoped set-ups: a pool of its own over the shared USDC (parameters as
    `create_vault`), the operator having approved its collateral for all, with an empty Book.
    A set-up that builds state at session scope must not build it in a pool others use."""

    def _new(**params) -> Pool:
        kit = create_vault(token=usdc, **params)
        registry.setApprovalForAll(kit.collateral, True, sender=operator)
        return Pool(kit, registry, chain, book_of(kit), role_accounts, attestor)

    return _new


@pytest.fixture(scope="session")
def empty_pool(new_pool) -> Pool:
    return new_pool(name="Collateral tests", symbol="CT")


@dataclass
class Stocked:
    """The `stocked` pool as built: its Pool (Book included) and its two GPUs."""

    pool: Pool
    first: int
    twin: int


def stock(pool: Pool, other_investor, investor) -> Stocked:
    """Stock a new pool as `stocked` describes (GpuMarket's tests stock one of their own)."""
    buy(pool.vault, pool.kit.token, other_investor, STOCKED_CASH)
    pool.registry.setApprovalForAll(pool.collateral, True, sender=investor)
    acquired_at = pool.chain.pending_timestamp - 30 * DAY
    start = ceil_day(pool.chain.pending_timestamp) + 3_600
    pool.next_at(start)
    first, twin = pool.register_alike(2, acquired_at=acquired_at)
    registered_at = pool.now()
    pool.contribute(first)
    pool.contribute(twin)
    assert pool.terms(first) == pool.terms(twin)
    assert pool.terms(first).last_attested_at == registered_at
    return Stocked(pool, first, twin)


@pytest.fixture(scope="session")
def stocked_built(new_pool, other_investor, investor) -> Stocked:
    return stock(new_pool(name="Stocked", symbol="STCK"), other_investor, investor)


@pytest.fixture
def stocked(stocked_built) -> Stocked:
    """A pool with the default parameters, 100,000 USDC of free cash (other_investor's), and two
    identical GPUs contributed (same terms, registered in one transaction, fractions to the
    operator); the investor approved the collateral for all its GPUs (it sells to the pool)."""
    return replace(stocked_built, pool=stocked_built.pool.fork())


@pytest.fixture
def pool(empty_pool) -> Pool:
    """A pool with the default parameters (80% advance rate, 30-day staleness window, 7-day
    unlock period) and an empty Book."""
    return empty_pool.fork()


@dataclass
class Many:
    """The `many` pool as built (its Book included) and the grid times that matter."""

    pool: Pool
    token_ids: list[int]
    registered_at: int
    day0: int  # floor_day(registered_at): GPU i (0-based) reaches end of life at day0 + (i+1) days
    stale_at: int  # every GPU's stale day (365-day window)

    def end(self, i: int) -> int:
        return self.day0 + (i + 1) * DAY


@pytest.fixture(scope="session")
def many_built(new_pool, registry, chain, operator, custodian) -> Many:
    """A pool with a 365-day staleness window and 100 GPUs contributed (fractions to the
    operator), acquired 10 days before registration with lives of 11 to 110 days: GPU i (0-based)
    reaches end of life (salvage) at day0 + (i+1) days, so from day0 + k days on exactly k nodes
    are due (the stale day, day0 + 365 days, is the 101st). Registered in one block, contributed
    in the next (`send_packed`)."""
    pool = new_pool(staleness_window=365 * DAY, name="Many", symbol="MANY")
    kit, book = pool.kit, pool.book
    registered_at = ceil_day(chain.pending_timestamp) + 3_600
    day0 = registered_at - 3_600
    acquired_at = registered_at - 10 * DAY
    specs = [
        make_spec(
            acquired_at=acquired_at,
            useful_life=(11 + i) * DAY,
            acquisition_cost=(20_000 + 137 * i) * USDC,
            salvage_value=(2_000 + 11 * i) * USDC + i,
        )
        for i in range(MANY)
    ]
    first = registry.totalSupply() + 1
    registrations = [
        (registry, "register", (operator, specs[i : i + 50]), custodian) for i in range(0, MANY, 50)
    ]
    send_packed(chain, registrations, registered_at, gas=15_000_000)
    token_ids = list(range(first, first + MANY))
    contributions = [(kit.collateral, "contribute", (t, operator, 0), operator) for t in token_ids]
    [since] = send_packed(chain, contributions, registered_at + 10, gas=600_000)
    book.make_current(since)
    for token_id, spec in zip(token_ids, specs, strict=True):
        terms = Terms(
            spec["acquisition_cost"],
            spec["salvage_value"],
            acquired_at,
            spec["useful_life"],
            GpuStatus.ACTIVE,
            registered_at,
        )
        book.bring_in(token_id, terms, since, True)
    assert kit.collateral.schedule_state() == (day0 + DAY, MANY, 0)
    assert book.positions[token_ids[-1]].state == State.COUNTED
    pool.check()
    return Many(pool, token_ids, registered_at, day0, day0 + 365 * DAY)


@pytest.fixture
def many(many_built) -> tuple[Pool, Many]:
    """The `many` pool with its own copy of the reference Book, and how it was built."""
    return many_built.pool.fork(), many_built
