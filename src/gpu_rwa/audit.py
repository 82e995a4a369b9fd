"""The auditor's view of a pool: its books rebuilt from events alone, reconciled against the
contracts, and the invariants of ../shared/DOMAIN.md checked with the values compared.

Nothing here trusts the pool's own accounting. Two sides are built and then compared:
- `rebuild_books` replays the logs from the deploy block to the head: cash buckets (vault), fraction
  balances (ERC-20 Transfer; the dead shares are the vault's own balance), identities, and every GPU
  of the pool from the registry (GpuRegistered, GpuStatusChanged, GpuAttested, ERC-721 Transfer)
  and the collateral (GpuContributed, GpuPurchased, GpuCounted, GpuUncounted);
- `read_chain` reads what the contracts say now, at the head block.
`check_invariants` compares them, and recomputes each GPU's collateral value in Python from the
events (`collateral_value_at`: the collateral's curve on its day grid) to compare with
`GpuCollateral.value_of` to the wei, and which counted GPUs are written down (stale, or returning
over the unlock period: entries wait while any is) to compare with `GpuCollateral.written_down`.
Only the pool's fixed parameters (advance rate, staleness window, unlock period, dead shares) are
read from immutables: no event carries them.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from ape import chain
from ape.types import LogFilter
from ape.utils.abi import encode_topics
from eth_utils import encode_hex, keccak
from pydantic import BaseModel
from rich.table import Table

from gpu_rwa.pool import Pool
from gpu_rwa.registry import STATUS_CODES, STATUS_NAMES
from gpu_rwa.types import SECONDS_PER_DAY, ZERO_ADDRESS, floor_day

# Rounding dust the revenue accumulator may leave per account that ever held (contracts/revenue.vy:
# a sub-wei rest each), plus the accumulator's remainder and the floor of the unvested stream.
DUST_PER_HOLDER = 1
DUST_GLOBAL = 2
# Amounts whose round trip through the share price must not gain the caller anything.
ROUND_TRIP_AMOUNTS = (1, 999_999, 10**6, 123_456_789_012, 10**12)

# GpuCollateral and its schedule module (contracts/GpuCollateral.vy, contracts/schedule.vy).
GRID = SECONDS_PER_DAY
PRECISION = 10**18
MAX_LIFE = 50 * 365 * GRID
BPS = 10_000
MAX_MATURE_STEPS = 16
# GpuCollateral position states.
NOT_HELD, COUNTED, HELD_UNCOUNTED = 0, 1, 2
ACTIVE, IMPAIRED, RETIRED = (
    STATUS_CODES["ACTIVE"],
    STATUS_CODES["IMPAIRED"],
    STATUS_CODES["RETIRED"],
)
# Invariants of ../shared/DOMAIN.md whose flows do not exist yet: reported, never pretended.
NOT_YET = {
    10: ("queued redemptions: escrow and reserved cash match the requests", "no redemption queue"),
    12: ("frozen fractions never move but by a recorded forced transfer", "no freeze"),
}


class InvariantCheck(BaseModel):
    """One invariant as the audit found it: the figures compared and the verdict (`passed` is None
    for an invariant whose flow does not exist yet)."""

    number: int
    name: str
    compared: dict[str, int | str | bool]
    passed: bool | None

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "n/a yet"}[self.passed]


def failures(checks: list[InvariantCheck]) -> list[InvariantCheck]:
    return [c for c in checks if c.passed is False]


def entries_line(checks: list[InvariantCheck]) -> str | None:
    """`entries open`, or `entries closed (2 GPU(s) written down)`, from invariant 11's figures
    (None without them)."""
    current = next((c for c in checks if c.number == 11), None)
    if current is None or "entries_open" not in current.compared:
        return None
    if current.compared["entries_open"]:
        return "entries open"
    down = current.compared["written_down"]
    why = f"{down} GPU(s) written down" if down else "maturities due"
    return f"entries closed ({why})"


def summary_line(checks: list[InvariantCheck]) -> str:
    """`all 10 invariants that apply pass (n/a yet: 10, 12); entries open`, or what failed."""
    entries = entries_line(checks)
    tail = f"; {entries}" if entries else ""
    if failed := failures(checks):
        return f"invariant(s) failed: {'; '.join(c.name for c in failed)}{tail}"
    applying = [c for c in checks if c.passed is not None]
    waiting = ", ".join(str(c.number) for c in checks if c.passed is None)
    return (
        f"all {len(applying)} invariants that apply pass"
        + (f" (n/a yet: {waiting})" if waiting else "")
        + tail
    )


# THE COLLATERAL CURVE, RESTATED #


@dataclass(frozen=True)
class Curve:
    """One counted GPU's book value over time, scaled by PRECISION (schedule.vy's `Curve`)."""

    cost: int
    salvage: int
    start: int
    end: int
    since: int
    ramp_end: int
    stale_at: int

    def _fall(self) -> int:
        # The line's slope, rounded up (steeper than the registry's straight line).
        span = self.end - self.start
        return ((self.cost - self.salvage) * PRECISION + span - 1) // span

    def _normal_at(self, t: int) -> int:
        if t >= self.end:
            return self.salvage * PRECISION
        return max(self.cost * PRECISION - self._fall() * (t - self.start), 0)

    def scaled_at(self, t: int) -> int:
        """The segment in force at `t`: nothing once stale, the ramp, the line, then salvage."""
        if t >= self.stale_at:
            return 0
        if t < self.ramp_end:
            rise = self._normal_at(self.ramp_end) // (self.ramp_end - self.since)
            return rise * (t - self.since)
        if t < self.end:
            return self.cost * PRECISION - self._fall() * (t - self.start)
        return self.salvage * PRECISION


def collateral_value_at(curve: Curve, t: int, rate_bps: int) -> int:
    """`GpuCollateral.value_of` at time `t`: the curve, clamped at zero, times the advance rate."""
    scaled = curve.scaled_at(t)
    return 0 if scaled <= 0 else scaled * rate_bps // (BPS * PRECISION)


# THE BOOKS, FROM EVENTS #


@dataclass
class GpuBook:
    """One GPU as the registry's and the collateral's events tell it."""

    token_id: int
    cost: int
    salvage: int
    acquired_at: int
    useful_life: int
    status: int
    last_attested_at: int
    came_in: str | None = None  # "contributed" or "purchased": the flow that brought it in
    state: int = NOT_HELD
    since: int = 0
    ramp_end: int = 0
    stale_at: int = 0

    @property
    def end_of_life(self) -> int:
        return floor_day(self.acquired_at + min(self.useful_life, MAX_LIFE))

    @property
    def position(self) -> tuple[int, int, int, int]:
        """As `GpuCollateral.position(id)` reports it."""
        return self.state, self.since, self.ramp_end, self.stale_at

    def curve(self) -> Curve:
        return Curve(
            cost=self.cost,
            salvage=self.salvage,
            start=self.acquired_at,
            end=self.end_of_life,
            since=self.since,
            ramp_end=self.ramp_end,
            stale_at=self.stale_at,
        )


@dataclass(frozen=True)
class PoolParameters:
    """What no event carries: the pool's immutables."""

    rate_bps: int
    staleness_window: int
    unlock_period: int
    dead_shares: int

    def stale_day(self, attested_at: int) -> int:
        return floor_day(attested_at + self.staleness_window)


def read_parameters(pool: Pool) -> PoolParameters:
    collateral = pool.collateral
    return PoolParameters(
        rate_bps=collateral.ADVANCE_RATE_BPS(),
        staleness_window=collateral.STALENESS_WINDOW(),
        unlock_period=collateral.UNLOCK_PERIOD(),
        dead_shares=pool.vault.DEAD_SHARES(),
    )


@dataclass
class Books:
    """What the events say: cash buckets, fraction balances, identities, the pool's GPUs."""

    parameters: PoolParameters
    vault: str
    free_cash: int = 0
    revenue_received: int = 0
    donations_skimmed: int = 0
    fees_charged: int = 0
    fees_paid: int = 0
    revenue_claimed: int = 0
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    supply: int = 0
    verified_until: dict[str, int] = field(default_factory=dict)
    # Fraction transfers whose receiver had no live verification at that block: (block, address).
    unverified_receipts: list[tuple[int, str]] = field(default_factory=list)
    stablecoin_held: int = 0
    pauses: list[tuple[int, int | None]] = field(default_factory=list)
    transfers_while_paused: int = 0
    cash_out_while_paused: int = 0
    # Every GPU the registry registered (the registry may serve other pools too).
    gpus: dict[int, GpuBook] = field(default_factory=dict)
    # GPUs the collateral holds (registry ERC-721 Transfer events to and from it).
    held: set[int] = field(default_factory=set)
    # GPUs that left the collateral (no flow takes one out yet).
    left: set[int] = field(default_factory=set)
    # Where a GpuCounted disagreed with the registry at its block: "GPU 3: stale day ...".
    position_anomalies: list[str] = field(default_factory=list)

    @property
    def revenue_held(self) -> int:
        return self.revenue_received - self.revenue_claimed

    @property
    def fees_accrued(self) -> int:
        return self.fees_charged - self.fees_paid

    @property
    def dead_shares(self) -> int:
        """The vault's own balance: the fractions locked at the first mint."""
        return self.balances.get(self.vault, 0)

    @property
    def donations(self) -> int:
        """Stablecoin sent to the vault outside its flows and not skimmed yet: in no bucket."""
        return self.stablecoin_held - (self.free_cash + self.revenue_held + self.fees_accrued)

    @property
    def came_in_by_flow(self) -> set[int]:
        return {token_id for token_id, gpu in self.gpus.items() if gpu.came_in}

    @property
    def counted(self) -> list[GpuBook]:
        return [gpu for gpu in self.gpus.values() if gpu.state == COUNTED]

    def written_down(self, t: int) -> list[GpuBook]:
        """The counted GPUs written down at `t` (schedule.vy's `_down`): stale, or on a ramp."""
        return [g for g in self.counted if t >= g.stale_at or t < g.ramp_end]

    @property
    def pool_gpus(self) -> list[GpuBook]:
        """Every GPU the collateral holds, held or ever positioned."""
        ids = self.held | self.left | {i for i, g in self.gpus.items() if g.state or g.came_in}
        return [self.gpus[i] for i in sorted(ids) if i in self.gpus]


def _logs(events: list, addresses: list[str], start: int, stop: int, **topics) -> list:
    """The logs of `events` emitted by `addresses` in blocks [start, stop], in one query (with
    `topics`, of the one event given). Events whose topic0 collides (ERC-20 and ERC-721 Transfer)
    go in separate queries: the logs are decoded by topic0."""
    abis = [event.abi for event in events]
    if topics:
        topic_filter = encode_topics(abis[0], topics)
    else:
        topic_filter = [[encode_hex(keccak(text=abi.selector)) for abi in abis]]
    query = LogFilter(
        addresses=addresses,
        events=abis,
        topic_filter=topic_filter,
        start_block=start,
        stop_block=stop,
    )
    return list(chain.provider.get_contract_logs(query))


class _Timestamps(dict):
    def __missing__(self, block: int) -> int:
        self[block] = chain.blocks[block].timestamp
        return self[block]


def rebuild_books(pool: Pool, parameters: PoolParameters | None = None) -> Books:
    """Replay the pool's events from the deploy block to the head, in chain order."""
    start, stop = pool.manifest.deploy_block or 0, chain.blocks.head.number
    vault, identity, token = pool.vault, pool.identity, pool.stablecoin
    registry, collateral = pool.registry, pool.collateral
    books_events = [
        vault.Deposit,
        vault.Withdraw,
        vault.RevenueDistributed,
        vault.Skimmed,
        vault.RevenueClaimed,
        vault.FeesClaimed,
        vault.Paused,
        vault.Unpaused,
        identity.IdentityVerified,
        identity.IdentityRevoked,
        registry.GpuRegistered,
        registry.GpuStatusChanged,
        registry.GpuAttested,
        collateral.GpuContributed,
        collateral.GpuPurchased,
        collateral.GpuCounted,
        collateral.GpuUncounted,
    ]
    sources = [vault.address, identity.address, registry.address, collateral.address]
    logs = _logs(books_events, sources, start, stop)
    logs += _logs([vault.Transfer], [vault.address], start, stop)
    # Only the transfers that touch the pool: the stablecoin and the registry serve others too.
    for side in ("sender", "receiver"):
        logs += _logs([token.Transfer], [token.address], start, stop, **{side: vault.address})
        logs += _logs(
            [registry.Transfer], [registry.address], start, stop, **{side: collateral.address}
        )
    unique = {(log.block_number, log.log_index): log for log in logs}
    books = Books(parameters=parameters or read_parameters(pool), vault=vault.address)
    timestamps = _Timestamps()
    for key in sorted(unique):
        log = unique[key]
        source = log.contract_address
        if source == token.address:
            _stablecoin_transfer(books, log)
        elif source == identity.address:
            _identity(books, log)
        elif source == registry.address:
            _registry(books, log, collateral.address, timestamps)
        elif source == collateral.address:
            _collateral(books, log, timestamps)
        else:
            _vault(books, log, timestamps)
    books.balances.pop(ZERO_ADDRESS, None)
    return books


def _paused(books: Books) -> bool:
    return bool(books.pauses) and books.pauses[-1][1] is None


def _stablecoin_transfer(books: Books, log) -> None:
    args = log.event_arguments
    if args["receiver"] == books.vault:
        books.stablecoin_held += args["value"]
    if args["sender"] == books.vault:
        books.stablecoin_held -= args["value"]
        if _paused(books):
            books.cash_out_while_paused += 1


def _identity(books: Books, log) -> None:
    args = log.event_arguments
    if log.event_name == "IdentityVerified":
        books.verified_until[args["account"]] = args["expires_at"]
    else:
        books.verified_until.pop(args["account"], None)


def _registry(books: Books, log, collateral: str, timestamps: _Timestamps) -> None:
    name, args = log.event_name, log.event_arguments
    if name == "GpuRegistered":
        # Registration is the first attestation (no GpuAttested for it) and the status is ACTIVE.
        books.gpus[args["token_id"]] = GpuBook(
            token_id=args["token_id"],
            cost=args["acquisition_cost"],
            salvage=args["salvage_value"],
            acquired_at=args["acquired_at"],
            useful_life=args["useful_life"],
            status=ACTIVE,
            last_attested_at=timestamps[log.block_number],
        )
    elif name == "GpuAttested":
        books.gpus[args["token_id"]].last_attested_at = args["attested_at"]
        # An attestation is stamped with its block's time: one block fewer to fetch.
        timestamps.setdefault(log.block_number, args["attested_at"])
    elif name == "GpuStatusChanged":
        books.gpus[args["token_id"]].status = int(args["current"])
    elif name == "Transfer":
        token_id = args["token_id"]
        if args["receiver"] == collateral:
            books.held.add(token_id)
        if args["sender"] == collateral:
            books.held.discard(token_id)
            books.left.add(token_id)


def _collateral(books: Books, log, timestamps: _Timestamps) -> None:
    name, args = log.event_name, log.event_arguments
    gpu = books.gpus[args["token_id"]]
    if name == "GpuContributed":
        gpu.came_in = "contributed"
    elif name == "GpuPurchased":
        gpu.came_in = "purchased"
        books.free_cash -= args["price"]
    elif name == "GpuUncounted":
        gpu.state, gpu.since, gpu.ramp_end, gpu.stale_at = HELD_UNCOUNTED, 0, 0, 0
    elif name == "GpuCounted":
        gpu.state, gpu.since, gpu.ramp_end, gpu.stale_at = (
            COUNTED,
            args["since"],
            args["ramp_end"],
            args["stale_at"],
        )
        # The collateral's curve must follow the registry as it stood in that transaction.
        expected = books.parameters.stale_day(gpu.last_attested_at)
        if gpu.stale_at != expected:
            books.position_anomalies.append(
                f"GPU {gpu.token_id}: stale day {gpu.stale_at}, registry's attestation gives "
                f"{expected} (block {log.block_number})"
            )
        if gpu.since > timestamps[log.block_number]:
            books.position_anomalies.append(
                f"GPU {gpu.token_id}: counted since {gpu.since}, after its block"
            )
        if gpu.status in (IMPAIRED, RETIRED):
            books.position_anomalies.append(
                f"GPU {gpu.token_id}: counted while {STATUS_NAMES[gpu.status]} in the registry"
            )


def _vault(books: Books, log, timestamps: _Timestamps) -> None:
    name, args = log.event_name, log.event_arguments
    if name == "Deposit":
        books.free_cash += args["assets"]
    elif name == "Withdraw":
        books.free_cash -= args["assets"]
    elif name == "RevenueDistributed":
        books.revenue_received += args["amount"] - args["fee"]
        books.fees_charged += args["fee"]
    elif name == "Skimmed":
        books.revenue_received += args["donation"]
        books.donations_skimmed += args["donation"]
    elif name == "RevenueClaimed":
        books.revenue_claimed += args["amount"]
    elif name == "FeesClaimed":
        books.fees_paid += args["amount"]
    elif name == "Paused":
        books.pauses.append((log.block_number, None))
    elif name == "Unpaused":
        books.pauses[-1] = (books.pauses[-1][0], log.block_number)
    elif name == "Transfer":
        sender, receiver, value = args["sender"], args["receiver"], args["value"]
        books.balances[sender] -= value
        books.balances[receiver] += value
        if sender == ZERO_ADDRESS:
            books.supply += value
        if receiver == ZERO_ADDRESS:
            books.supply -= value
        elif (
            # The dead shares minted to the vault itself are the one receipt needing no identity.
            not (receiver == books.vault and sender == ZERO_ADDRESS)
            and books.verified_until.get(receiver, 0) < timestamps[log.block_number]
        ):
            books.unverified_receipts.append((log.block_number, receiver))
        if _paused(books):
            books.transfers_while_paused += 1


# THE CHAIN, NOW #


@dataclass
class ChainState:
    """What the contracts say at the head block (every call reads the same block)."""

    timestamp: int
    supply: int
    balances: dict[str, int]
    claimable: dict[str, int]
    free_cash: int
    collateral_value: int
    total_assets: int
    value_of_supply: int
    received: int
    held: int
    fees: int
    unvested: int
    stablecoin_balance: int
    dead_shares_constant: int
    # GPUs the collateral holds (registry's tokenOfOwnerByIndex); counted (its schedule_state).
    gpus_held: set[int]
    counted: int
    pending: int
    # Counted GPUs stale or returning now (`written_down()`), and whether entries are open.
    written_down: int
    entries_open: bool
    positions: dict[int, tuple[int, int, int, int]]
    value_of: dict[int, int]
    # Registry terms of the pool's GPUs: (status, last attested at).
    registry_terms: dict[int, tuple[int, int]]
    round_trips: list[tuple[int, int]]


def read_chain(pool: Pool, books: Books) -> ChainState:
    vault, collateral, registry = pool.vault, pool.collateral, pool.registry
    accounts = sorted(set(books.balances) | {vault.address})
    held_count = registry.balanceOf(collateral.address)
    gpus_held = {registry.tokenOfOwnerByIndex(collateral.address, i) for i in range(held_count)}
    gpu_ids = sorted(gpus_held | {gpu.token_id for gpu in books.pool_gpus})
    terms = {token_id: registry.terms(token_id) for token_id in gpu_ids}
    supply = vault.totalSupply()
    return ChainState(
        timestamp=chain.blocks.head.timestamp,
        supply=supply,
        balances={a: vault.balanceOf(a) for a in accounts},
        claimable={a: vault.claimable(a) for a in accounts},
        free_cash=vault.free_cash(),
        collateral_value=vault.collateral_value(),
        total_assets=vault.totalAssets(),
        value_of_supply=vault.convertToAssets(supply),
        received=vault.received(),
        held=vault.held(),
        fees=vault.accrued_fees(),
        unvested=vault.unvested(),
        stablecoin_balance=pool.stablecoin.balanceOf(vault.address),
        dead_shares_constant=vault.DEAD_SHARES(),
        gpus_held=gpus_held,
        counted=collateral.schedule_state()[1],
        pending=collateral.pending(),
        written_down=collateral.written_down(),
        entries_open=collateral.entries_open(),
        positions={i: tuple(collateral.position(i)) for i in gpu_ids},
        value_of={i: collateral.value_of(i) for i in gpu_ids},
        registry_terms={i: (t.status, t.last_attested_at) for i, t in terms.items()},
        round_trips=[
            (a, vault.convertToAssets(vault.convertToShares(a))) for a in ROUND_TRIP_AMOUNTS
        ],
    )


# THE INVARIANTS #


def _ids(ids) -> str:
    return ", ".join(str(i) for i in sorted(ids)) or "-"


def recomputed_values(books: Books, at: int) -> dict[int, int]:
    """Each GPU's collateral value at `at`, from the events alone (0 unless counted)."""
    rate = books.parameters.rate_bps
    return {
        gpu.token_id: collateral_value_at(gpu.curve(), at, rate) if gpu.state == COUNTED else 0
        for gpu in books.pool_gpus
    }


def check_invariants(
    pool: Pool, books: Books, state: ChainState | None = None
) -> list[InvariantCheck]:
    """Invariants 1-12 of ../shared/DOMAIN.md for one pool, each with its figures; 10 and 12 are
    reported as not applicable yet (their flows do not exist)."""
    state = state or read_chain(pool, books)
    checks = [check(books, state) for check in CHECKS]
    checks += [
        InvariantCheck(number=number, name=name, compared={"reason": reason}, passed=None)
        for number, (name, reason) in NOT_YET.items()
    ]
    return sorted(checks, key=lambda c: c.number)


def _check(number: int, name: str, passed: bool, **compared) -> InvariantCheck:
    return InvariantCheck(number=number, name=name, compared=compared, passed=passed)


def _holders(books: Books, state: ChainState) -> list[str]:
    """Every account that ever held fractions (an account that left may still be owed revenue)."""
    return sorted(set(books.balances) | set(state.balances))


def supply_check(books: Books, state: ChainState) -> InvariantCheck:
    holders = _holders(books, state)
    on_chain = {h: state.balances.get(h, 0) for h in holders}
    return _check(
        1,
        "fraction balances sum to total supply (dead shares included)",
        sum(on_chain.values()) == state.supply == books.supply
        and all(books.balances.get(h, 0) == on_chain[h] for h in holders)
        and books.dead_shares == (state.dead_shares_constant if books.supply else 0),
        sum_of_balances=sum(on_chain.values()),
        total_supply=state.supply,
        supply_from_events=books.supply,
        holders=sum(1 for h in holders if on_chain[h]),
        dead_shares=books.dead_shares,
        dead_shares_constant=state.dead_shares_constant,
    )


def issuance_check(books: Books, state: ChainState) -> InvariantCheck:
    """The cap is cash plus collateral, so the collateral is recomputed: each GPU's value from
    events against `value_of` to the wei, and the aggregate within [sum - counted, sum]."""
    expected = recomputed_values(books, state.timestamp)
    mismatches = [i for i, v in expected.items() if state.value_of.get(i, 0) != v]
    value_sum = sum(state.value_of.get(i, 0) for i in expected)
    counted = len(books.counted)
    backing = state.free_cash + state.collateral_value
    return _check(
        2,
        "issuance within cash plus collateral at its advance rate (collateral recomputed)",
        state.total_assets == backing
        and state.value_of_supply <= backing
        and not mismatches
        and value_sum - counted <= state.collateral_value <= value_sum,
        value_of_fractions=state.value_of_supply,
        free_cash=state.free_cash,
        collateral_value=state.collateral_value,
        total_assets=state.total_assets,
        sum_of_value_of=value_sum,
        recomputed_from_events=sum(expected.values()),
        gpus_valued=len(expected),
        value_of_mismatches=_ids(mismatches),
        counted=counted,
    )


def revenue_check(books: Books, state: ChainState) -> InvariantCheck:
    holders = _holders(books, state)
    claimable = sum(state.claimable.get(h, 0) for h in holders)
    dust = state.received - books.revenue_claimed - claimable - state.unvested
    return _check(
        3,
        "revenue conserved to the wei (fees taken apart)",
        state.received == books.revenue_received
        and 0 <= dust <= DUST_PER_HOLDER * len(holders) + DUST_GLOBAL,
        received=state.received,
        received_from_events=books.revenue_received,
        donations_skimmed=books.donations_skimmed,
        fees_charged=books.fees_charged,
        claimed=books.revenue_claimed,
        claimable=claimable,
        claimable_by_dead_shares=state.claimable.get(books.vault, 0),
        unvested=state.unvested,
        dust=dust,
    )


def cash_check(books: Books, state: ChainState) -> InvariantCheck:
    buckets = (state.free_cash, state.held, state.fees)
    return _check(
        4,
        "stablecoin held equals the books (plus donations not skimmed yet)",
        state.stablecoin_balance == books.stablecoin_held == sum(buckets) + books.donations
        and books.donations >= 0
        and buckets == (books.free_cash, books.revenue_held, books.fees_accrued),
        stablecoin_balance=state.stablecoin_balance,
        donations=books.donations,
        free_cash=state.free_cash,
        revenue_held=state.held,
        fees_accrued=state.fees,
        free_cash_from_events=books.free_cash,
        revenue_held_from_events=books.revenue_held,
        fees_from_events=books.fees_accrued,
    )


def identity_check(books: Books, state: ChainState) -> InvariantCheck:
    return _check(
        5,
        "fractions only reached verified investors (dead shares aside)",
        not books.unverified_receipts,
        unverified_receipts=len(books.unverified_receipts),
    )


def gpus_check(books: Books, state: ChainState) -> InvariantCheck:
    """Every GPU the collateral holds came in by GpuContributed or GpuPurchased; a GPU sent with a
    plain transfer is held but never counted (reported, not an error); none has left (no flow
    takes one out yet)."""
    by_flow = books.came_in_by_flow
    left_without_flow = (by_flow - state.gpus_held) | books.left
    plain_transfers = state.gpus_held - by_flow
    positions_wrong = [
        i
        for i in by_flow | plain_transfers
        if (state.positions.get(i, (NOT_HELD,))[0] == NOT_HELD) == (i in by_flow)
    ]
    counted = len(books.counted)
    return _check(
        6,
        "every GPU the pool holds came in by a flow that accounts for its value; none left",
        state.gpus_held == books.held
        and not left_without_flow
        and not positions_wrong
        and state.counted == counted,
        gpus_held=len(state.gpus_held),
        gpus_held_from_events=len(books.held),
        came_in_by_flow=len(by_flow),
        held_not_counted_plain_transfer=_ids(plain_transfers),
        left_without_flow=_ids(left_without_flow),
        positions_disagreeing_with_flows=_ids(positions_wrong),
        counted=state.counted,
        counted_from_events=counted,
    )


def rounding_check(books: Books, state: ChainState) -> InvariantCheck:
    return _check(
        7,
        "rounding favours the vault",
        all(back <= amount for amount, back in state.round_trips),
        **{f"round_trip_{amount}": back for amount, back in state.round_trips},
    )


def rebuilt_books_check(books: Books, state: ChainState) -> InvariantCheck:
    gpus = books.pool_gpus
    position_diffs = [g.token_id for g in gpus if state.positions.get(g.token_id) != g.position]
    registry_diffs = [
        g.token_id
        for g in gpus
        if state.registry_terms.get(g.token_id) != (g.status, g.last_attested_at)
    ]
    return _check(
        8,
        "books rebuilt from events match the contracts",
        (books.free_cash, books.revenue_held, books.fees_accrued, books.supply)
        == (state.free_cash, state.held, state.fees, state.supply)
        and not position_diffs
        and not registry_diffs,
        gpu_positions_compared=len(gpus),
        positions_differing=_ids(position_diffs),
        registry_terms_differing=_ids(registry_diffs),
    )


def pause_check(books: Books, state: ChainState) -> InvariantCheck:
    return _check(
        9,
        "paused means paused: no fraction moved and no cash left while paused",
        books.transfers_while_paused == 0 and books.cash_out_while_paused == 0,
        pauses=len(books.pauses),
        transfers_while_paused=books.transfers_while_paused,
        cash_out_while_paused=books.cash_out_while_paused,
    )


def current_prices_check(books: Books, state: ChainState) -> InvariantCheck:
    """No counted GPU is IMPAIRED or RETIRED in the registry, none whose last attestation (from
    the registry's events) is stale still has value, none counts past what its attestation allows,
    and every GpuCounted followed the registry as it stood then. The GPUs written down (stale or
    returning) are recomputed from the positions the events gave and must be the collateral's
    count, and entries must be closed while there are any (nobody buys at a temporary
    write-down). Due maturities are reported: the views count them and a flow matures up to 16
    itself or refuses naming process_maturities."""
    params, now = books.parameters, state.timestamp
    counted = books.counted
    written_down = len(books.written_down(now))
    impaired = [g.token_id for g in counted if g.status in (IMPAIRED, RETIRED)]
    stale = [g for g in counted if params.stale_day(g.last_attested_at) <= now]
    stale_with_value = [g.token_id for g in stale if state.value_of.get(g.token_id, 0)]
    past_attestation = [
        g.token_id for g in counted if g.stale_at > params.stale_day(g.last_attested_at)
    ]
    # A return the hooks deferred (maturities were pending): conservative; `sync` applies it.
    awaiting_sync = [
        g.token_id
        for g in books.pool_gpus
        if g.status not in (IMPAIRED, RETIRED)
        and params.stale_day(g.last_attested_at) > now
        and (
            (g.state == HELD_UNCOUNTED and g.came_in is not None)
            or (g.state == COUNTED and g.stale_at <= now)
        )
    ]
    return _check(
        11,
        "prices current: no stale status, attestation or end of life in the collateral value",
        not impaired
        and not stale_with_value
        and not past_attestation
        and not books.position_anomalies
        and state.written_down == written_down
        and not (state.entries_open and written_down),
        pending_maturities=state.pending,
        flows_mature_them_themselves=state.pending <= MAX_MATURE_STEPS,
        written_down=state.written_down,
        written_down_from_events=written_down,
        entries_open=state.entries_open,
        counted_impaired_or_retired=_ids(impaired),
        stale_counted=len(stale),
        stale_with_value=_ids(stale_with_value),
        counts_past_attestation=_ids(past_attestation),
        position_anomalies="; ".join(books.position_anomalies) or "-",
        awaiting_sync=_ids(awaiting_sync),
        oldest_attestation_age=max((now - g.last_attested_at for g in counted), default=0),
    )


CHECKS = (
    supply_check,
    issuance_check,
    revenue_check,
    cash_check,
    identity_check,
    gpus_check,
    rounding_check,
    rebuilt_books_check,
    pause_check,
    current_prices_check,
)


# TABLES #


def invariants_table(checks: list[InvariantCheck]) -> Table:
    table = Table(title="invariants (../shared/DOMAIN.md)")
    for column in ("#", "invariant", "result", "figures compared"):
        table.add_column(column)
    for check in checks:
        figures = ", ".join(f"{name}={value}" for name, value in check.compared.items())
        table.add_row(str(check.number), check.name, check.verdict, figures)
    return table


def gpu_table(pool: Pool, books: Books, state: ChainState) -> Table:
    """The pool's GPUs as rebuilt from events, beside what the collateral says."""
    expected = recomputed_values(books, state.timestamp)
    states = {NOT_HELD: "-", COUNTED: "counted", HELD_UNCOUNTED: "uncounted"}
    table = Table(title=f"GPUs of the pool: {len(books.pool_gpus)}")
    for column in (
        "id",
        "came in",
        "status",
        "position",
        "attested (days ago)",
        "stale in (days)",
        "value_of",
        "from events",
    ):
        table.add_column(column, justify="left" if column in ("came in", "position") else "right")
    for gpu in books.pool_gpus:
        stale_in = (gpu.stale_at - state.timestamp) / GRID if gpu.state == COUNTED else None
        table.add_row(
            str(gpu.token_id),
            gpu.came_in or "plain transfer",
            STATUS_NAMES.get(gpu.status, str(gpu.status)),
            states[gpu.state],
            f"{(state.timestamp - gpu.last_attested_at) / GRID:.1f}",
            "-" if stale_in is None else f"{stale_in:.1f}",
            pool.cash(state.value_of.get(gpu.token_id, 0)),
            pool.cash(expected[gpu.token_id]),
        )
    return table
