"""Where the audit's events come from (gpu_rwa.events): the on-disk cache gives the books a cold
audit gives and makes a second audit read only the new blocks; a cache of another chain, or of
blocks the chain no longer has, is not used; every query names its contracts and the stablecoin's
Transfers are the pool's only; ranges a node refuses are halved and grown again."""

import sqlite3

import pytest
from ape.exceptions import ProviderError
from eth_utils import keccak
from requests.exceptions import HTTPError

from gpu_rwa import events
from gpu_rwa.audit import check_invariants, failures, pool_queries, rebuild_books, summary_line
from gpu_rwa.events import BlockTimes, EventCache, EventSource, node_request, topic_of
from tests.scripts.utils import script
from tests.utils.registry import USDC

QUERIES = 8
REASON = keccak(text="audit")
OTHER_GENESIS = "0x" + "ab" * 32


@pytest.fixture
def cache(tmp_path) -> EventCache:
    return EventCache(tmp_path / "events.sqlite")


def blocks_since_deploy(invested, chain) -> int:
    return chain.blocks.head.number - invested.pool.manifest.deploy_block + 1


def audited(invested, source: EventSource):
    books = rebuild_books(invested.pool, source=source)
    checks = check_invariants(invested.pool, books)
    assert not failures(checks), summary_line(checks)
    return books


def test_a_second_audit_reads_only_the_new_blocks(invested, cache, chain, investor, other_investor):
    first = EventSource(cache=cache)
    assert audited(invested, first) == rebuild_books(invested.pool)
    assert (first.log_queries, first.blocks_fetched) == (
        QUERIES,
        QUERIES * blocks_since_deploy(invested, chain),
    )
    synced = chain.blocks.head.number
    invested.vault.transfer(other_investor, 7 * USDC, sender=investor)
    invested.vault.transfer(other_investor, 3 * USDC, sender=investor)

    second = EventSource(cache=cache)
    books = audited(invested, second)

    assert books == rebuild_books(invested.pool)
    assert books.balances[other_investor.address] == 10 * USDC
    new_blocks = chain.blocks.head.number - synced
    assert new_blocks == 2
    assert (second.log_queries, second.blocks_fetched) == (QUERIES, QUERIES * new_blocks)


def test_a_cache_of_another_chain_is_not_used(invested, cache, chain):
    def another_chain(method, params):
        if method == "eth_getBlockByNumber" and params[0] == "0x0":
            return {"hash": OTHER_GENESIS}
        return node_request(method, params)

    audited(invested, EventSource(cache=cache, request=another_chain))
    source = EventSource(cache=cache)

    assert audited(invested, source) == rebuild_books(invested.pool)
    assert source.blocks_fetched == QUERIES * blocks_since_deploy(invested, chain)
    genesis = chain.blocks[0].hash.to_0x_hex()
    with sqlite3.connect(cache.path) as db:
        chains = {row[0] for row in db.execute("SELECT DISTINCT genesis FROM queries")}
    assert chains == {OTHER_GENESIS, genesis}


def test_blocks_the_chain_no_longer_has_are_read_again(
    invested, cache, chain, investor, other_investor
):
    """The chain reverted under the cache (a reorg, a local chain restarted): the last cached
    block's hash differs, so the cache's events are dropped and every block is read again."""
    with chain.isolate():
        invested.vault.transfer(other_investor, 7 * USDC, sender=investor)
        audited(invested, EventSource(cache=cache))
    invested.vault.transfer(other_investor, 5 * USDC, sender=investor)
    source = EventSource(cache=cache)

    books = audited(invested, source)

    assert books == rebuild_books(invested.pool)
    assert books.balances[other_investor.address] == 5 * USDC
    assert source.blocks_fetched == QUERIES * blocks_since_deploy(invested, chain)


def test_every_query_names_its_contracts_and_the_pools_side(
    invested, chain, investor, other_investor
):
    """A public node would answer a query without addresses with every contract's logs, and one
    on the stablecoin without topics with every holder's transfers: the audit asks neither."""
    queries = pool_queries(invested.pool)
    assert len(queries) == QUERIES
    assert all(query.addresses for query in queries)
    pool_side = [topic_of(invested.vault.address), topic_of(invested.queue.address)]
    stablecoin = [q for q in queries if q.addresses == (invested.stablecoin.address,)]
    assert [q.topics for q in stablecoin] == [(pool_side,), (None, pool_side)]
    invested.stablecoin.transfer(other_investor, 5 * USDC, sender=investor)
    head = chain.blocks.head.number

    logs = [e for q in stablecoin for e in EventSource().logs(q, head, head)]

    assert logs == []


def refusing_above(limit: int, refusal: Exception):
    """The node's eth_getLogs, refusing ranges of more than `limit` blocks; records each range
    asked."""

    def request(method, params):
        if method == "eth_getLogs":
            first, last = (int(params[0][end], 16) for end in ("fromBlock", "toBlock"))
            request.ranges.append((first, last))
            if last - first + 1 > limit:
                raise refusal
        return node_request(method, params)

    request.ranges = []
    return request


REFUSALS = [
    ProviderError("query returned more than 10000 results"),
    ProviderError("block range is too large"),
    ProviderError("Log response size exceeded. You can make eth_getLogs requests with up to a 2K"),
    ProviderError("limit exceeded"),
    HTTPError("413 Client Error: Payload Too Large for url: http://node"),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda e: str(e)[:24])
def test_a_refused_range_is_halved_and_the_span_grows_back(invested, refusal):
    request = refusing_above(5, refusal)
    source = EventSource(request=request, span=8)
    start = invested.pool.manifest.deploy_block

    source.logs(pool_queries(invested.pool)[2], start, start + 29)

    assert [(first - start, last - start) for first, last in request.ranges] == [
        (0, 7),
        (0, 3),
        (4, 7),
        (8, 11),
        (12, 15),
        (16, 23),
        (16, 19),
        (20, 23),
        (24, 27),
        (28, 29),
    ]
    assert (source.refused, source.log_queries, source.blocks_fetched, source.span) == (2, 8, 30, 8)


def test_books_from_refused_ranges_are_the_same(invested, chain):
    source = EventSource(request=refusing_above(16, REFUSALS[0]))

    books = rebuild_books(invested.pool, source=source)

    assert books == rebuild_books(invested.pool)
    assert source.refused > 0
    assert source.blocks_fetched == QUERIES * blocks_since_deploy(invested, chain)


def test_an_error_that_is_not_about_the_range_is_raised(invested):
    request = refusing_above(0, ProviderError("invalid params"))
    source = EventSource(request=request)
    start = invested.pool.manifest.deploy_block

    with pytest.raises(ProviderError, match="invalid params"):
        source.logs(pool_queries(invested.pool)[0], start, start + 9)

    assert (len(request.ranges), source.refused) == (1, 0)


def test_block_times_are_fetched_only_when_a_time_cannot_decide(
    invested, chain, investor, other_investor
):
    """A receipt by an account verified past the last block needs no block time; otherwise the
    block's time is fetched, with the next blocks that may need theirs, in one batch."""
    first = chain.blocks.head
    invested.vault.transfer(other_investor, USDC, sender=investor)
    second = chain.blocks.head
    invested.vault.transfer(other_investor, USDC, sender=investor)
    last = chain.blocks.head
    times = BlockTimes([first.number, second.number], last.number, last.timestamp)

    assert not times.after(first.number, last.timestamp)
    assert set(times.times) == {last.number}
    assert times.after(first.number, first.timestamp - 1)
    assert not times.after(first.number, first.timestamp)
    assert times.times == {
        first.number: first.timestamp,
        second.number: second.timestamp,
        last.number: last.timestamp,
    }


def test_the_audit_script_keeps_its_events_where_told(invested, tmp_path):
    cache_file = tmp_path / "pool" / "events.sqlite"

    assert script(invested, "audit", "--no-cache", "--cache", str(cache_file)).exit_code == 0
    assert not cache_file.exists()
    result = script(invested, "audit", "--cache", str(cache_file))

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "all 12 invariants pass; entries open"
    with sqlite3.connect(cache_file) as db:
        assert db.execute("SELECT COUNT(*) FROM queries").fetchone() == (QUERIES,)


def test_an_event_cache_that_cannot_be_opened_is_one_line(invested, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cache_file = tmp_path / "file" / "events.sqlite"

    result = script(invested, "audit", "--cache", str(cache_file))

    assert result.exit_code == 1
    assert result.output.strip() == (
        f"error: event cache {cache_file}: cannot be opened (File exists: {cache_file.parent})"
    )


def test_a_public_chains_last_blocks_are_read_every_time(invested, cache, chain, monkeypatch):
    """Off a local chain the newest UNCONFIRMED_BLOCKS are not kept: a reorganisation may still
    replace them."""
    monkeypatch.setattr(events, "is_local", lambda: False)
    monkeypatch.setattr(events, "UNCONFIRMED_BLOCKS", 3)
    audited(invested, EventSource(cache=cache))
    source = EventSource(cache=cache)

    assert audited(invested, source) == rebuild_books(invested.pool)
    assert (source.log_queries, source.blocks_fetched) == (QUERIES, QUERIES * 3)


def test_events_decode_as_ape_decodes_them(
    invested, cache, chain, compliance, investor, other_investor
):
    """Every log of the pool's queries, decoded here and by ape: the same event and arguments (a
    freeze and a forced transfer give bytes32 and bool arguments; a registration, a string), and
    the same again from the cache."""
    invested.compliance.freeze(investor, REASON, sender=compliance)
    invested.compliance.forcedTransfer(investor, other_investor, USDC, sender=compliance)
    invested.compliance.unfreeze(investor, REASON, sender=compliance)
    start, stop = invested.pool.manifest.deploy_block, chain.blocks.head.number
    names = set()
    for query in pool_queries(invested.pool):
        raw = node_request("eth_getLogs", [query.params(start, stop)])
        ours = [query.decode(log) for log in raw]
        apes = list(chain.provider.network.ecosystem.decode_logs(raw, *query.events))
        assert [(e.event_name, e.event_arguments) for e in ours] == [
            (e.event_name, e.event_arguments) for e in apes
        ]
        assert [e.transaction_hash for e in ours] == [e.transaction_hash for e in apes]
        names |= {e.event_name for e in ours}
        EventSource(cache=cache).logs(query, start, stop)
        assert EventSource(cache=cache).logs(query, start, stop) == ours
    assert {"FreezeUpdated", "ForcedTransfer", "Frozen", "GpuRegistered", "Deposit"} <= names
