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
import time
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_abi import decode
from hexbytes import HexBytes

from tests.utils.collateral import (
    DAY,
    MAX_VIEW_STEPS,
    Book,
    Pending,
    State,
    Terms,
    ceil_day,
)
from tests.utils.registry import ROLE_HOLDER, TRANSITIONS, USDC, GpuStatus, make_spec
from tests.utils.vault import buy, logs_of, to_shares

# GPUs in the `many` pool.
MANY = 100
# Free cash of the `stocked` pool.
STOCKED_CASH = 100_000 * USDC
# Error(string)
ERROR_SELECTOR = bytes.fromhex("08c379a0")
# Gas of each transaction `send_spaced` queues (the block gas limit admits one).
_SPACED_GAS = 300_000


def _hex(data) -> str:
    return "0x" + bytes(HexBytes(data)).hex()


def rpc(chain, method: str, *params):
    """One JSON-RPC request to the node; returns its result (raises on an error)."""
    response = chain.provider.web3.provider.make_request(method, list(params))
    assert "error" not in response, response
    return response["result"]


def send_raw(
    chain, contract, method: str, *args, sender, timestamp: int | None = None, gas: int = 2_000_000
):
    """Send a transaction without ape's per-transaction overhead (the test accounts are unlocked
    on Anvil) and check that it succeeded; for bulk set-ups only."""
    if timestamp is not None:
        rpc(chain, "evm_setNextBlockTimestamp", timestamp)
    data = getattr(contract, method).encode_input(*args)
    tx_hash = rpc(
        chain,
        "eth_sendTransaction",
        {"from": sender.address, "to": contract.address, "data": _hex(data), "gas": hex(gas)},
    )
    # Anvil answers eth_sendTransaction once the transaction is in its pool; a large block may
    # still be mining.
    deadline = time.monotonic() + 60
    while (receipt := rpc(chain, "eth_getTransactionReceipt", tx_hash)) is None:
        assert time.monotonic() < deadline, (method, "not mined")
        time.sleep(0.01)
    assert receipt["status"] == "0x1", (method, args)
    return receipt


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
    receipt (one batch). For set-ups of hundreds of transactions (a few ms each)."""
    hashes = []
    gas_limit = rpc(chain, "eth_getBlockByNumber", "latest", False)["gasLimit"]
    rpc(chain, "evm_setAutomine", False)
    rpc(chain, "evm_setBlockGasLimit", hex(gas + 10_000))
    nonces: dict[str, int] = {}
    try:
        # In chunks (Anvil's pool slows down as it fills), each chunk queued in one batch: Anvil
        # serves a batch concurrently, so every transaction carries its nonce (the mining order).
        for first in range(0, len(txs), 128):
            chunk = txs[first : first + 128]
            requests = []
            for contract, method, args, sender in chunk:
                if sender.address not in nonces:
                    nonces[sender.address] = sender.nonce
                data = _hex(getattr(contract, method).encode_input(*args))
                tx = {
                    "from": sender.address,
                    "to": contract.address,
                    "data": data,
                    "gas": hex(gas),
                    "nonce": hex(nonces[sender.address]),
                }
                nonces[sender.address] += 1
                requests.append(("eth_sendTransaction", [tx]))
            for response in chain.provider.web3.provider.make_batch_request(requests):
                assert "error" not in response, response
                hashes.append(response["result"])
            rpc(chain, "evm_setNextBlockTimestamp", start + first * interval)
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


def reasons(chain, calls: list[tuple[Any, str, tuple, Any]]) -> list[str | None]:
    """Run each (contract, method, args, sender) as an eth_call from `sender` at the latest
    block, all in one JSON-RPC batch; returns each revert reason (None: it would succeed).
    Straight to the node: ape would trace a reverting call step by step to build a source
    traceback, which for a view walking 1,024 nodes takes minutes."""
    requests = []
    for contract, method, args, sender in calls:
        data = _hex(getattr(contract, method).encode_input(*args))
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
    output unwrapped)."""
    requests = []
    types = []
    for contract, method, args in calls:
        handler = getattr(contract, method)
        types.append([o.canonical_type for o in handler.abis[0].outputs])
        data = handler.encode_input(*args)
        requests.append(("eth_call", [{"to": contract.address, "data": _hex(data)}, "latest"]))
    responses = chain.provider.web3.provider.make_batch_request(requests)
    results = []
    for output_types, response in zip(types, responses, strict=True):
        assert "error" not in response, response
        decoded = decode(output_types, HexBytes(response["result"]))
        results.append(decoded[0] if len(decoded) == 1 else tuple(decoded))
    return results


@dataclass
class Contribution:
    """What a contribution or a sale brought in, per the reference."""

    tx: Any
    value: int  # collateral value added (GpuContributed.value / GpuPurchased.value)
    before: int  # collateral value before it
    shares: int  # fractions the receiver gets (contribution)
    matured: list  # ScheduleMatured (at, intercept, slope) the flow did first


@dataclass
class Pool:
    """One pool on chain and its reference Book."""

    kit: Any
    registry: Any
    chain: Any
    book: Book
    roles: dict[str, Any]

    @property
    def collateral(self):
        return self.kit.collateral

    @property
    def vault(self):
        return self.kit.vault

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

    def pin(self, timestamp: int) -> None:
        """Views see `timestamp`, and the next transaction is mined at it too."""
        self.view_at(timestamp)
        self.next_at(timestamp)

    def predict(self, token_id: int, at: int) -> tuple[int, int]:
        """(value added, value before) if `token_id` came in at `at`, on a copy of the Book."""
        book = copy.deepcopy(self.book)
        book.make_current(at)
        return book.bring_in(token_id, self.terms(token_id), at)

    # REGISTRY #

    def terms(self, token_id: int) -> Terms:
        return self.terms_of([token_id])[0]

    def terms_of(self, token_ids) -> list[Terms]:
        """The registry's terms of each GPU, in one request."""
        results = read_many(self.chain, [(self.registry, "terms", (t,)) for t in token_ids])
        return [Terms(*t[1:]) for t in results]

    def register(self, owner=None, **fields) -> int:
        """Register one GPU (to the operator unless `owner`), acquired 30 days ago unless given."""
        fields.setdefault("acquired_at", self.chain.pending_timestamp - 30 * DAY)
        tx = self.registry.register(
            owner or self.roles["operator"], [make_spec(**fields)], sender=self.roles["custodian"]
        )
        return tx.decode_logs(self.registry.GpuRegistered)[0].token_id

    def set_status(self, token_id: int, status: int):
        """Move a GPU on the registry with the role its transition needs; the hook follows.
        Returns the receipt and the value the GPU took out of the pool (None if it did not)."""
        previous = GpuStatus(self.terms(token_id).status)
        holder = self.roles[ROLE_HOLDER[TRANSITIONS[previous, GpuStatus(status)]]]
        mark = len(self.book.matured_log)
        tx = self.registry.set_status(token_id, status, sender=holder)
        removed = self.book.on_status(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        return tx, removed

    def attest(self, *token_ids: int):
        mark = len(self.book.matured_log)
        tx = self.registry.attest(list(token_ids), sender=self.roles["custodian"])
        for token_id in token_ids:
            self.book.on_attested(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        return tx

    def _matured(self, tx, mark: int) -> None:
        """The nodes `tx` matured (ScheduleMatured: time and changes) are the reference's."""
        assert matured_logs(tx, self.collateral) == self.book.matured_log[mark:]

    # COLLATERAL #

    def contribute(self, token_id: int, receiver=None, min_shares: int = 0) -> Contribution:
        """The operator contributes `token_id` (approved for all by the fixture)."""
        vault = self.vault
        cash, supply, dead = read_many(
            self.chain,
            [(vault, "free_cash", ()), (vault, "totalSupply", ()), (vault, "DEAD_SHARES", ())],
        )
        tx = self.collateral.contribute(
            token_id, receiver or self.roles["operator"], min_shares, sender=self.roles["operator"]
        )
        matured = self.book.make_current(tx.timestamp)
        value, before = self.book.bring_in(token_id, self.terms(token_id), tx.timestamp)
        assert matured_logs(tx, self.collateral) == matured
        shares = to_shares(value, cash + before, supply) - (dead if supply == 0 else 0)
        return Contribution(tx, value, before, shares, matured)

    def sell(self, token_id: int, seller, price: int) -> Contribution:
        tx = self.collateral.sell_gpu(token_id, price, sender=seller)
        matured = self.book.make_current(tx.timestamp)
        value, before = self.book.bring_in(token_id, self.terms(token_id), tx.timestamp)
        assert matured_logs(tx, self.collateral) == matured
        return Contribution(tx, value, before, 0, matured)

    def process(self, max_steps: int, sender=None):
        """process_maturities; returns the receipt and the nodes matured (per the reference,
        checked against ScheduleMatured)."""
        tx = self.collateral.process_maturities(max_steps, sender=sender or self.roles["operator"])
        matured = self.book.mature(tx.timestamp, min(max_steps, MAX_VIEW_STEPS))
        assert matured_logs(tx, self.collateral) == matured
        return tx, matured

    def sync(self, token_id: int, sender=None):
        mark = len(self.book.matured_log)
        tx = self.collateral.sync(token_id, sender=sender or self.roles["operator"])
        assert self.book.sync(token_id, self.terms(token_id), tx.timestamp)
        self._matured(tx, mark)
        return tx

    def flow(self, tx) -> list:
        """A vault flow priced from `current_value()` happened in `tx`: the schedule matured
        (checked against ScheduleMatured); returns the nodes matured."""
        matured = self.book.make_current(tx.timestamp)
        assert matured_logs(tx, self.collateral) == matured
        return matured

    # CHECKS #

    def check(self, token_ids=None) -> None:
        """Every view of the collateral equals the reference at the latest block, and the
        aggregate keeps its bound: value() <= sum of value_of <= value() + counted."""
        collateral, book = self.collateral, self.book
        now = self.now()
        token_ids = list(book.positions) if token_ids is None else list(token_ids)
        unmatured = sorted(d for d in book.days if d > book.matured)
        calls = [
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
            ]
        try:
            expected = book.value(now)
        except Pending:
            expected = None  # the view reverts: tested where it matters
        else:
            calls.append((collateral, "value", ()))
        results = read_many(self.chain, calls)
        if expected is not None:
            value = results.pop()
            assert value == expected
        pending, state, intercept, slope = results[:4]
        assert pending == book.pending(now)
        assert state == (book.head(), book.counted())
        assert (intercept, slope) == book.sums(now)
        nodes, rest = results[4 : 4 + len(unmatured)], results[4 + len(unmatured) :]
        assert nodes == [book.delta(d) for d in unmatured]
        for i, token_id in enumerate(token_ids):
            value_of, position, counts = rest[3 * i : 3 * i + 3]
            assert value_of == book.value_of(token_id, now), token_id
            assert position == book.position(token_id), token_id
            assert counts == book.counts(token_id, now), token_id
        if expected is not None and token_ids and set(token_ids) >= set(book.positions):
            total = sum(rest[3 * i] for i in range(len(token_ids)))
            assert value <= total <= value + book.counted()


def matured_logs(tx, collateral) -> list[tuple[int, int, int]]:
    return [
        (log.at, log.intercept, log.slope) for log in logs_of(tx, collateral, "ScheduleMatured")
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
def new_pool(create_vault, usdc, registry, chain, operator, role_accounts):
    """Factory for session-scoped set-ups: a pool of its own over the shared USDC (parameters as
    `create_vault`), the operator having approved its collateral for all, with an empty Book.
    A set-up that builds state at session scope must not build it in a pool others use."""

    def _new(**params) -> Pool:
        kit = create_vault(token=usdc, **params)
        registry.setApprovalForAll(kit.collateral, True, sender=operator)
        return Pool(kit, registry, chain, book_of(kit), role_accounts)

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


@pytest.fixture(scope="session")
def stocked_built(new_pool, other_investor, investor) -> Stocked:
    pool = new_pool(name="Stocked", symbol="STCK")
    buy(pool.vault, pool.kit.token, other_investor, STOCKED_CASH)
    pool.registry.setApprovalForAll(pool.collateral, True, sender=investor)
    acquired_at = pool.chain.pending_timestamp - 30 * DAY
    start = ceil_day(pool.chain.pending_timestamp) + 3_600
    pool.next_at(start)
    first = pool.register(acquired_at=acquired_at)
    pool.next_at(start)
    twin = pool.register(acquired_at=acquired_at)
    pool.contribute(first)
    pool.contribute(twin)
    assert pool.terms(first).last_attested_at == pool.terms(twin).last_attested_at == start
    return Stocked(pool, first, twin)


@pytest.fixture
def stocked(stocked_built) -> Stocked:
    """A pool with the default parameters, 100,000 USDC of free cash (other_investor's), and two
    identical GPUs contributed (same terms, registered in the same second, fractions to the
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
    are due (the stale day, day0 + 365 days, is the 101st)."""
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
    for start in range(0, MANY, 50):
        send_raw(
            chain,
            registry,
            "register",
            operator,
            specs[start : start + 50],
            sender=custodian,
            timestamp=registered_at + start // 50,
            gas=25_000_000,
        )
    token_ids = list(range(first, first + MANY))
    for i, token_id in enumerate(token_ids):
        since = registered_at + 10 + i
        send_raw(
            chain,
            kit.collateral,
            "contribute",
            token_id,
            operator,
            0,
            sender=operator,
            timestamp=since,
        )
        spec = specs[i]
        terms = Terms(
            spec["acquisition_cost"],
            spec["salvage_value"],
            acquired_at,
            spec["useful_life"],
            GpuStatus.ACTIVE,
            registered_at + i // 50,
        )
        book.make_current(since)
        book.bring_in(token_id, terms, since)
    assert kit.collateral.schedule_state() == (day0 + DAY, MANY)
    assert book.positions[token_ids[-1]].state == State.COUNTED
    return Many(pool, token_ids, registered_at, day0, day0 + 365 * DAY)


@pytest.fixture
def many(many_built) -> tuple[Pool, Many]:
    """The `many` pool with its own copy of the reference Book, and how it was built."""
    return many_built.pool.fork(), many_built
