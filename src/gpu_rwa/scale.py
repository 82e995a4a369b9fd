"""A pool at scale for the audit's benchmark: many holders, a lease paid month after month, holders
transferring fractions among themselves and claiming revenue; and the audit of it timed.

The setup (deploy, two GPUs contributed, a lease opened, the holders verified) goes through ape;
the thousands of deposits, transfers, claims and instalments are raw transactions signed here,
sent to the node in JSON-RPC batches and mined many to a block (Anvil only: `anvil_setBalance`,
automine off): a pool of 1,000 holders in well under a minute, where one ape call a
transaction takes several minutes.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from io import StringIO
from pathlib import Path

from ape import chain
from ape.exceptions import ApeException
from eth_account import Account
from eth_utils import keccak
from rich.console import Console

from gpu_rwa.audit import (
    audit_report,
    audit_tables,
    check_invariants,
    failures,
    read_chain,
    rebuild_books,
    summary_line,
)
from gpu_rwa.bench import LOCAL_CONFIG, VERIFY_BATCH, synthetic_inventory
from gpu_rwa.chain import local_account
from gpu_rwa.config import load_deploy_config
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.errors import UserError
from gpu_rwa.events import EventCache, EventSource
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import Pool, load_pool
from gpu_rwa.rpc import batch_request
from gpu_rwa.types import SECONDS_PER_DAY

MONTH = 30 * SECONDS_PER_DAY
INSTALMENTS = 60
JURISDICTION = 840
# What each holder buys, and the lease's monthly instalment, in whole stablecoin units.
HOLDING = 1_000
INSTALMENT = 10_000
# Each month one holder in SHARE_OF_HOLDERS sends fractions to another, and one in
# SHARE_OF_HOLDERS claims its revenue: every holder moves and claims three times in 60 months.
SHARE_OF_HOLDERS = 20
# Raw transactions sent in one JSON-RPC batch, and the gas each may use (the node charges what is
# used and fills a block up to its gas limit by this figure; the pool's heaviest call here, a
# deposit by a first-time holder, takes about 130,000).
RPC_BATCH = 250
GAS_LIMIT = 200_000
MAX_FEE = 100 * 10**9
HOLDER_ETH = 10**18
HOLDER_STEPS = (100, 1_000)


@dataclass(frozen=True)
class Call:
    """One transaction to sign: from `key`'s account to `to` with `data`."""

    key: bytes
    to: str
    data: bytes


class RawSender:
    """Signs transactions with local keys and sends them in JSON-RPC batches, nonces counted
    here, then mines blocks until all of them are in (automine is off while the pool is built:
    a block takes as many as its gas limit allows); every receipt is checked (a failed
    transaction stops the build, with its revert reason)."""

    def __init__(self) -> None:
        self.chain_id = chain.chain_id
        self.nonces: dict[str, int] = {}

    def send(self, calls: list[Call]) -> None:
        for start in range(0, len(calls), RPC_BATCH):
            batch = calls[start : start + RPC_BATCH]
            hashes = batch_request([("eth_sendRawTransaction", [self._sign(c)]) for c in batch])
            for call, tx_hash, receipt in zip(batch, hashes, _mined(hashes), strict=True):
                if receipt is None or int(receipt["status"], 16) != 1:
                    raise UserError(f"scale pool: transaction {tx_hash} failed: {_reason(call)}")

    def _sign(self, call: Call) -> str:
        sender = _address(call.key)
        if sender not in self.nonces:
            self.nonces[sender] = chain.provider.get_nonce(sender)
        nonce = self.nonces[sender]
        self.nonces[sender] = nonce + 1
        signed = Account.sign_transaction(
            {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "to": call.to,
                "data": call.data,
                "value": 0,
                "gas": GAS_LIMIT,
                "maxFeePerGas": MAX_FEE,
                "maxPriorityFeePerGas": 0,
            },
            call.key,
        )
        return "0x" + signed.raw_transaction.hex()


@cache
def _address(key: bytes) -> str:
    return Account.from_key(key).address


def _mined(hashes: list[str]) -> list[dict | None]:
    """Blocks mined until every transaction of `hashes` is in one (at most one block each: a
    transaction still out after that never gets in); their receipts."""
    for _ in hashes:
        batch_request([("evm_mine", [])])
        receipts = batch_request([("eth_getTransactionReceipt", [h]) for h in hashes])
        if all(receipts):
            break
    return receipts


def _reason(call: Call) -> str:
    """Why `call` reverts now (replayed as an eth_call at the head)."""
    try:
        chain.provider.make_request(
            "eth_call",
            [{"from": _address(call.key), "to": call.to, "data": "0x" + call.data.hex()}, "latest"],
        )
    except ApeException as exc:
        return str(exc)
    return "no revert when replayed"


def holder_keys(count: int) -> list[bytes]:
    """The same `count` holders every run (keys derived from their index)."""
    return [keccak(text=f"gpu-rwa scale holder {i}") for i in range(count)]


def build_pool(holders: int, workdir: Path, console: Console) -> Pool:
    """A fresh pool with `holders` holders and INSTALMENTS monthly instalments paid, transfers
    among holders and claims every month."""
    pool = _deploy(workdir / f"scale-{holders}.json", console)
    keys = holder_keys(holders)
    addresses = [_address(k) for k in keys]
    lease_id = _set_up(pool, addresses)
    chain.provider.auto_mine = False
    try:
        _months(pool, lease_id, keys, addresses)
    finally:
        chain.provider.auto_mine = True
    return pool


def _months(pool: Pool, lease_id: int, keys: list[bytes], addresses: list[str]) -> None:
    """The holders buy in, then each month the lessee pays and some holders transfer and
    claim."""
    holders = len(keys)
    sender = RawSender()
    unit = 10**pool.decimals
    funder = local_account("investor")
    vault, leases = pool.vault, pool.leases
    sender.send(
        [
            Call(_key(funder), vault.address, vault.deposit.encode_input(HOLDING * unit, holder))
            for holder in addresses
        ]
    )
    lessee_key = _key(local_account("lessee"))
    fraction = 10**pool.fraction_decimals
    moving = max(1, holders // SHARE_OF_HOLDERS)
    opened = chain.blocks.head.timestamp
    for month in range(INSTALMENTS):
        chain.pending_timestamp = opened + month * MONTH
        sender.send(
            [Call(lessee_key, leases.address, leases.pay_instalment.encode_input(lease_id))]
        )
        chain.pending_timestamp = opened + month * MONTH + MONTH // 2
        turn = [(month * moving + i) % holders for i in range(moving)]
        transfers = [
            Call(keys[i], vault.address, vault.transfer.encode_input(addresses[i - 1], fraction))
            for i in turn
        ]
        # Revenue vests over a month: the first claims come once the first instalment vested.
        claims = [Call(keys[i], vault.address, vault.claim.encode_input()) for i in turn]
        sender.send(transfers + (claims if month else []))


def _key(account) -> bytes:
    return bytes.fromhex(account.private_key.removeprefix("0x"))


def _deploy(manifest_path: Path, console: Console) -> Pool:
    deploy_suite(load_deploy_config(LOCAL_CONFIG), local_account("admin"), manifest_path, console)
    return load_pool(read_manifest(manifest_path))


def _set_up(pool: Pool, holders: list[str]) -> int:
    """Two GPUs of the operator's contributed, a lease over them of INSTALMENTS monthly
    instalments, the holders verified and given gas money, the funder and the lessee funded."""
    operator, custodian, compliance, lessee, funder = map(
        local_account, ("operator", "custodian", "compliance", "lessee", "investor")
    )
    unit = 10**pool.decimals
    horizon = chain.pending_timestamp + (INSTALMENTS + 24) * MONTH
    identity, registry, collateral = pool.identity, pool.registry, pool.collateral
    identity.verify(operator, horizon, JURISDICTION, sender=compliance)
    for start in range(0, len(holders), VERIFY_BATCH):
        batch = holders[start : start + VERIFY_BATCH]
        identity.verify_batch(batch, horizon, JURISDICTION, sender=compliance)
    batch_request([("anvil_setBalance", [holder, hex(HOLDER_ETH)]) for holder in holders])
    specs = [e.row.to_spec(pool.decimals) for e in synthetic_inventory(2, "S")]
    registry.register(operator, specs, sender=custodian)
    registry.setApprovalForAll(collateral, True, sender=operator)
    for token_id in (1, 2):
        collateral.contribute(token_id, operator, 0, sender=operator)
    stablecoin, vault = pool.stablecoin, pool.vault
    for account, amount in ((funder, HOLDING * len(holders)), (lessee, INSTALMENT * INSTALMENTS)):
        for part in _parts(amount * unit, stablecoin.faucet_cap()):
            stablecoin.faucet(part, sender=account)
        stablecoin.approve(vault, 2**256 - 1, sender=account)
    receipt = pool.leases.open_lease(
        lessee, INSTALMENT * unit, MONTH, INSTALMENTS, 5 * SECONDS_PER_DAY, [1, 2], sender=operator
    )
    return receipt.decode_logs(pool.leases.LeaseOpened)[0].lease_id


def _parts(amount: int, cap: int) -> Iterator[int]:
    while amount > 0:
        yield min(amount, cap)
        amount -= cap


def time_audit(pool: Pool, cache: EventCache | None) -> float:
    """Seconds of `ape run audit`'s work (its start-up aside): rebuild the books, read the chain,
    check every invariant (which must hold), build the report and render every table it prints
    (into a buffer: a terminal's speed is not the audit's)."""
    started = time.perf_counter()
    books = rebuild_books(pool, source=EventSource(cache=cache))
    state = read_chain(pool, books)
    checks = check_invariants(pool, books, state)
    screen = Console(file=StringIO(), width=160)
    for table in audit_tables(pool, books, state, checks, audit_report(pool, books, state, checks)):
        screen.print(table)
    seconds = time.perf_counter() - started
    if failures(checks):
        raise UserError(f"audit of the scale pool: {summary_line(checks)}")
    return seconds


def bench_audit(console: Console, workdir: Path) -> dict[str, float]:
    """The time to build a pool of each of HOLDER_STEPS holders, and its audit's, cold (an empty
    cache of events) and cached (a second audit of the same pool)."""
    seconds: dict[str, float] = {}

    def record(name: str, figure: float) -> None:
        seconds[f"{name}, seconds"] = round(figure, 2)
        console.print(f"{name}: {figure:.2f} s")

    for holders in HOLDER_STEPS:
        pool_name = f"{holders:,} holders x {INSTALMENTS} instalments"
        started = time.perf_counter()
        pool = build_pool(holders, workdir, console)
        record(
            f"build a pool of {pool_name} with transfers and claims", time.perf_counter() - started
        )
        cache = EventCache(workdir / f"events-{holders}.sqlite")
        for run in ("cold", "cached"):
            record(f"audit, {pool_name}, {run}", time_audit(pool, cache))
    return seconds
