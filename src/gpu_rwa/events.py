"""A pool's logs for the audit: fetched by address-filtered queries over block ranges that adapt to
the node's limits, decoded here (ape's decoding costs about half a millisecond a log), and kept
in an on-disk SQLite cache so that a second audit of the same pool reads only the new blocks.

- Every query names the contracts it reads (`LogQuery.addresses`) and its events' topics, with
  the indexed arguments narrowed where the contract serves more than the pool (the stablecoin's
  Transfers from or to the vault and the queue only): a public node returns only the pool's logs.
- Block ranges: a query runs over `span` blocks at a time; when the node refuses a range (too many
  results, range too large, a limit exceeded, HTTP 413, a timeout), the span is halved and the
  range asked again, and it doubles back after GROW_AFTER ranges in a row succeed.
- The cache (`EventCache`) is keyed by chain id, genesis hash (block 0's) and the query (its
  addresses, events and topics). It keeps the decoded events (block, log index, transaction,
  contract, event name, arguments as JSON) up to a confirmed block (the head on a local chain,
  UNCONFIRMED_BLOCKS below it elsewhere) and that block's hash: if the chain no longer has that
  hash there (a reorg, a local chain restarted or reverted to a snapshot) the query's events are
  dropped and fetched again.
"""

import json
import re
import sqlite3
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ape import chain
from ape.exceptions import ProviderError
from ape.utils.abi import is_dynamic_sized_type
from eth_abi import decode
from eth_utils import encode_hex, keccak, to_checksum_address
from requests.exceptions import HTTPError, Timeout

from gpu_rwa.chain import is_local
from gpu_rwa.errors import UserError
from gpu_rwa.rpc import batch_request

# Blocks of a public chain kept out of the cache: they may still be reorganised.
UNCONFIRMED_BLOCKS = 64
# Blocks asked in one eth_getLogs at first, at most, and ranges in a row before the span doubles.
INITIAL_SPAN = 10_000
MAX_SPAN = 1_000_000
GROW_AFTER = 4
# What nodes say when a range is too much for them (Infura, Alchemy, QuickNode, Ankr, geth, ...).
RANGE_REFUSED = re.compile(
    r"more than \d+ results|block range|range (is )?too (large|wide|big)|range limit|"
    r"limit exceeded|exceeds? .*limit|too many (results|blocks|logs)|response size|"
    r"payload too large|\b413\b|-32005|timed? ?out",
    re.IGNORECASE,
)
# Block times fetched in one batch when the replay needs one it does not have.
TIMES_PER_MISS = 100
# Types whose value a 32-byte word holds as is, beside uintN.
WORD_TYPES = frozenset({"address", "bool", "bytes32"})
# Under the project's folder (where `ape run` runs); .cache/ is not committed.
DEFAULT_CACHE = Path(".cache/events.sqlite")
# The layout of the cache's tables and of the events in them: a file of another is rebuilt.
CACHE_LAYOUT = 1


@dataclass(frozen=True, slots=True)
class Event:
    """One decoded log, with the attribute names of ape's ContractLog the replay reads."""

    contract_address: str
    event_name: str
    event_arguments: dict[str, Any]
    block_number: int
    log_index: int
    transaction_hash: str


@cache
def checksum(address: str) -> str:
    return to_checksum_address(address)


@dataclass(frozen=True)
class _Layout:
    """How one event's log is laid out: indexed arguments in topics, the rest in data."""

    name: str
    indexed: tuple[tuple[str, str], ...]
    data: tuple[tuple[str, str], ...]
    # Whether the data is one word per argument, each of a type `_topic_value` reads.
    words: bool

    @property
    def types(self) -> dict[str, str]:
        return dict(self.indexed + self.data)


def _layout(abi) -> _Layout:
    # An indexed argument of a dynamic type (string, bytes, an array) is logged as its hash.
    indexed = tuple(
        (i.name, "bytes32" if is_dynamic_sized_type(i.canonical_type) else i.canonical_type)
        for i in abi.inputs
        if i.indexed
    )
    data = tuple((i.name, i.canonical_type) for i in abi.inputs if not i.indexed)
    words = all(t in WORD_TYPES or t.startswith("uint") for _, t in data)
    return _Layout(name=abi.name, indexed=indexed, data=data, words=words)


def _topic(abi) -> str:
    return encode_hex(keccak(text=abi.selector))


def _decoded(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return checksum(value)
    return value


def _topic_value(abi_type: str, topic: str) -> Any:
    """An indexed argument from its topic (the common types without eth_abi: it is slower)."""
    if abi_type == "address":
        return checksum("0x" + topic[-40:])
    if abi_type.startswith("uint"):
        return int(topic, 16)
    if abi_type == "bool":
        return int(topic, 16) != 0
    if abi_type == "bytes32":
        return bytes.fromhex(topic[2:])
    return _decoded(abi_type, decode([abi_type], bytes.fromhex(topic[2:]))[0])


def _to_json(value: Any) -> Any:
    return encode_hex(value) if isinstance(value, bytes) else value


def _from_json(abi_type: str, value: Any) -> Any:
    return bytes.fromhex(value[2:]) if abi_type.startswith("bytes") else value


@dataclass(frozen=True)
class LogQuery:
    """One eth_getLogs filter: the events of `events` logged by `addresses`, with the indexed
    arguments after topic0 narrowed by `topics` (each None: any, or a list of accepted values).
    Events whose topic0 collides (ERC-20 and ERC-721 Transfer) need queries of their own."""

    addresses: tuple[str, ...]
    events: tuple[Any, ...]
    topics: tuple[list[str] | None, ...] = ()

    @cached_property
    def layouts(self) -> dict[str, _Layout]:
        """Each event's layout by its topic0."""
        return {_topic(abi): _layout(abi) for abi in self.events}

    @property
    def topic_filter(self) -> list:
        return [sorted(self.layouts), *self.topics]

    @property
    def key(self) -> str:
        """What the cache files the query's events under: its addresses and its topics (an
        event added to the query makes another key: its events are all read again)."""
        addresses = sorted(a.lower() for a in self.addresses)
        return json.dumps({"addresses": addresses, "topics": self.topic_filter})

    def params(self, start: int, stop: int) -> dict:
        return {
            "address": list(self.addresses),
            "topics": self.topic_filter,
            "fromBlock": hex(start),
            "toBlock": hex(stop),
        }

    def decode(self, log: dict) -> Event:
        """One log of the node's eth_getLogs answer."""
        topics = log["topics"]
        layout = self.layouts[topics[0]]
        args = {
            name: _topic_value(abi_type, topic)
            for (name, abi_type), topic in zip(layout.indexed, topics[1:], strict=True)
        }
        data = log["data"]
        if layout.words:
            # Every argument one 32-byte word, read as a topic is.
            for i, (name, abi_type) in enumerate(layout.data):
                args[name] = _topic_value(abi_type, "0x" + data[2 + 64 * i : 66 + 64 * i])
        elif layout.data:
            values = decode([t for _, t in layout.data], bytes.fromhex(data[2:]))
            for (name, abi_type), value in zip(layout.data, values, strict=True):
                args[name] = _decoded(abi_type, value)
        return Event(
            contract_address=checksum(log["address"]),
            event_name=layout.name,
            event_arguments=args,
            block_number=int(log["blockNumber"], 16),
            log_index=int(log["logIndex"], 16),
            transaction_hash=log["transactionHash"],
        )


def topic_of(address: str) -> str:
    """An address as an indexed argument (a 32-byte topic)."""
    return "0x" + address[2:].lower().rjust(64, "0")


@dataclass(frozen=True)
class Synced:
    """How far a query's events are cached: from `start` to `stop`, whose hash was `stop_hash`."""

    start: int
    stop: int
    stop_hash: str


class EventCache:
    """Decoded events on disk (SQLite), per chain (id and genesis hash) and query."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path)
            self._create()
        except (OSError, sqlite3.Error) as exc:
            reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) else exc
            raise UserError(f"event cache {path}: cannot be opened ({reason})") from exc

    def _create(self) -> None:
        """The tables, made again from nothing when the file holds another layout's."""
        (version,) = self.db.execute("PRAGMA user_version").fetchone()
        if version != CACHE_LAYOUT:
            self.db.executescript("DROP TABLE IF EXISTS queries; DROP TABLE IF EXISTS events;")
            self.db.execute(f"PRAGMA user_version = {CACHE_LAYOUT}")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS queries (
                chain_id INTEGER, genesis TEXT, query TEXT,
                start INTEGER, stop INTEGER, stop_hash TEXT,
                PRIMARY KEY (chain_id, genesis, query));
            CREATE TABLE IF NOT EXISTS events (
                chain_id INTEGER, genesis TEXT, query TEXT,
                block INTEGER, log_index INTEGER, tx_hash TEXT, address TEXT,
                event TEXT, args TEXT,
                PRIMARY KEY (chain_id, genesis, query, block, log_index));
            """
        )

    def synced(self, chain_key: tuple[int, str], query: str) -> Synced | None:
        row = self.db.execute(
            "SELECT start, stop, stop_hash FROM queries"
            " WHERE chain_id = ? AND genesis = ? AND query = ?",
            (*chain_key, query),
        ).fetchone()
        return None if row is None else Synced(*row)

    def load(
        self, chain_key: tuple[int, str], query: LogQuery, start: int, stop: int
    ) -> list[Event]:
        types = {layout.name: layout.types for layout in query.layouts.values()}
        rows = self.db.execute(
            "SELECT block, log_index, tx_hash, address, event, args FROM events"
            " WHERE chain_id = ? AND genesis = ? AND query = ? AND block BETWEEN ? AND ?"
            " ORDER BY block, log_index",
            (*chain_key, query.key, start, stop),
        )
        return [
            Event(
                contract_address=address,
                event_name=name,
                event_arguments={
                    arg: _from_json(types[name][arg], value)
                    for arg, value in json.loads(args).items()
                },
                block_number=block,
                log_index=log_index,
                transaction_hash=tx_hash,
            )
            for block, log_index, tx_hash, address, name, args in rows
        ]

    def store(
        self, chain_key: tuple[int, str], query: str, events: list[Event], synced: Synced
    ) -> None:
        """Add `events` (all within `synced`) and record how far the query is cached."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        *chain_key,
                        query,
                        e.block_number,
                        e.log_index,
                        e.transaction_hash,
                        e.contract_address,
                        e.event_name,
                        json.dumps({k: _to_json(v) for k, v in e.event_arguments.items()}),
                    )
                    for e in events
                ],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO queries VALUES (?, ?, ?, ?, ?, ?)",
                (*chain_key, query, synced.start, synced.stop, synced.stop_hash),
            )

    def drop(self, chain_key: tuple[int, str], query: str) -> None:
        with self.db:
            for table in ("events", "queries"):
                self.db.execute(
                    f"DELETE FROM {table} WHERE chain_id = ? AND genesis = ? AND query = ?",
                    (*chain_key, query),
                )


def node_request(method: str, params: list) -> Any:
    return chain.provider.make_request(method, params)


@dataclass
class EventSource:
    """Where the audit's logs come from: the node (through `request`, which a test may wrap) and,
    when given, the cache. Counts what it asked the node."""

    cache: EventCache | None = None
    request: Callable[[str, list], Any] = node_request
    span: int = INITIAL_SPAN
    # eth_getLogs calls answered, the blocks they covered, and the ranges refused.
    log_queries: int = 0
    blocks_fetched: int = 0
    refused: int = 0
    _hashes: dict[int, str | None] = field(default_factory=dict)

    def logs(self, query: LogQuery, start: int, stop: int) -> list[Event]:
        """The query's events in blocks [start, stop], in no particular order."""
        if self.cache is None:
            return self._fetch(query, start, stop)
        chain_key, key = self._chain_key(), query.key
        synced = self.cache.synced(chain_key, key)
        if synced is not None and (
            synced.start > start or self._hash(synced.stop) != synced.stop_hash
        ):
            self.cache.drop(chain_key, key)
            synced = None
        cached = [] if synced is None else self.cache.load(chain_key, query, start, stop)
        fetch_from = start if synced is None else synced.stop + 1
        fetched = self._fetch(query, fetch_from, stop)
        confirmed = stop if is_local() else min(stop, self._head() - UNCONFIRMED_BLOCKS)
        if confirmed >= fetch_from:
            self.cache.store(
                chain_key,
                key,
                [e for e in fetched if e.block_number <= confirmed],
                Synced(start if synced is None else synced.start, confirmed, self._hash(confirmed)),
            )
        return cached + fetched

    def _head(self) -> int:
        return int(self.request("eth_blockNumber", []), 16)

    def _chain_key(self) -> tuple[int, str]:
        return chain.chain_id, self._hash(0)

    def _hash(self, number: int) -> str | None:
        """Block `number`'s hash (None: the chain has no such block now)."""
        if number not in self._hashes:
            block = self.request("eth_getBlockByNumber", [hex(number), False])
            self._hashes[number] = None if block is None else block["hash"]
        return self._hashes[number]

    def _fetch(self, query: LogQuery, start: int, stop: int) -> list[Event]:
        events: list[Event] = []
        block, in_a_row = start, 0
        while block <= stop:
            last = min(stop, block + self.span - 1)
            try:
                logs = self.request("eth_getLogs", [query.params(block, last)])
            except (ProviderError, HTTPError, Timeout) as exc:
                if self.span == 1 or not RANGE_REFUSED.search(str(exc)):
                    raise
                self.refused += 1
                self.span, in_a_row = max(1, self.span // 2), 0
                continue
            self.log_queries += 1
            self.blocks_fetched += last - block + 1
            events += [query.decode(log) for log in logs]
            block = last + 1
            in_a_row += 1
            if in_a_row == GROW_AFTER:
                self.span, in_a_row = min(MAX_SPAN, self.span * 2), 0
        return events


class BlockTimes:
    """Block timestamps for the replay, fetched only where a handler needs one, in batches: a
    miss fetches it with the next blocks of `candidates` (the blocks that may need one) in one
    JSON-RPC batch. `after` answers from the last block's time where it can."""

    def __init__(self, candidates: Iterable[int], last_block: int, last_time: int):
        self.candidates = sorted(set(candidates))
        self.last_time = last_time
        self.times: dict[int, int] = {last_block: last_time}

    def __getitem__(self, block: int) -> int:
        if block not in self.times:
            self._fetch_from(block)
        return self.times[block]

    def after(self, block: int, t: int) -> bool:
        """Whether `block` was mined after time `t` (no fetch when `t` is past the last block)."""
        return t < self.last_time and t < self[block]

    def _fetch_from(self, block: int) -> None:
        position = bisect_left(self.candidates, block)
        upcoming = [b for b in self.candidates[position:] if b not in self.times]
        wanted = [block, *[b for b in upcoming if b != block][: TIMES_PER_MISS - 1]]
        blocks = batch_request([("eth_getBlockByNumber", [hex(b), False]) for b in wanted])
        for number, found in zip(wanted, blocks, strict=True):
            self.times[number] = int(found["timestamp"], 16)


def merged(batches: Sequence[list[Event]]) -> list[Event]:
    """The events of every query once each (a log two queries matched), in chain order."""
    unique = {(e.block_number, e.log_index): e for events in batches for e in events}
    return [unique[key] for key in sorted(unique)]
