"""A pool's history from the audit's event replay: the pool's figures over time (charts) and each
holder's ledger (statements), gathered by an observer of `audit.rebuild_books`.

`History.observe` sees every log, with its block's time, just before the books take it in. Before
it applies a log of time t it evaluates every moment due before t with the books as they stand
(every log of time <= that moment already applied): the pool's samples (an even grid from the first
log to `until`, and `until` itself) and the tracked holders' snapshots (`marks`: month ends, the
statement's dates). Between events the pool's values are functions of time the books know: the
collateral value of each GPU on its curve (`audit.recomputed_values`), the registry's straight-line
book value, the revenue stream (`accrual.Accrual`). NAV is free cash plus the per-GPU collateral
values (the collateral's aggregate `value()` may be a wei a GPU lower), and fractions are valued as
`convertToAssets` values them at that NAV: shares * (NAV + 1) // (supply + virtual shares).

A holder's ledger: purchases (Deposit), GPUs contributed (GpuContributed, at the value that bought
the fractions), redemptions (the vault's Withdraw), requests, fulfilments, cancellations and claims
of the RedemptionQueue, fraction transfers in and out (valued at NAV then; forced transfers and
recoveries named), and revenue claims (RevenueClaimed). Fractions in the queue (pending, or
cancelled and not claimed back) stay the holder's position until fulfilled; the assets of a
fulfilment count as the holder's until the claim pays them. Cost basis is the average cost: each
disposal (a redemption, a fulfilment, a transfer out) takes its share of the cost.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from ape import chain

from gpu_rwa.accrual import FRACTION_BITS, Accrual
from gpu_rwa.audit import Books, rebuild_books, recomputed_values
from gpu_rwa.events import EventSource
from gpu_rwa.pool import Pool
from gpu_rwa.types import ZERO_ADDRESS

# Samples of the pool's figures over a history (plus its last moment).
SAMPLES = 300
# Fractions moved between holders are priced at NAV then (nothing is paid on chain).
AT_NAV = {f"{kind} in" for kind in ("transfer", "queued for another", "claimed back")}


@dataclass(frozen=True)
class PoolPoint:
    """The pool at one moment (stablecoin base units; price: of one whole fraction)."""

    t: int
    nav: int
    supply: int
    price: int
    free_cash: int
    collateral_value: int
    book_value: int
    received: int
    claimed: int
    unvested: int


@dataclass
class Entry:
    """One line of a holder's statement: what moved, at which price."""

    t: int
    block: int
    tx: str
    kind: str
    # The holder's fractions (held or queued) and stablecoin: + in, - out; in kind at value.
    fractions: int
    cash: int
    # What a whole fraction was worth at NAV then (stablecoin base units).
    price: int
    detail: str = ""


@dataclass(frozen=True)
class Snapshot:
    """A holder at one moment: fractions held and queued, their value at NAV (with the assets a
    fulfilment reserved), revenue accrued (owed, units of 2**-28 wei) and the running totals."""

    t: int
    balance: int
    units: int
    price: int
    value: int
    owed: int
    claimed: int
    paid: int
    returned: int
    cost_basis: int

    @property
    def claimable(self) -> int:
        return self.owed >> FRACTION_BITS

    @property
    def accrued(self) -> int:
        """Revenue accrued to date, claimed or not, in units of 2**-28 wei."""
        return self.owed + (self.claimed << FRACTION_BITS)


@dataclass
class Ledger:
    account: str
    entries: list[Entry] = field(default_factory=list)
    # Fractions held plus queued (pending or cancelled, not claimed back).
    units: int = 0
    # Stablecoin a fulfilment reserved for the holder and its claim has not paid yet.
    reserved: int = 0
    cost_basis: int = 0
    # Stablecoin paid in (purchases; contributions and transfers in at value), returned
    # (redemptions paid; transfers out at value) and revenue claimed.
    paid: int = 0
    returned: int = 0
    claimed: int = 0
    # (time, amount): the holder's cash flows, + to the holder (revenue claims included).
    flows: list[tuple[int, int]] = field(default_factory=list)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)

    def dispose(self, fractions: int) -> None:
        """Average cost: the fractions leaving take their share of the cost basis."""
        taken = self.cost_basis * fractions // self.units if self.units else 0
        self.cost_basis -= taken
        self.units -= fractions


@dataclass
class Request:
    """A redemption request: its controller, shares pending, shares cancelled not claimed
    back."""

    controller: str
    pending: int
    cancelled: int = 0


class History:
    """The observer (`observe`) of one `rebuild_books` run, then `finish(books)`."""

    def __init__(
        self,
        pool: Pool,
        until: int,
        tracked: set[str] | None = None,
        marks: list[int] = (),
        samples: int = SAMPLES,
    ) -> None:
        vault = pool.vault
        self.vault = vault.address
        self.sources = {
            vault.address: "vault",
            pool.queue.address: "queue",
            pool.compliance.address: "compliance",
            pool.collateral.address: "collateral",
        }
        self.accrual = Accrual(vault=vault.address, vesting_period=vault.vesting_period())
        self.pool = pool
        self.one = 10**pool.fraction_decimals
        self.until = until
        self.tracked = tracked
        self.marks = sorted(m for m in set(marks) if m <= until)
        self.samples = samples
        self.points: list[PoolPoint] = []
        self.ledgers: dict[str, Ledger] = {}
        self.requests: dict[int, Request] = {}
        # Stablecoin the queue reserved for each controller (fulfilled, not claimed yet).
        self.reserved: dict[str, int] = defaultdict(int)
        self._grid: list[int] | None = None
        self._nav_at: tuple[int, int] | None = None

    # THE OBSERVER #

    def observe(self, books: Books, log, t: int) -> None:
        if self._grid is None:
            step = max(1, -(-(self.until - t) // self.samples))
            self._grid = [*range(t, self.until, step), self.until]
        # The books are about to change: NAV is computed afresh for every moment from here.
        self._nav_at = None
        self._evaluate(books, before=t)
        source = self.sources.get(log.contract_address)
        if source is not None:
            getattr(self, f"_{source}")(books, log, t)

    def finish(self, books: Books) -> None:
        """The moments left, up to `until` (with the books at the head)."""
        if self._grid is None:
            self._grid = [self.until]
        self._nav_at = None
        self._evaluate(books, before=self.until + 1)

    def ledger(self, account: str) -> Ledger:
        if account not in self.ledgers:
            self.ledgers[account] = Ledger(account)
        return self.ledgers[account]

    # VALUES #

    def nav(self, books: Books, t: int) -> int:
        """Free cash plus each GPU's collateral value at `t`, as the books stand."""
        if self._nav_at is None or self._nav_at[0] != t:
            self._nav_at = (t, books.free_cash + sum(recomputed_values(books, t).values()))
        return self._nav_at[1]

    def value(self, books: Books, t: int, fractions: int) -> int:
        """`convertToAssets(fractions)` at NAV then."""
        return self.pool.value_at_nav(fractions, self.nav(books, t), self.accrual.supply)

    def _evaluate(self, books: Books, before: int) -> None:
        while self._grid and self._grid[0] < before:
            self.points.append(self._point(books, self._grid.pop(0)))
        while self.marks and self.marks[0] < before:
            t = self.marks.pop(0)
            for ledger in self.ledgers.values():
                ledger.snapshots[t] = self._snapshot(books, ledger, t)

    def _point(self, books: Books, t: int) -> PoolPoint:
        nav = self.nav(books, t)
        accrual = self.accrual
        held = [books.gpus[i] for i in sorted(books.held) if i in books.gpus]
        return PoolPoint(
            t=t,
            nav=nav,
            supply=accrual.supply,
            price=self.value(books, t, self.one),
            free_cash=books.free_cash,
            collateral_value=nav - books.free_cash,
            book_value=sum(gpu.registry_book_value(t) for gpu in held),
            received=accrual.received,
            claimed=accrual.claimed,
            unvested=accrual.unvested(t),
        )

    def _snapshot(self, books: Books, ledger: Ledger, t: int) -> Snapshot:
        return Snapshot(
            t=t,
            balance=self.accrual.balances.get(ledger.account, 0),
            units=ledger.units,
            price=self.value(books, t, self.one),
            value=self.value(books, t, ledger.units) + ledger.reserved,
            owed=self.accrual.owed(ledger.account, t),
            claimed=ledger.claimed,
            paid=ledger.paid,
            returned=ledger.returned,
            cost_basis=ledger.cost_basis,
        )

    # THE EVENTS #

    def _follows(self, account: str) -> bool:
        return account not in (ZERO_ADDRESS, self.vault) and (
            self.tracked is None or account in self.tracked
        )

    def _entry(
        self,
        books,
        log,
        t: int,
        account: str,
        kind: str,
        fractions: int,
        cash: int,
        detail: str = "",
        implied: tuple[int, int] | None = None,
    ) -> Ledger:
        """A row of `account`'s ledger, priced at NAV then or at the `implied` (assets, shares)
        of the event itself (a purchase, a redemption, a fulfilment: the books are mid-way
        through its transaction)."""
        ledger = self.ledger(account)
        if implied and implied[1]:
            price = implied[0] * self.one // implied[1]
        else:
            price = self.value(books, t, self.one)
        ledger.entries.append(
            Entry(t, log.block_number, log.transaction_hash, kind, fractions, cash, price, detail)
        )
        if cash:
            ledger.flows.append((t, cash))
        return ledger

    def _bought(self, books, log, t, account, kind, fractions, cost, detail="") -> None:
        if not self._follows(account):
            return
        implied = None if kind in AT_NAV else (cost, fractions)
        ledger = self._entry(books, log, t, account, kind, fractions, -cost, detail, implied)
        ledger.units += fractions
        ledger.cost_basis += cost
        ledger.paid += cost

    def _disposed(
        self, books, log, t, account, kind, fractions, proceeds, detail="", implied=None
    ) -> None:
        if not self._follows(account):
            return
        if implied is None and kind == "redemption":
            implied = (proceeds, fractions)
        ledger = self._entry(books, log, t, account, kind, -fractions, proceeds, detail, implied)
        ledger.dispose(fractions)
        ledger.returned += proceeds

    def _vault(self, books: Books, log, t: int) -> None:
        name, args = log.event_name, log.event_arguments
        where = f"block {log.block_number}"
        if name == "Transfer":
            sender, receiver, shares = args["sender"], args["receiver"], args["value"]
            moved = ZERO_ADDRESS not in (sender, receiver) and self.vault not in (sender, receiver)
            if moved and sender != receiver:
                self._moved(books, log, t, sender, receiver, shares, "transfer")
        elif name == "ForcedTransfer":
            self._rename(log, "transfer", "forced transfer")
        elif name == "Deposit":
            self._bought(books, log, t, args["owner"], "purchase", args["shares"], args["assets"])
        elif name == "Withdraw" and args["owner"] != self.vault:
            self._disposed(
                books, log, t, args["owner"], "redemption", args["shares"], args["assets"]
            )
        elif name == "RevenueClaimed" and self._follows(args["account"]):
            ledger = self._entry(
                books, log, t, args["account"], "revenue claimed", 0, args["amount"]
            )
            ledger.claimed += args["amount"]
        self.accrual.apply(name, args, t, where)

    def _moved(self, books, log, t, sender, receiver, shares, kind) -> None:
        """Fractions from one holder to another (a transfer, or fractions queued or claimed
        back for someone else): out of one at NAV then, into the other at the same value."""
        value = self.value(books, t, shares)
        self._disposed(books, log, t, sender, f"{kind} out", shares, value, receiver)
        self._bought(books, log, t, receiver, f"{kind} in", shares, value, sender)

    def _rename(self, log, kind: str, to: str) -> None:
        """Name the transfer rows (`kind in`, `kind out`) of this transaction anew: a forced
        transfer, a recovery."""
        tx = log.transaction_hash
        for ledger in self.ledgers.values():
            for entry in ledger.entries:
                if entry.tx == tx and entry.kind in (f"{kind} in", f"{kind} out"):
                    entry.kind = to + entry.kind.removeprefix(kind)

    def _compliance(self, books: Books, log, t: int) -> None:
        """A recovery: the balance moved by its forced transfer (renamed), the revenue owed
        (the accumulator), and the lost wallet's requests: their queued fractions and the assets
        reserved for them go to the new wallet."""
        if log.event_name != "WalletRecovered":
            return
        args = log.event_arguments
        lost, new = args["lost"], args["new"]
        self._rename(log, "forced transfer", "recovery")
        self.accrual.apply(log.event_name, args, t, "")
        moved = [r for r in self.requests.values() if r.controller == lost]
        queued = sum(r.pending + r.cancelled for r in moved)
        for request in moved:
            request.controller = new
        if queued:
            self._moved(books, log, t, lost, new, queued, "recovery of queued fractions")
        reserved = self.reserved.pop(lost, 0)
        self.reserved[new] += reserved
        if reserved:
            for account, sign, kind in ((lost, -1, "out"), (new, 1, "in")):
                if self._follows(account):
                    ledger = self._entry(
                        books,
                        log,
                        t,
                        account,
                        f"recovery of reserved assets {kind}",
                        0,
                        0,
                        f"{reserved} reserved in the queue",
                    )
                    ledger.reserved += sign * reserved
                    if sign < 0:
                        ledger.returned += reserved
                    else:
                        ledger.paid += reserved

    def _collateral(self, books: Books, log, t: int) -> None:
        if log.event_name == "GpuContributed":
            args = log.event_arguments
            self._bought(
                books,
                log,
                t,
                args["receiver"],
                "contribution",
                args["shares"],
                args["value"],
                f"GPU {args['token_id']}",
            )

    def _queue(self, books: Books, log, t: int) -> None:
        name, args = log.event_name, log.event_arguments
        if name == "RedeemRequest":
            owner, controller, shares = args["owner"], args["controller"], args["shares"]
            self.requests[args["requestId"]] = Request(controller, shares)
            if owner != controller:
                # The request's fractions are the controller's from now: it is paid for them.
                self._moved(books, log, t, owner, controller, shares, "queued for another")
            if self._follows(args["owner"]):
                self._entry(
                    books,
                    log,
                    t,
                    args["owner"],
                    "redemption request",
                    0,
                    0,
                    f"request {args['requestId']}: {args['shares']} queued",
                )
        elif name == "RedeemFulfilled":
            request = self.requests[args["requestId"]]
            request.pending = args["remaining"]
            self._disposed(
                books,
                log,
                t,
                args["controller"],
                "request fulfilled",
                args["shares"],
                0,
                f"request {args['requestId']}: {args['assets']} reserved",
                (args["assets"], args["shares"]),
            )
            self.reserved[args["controller"]] += args["assets"]
            if self._follows(args["controller"]):
                self.ledger(args["controller"]).reserved += args["assets"]
        elif name == "CancelRedeemRequest":
            request = self.requests[args["requestId"]]
            if self._follows(args["controller"]):
                self._entry(
                    books,
                    log,
                    t,
                    args["controller"],
                    "request cancelled",
                    0,
                    0,
                    f"request {args['requestId']}: {request.pending} to claim back",
                )
            request.pending, request.cancelled = 0, request.pending
        elif name == "CancelRedeemClaim":
            controller, receiver = args["controller"], args["receiver"]
            # A claim back takes every cancelled share of the controller.
            for request in self.requests.values():
                if request.controller == controller:
                    request.cancelled = 0
            if receiver != controller:
                self._moved(books, log, t, controller, receiver, args["shares"], "claimed back")
            if not self._follows(controller):
                return
            self._entry(
                books,
                log,
                t,
                args["controller"],
                "cancelled fractions back",
                0,
                0,
                f"request {args['requestId']}: {args['shares']}",
            )
        elif name == "Withdraw":
            self.reserved[args["owner"]] -= args["assets"]
            if not self._follows(args["owner"]):
                return
            ledger = self._entry(
                books,
                log,
                t,
                args["owner"],
                "redemption paid",
                0,
                args["assets"],
                "claimed from the queue",
            )
            ledger.reserved -= args["assets"]
            ledger.returned += args["assets"]


def replay(
    pool: Pool,
    tracked: set[str] | None = None,
    marks: list[int] = (),
    until: int | None = None,
    source: EventSource | None = None,
) -> tuple[History, Books]:
    """The audit's replay of the pool's events (from `source`: `rebuild_books`) to the last
    block, observed up to `until` (default: the last block's time): the history, with the tracked
    holders' snapshots at `marks` and at `until`, and the books."""
    until = chain.blocks.head.timestamp if until is None else until
    history = History(pool, until, tracked, [*marks, until])
    books = rebuild_books(pool, observe=history.observe, source=source)
    history.finish(books)
    return history, books
