"""The whole lifecycle of one pool on a local chain, with a report an auditor can check.

register GPUs -> contribute them to the vault -> verify investors -> investors buy (one with a
permit) -> an unverified address is refused -> a lease over the GPUs -> twelve monthly instalments
with chain time advanced -> holders claim -> one investor redeems -> pause holds -> the books are
rebuilt from events and every invariant is checked.
"""

from decimal import Decimal
from pathlib import Path

from ape import accounts, chain
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from gpu_rwa import collateral, identity, leases
from gpu_rwa import pool as pools
from gpu_rwa.audit import InvariantCheck, check_invariants, invariants_table, rebuild_books
from gpu_rwa.chain import local_account, send
from gpu_rwa.cli import validated
from gpu_rwa.config import DeployConfig
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.errors import UserError
from gpu_rwa.inventory import load_inventory
from gpu_rwa.registry import pending_entries, register_entries
from gpu_rwa.types import SECONDS_PER_DAY

MONTH = 30 * SECONDS_PER_DAY
INSTALMENTS = 12
# Investors TEST::7, TEST::8, TEST::9 and what each buys, in stablecoin units.
PURCHASES = {7: "250000", 8: "150000", 9: "100000"}
INSTALMENT = "60000"
GRACE_DAYS = 5
CLAIM_MONTHS = (3, 6, 9, 12)
REDEEM_MONTH = 8


class MonthFigures(BaseModel):
    month: int
    timestamp: int
    nav: int
    price_per_fraction: str
    free_cash: int
    collateral_value: int
    revenue_received: int
    revenue_claimed: int
    unvested: int


class DemoReport(BaseModel):
    addresses: dict[str, str]
    gpus_in_vault: int
    positions: dict[str, dict[str, int]]
    purchases: dict[str, dict[str, int]]
    refused: list[str]
    months: list[MonthFigures]
    redeemed: dict[str, int | str]
    claims: dict[str, int]
    fees_accrued: int
    invariants: list[InvariantCheck]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.invariants)


def _refusal(console: Console, doing: str, attempt) -> str:
    """Run `attempt`, which must be refused; returns the refusal as it was shown to the user."""
    try:
        attempt()
    except UserError as refused:
        console.print(f"  refused, as it must be: {doing}: {refused.message}")
        return f"{doing}: {refused.message}"
    raise UserError(f"the demo expected `{doing}` to be refused, and it went through")


def run_lifecycle(
    deploy_config: DeployConfig, inventory: Path, manifest_path: Path, console: Console
) -> DemoReport:
    admin, operator, custodian, compliance, pauser, lessee = map(
        local_account, ("admin", "operator", "custodian", "compliance", "pauser", "lessee")
    )
    investors = {index: accounts.test_accounts[index] for index in PURCHASES}
    outsider = lessee  # never verified: it pays instalments, it does not hold fractions
    entries = load_inventory(inventory)

    console.rule("1. deploy")
    manifest = deploy_suite(deploy_config, admin, manifest_path, console)
    pool = pools.load_pool(manifest)
    vault, registry = pool.vault, pool.registry

    console.rule(f"2. register {len(entries)} GPUs and contribute them to the vault")
    first_id = registry.totalSupply() + 1
    register_entries(
        registry,
        pending_entries(registry, entries),
        operator.address,
        custodian,
        decimals=pool.decimals,
        console=console,
    )
    token_ids = list(range(first_id, first_id + len(entries)))
    identity.verify(
        pool,
        compliance,
        validated(
            identity.Verification, dict(accounts=[operator.address], days=3650, jurisdiction=840)
        ),
    )
    for token_id, value, _ in collateral.contribute(pool, operator, token_ids, None):
        console.print(f"  GPU {token_id} in the vault at collateral value {pool.cash(value)}")

    console.rule("3. investors are verified and buy fractions")
    identity.verify(
        pool,
        compliance,
        validated(
            identity.Verification,
            dict(accounts=[a.address for a in investors.values()], days=365, jurisdiction=840),
        ),
    )
    purchases = {}
    for index, amount in PURCHASES.items():
        investor = investors[index]
        pools.faucet(pool, investor, int(amount) * 10**pool.decimals)
        order = validated(pools.BuyOrder, dict(assets=amount, permit=index == 7), pool.context)
        trade = pools.buy(pool, investor, order, console)
        purchases[investor.address] = {"paid": trade.assets, "fractions": trade.shares}
        how = "with a permit, one transaction" if index == 7 else "after an approve"
        console.print(
            f"  {investor.address} paid {pool.cash(trade.assets)} for "
            f"{pool.fractions(trade.shares)} ({how})"
        )
    pools.faucet(pool, outsider, 1_000 * 10**pool.decimals)
    refused = [
        _refusal(
            console,
            f"unverified {outsider.address} buys",
            lambda: pools.buy(
                pool,
                outsider,
                validated(pools.BuyOrder, dict(assets="1000"), pool.context),
                console,
            ),
        )
    ]

    console.rule(f"4. a lease over {len(token_ids) - 2} GPUs, {INSTALMENTS} monthly instalments")
    terms = validated(
        leases.LeaseTerms,
        dict(
            lessee=lessee.address,
            instalment=INSTALMENT,
            period_days=30,
            instalments=INSTALMENTS,
            grace_days=GRACE_DAYS,
            gpu_ids=token_ids[:-2],
        ),
        pool.context,
    )
    lease_id, _ = leases.open_lease(pool, operator, terms)
    # The faucet gives at most 1M a call: the lessee's twelve instalments come in two.
    for _ in range(2):
        pools.faucet(pool, lessee, INSTALMENTS * int(INSTALMENT) * 10**pool.decimals // 2)

    console.rule("5. twelve months")
    months, claims, redeemed = [], {}, {}
    claimed_total = 0
    for month in range(1, INSTALMENTS + 1):
        chain.pending_timestamp += MONTH
        leases.pay_instalments(pool, lessee, lease_id, 1, console)
        if month in CLAIM_MONTHS:
            for investor in investors.values():
                if vault.claimable(investor) == 0:
                    continue
                amount, _ = pools.claim(pool, investor, None)
                claims[investor.address] = claims.get(investor.address, 0) + amount
                claimed_total += amount
        if month == REDEEM_MONTH:
            seller = investors[9]
            half = vault.balanceOf(seller) // 2
            fractions = format(Decimal(half).scaleb(-pool.fraction_decimals), "f")
            order = validated(pools.RedeemOrder, dict(shares=fractions), pool.context)
            trade = pools.redeem(pool, seller, order)
            redeemed = {"account": seller.address, "fractions": trade.shares, "paid": trade.assets}
            console.print(
                f"  {seller.address} redeemed {pool.fractions(trade.shares)} for "
                f"{pool.cash(trade.assets)}"
            )
        months.append(_month_figures(pool, month, claimed_total))
    console.print(_months_table(pool, months))

    console.rule("6. pause holds")
    send("pausing", vault.pause, sender=pauser)
    refused.append(
        _refusal(
            console,
            "a buy while paused",
            lambda: pools.buy(
                pool,
                investors[8],
                validated(pools.BuyOrder, dict(assets="10"), pool.context),
                console,
            ),
        )
    )
    send("unpausing", vault.unpause, sender=admin)

    console.rule("7. the audit")
    chain.pending_timestamp += MONTH  # the last instalment finishes vesting
    chain.mine()
    for holder in (operator, *investors.values()):
        if vault.claimable(holder):
            amount, _ = pools.claim(pool, holder, None)
            claims[holder.address] = claims.get(holder.address, 0) + amount
    invariants = check_invariants(pool, rebuild_books(pool))
    positions = {
        account: {
            "fractions": vault.balanceOf(account),
            "value": vault.convertToAssets(vault.balanceOf(account)),
            "claimed": claims.get(account, 0),
        }
        for account in [operator.address, *(a.address for a in investors.values())]
    }
    return DemoReport(
        addresses={name: record.address for name, record in manifest.contracts.items()},
        gpus_in_vault=vault.counted(),
        positions=positions,
        purchases=purchases,
        refused=refused,
        months=months,
        redeemed=redeemed,
        claims=claims,
        fees_accrued=vault.accrued_fees(),
        invariants=invariants,
    )


def _month_figures(pool: pools.Pool, month: int, claimed: int) -> MonthFigures:
    vault = pool.vault
    one_fraction = 10**pool.fraction_decimals
    return MonthFigures(
        month=month,
        timestamp=chain.blocks.head.timestamp,
        nav=vault.totalAssets(),
        price_per_fraction=pool.price(vault.convertToAssets(one_fraction), one_fraction),
        free_cash=vault.free_cash(),
        collateral_value=vault.collateral_value(),
        revenue_received=vault.received(),
        revenue_claimed=claimed,
        unvested=vault.unvested(),
    )


def _months_table(pool: pools.Pool, months: list[MonthFigures]) -> Table:
    table = Table(title="month by month")
    for column in (
        "month",
        "NAV",
        "price / fraction",
        "free cash",
        "collateral",
        "revenue received",
        "claimed",
        "unvested",
    ):
        table.add_column(column, justify="right")
    for m in months:
        table.add_row(
            str(m.month),
            pool.cash(m.nav),
            m.price_per_fraction,
            pool.cash(m.free_cash),
            pool.cash(m.collateral_value),
            pool.cash(m.revenue_received),
            pool.cash(m.revenue_claimed),
            pool.cash(m.unvested),
        )
    return table


def summary_tables(pool: pools.Pool, report: DemoReport) -> list[Table]:
    positions = Table(title="positions")
    for column in ("holder", "fractions", "value at NAV", "revenue claimed"):
        positions.add_column(column, justify="left" if column == "holder" else "right")
    for account, figures in report.positions.items():
        positions.add_row(
            account,
            pool.fractions(figures["fractions"]),
            pool.cash(figures["value"]),
            pool.cash(figures["claimed"]),
        )
    return [positions, invariants_table(report.invariants)]
