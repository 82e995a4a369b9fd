"""The whole lifecycle of one pool on a local chain, with a report an auditor can check.

Each step is a function named for what the user sees, run in order by `run_lifecycle`:
deploy -> register GPUs and contribute them to the pool's GpuCollateral -> investors are verified
and buy (one with a permit) -> an unverified address is refused -> a lease over 8 of the GPUs ->
twelve monthly instalments with chain time advanced, with two queued redemptions -> a new investor's
cash pays the queue -> pause holds (the pauser's key acts at once; the unpause goes through the
timelock) -> the books are rebuilt from events and every invariant is checked.

Queued redemptions (`gpu_rwa.queue`): in month 9 the operator asks to redeem its whole stake, worth
more than the vault's free cash, so it queues; the operator fulfils at once what free cash pays and
the rest stays pending. Lease instalments do not refill free cash (revenue is streamed to holders
outside NAV), so the rest waits through months 10-12 while the requester's escrowed fractions earn
nothing; after the last instalment a new investor buys, and its cash fulfils the rest. In month 10
an investor queues part of its holding behind it and cancels in month 11, where the auditor also
checks every invariant with requests pending, fulfilled and cancelled at once.

The pool counts a GPU only while its last attestation is younger than the staleness window (30
days, rounded down to a UTC midnight), so the custodian attests the pool's GPUs twice a month for
the whole run (each visit signed by the custodian, EIP-712, and submitted through the
CustodyAttestor): a visit every 30 days would leave them stale for up to a day each month, out of
NAV, and a stale GPU (or one returning over the unlock period after it) closes the pool to entries.
With the visits nothing is ever written down, and no GPU is impaired or marked down (held down):
entries stay open all year (the report says so), and each visit moves every stale day before it
comes, which leaves no change due on the schedule.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Self

from ape import accounts, chain
from ape.api import AccountAPI
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from gpu_rwa import collateral, custody, governance, identity, leases
from gpu_rwa import pool as pools
from gpu_rwa import queue as queues
from gpu_rwa.audit import (
    InvariantCheck,
    check_invariants,
    failures,
    gpu_table,
    invariants_table,
    read_chain,
    rebuild_books,
    summary_line,
)
from gpu_rwa.chain import local_account, send
from gpu_rwa.cli import validated
from gpu_rwa.config import DeployConfig
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.errors import UserError
from gpu_rwa.history import replay
from gpu_rwa.inventory import load_inventory
from gpu_rwa.registry import pending_entries, register_entries
from gpu_rwa.statement import Performance, format_rate, holder_returns
from gpu_rwa.types import SECONDS_PER_DAY

MONTH = 30 * SECONDS_PER_DAY
# The custodian's visits: twice a month, well inside the 30-day staleness window.
VISIT = MONTH // 2
INSTALMENTS = 12
# Investors TEST::7, TEST::8, TEST::9 and what each buys, in stablecoin units.
PURCHASES = {7: "250000", 8: "150000", 9: "100000"}
PERMIT_BUYER = 7
INSTALMENT = "60000"
GRACE_DAYS = 5
# GPUs of the inventory left out of the lease (they count in NAV all the same).
UNLEASED = 2
CLAIM_MONTHS = (3, 6, 9, 12)
REDEEM_MONTH = 8
REDEEMER = 9
# The operator queues its whole stake after this month's instalment.
QUEUE_MONTH = 9
# Investor TEST::8 queues CANCELLED_FRACTIONS in one month and cancels in the next.
CANCELLER = 8
CANCELLED_FRACTIONS = "50000"
CANCEL_REQUEST_MONTH = 10
CANCEL_MONTH = 11
# What the new investor buys after the last instalment: the cash that pays the queue.
NEWCOMER_PURCHASE = "150000"
# Gas money for the new investor (a fresh account of the mnemonic; the node funds ten).
NEWCOMER_ETH = 10**18
PAUSED_BUYER = 8
INVESTOR_DAYS = 365
OPERATOR_DAYS = 3650
JURISDICTION = 840
# Due schedule changes the operator matures in one call (the contract's bound).
MATURE_PER_CALL = 1_024


class MonthFigures(BaseModel):
    month: int
    timestamp: int
    nav: int
    price_per_fraction: str
    free_cash: int
    collateral_value: int
    gpus_counted: int
    oldest_attestation_age: int
    pending_maturities: int
    # Counted GPUs stale or returning, holds of GPUs impaired or marked below their line, and
    # whether buys and contributions are taken.
    written_down: int
    held_down: int
    entries_open: bool
    revenue_received: int
    revenue_claimed: int
    unvested: int
    # Fractions waiting in the redemption queue, and stablecoin reserved for fulfilled requests.
    queued: int
    reserved: int


class Fulfilled(BaseModel):
    """One `fulfil` of a request: the shares it settled, the assets reserved for them, at the
    price per fraction of its block."""

    shares: int
    assets: int
    price_per_fraction: str
    free_cash_before: int


class QueuedRedemption(BaseModel):
    """The request that waited for cash: priced at the NAV of the blocks that fulfilled it; its
    fractions earned no revenue from the request on."""

    controller: str
    request_id: int
    shares: int
    value_at_request: int
    price_at_request: str
    free_cash_at_request: int
    fulfilments: list[Fulfilled]
    claimed: int
    # The requester's claimable lease revenue just after its request and at its claim.
    revenue_claimable_at_request: int
    revenue_claimable_at_claim: int
    instalments_while_queued: int


class CancelledRedemption(BaseModel):
    controller: str
    request_id: int
    shares: int
    claimed_back: int


class DemoReport(BaseModel):
    addresses: dict[str, str]
    gpus_in_vault: int
    gpus_counted: int
    positions: dict[str, dict[str, int]]
    purchases: dict[str, dict[str, int]]
    refused: list[str]
    months: list[MonthFigures]
    redeemed: dict[str, int | str]
    queued: QueuedRedemption
    cancelled: CancelledRedemption
    # The new investor whose purchase paid the rest of the queue: account, paid, fractions.
    newcomer: dict[str, int | str]
    # Every invariant, checked in month 11 with a request pending, one fulfilled and not claimed
    # yet and one cancelled and not claimed back.
    queue_midway: list[InvariantCheck]
    claims: dict[str, int]
    fees_accrued: int
    dead_shares: int
    collateral_value: int
    pending_maturities: int
    written_down: int
    held_down: int
    entries_open: bool
    # GPU id -> seconds since its last attestation, at the audit.
    attestation_ages: dict[str, int]
    attestations: int
    maturities_processed: int
    invariants: list[InvariantCheck]
    # Each holder's results from the events (`gpu_rwa.statement`): paid, value at NAV, revenue
    # claimed and claimable, redeemed, total return and yield (XIRR, a year).
    returns: dict[str, Performance]

    @property
    def passed(self) -> bool:
        checks = self.invariants + self.queue_midway
        return all(check.passed is not False for check in checks)


@dataclass(frozen=True)
class Cast:
    """Who plays each part: the test accounts of the local chain, as in tests/conftest.py."""

    admin: AccountAPI
    operator: AccountAPI
    custodian: AccountAPI
    compliance: AccountAPI
    pauser: AccountAPI
    lessee: AccountAPI
    investors: dict[int, AccountAPI]

    @property
    def outsider(self) -> AccountAPI:
        # Never verified: it pays instalments, it does not hold fractions.
        return self.lessee

    @classmethod
    def local(cls) -> "Cast":
        roles = ("admin", "operator", "custodian", "compliance", "pauser", "lessee")
        return cls(
            **{role: local_account(role) for role in roles},
            investors={index: accounts.test_accounts[index] for index in PURCHASES},
        )


@dataclass
class Stage:
    """What the steps of every scenario share: the pool, its cast, the console, the GPUs the
    custodian registered and the refusals shown on the way."""

    pool: pools.Pool
    cast: Cast
    console: Console
    token_ids: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @classmethod
    def deployed(cls, deploy_config: DeployConfig, manifest_path: Path, console: Console) -> Self:
        """Step 1 of every scenario: the suite deployed by the local cast's admin, and the stage
        its steps share."""
        cast = Cast.local()
        console.rule("1. deploy")
        manifest = deploy_suite(deploy_config, cast.admin, manifest_path, console)
        return cls(pool=pools.load_pool(manifest), cast=cast, console=console)


@dataclass
class Run(Stage):
    """What the lifecycle's steps share and what they gather for the report."""

    lease_id: int = 0
    purchases: dict[str, dict[str, int]] = field(default_factory=dict)
    months: list[MonthFigures] = field(default_factory=list)
    claims: dict[str, int] = field(default_factory=dict)
    redeemed: dict[str, int | str] = field(default_factory=dict)
    queued: dict = field(default_factory=dict)
    cancelled: CancelledRedemption | None = None
    newcomer: AccountAPI | None = None
    newcomer_purchase: dict[str, int | str] = field(default_factory=dict)
    queue_midway: list[InvariantCheck] = field(default_factory=list)
    attestations: int = 0
    # When the custodian last attested the pool's GPUs (every visit attests all of them).
    attested_at: int = 0
    matured: int = 0

    @property
    def claimed(self) -> int:
        return sum(self.claims.values())


def run_lifecycle(
    deploy_config: DeployConfig, inventory: Path, manifest_path: Path, console: Console
) -> DemoReport:
    run = Run.deployed(deploy_config, manifest_path, console)
    register_and_contribute(run, inventory)
    verify_and_buy(run)
    refuse_unverified(run)
    open_lease(run)
    twelve_months(run)
    cash_pays_the_queue(run)
    pause_holds(run)
    return audit(run)


# THE STEPS #


def register_inventory(stage: Stage, inventory: Path, title: str) -> None:
    """The custodian registers the inventory's GPUs to the operator (those a crashed run left
    out), and the operator is verified. `title` names the step, `{count}` the GPUs."""
    pool, cast, console = stage.pool, stage.cast, stage.console
    entries = load_inventory(inventory)
    console.rule(title.format(count=len(entries)))
    first_id = pool.registry.totalSupply() + 1
    register_entries(
        pool.registry,
        pending_entries(pool.registry, entries),
        cast.operator.address,
        cast.custodian,
        decimals=pool.decimals,
        console=console,
    )
    stage.token_ids = list(range(first_id, first_id + len(entries)))
    verify(stage, [cast.operator.address], OPERATOR_DAYS)


def register_and_contribute(run: Run, inventory: Path) -> None:
    pool, cast, console = run.pool, run.cast, run.console
    register_inventory(run, inventory, "2. register {count} GPUs and contribute them to the pool")
    # Registration is the custodian's first attestation.
    run.attested_at = pool.registry.terms(run.token_ids[0]).last_attested_at
    for token_id, value, shares in collateral.contribute(pool, cast.operator, run.token_ids, None):
        console.print(
            f"  GPU {token_id} in the pool at collateral value {pool.cash(value)}: "
            f"{pool.fractions(shares)} to the operator"
        )
    console.print(
        f"  {pool.fractions(pool.vault.balanceOf(pool.vault.address))} locked with the vault for "
        "ever (dead shares, paid by the first contribution)"
    )


def verify_and_buy(run: Run) -> None:
    pool, console = run.pool, run.console
    console.rule("3. investors are verified and buy fractions")
    verify(run, [a.address for a in run.cast.investors.values()], INVESTOR_DAYS)
    for index, amount in PURCHASES.items():
        investor = run.cast.investors[index]
        pools.faucet(pool, investor, int(amount) * 10**pool.decimals)
        permit = index == PERMIT_BUYER
        order = validated(pools.BuyOrder, dict(assets=amount, permit=permit), pool.context)
        trade = pools.buy(pool, investor, order, console)
        run.purchases[investor.address] = {"paid": trade.assets, "fractions": trade.shares}
        how = "with a permit, one transaction" if permit else "after an approve"
        console.print(
            f"  {investor.address} paid {pool.cash(trade.assets)} for "
            f"{pool.fractions(trade.shares)} ({how})"
        )


def refuse_unverified(run: Run) -> None:
    pool, outsider = run.pool, run.cast.outsider
    pools.faucet(pool, outsider, 1_000 * 10**pool.decimals)
    order = validated(pools.BuyOrder, dict(assets="1000"), pool.context)
    refusal(
        run,
        f"unverified {outsider.address} buys",
        lambda: pools.buy(pool, outsider, order, run.console),
    )


def open_lease(run: Run) -> None:
    pool, lessee = run.pool, run.cast.lessee
    leased = run.token_ids[:-UNLEASED]
    run.console.rule(f"4. a lease over {len(leased)} GPUs, {INSTALMENTS} monthly instalments")
    terms = validated(
        leases.LeaseTerms,
        dict(
            lessee=lessee.address,
            instalment=INSTALMENT,
            period_days=MONTH // SECONDS_PER_DAY,
            instalments=INSTALMENTS,
            grace_days=GRACE_DAYS,
            gpu_ids=leased,
        ),
        pool.context,
    )
    run.lease_id, _ = leases.open_lease(pool, run.cast.operator, terms)
    total = INSTALMENTS * terms.instalment
    # The faucet gives at most 1M a call: the lessee's twelve instalments come in two.
    for _ in range(2):
        pools.faucet(pool, lessee, total // 2)
    # One approve for the whole lease: the vault pulls each instalment as it is paid.
    send("approving the vault", pool.stablecoin.approve, pool.vault.address, total, sender=lessee)


def twelve_months(run: Run) -> None:
    """Each month: the custodian's mid-month visit, the instalment, the claims, the redemption and
    the queued redemptions of their months, the month's figures, the operator bringing the
    collateral's schedule current, and the custodian's month-end visit."""
    run.console.rule(
        f"5. {INSTALMENTS} months, the custodian attesting every {VISIT // SECONDS_PER_DAY} days"
    )
    for month in range(1, INSTALMENTS + 1):
        advance(VISIT)
        attest_pool_gpus(run)
        advance(MONTH - VISIT)
        leases.pay_instalments(run.pool, run.cast.lessee, run.lease_id, 1, run.console)
        if run.queued and run.pool.queue.request(run.queued["request_id"])[1]:
            run.queued["instalments_while_queued"] += 1
        if month in CLAIM_MONTHS:
            claim_all(run, run.cast.investors.values())
        if month == REDEEM_MONTH:
            redeem_half(run, run.cast.investors[REDEEMER])
        if month == QUEUE_MONTH:
            queue_the_operators_stake(run)
        if month == CANCEL_REQUEST_MONTH:
            request_behind(run, run.cast.investors[CANCELLER])
        if month == CANCEL_MONTH:
            cancel_and_take_back(run, run.cast.investors[CANCELLER])
        run.months.append(month_figures(run, month))
        keep_current(run)
        attest_pool_gpus(run)
    run.console.print(months_table(run.pool, run.months))


def cash_pays_the_queue(run: Run) -> None:
    """After the last instalment a new investor buys; its cash fulfils the rest of the operator's
    request, and the operator claims it all."""
    pool, cast, console = run.pool, run.cast, run.console
    console.rule("6. a new investor's cash pays the queue")
    newcomer = accounts.test_accounts.generate_test_account()
    send("funding the new investor's gas", cast.admin.transfer, newcomer, NEWCOMER_ETH)
    run.newcomer = newcomer
    verify(run, [newcomer.address], INVESTOR_DAYS)
    pools.faucet(pool, newcomer, int(NEWCOMER_PURCHASE) * 10**pool.decimals)
    order = validated(pools.BuyOrder, dict(assets=NEWCOMER_PURCHASE), pool.context)
    trade = pools.buy(pool, newcomer, order, console)
    run.newcomer_purchase = {
        "account": newcomer.address,
        "paid": trade.assets,
        "fractions": trade.shares,
    }
    console.print(
        f"  new investor {newcomer.address}, verified, paid {pool.cash(trade.assets)} for "
        f"{pool.fractions(trade.shares)}: the vault's free cash is now "
        f"{pool.cash(pool.vault.free_cash())}"
    )
    queued = run.queued
    fulfil_queue(run, "the rest of request")
    claim = queues.claim_redeem(pool, cast.operator, None)
    queued["claimed"] = claim.assets
    queued["revenue_claimable_at_claim"] = pool.vault.claimable(cast.operator.address)
    first, last = queued["fulfilments"][0], queued["fulfilments"][-1]
    console.print(
        f"  the operator claims {pool.cash(claim.assets)} for the {pool.fractions(claim.shares)} "
        f"of request {queued['request_id']}, worth {pool.cash(queued['value_at_request'])} at "
        f"the request: priced at the NAV of the blocks that fulfilled it, "
        f"{first.price_per_fraction} then {last.price_per_fraction} a fraction (a request bears "
        "the depreciation until it is fulfilled)"
    )
    console.print(
        f"  its claimable lease revenue: {pool.cash(queued['revenue_claimable_at_request'])} "
        f"just after the request, {pool.cash(queued['revenue_claimable_at_claim'])} now, "
        f"{queued['instalments_while_queued']} instalments later: its escrowed fractions stopped "
        "earning at the request, and what they would have earned went to the holders who stayed"
    )


def pause_holds(run: Run) -> None:
    pool, cast = run.pool, run.cast
    run.console.rule("7. pause holds")
    send("pausing", pool.vault.pause, sender=cast.pauser)
    order = validated(pools.BuyOrder, dict(assets="10"), pool.context)
    refusal(
        run,
        "a buy while paused",
        lambda: pools.buy(pool, cast.investors[PAUSED_BUYER], order, run.console),
    )
    # Lifting a pause is the admin's, hence the timelock's: it waits out the delay.
    governed(run, "CollateralVault", "unpause")


def audit(run: Run) -> DemoReport:
    pool, cast, console = run.pool, run.cast, run.console
    vault = pool.vault
    console.rule("8. the audit")
    # The last instalment finishes vesting; the custodian's visit keeps the GPUs counting.
    advance(VISIT)
    attest_pool_gpus(run)
    advance(MONTH - VISIT)
    chain.mine()
    # Investors' verification has lapsed by now: they still claim to themselves (exit rights).
    investors = [*cast.investors.values(), run.newcomer]
    claim_all(run, [cast.operator, *investors])
    history, books = replay(pool)
    state = read_chain(pool, books)
    invariants = check_invariants(pool, books, state)
    holders = [vault.address, cast.operator.address, *(a.address for a in investors)]
    positions = {
        account: {
            "fractions": state.balances.get(account, 0),
            "value": vault.convertToAssets(state.balances.get(account, 0)),
            "claimed": run.claims.get(account, 0),
        }
        for account in holders
    }
    return DemoReport(
        addresses={name: record.address for name, record in pool.manifest.contracts.items()},
        gpus_in_vault=len(state.gpus_held),
        gpus_counted=state.counted,
        positions=positions,
        purchases=run.purchases,
        refused=run.refused,
        months=run.months,
        redeemed=run.redeemed,
        queued=QueuedRedemption(**run.queued),
        cancelled=run.cancelled,
        newcomer=run.newcomer_purchase,
        queue_midway=run.queue_midway,
        claims=run.claims,
        fees_accrued=state.fees,
        dead_shares=books.dead_shares,
        collateral_value=state.collateral_value,
        pending_maturities=state.pending,
        written_down=state.written_down,
        held_down=state.held_down,
        entries_open=state.entries_open,
        attestation_ages={
            str(gpu.token_id): state.timestamp - gpu.last_attested_at for gpu in books.pool_gpus
        },
        attestations=run.attestations,
        maturities_processed=run.matured,
        invariants=invariants,
        returns=holder_returns(history),
    )


# WHAT THE STEPS DO #


def advance(seconds: int) -> None:
    """Move the chain's clock: the next block is `seconds` later."""
    chain.pending_timestamp += seconds


def attest_pool_gpus(run: Run) -> None:
    """The custodian's visit: every GPU of the pool seen in place and running, signed by the
    custodian (EIP-712) and submitted through the CustodyAttestor, one transaction."""
    pool = run.pool
    signed, _ = custody.attest_now(pool.registry, pool.attestor, run.cast.custodian, run.token_ids)
    run.attestations += 1
    run.attested_at = signed.attested_at


def keep_current(run: Run) -> None:
    """The operator's monthly routine: mature the schedule's due changes, if any, so that no flow
    finds more than it may mature itself. In this story none falls due: an attestation moves a
    GPU's stale day and takes the old day's change with it, and no GPU reaches its end of life
    within the year (`maturities_processed` is 0 in the report)."""
    pool = run.pool
    if pool.collateral.pending():
        matured, _ = collateral.process_maturities(pool, run.cast.operator, MATURE_PER_CALL)
        run.matured += matured


def claim_all(run: Run, holders) -> None:
    for holder in holders:
        if run.pool.vault.claimable(holder.address) == 0:
            continue
        amount, _ = pools.claim(run.pool, holder, None)
        run.claims[holder.address] = run.claims.get(holder.address, 0) + amount


def redeem_half(run: Run, seller: AccountAPI) -> None:
    """Sell half the holder's fractions back to the pool (`vault.sell`: a minimum out and a
    deadline)."""
    pool = run.pool
    half = pool.vault.balanceOf(seller.address) // 2
    fractions = format(Decimal(half).scaleb(-pool.fraction_decimals), "f")
    order = validated(pools.RedeemOrder, dict(shares=fractions), pool.context)
    trade = pools.redeem(pool, seller, order)
    run.redeemed = {"account": seller.address, "fractions": trade.shares, "paid": trade.assets}
    run.console.print(
        f"  {seller.address} sold {pool.fractions(trade.shares)} back for {pool.cash(trade.assets)}"
    )


def queue_the_operators_stake(run: Run) -> None:
    """The operator asks to redeem its whole stake, worth more than the vault's free cash: it
    queues, its fractions go into escrow and stop earning, and it fulfils at once, at this block's
    NAV, what free cash pays."""
    pool, operator, console = run.pool, run.cast.operator, run.console
    vault = pool.vault
    stake = vault.balanceOf(operator.address)
    free_cash = vault.free_cash()
    order = validated(queues.RequestOrder, dict(all_=True), pool.context)
    requested = queues.request_redeem(pool, operator, order)
    run.queued = {
        "controller": requested.controller,
        "request_id": requested.request_id,
        "shares": requested.shares,
        "value_at_request": requested.value,
        "price_at_request": pool.price(requested.value, requested.shares),
        "free_cash_at_request": free_cash,
        "fulfilments": [],
        "revenue_claimable_at_request": vault.claimable(operator.address),
        "instalments_while_queued": 0,
    }
    console.print(
        "  the operator asks to redeem its whole stake (the fractions it got for the GPUs it "
        f"contributed), {pool.fractions(stake)} worth "
        f"{pool.cash(requested.value)} at NAV; the vault's free cash is {pool.cash(free_cash)}, "
        f"so it cannot sell it all now and queues: request {requested.request_id}. The fractions "
        "are in escrow from this block and earn no more revenue"
    )
    fulfil_queue(run, "request")


def fulfil_queue(run: Run, what: str) -> None:
    """The operator (FULFILLER_ROLE) fulfils from the head of the queue as far as free cash goes,
    at the NAV of this block."""
    pool, console = run.pool, run.console
    free_cash = pool.vault.free_cash()
    done = queues.fulfil(pool, run.cast.operator, queues.DEFAULT_FULFIL)
    price = pool.price(done.assets, done.shares)
    run.queued["fulfilments"].append(
        Fulfilled(
            shares=done.shares,
            assets=done.assets,
            price_per_fraction=price,
            free_cash_before=free_cash,
        )
    )
    request_id = run.queued["request_id"]
    how = "in part" if done.partial == request_id else "in full"
    rest = f"; {pool.fractions(done.pending_shares)} stay pending" if done.pending_shares else ""
    console.print(
        f"  the operator fulfils {what} {request_id} {how}, at this block's NAV ({price} a "
        f"fraction): {pool.fractions(done.shares)} burnt for {pool.cash(done.assets)} of the "
        f"{pool.cash(free_cash)} free cash, reserved in the queue until the requester "
        f"claims{rest}"
    )


def request_behind(run: Run, investor: AccountAPI) -> None:
    """An investor queues part of its holding behind the rest of the operator's request (free
    cash is spent, so it cannot sell now)."""
    pool, console = run.pool, run.console
    order = validated(queues.RequestOrder, dict(shares=CANCELLED_FRACTIONS), pool.context)
    requested = queues.request_redeem(pool, investor, order)
    run.cancelled = CancelledRedemption(
        controller=requested.controller,
        request_id=requested.request_id,
        shares=requested.shares,
        claimed_back=0,
    )
    ahead = pool.queue.pending_shares() - requested.shares
    console.print(
        f"  lease instalments do not refill free cash ({pool.cash(pool.vault.free_cash())}): the "
        "revenue is streamed to holders outside NAV, so the rest of the operator's request waits"
    )
    console.print(
        f"  {investor.address} queues {pool.fractions(requested.shares)}: request "
        f"{requested.request_id}, behind {pool.fractions(ahead)}"
    )


def cancel_and_take_back(run: Run, investor: AccountAPI) -> None:
    """The investor cancels before its request is fulfilled; the auditor checks every invariant
    with requests in each state; then the investor takes its fractions back."""
    pool, console = run.pool, run.console
    cancelled = run.cancelled
    _, shares, _ = queues.cancel(pool, investor, cancelled.request_id)
    console.print(
        f"  {investor.address} cancels request {cancelled.request_id} before it is fulfilled: "
        f"its {pool.fractions(shares)} wait in escrow to be claimed back"
    )
    books = rebuild_books(pool)
    run.queue_midway = check_invariants(pool, books)
    queue = next(c for c in run.queue_midway if c.number == 10).compared
    console.print(
        "  the auditor rebuilds the queue from events, with a request pending "
        f"({pool.fractions(queue['pending_shares'])}), one fulfilled and not claimed "
        f"({pool.cash(queue['reserved'])} reserved) and one cancelled "
        f"({pool.fractions(queue['cancelled_shares'])}): {summary_line(run.queue_midway)}"
    )
    if failures(run.queue_midway):
        raise UserError(f"the audit in month {CANCEL_MONTH}: {summary_line(run.queue_midway)}")
    claim = queues.claim_redeem(pool, investor, None)
    run.cancelled = cancelled.model_copy(update={"claimed_back": claim.returned})
    console.print(
        f"  {investor.address} claims its {pool.fractions(claim.returned)} back: they earn "
        "revenue again from this block"
    )


def verify(stage: Stage, addresses: list[str], days: int) -> None:
    """Compliance verifies `addresses` for `days` in the demo's jurisdiction."""
    request = validated(
        identity.Verification, dict(accounts=addresses, days=days, jurisdiction=JURISDICTION)
    )
    identity.verify(stage.pool, stage.cast.compliance, request)


def governed(stage: Stage, contract: str, function: str, *args) -> None:
    """An admin call, which the GovernanceTimelock makes: the admin (proposer and executor in
    config/local.yaml) schedules it, the clock moves past the timelock's delay, the admin
    executes it."""
    gov = governance.load_governance(stage.pool.manifest)
    call = governance.encode_call(gov, contract, function, *args)
    operation, _ = governance.schedule(gov, stage.cast.admin, call)
    stage.console.print(
        f"  the admin schedules {call.label} on the timelock: ready "
        f"{governance.format_wait(operation.delay)} later, at "
        f"{governance.format_moment(operation.ready_at)}"
    )
    # A second past: Ganache reads its pending time up to a second behind the time it mines at.
    chain.pending_timestamp = max(chain.pending_timestamp, operation.ready_at + 1)
    governance.execute(gov, stage.cast.admin, operation.id)
    stage.console.print(f"  executed once ready: {call.label}")


def refusal(stage: Stage, doing: str, attempt) -> None:
    """Run `attempt`, which must be refused; records the refusal as it was shown to the user."""
    try:
        attempt()
    except UserError as refused:
        stage.console.print(f"  refused, as it must be: {doing}: {refused.message}")
        stage.refused.append(f"{doing}: {refused.message}")
        return
    raise UserError(f"the demo expected `{doing}` to be refused, and it went through")


# FIGURES #


def month_figures(run: Run, month: int) -> MonthFigures:
    pool = run.pool
    vault = pool.vault
    one_fraction = 10**pool.fraction_decimals
    now = chain.blocks.head.timestamp
    return MonthFigures(
        month=month,
        timestamp=now,
        nav=vault.totalAssets(),
        price_per_fraction=pool.price(vault.convertToAssets(one_fraction), one_fraction),
        free_cash=vault.free_cash(),
        collateral_value=pool.collateral.value(),
        gpus_counted=sum(pool.collateral.counts(token_id) for token_id in run.token_ids),
        oldest_attestation_age=now - run.attested_at,
        pending_maturities=pool.collateral.pending(),
        written_down=pool.collateral.written_down(),
        held_down=pool.collateral.held_down(),
        entries_open=pool.collateral.entries_open(),
        revenue_received=vault.received(),
        revenue_claimed=run.claimed,
        unvested=vault.unvested(),
        queued=pool.queue.pending_shares(),
        reserved=pool.queue.reserved(),
    )


def _cents(amount: int, decimals: int) -> str:
    return f"{Decimal(amount).scaleb(-decimals):,.2f}"


def months_table(pool: pools.Pool, months: list[MonthFigures]) -> Table:
    table = Table(title=f"month by month (amounts in {pool.symbol}, to the cent)")
    columns = (
        "month",
        "NAV",
        "price / fraction",
        "free cash",
        "collateral",
        "GPUs counted",
        "oldest attestation",
        "maturities due",
        "revenue received",
        "claimed",
        "unvested",
    )
    for column in columns:
        table.add_column(column, justify="right")
    for m in months:
        amount = partial(_cents, decimals=pool.decimals)
        table.add_row(
            str(m.month),
            amount(m.nav),
            m.price_per_fraction.removesuffix(f" {pool.symbol}"),
            amount(m.free_cash),
            amount(m.collateral_value),
            str(m.gpus_counted),
            f"{m.oldest_attestation_age / SECONDS_PER_DAY:.1f} d",
            str(m.pending_maturities),
            amount(m.revenue_received),
            amount(m.revenue_claimed),
            amount(m.unvested),
        )
    return table


def returns_table(pool: pools.Pool, returns: dict[str, Performance]) -> Table:
    """One line per holder: what it paid, what it has and got back, the total return and the
    yield, so that a price below par beside the revenue received reads as the whole result."""
    table = Table(title=f"total return and yield per holder ({pool.symbol}, to the cent)")
    columns = ("holder", "paid", "value at NAV", "revenue claimed", "claimable", "redeemed",
               "total return", "yield (XIRR)")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "holder" else "right")
    for account, r in returns.items():
        amount = partial(_cents, decimals=pool.decimals)
        table.add_row(
            account,
            amount(r.paid),
            amount(r.value),
            amount(r.claimed),
            amount(r.claimable),
            amount(r.returned),
            amount(r.total_return),
            format_rate(r.xirr),
        )
    return table


def summary_tables(pool: pools.Pool, report: DemoReport) -> list[Table]:
    positions = Table(title="positions")
    for column in ("holder", "fractions", "value at NAV", "revenue claimed"):
        positions.add_column(column, justify="left" if column == "holder" else "right")
    for account, figures in report.positions.items():
        name = f"{account} (dead shares)" if account == pool.vault.address else account
        positions.add_row(
            name,
            pool.fractions(figures["fractions"]),
            pool.cash(figures["value"]),
            pool.cash(figures["claimed"]),
        )
    books = rebuild_books(pool)
    return [
        positions,
        returns_table(pool, report.returns),
        gpu_table(pool, books, read_chain(pool, books)),
        invariants_table(report.invariants, pool),
    ]
