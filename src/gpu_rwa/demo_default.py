"""A pool through a lease default and its wind-down to zero, on a local chain, with a report an
auditor can check (`make demo-default`, reports/demo-default.json).

Each step is a function named for what the user sees, run in order by `run_default_lifecycle`:
deploy -> the operator contributes eight GPUs -> investors buy -> the pool buys two GPUs with free
cash -> the appraiser sets the two DGX servers' recovery values -> two leases: one is paid to the
end, the other twice and then never -> its arrears grow (amounts and days late, recorded at every
custodian visit) -> an investor queues its whole stake -> the audit -> a second past the pool's
`default_after` anyone declares the default: its GPUs are marked down in that block (NAV before
and after), below their straight-line book value, so entries wait -> the operator fulfils the
queued request at the lower NAV and closes the lease -> the audit -> a defaulted DGX is sold at
its recovery value (the part above its collateral value is streamed to holders) and the appraiser
settles the other defaulted GPUs' marks (they are for sale: their write-downs will not come back),
which opens entries again -> the lessee pays a recovery (revenue to holders) -> the healthy lease
ends -> governance puts the pool in wind-down (the admin schedules it on the timelock and executes
it after the delay; a buy is refused) -> every GPU is listed and sold (at the floor; one above it;
the other DGX at its recovery value: in wind-down every price enters free cash) -> the revenue
vests and is claimed, what the dead shares earned recycled until nothing whole is left -> every
holder requests everything and the operator fulfils one request a call
(pro rata without the dead shares: the last takes the last of NAV) -> the controllers claim, the
fees are claimed -> the audit, and the end state measured to the wei.

The custodian attests the pool's GPUs twice a month (signed, EIP-712, and submitted through the
CustodyAttestor), as in `make demo`, so that no GPU ever goes stale.
"""

from dataclasses import dataclass, field
from pathlib import Path

from ape import accounts, chain
from ape.api import AccountAPI
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from gpu_rwa import appraise, collateral, custody, leases
from gpu_rwa import pool as pools
from gpu_rwa import queue as queues
from gpu_rwa.audit import (
    InvariantCheck,
    check_invariants,
    failures,
    invariants_table,
    rebuild_books,
    summary_line,
)
from gpu_rwa.chain import local_account, send
from gpu_rwa.cli import validated
from gpu_rwa.config import DeployConfig
from gpu_rwa.demo import (
    INVESTOR_DAYS,
    MATURE_PER_CALL,
    MONTH,
    NEWCOMER_ETH,
    VISIT,
    Stage,
    advance,
    governed,
    refusal,
    register_inventory,
    returns_table,
    verify,
)
from gpu_rwa.errors import UserError
from gpu_rwa.history import replay
from gpu_rwa.statement import Performance, holder_returns
from gpu_rwa.types import SECONDS_PER_DAY

# Investors TEST::7, TEST::8, TEST::9 and what each buys, in stablecoin units.
PURCHASES = {7: "250000", 8: "150000", 9: "100000"}
# The investor that queues its whole stake before the default, and the one that declares it.
REQUESTER = 9
DECLARER = 8
# Inventory rows (sample.csv order): 4 H100, 2 H200, 2 B200, 2 DGX H100 servers.
H100, H200, B200, DGX = (0, 1, 2, 3), (4, 5), (6, 7), (8, 9)
# The pool buys the two H200 with free cash; the operator contributes the rest.
BOUGHT = H200
# The appraiser's recovery values of the DGX servers (book value, stablecoin units).
RECOVERY = {DGX[0]: "150000", DGX[1]: "140000"}
# The healthy lease (paid to the end) and the one that defaults after two instalments.
HEALTHY = dict(gpus=H100 + B200, instalment="20000", instalments=6)
DEFAULTING = dict(gpus=DGX + H200, instalment="30000", instalments=12, paid=2)
GRACE_DAYS = 5
# What the lessee pays back after the default.
RECOVERED = "40000"
# Why the appraiser settles the defaulted GPUs' marks after the first sale (hashed on chain).
SETTLE_REASON = "default write-down final: the GPUs are listed for sale"
# The one GPU sold above its floor in wind-down, and by how much.
ABOVE_FLOOR, PREMIUM = H100[0], "1500"
# Listings stay open this long; a price checked now holds then (a floor only falls).
LISTING_DAYS = 1
# Skims that recycle the dead shares' earnings before the exits, at most.
MAX_RECYCLES = 8
# An account's revenue owed is kept in units of 2**-28 of a stablecoin unit (contracts/revenue.vy).
FRACTION_BITS = 28


class Snapshot(BaseModel):
    """The pool's figures at one moment of the story."""

    label: str
    timestamp: int
    nav: int
    price_per_fraction: str
    supply: int
    free_cash: int
    collateral_value: int
    gpus_held: int
    revenue_received: int
    unvested: int
    winding_down: bool


class ArrearsPoint(BaseModel):
    """LeaseManager.arrears of the defaulting lease at a custodian's visit."""

    timestamp: int
    instalments: int
    amount: int
    oldest_due: int
    days_late: int
    defaultable: bool


class Mark(BaseModel):
    """One GPU marked down by the default (GpuAppraisals.GpuMarked): book values before and
    after, and its collateral value in the default's block."""

    token_id: int
    model: str
    previous_book_value: int
    book_value: int
    recovery_value_set: bool
    collateral_value_after: int


class Default(BaseModel):
    lease_id: int
    caller: str
    timestamp: int
    block: int
    arrears_amount: int
    instalments: int
    days_late: int
    # NAV a second before (the block before) and in the default's block.
    nav_before: int
    nav_after: int
    price_before: str
    price_after: str
    marks: list[Mark]


class QueuedExit(BaseModel):
    """The investor that queued its whole stake before the default: priced at the fulfilling
    block's NAV, after the write-down."""

    controller: str
    request_id: int
    shares: int
    value_at_request: int
    price_at_request: str
    assets: int
    price_at_fulfilment: str
    claimed: int


class Sale(BaseModel):
    """One GPU sold through the GpuMarket (GpuSold, GpuReleased, the vault's Skimmed)."""

    token_id: int
    model: str
    why: str
    winding_down: bool
    price: int
    floor: int
    collateral_value: int
    to_free_cash: int
    streamed_to_holders: int


class Exit(BaseModel):
    """A holder's last exit through the queue in wind-down."""

    controller: str
    request_id: int
    shares: int
    assets: int
    price_per_fraction: str
    revenue_claimed: int


class EndState(BaseModel):
    supply: int
    dead_shares: int
    gpus_held: int
    free_cash: int
    total_assets: int
    fees_accrued: int
    queue_reserved: int
    queue_pending_shares: int
    queue_stablecoin: int
    vault_stablecoin: int
    revenue_received: int
    revenue_claimed: int
    revenue_held: int
    unvested: int
    claimable_by_anyone: int
    # Sub-wei parts (units of 2**-28 wei) each account is still owed, the accumulator's
    # remainder (ACC_SCALE-scaled wei) and what is parked (ACC_SCALE-scaled wei).
    sub_wei_owed: dict[str, int]
    accumulator_remainder: int
    parked: int
    dust_bound: int
    explanation: str


class DefaultReport(BaseModel):
    addresses: dict[str, str]
    gpus: dict[str, str]
    contributed: list[int]
    bought: dict[str, int]
    purchases: dict[str, dict[str, int]]
    recovery_values: dict[str, int]
    leases: dict[str, dict[str, int | str | list[int]]]
    arrears: list[ArrearsPoint]
    queued: QueuedExit
    default: Default
    closed: dict[str, int | str]
    recovery: dict[str, int]
    refused: list[str]
    sales: list[Sale]
    # Defaulted GPUs whose marks the appraiser settled: token id -> book value settled at.
    settled: dict[str, int]
    recycled: list[int]
    revenue_claims: dict[str, int]
    exits: list[Exit]
    fees_claimed: int
    attestations: int
    snapshots: list[Snapshot]
    end: EndState
    # Every invariant, checked with the request pending just before the default, after the
    # default (the request fulfilled, the lease closed) and at the end.
    audits: dict[str, list[InvariantCheck]]
    # Each holder's results from the events, all of it paid out (`gpu_rwa.statement`).
    returns: dict[str, Performance]

    @property
    def passed(self) -> bool:
        return all(not failures(checks) for checks in self.audits.values())


@dataclass
class Run(Stage):
    """What the default scenario's steps share and what they gather for the report."""

    lease_ids: dict[str, int] = field(default_factory=dict)
    buyer: AccountAPI | None = None
    purchases: dict[str, dict[str, int]] = field(default_factory=dict)
    bought: dict[str, int] = field(default_factory=dict)
    arrears: list[ArrearsPoint] = field(default_factory=list)
    queued: dict = field(default_factory=dict)
    default: Default | None = None
    closed: dict[str, int | str] = field(default_factory=dict)
    recovery: dict[str, int] = field(default_factory=dict)
    sales: list[Sale] = field(default_factory=list)
    settled: dict[str, int] = field(default_factory=dict)
    recycled: list[int] = field(default_factory=list)
    revenue_claims: dict[str, int] = field(default_factory=dict)
    exits: list[Exit] = field(default_factory=list)
    fees_claimed: int = 0
    attestations: int = 0
    snapshots: list[Snapshot] = field(default_factory=list)
    audits: dict[str, list[InvariantCheck]] = field(default_factory=dict)

    def gpu(self, row: int) -> int:
        """The token id of inventory row `row`."""
        return self.token_ids[row]

    def gpus(self, rows) -> list[int]:
        return [self.token_ids[row] for row in rows]

    def model(self, token_id: int) -> str:
        return self.pool.registry.gpu(token_id).model

    @property
    def holders(self) -> list[AccountAPI]:
        return [self.cast.operator, *self.cast.investors.values()]


def run_default_lifecycle(
    deploy_config: DeployConfig, inventory: Path, manifest_path: Path, console: Console
) -> DefaultReport:
    run = Run.deployed(deploy_config, manifest_path, console)
    register_and_contribute(run, inventory)
    investors_buy(run)
    pool_buys_gpus(run)
    appraiser_sets_recovery_values(run)
    open_leases(run)
    arrears_grow(run)
    default_is_declared(run)
    queue_paid_and_lease_closed(run)
    sale_at_recovery_value(run)
    recovery_paid(run)
    healthy_lease_ends(run)
    wind_down(run)
    sell_every_gpu(run)
    revenue_vests(run)
    holders_exit(run)
    return report(run)


# THE STEPS #


def register_and_contribute(run: Run, inventory: Path) -> None:
    pool, cast, console = run.pool, run.cast, run.console
    register_inventory(
        run, inventory, "2. register {count} GPUs; the operator contributes all but the H200s"
    )
    contributed = [i for row, i in enumerate(run.token_ids) if row not in BOUGHT]
    for token_id, value, shares in collateral.contribute(pool, cast.operator, contributed, None):
        console.print(
            f"  GPU {token_id} ({run.model(token_id)}) in at {pool.cash(value)}: "
            f"{pool.fractions(shares)} to the operator"
        )
    snapshot(run, "GPUs contributed")


def investors_buy(run: Run) -> None:
    pool, console = run.pool, run.console
    console.rule("3. investors are verified and buy fractions")
    verify(run, [a.address for a in run.cast.investors.values()], INVESTOR_DAYS)
    for index, amount in PURCHASES.items():
        investor = run.cast.investors[index]
        pools.faucet(pool, investor, int(amount) * 10**pool.decimals)
        order = validated(pools.BuyOrder, dict(assets=amount), pool.context)
        trade = pools.buy(pool, investor, order, console)
        run.purchases[investor.address] = {"paid": trade.assets, "fractions": trade.shares}
        console.print(
            f"  {investor.address} paid {pool.cash(trade.assets)} for "
            f"{pool.fractions(trade.shares)}"
        )
    snapshot(run, "investors bought")


def pool_buys_gpus(run: Run) -> None:
    """The operator offers free cash for the two H200 (its own, here), at most the collateral
    value they add an hour from now; it accepts as their owner (GpuMarket.sell_gpu)."""
    pool, operator, console = run.pool, run.cast.operator, run.console
    market, unit = pool.market, 10**pool.decimals
    console.rule("4. the pool buys two GPUs with free cash (GpuMarket offer, owner accepts)")
    for token_id in run.gpus(BOUGHT):
        terms = collateral.terms_of(pool, token_id)
        expires_at = chain.pending_timestamp + SECONDS_PER_DAY
        price = collateral.value_added(pool, terms, chain.pending_timestamp + 3_600) // unit * unit
        send(
            f"offering for GPU {token_id}",
            market.offer_gpu,
            token_id,
            price,
            expires_at,
            sender=operator,
        )
        receipt = send(f"selling GPU {token_id}", market.sell_gpu, token_id, price, sender=operator)
        log = next(iter(market.GpuPurchased.from_receipt(receipt)))
        run.bought[str(token_id)] = log.price
        console.print(
            f"  GPU {token_id} ({run.model(token_id)}) bought for {pool.cash(log.price)} of free "
            f"cash; it adds {pool.cash(log.value)} of collateral"
        )
    snapshot(run, "the pool bought two GPUs")


def appraiser_sets_recovery_values(run: Run) -> None:
    pool, console = run.pool, run.console
    appraiser = local_account("appraiser")
    console.rule("5. the appraiser sets the DGX servers' recovery values")
    for row, amount in RECOVERY.items():
        token_id = run.gpu(row)
        value = int(amount) * 10**pool.decimals
        send(
            f"setting GPU {token_id}'s recovery value",
            pool.appraisals.set_recovery_value,
            token_id,
            value,
            b"recovery appraisal 2027-Q1".ljust(32, b"\0"),
            sender=appraiser,
        )
        console.print(
            f"  GPU {token_id} ({run.model(token_id)}): {pool.cash(value)} if its lessee defaults "
            f"(book value now {pool.cash(pool.collateral.book_of(token_id))})"
        )


def open_leases(run: Run) -> None:
    pool, cast, console = run.pool, run.cast, run.console
    console.rule("6. two leases to the same lessee")
    total = 0
    for name, lease in (("healthy", HEALTHY), ("defaulting", DEFAULTING)):
        terms = validated(
            leases.LeaseTerms,
            dict(
                lessee=cast.lessee.address,
                instalment=lease["instalment"],
                period_days=MONTH // SECONDS_PER_DAY,
                instalments=lease["instalments"],
                grace_days=GRACE_DAYS,
                gpu_ids=run.gpus(lease["gpus"]),
            ),
            pool.context,
        )
        run.lease_ids[name], _ = leases.open_lease(pool, cast.operator, terms)
        paid = lease.get("paid", lease["instalments"])
        total += paid * terms.instalment
        console.print(
            f"  lease {run.lease_ids[name]} ({name}): {lease['instalments']} x "
            f"{pool.cash(terms.instalment)} a month over GPUs {', '.join(map(str, terms.gpu_ids))}"
        )
    total += int(RECOVERED) * 10**pool.decimals
    pools.faucet(pool, cast.lessee, total)
    send(
        "approving the vault",
        pool.stablecoin.approve,
        pool.vault.address,
        total,
        sender=cast.lessee,
    )


def arrears_grow(run: Run) -> None:
    """Months 1-4: the healthy lease is paid every month, the defaulting one in months 1 and 2
    only; from month 3 its arrears are recorded at each custodian visit."""
    pool, console = run.pool, run.console
    console.rule("7. months 1-4: one lease paid, the other falls into arrears")
    for month in range(1, 5):
        advance(VISIT)
        visit(run)
        advance(MONTH - VISIT)
        _pay(run, "healthy")
        if month <= DEFAULTING["paid"]:
            _pay(run, "defaulting")
        visit(run)
        snapshot(run, f"month {month}")
    point = run.arrears[-1]
    console.print(
        f"  lease {run.lease_ids['defaulting']}: {point.instalments} instalment(s), "
        f"{pool.cash(point.amount)}, the oldest {point.days_late} day(s) late"
    )


def default_is_declared(run: Run) -> None:
    """Month 5: the investor queues its whole stake at a custodian's visit; the healthy lease's
    fifth instalment is paid at the last second the defaulting lease may not be declared in
    default; a second later it may be (a block shows it); the audit; and in the next second an
    investor (no role) declares it: its GPUs are marked down in that block."""
    pool, cast, console = run.pool, run.cast, run.console
    lease_id = run.lease_ids["defaulting"]
    console.rule("8. month 5: a queued exit, the audit, and the default")
    advance(VISIT)
    visit(run)
    queue_the_stake(run, cast.investors[REQUESTER])
    lease = pool.leases.lease(lease_id)
    due = lease.start + (lease.paid + 1) * lease.period
    chain.pending_timestamp = due + lease.default_after
    _pay(run, "healthy")
    record_arrears(run)
    chain.mine(timestamp=due + lease.default_after + 1)
    record_arrears(run)
    audit(run, "before_default")
    nav_before = pool.vault.totalAssets()
    price_before = _price(pool)
    chain.pending_timestamp = due + lease.default_after + 2
    declarer = cast.investors[DECLARER]
    receipt = leases.declare_default(pool, declarer, lease_id, console)
    record_arrears(run)
    event = next(iter(pool.leases.LeaseDefaulted.from_receipt(receipt)))
    marks = [
        Mark(
            token_id=log.token_id,
            model=run.model(log.token_id),
            previous_book_value=log.previous,
            book_value=log.book_value,
            recovery_value_set=pool.appraisals.recovery_value(log.token_id)[1],
            collateral_value_after=pool.collateral.value_of(log.token_id),
        )
        for log in pool.appraisals.GpuMarked.from_receipt(receipt)
    ]
    run.default = Default(
        lease_id=lease_id,
        caller=declarer.address,
        timestamp=receipt.timestamp,
        block=receipt.block_number,
        arrears_amount=event.arrears_amount,
        instalments=event.instalments,
        days_late=event.days_late,
        nav_before=nav_before,
        nav_after=pool.vault.totalAssets(),
        price_before=price_before,
        price_after=_price(pool),
        marks=marks,
    )
    default = run.default
    console.print(
        f"  NAV {pool.cash(default.nav_before)} a second before, {pool.cash(default.nav_after)} "
        f"in the default's block ({pool.cash(default.nav_before - default.nav_after)} less): the "
        f"price of a fraction went from {default.price_before} to {default.price_after}"
    )
    for mark in marks:
        source = "the appraiser's recovery value" if mark.recovery_value_set else "salvage"
        console.print(
            f"  GPU {mark.token_id} ({mark.model}) marked from "
            f"{pool.cash(mark.previous_book_value)} to {pool.cash(mark.book_value)} of book value "
            f"({source})"
        )
    # Below their straight-line book value, the marks hold entries until the GPUs are sold, marked
    # back up or their marks settled (a buyer could otherwise keep a mark-up).
    console.print(f"  entries (buy, contribute): {pools.entries_cell(pool)}", soft_wrap=True)
    snapshot(run, "the default's block")


def queue_the_stake(run: Run, investor: AccountAPI) -> None:
    pool = run.pool
    order = validated(queues.RequestOrder, dict(all_=True), pool.context)
    requested = queues.request_redeem(pool, investor, order)
    run.queued = {
        "controller": requested.controller,
        "request_id": requested.request_id,
        "shares": requested.shares,
        "value_at_request": requested.value,
        "price_at_request": pool.price(requested.value, requested.shares),
    }
    run.console.print(
        f"  {investor.address} queues its whole stake, {pool.fractions(requested.shares)} worth "
        f"{pool.cash(requested.value)}: request {requested.request_id}, priced when the operator "
        "fulfils it"
    )


def queue_paid_and_lease_closed(run: Run) -> None:
    """The operator fulfils the queued request at the NAV after the write-down, the investor
    claims; the operator closes the defaulted lease (its GPUs ACTIVE again, for sale); the
    audit."""
    pool, cast, console = run.pool, run.cast, run.console
    console.rule("9. the request pays at the lower NAV; the defaulted lease is closed")
    done = queues.fulfil(pool, cast.operator, queues.DEFAULT_FULFIL)
    investor = cast.investors[REQUESTER]
    claim = queues.claim_redeem(pool, investor, None)
    queued = run.queued
    queued.update(
        assets=done.assets,
        price_at_fulfilment=pool.price(done.assets, done.shares),
        claimed=claim.assets,
    )
    console.print(
        f"  request {queued['request_id']}: {pool.fractions(done.shares)} paid "
        f"{pool.cash(done.assets)} ({queued['price_at_fulfilment']} a fraction; "
        f"{queued['price_at_request']} when it was made): a write-down before fulfilment is "
        "borne by the request"
    )
    lease_id = run.lease_ids["defaulting"]
    leases.close_lease(pool, cast.operator, lease_id, console)
    run.closed = {
        "lease_id": lease_id,
        "gpus": ", ".join(map(str, pool.leases.lease_gpus(lease_id))),
        "status": leases.LEASE_STATUS_NAMES[pool.leases.lease(lease_id).status],
    }
    audit(run, "after_default")


def sale_at_recovery_value(run: Run) -> None:
    run.console.rule(
        "10. a defaulted DGX sells at its recovery value (the floor); the other defaulted GPUs' "
        "marks are settled"
    )
    run.buyer = _buyer(run)
    sell(run, run.gpu(DGX[0]), "recovery value (the floor of a defaulted GPU)", 0)
    settle_defaulted_marks(run)


def settle_defaulted_marks(run: Run) -> None:
    """The defaulted GPUs still held stand below their straight-line book value by the default's
    marks, which hold entries; they are for sale, so their write-downs will not come back: the
    appraiser settles their marks (final where they stand, no mark-up from then on) and entries
    open again."""
    pool, console = run.pool, run.console
    appraiser = local_account("appraiser")
    held = set(_held(run))
    for mark in run.default.marks:
        if mark.token_id not in held:
            continue
        settlement = validated(
            appraise.Settlement, dict(token_id=mark.token_id, reason=SETTLE_REASON)
        )
        receipt = appraise.settle(pool, appraiser, settlement)
        settled = next(iter(pool.appraisals.MarkSettled.from_receipt(receipt)))
        run.settled[str(settled.token_id)] = settled.book_value
        console.print(f"  {appraise.settle_summary(pool, receipt)}")
    console.print(f"  entries (buy, contribute): {pools.entries_cell(pool)}", soft_wrap=True)


def recovery_paid(run: Run) -> None:
    pool, cast = run.pool, run.cast
    run.console.rule("11. the lessee pays a recovery: revenue to holders")
    amount = int(RECOVERED) * 10**pool.decimals
    receipts = leases.pay_recovery(
        pool, cast.lessee, run.lease_ids["defaulting"], amount, run.console
    )
    paid = next(iter(pool.leases.RecoveryPaid.from_receipt(receipts[-1])))
    run.recovery = {"amount": paid.amount, "fee": paid.fee, "to_holders": paid.amount - paid.fee}
    snapshot(run, "recovery paid")


def healthy_lease_ends(run: Run) -> None:
    run.console.rule("12. month 6: the healthy lease's last instalment")
    advance(MONTH - VISIT)
    visit(run)
    lease = run.pool.leases.lease(run.lease_ids["healthy"])
    chain.pending_timestamp = max(
        chain.pending_timestamp, lease.start + lease.instalments * lease.period
    )
    _pay(run, "healthy")
    visit(run)
    snapshot(run, "month 6")


def wind_down(run: Run) -> None:
    pool, cast, console = run.pool, run.cast, run.console
    console.rule("13. governance puts the pool in wind-down")
    governed(run, "GpuCollateral", "wind_down")
    console.print(f"  winding down: {pools.winding_down_cell(pool)}")
    order = validated(pools.BuyOrder, dict(assets="1000"), pool.context)
    refusal(run, "a buy in wind-down", lambda: pools.buy(pool, cast.investors[7], order, console))
    snapshot(run, "wind-down")


def sell_every_gpu(run: Run) -> None:
    pool = run.pool
    run.console.rule("14. every GPU is listed and sold")
    held = _held(run)
    for token_id in held:
        if token_id == run.gpu(ABOVE_FLOOR):
            sell(run, token_id, "above the floor", int(PREMIUM) * 10**pool.decimals)
        elif token_id in run.gpus(RECOVERY):
            sell(run, token_id, "recovery value (the floor of a defaulted GPU)", 0)
        else:
            sell(run, token_id, "the floor (its collateral value)", 0)
    snapshot(run, "every GPU sold")


def revenue_vests(run: Run) -> None:
    """Every stream ends and the holders claim; `skim` takes what the vault's own fractions (the
    dead shares) earned back into a new stream, until it takes nothing whole."""
    pool, console = run.pool, run.console
    vault = pool.vault
    console.rule("15. the revenue vests and is claimed; the dead shares' earnings recycled")
    for _ in range(MAX_RECYCLES):
        end = vault.revenue_state()[4]
        chain.mine(timestamp=max(end, chain.pending_timestamp) + 1)
        claim_revenue(run)
        receipt = send("skimming", vault.skim, sender=run.cast.operator)
        recycled = next(iter(vault.Skimmed.from_receipt(receipt))).recycled
        run.recycled.append(recycled)
        console.print(f"  skim: {pool.cash(recycled)} the dead shares earned streamed again")
        if recycled == 0:
            break
    else:
        raise UserError(f"the dead shares still earned something after {MAX_RECYCLES} skims")
    snapshot(run, "revenue vested and claimed")


def holders_exit(run: Run) -> None:
    """Every holder requests everything; the operator fulfils one request a call, each priced pro
    rata without the dead shares at its block, so the last takes the last of NAV; each claims;
    the fees are claimed; the audit."""
    pool, cast, console = run.pool, run.cast, run.console
    vault = pool.vault
    console.rule("16. every holder leaves through the queue")
    order = validated(queues.RequestOrder, dict(all_=True), pool.context)
    requests = []
    for holder in run.holders:
        if vault.balanceOf(holder.address) == 0:
            continue
        requests.append((holder, queues.request_redeem(pool, holder, order)))
    for holder, requested in requests:
        done = queues.fulfil(pool, cast.operator, 1)
        claim = queues.claim_redeem(pool, holder, None)
        run.exits.append(
            Exit(
                controller=holder.address,
                request_id=requested.request_id,
                shares=done.shares,
                assets=claim.assets,
                price_per_fraction=pool.price(done.assets, done.shares),
                revenue_claimed=run.revenue_claims.get(holder.address, 0),
            )
        )
        console.print(
            f"  {holder.address}: {pool.fractions(done.shares)} for {pool.cash(claim.assets)} "
            f"({pool.price(done.assets, done.shares)} a fraction)"
        )
    receipt = send("claiming the fees", vault.claim_fees, sender=cast.admin)
    run.fees_claimed = sum(log.amount for log in vault.FeesClaimed.from_receipt(receipt))
    console.print(f"  fees claimed by the fee recipient: {pool.cash(run.fees_claimed)}")
    audit(run, "end")


def report(run: Run) -> DefaultReport:
    pool = run.pool
    end = end_state(run)
    run.console.rule("17. the end state")
    run.console.print(f"  {end.explanation}", soft_wrap=True)
    return DefaultReport(
        addresses={name: record.address for name, record in pool.manifest.contracts.items()},
        gpus={str(i): run.model(i) for i in run.token_ids},
        contributed=[i for row, i in enumerate(run.token_ids) if row not in BOUGHT],
        bought=run.bought,
        purchases=run.purchases,
        recovery_values={
            str(run.gpu(row)): int(amount) * 10**pool.decimals for row, amount in RECOVERY.items()
        },
        leases={
            name: {
                "lease_id": run.lease_ids[name],
                "gpus": run.gpus(lease["gpus"]),
                "instalment": int(lease["instalment"]) * 10**pool.decimals,
                "instalments": lease["instalments"],
                "paid": pool.leases.lease(run.lease_ids[name]).paid,
                "status": leases.LEASE_STATUS_NAMES[pool.leases.lease(run.lease_ids[name]).status],
            }
            for name, lease in (("healthy", HEALTHY), ("defaulting", DEFAULTING))
        },
        arrears=run.arrears,
        queued=QueuedExit(**run.queued),
        default=run.default,
        closed=run.closed,
        recovery=run.recovery,
        refused=run.refused,
        sales=run.sales,
        settled=run.settled,
        recycled=run.recycled,
        revenue_claims=run.revenue_claims,
        exits=run.exits,
        fees_claimed=run.fees_claimed,
        attestations=run.attestations,
        snapshots=run.snapshots,
        end=end,
        audits=run.audits,
        returns=holder_returns(replay(pool)[0]),
    )


# WHAT THE STEPS DO #


def visit(run: Run) -> None:
    """The custodian's visit: every GPU the pool holds, signed (EIP-712) and submitted through the
    CustodyAttestor; the arrears of the defaulting lease recorded while it is active and has
    any; due changes of the schedule matured, if any."""
    pool = run.pool
    held = _held(run)
    if held:
        custody.attest_now(pool.registry, pool.attestor, run.cast.custodian, held)
        run.attestations += 1
    lease_id = run.lease_ids.get("defaulting")
    if lease_id and _active(run, lease_id) and pool.leases.in_arrears(lease_id):
        record_arrears(run)
    if pool.collateral.pending():
        collateral.process_maturities(pool, run.cast.operator, MATURE_PER_CALL)


def record_arrears(run: Run) -> None:
    leases_ = run.pool.leases
    lease_id = run.lease_ids["defaulting"]
    count, amount, oldest_due, days_late = leases_.arrears(lease_id)
    run.arrears.append(
        ArrearsPoint(
            timestamp=chain.blocks.head.timestamp,
            instalments=count,
            amount=amount,
            oldest_due=oldest_due,
            days_late=days_late,
            defaultable=leases_.defaultable(lease_id),
        )
    )


def sell(run: Run, token_id: int, why: str, premium: int) -> None:
    """The operator lists the GPU at its floor plus `premium`; the buyer takes it in the next
    block, paying the vault."""
    pool, operator, buyer = run.pool, run.cast.operator, run.buyer
    market, vault = pool.market, pool.vault
    price = market.floor(token_id) + premium
    expires_at = chain.pending_timestamp + LISTING_DAYS * SECONDS_PER_DAY
    send(f"listing GPU {token_id}", market.list_gpu, token_id, price, expires_at, sender=operator)
    pools.faucet(pool, buyer, price)
    send("approving the vault", pool.stablecoin.approve, vault.address, price, sender=buyer)
    receipt = send(f"buying GPU {token_id}", market.buy_gpu, token_id, price, sender=buyer)
    sold = next(iter(market.GpuSold.from_receipt(receipt)))
    released = next(iter(pool.collateral.GpuReleased.from_receipt(receipt)))
    streamed = sum(log.donation for log in vault.Skimmed.from_receipt(receipt))
    sale = Sale(
        token_id=token_id,
        model=run.model(token_id),
        why=why,
        winding_down=pool.collateral.winding_down(),
        price=sold.price,
        floor=sold.floor,
        collateral_value=sold.value,
        to_free_cash=released.to_cash,
        streamed_to_holders=streamed,
    )
    run.sales.append(sale)
    run.console.print(
        f"  GPU {token_id} ({sale.model}) sold for {pool.cash(sale.price)}, {why}: collateral "
        f"value {pool.cash(sale.collateral_value)}; {pool.cash(sale.to_free_cash)} to free cash, "
        f"{pool.cash(sale.streamed_to_holders)} streamed to holders"
    )


def claim_revenue(run: Run) -> None:
    for holder in run.holders:
        if run.pool.vault.claimable(holder.address) == 0:
            continue
        amount, _ = pools.claim(run.pool, holder, None)
        run.revenue_claims[holder.address] = run.revenue_claims.get(holder.address, 0) + amount


def audit(run: Run, when: str) -> None:
    checks = check_invariants(run.pool, rebuild_books(run.pool))
    run.audits[when] = checks
    run.console.print(f"  the audit ({when.replace('_', ' ')}): {summary_line(checks)}")
    if failures(checks):
        run.console.print(invariants_table(checks, run.pool))
        raise UserError(f"the audit {when.replace('_', ' ')}: {summary_line(checks)}")


def snapshot(run: Run, label: str) -> None:
    pool = run.pool
    vault = pool.vault
    run.snapshots.append(
        Snapshot(
            label=label,
            timestamp=chain.blocks.head.timestamp,
            nav=vault.totalAssets(),
            price_per_fraction=_price(pool),
            supply=vault.totalSupply(),
            free_cash=vault.free_cash(),
            collateral_value=pool.collateral.value(),
            gpus_held=pool.registry.balanceOf(pool.collateral.address),
            revenue_received=vault.received(),
            unvested=vault.unvested(),
            winding_down=pool.collateral.winding_down(),
        )
    )


def end_state(run: Run) -> EndState:
    """The pool after the last holder left, measured to the wei, with what is left explained."""
    pool = run.pool
    vault, queue = pool.vault, pool.queue
    accounts_ = [*(h.address for h in run.holders), vault.address]
    sub_wei = {a: vault.account_state(a)[1] for a in accounts_}
    _, rem, _, _, _ = vault.revenue_state()
    received, held = vault.received(), vault.held()
    claimable = sum(vault.claimable(a) for a in accounts_)
    left = pool.stablecoin.balanceOf(vault.address)
    # Under one wei per account that ever held (its sub-wei rest), plus the accumulator's
    # remainder and the floor of what is parked (audit.py's DUST_PER_HOLDER and DUST_GLOBAL).
    bound = len(accounts_) + 2
    rests = sum(sub_wei.values()) / 2**FRACTION_BITS
    explanation = (
        f"the vault holds {left} base unit(s) of {pool.symbol}, all of it revenue no one can "
        f"claim a whole unit of: {received} received for holders, {received - held} claimed, "
        f"{claimable} claimable, {vault.unvested()} unvested; what is left is the sub-unit rests "
        "of the accounts' revenue (each under one unit, kept owed rather than rounded up: "
        f"{rests:.8f} units in all), the accumulator's remainder and the floor of the parked "
        f"stream (each under a unit; at most {bound} units for these {len(accounts_) - 1} "
        "holders and the dead shares in all). The dead "
        "shares earned nothing whole after the last recycle (the last skim took "
        f"{run.recycled[-1] if run.recycled else 0}), because the exits came after every stream "
        "had ended and a skim had streamed their earnings to the holders, who claimed them"
    )
    return EndState(
        supply=vault.totalSupply(),
        dead_shares=vault.DEAD_SHARES(),
        gpus_held=pool.registry.balanceOf(pool.collateral.address),
        free_cash=vault.free_cash(),
        total_assets=vault.totalAssets(),
        fees_accrued=vault.accrued_fees(),
        queue_reserved=queue.reserved(),
        queue_pending_shares=queue.pending_shares(),
        queue_stablecoin=pool.stablecoin.balanceOf(queue.address),
        vault_stablecoin=left,
        revenue_received=received,
        revenue_claimed=received - held,
        revenue_held=held,
        unvested=vault.unvested(),
        claimable_by_anyone=claimable,
        sub_wei_owed=sub_wei,
        accumulator_remainder=rem,
        parked=vault.undistributed(),
        dust_bound=bound,
        explanation=explanation,
    )


def _active(run: Run, lease_id: int) -> bool:
    return run.pool.leases.lease(lease_id).status == leases.LEASE_ACTIVE


def _pay(run: Run, name: str) -> None:
    leases.pay_instalments(run.pool, run.cast.lessee, run.lease_ids[name], 1, run.console)


def _held(run: Run) -> list[int]:
    """The sample GPUs the pool holds now, in id order."""
    owner = run.pool.collateral.address
    return [i for i in run.token_ids if run.pool.registry.ownerOf(i) == owner]


def _price(pool: pools.Pool) -> str:
    one = 10**pool.fraction_decimals
    return pool.price(pool.vault.convertToAssets(one), one)


def _buyer(run: Run) -> AccountAPI:
    """A GPU reseller: a fresh account of the mnemonic with gas; it needs no verification (it
    buys hardware, not fractions)."""
    buyer = accounts.test_accounts.generate_test_account()
    send("funding the buyer's gas", run.cast.admin.transfer, buyer, NEWCOMER_ETH)
    return buyer


# TABLES #


def summary_tables(pool: pools.Pool, report: DefaultReport) -> list[Table]:
    story = Table(title=f"the pool through its default and wind-down ({pool.symbol})")
    for column in ("moment", "NAV", "price / fraction", "free cash", "collateral", "GPUs"):
        story.add_column(column, justify="left" if column == "moment" else "right")
    for s in report.snapshots:
        story.add_row(
            s.label,
            pool.cash(s.nav),
            s.price_per_fraction,
            pool.cash(s.free_cash),
            pool.cash(s.collateral_value),
            str(s.gpus_held),
        )
    sales = Table(title="GPU sales")
    for column in ("GPU", "model", "why", "price", "floor", "collateral value", "streamed"):
        sales.add_column(column, justify="left" if column in ("model", "why") else "right")
    for sale in report.sales:
        sales.add_row(
            str(sale.token_id),
            sale.model,
            sale.why + (" (wind-down)" if sale.winding_down else ""),
            pool.cash(sale.price),
            pool.cash(sale.floor),
            pool.cash(sale.collateral_value),
            pool.cash(sale.streamed_to_holders),
        )
    return [
        story,
        sales,
        returns_table(pool, report.returns),
        invariants_table(report.audits["end"], pool),
    ]
