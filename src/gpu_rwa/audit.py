"""The auditor's view of a pool: its books rebuilt from events alone, reconciled against the
contracts, and the invariants of ../shared/DOMAIN.md checked with the values compared.

Nothing here trusts the vault's own accounting: every figure an invariant compares is either read
from the contracts or rebuilt from the logs of the deploy block onwards, and both are reported.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from ape import chain
from pydantic import BaseModel
from rich.table import Table

from gpu_rwa.pool import Pool
from gpu_rwa.types import ZERO_ADDRESS

# Rounding dust the revenue accumulator may leave per holder (see contracts/revenue.vy).
DUST_PER_HOLDER = 1
# Amounts whose round trip through the share price must not gain the caller anything.
ROUND_TRIP_AMOUNTS = (1, 999_999, 10**6, 123_456_789_012, 10**12)


class InvariantCheck(BaseModel):
    """One invariant as the audit found it: the figures compared and the verdict."""

    number: int
    name: str
    compared: dict[str, int | str | bool]
    passed: bool


@dataclass
class Books:
    """What the events say: cash buckets, fraction balances, identities, GPUs counted."""

    free_cash: int = 0
    revenue_received: int = 0
    fees_charged: int = 0
    fees_paid: int = 0
    revenue_claimed: int = 0
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    supply: int = 0
    verified_until: dict[str, int] = field(default_factory=dict)
    # Fraction transfers whose receiver had no live verification at that block: (block, address).
    unverified_receipts: list[tuple[int, str]] = field(default_factory=list)
    gpus_counted: set[int] = field(default_factory=set)
    stablecoin_held: int = 0
    pauses: list[tuple[int, int | None]] = field(default_factory=list)
    transfers_while_paused: int = 0

    @property
    def revenue_held(self) -> int:
        return self.revenue_received - self.revenue_claimed

    @property
    def fees_accrued(self) -> int:
        return self.fees_charged - self.fees_paid

    @property
    def donations(self) -> int:
        """Stablecoin sent to the vault outside its flows: held, but in no bucket of the books."""
        return self.stablecoin_held - (self.free_cash + self.revenue_held + self.fees_accrued)


def _logs(event, start: int, stop: int) -> list:
    return list(event.range(start, stop))


def rebuild_books(pool: Pool) -> Books:
    """Replay the pool's events from the deploy block to the head, in chain order."""
    start, stop = pool.manifest.deploy_block or 0, chain.blocks.head.number + 1
    vault, identity, token = pool.vault, pool.identity, pool.stablecoin
    sources = [
        vault.Deposit,
        vault.Withdraw,
        vault.Transfer,
        vault.GpuContributed,
        vault.GpuPurchased,
        vault.GpuImpaired,
        vault.GpuDropped,
        vault.RevenueDistributed,
        vault.RevenueClaimed,
        vault.FeesClaimed,
        vault.Paused,
        vault.Unpaused,
        identity.IdentityVerified,
        identity.IdentityRevoked,
        token.Transfer,
    ]
    logs = sorted(
        (log for source in sources for log in _logs(source, start, stop)),
        key=lambda log: (log.block_number, log.log_index),
    )
    books = Books()
    timestamps: dict[int, int] = {}
    for log in logs:
        name, args = log.event_name, log.event_arguments
        if log.contract_address == token.address:
            if args["receiver"] == vault.address:
                books.stablecoin_held += args["value"]
            if args["sender"] == vault.address:
                books.stablecoin_held -= args["value"]
        elif log.contract_address == identity.address:
            if name == "IdentityVerified":
                books.verified_until[args["account"]] = args["expires_at"]
            else:
                books.verified_until.pop(args["account"], None)
        elif name == "Deposit":
            books.free_cash += args["assets"]
        elif name == "Withdraw":
            books.free_cash -= args["assets"]
        elif name == "GpuPurchased":
            books.free_cash -= args["price"]
            books.gpus_counted.add(args["token_id"])
        elif name == "GpuContributed":
            books.gpus_counted.add(args["token_id"])
        elif name in ("GpuImpaired", "GpuDropped"):
            books.gpus_counted.discard(args["token_id"])
        elif name == "RevenueDistributed":
            books.revenue_received += args["amount"] - args["fee"]
            books.fees_charged += args["fee"]
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
            else:
                block = log.block_number
                if block not in timestamps:
                    timestamps[block] = chain.blocks[block].timestamp
                if books.verified_until.get(receiver, 0) < timestamps[block]:
                    books.unverified_receipts.append((block, receiver))
            if books.pauses and books.pauses[-1][1] is None:
                books.transfers_while_paused += 1
    books.balances.pop(ZERO_ADDRESS, None)
    return books


def check_invariants(pool: Pool, books: Books) -> list[InvariantCheck]:
    """Invariants 1-9 of ../shared/DOMAIN.md that apply to one pool, each with its figures."""
    vault, registry = pool.vault, pool.registry
    holders = [a for a, balance in books.balances.items() if balance or vault.balanceOf(a)]
    on_chain = {holder: vault.balanceOf(holder) for holder in holders}
    supply = vault.totalSupply()
    free_cash, collateral = vault.free_cash(), vault.collateral_value()
    total_assets = vault.totalAssets()
    received, held, fees = vault.received(), vault.held(), vault.accrued_fees()
    claimable = sum(vault.claimable(holder) for holder in holders)
    unvested = vault.unvested()
    dust = received - books.revenue_claimed - claimable - unvested
    cash = pool.stablecoin.balanceOf(vault)
    gpus_owned = all(registry.ownerOf(token_id) == vault.address for token_id in books.gpus_counted)
    round_trips = [(a, vault.convertToAssets(vault.convertToShares(a))) for a in ROUND_TRIP_AMOUNTS]

    def check(number: int, name: str, passed: bool, **compared) -> InvariantCheck:
        return InvariantCheck(number=number, name=name, compared=compared, passed=passed)

    return [
        check(
            1,
            "fraction balances sum to total supply",
            sum(on_chain.values()) == supply == books.supply
            and all(books.balances[h] == on_chain[h] for h in holders),
            sum_of_balances=sum(on_chain.values()),
            total_supply=supply,
            supply_from_events=books.supply,
            holders=len(holders),
        ),
        check(
            2,
            "issuance within cash plus collateral at its advance rate",
            total_assets == free_cash + collateral
            and vault.convertToAssets(supply) <= free_cash + collateral,
            value_of_fractions=vault.convertToAssets(supply),
            free_cash=free_cash,
            collateral_value=collateral,
            total_assets=total_assets,
        ),
        check(
            3,
            "revenue conserved to the wei (fees taken apart)",
            received == books.revenue_received and 0 <= dust <= DUST_PER_HOLDER * len(holders) + 2,
            received=received,
            received_from_events=books.revenue_received,
            fees_charged=books.fees_charged,
            claimed=books.revenue_claimed,
            claimable=claimable,
            unvested=unvested,
            dust=dust,
        ),
        check(
            4,
            "stablecoin held equals the books (plus donations, which no bucket counts)",
            cash == books.stablecoin_held == free_cash + held + fees + books.donations
            and books.donations >= 0
            and (free_cash, held, fees)
            == (books.free_cash, books.revenue_held, books.fees_accrued),
            stablecoin_balance=cash,
            donations=books.donations,
            free_cash=free_cash,
            revenue_held=held,
            fees_accrued=fees,
            free_cash_from_events=books.free_cash,
            revenue_held_from_events=books.revenue_held,
            fees_from_events=books.fees_accrued,
        ),
        check(
            5,
            "fractions only reached verified investors",
            not books.unverified_receipts,
            unverified_receipts=len(books.unverified_receipts),
        ),
        check(
            6,
            "every GPU counted is held by the vault",
            gpus_owned and vault.counted() == len(books.gpus_counted),
            gpus_counted=vault.counted(),
            gpus_from_events=len(books.gpus_counted),
            all_held_by_vault=gpus_owned,
        ),
        check(
            7,
            "rounding favours the vault",
            all(back <= amount for amount, back in round_trips),
            **{f"round_trip_{amount}": back for amount, back in round_trips},
        ),
        check(
            8,
            "books rebuilt from events match the contracts",
            (books.free_cash, books.revenue_held, books.fees_accrued, books.supply)
            == (free_cash, held, fees, supply),
            events_read=True,
        ),
        check(
            9,
            "no fraction moved while paused",
            books.transfers_while_paused == 0,
            pauses=len(books.pauses),
            transfers_while_paused=books.transfers_while_paused,
        ),
    ]


def invariants_table(checks: list[InvariantCheck]) -> Table:
    table = Table(title="invariants (../shared/DOMAIN.md)")
    for column in ("#", "invariant", "result", "figures compared"):
        table.add_column(column)
    for check in checks:
        figures = ", ".join(f"{name}={value}" for name, value in check.compared.items())
        table.add_row(str(check.number), check.name, "pass" if check.passed else "FAIL", figures)
    return table
