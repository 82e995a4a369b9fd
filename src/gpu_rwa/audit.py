"""The auditor's view of a pool: its books rebuilt from events alone, reconciled against the
contracts, and the invariants of ../shared/DOMAIN.md checked with the values compared.

Nothing here trusts the pool's own accounting. Two sides are built and then compared:
- `rebuild_books` replays the logs from the deploy block to the head: cash buckets (vault), fraction
  balances (ERC-20 Transfer; the vault's own balance is the dead shares plus the redemption
  escrow), identities, every GPU of the pool from the registry (GpuRegistered, GpuStatusChanged,
  GpuAttested, ERC-721 Transfer, and its COLLATERAL_ROLE grants that decide whether the collateral
  hears of a status change), the collateral (GpuContributed, GpuAdmitted, GpuReleased,
  GpuRevalued, GpuCounted, GpuUncounted, WindDownStarted) and the appraisals (GpuMarked,
  MarkSettled), the trades that move a GPU in or out for
  cash or in an RMA matched transaction by transaction (the market's GpuPurchased and GpuSold, the
  LeaseManager's GpuReplaced, the vault's skim of a sale's gain), and the RedemptionQueue request by
  request
  (RedeemRequest, RedeemFulfilled, CancelRedeemRequest, CancelRedeemClaim, its Withdraw claims,
  Swept), each escrow move and settlement matched to the vault's Transfer and Withdraw of the same
  transaction;
- `read_chain` reads what the contracts say at the last block replayed (every figure at that
  one block).
`check_invariants` compares them, and recomputes each GPU's collateral value in Python from the
events (`collateral_value_at`: the collateral's curve on its day grid) to compare with
`GpuCollateral.value_of` to the wei, which counted GPUs are written down (stale, or returning
over the unlock period) to compare with `GpuCollateral.written_down`, and which GPUs are held down
to compare with `GpuCollateral.held_down`: each GPU held that turned IMPAIRED while counted and has
neither counted again nor been retired, and each whose last mark stood below the registry's
straight-line book value at the mark's time (GpuMarked, a default's too) while its marks were not
settled (MarkSettled), or that a restore marked a step up (its GpuRevalued with no appraisal);
both end when the GPU leaves. Entries must be open exactly when none is written down or held
down, at most 16 maturities are due and the pool is not winding down.
The queue's books (per controller: pending, claimable shares and assets, cancelled; the escrow, the
reserve and the order of the queue) are compared with the queue's views, and each controller's
`maxRedeem`/`maxWithdraw` is claimed in a simulated call (eth_call) to see that a "max" claim pays
exactly what the other view says and leaves nothing behind. Only the pool's fixed parameters
(advance rate, staleness window, unlock period, dead shares) are read from immutables: no event
carries them.
"""

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from ape import chain
from eth_utils import keccak, to_checksum_address
from pydantic import BaseModel, Field
from rich.table import Table

from gpu_rwa.chain import genesis_hash
from gpu_rwa.events import BlockTimes, Event, EventSource, LogQuery, merged, topic_of
from gpu_rwa.leases import LEASE_STATUS_NAMES
from gpu_rwa.pool import Pool
from gpu_rwa.registry import STATUS_CODES, STATUS_NAMES
from gpu_rwa.rpc import BlockReader, ContractCall
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
# The registry calls the status hook of an owner holding this role (GpuRegistry.COLLATERAL_ROLE).
COLLATERAL_ROLE = keccak(text="COLLATERAL_ROLE")
# The units of the figures an invariant compares (`InvariantCheck.units`).
CASH, FRACTIONS = "cash", "fractions"
# The RedemptionQueue's page size (`requests`, contracts/RedemptionQueue.vy).
QUEUE_PAGE = 64


class InvariantCheck(BaseModel):
    """One invariant as the audit found it: the figures compared and the verdict."""

    number: int
    name: str
    compared: dict[str, int | str | bool]
    # The unit of each figure that is an amount (base units in `compared`): "cash" (the
    # stablecoin) or "fractions"; counts, ids and flags have none.
    units: dict[str, Literal["cash", "fractions"]] = Field(default_factory=dict)
    passed: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


def failures(checks: list[InvariantCheck]) -> list[InvariantCheck]:
    return [c for c in checks if not c.passed]


def entries_line(checks: list[InvariantCheck]) -> str | None:
    """`entries open`, or `entries closed (2 GPU(s) written down, 1 held down)`, from invariant
    11's figures (None without them)."""
    current = next((c for c in checks if c.number == 11), None)
    if current is None or "entries_open" not in current.compared:
        return None
    figures = current.compared
    if figures["entries_open"]:
        return "entries open"
    if figures.get("winding_down"):
        return "entries closed (winding down)"
    down, held = figures["written_down"], figures.get("held_down", 0)
    counts = ((down, f"{down} GPU(s) written down"), (held, f"{held} held down"))
    why = ", ".join(text for count, text in counts if count)
    return f"entries closed ({why or 'maturities due'})"


def summary_line(checks: list[InvariantCheck]) -> str:
    """`all 12 invariants pass; entries open`, or what failed."""
    entries = entries_line(checks)
    tail = f"; {entries}" if entries else ""
    if failed := failures(checks):
        return f"invariant(s) failed: {'; '.join(c.name for c in failed)}{tail}"
    return f"all {len(checks)} invariants pass{tail}"


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
    # Book value (unscaled) the ramp starts from at `since`: 0, or where a rising mark found it.
    ramp_from: int = 0

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
            # Towards minus infinity (Python's floor division), as schedule.vy rounds the rise.
            base = self.ramp_from * PRECISION
            rise = (self._normal_at(self.ramp_end) - base) // (self.ramp_end - self.since)
            return base + rise * (t - self.since)
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
    # The flow that brought it in: "contributed", "purchased" or "swapped in" (an RMA
    # replacement); the flow that took it out: "sold" or "swapped out" (None while held).
    came_in: str | None = None
    went_out: str | None = None
    state: int = NOT_HELD
    since: int = 0
    ramp_end: int = 0
    stale_at: int = 0
    ramp_from: int = 0
    # The appraiser's last mark (book value, time; GpuRevalued), None: the registry's cost line.
    mark: tuple[int, int] | None = None
    # The transaction of the last GpuRevalued and where the GPU stood before it (the ramp of a
    # rising mark starts there).
    revalued_in: str = ""
    revalued_from: int = 0
    # The collateral's two holds on entries (each counts once in `held_down`): below its line by
    # a mark that may be raised again, and impaired (until restored or retired).
    held_below_line: bool = False
    held_impaired: bool = False
    # The transaction of a GpuRevalued no appraisal or restore has accounted for yet.
    revalue_unexplained: str = ""

    @property
    def end_of_life(self) -> int:
        return floor_day(self.acquired_at + min(self.useful_life, MAX_LIFE))

    @property
    def holds(self) -> int:
        return self.held_below_line + self.held_impaired

    def registry_book_value(self, t: int) -> int:
        """`GpuRegistry.book_value_at(id, t)` with the status it has now in the replay: straight
        line from cost to salvage over the useful life, depreciation rounded up; 0 once
        RETIRED."""
        if self.status == RETIRED:
            return 0
        if t <= self.acquired_at:
            return self.cost
        elapsed = t - self.acquired_at
        if elapsed >= self.useful_life:
            return self.salvage
        return self.cost - -(-(self.cost - self.salvage) * elapsed // self.useful_life)

    @property
    def position(self) -> tuple[int, int, int, int]:
        """As `GpuCollateral.position(id)` reports it."""
        return self.state, self.since, self.ramp_end, self.stale_at

    @property
    def held_by_flow(self) -> bool:
        return self.came_in is not None and self.went_out is None

    def curve(self) -> Curve:
        """The registry's cost line, or after a mark the line from the mark down to at most the
        salvage value at the same end of life."""
        cost, start, salvage = self.cost, self.acquired_at, self.salvage
        if self.mark is not None:
            cost, start = self.mark
            salvage = min(salvage, cost)
        return Curve(
            cost=cost,
            salvage=salvage,
            start=start,
            end=self.end_of_life,
            since=self.since,
            ramp_end=self.ramp_end,
            stale_at=self.stale_at,
            ramp_from=self.ramp_from,
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
class RequestBook:
    """One redemption request as the queue's events tell it."""

    request_id: int
    controller: str
    shares: int
    # Shares still pending: the request less what was fulfilled, 0 once fulfilled or cancelled.
    pending: int
    cancelled: bool = False

    @property
    def open(self) -> bool:
        return self.pending != 0


@dataclass
class ControllerBook:
    """One controller's totals, as `RedemptionQueue.controller_state` reports them."""

    pending: int = 0
    open_requests: int = 0
    claimable_shares: int = 0
    claimable_assets: int = 0
    cancelled: int = 0

    @property
    def state(self) -> tuple[int, int, int, int, int]:
        return (
            self.pending,
            self.open_requests,
            self.claimable_shares,
            self.claimable_assets,
            self.cancelled,
        )


@dataclass
class QueueBooks:
    """The RedemptionQueue's books from its events, with the vault's side of each move: the escrow
    (the vault's own fractions beyond its dead shares) and the reserve (the queue's stablecoin)."""

    address: str = ZERO_ADDRESS
    vault: str = ZERO_ADDRESS
    requests: dict[int, RequestBook] = field(default_factory=dict)
    controllers: dict[str, ControllerBook] = field(
        default_factory=lambda: defaultdict(ControllerBook)
    )
    # Lifetime sums of the events' amounts.
    requested: int = 0
    fulfilled_shares: int = 0
    fulfilled_assets: int = 0
    cancelled_total: int = 0
    claimed_back: int = 0
    claimed_assets: int = 0
    swept: int = 0
    # The vault's settlements (Withdraw whose owner is the vault and whose receiver the queue).
    settled_shares: int = 0
    settled_assets: int = 0
    # The queue's stablecoin, from the token's Transfer events.
    stablecoin_held: int = 0
    # Escrow moves a queue event announced, waiting for the vault's Transfer in the same
    # transaction: (transaction, sender, receiver, shares).
    expected_moves: list[tuple[str, str, str, int]] = field(default_factory=list)
    # Per transaction: shares and assets fulfilled, and escrow burnt by the vault.
    fulfilled_in: dict[str, list[int]] = field(default_factory=dict)
    burnt_in: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Open request ids, oldest first (a fulfilment must take the oldest).
    _heap: list[int] = field(default_factory=list)
    # What disagreed while replaying: "request 3: fulfilled out of order (block 120)".
    anomalies: list[str] = field(default_factory=list)

    @property
    def escrowed(self) -> int:
        """sum(RedeemRequest.shares) - sum(RedeemFulfilled.shares)
        - sum(CancelRedeemClaim.shares)."""
        return self.requested - self.fulfilled_shares - self.claimed_back

    @property
    def reserve(self) -> int:
        """sum(RedeemFulfilled.assets) - sum(the queue's Withdraw.assets)."""
        return self.fulfilled_assets - self.claimed_assets

    @property
    def donations(self) -> int:
        """Stablecoin sent to the queue outside its flows and not swept yet."""
        return self.stablecoin_held - self.reserve

    @property
    def open_requests(self) -> list[RequestBook]:
        """Pending requests in queue order (first in, first out)."""
        return [r for _, r in sorted(self.requests.items()) if r.open]

    @property
    def pending(self) -> int:
        return sum(r.pending for r in self.requests.values())

    @property
    def cancelled(self) -> int:
        return sum(c.cancelled for c in self.controllers.values())

    @property
    def claimable_assets(self) -> int:
        return sum(c.claimable_assets for c in self.controllers.values())

    def oldest_open(self) -> int | None:
        while self._heap and not self.requests[self._heap[0]].open:
            heapq.heappop(self._heap)
        return self._heap[0] if self._heap else None


@dataclass
class Moves:
    """What one transaction logged of the flows that move a GPU in or out of the pool."""

    block: int
    # ERC-721 transfers out of the collateral: (token id, receiver).
    exits: list[tuple[int, str]] = field(default_factory=list)
    # The collateral's GpuReleased: token id -> (to, price, value, to_cash, the to_cash expected).
    released: dict[int, tuple[str, int, int, int, int]] = field(default_factory=dict)
    # The collateral's GpuAdmitted: token id -> (price, value).
    admitted: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The market's GpuSold: token id -> (buyer, price, value, floor); GpuPurchased: -> (price,
    # value).
    sold: dict[int, tuple[str, int, int, int]] = field(default_factory=dict)
    purchased: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The LeaseManager's GpuReplaced: failed -> (replacement, value out, value in).
    replaced: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    # The vault's Skimmed donations in the transaction.
    skimmed: int = 0


@dataclass
class Books:
    """What the events say: cash buckets, fraction balances, identities, the pool's GPUs, the
    redemption queue."""

    parameters: PoolParameters
    vault: str
    queue: QueueBooks = field(default_factory=QueueBooks)
    # The last block replayed: `read_chain` reads the contracts at it (None: at the head).
    block: int | None = None
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
    # GPUs that left the collateral (registry Transfer events from it), and those of them whose
    # every exit a flow accounted for in its transaction (a sale or an RMA: `_match_moves`).
    left: set[int] = field(default_factory=set)
    released: set[int] = field(default_factory=set)
    # Per transaction, what the flows moving GPUs in and out logged (matched after the replay).
    moves: dict[str, Moves] = field(default_factory=dict)
    # A flow that moved a GPU without accounting for its value: "GPU 3 left ... (block 120)".
    move_anomalies: list[str] = field(default_factory=list)
    # Sales (and their price at or above the floor), and the gains over the collateral value they
    # streamed to holders (part of the vault's Skimmed, not a donation).
    sales: int = 0
    sales_below_floor: int = 0
    sale_gains: int = 0
    winding_down: bool = False
    # Where a GpuCounted disagreed with the registry at its block: "GPU 3: stale day ...".
    position_anomalies: list[str] = field(default_factory=list)
    # GPUs whose marks the pool's GpuAppraisals settled (MarkSettled): for good, in this pool.
    settled: set[int] = field(default_factory=set)
    # Whether the registry calls the collateral's hooks (it holds COLLATERAL_ROLE there).
    collateral_notified: bool = False
    # Where the events do not tell a hold: "GPU 3 revalued by no appraisal ... (transaction 0x..)".
    hold_anomalies: list[str] = field(default_factory=list)
    # Freezes (invariant 12): each account's frozen fractions (the vault's Frozen), the accounts
    # frozen entirely (the PoolCompliance's FreezeUpdated and WalletRecovered), the moves out of
    # a freeze (transaction, sender, receiver, fractions) and the forced transfers recorded.
    frozen: dict[str, int] = field(default_factory=dict)
    frozen_entirely: set[str] = field(default_factory=set)
    moves_out_of_freeze: list[tuple[str, str, str, int]] = field(default_factory=list)
    forced: set[tuple[str, str, str, int]] = field(default_factory=set)

    @property
    def frozen_moves_unrecorded(self) -> list[tuple[str, str, str, int]]:
        """Frozen fractions moved by no recorded forced transfer or recovery."""
        return [move for move in self.moves_out_of_freeze if move not in self.forced]

    @property
    def revenue_held(self) -> int:
        return self.revenue_received - self.revenue_claimed

    @property
    def fees_accrued(self) -> int:
        return self.fees_charged - self.fees_paid

    @property
    def dead_shares(self) -> int:
        """The vault's own balance less the redemption escrow: the fractions locked at the first
        mint."""
        return self.balances.get(self.vault, 0) - self.queue.escrowed

    @property
    def donations(self) -> int:
        """Stablecoin sent to the vault outside its flows and not skimmed yet: in no bucket."""
        return self.stablecoin_held - (self.free_cash + self.revenue_held + self.fees_accrued)

    @property
    def came_in_by_flow(self) -> set[int]:
        """GPUs a flow brought in and no flow took out."""
        return {token_id for token_id, gpu in self.gpus.items() if gpu.held_by_flow}

    def went_out(self, flow: str) -> set[int]:
        return {token_id for token_id, gpu in self.gpus.items() if gpu.went_out == flow}

    @property
    def counted(self) -> list[GpuBook]:
        return [gpu for gpu in self.gpus.values() if gpu.state == COUNTED]

    def written_down(self, t: int) -> list[GpuBook]:
        """The counted GPUs written down at `t` (schedule.vy's `_down`): stale, or on a ramp."""
        return [g for g in self.counted if t >= g.stale_at or t < g.ramp_end]

    @property
    def held_down(self) -> int:
        """The holds on entries (`GpuCollateral.held_down`): a GPU may count for two."""
        return sum(gpu.holds for gpu in self.gpus.values())

    @property
    def pool_gpus(self) -> list[GpuBook]:
        """Every GPU the collateral holds, held or ever positioned."""
        ids = self.held | self.left | {i for i, g in self.gpus.items() if g.state or g.came_in}
        return [self.gpus[i] for i in sorted(ids) if i in self.gpus]


# Sees the books and one log (with its block's time) before the books take the log in.
Observer = Callable[["Books", Event, int], None]


def pool_queries(pool: Pool) -> list[LogQuery]:
    """The eth_getLogs filters of the audit, each naming its contracts: the pool's own events,
    the registry's role changes, the fractions' Transfers, the queue's events (its Withdraw
    shares its topic with the vault's), and the Transfers of the two contracts that serve more
    than the pool narrowed to the pool's side: the stablecoin's from or to the vault or the
    queue, the registry's GPUs from or to the collateral."""
    vault, identity, token = pool.vault, pool.identity, pool.stablecoin
    registry, collateral, queue = pool.registry, pool.collateral, pool.queue
    market, leases, appraisals = pool.market, pool.leases, pool.appraisals
    books_events = (
        vault.Deposit,
        vault.Withdraw,
        vault.RevenueDistributed,
        vault.Skimmed,
        vault.RevenueClaimed,
        vault.FeesClaimed,
        vault.Paused,
        vault.Unpaused,
        vault.Frozen,
        vault.ForcedTransfer,
        pool.compliance.FreezeUpdated,
        pool.compliance.WalletRecovered,
        identity.IdentityVerified,
        identity.IdentityRevoked,
        registry.GpuRegistered,
        registry.GpuStatusChanged,
        registry.GpuAttested,
        collateral.GpuContributed,
        collateral.GpuAdmitted,
        collateral.GpuReleased,
        collateral.GpuRevalued,
        collateral.GpuCounted,
        collateral.GpuUncounted,
        collateral.WindDownStarted,
        market.GpuPurchased,
        market.GpuSold,
        leases.GpuReplaced,
        appraisals.GpuMarked,
        appraisals.MarkSettled,
    )
    queue_events = (
        queue.RedeemRequest,
        queue.RedeemFulfilled,
        queue.CancelRedeemRequest,
        queue.CancelRedeemClaim,
        queue.Withdraw,
        queue.Swept,
    )
    sources = (vault, identity, registry, collateral, market, leases, appraisals, pool.compliance)
    pool_side = [topic_of(vault.address), topic_of(queue.address)]
    collateral_side = [topic_of(collateral.address)]
    return [
        LogQuery(tuple(c.address for c in sources), tuple(e.abi for e in books_events)),
        # Every contract of the pool logs role changes: only the registry's matter here.
        LogQuery((registry.address,), (registry.RoleGranted.abi, registry.RoleRevoked.abi)),
        LogQuery((vault.address,), (vault.Transfer.abi,)),
        LogQuery((queue.address,), tuple(e.abi for e in queue_events)),
        LogQuery((token.address,), (token.Transfer.abi,), (pool_side,)),
        LogQuery((token.address,), (token.Transfer.abi,), (None, pool_side)),
        LogQuery((registry.address,), (registry.Transfer.abi,), (collateral_side,)),
        LogQuery((registry.address,), (registry.Transfer.abi,), (None, collateral_side)),
    ]


# Events whose handlers read their block's time, beside the fraction Transfers (`_needs_time`).
TIMED_EVENTS = frozenset({"GpuRegistered", "GpuRevalued", "GpuCounted", "GpuMarked"})


def _needs_time(log: Event, vault: str) -> bool:
    return log.event_name in TIMED_EVENTS or (
        log.event_name == "Transfer" and log.contract_address == vault
    )


def rebuild_books(
    pool: Pool,
    parameters: PoolParameters | None = None,
    observe: Observer | None = None,
    source: EventSource | None = None,
) -> Books:
    """Replay the pool's events from the deploy block to the head, in chain order, from `source`
    (the node, with no cache, by default). `observe` (charts, statements: `gpu_rwa.history`)
    sees each log, with its block's time, just before the books take it in."""
    source = source or EventSource()
    start = pool.manifest.deploy_block or 0
    head = chain.blocks.head
    stop = head.number
    vault, identity, token = pool.vault, pool.identity, pool.stablecoin
    registry, collateral, queue = pool.registry, pool.collateral, pool.queue
    market, leases, appraisals = pool.market, pool.leases, pool.appraisals
    logs = merged([source.logs(query, start, stop) for query in pool_queries(pool)])
    books = Books(
        parameters=parameters or read_parameters(pool),
        vault=vault.address,
        queue=QueueBooks(address=queue.address, vault=vault.address),
        block=stop,
    )
    timestamps = BlockTimes(
        (
            log.block_number
            for log in logs
            if observe is not None or _needs_time(log, vault.address)
        ),
        stop,
        head.timestamp,
    )
    for log in logs:
        if observe is not None:
            observe(books, log, timestamps[log.block_number])
        emitter = log.contract_address
        if emitter == token.address:
            _stablecoin_transfer(books, log)
        elif emitter == queue.address:
            _queue(books.queue, log)
        elif emitter == identity.address:
            _identity(books, log)
        elif emitter == registry.address:
            _registry(books, log, collateral.address, timestamps)
        elif emitter == collateral.address:
            _collateral(books, log, timestamps)
        elif emitter in (market.address, leases.address):
            _trade(books, log)
        elif emitter == appraisals.address:
            _appraisal(books, log, timestamps)
        elif emitter == pool.compliance.address:
            _compliance(books, log)
        else:
            _vault(books, log, timestamps)
    for gpu in books.gpus.values():
        _explain_revalue(books, gpu, "")
    books.balances.pop(ZERO_ADDRESS, None)
    _match_moves(books)
    queue = books.queue
    queue.anomalies += [
        f"{shares} fractions {sender} -> {receiver} announced by the queue, no vault Transfer "
        f"(transaction {tx})"
        for tx, sender, receiver, shares in queue.expected_moves
    ]
    queue.anomalies += [
        f"{shares} fractions fulfilled for {assets}, no settlement by the vault (transaction {tx})"
        for tx, (shares, assets) in queue.fulfilled_in.items()
    ]
    queue.anomalies += [
        f"{shares} fractions burnt from the vault, no settlement (transaction {tx})"
        for tx, shares in queue.burnt_in.items()
    ]
    return books


def _paused(books: Books) -> bool:
    return bool(books.pauses) and books.pauses[-1][1] is None


def _stablecoin_transfer(books: Books, log) -> None:
    args = log.event_arguments
    sender, receiver, value = args["sender"], args["receiver"], args["value"]
    queue = books.queue
    if receiver == books.vault:
        books.stablecoin_held += value
    if receiver == queue.address:
        queue.stablecoin_held += value
    if sender == books.vault:
        books.stablecoin_held -= value
    if sender == queue.address:
        queue.stablecoin_held -= value
    # Cash leaving the pool (a sweep from the queue to the vault stays in it).
    leaves = sender == books.vault or (sender == queue.address and receiver != books.vault)
    if leaves and _paused(books):
        books.cash_out_while_paused += 1


def _identity(books: Books, log) -> None:
    args = log.event_arguments
    if log.event_name == "IdentityVerified":
        books.verified_until[args["account"]] = args["expires_at"]
    else:
        books.verified_until.pop(args["account"], None)


def _registry(books: Books, log, collateral: str, timestamps: BlockTimes) -> None:
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
        # The custodians' signed time, at most its block's (not the block's time itself).
        books.gpus[args["token_id"]].last_attested_at = args["attested_at"]
    elif name == "GpuStatusChanged":
        gpu = books.gpus[args["token_id"]]
        gpu.status = int(args["current"])
        if gpu.status == RETIRED and gpu.state == HELD_UNCOUNTED and books.collateral_notified:
            # The collateral's hook ends an uncounted GPU's holds when it is retired (for good:
            # nothing of it comes back), with no event of its own.
            gpu.held_below_line = gpu.held_impaired = False
    elif name in ("RoleGranted", "RoleRevoked"):
        if args["role"] == COLLATERAL_ROLE and args["account"] == collateral:
            books.collateral_notified = name == "RoleGranted"
    elif name == "Transfer":
        token_id = args["token_id"]
        if args["receiver"] == collateral:
            books.held.add(token_id)
        if args["sender"] == collateral:
            books.held.discard(token_id)
            books.left.add(token_id)
            _moves(books, log).exits.append((token_id, args["receiver"]))


def _collateral(books: Books, log, timestamps: BlockTimes) -> None:
    name, args = log.event_name, log.event_arguments
    if name == "WindDownStarted":
        books.winding_down = True
        return
    gpu = books.gpus[args["token_id"]]
    if name == "GpuContributed":
        gpu.came_in, gpu.went_out = "contributed", None
    elif name == "GpuAdmitted":
        # Bought with free cash from an owner who accepted an offer, or an RMA replacement (0).
        gpu.came_in, gpu.went_out = ("purchased" if args["price"] else "swapped in"), None
        books.free_cash -= args["price"]
        _moves(books, log).admitted[gpu.token_id] = (args["price"], args["value"])
    elif name == "GpuReleased":
        # Sold (the price paid in, `to_cash` of it into free cash, the rest skimmed to holders in
        # the same transaction), or an RMA'd GPU handed back for nothing.
        gpu.went_out = "sold" if args["price"] else "swapped out"
        books.free_cash += args["to_cash"]
        # In wind-down all of the price enters free cash; otherwise up to the collateral value.
        expected = args["price"] if books.winding_down else min(args["price"], args["value"])
        _moves(books, log).released[gpu.token_id] = (
            args["to"],
            args["price"],
            args["value"],
            args["to_cash"],
            expected,
        )
        gpu.state, gpu.since, gpu.ramp_end, gpu.stale_at, gpu.ramp_from = NOT_HELD, 0, 0, 0, 0
        gpu.mark = None
        gpu.held_below_line = gpu.held_impaired = False
    elif name == "GpuRevalued":
        gpu.mark = (args["book_value"], timestamps[log.block_number])
        gpu.revalued_in, gpu.revalued_from = log.transaction_hash, args["previous"]
        # Its hold flag is in no event: the appraisal logged after it, or the restore's
        # GpuCounted, tells it (`_appraisal`, `_counted_again`).
        _explain_revalue(books, gpu, "")
        gpu.revalue_unexplained = log.transaction_hash
    elif name == "GpuUncounted":
        gpu.state, gpu.since, gpu.ramp_end, gpu.stale_at = HELD_UNCOUNTED, 0, 0, 0
        gpu.ramp_from = 0
        # IMPAIRED holds entries until the GPU counts again (a below-line hold stays); RETIRED
        # ends both.
        gpu.held_impaired = args["status"] == IMPAIRED
        gpu.held_below_line &= gpu.held_impaired
    elif name == "GpuCounted":
        if gpu.state == HELD_UNCOUNTED:
            _counted_again(gpu, log)
        # A rising mark's ramp starts where the GPU stood (GpuRevalued.previous, same
        # transaction); a moved stale day keeps the curve; any other (re)count starts from 0.
        if gpu.revalued_in == log.transaction_hash:
            ramp_from = gpu.revalued_from
        elif gpu.state == COUNTED and args["since"] == gpu.since:
            ramp_from = gpu.ramp_from
        else:
            ramp_from = 0
        gpu.state, gpu.since, gpu.ramp_end, gpu.stale_at, gpu.ramp_from = (
            COUNTED,
            args["since"],
            args["ramp_end"],
            args["stale_at"],
            ramp_from,
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


def _counted_again(gpu: GpuBook, log) -> None:
    """A GPU uncounted while IMPAIRED counts again (restored): that hold ends. A step mark stored
    on the way (the restore's GpuRevalued of this transaction, no appraisal's) holds it below
    its line, settled or not."""
    gpu.held_impaired = False
    if gpu.revalue_unexplained == log.transaction_hash:
        gpu.held_below_line = True
        gpu.revalue_unexplained = ""


def _appraisal(books: Books, log, timestamps: BlockTimes) -> None:
    """GpuAppraisals' GpuMarked (`mark`, `mark_default`) and MarkSettled: the hold flag it gave
    the collateral's revalue just before (GpuAppraisals._hold): held below the line iff the mark
    is below the registry's straight-line book value in its block and the GPU's marks are not
    settled; a settlement holds nothing and settles them for good."""
    name, args = log.event_name, log.event_arguments
    if name not in ("GpuMarked", "MarkSettled"):
        return
    gpu = books.gpus[args["token_id"]]
    _explain_revalue(books, gpu, log.transaction_hash)
    if name == "MarkSettled":
        books.settled.add(gpu.token_id)
        gpu.held_below_line = False
        return
    line = gpu.registry_book_value(timestamps[log.block_number])
    gpu.held_below_line = args["book_value"] < line and gpu.token_id not in books.settled


def _explain_revalue(books: Books, gpu: GpuBook, tx: str) -> None:
    """Account for the GPU's last GpuRevalued by an appraisal of transaction `tx` ("": by none):
    one left over was sent by another holder of the collateral's APPRAISALS_ROLE, with a hold
    flag no event records."""
    if gpu.revalue_unexplained and gpu.revalue_unexplained != tx:
        books.hold_anomalies.append(
            f"GPU {gpu.token_id} revalued by no appraisal of the pool's GpuAppraisals nor a "
            f"restore (transaction {gpu.revalue_unexplained}): its hold flag is in no event"
        )
    gpu.revalue_unexplained = ""


def _moves(books: Books, log) -> Moves:
    """The moves of `log`'s transaction (recorded as they come)."""
    return books.moves.setdefault(log.transaction_hash, Moves(block=log.block_number))


def _trade(books: Books, log) -> None:
    """The market's GpuPurchased / GpuSold, the LeaseManager's GpuReplaced: the terms of a move
    the collateral's GpuAdmitted / GpuReleased of the same transaction must agree with."""
    name, args, moves = log.event_name, log.event_arguments, _moves(books, log)
    if name == "GpuPurchased":
        moves.purchased[args["token_id"]] = (args["price"], args["value"])
    elif name == "GpuSold":
        moves.sold[args["token_id"]] = (args["buyer"], args["price"], args["value"], args["floor"])
        books.sales += 1
        books.sales_below_floor += args["price"] < args["floor"]
    elif name == "GpuReplaced":
        moves.replaced[args["failed"]] = (args["replacement"], args["value_out"], args["value_in"])


def _match_moves(books: Books) -> None:
    """Invariant 6 from the events, transaction by transaction. A GPU leaves the collateral only
    with a GpuReleased to its receiver, and either the market's GpuSold of the same price and
    value at no less than its floor (the price into free cash up to the value, or all of it in
    wind-down, the rest skimmed to holders in the same transaction), or an RMA: the
    LeaseManager's GpuReplaced with the same value out, its replacement admitted at a value of at
    least that. A GPU comes in for cash only at the market's purchase (same price and value), or
    for nothing as an RMA replacement."""
    anomalies = books.move_anomalies
    for moves in books.moves.values():
        where = f"(block {moves.block})"
        for token_id, receiver in moves.exits:
            why = _exit_unaccounted(moves, token_id, receiver)
            if why is None:
                books.released.add(token_id)
            else:
                anomalies.append(f"GPU {token_id} left the pool {why} {where}")
        gains = sum(r[1] - r[3] for r in moves.released.values())
        if moves.skimmed < gains:
            anomalies.append(f"a sale's gain of {gains} was not streamed to holders {where}")
        for token_id, (price, value) in moves.admitted.items():
            bought = moves.purchased.get(token_id)
            replacing = any(r[0] == token_id for r in moves.replaced.values())
            if (price or not replacing) and bought != (price, value):
                anomalies.append(
                    f"GPU {token_id} came in for {price} with no purchase of the market to match "
                    f"(it logged {bought}) {where}"
                )


def _exit_unaccounted(moves: Moves, token_id: int, receiver: str) -> str | None:
    """Why one exit is not accounted for by its transaction's flows (None: it is)."""
    released = moves.released.get(token_id)
    if released is None:
        return "with no GpuReleased"
    to, price, value, to_cash, expected = released
    if to != receiver:
        return f"to {receiver}, GpuReleased named {to}"
    if token_id in moves.sold:
        buyer, sold_price, sold_value, floor = moves.sold[token_id]
        if (buyer, sold_price, sold_value) != (to, price, value):
            return f"sold as {(buyer, sold_price, sold_value)}, released as {(to, price, value)}"
        if price < floor:
            return f"sold for {price}, below its floor of {floor}"
        if to_cash != expected:
            return f"sold for {price}: {to_cash} into free cash, {expected} expected"
        return None
    if token_id in moves.replaced:
        replacement, value_out, value_in = moves.replaced[token_id]
        admitted = moves.admitted.get(replacement)
        if price or value_out != value:
            return f"in an RMA, released for {price} at {value}, GpuReplaced says {value_out}"
        if admitted is None or admitted[1] != value_in or value_in < value_out:
            return f"in an RMA for GPU {replacement}, admitted as {admitted}, worth {value_in}"
        return None
    return "with neither a sale nor an RMA"


def _queue(queue: QueueBooks, log) -> None:
    """One RedemptionQueue event: the request's and its controller's books, and what the vault
    must show in the same transaction (escrow moved in or out, a settlement)."""
    name, args, block = log.event_name, log.event_arguments, log.block_number
    if name == "Withdraw":
        controller = queue.controllers[args["owner"]]
        controller.claimable_shares -= args["shares"]
        controller.claimable_assets -= args["assets"]
        queue.claimed_assets += args["assets"]
        if controller.claimable_shares < 0 or controller.claimable_assets < 0:
            queue.anomalies.append(f"{args['owner']}: claimed above claimable (block {block})")
        return
    if name == "Swept":
        queue.swept += args["amount"]
        return
    controller_address = args["controller"]
    controller = queue.controllers[controller_address]
    if name == "RedeemRequest":
        request_id, shares = args["requestId"], args["shares"]
        if request_id in queue.requests:
            queue.anomalies.append(f"request {request_id}: id given twice (block {block})")
        queue.requests[request_id] = RequestBook(request_id, controller_address, shares, shares)
        heapq.heappush(queue._heap, request_id)
        controller.pending += shares
        controller.open_requests += 1
        queue.requested += shares
        queue.expected_moves.append((log.transaction_hash, args["owner"], queue.vault, shares))
        return
    request = queue.requests.get(args["requestId"])
    if name == "CancelRedeemClaim":
        shares = args["shares"]
        if shares != controller.cancelled:
            queue.anomalies.append(
                f"{controller_address}: claimed back {shares} of {controller.cancelled} "
                f"cancelled (block {block})"
            )
        controller.cancelled -= shares
        queue.claimed_back += shares
        queue.expected_moves.append((log.transaction_hash, queue.vault, args["receiver"], shares))
        return
    if request is None or request.controller != controller_address or not request.open:
        queue.anomalies.append(
            f"request {args['requestId']}: {name} of no pending request of {controller_address} "
            f"(block {block})"
        )
        return
    if name == "CancelRedeemRequest":
        # The event carries no amount: what the request still had pending is cancelled.
        shares = request.pending
        request.pending, request.cancelled = 0, True
        controller.pending -= shares
        controller.open_requests -= 1
        controller.cancelled += shares
        queue.cancelled_total += shares
    elif name == "RedeemFulfilled":
        shares, assets, remaining = args["shares"], args["assets"], args["remaining"]
        if queue.oldest_open() != request.request_id:
            queue.anomalies.append(
                f"request {request.request_id}: fulfilled before request {queue.oldest_open()} "
                f"(block {block})"
            )
        if request.pending - shares != remaining or shares == 0:
            queue.anomalies.append(
                f"request {request.request_id}: {request.pending} pending, {shares} fulfilled, "
                f"{remaining} said to remain (block {block})"
            )
        request.pending = remaining
        controller.pending -= shares
        if remaining == 0:
            controller.open_requests -= 1
        # Shares worth nothing at that NAV are closed for nothing: burnt, nothing to claim.
        if assets:
            controller.claimable_shares += shares
            controller.claimable_assets += assets
        queue.fulfilled_shares += shares
        queue.fulfilled_assets += assets
        in_tx = queue.fulfilled_in.setdefault(log.transaction_hash, [0, 0])
        in_tx[0] += shares
        in_tx[1] += assets


def _escrow_move(books: Books, log, sender: str, receiver: str, value: int) -> bool:
    """Whether this vault Transfer is an escrow move the queue announced in the same
    transaction (into escrow at a request, out of it at a cancelled request's claim back)."""
    queue = books.queue
    move = (log.transaction_hash, sender, receiver, value)
    if move in queue.expected_moves:
        queue.expected_moves.remove(move)
        return True
    queue.anomalies.append(
        f"{value} fractions {sender} -> {receiver} moved the escrow without a queue event "
        f"(block {log.block_number})"
    )
    return False


def _settlement(books: Books, log) -> None:
    """A vault Withdraw whose owner is the vault itself: the queue's fulfilments of the same
    transaction, their escrow burnt and their assets paid from free cash to the queue."""
    args, queue, tx = log.event_arguments, books.queue, log.transaction_hash
    shares, assets = args["shares"], args["assets"]
    queue.settled_shares += shares
    queue.settled_assets += assets
    fulfilled = queue.fulfilled_in.pop(tx, [0, 0])
    burnt = queue.burnt_in.pop(tx, 0)
    if (
        args["sender"] != queue.address
        or args["receiver"] != queue.address
        or fulfilled != [shares, assets]
        or burnt != shares
    ):
        queue.anomalies.append(
            f"settlement of {shares} fractions for {assets} to {args['receiver']}: the queue "
            f"fulfilled {fulfilled[0]} for {fulfilled[1]}, the vault burnt {burnt} "
            f"(block {log.block_number})"
        )


def _vault(books: Books, log, timestamps: BlockTimes) -> None:
    name, args = log.event_name, log.event_arguments
    if name == "Deposit":
        books.free_cash += args["assets"]
    elif name == "Withdraw":
        # A settlement too: the assets leave free cash for the queue's reserve.
        books.free_cash -= args["assets"]
        if args["owner"] == books.vault:
            _settlement(books, log)
    elif name == "RevenueDistributed":
        books.revenue_received += args["amount"] - args["fee"]
        books.fees_charged += args["fee"]
    elif name == "Skimmed":
        # A sale's gain over the collateral value (its price less what entered free cash) is
        # streamed by the skim of its own transaction: not a donation.
        books.revenue_received += args["donation"]
        moves = books.moves.get(log.transaction_hash)
        gain = 0
        if moves is not None:
            gain = min(args["donation"], sum(r[1] - r[3] for r in moves.released.values()))
            moves.skimmed += args["donation"]
        books.sale_gains += gain
        books.donations_skimmed += args["donation"] - gain
    elif name == "RevenueClaimed":
        books.revenue_claimed += args["amount"]
    elif name == "FeesClaimed":
        books.fees_paid += args["amount"]
    elif name == "Paused":
        books.pauses.append((log.block_number, None))
    elif name == "Unpaused":
        books.pauses[-1] = (books.pauses[-1][0], log.block_number)
    elif name == "Frozen":
        books.frozen[args["account"]] = args["amount"]
    elif name == "ForcedTransfer":
        books.forced.add((log.transaction_hash, args["sender"], args["receiver"], args["amount"]))
    elif name == "Transfer":
        sender, receiver, value = args["sender"], args["receiver"], args["value"]
        if sender != ZERO_ADDRESS and (
            sender in books.frozen_entirely
            or books.balances[sender] - value < books.frozen.get(sender, 0)
        ):
            books.moves_out_of_freeze.append((log.transaction_hash, sender, receiver, value))
        books.balances[sender] -= value
        books.balances[receiver] += value
        if sender == ZERO_ADDRESS:
            books.supply += value
        if receiver == ZERO_ADDRESS:
            books.supply -= value
            if sender == books.vault:
                # Escrow burnt: the settlement's Withdraw follows in the same transaction.
                books.queue.burnt_in[log.transaction_hash] += value
        else:
            _fraction_receipt(books, log, sender, receiver, value, timestamps)
        if _paused(books):
            books.transfers_while_paused += 1


def _compliance(books: Books, log) -> None:
    """The PoolCompliance's records of full freezes (the vault's Frozen gives the amounts): an
    officer's freeze or unfreeze, and a recovery (its freeze follows the investor to the new
    wallet, and the lost one is frozen)."""
    args = log.event_arguments
    if log.event_name == "FreezeUpdated":
        if args["full"]:
            books.frozen_entirely.add(args["account"])
        else:
            books.frozen_entirely.discard(args["account"])
    elif log.event_name == "WalletRecovered":
        books.frozen_entirely.add(args["lost"])
        if args["full"]:
            books.frozen_entirely.add(args["new"])


def _fraction_receipt(
    books: Books, log, sender: str, receiver: str, value: int, timestamps: BlockTimes
) -> None:
    """Fractions received: by a verified investor, except the vault's own receipts (the dead
    shares minted to it, the escrow of a request). A move into or out of the escrow must be one the
    queue announced in the same transaction."""
    dead_shares = receiver == books.vault and sender == ZERO_ADDRESS
    into_escrow = receiver == books.vault and not dead_shares
    announced = (into_escrow or sender == books.vault) and _escrow_move(
        books, log, sender, receiver, value
    )
    exempt = dead_shares or (into_escrow and announced)
    if not exempt and timestamps.after(log.block_number, books.verified_until.get(receiver, 0)):
        books.unverified_receipts.append((log.block_number, receiver))


# THE CHAIN, NOW #


@dataclass
class QueueState:
    """What the RedemptionQueue says now: its totals, the queue in order, and every controller the
    events name."""

    pending_shares: int
    open_requests: int
    cancelled_shares: int
    reserved: int
    # The vault's own balance less DEAD_SHARES.
    escrow: int
    stablecoin_balance: int
    # The pending requests in queue order: (id, controller, pending shares).
    entries: list[tuple[int, str, int]]
    # controller -> controller_state (pending, open, claimable shares, claimable assets, cancelled).
    controllers: dict[str, tuple[int, int, int, int, int]]
    # controller -> (maxRedeem, maxWithdraw, claimableCancelRedeemRequest, pendingRedeemRequest(0)).
    views: dict[str, tuple[int, int, int, int]]
    # controller -> what a max claim pays in a simulated call: (redeem(maxRedeem) -> assets,
    # withdraw(maxWithdraw) -> shares); None where the call reverted. Only controllers with
    # something to claim, while not paused.
    max_claims: dict[str, tuple[int | None, int | None]]


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
    # Counted GPUs stale or returning now (`written_down()`), the holds on entries of GPUs
    # impaired or below their line (`held_down()`), whether entries are open, and whether the
    # pool is winding down (entries closed for good).
    written_down: int
    held_down: int
    entries_open: bool
    winding_down: bool
    positions: dict[int, tuple[int, int, int, int]]
    value_of: dict[int, int]
    # Registry terms of the pool's GPUs: (status, last attested at).
    registry_terms: dict[int, tuple[int, int]]
    # The appraiser's mark of the pool's GPUs (`appraisal(id)[:2]`: book value, time; 0, 0: none).
    marks: dict[int, tuple[int, int]]
    round_trips: list[tuple[int, int]]
    paused: bool
    queue: QueueState


def read_chain(pool: Pool, books: Books) -> ChainState:
    """What the contracts say at the books' last block: every figure read at that one block, in
    JSON-RPC batches (per holder and per GPU too)."""
    vault, collateral, registry = pool.vault, pool.collateral, pool.registry
    block = chain.blocks.head if books.block is None else chain.blocks[books.block]
    reader = BlockReader(block.number)
    now = reader.named(
        {
            name: ContractCall(getattr(contract, name))
            for contract, names in (
                (vault, VAULT_FIGURES),
                (collateral, COLLATERAL_FIGURES),
                (pool.queue, QUEUE_FIGURES),
            )
            for name in names
        }
        | {
            "gpus_held": ContractCall(registry.balanceOf, (collateral.address,)),
            "stablecoin_balance": ContractCall(pool.stablecoin.balanceOf, (vault.address,)),
            "queue_stablecoin": ContractCall(pool.stablecoin.balanceOf, (pool.queue.address,)),
            "vault_own_balance": ContractCall(vault.balanceOf, (vault.address,)),
        }
    )
    held = [(collateral.address, i) for i in range(now["gpus_held"])]
    gpus_held = set(reader.read([ContractCall(registry.tokenOfOwnerByIndex, a) for a in held]))
    gpu_ids = sorted(gpus_held | {gpu.token_id for gpu in books.pool_gpus})
    accounts = sorted(set(books.balances) | {vault.address})
    to_shares = reader.each(vault.convertToShares, ROUND_TRIP_AMOUNTS)
    (value_of_supply,) = reader.each(vault.convertToAssets, [now["totalSupply"]])
    terms = reader.by_key(registry.terms, gpu_ids)
    return ChainState(
        timestamp=block.timestamp,
        supply=now["totalSupply"],
        balances=reader.by_key(vault.balanceOf, accounts),
        claimable=reader.by_key(vault.claimable, accounts),
        free_cash=now["free_cash"],
        collateral_value=now["value"],
        total_assets=now["totalAssets"],
        value_of_supply=value_of_supply,
        received=now["received"],
        held=now["held"],
        fees=now["accrued_fees"],
        unvested=now["unvested"],
        stablecoin_balance=now["stablecoin_balance"],
        dead_shares_constant=now["DEAD_SHARES"],
        gpus_held=gpus_held,
        counted=now["schedule_state"][1],
        pending=now["pending"],
        written_down=now["written_down"],
        held_down=now["held_down"],
        entries_open=now["entries_open"],
        winding_down=now["winding_down"],
        positions={i: tuple(p) for i, p in reader.by_key(collateral.position, gpu_ids).items()},
        value_of=reader.by_key(collateral.value_of, gpu_ids),
        registry_terms={i: (t.status, t.last_attested_at) for i, t in terms.items()},
        marks={i: tuple(a)[:2] for i, a in reader.by_key(collateral.appraisal, gpu_ids).items()},
        round_trips=list(
            zip(ROUND_TRIP_AMOUNTS, reader.each(vault.convertToAssets, to_shares), strict=True)
        ),
        paused=now["paused"],
        queue=read_queue(pool, books, now, reader),
    )


# The views `read_chain` reads once each, named as the contracts name them.
VAULT_FIGURES = (
    "totalSupply",
    "paused",
    "free_cash",
    "totalAssets",
    "received",
    "held",
    "accrued_fees",
    "unvested",
    "DEAD_SHARES",
)
COLLATERAL_FIGURES = (
    "value",
    "schedule_state",
    "pending",
    "written_down",
    "held_down",
    "entries_open",
    "winding_down",
)
QUEUE_FIGURES = ("pending_shares", "open_requests", "cancelled_shares", "reserved")


def read_queue(pool: Pool, books: Books, now: dict, reader: BlockReader) -> QueueState:
    """The queue's views at the reader's block (`now`: `read_chain`'s figures)."""
    queue = pool.queue
    controllers = sorted(books.queue.controllers)
    max_redeem = reader.by_key(queue.maxRedeem, controllers)
    max_withdraw = reader.by_key(queue.maxWithdraw, controllers)
    by_request_zero = [
        reader.read([ContractCall(method, (0, c)) for c in controllers])
        for method in (queue.claimableCancelRedeemRequest, queue.pendingRedeemRequest)
    ]
    views = {
        c: (max_redeem[c], max_withdraw[c], by_request_zero[0][i], by_request_zero[1][i])
        for i, c in enumerate(controllers)
    }
    states = reader.by_key(queue.controller_state, controllers)
    claiming = {c: v for c, v in views.items() if v[0] or v[1]}
    return QueueState(
        pending_shares=now["pending_shares"],
        open_requests=now["open_requests"],
        cancelled_shares=now["cancelled_shares"],
        reserved=now["reserved"],
        escrow=now["vault_own_balance"] - now["DEAD_SHARES"],
        stablecoin_balance=now["queue_stablecoin"],
        entries=_queue_entries(queue, reader),
        controllers={c: tuple(state) for c, state in states.items()},
        views=views,
        max_claims={} if now["paused"] else _max_claims(queue, reader, claiming),
    )


def _queue_entries(queue, reader: BlockReader) -> list[tuple[int, str, int]]:
    """The pending requests from the head, a page at a time (`requests`)."""
    entries: list[tuple[int, str, int]] = []
    start, skip = 0, 0
    while True:
        (page,) = reader.read([ContractCall(queue.requests, (start, QUEUE_PAGE))])
        entries += [
            (request_id, to_checksum_address(f"0x{controller:040x}"), shares)
            for request_id, controller, shares in page[skip:]
        ]
        if len(page) < QUEUE_PAGE:
            return entries
        # Pages after the first start at the last entry read.
        start, skip = page[-1][0], 1


def _max_claims(
    queue, reader: BlockReader, views: dict[str, tuple[int, int, int, int]]
) -> dict[str, tuple[int | None, int | None]]:
    """Claim each controller's max to itself in eth_calls (nothing is sent): what `redeem` pays
    for `maxRedeem`, and what `withdraw` takes for `maxWithdraw` (None: the call reverted)."""
    results = reader.simulate(
        [
            ContractCall(method, (amount, c, c), sender=c)
            for c, (max_redeem, max_withdraw, _, _) in views.items()
            for method, amount in ((queue.redeem, max_redeem), (queue.withdraw, max_withdraw))
        ]
    )
    return {c: (results[2 * i], results[2 * i + 1]) for i, c in enumerate(views)}


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
    """Invariants 1-12 of ../shared/DOMAIN.md for one pool, each with its figures."""
    state = state or read_chain(pool, books)
    return sorted((check(books, state) for check in CHECKS), key=lambda c: c.number)


@dataclass(frozen=True)
class _Amount:
    """A figure that is an amount of stablecoin or of fractions (base units)."""

    value: int
    unit: str


def _cash(value: int) -> _Amount:
    return _Amount(value, CASH)


def _fractions(value: int) -> _Amount:
    return _Amount(value, FRACTIONS)


def _check(number: int, name: str, passed: bool, **compared) -> InvariantCheck:
    """The figures as compared (base units), and the unit of those that are amounts."""
    units = {key: value.unit for key, value in compared.items() if isinstance(value, _Amount)}
    figures = {
        key: value.value if isinstance(value, _Amount) else value for key, value in compared.items()
    }
    return InvariantCheck(number=number, name=name, compared=figures, units=units, passed=passed)


def _holders(books: Books, state: ChainState) -> list[str]:
    """Every account that ever held fractions (an account that left may still be owed revenue)."""
    return sorted(set(books.balances) | set(state.balances))


def supply_check(books: Books, state: ChainState) -> InvariantCheck:
    """The vault's own balance from Transfer events is its dead shares plus the escrow the queue's
    events account for."""
    holders = _holders(books, state)
    on_chain = {h: state.balances.get(h, 0) for h in holders}
    return _check(
        1,
        "fraction balances sum to total supply (dead shares and escrow included)",
        sum(on_chain.values()) == state.supply == books.supply
        and all(books.balances.get(h, 0) == on_chain[h] for h in holders)
        and books.dead_shares == (state.dead_shares_constant if books.supply else 0),
        sum_of_balances=_fractions(sum(on_chain.values())),
        total_supply=_fractions(state.supply),
        supply_from_events=_fractions(books.supply),
        holders=sum(1 for h in holders if on_chain[h]),
        dead_shares=_fractions(books.dead_shares),
        dead_shares_constant=_fractions(state.dead_shares_constant),
        escrow_from_queue_events=_fractions(books.queue.escrowed),
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
        value_of_fractions=_cash(state.value_of_supply),
        free_cash=_cash(state.free_cash),
        collateral_value=_cash(state.collateral_value),
        total_assets=_cash(state.total_assets),
        sum_of_value_of=_cash(value_sum),
        recomputed_from_events=_cash(sum(expected.values())),
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
        received=_cash(state.received),
        received_from_events=_cash(books.revenue_received),
        donations_skimmed=_cash(books.donations_skimmed),
        sale_gains_streamed=_cash(books.sale_gains),
        fees_charged=_cash(books.fees_charged),
        claimed=_cash(books.revenue_claimed),
        claimable=_cash(claimable),
        claimable_by_dead_shares=_cash(state.claimable.get(books.vault, 0)),
        unvested=_cash(state.unvested),
        dust=_cash(dust),
    )


def cash_check(books: Books, state: ChainState) -> InvariantCheck:
    """The pool's stablecoin is the vault's (free cash, revenue held, fees) and the queue's (the
    reserve of fulfilled requests, outside NAV and free cash); each may also hold a donation not
    skimmed or swept yet."""
    buckets = (state.free_cash, state.held, state.fees)
    queue, reserved = books.queue, state.queue.reserved
    return _check(
        4,
        "stablecoin held equals the books: free cash, revenue, fees and the redemption reserve "
        "(plus donations not skimmed yet)",
        state.stablecoin_balance == books.stablecoin_held == sum(buckets) + books.donations
        and books.donations >= 0
        and buckets == (books.free_cash, books.revenue_held, books.fees_accrued)
        and state.queue.stablecoin_balance == queue.stablecoin_held == reserved + queue.donations
        and queue.donations >= 0
        and reserved == queue.reserve,
        stablecoin_balance=_cash(state.stablecoin_balance),
        donations=_cash(books.donations),
        free_cash=_cash(state.free_cash),
        revenue_held=_cash(state.held),
        fees_accrued=_cash(state.fees),
        reserved=_cash(reserved),
        queue_stablecoin_balance=_cash(state.queue.stablecoin_balance),
        queue_donations=_cash(queue.donations),
        free_cash_from_events=_cash(books.free_cash),
        revenue_held_from_events=_cash(books.revenue_held),
        fees_from_events=_cash(books.fees_accrued),
        reserved_from_events=_cash(queue.reserve),
        queue_swept=_cash(queue.swept),
    )


def identity_check(books: Books, state: ChainState) -> InvariantCheck:
    return _check(
        5,
        "fractions only reached verified investors (dead shares aside)",
        not books.unverified_receipts,
        unverified_receipts=len(books.unverified_receipts),
    )


def freeze_check(books: Books, state: ChainState) -> InvariantCheck:
    unrecorded = books.frozen_moves_unrecorded
    return _check(
        12,
        "frozen fractions moved only by a recorded forced transfer or recovery",
        not unrecorded,
        forced_transfers=len(books.forced),
        frozen_accounts=sum(1 for amount in books.frozen.values() if amount),
        frozen_entirely=len(books.frozen_entirely),
        unrecorded_moves=len(unrecorded),
    )


def gpus_check(books: Books, state: ChainState) -> InvariantCheck:
    """Every GPU the collateral holds came in by GpuContributed or GpuAdmitted (a purchase or an
    RMA replacement); a GPU sent with a plain transfer is held but never counted (reported, not an
    error); every GPU that left went out by GpuReleased in a transaction whose flow accounts for
    its value (`_match_moves`: a sale at no less than its floor, its price into free cash up to
    the value and the rest streamed, or an RMA against a replacement worth at least as much)."""
    by_flow = books.came_in_by_flow
    left_without_flow = (by_flow - state.gpus_held) | (books.left - books.released)
    plain_transfers = state.gpus_held - by_flow
    positions_wrong = [
        i
        for i in by_flow | plain_transfers
        if (state.positions.get(i, (NOT_HELD,))[0] == NOT_HELD) == (i in by_flow)
    ]
    counted = len(books.counted)
    return _check(
        6,
        "every GPU the pool holds came in, and every GPU that left went out, by a flow that "
        "accounts for its value",
        state.gpus_held == books.held
        and not left_without_flow
        and not books.move_anomalies
        and books.sales_below_floor == 0
        and not positions_wrong
        and state.counted == counted,
        gpus_held=len(state.gpus_held),
        gpus_held_from_events=len(books.held),
        came_in_by_flow=len(by_flow),
        sold=len(books.went_out("sold")),
        swapped_out=len(books.went_out("swapped out")),
        sales=books.sales,
        sales_below_floor=books.sales_below_floor,
        sale_gains_streamed=_cash(books.sale_gains),
        moves_unaccounted="; ".join(books.move_anomalies) or "-",
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
        **{f"round_trip_{amount}": _cash(back) for amount, back in state.round_trips},
    )


def rebuilt_books_check(books: Books, state: ChainState) -> InvariantCheck:
    gpus = books.pool_gpus
    position_diffs = [g.token_id for g in gpus if state.positions.get(g.token_id) != g.position]
    registry_diffs = [
        g.token_id
        for g in gpus
        if state.registry_terms.get(g.token_id) != (g.status, g.last_attested_at)
    ]
    mark_diffs = [g.token_id for g in gpus if state.marks.get(g.token_id) != (g.mark or (0, 0))]
    queue, on_chain = books.queue, state.queue
    totals = (queue.pending, len(queue.open_requests), queue.cancelled, queue.reserve)
    queue_totals_match = totals == (
        on_chain.pending_shares,
        on_chain.open_requests,
        on_chain.cancelled_shares,
        on_chain.reserved,
    )
    return _check(
        8,
        "books rebuilt from events match the contracts",
        (books.free_cash, books.revenue_held, books.fees_accrued, books.supply)
        == (state.free_cash, state.held, state.fees, state.supply)
        and queue_totals_match
        and not position_diffs
        and not registry_diffs
        and not mark_diffs,
        gpu_positions_compared=len(gpus),
        positions_differing=_ids(position_diffs),
        marks_differing=_ids(mark_diffs),
        registry_terms_differing=_ids(registry_diffs),
        queue_totals_match=queue_totals_match,
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


def queue_check(books: Books, state: ChainState) -> InvariantCheck:
    """The queue rebuilt from its events against its views: the escrow (the vault's own fractions
    beyond its dead shares) is the pending plus the cancelled-not-claimed-back shares, by the
    events' sums and by the requests one by one; the reserve (the queue's stablecoin) is what the
    controllers can claim; the queue's order and every controller's state and `max*` are the
    events'; a max claim, simulated, pays exactly the other view and leaves nothing behind; and
    each settlement paid from the vault is the fulfilments of its transaction."""
    queue, on_chain = books.queue, state.queue
    escrow_parts = queue.pending + queue.cancelled
    entries = [(r.request_id, r.controller, r.pending) for r in queue.open_requests]
    differing = []
    for address, controller in sorted(queue.controllers.items()):
        claimable = (
            (0, 0) if state.paused else (controller.claimable_shares, controller.claimable_assets)
        )
        expected_views = (*claimable, controller.cancelled, controller.pending)
        if (
            on_chain.controllers.get(address) != controller.state
            or on_chain.views.get(address) != expected_views
        ):
            differing.append(address)
    # redeem(maxRedeem) pays maxWithdraw and withdraw(maxWithdraw) takes maxRedeem: all of both.
    inexact = [
        address
        for address, claims in on_chain.max_claims.items()
        if claims != (on_chain.views[address][1], on_chain.views[address][0])
    ]
    expected_claims = (
        0
        if state.paused
        else sum(1 for c in queue.controllers.values() if c.claimable_shares or c.claimable_assets)
    )
    return _check(
        10,
        "queued redemptions: escrow = pending + cancelled requests, reserve = claimable assets, "
        "max claims exact",
        on_chain.pending_shares == queue.pending
        and on_chain.open_requests == len(entries)
        and on_chain.cancelled_shares == queue.cancelled
        and on_chain.escrow == queue.escrowed == escrow_parts
        and on_chain.reserved == queue.reserve == queue.claimable_assets
        and on_chain.stablecoin_balance == queue.stablecoin_held >= queue.reserve
        and on_chain.entries == entries
        and (queue.settled_shares, queue.settled_assets)
        == (queue.fulfilled_shares, queue.fulfilled_assets)
        and not differing
        and not inexact
        and len(on_chain.max_claims) == expected_claims
        and not queue.anomalies,
        requests=len(queue.requests),
        pending_requests=on_chain.open_requests,
        pending_from_events=len(entries),
        pending_shares=_fractions(on_chain.pending_shares),
        pending_shares_from_events=_fractions(queue.pending),
        cancelled_shares=_fractions(on_chain.cancelled_shares),
        cancelled_from_events=_fractions(queue.cancelled),
        escrow=_fractions(on_chain.escrow),
        escrow_from_events=_fractions(queue.escrowed),
        reserved=_cash(on_chain.reserved),
        reserved_from_events=_cash(queue.reserve),
        claimable_assets_from_events=_cash(queue.claimable_assets),
        queue_stablecoin_balance=_cash(on_chain.stablecoin_balance),
        fulfilled_shares=_fractions(queue.fulfilled_shares),
        fulfilled_assets=_cash(queue.fulfilled_assets),
        settled_by_vault_shares=_fractions(queue.settled_shares),
        settled_by_vault_assets=_cash(queue.settled_assets),
        claimed_assets=_cash(queue.claimed_assets),
        cancelled_total=_fractions(queue.cancelled_total),
        claimed_back=_fractions(queue.claimed_back),
        queue_order_matches=on_chain.entries == entries,
        controllers=len(queue.controllers),
        controllers_differing=", ".join(differing) or "-",
        max_claims_simulated=len(on_chain.max_claims),
        max_claims_inexact=", ".join(inexact) or "-",
        anomalies="; ".join(queue.anomalies) or "-",
    )


def current_prices_check(books: Books, state: ChainState) -> InvariantCheck:
    """No counted GPU is IMPAIRED or RETIRED in the registry, none whose last attestation (from
    the registry's events) is stale still has value, none counts past what its attestation allows,
    and every GpuCounted followed the registry as it stood then. The GPUs written down (stale or
    returning) and the holds of GPUs held down (impaired, or below their line by a mark not
    settled) are recomputed from the events and must be the collateral's counts, and entries must
    be open exactly when neither is and the collateral can be brought current (nobody buys at a
    write-down that may come back). Due maturities are reported: the views count them and a flow
    matures up to 16 itself or refuses naming process_maturities."""
    params, now = books.parameters, state.timestamp
    counted = books.counted
    written_down = len(books.written_down(now))
    held = [g for g in books.pool_gpus if g.holds]
    entries_open = (
        not books.winding_down
        and state.pending <= MAX_MATURE_STEPS
        and written_down == 0
        and books.held_down == 0
    )
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
        and not books.hold_anomalies
        and state.written_down == written_down
        and state.held_down == books.held_down
        and state.entries_open == entries_open,
        pending_maturities=state.pending,
        flows_mature_them_themselves=state.pending <= MAX_MATURE_STEPS,
        written_down=state.written_down,
        written_down_from_events=written_down,
        held_down=state.held_down,
        held_down_from_events=books.held_down,
        held_below_line=_ids(g.token_id for g in held if g.held_below_line),
        held_impaired=_ids(g.token_id for g in held if g.held_impaired),
        settled=_ids(books.settled),
        hold_anomalies="; ".join(books.hold_anomalies) or "-",
        entries_open=state.entries_open,
        entries_open_from_events=entries_open,
        winding_down=state.winding_down,
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
    queue_check,
    current_prices_check,
    freeze_check,
)


# TABLES #


def readable_figures(check: InvariantCheck, pool: Pool) -> dict[str, str]:
    """The figures compared, amounts in units beside base units: `1,000.000000 USDC
    (1000000000)`."""
    formats = {CASH: pool.cash, FRACTIONS: pool.fractions}
    figures = {}
    for name, value in check.compared.items():
        unit = check.units.get(name)
        figures[name] = f"{_signed(formats[unit], value)} ({value})" if unit else str(value)
    return figures


def _signed(fmt, amount: int) -> str:
    return f"-{fmt(-amount)}" if amount < 0 else fmt(amount)


def invariants_table(checks: list[InvariantCheck], pool: Pool | None = None) -> Table:
    """Each invariant with the figures compared (with `pool`: amounts in units beside base
    units)."""
    table = Table(title="invariants (../shared/DOMAIN.md)")
    for column in ("#", "invariant", "result", "figures compared"):
        table.add_column(column)
    for check in checks:
        figures = readable_figures(check, pool) if pool else check.compared
        table.add_row(
            str(check.number),
            check.name,
            check.verdict,
            "\n".join(f"{name} = {value}" for name, value in figures.items()),
        )
    return table


def gpu_table(pool: Pool, books: Books, state: ChainState) -> Table:
    """The pool's GPUs as rebuilt from events, beside what the collateral says."""
    expected = recomputed_values(books, state.timestamp)
    states = {NOT_HELD: "-", COUNTED: "counted", HELD_UNCOUNTED: "uncounted"}
    table = Table(title=f"GPUs of the pool: {len(books.pool_gpus)}")
    for column in (
        "id",
        "came in, went out",
        "status",
        "position",
        "attested (days ago)",
        "stale in (days)",
        "held down",
        "value_of",
        "from events",
    ):
        left = column in ("came in, went out", "position", "held down")
        table.add_column(column, justify="left" if left else "right")
    for gpu in books.pool_gpus:
        stale_in = (gpu.stale_at - state.timestamp) / GRID if gpu.state == COUNTED else None
        table.add_row(
            str(gpu.token_id),
            ", ".join(filter(None, (gpu.came_in or "plain transfer", gpu.went_out))),
            STATUS_NAMES.get(gpu.status, str(gpu.status)),
            states[gpu.state],
            f"{(state.timestamp - gpu.last_attested_at) / GRID:.1f}",
            "-" if stale_in is None else f"{stale_in:.1f}",
            _holds_cell(gpu),
            pool.cash(state.value_of.get(gpu.token_id, 0)),
            pool.cash(expected[gpu.token_id]),
        )
    return table


def _holds_cell(gpu: GpuBook) -> str:
    """How the GPU holds entries, as the events tell it: `below line`, `impaired`, both, `-`."""
    holds = (("below line", gpu.held_below_line), ("impaired", gpu.held_impaired))
    return ", ".join(name for name, held in holds if held) or "-"


# THE REPORT #


class Amount(BaseModel):
    """An amount in base units, and in units with its symbol."""

    base_units: int
    units: str


class BlockMark(BaseModel):
    number: int
    timestamp: int
    time: str


class AuditedChain(BaseModel):
    """Which chain was audited: the node's own answers beside what the manifest recorded."""

    network: str
    chain_id: int
    genesis_hash: str
    genesis_hash_in_manifest: str | None
    node: str | None


class AuditedPool(BaseModel):
    contracts: dict[str, str]
    stablecoin: str
    stablecoin_symbol: str
    stablecoin_decimals: int
    fraction_symbol: str
    fraction_decimals: int
    nav: Amount
    free_cash: Amount
    collateral_value: Amount
    supply: Amount
    price_per_fraction: Amount
    revenue_received: Amount
    revenue_unvested: Amount
    fees_accrued: Amount
    gpus_held: int
    gpus_counted: int


class Position(BaseModel):
    """One holder: fractions (the vault's own are the dead shares and the queue's escrow), their
    value at NAV (`convertToAssets`), revenue claimable, and what a freeze holds."""

    holder: str
    fractions: Amount
    value: Amount
    claimable: Amount
    frozen: Amount
    frozen_entirely: bool


class LeaseLine(BaseModel):
    """One lease: arrears as of now, or as of its default."""

    lease_id: int
    lessee: str
    gpus: list[int]
    instalment: Amount
    paid: int
    instalments: int
    arrears: Amount
    arrears_instalments: int
    days_late: int
    status: str
    defaulted: bool
    defaulted_at: str | None
    recovered: Amount


class InvariantLine(BaseModel):
    number: int
    name: str
    passed: bool
    # As compared (base units), and readable (amounts in units beside base units).
    compared: dict[str, int | str | bool]
    figures: dict[str, str]


class AuditReport(BaseModel):
    """What `ape run audit --report` writes: which chain, block range and pool were audited, the
    pool's figures, positions, leases and invariants."""

    chain: AuditedChain
    first_block: BlockMark
    last_block: BlockMark
    pool: AuditedPool
    positions: list[Position]
    leases: list[LeaseLine]
    invariants: list[InvariantLine]
    summary: str
    passed: bool


def _block(number: int) -> BlockMark:
    timestamp = chain.blocks[number].timestamp
    return BlockMark(number=number, timestamp=timestamp, time=_iso_time(timestamp))


def _iso_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def audit_report(
    pool: Pool, books: Books, state: ChainState, checks: list[InvariantCheck]
) -> AuditReport:
    """The report of one audit: the chain's and the contracts' answers read now, the books from
    the events."""
    manifest = pool.manifest
    cash = lambda amount: Amount(base_units=amount, units=_signed(pool.cash, amount))  # noqa: E731
    fractions = lambda amount: Amount(base_units=amount, units=pool.fractions(amount))  # noqa: E731

    def at_nav(shares: int) -> int:
        return pool.value_at_nav(shares, state.total_assets, state.supply)

    holders = sorted(set(books.balances) | set(state.balances) | set(books.frozen))
    positions = [
        Position(
            holder=holder,
            fractions=fractions(state.balances.get(holder, 0)),
            value=cash(at_nav(state.balances.get(holder, 0))),
            claimable=cash(state.claimable.get(holder, 0)),
            frozen=fractions(books.frozen.get(holder, 0)),
            frozen_entirely=holder in books.frozen_entirely,
        )
        for holder in holders
        if state.balances.get(holder, 0) or state.claimable.get(holder, 0)
        or books.frozen.get(holder, 0) or holder in books.frozen_entirely
    ]  # fmt: skip
    return AuditReport(
        chain=AuditedChain(
            network=manifest.network,
            chain_id=chain.chain_id,
            genesis_hash=genesis_hash(),
            genesis_hash_in_manifest=manifest.genesis_hash,
            node=manifest.node,
        ),
        first_block=_block(manifest.deploy_block or 0),
        # The block the books were replayed to (None: the head), where `read_chain` read.
        last_block=_block(chain.blocks.head.number if books.block is None else books.block),
        pool=AuditedPool(
            contracts={name: record.address for name, record in manifest.contracts.items()},
            stablecoin=pool.stablecoin.address,
            stablecoin_symbol=pool.symbol,
            stablecoin_decimals=pool.decimals,
            fraction_symbol=pool.fraction_symbol,
            fraction_decimals=pool.fraction_decimals,
            nav=cash(state.total_assets),
            free_cash=cash(state.free_cash),
            collateral_value=cash(state.collateral_value),
            supply=fractions(state.supply),
            price_per_fraction=cash(at_nav(10**pool.fraction_decimals)),
            revenue_received=cash(state.received),
            revenue_unvested=cash(state.unvested),
            fees_accrued=cash(state.fees),
            gpus_held=len(state.gpus_held),
            gpus_counted=state.counted,
        ),
        positions=positions,
        leases=_lease_lines(pool, cash),
        invariants=[
            InvariantLine(
                number=c.number,
                name=c.name,
                passed=c.passed,
                compared=c.compared,
                figures=readable_figures(c, pool),
            )
            for c in checks
        ],
        summary=summary_line(checks),
        passed=not failures(checks),
    )


def _lease_lines(pool: Pool, cash) -> list[LeaseLine]:
    """Every lease of the pool's LeaseManager, as its views say now."""
    leases = pool.leases
    lines = []
    for lease_id in range(1, leases.lease_count() + 1):
        lease = leases.lease(lease_id)
        count, amount, _, days_late = leases.arrears(lease_id)
        lines.append(
            LeaseLine(
                lease_id=lease_id,
                lessee=lease.lessee,
                gpus=list(leases.lease_gpus(lease_id)),
                instalment=cash(lease.instalment),
                paid=lease.paid,
                instalments=lease.instalments,
                arrears=cash(amount),
                arrears_instalments=count,
                days_late=days_late,
                status=LEASE_STATUS_NAMES[lease.status],
                defaulted=bool(lease.defaulted_at),
                defaulted_at=_iso_time(lease.defaulted_at) if lease.defaulted_at else None,
                recovered=cash(lease.recovered),
            )
        )
    return lines


def audit_tables(
    pool: Pool, books: Books, state: ChainState, checks: list[InvariantCheck], report: AuditReport
) -> list[Table]:
    """Everything `ape run audit` prints before its summary line, in order."""
    return [*report_tables(report), gpu_table(pool, books, state), invariants_table(checks, pool)]


def report_tables(report: AuditReport) -> list[Table]:
    """The report's head as printed: what was audited, the pool's figures, positions, leases."""
    audited = Table(title="audited", show_header=False)
    audited.add_column("what")
    audited.add_column("value")
    c, p = report.chain, report.pool
    for what, value in (
        ("network", f"{c.network} (chain id {c.chain_id})"),
        ("genesis hash", c.genesis_hash),
        ("node", c.node or "-"),
        ("blocks", f"{report.first_block.number} ({report.first_block.time}) to "
                   f"{report.last_block.number} ({report.last_block.time})"),
        ("vault", p.contracts.get("CollateralVault", "-")),
        ("collateral", p.contracts.get("GpuCollateral", "-")),
        ("queue", p.contracts.get("RedemptionQueue", "-")),
        ("stablecoin", f"{p.stablecoin} ({p.stablecoin_symbol}, {p.stablecoin_decimals} "
                       "decimals)"),
        ("NAV", _both(p.nav)),
        ("free cash", _both(p.free_cash)),
        ("collateral value", _both(p.collateral_value)),
        ("fractions", _both(p.supply)),
        ("price per fraction", _both(p.price_per_fraction)),
        ("revenue received / vesting", f"{_both(p.revenue_received)} / "
                                       f"{_both(p.revenue_unvested)}"),
        ("fees accrued", _both(p.fees_accrued)),
        ("GPUs held / counted", f"{p.gpus_held} / {p.gpus_counted}"),
    ):  # fmt: skip
        audited.add_row(what, value)
    positions = Table(title=f"positions: {len(report.positions)}")
    for column in ("holder", "fractions", "value at NAV", "claimable revenue", "frozen"):
        positions.add_column(column, justify="left" if column == "holder" else "right")
    vault = report.pool.contracts.get("CollateralVault")
    for position in report.positions:
        frozen = "all" if position.frozen_entirely else position.frozen.units
        positions.add_row(
            f"{position.holder} (dead shares, escrow)"
            if position.holder == vault
            else position.holder,
            position.fractions.units,
            position.value.units,
            position.claimable.units,
            frozen if position.frozen_entirely or position.frozen.base_units else "-",
        )
    leases = Table(title=f"leases: {len(report.leases)}")
    for column in ("id", "lessee", "GPUs", "instalment", "paid", "arrears", "days late", "status"):
        leases.add_column(column, justify="left" if column in ("lessee", "GPUs") else "right")
    for lease in report.leases:
        owed = (
            f"{lease.arrears.units} ({lease.arrears_instalments})"
            if lease.arrears_instalments
            else "-"
        )
        leases.add_row(
            str(lease.lease_id),
            lease.lessee,
            ", ".join(map(str, lease.gpus)),
            lease.instalment.units,
            f"{lease.paid}/{lease.instalments}",
            owed,
            str(lease.days_late) if lease.arrears_instalments else "-",
            lease.status + (f" ({lease.defaulted_at})" if lease.defaulted else ""),
        )
    return [audited, positions, leases]


def _both(amount: Amount) -> str:
    return f"{amount.units} ({amount.base_units})"
