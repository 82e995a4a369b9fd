"""`make demo-default`: a lease's default and the pool's wind-down to zero, and its report
(reports/demo-default.json). One run for the module; the tests read its report and the chain it
left behind."""

from pathlib import Path

import pytest

from gpu_rwa.audit import check_invariants, failures, rebuild_books, summary_line
from gpu_rwa.cli import console
from gpu_rwa.config import load_deploy_config
from gpu_rwa.demo import Cast
from gpu_rwa.demo_default import (
    DECLARER,
    DEFAULTING,
    HEALTHY,
    PREMIUM,
    PURCHASES,
    RECOVERED,
    RECOVERY,
    REQUESTER,
    DefaultReport,
    run_default_lifecycle,
)
from gpu_rwa.history import replay
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool
from tests.utils.vault import BPS, DAY

SAMPLE = Path("inventory/sample.csv")
CONFIG = load_deploy_config(Path("config/local.yaml"))
ADVANCE_RATE_BPS = CONFIG.vault.advance_rate_bps
FEE_BPS = CONFIG.vault.fee_bps
USDC = 10**6
DEAD_SHARES = 10**12
GPUS = 10
SUMMARY = "all 12 invariants pass"
# The story pins its blocks to exact seconds (the default a second after the lease may be declared
# in default, NAV a second before it): `make demo-default` runs on Anvil.
pytestmark = pytest.mark.anvil_only("blocks at exact seconds")


@pytest.fixture(scope="module")
def default_demo(tmp_path_factory, chain, admin, operator, custodian, appraiser, investor):
    # Run once; every test gets the chain as the story left it (session fixtures first: see
    # tests/e2e/test_demo.py).
    manifest = tmp_path_factory.mktemp("demo-default") / "demo-default.json"
    report = run_default_lifecycle(CONFIG, SAMPLE, manifest, console)
    return report, load_pool(read_manifest(manifest))


def test_every_audit_passes(default_demo):
    report, _ = default_demo
    assert report.passed
    assert list(report.audits) == ["before_default", "after_default", "end"]
    for checks in report.audits.values():
        assert summary_line(checks).startswith(SUMMARY)
        assert [c.number for c in checks if c.passed] == list(range(1, 13))
    # The report is what the script writes: it round-trips through its JSON.
    assert DefaultReport.model_validate_json(report.model_dump_json()) == report


def test_arrears_grow_until_anyone_may_declare_the_default(default_demo):
    report, pool = default_demo
    points = report.arrears
    lease = pool.leases.lease(report.default.lease_id)
    first_unpaid_due = lease.start + (DEFAULTING["paid"] + 1) * lease.period
    assert all(p.oldest_due == first_unpaid_due for p in points)
    assert [p.days_late for p in points] == sorted(p.days_late for p in points)
    for p in points:
        assert p.days_late == (p.timestamp - first_unpaid_due) // DAY
        assert p.amount == p.instalments * int(DEFAULTING["instalment"]) * USDC
    # Not at default_after past due, a second later yes (then frozen at the default).
    *_, last_second, defaultable, at_default = points
    assert last_second.timestamp == first_unpaid_due + lease.default_after
    assert not last_second.defaultable
    assert defaultable.timestamp == last_second.timestamp + 1 and defaultable.defaultable
    assert (at_default.instalments, at_default.days_late) == (2, 60)
    assert not at_default.defaultable


def test_the_default_marks_its_gpus_down_in_its_block(default_demo):
    report, pool = default_demo
    default, cast = report.default, Cast.local()
    assert default.caller == cast.investors[DECLARER].address
    assert (default.instalments, default.arrears_amount, default.days_late) == (
        2,
        2 * int(DEFAULTING["instalment"]) * USDC,
        60,
    )
    # NAV in the default's block: its free cash and the collateral's value then.
    [then] = [s for s in report.snapshots if s.label == "the default's block"]
    assert (then.timestamp, then.nav) == (default.timestamp, default.nav_after)
    assert then.nav == then.free_cash + then.collateral_value
    assert default.nav_after < default.nav_before
    recovery = {int(i): v for i, v in report.recovery_values.items()}
    salvage = {i: pool.registry.terms(i).salvage for i in map(int, report.gpus)}
    marks = {m.token_id: m for m in default.marks}
    assert sorted(marks) == sorted(report.leases["defaulting"]["gpus"])
    removed = 0
    for token_id, mark in marks.items():
        expected = recovery.get(token_id, salvage[token_id])
        assert mark.book_value == expected < mark.previous_book_value
        assert mark.recovery_value_set == (token_id in recovery)
        assert mark.collateral_value_after == expected * ADVANCE_RATE_BPS // BPS
        removed += (mark.previous_book_value - mark.book_value) * ADVANCE_RATE_BPS // BPS
    # The marks took their value off at once; the rest is a second of depreciation and rounding.
    assert 0 <= default.nav_before - default.nav_after - removed < 20 * USDC


def test_the_queued_exit_bore_the_write_down(default_demo):
    report, _ = default_demo
    queued, cast = report.queued, Cast.local()
    assert queued.controller == cast.investors[REQUESTER].address
    assert queued.shares == report.purchases[queued.controller]["fractions"]
    assert queued.assets == queued.claimed < queued.value_at_request
    assert _price(queued.price_at_fulfilment) < _price(queued.price_at_request)
    assert abs(_price(queued.price_at_fulfilment) - _price(report.default.price_after)) < 1e-4


def test_sales_at_their_floors_proceeds_where_they_belong(default_demo):
    report, pool = default_demo
    sales = {s.token_id: s for s in report.sales}
    assert sorted(sales) == [int(i) for i in report.gpus]
    recovery = {int(i): v for i, v in report.recovery_values.items()}
    for sale in sales.values():
        assert sale.price >= sale.floor
        if sale.token_id in recovery:
            assert sale.floor == sale.price == recovery[sale.token_id] > sale.collateral_value
        else:
            assert sale.floor == sale.collateral_value
        if sale.winding_down:
            # In wind-down all of the price enters free cash.
            assert (sale.to_free_cash, sale.streamed_to_holders) == (sale.price, 0)
        else:
            # Before it, the part above the collateral value is streamed to holders.
            assert sale.to_free_cash == sale.collateral_value
            assert sale.streamed_to_holders == sale.price - sale.collateral_value > 0
    assert [s.token_id for s in report.sales if not s.winding_down] == [int(min(recovery))]
    [above] = [s for s in report.sales if s.why == "above the floor"]
    assert above.winding_down and above.price - above.floor >= int(PREMIUM) * USDC
    assert pool.registry.balanceOf(pool.collateral) == 0


def test_revenue_reached_holders(default_demo):
    report, pool = default_demo
    recovered = int(RECOVERED) * USDC
    assert report.recovery == {
        "amount": recovered,
        "fee": recovered * FEE_BPS // BPS,
        "to_holders": recovered - recovered * FEE_BPS // BPS,
    }
    paid = HEALTHY["instalments"] * int(HEALTHY["instalment"]) * USDC
    paid += DEFAULTING["paid"] * int(DEFAULTING["instalment"]) * USDC
    fees = (paid + recovered) * FEE_BPS // BPS
    premium = sum(s.streamed_to_holders for s in report.sales)
    assert report.end.revenue_received == paid + recovered - fees + premium
    assert report.fees_claimed == fees
    assert sum(report.revenue_claims.values()) == report.end.revenue_claimed
    assert report.recycled[0] > 0 and report.recycled[-1] == 0
    assert pool.leases.lease(report.default.lease_id).recovered == recovered
    assert any("the pool is winding down" in r for r in report.refused)


def test_the_last_holders_leave_nothing_stranded(default_demo):
    report, pool = default_demo
    end, vault, queue = report.end, pool.vault, pool.queue
    # Everyone but the requester left in wind-down; the last exit took the last of NAV.
    cash_before_exits = report.snapshots[-1].free_cash
    assert sum(e.assets for e in report.exits) == cash_before_exits
    assert {e.controller for e in report.exits} == {
        a.address
        for i, a in [(1, Cast.local().operator), *Cast.local().investors.items()]
        if i != REQUESTER
    }
    assert (end.supply, end.dead_shares) == (DEAD_SHARES, DEAD_SHARES)
    assert vault.totalSupply() == vault.balanceOf(vault) == DEAD_SHARES
    assert end.gpus_held == 0 == pool.registry.balanceOf(pool.collateral)
    assert (end.free_cash, end.total_assets, end.fees_accrued) == (0, 0, 0)
    assert (end.queue_reserved, end.queue_pending_shares, end.queue_stablecoin) == (0, 0, 0)
    assert pool.stablecoin.balanceOf(queue) == 0
    # The vault's stablecoin is the revenue's dust: nothing claimable, nothing vesting.
    assert (end.unvested, end.claimable_by_anyone) == (0, 0)
    assert end.vault_stablecoin == pool.stablecoin.balanceOf(vault) == end.revenue_held
    assert end.revenue_held == end.revenue_received - end.revenue_claimed
    assert end.vault_stablecoin <= end.dust_bound == len(PURCHASES) + 1 + 1 + 2
    assert str(end.vault_stablecoin) in end.explanation


def test_the_accumulator_replayed_through_skims_sales_and_exits(default_demo, chain):
    """Statements replay the revenue accumulator from events: through the premiums and the
    recycling skims, the recovery and every exit, each payment's rate and end and every
    account's slot are the vault's to the 2**-28 wei. Every holder's total return is what it
    got back and claimed less what it paid (nothing is left to value), the requester's below
    the others' (it left at the written-down NAV)."""
    report, pool = default_demo
    vault = pool.vault
    history, _ = replay(pool)
    accrual = history.accrual
    assert accrual.mismatches == []
    state = (accrual.acc, accrual.rem, accrual.rate, accrual.last, accrual.end)
    assert state == tuple(vault.revenue_state())
    holders = [vault.address, *report.returns]
    for account in holders:
        slot = accrual.accounts[account]
        assert (slot.checkpoint, slot.owed) == tuple(vault.account_state(account))
    assert {a: slot.owed for a, slot in accrual.accounts.items() if a in holders} == (
        report.end.sub_wei_owed
    )
    for account, r in report.returns.items():
        assert (r.value, r.claimable) == (0, 0)
        assert r.claimed == report.revenue_claims.get(account, 0)
        assert r.total_return == r.returned + r.claimed - r.paid
    requester = Cast.local().investors[REQUESTER].address
    assert (
        report.returns[requester].xirr
        < 0
        < min(r.xirr for a, r in report.returns.items() if a != requester)
    )


def test_the_audit_rebuilds_the_end_from_events(default_demo):
    _, pool = default_demo
    checks = check_invariants(pool, rebuild_books(pool))
    assert not failures(checks)
    by_number = {c.number: c for c in checks}
    assert by_number[6].compared["sold"] == GPUS
    assert by_number[6].compared["left_without_flow"] == "-"
    assert by_number[8].compared["marks_differing"] == "-"
    assert by_number[11].compared["winding_down"] is True
    assert summary_line(checks).endswith("entries closed (winding down)")


def test_recovery_values_set_before_the_default(default_demo):
    report, _ = default_demo
    assert sorted(report.recovery_values.values()) == sorted(
        int(v) * USDC for v in RECOVERY.values()
    )


def _price(text: str) -> float:
    """`0.75476000 USDC` as a number."""
    return float(text.split()[0].replace(",", ""))
