"""The Python API over one deployed pool: its contracts loaded from a manifest, the investor's
flows (buy, redeem, claim, faucet), the portfolio and the vault's status. Queued redemptions
(request, cancel, claim, fulfil) are in `gpu_rwa.queue`.

Every function checks what the chain can tell before it sends anything (paused, verified, balance,
allowance, free cash, maturities due, entries closed while GPUs are written down or held down,
price bounds, deadline) and raises UserError with one line otherwise; what is sent goes through
`send()`, so a revert is one line too. The pool's GPUs are in `gpu_rwa.collateral`, their trades
for cash (offers to buy in, listings to sell out) in `gpu_rwa.market`, leases in
`gpu_rwa.leases`, identities in `gpu_rwa.identity`, permit signatures in `gpu_rwa.permit`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from ape import chain, project
from ape.api import AccountAPI, ReceiptAPI
from ape.contracts import ContractInstance
from pydantic import Field, model_validator
from rich.console import Console
from rich.table import Table

from gpu_rwa.chain import send
from gpu_rwa.errors import UserError
from gpu_rwa.manifest import Manifest
from gpu_rwa.models import StrictModel
from gpu_rwa.permit import sign_permit
from gpu_rwa.registry import STATUS_CODES
from gpu_rwa.types import (
    SECONDS_PER_DAY,
    Address,
    Bps,
    FractionAmount,
    StableAmount,
    floor_day,
    format_time,
    format_units,
)

BPS = 10_000
DEFAULT_SLIPPAGE_BPS = 50
# The longest deadline a buy accepts: a signed order should not stay valid for weeks.
MAX_DEADLINE_MINUTES = 7 * 24 * 60
# A flow matures this many due changes of the collateral's schedule itself and refuses beyond.
MAX_MATURE_STEPS = 16
# Position states of `GpuCollateral.position(id)`.
NOT_HELD, COUNTED, UNCOUNTED = 0, 1, 2
# The entry gate names at most this many stale GPUs, and attests them by id (beyond: --all-held).
NAMED_GPUS = 10
RETIRED = STATUS_CODES["RETIRED"]


@dataclass(frozen=True)
class Pool:
    """One deployed pool: its contracts and the units its amounts are in."""

    manifest: Manifest
    vault: ContractInstance
    collateral: ContractInstance
    appraisals: ContractInstance
    market: ContractInstance
    leases: ContractInstance
    queue: ContractInstance
    identity: ContractInstance
    compliance: ContractInstance
    registry: ContractInstance
    attestor: ContractInstance
    stablecoin: ContractInstance
    symbol: str
    decimals: int
    fraction_symbol: str
    fraction_decimals: int

    @property
    def context(self) -> dict:
        """The validation context of the input models: the decimals amounts are typed in."""
        return {"decimals": self.decimals, "fraction_decimals": self.fraction_decimals}

    def cash(self, amount: int) -> str:
        """Stablecoin base units as `1,000.500000 USDC`."""
        return f"{format_units(amount, self.decimals)} {self.symbol}"

    def fractions(self, amount: int) -> str:
        """Fraction base units as `999.500000000000 GPU1`."""
        return f"{format_units(amount, self.fraction_decimals)} {self.fraction_symbol}"

    def fractions_arg(self, amount: int) -> str:
        """Fraction base units as a command takes them: `999.5` (no separators, no zeros after)."""
        whole, rest = divmod(amount, 10**self.fraction_decimals)
        decimals = f"{rest:0{self.fraction_decimals}d}".rstrip("0") if rest else ""
        return f"{whole}.{decimals}" if decimals else str(whole)

    def price(self, assets: int, shares: int) -> str:
        """Stablecoin paid per whole fraction, at the stablecoin's precision plus two places."""
        if shares == 0:
            return "n/a"
        per_fraction = Decimal(assets).scaleb(self.fraction_decimals - self.decimals) / shares
        places = Decimal(1).scaleb(-(self.decimals + 2))
        return f"{per_fraction.quantize(places, ROUND_HALF_EVEN):,} {self.symbol}"

    def value_at_nav(self, shares: int, nav: int, supply: int) -> int:
        """The vault's `convertToAssets(shares)` at NAV `nav` and supply `supply`: its rounding
        (down) and its virtual shares (one fraction unit per stablecoin unit's worth of decimals
        beyond the stablecoin's)."""
        virtual = 10 ** (self.fraction_decimals - self.decimals)
        return shares * (nav + 1) // (supply + virtual)

    def is_mock_stablecoin(self) -> bool:
        record = self.manifest.contracts.get("MockUSDC")
        return record is not None and record.address == self.manifest.stablecoin


def load_pool(manifest: Manifest) -> Pool:
    """The pool's contracts at the manifest's addresses (see `cli.require_manifest`)."""
    if manifest.stablecoin is None:
        raise UserError(f"the manifest of {manifest.network} names no stablecoin; run deploy again")
    vault = project.CollateralVault.at(manifest.address_of("CollateralVault"))
    # Any ERC-20 answers MockUSDC's ERC-20 part; permit is probed before it is used.
    stablecoin = project.MockUSDC.at(manifest.stablecoin)
    return Pool(
        manifest=manifest,
        vault=vault,
        collateral=project.GpuCollateral.at(manifest.address_of("GpuCollateral")),
        appraisals=project.GpuAppraisals.at(manifest.address_of("GpuAppraisals")),
        market=project.GpuMarket.at(manifest.address_of("GpuMarket")),
        leases=project.LeaseManager.at(manifest.address_of("LeaseManager")),
        queue=project.RedemptionQueue.at(manifest.address_of("RedemptionQueue")),
        identity=project.IdentityRegistry.at(manifest.address_of("IdentityRegistry")),
        compliance=project.PoolCompliance.at(manifest.address_of("PoolCompliance")),
        registry=project.GpuRegistry.at(manifest.address_of("GpuRegistry")),
        attestor=project.CustodyAttestor.at(manifest.address_of("CustodyAttestor")),
        stablecoin=stablecoin,
        symbol=stablecoin.symbol(),
        decimals=manifest.stablecoin_decimals,
        fraction_symbol=vault.symbol(),
        fraction_decimals=vault.decimals(),
    )


# PRE-CHECKS #


def _date(timestamp: int) -> str:
    return f"{format_time(timestamp)} UTC"


def require_not_paused(pool: Pool, doing: str) -> None:
    if pool.vault.paused():
        raise UserError(f"the vault is paused: {doing} is stopped until the admin unpauses it")


def verification_problem(pool: Pool, account: str) -> str | None:
    """None while `account` is verified in the IdentityRegistry, else why not (never verified,
    revoked, or expired and when)."""
    if pool.identity.is_verified(account):
        return None
    expires_at = pool.identity.identity(account).expires_at
    if expires_at:
        return f"its verification expired on {_date(expires_at)}"
    return "it is not a verified investor"


def require_verified(pool: Pool, account: str, who: str) -> None:
    """`account` verified in the IdentityRegistry now, or why not (never verified or expired)."""
    if reason := verification_problem(pool, account):
        raise UserError(f"{who} {account}: {reason} (compliance runs `ape run kyc add {account}`)")


def require_current(pool: Pool) -> None:
    """The collateral can be brought current by a flow (at most 16 maturities due), or UserError
    naming the call that catches up."""
    if pool.collateral.pending() > MAX_MATURE_STEPS:
        raise UserError(
            f"the pool's collateral has more than {MAX_MATURE_STEPS} maturities due: run "
            "`ape run vault process-maturities` first"
        )


# THE ENTRY GATE #


def written_down_at(pool: Pool, when: int) -> int:
    """How many counted GPUs are written down at `when` (at or after the head block's time): the
    collateral's `written_down()` at the head, plus the changes its schedule holds for the UTC
    midnights up to `when` (a stale day or the end of a ramp falls on one)."""
    collateral = pool.collateral
    count = collateral.written_down()
    head = chain.blocks.head.timestamp
    for day in range(floor_day(head) + SECONDS_PER_DAY, when + 1, SECONDS_PER_DAY):
        # A node is (intercept, slope, gpus): the change of the sums and of the GPUs written down.
        count += collateral.nodes(day)[2]
    return count


def written_down_gpus(pool: Pool, when: int) -> tuple[list[int], list[tuple[int, int]]]:
    """The counted GPUs written down at `when`, as the schedule defines it: stale (`when` at or
    past the stale day), else returning (`when` before the end of the return ramp), with the end
    of each ramp. One read per GPU held: only called once `written_down_at` says some are."""
    collateral, registry = pool.collateral, pool.registry
    stale, returning = [], []
    for index in range(registry.balanceOf(collateral.address)):
        token_id = registry.tokenOfOwnerByIndex(collateral.address, index)
        state, _, ramp_end, stale_at = collateral.position(token_id)
        if state != COUNTED:
            continue
        if stale_at <= when:
            stale.append(token_id)
        elif ramp_end > when:
            returning.append((token_id, ramp_end))
    return stale, returning


def _gpu_list(token_ids: list[int]) -> str:
    """`GPU 3`, `GPUs 1, 2`, or the first NAMED_GPUS and how many in all."""
    if len(token_ids) == 1:
        return f"GPU {token_ids[0]}"
    named = ", ".join(str(i) for i in token_ids[:NAMED_GPUS])
    more = f", ... ({len(token_ids)} in all)" if len(token_ids) > NAMED_GPUS else ""
    return f"GPUs {named}{more}"


def _it(token_ids: list[int], one: str, many: str) -> str:
    """`one` for a single GPU, `many` for several ("it"/"them", "is"/"are")."""
    return one if len(token_ids) == 1 else many


def _written_down_reasons(pool: Pool, when: int) -> list[str]:
    """What closes entries at `when` among the counted GPUs written down, naming what fixes it."""
    count = written_down_at(pool, when)
    if count == 0:
        return []
    stale, returning = written_down_gpus(pool, when)
    reasons = []
    if stale:
        ids = " ".join(str(i) for i in stale) if len(stale) <= NAMED_GPUS else "--all-held"
        days = pool.collateral.UNLOCK_PERIOD() // SECONDS_PER_DAY
        reasons.append(
            f"{_gpu_list(stale)} stale: the custodian runs `ape run registry attest {ids}`, then "
            f"{_it(stale, 'it returns', 'they return')} over the {days}-day unlock period"
        )
    if returning:
        last = max(ramp_end for _, ramp_end in returning)
        reasons.append(
            f"{_gpu_list([i for i, _ in returning])} returning: the last ramp ends on {_date(last)}"
        )
    return reasons or [f"{count} GPU(s) written down"]


@dataclass(frozen=True)
class Hold:
    """How a GPU the pool holds holds entries: GpuCollateral keeps two flags in its position,
    each counted once in `held_down()` and never shown one by one (`hold_of` reads them back)."""

    # Its mark stands below its straight-line book value and may still be raised.
    below_line: bool = False
    # It turned IMPAIRED while counted and has not counted again (restored) nor been retired.
    impaired: bool = False


def _restored_since_settled(pool: Pool, token_id: int) -> bool:
    """Whether a settled GPU's last mark is a restore's step mark (which holds it below its line
    whatever the settlement): after a settle every mark applies at once, so the only revalue
    with a return ramp it can get is a restore's."""
    head = chain.blocks.head.number
    logs = list(
        pool.collateral.GpuRevalued.range(
            pool.manifest.deploy_block or 0, head + 1, search_topics={"token_id": token_id}
        )
    )
    return bool(logs) and logs[-1].ramp_end != 0


def hold_of(pool: Pool, token_id: int) -> Hold:
    """How GPU `token_id` holds entries, from the views: it is impaired while uncounted and not
    RETIRED (the collateral uncounts a GPU only as it turns IMPAIRED or RETIRED, and RETIRED is
    final); below its line while its last mark (`appraisal`) is below the registry's straight-line
    book value at the mark's time and its marks are not settled (GpuAppraisals' rule), or it was
    restored since they were. A retired GPU holds nothing."""
    collateral, registry = pool.collateral, pool.registry
    state = collateral.position(token_id)[0]
    if state == NOT_HELD or registry.terms(token_id).status == RETIRED:
        return Hold()
    mark, marked_at, _, _ = collateral.appraisal(token_id)
    below = marked_at != 0 and mark < registry.book_value_at(token_id, marked_at)
    if below and pool.appraisals.settled(token_id):
        below = _restored_since_settled(pool, token_id)
    return Hold(below_line=below, impaired=state == UNCOUNTED)


@dataclass
class HeldDown:
    """The GPUs that hold entries (`hold_of`), by what ends the hold, and the collateral's count
    of holds (`held_down()`; a GPU both impaired and below its line counts twice)."""

    count: int = 0
    below_line: list[int] = field(default_factory=list)
    impaired: list[int] = field(default_factory=list)
    # Restored on the registry but not counted again: stale (the custodian attests), or fresh
    # (the hook deferred the return while maturities were due: anyone syncs it).
    restored_stale: list[int] = field(default_factory=list)
    restored_fresh: list[int] = field(default_factory=list)

    @property
    def unnamed(self) -> int:
        """Holds the views did not explain (none unless a flag was set outside the rules)."""
        named = self.below_line + self.impaired + self.restored_stale + self.restored_fresh
        return self.count - len(named)


def held_down_gpus(pool: Pool) -> HeldDown:
    """The GPUs held down now (nothing changes them but a transaction). One read per GPU held:
    only once `held_down()` says some are."""
    collateral, registry = pool.collateral, pool.registry
    count = collateral.held_down()
    if count == 0:
        return HeldDown()
    held = HeldDown(count=count)
    window, now = collateral.STALENESS_WINDOW(), chain.pending_timestamp
    for index in range(registry.balanceOf(collateral.address)):
        token_id = registry.tokenOfOwnerByIndex(collateral.address, index)
        hold = hold_of(pool, token_id)
        if hold.below_line:
            held.below_line.append(token_id)
        if not hold.impaired:
            continue
        terms = registry.terms(token_id)
        if terms.status == STATUS_CODES["IMPAIRED"]:
            held.impaired.append(token_id)
        elif floor_day(terms.last_attested_at + window) <= now:
            held.restored_stale.append(token_id)
        else:
            held.restored_fresh.append(token_id)
    return held


def _held_down_reasons(held: HeldDown) -> list[str]:
    """What closes entries among the GPUs held down, naming what fixes it."""
    reasons = []
    if ids := held.impaired:
        reasons.append(
            f"{_gpu_list(ids)} impaired: the appraiser restores {_it(ids, 'it', 'them')} on the "
            f"registry, or {_it(ids, 'it is', 'they are')} retired or sold"
        )
    if ids := held.restored_stale:
        listed = " ".join(map(str, ids))
        reasons.append(
            f"{_gpu_list(ids)} restored but stale: the custodian runs "
            f"`ape run registry attest {listed}`"
        )
    if ids := held.restored_fresh:
        sync = f"`ape run vault sync {ids[0]}`" if len(ids) == 1 else "`ape run vault sync ID`"
        reasons.append(
            f"{_gpu_list(ids)} restored, not counted yet: anyone runs {sync}"
            + _it(ids, "", " for each")
        )
    if ids := held.below_line:
        # A mark back onto the line ends the hold too (`appraise mark` with its book value or
        # more); for a write-down that will not come back, the settlement.
        settle = f"`ape run appraise settle {_it(ids, str(ids[0]), 'ID')} --reason TEXT`"
        reasons.append(
            f"{_gpu_list(ids)} marked below {_it(ids, 'its', 'their')} straight-line book value: "
            f"the appraiser settles {_it(ids, 'its marks', 'their marks')} ({settle}"
            f"{_it(ids, '', ' for each')}), or {_it(ids, 'it is', 'they are')} sold"
        )
    if held.unnamed > 0:
        reasons.append(f"{held.unnamed} more hold(s) counted by the collateral (`held_down`)")
    return reasons


def entries_closed_reason(pool: Pool, when: int) -> str | None:
    """Why the collateral refuses entries (deposits, mints, buys, contributions) at `when`, naming
    what fixes it, or None if no counted GPU is written down then and no GPU is held down.
    Maturities due are the caller's to check first (`require_current`)."""
    reasons = _written_down_reasons(pool, when) + _held_down_reasons(held_down_gpus(pool))
    return "; ".join(reasons) or None


def require_entries_open(pool: Pool, doing: str) -> None:
    """The collateral takes entries in the pending block: at most 16 maturities due, no counted
    GPU written down (stale, or returning over the unlock period) and none held down (impaired,
    or below its straight-line book value by a mark not settled), or UserError naming what fixes
    it. Exits (redemptions, claims) never wait for this."""
    if pool.collateral.winding_down():
        raise UserError(
            f"the pool is winding down: {doing} is closed for good; redemptions stay open"
        )
    require_current(pool)
    reason = entries_closed_reason(pool, chain.pending_timestamp)
    if reason is not None:
        raise UserError(
            f"{doing} waits while the pool's GPUs are written down ({reason}); redemptions stay "
            "open"
        )


def deadline_from(minutes: int, deadline: datetime | None) -> int:
    """The deadline in chain time: `deadline` if given (it must be ahead), else now + minutes."""
    now = chain.pending_timestamp
    if deadline is None:
        return now + minutes * 60
    timestamp = int(deadline.timestamp())
    if timestamp <= now:
        raise UserError(
            f"--deadline {_date(timestamp)} has passed (the chain's time is {_date(now)})"
        )
    return timestamp


def _min_out(preview: int, slippage_bps: int) -> int:
    return preview * (BPS - slippage_bps) // BPS


# BUY #


class _Bounded(StrictModel):
    """The bounds of a trade sent with a minimum out and a deadline (`buy` and `sell`)."""

    slippage_bps: Bps = Field(default=DEFAULT_SLIPPAGE_BPS, alias="--slippage-bps")
    deadline_minutes: int = Field(
        default=20, ge=1, le=MAX_DEADLINE_MINUTES, alias="--deadline-minutes"
    )
    deadline: datetime | None = Field(default=None, alias="--deadline")

    @model_validator(mode="after")
    def _aware_deadline(self):
        # A bare `2030-01-01T00:00` means UTC, not the local time of whoever runs the script.
        if self.deadline is not None and self.deadline.tzinfo is None:
            object.__setattr__(self, "deadline", self.deadline.replace(tzinfo=UTC))
        return self


class BuyOrder(_Bounded):
    assets: StableAmount = Field(alias="AMOUNT")
    receiver: Address | None = Field(default=None, alias="--receiver")
    min_shares: FractionAmount | None = Field(default=None, alias="--min-fractions")
    permit: bool = Field(default=False, alias="--permit")


@dataclass(frozen=True)
class Trade:
    """What a buy or redeem did: stablecoin and fractions that moved, and the receipts sent."""

    assets: int
    shares: int
    receipts: list[ReceiptAPI]


def buy(pool: Pool, sender: AccountAPI, order: BuyOrder, console: Console) -> Trade:
    """Buy fractions for `order.assets` at NAV with a minimum out and a deadline: with an approve
    first if the allowance is short, or in one transaction with an EIP-2612 permit. The receiver
    must be verified (the vault checks only who receives fractions, not who pays), and the pool
    must take entries (no GPU written down or held down)."""
    vault, token = pool.vault, pool.stablecoin
    receiver = order.receiver or sender.address
    assets = order.assets
    require_not_paused(pool, "buying")
    require_verified(pool, receiver, "buyer" if receiver == sender.address else "receiver")
    require_entries_open(pool, "buying")
    balance = token.balanceOf(sender.address)
    if balance < assets:
        raise UserError(
            f"{sender.address} holds {pool.cash(balance)}, less than the {pool.cash(assets)} to pay"
        )
    preview = vault.previewDeposit(assets)
    if preview == 0:
        raise UserError(f"{pool.cash(assets)} buys 0 fractions at the current price; pay more")
    if order.min_shares is not None:
        if preview < order.min_shares:
            raise UserError(
                f"--min-fractions {pool.fractions(order.min_shares)}: {pool.cash(assets)} buys "
                f"only {pool.fractions(preview)} now"
            )
        min_shares = order.min_shares
    else:
        min_shares = _min_out(preview, order.slippage_bps)
    deadline = deadline_from(order.deadline_minutes, order.deadline)

    receipts = []
    if order.permit:
        v, r, s = sign_permit(
            token,
            sender,
            vault.address,
            assets,
            deadline,
            console=console,
            spender_name="the pool's CollateralVault",
        )
        receipts.append(
            send(
                "buy_with_permit",
                vault.buy_with_permit,
                assets,
                receiver,
                min_shares,
                deadline,
                v,
                r,
                s,
                sender=sender,
            )
        )
    else:
        if token.allowance(sender.address, vault.address) < assets:
            console.print(f"approving the vault for {pool.cash(assets)}")
            receipts.append(
                send("approving the vault", token.approve, vault.address, assets, sender=sender)
            )
        receipts.append(
            send("buy", vault.buy, assets, receiver, min_shares, deadline, sender=sender)
        )
    deposit = next(iter(vault.Deposit.from_receipt(receipts[-1])))
    return Trade(assets=deposit.assets, shares=deposit.shares, receipts=receipts)


# REDEEM #


class RedeemOrder(_Bounded):
    shares: FractionAmount | None = Field(default=None, alias="FRACTIONS")
    all_: bool = Field(default=False, alias="--all")
    assets: StableAmount | None = Field(default=None, alias="--assets")
    receiver: Address | None = Field(default=None, alias="--receiver")
    min_assets: StableAmount | None = Field(default=None, alias="--min-assets")

    @model_validator(mode="after")
    def _one_amount(self):
        given = [self.shares is not None, self.all_, self.assets is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of FRACTIONS, --all or --assets AMOUNT")
        return self


def require_exit(pool: Pool, owner: str, receiver: str, who: str) -> None:
    """Exit rights: to itself a holder needs no verification; to another address both must be
    verified (the holder first, as the vault checks)."""
    if receiver != owner:
        require_verified(pool, owner, who)
        require_verified(pool, receiver, "receiver")


def free_cash_short(pool: Pool, owner: str, shares: int, all_: bool) -> str:
    """Why `shares` of `owner`'s fractions cannot leave now (free cash is short), in one line: how
    much can (maxRedeem, maxWithdraw), and the commands that redeem that and queue the rest with
    the RedemptionQueue (all of it when the rest alone is below the queue's minimum request)."""
    vault = pool.vault
    now_shares, now_assets = vault.maxRedeem(owner), vault.maxWithdraw(owner)
    rest, minimum = shares - now_shares, pool.queue.min_request()
    line = (
        f"only {pool.fractions(now_shares)} ({pool.cash(now_assets)}) can be redeemed now: the "
        f"vault's free cash is {pool.cash(vault.free_cash())}"
    )
    redeem_now = f"`ape run invest redeem {pool.fractions_arg(now_shares)}`"
    if shares < minimum:
        below = f"a queued request takes at least {pool.fractions(minimum)}"
        if now_shares == 0:
            return f"{line}; {below}"
        return f"{line}; redeem that with {redeem_now} ({below})"
    queue_all = f"`ape run invest request-redeem {'--all' if all_ else pool.fractions_arg(shares)}`"
    if now_shares == 0:
        return f"{line}; queue it with {queue_all}"
    if rest < minimum:
        return (
            f"{line}; queue it all with {queue_all} (the rest alone is below the queue's minimum "
            f"request of {pool.fractions(minimum)})"
        )
    queue_rest = f"`ape run invest request-redeem {'--all' if all_ else pool.fractions_arg(rest)}`"
    return f"{line}; redeem that with {redeem_now} and queue the rest with {queue_rest}"


def redeem(pool: Pool, sender: AccountAPI, order: RedeemOrder) -> Trade:
    """Sell fractions back at NAV from free cash with `vault.sell`: a minimum of stablecoin out
    (--min-assets, or previewRedeem less the slippage) and a deadline. `--assets` is turned into
    the fractions that pay it (previewWithdraw, rounded up). When free cash is short, the error
    says how much can leave now and how to queue the rest (`free_cash_short`)."""
    vault = pool.vault
    owner = sender.address
    receiver = order.receiver or owner
    require_not_paused(pool, "redeeming")
    require_exit(pool, owner, receiver, "holder")
    require_current(pool)
    held = vault.balanceOf(owner)
    if held == 0:
        raise UserError(f"{owner} holds no {pool.fraction_symbol} fractions")
    now_shares = vault.maxRedeem(owner)

    if order.assets is not None:
        assets = order.assets
        worth = vault.convertToAssets(held)
        if assets > worth:
            raise UserError(
                f"--assets {pool.cash(assets)}: {owner} holds {pool.fractions(held)}, worth "
                f"{pool.cash(worth)}"
            )
        shares = min(vault.previewWithdraw(assets), held)
        if assets > vault.maxWithdraw(owner):
            raise UserError(free_cash_short(pool, owner, shares, False))
    else:
        shares = held if order.all_ else order.shares
        if shares > held:
            raise UserError(
                f"{owner} holds {pool.fractions(held)}, fewer than {pool.fractions(shares)}"
            )
    if shares > now_shares:
        raise UserError(free_cash_short(pool, owner, shares, order.all_))
    preview = vault.previewRedeem(shares)
    if preview == 0:
        raise UserError(f"{pool.fractions(shares)} are worth 0 {pool.symbol}; redeem more")

    min_assets = (
        order.min_assets if order.min_assets is not None else _min_out(preview, order.slippage_bps)
    )
    if preview < min_assets:
        raise UserError(
            f"--min-assets {pool.cash(min_assets)}: {pool.fractions(shares)} pay only "
            f"{pool.cash(preview)} now"
        )
    deadline = deadline_from(order.deadline_minutes, order.deadline)
    receipt = send("sell", vault.sell, shares, receiver, min_assets, deadline, sender=sender)
    withdrawn = next(iter(vault.Withdraw.from_receipt(receipt)))
    return Trade(assets=withdrawn.assets, shares=withdrawn.shares, receipts=[receipt])


# CLAIM #


def claim(pool: Pool, sender: AccountAPI, receiver: str | None) -> tuple[int, ReceiptAPI]:
    """Pull the sender's vested lease revenue, to itself (always allowed) or to a receiver (both
    verified); says so when there is nothing to claim yet."""
    vault = pool.vault
    require_not_paused(pool, "claiming")
    require_exit(pool, sender.address, receiver or sender.address, "sender")
    claimable = vault.claimable(sender.address)
    if claimable == 0:
        days = vault.vesting_period() // SECONDS_PER_DAY
        raise UserError(
            f"{sender.address} has no revenue to claim yet (lease revenue vests over {days} days)"
        )
    receipt = send("claim", vault.claim, receiver or sender.address, sender=sender)
    claimed = sum(log.amount for log in vault.RevenueClaimed.from_receipt(receipt))
    return claimed, receipt


# FAUCET #


class FaucetRequest(StrictModel):
    amount: StableAmount = Field(alias="AMOUNT")


def faucet(pool: Pool, sender: AccountAPI, amount: int) -> ReceiptAPI:
    """Mint test stablecoin to the sender (the deployed MockUSDC of a local pool only)."""
    if not pool.is_mock_stablecoin():
        raise UserError(
            f"the stablecoin {pool.manifest.stablecoin} is not the deployed MockUSDC: no faucet"
        )
    cap = pool.stablecoin.faucet_cap()
    if amount > cap:
        raise UserError(f"the faucet gives at most {pool.cash(cap)} a call")
    return send("faucet", pool.stablecoin.faucet, amount, sender=sender)


# PORTFOLIO AND STATUS #


def _percent(part: int, whole: int) -> str:
    if whole == 0:
        return "0 %"
    return f"{Decimal(part * 100) / whole:.4f} %"


def portfolio_table(pool: Pool, account: str, queued: Sequence[tuple[str, str]] = ()) -> Table:
    """The account's holding, its value and revenue, and its identity; `queued` (the rows of its
    redemption requests, `gpu_rwa.queue.portfolio_rows`) go after what it can redeem now."""
    vault, identity = pool.vault, pool.identity
    held = vault.balanceOf(account)
    supply = vault.totalSupply()
    record = identity.identity(account)
    verified = identity.is_verified(account)
    if verified:
        status = f"verified until {_date(record.expires_at)} (jurisdiction {record.jurisdiction})"
    elif record.expires_at:
        status = f"expired on {_date(record.expires_at)}"
    else:
        status = "not verified"
    table = Table(title=f"portfolio of {account}", show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    rows = [
        ("fractions held", pool.fractions(held)),
        ("value at NAV", pool.cash(vault.convertToAssets(held))),
        ("share of supply", _percent(held, supply)),
        ("redeemable now", pool.fractions(vault.maxRedeem(account))),
        *queued,
        ("claimable revenue", pool.cash(vault.claimable(account))),
        (f"{pool.symbol} balance", pool.cash(pool.stablecoin.balanceOf(account))),
        ("identity", status),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def _pending_cell(pending: int) -> str:
    if pending > MAX_MATURE_STEPS:
        return f"more than {MAX_MATURE_STEPS}: run `ape run vault process-maturities`"
    return str(pending)


def entries_cell(pool: Pool) -> str:
    """Whether the pool takes entries now (buys, mints, contributions), and if not why: paused,
    maturities due, or GPUs written down (stale or returning) or held down (impaired or below
    their line) with what fixes it."""
    if pool.vault.paused():
        return "closed: the vault is paused"
    if pool.collateral.winding_down():
        return "closed for good: the pool is winding down"
    if pool.collateral.pending() > MAX_MATURE_STEPS:
        return "closed: maturities due; run `ape run vault process-maturities`"
    reason = entries_closed_reason(pool, chain.blocks.head.timestamp)
    return "open" if reason is None else f"closed: {reason}"


def winding_down_cell(pool: Pool) -> str:
    """`no`, or what a pool in wind-down still does."""
    if not pool.collateral.winding_down():
        return "no"
    return (
        "yes: no deposits or new leases; GPUs are sold and holders leave through the queue, "
        "priced pro rata without the dead shares"
    )


def vault_table(pool: Pool) -> Table:
    vault, collateral = pool.vault, pool.collateral
    one = 10**pool.fraction_decimals
    received, held = vault.received(), vault.held()
    table = Table(title=f"CollateralVault {vault.address}", show_header=False)
    table.add_column("item")
    table.add_column("value", justify="right")
    rows = [
        ("NAV (totalAssets)", pool.cash(vault.totalAssets())),
        (f"price of one {pool.fraction_symbol}", pool.cash(vault.convertToAssets(one))),
        ("total supply", pool.fractions(vault.totalSupply())),
        ("free cash", pool.cash(vault.free_cash())),
        (
            f"collateral value ({collateral.ADVANCE_RATE_BPS() / 100:g} % of book)",
            pool.cash(collateral.value()),
        ),
        (
            "GPUs counted (stale incl.) / held",
            f"{collateral.schedule_state()[1]} / {pool.registry.balanceOf(collateral.address)}",
        ),
        ("maturities due", _pending_cell(collateral.pending())),
        ("GPUs written down (stale or returning)", str(collateral.written_down())),
        ("GPUs held down (impaired or below their line)", str(collateral.held_down())),
        ("entries (buy, contribute)", entries_cell(pool)),
        (
            "staleness window / unlock period",
            f"{collateral.STALENESS_WINDOW() // SECONDS_PER_DAY} d / "
            f"{collateral.UNLOCK_PERIOD() // SECONDS_PER_DAY} d",
        ),
        ("revenue received (after fees)", pool.cash(received)),
        ("revenue claimed", pool.cash(received - held)),
        ("revenue held", pool.cash(held)),
        ("revenue not yet vested", pool.cash(vault.unvested())),
        (f"accrued fees ({vault.fee_bps() / 100:g} %)", pool.cash(vault.accrued_fees())),
        ("paused", "yes" if vault.paused() else "no"),
        ("winding down", winding_down_cell(pool)),
    ]
    for row in rows:
        table.add_row(*row)
    return table
