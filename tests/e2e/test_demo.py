"""`make demo`'s lifecycle, and the auditor that checks it: it passes on an honest pool (through
impairment, staleness, return ramps, end of life and queued redemptions in every state) and fails,
naming the invariant, when the books rebuilt from events and the chain disagree."""

import copy
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from gpu_rwa import audit as audit_module
from gpu_rwa import market as market_ops
from gpu_rwa import pool as pools
from gpu_rwa.audit import (
    HELD_UNCOUNTED,
    NOT_HELD,
    Books,
    InvariantCheck,
    check_invariants,
    collateral_value_at,
    failures,
    read_chain,
    rebuild_books,
    summary_line,
)
from gpu_rwa.cli import console, validated
from gpu_rwa.config import load_deploy_config
from gpu_rwa.demo import (
    CANCEL_MONTH,
    CANCEL_REQUEST_MONTH,
    CANCELLED_FRACTIONS,
    CANCELLER,
    INSTALMENT,
    INSTALMENTS,
    MONTH,
    NEWCOMER_PURCHASE,
    QUEUE_MONTH,
    REDEEMER,
    VISIT,
    Cast,
    run_lifecycle,
)
from gpu_rwa.errors import UserError
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool
from tests.utils.custody import attest
from tests.utils.governance import govern
from tests.utils.registry import GpuStatus, make_spec
from tests.utils.scripts import run_script
from tests.utils.vault import BPS, DAY

SAMPLE = Path("inventory/sample.csv")
CONFIG = load_deploy_config(Path("config/local.yaml"))
FEE_BPS = CONFIG.vault.fee_bps
ADVANCE_RATE_BPS = CONFIG.vault.advance_rate_bps
STALENESS_WINDOW = CONFIG.vault.staleness_days * DAY
UNLOCK_PERIOD = CONFIG.vault.unlock_days * DAY
GPUS = 10
USDC = 10**6
DEAD_SHARES = 10**12  # one whole fraction: 6 stablecoin decimals + the 6-decimal offset
INVARIANTS = list(range(1, 13))
SUMMARY = "all 12 invariants pass"
FRACTION = 10**12


@pytest.fixture(scope="module")
def demo(tmp_path_factory, chain, admin, operator, custodian, appraiser, pauser, attacker):
    # Run once; ape's snapshot isolation hands every test the chain as the demo left it. The
    # session fixtures the tests use are requested first: one a test requests later would make
    # ape rebase its snapshots and run the demo again.
    manifest = tmp_path_factory.mktemp("demo") / "demo.json"
    report = run_lifecycle(CONFIG, SAMPLE, manifest, console)
    return report, load_pool(read_manifest(manifest)), manifest


@pytest.fixture
def pool(demo):
    return demo[1]


@pytest.fixture(scope="module")
def honest(demo):
    """The demo pool's books and chain state, read once: tampering tests change copies."""
    books = rebuild_books(demo[1])
    return books, read_chain(demo[1], books)


def audited(pool) -> tuple[dict[int, InvariantCheck], Books]:
    """Rebuild and check; every invariant that applies must pass. The checks by number, and the
    books rebuilt."""
    books = rebuild_books(pool)
    checks = check_invariants(pool, books)
    assert not failures(checks), [c for c in checks if c.passed is False]
    return {c.number: c for c in checks}, books


def audit(pool) -> dict[int, InvariantCheck]:
    return audited(pool)[0]


def day_floor(t: int) -> int:
    return t // DAY * DAY


def day_ceil(t: int) -> int:
    return -(-t // DAY) * DAY


# THE DEMO #


def test_lifecycle_passes_every_invariant(demo):
    report, pool, _ = demo
    assert report.passed, [c for c in report.invariants if c.passed is False]
    assert [c.number for c in report.invariants] == list(range(1, 13))
    assert all(c.passed for c in report.invariants)
    assert report.gpus_in_vault == report.gpus_counted == GPUS
    assert report.dead_shares == pool.vault.balanceOf(pool.vault) == DEAD_SHARES
    gross = INSTALMENTS * int(INSTALMENT) * USDC
    fees = gross * FEE_BPS // BPS
    assert pool.vault.received() == gross - fees
    assert report.fees_accrued == fees
    revenue = report.invariants[2].compared
    # All vested; what stays unclaimed is the dead shares' part, streamed at the next payment.
    assert revenue["unvested"] == 0
    assert revenue["claimable"] == revenue["claimable_by_dead_shares"] > 0
    assert 0 <= revenue["dust"] <= len(report.positions) + 2
    assert sum(report.claims.values()) == revenue["claimed"]
    assert sum(p["fractions"] for p in report.positions.values()) == pool.vault.totalSupply()
    assert report.positions[pool.vault.address]["fractions"] == DEAD_SHARES
    assert len(report.refused) == 2
    assert "it is not a verified investor" in report.refused[0]
    assert "the vault is paused" in report.refused[1]
    assert report.redeemed["account"] == Cast.local().investors[REDEEMER].address
    assert report.redeemed["paid"] > 0
    assert report.collateral_value == pool.collateral.value() > 0
    # Two visits a month and one in the audit's month. Each visit moves every stale day before
    # it comes, and a moved stale day leaves no change behind: nothing ever fell due (no GPU
    # reaches its end of life within the year), so the operator's routine had nothing to mature.
    assert report.attestations == 2 * INSTALMENTS + 1
    assert report.pending_maturities == pool.collateral.pending() == 0
    assert report.maturities_processed == 0
    # Nothing written down: the pool took entries to the end.
    assert (report.written_down, report.entries_open) == (0, True)
    assert pool.collateral.entries_open()
    assert pool.vault.maxDeposit(Cast.local().operator) > 0
    assert set(report.attestation_ages) == {str(i) for i in range(1, GPUS + 1)}
    assert all(0 <= age - VISIT < 60 for age in report.attestation_ages.values())


def test_every_holder_has_a_total_return_and_a_yield(demo):
    """The price per fraction falls with depreciation all year while revenue is paid: each
    holder's total return (value + revenue claimed + claimable + redeemed - paid) says what it
    made, and its yield (XIRR) a year; the figures are the report's own, from the events."""
    report, pool, _ = demo
    vault = pool.vault
    assert set(report.returns) == set(report.positions) - {vault.address}
    assert Decimal(report.months[-1].price_per_fraction.removesuffix(" USDC")) < 1
    for account, r in report.returns.items():
        position = report.positions[account]
        assert r.claimed == report.claims.get(account, 0) == position["claimed"]
        # Valued at NAV recomputed from the events: the collateral's aggregate may lag the sum
        # of its GPUs' values by a wei each, a holder's part of it is at most that.
        assert 0 <= r.value - position["value"] <= GPUS
        assert r.total_return == r.value + r.claimable + r.claimed + r.returned - r.paid
        assert r.total_return > 0 and r.xirr > 0
    investors = Cast.local().investors
    assert {investors[i].address: report.returns[investors[i].address].paid for i in (7, 8)} == {
        investors[7].address: 250_000 * USDC,
        investors[8].address: 150_000 * USDC,
    }


def test_the_sale_went_through_vault_sell(demo, chain):
    report, pool, _ = demo
    logs = pool.vault.Withdraw.range(pool.manifest.deploy_block, chain.blocks.head.number + 1)
    # The vault's other Withdraws are the queue's settlements (owner: the vault itself).
    [sale] = [log for log in logs if log.owner != pool.vault.address]
    assert chain.get_receipt(sale.transaction_hash).method_called.name == "sell"
    assert sale.sender == sale.receiver == sale.owner == report.redeemed["account"]
    assert (sale.shares, sale.assets) == (report.redeemed["fractions"], report.redeemed["paid"])


# QUEUED REDEMPTIONS #


def test_the_operators_request_waited_for_a_new_investors_cash(demo, chain):
    report, pool, _ = demo
    cast = Cast.local()
    queued = report.queued
    assert (queued.controller, queued.request_id) == (cast.operator.address, 1)
    # Its whole stake (it holds none now), worth more than free cash: fulfilled at once as far
    # as free cash went.
    assert queued.value_at_request > queued.free_cash_at_request > 0
    first, rest = queued.fulfilments
    assert first.assets == first.free_cash_before == queued.free_cash_at_request
    assert first.shares + rest.shares == queued.shares
    # The rest came from the new investor's purchase, after the last instalments.
    assert rest.free_cash_before == report.newcomer["paid"] == int(NEWCOMER_PURCHASE) * USDC
    assert rest.assets < rest.free_cash_before
    assert queued.instalments_while_queued == INSTALMENTS - QUEUE_MONTH
    # Priced at each fulfilling block's NAV: the depreciation meanwhile is borne by the request
    # (prices compared as assets per share, cross-multiplied).
    assert first.assets * queued.shares <= queued.value_at_request * first.shares
    assert rest.assets * first.shares < first.assets * rest.shares
    assert queued.claimed == first.assets + rest.assets < queued.value_at_request
    # The fractions stopped earning at the request: not a wei more of claimable revenue after it.
    assert queued.revenue_claimable_at_request == queued.revenue_claimable_at_claim > 0
    assert report.positions[cast.operator.address]["fractions"] == 0
    # The chain's record of it: two fulfilments, each settled by the vault in its transaction.
    start, stop = pool.manifest.deploy_block, chain.blocks.head.number + 1
    fulfilled = list(pool.queue.RedeemFulfilled.range(start, stop))
    assert [(log.requestId, log.shares, log.assets) for log in fulfilled] == [
        (1, first.shares, first.assets),
        (1, rest.shares, rest.assets),
    ]
    settlements = [
        log for log in pool.vault.Withdraw.range(start, stop) if log.owner == pool.vault.address
    ]
    assert [log.transaction_hash for log in settlements] == [
        log.transaction_hash for log in fulfilled
    ]
    assert all(log.sender == log.receiver == pool.queue.address for log in settlements)
    [claim] = list(pool.queue.Withdraw.range(start, stop))
    assert (claim.owner, claim.receiver, claim.assets) == (
        cast.operator.address,
        cast.operator.address,
        queued.claimed,
    )


def test_the_cancelled_request_came_back_whole(demo):
    report, pool, _ = demo
    cancelled = report.cancelled
    investor = Cast.local().investors[CANCELLER].address
    assert (cancelled.controller, cancelled.request_id) == (investor, 2)
    assert cancelled.shares == cancelled.claimed_back == int(CANCELLED_FRACTIONS) * FRACTION
    assert pool.queue.controller_state(investor) == (0, 0, 0, 0, 0)


def test_the_queue_month_by_month(demo):
    report, _, _ = demo
    queued, cancelled = report.queued, report.cancelled
    rest = queued.fulfilments[1].shares
    by_month = {m.month: (m.queued, m.reserved) for m in report.months}
    reserve = queued.fulfilments[0].assets
    assert all(by_month[m] == (0, 0) for m in range(1, QUEUE_MONTH))
    assert by_month[QUEUE_MONTH] == (rest, reserve)
    assert by_month[CANCEL_REQUEST_MONTH] == (rest + cancelled.shares, reserve)
    assert by_month[CANCEL_MONTH] == by_month[INSTALMENTS] == (rest, reserve)
    # The free cash went to the reserve: nothing but collateral backs NAV until new cash comes.
    assert all(m.free_cash <= 1 for m in report.months if m.month >= QUEUE_MONTH)


def test_every_invariant_held_with_requests_in_every_state(demo):
    report, _, _ = demo
    checks = {c.number: c for c in report.queue_midway}
    assert [n for n, c in checks.items() if c.passed] == INVARIANTS
    queue = checks[10].compared
    rest, cancelled = report.queued.fulfilments[1].shares, report.cancelled.shares
    assert (queue["pending_shares"], queue["pending_shares_from_events"]) == (rest, rest)
    assert (queue["cancelled_shares"], queue["cancelled_from_events"]) == (cancelled, cancelled)
    assert queue["escrow"] == queue["escrow_from_events"] == rest + cancelled
    reserve = report.queued.fulfilments[0].assets
    assert queue["reserved"] == queue["reserved_from_events"] == reserve
    assert queue["queue_stablecoin_balance"] == reserve
    assert queue["max_claims_simulated"] == 1
    assert (queue["controllers_differing"], queue["anomalies"]) == ("-", "-")
    assert checks[4].compared["reserved"] == checks[4].compared["reserved_from_events"] == reserve
    assert checks[1].compared["escrow_from_queue_events"] == rest + cancelled
    assert checks[1].compared["dead_shares"] == DEAD_SHARES


def test_the_audit_closes_the_queue(demo):
    report, _, _ = demo
    queue = {c.number: c for c in report.invariants}[10].compared
    shares = report.queued.shares + report.cancelled.shares
    assert (queue["requests"], queue["controllers"]) == (2, 2)
    assert queue["pending_shares"] == queue["escrow"] == queue["reserved"] == 0
    assert queue["fulfilled_shares"] == queue["settled_by_vault_shares"] == report.queued.shares
    assert queue["claimed_assets"] == queue["settled_by_vault_assets"] == report.queued.claimed
    assert queue["cancelled_total"] == queue["claimed_back"] == shares - report.queued.shares


def test_every_month_keeps_every_gpu_counted(demo):
    report, _, _ = demo
    months = report.months
    assert [m.month for m in months] == list(range(1, INSTALMENTS + 1))
    assert all(m.gpus_counted == GPUS for m in months)
    # The custodian's visits keep every attestation well inside the 30-day window: the figures
    # are read a half-month (and a few one-second blocks) after the last visit.
    assert all(0 <= m.oldest_attestation_age - (MONTH - VISIT) < 60 for m in months)
    assert all(m.oldest_attestation_age < STALENESS_WINDOW for m in months)
    # Depreciation month on month, and NAV = free cash + collateral.
    values = [m.collateral_value for m in months]
    assert values == sorted(values, reverse=True) and len(set(values)) == INSTALMENTS
    assert all(m.nav == m.free_cash + m.collateral_value for m in months)
    assert [m.revenue_received for m in months] == [
        k * int(INSTALMENT) * USDC * (BPS - FEE_BPS) // BPS for k in range(1, 13)
    ]
    assert all(m.pending_maturities == 0 for m in months)
    assert all((m.written_down, m.entries_open) == (0, True) for m in months)


# DONATIONS #


def test_donation_is_reported_then_skimmed(pool, attacker):
    pool.stablecoin.faucet(1_000, sender=attacker)
    pool.stablecoin.transfer(pool.vault, 1_000, sender=attacker)

    cash = audit(pool)[4].compared
    assert cash["donations"] == 1_000

    tx = pool.vault.skim(sender=attacker)

    assert [log.donation for log in tx.decode_logs(pool.vault.Skimmed)] == [1_000]
    checks = audit(pool)
    assert checks[4].compared["donations"] == 0
    assert checks[3].compared["donations_skimmed"] == 1_000
    assert checks[3].compared["received"] == checks[3].compared["received_from_events"]


def test_donation_to_the_queue_is_reported_then_swept_to_the_vault(pool, attacker):
    pool.stablecoin.faucet(1_000, sender=attacker)
    pool.stablecoin.transfer(pool.queue, 1_000, sender=attacker)

    cash = audit(pool)[4].compared
    assert (cash["queue_donations"], cash["reserved"]) == (1_000, 0)

    tx = pool.queue.sweep(sender=attacker)

    assert [log.amount for log in tx.decode_logs(pool.queue.Swept)] == [1_000]
    cash = audit(pool)[4].compared
    assert (cash["queue_donations"], cash["donations"]) == (0, 1_000)


# THE AUDITOR FOLLOWS THE QUEUE #


def _request(pool, owner, shares: int) -> int:
    tx = pool.queue.requestRedeem(shares, owner, owner, sender=owner)
    return tx.decode_logs(pool.queue.RedeemRequest)[0].requestId


def test_auditor_follows_the_queue_through_every_state(pool, operator, pauser, admin):
    """Three requests of one controller: one fulfilled, one cancelled, one pending; a claim in
    part, a pause, the claims back and the rest; the books agree at every step."""
    pools.faucet(pool, operator, 30_000 * USDC)
    order = validated(pools.BuyOrder, dict(assets="30000"), pool.context)
    size = pools.buy(pool, operator, order, console).shares // 3
    fulfilled, cancelled, waiting = (_request(pool, operator, size) for _ in range(3))
    tx = pool.queue.fulfil(1, sender=operator)
    [paid] = tx.decode_logs(pool.queue.RedeemFulfilled)
    pool.queue.cancelRedeemRequest(cancelled, operator, sender=operator)

    checks = audit(pool)

    assert (paid.requestId, paid.shares, paid.remaining) == (fulfilled, size, 0)
    queue = checks[10].compared
    assert (queue["pending_shares"], queue["cancelled_shares"]) == (size, size)
    assert queue["escrow"] == queue["escrow_from_events"] == 2 * size
    assert queue["reserved"] == queue["claimable_assets_from_events"] == paid.assets
    assert queue["max_claims_simulated"] == 1
    assert checks[1].compared["dead_shares"] == DEAD_SHARES

    # A claim in part by withdraw: what is left is still claimable exactly, by both views.
    pool.queue.withdraw(paid.assets // 3, operator, operator, sender=operator)
    assert audit(pool)[10].compared["reserved"] == paid.assets - paid.assets // 3

    # Paused: every max* reads 0, and the auditor expects it.
    pool.vault.pause(sender=pauser)
    assert audit(pool)[10].compared["max_claims_simulated"] == 0
    govern(pool, admin, "CollateralVault", "unpause")

    pool.queue.claimCancelRedeemRequest(cancelled, operator, operator, sender=operator)
    pool.queue.fulfil(1, sender=operator)
    pool.queue.redeem(pool.queue.maxRedeem(operator), operator, operator, sender=operator)

    queue = audit(pool)[10].compared
    assert queue["escrow"] == queue["pending_shares"] == queue["reserved"] == 0
    assert pool.queue.request(waiting)[1] == 0


def test_auditor_names_a_max_claim_that_leaves_dust(pool, operator):
    pools.faucet(pool, operator, 20_000 * USDC)
    order = validated(pools.BuyOrder, dict(assets="20000"), pool.context)
    _request(pool, operator, pools.buy(pool, operator, order, console).shares)
    pool.queue.fulfil(1, sender=operator)
    books = rebuild_books(pool)
    state = read_chain(pool, books)
    shares, assets = pool.queue.maxRedeem(operator), pool.queue.maxWithdraw(operator)
    assert state.queue.max_claims == {operator.address: (assets, shares)}
    short = replace(state.queue, max_claims={operator.address: (assets - 1, shares)})

    check = check_invariants(pool, books, replace(state, queue=short))[9]

    assert (check.number, check.passed) == (10, False)
    assert check.compared["max_claims_inexact"] == operator.address


def test_auditor_credits_nothing_for_a_request_closed_for_nothing(pool, operator, chain):
    """A request worth less than a wei at the fulfilling NAV (every GPU stale, a hundred wei of
    free cash) is closed for nothing: its escrow burnt, nothing to claim. The books agree."""
    cast = Cast.local()
    requester, seller = cast.investors[REDEEMER], cast.investors[CANCELLER]
    request_id = _request(pool, requester, pool.queue.min_request())
    # Both exit to themselves, verification lapsed or not (exit rights).
    pool.vault.withdraw(pool.vault.free_cash() - 100, seller, seller, sender=seller)
    chain.mine(timestamp=min(g.stale_at for g in rebuild_books(pool).counted))
    assert pool.vault.totalAssets() == pool.vault.free_cash() == 100

    tx = pool.queue.fulfil(1, sender=operator)

    [closed] = tx.decode_logs(pool.queue.RedeemFulfilled)
    assert (closed.requestId, closed.assets, closed.remaining) == (request_id, 0, 0)
    checks, books = audited(pool)
    assert books.queue.controllers[requester.address].state == (0, 0, 0, 0, 0)
    assert checks[10].compared["escrow"] == checks[10].compared["reserved"] == 0
    assert pool.queue.controller_state(requester) == (0, 0, 0, 0, 0)


def test_auditor_names_an_escrow_move_no_request_announced(pool, monkeypatch):
    """Books that miss the queue's requests see fractions enter the vault's escrow unannounced
    (and, the vault being no investor, an unverified receipt)."""
    replay = audit_module._queue

    def without_requests(queue, log):
        if log.event_name != "RedeemRequest":
            replay(queue, log)

    monkeypatch.setattr(audit_module, "_queue", without_requests)
    books = rebuild_books(pool)

    failed = {c.number: c for c in failures(check_invariants(pool, books))}

    assert {5, 10} <= set(failed)
    assert "moved the escrow without a queue event" in failed[10].compared["anomalies"]


# THE AUDITOR CATCHES WHAT DISAGREES #


def _first_counted(books):
    return books.counted[0]


def _controller(books):
    """The operator's books in the queue (its request was fulfilled and claimed)."""
    return books.queue.controllers[Cast.local().operator.address]


@pytest.mark.parametrize(
    ("tamper", "failing"),
    [
        (lambda b: setattr(b, "free_cash", b.free_cash + 1), {4, 8}),
        (lambda b: setattr(b, "supply", b.supply + 1), {1, 8}),
        (lambda b: b.unverified_receipts.append((1, "0x" + "ab" * 20)), {5}),
        (lambda b: setattr(b, "transfers_while_paused", 1), {9}),
        (lambda b: setattr(b, "cash_out_while_paused", 1), {9}),
        (lambda b: setattr(b, "revenue_received", b.revenue_received + 1), {3, 4, 8}),
        # Dead shares: the vault's own balance must be exactly DEAD_SHARES.
        (lambda b: b.balances.__setitem__(b.vault, b.balances[b.vault] - 1), {1}),
        # GPUs held, and how they came in.
        (lambda b: setattr(b, "held", set()), {6}),
        (lambda b: b.left.add(1), {6}),
        # A GPU out of the pool with no flow accounting for its value, or sold below its floor.
        (lambda b: b.move_anomalies.append("GPU 1 left the pool with no GpuReleased"), {6}),
        (lambda b: setattr(b, "sales_below_floor", 1), {6}),
        (lambda b: setattr(_first_counted(b), "came_in", None), {6}),
        (lambda b: setattr(_first_counted(b), "state", HELD_UNCOUNTED), {2, 6, 8}),
        # The curve recomputed from events: the registry's terms and the collateral's position.
        (lambda b: setattr(_first_counted(b), "cost", _first_counted(b).cost + 1_000 * USDC), {2}),
        (lambda b: setattr(_first_counted(b), "useful_life", DAY * 365), {2}),
        (lambda b: setattr(_first_counted(b), "salvage", 0), {2}),
        # A ramp the chain does not have: a GPU written down that the collateral does not count.
        (
            lambda b: setattr(_first_counted(b), "ramp_end", _first_counted(b).stale_at),
            {2, 8, 11},
        ),
        (
            lambda b: setattr(_first_counted(b), "stale_at", _first_counted(b).stale_at + DAY),
            {8, 11},
        ),
        # Prices current: status and attestation as the registry's events tell them.
        (lambda b: setattr(_first_counted(b), "status", int(GpuStatus.IMPAIRED)), {8, 11}),
        (lambda b: setattr(_first_counted(b), "last_attested_at", 0), {8, 11}),
        (lambda b: b.position_anomalies.append("GPU 1: stale day 0"), {11}),
        # The queue: the reserve (the queue's stablecoin) and the escrow (the vault's own balance
        # beyond its dead shares) from its events, request by request and controller by
        # controller, and the vault's side of each move.
        (lambda b: setattr(b.queue, "fulfilled_assets", b.queue.fulfilled_assets + 1), {4, 8, 10}),
        (lambda b: setattr(b.queue, "claimed_assets", b.queue.claimed_assets - 1), {4, 8, 10}),
        (lambda b: setattr(b.queue, "stablecoin_held", b.queue.stablecoin_held + 1), {4, 10}),
        (lambda b: setattr(b.queue, "requested", b.queue.requested + 1), {1, 10}),
        (lambda b: setattr(b.queue, "claimed_back", b.queue.claimed_back - 1), {1, 10}),
        (lambda b: setattr(b.queue, "settled_assets", b.queue.settled_assets - 1), {10}),
        (lambda b: setattr(b.queue.requests[2], "pending", 1), {8, 10}),
        (lambda b: setattr(_controller(b), "claimable_assets", 1), {10}),
        (lambda b: setattr(_controller(b), "cancelled", 1), {8, 10}),
        (lambda b: b.queue.anomalies.append("request 1: fulfilled before request 0"), {10}),
    ],
)
def test_auditor_names_what_disagrees_in_the_books(pool, honest, tamper, failing):
    books, state = honest
    assert not failures(check_invariants(pool, books, state))
    tampered = copy.deepcopy(books)
    tamper(tampered)

    failed = {c.number for c in failures(check_invariants(pool, tampered, state))}

    assert failed == failing


@pytest.mark.parametrize(
    ("tamper", "failing"),
    [
        ({"collateral_value": 1}, {2}),
        ({"total_assets": 1}, {2}),
        ({"value_of_supply": 10**12}, {2}),
        ({"counted": 1}, {6}),
        ({"stablecoin_balance": 1}, {4}),
        ({"unvested": 100}, {3}),
        ({"written_down": 1}, {11}),
    ],
)
def test_auditor_names_what_disagrees_on_chain(pool, honest, tamper, failing):
    books, state = honest
    tampered = replace(state, **{k: getattr(state, k) + v for k, v in tamper.items()})

    failed = {c.number for c in failures(check_invariants(pool, books, tampered))}

    assert failed == failing


@pytest.mark.parametrize(
    ("tamper", "failing"),
    [
        ({"reserved": 1}, {4, 8, 10}),
        ({"stablecoin_balance": 1}, {4, 10}),
        ({"escrow": 1}, {10}),
        ({"pending_shares": 1}, {8, 10}),
        ({"open_requests": 1}, {8, 10}),
        ({"cancelled_shares": 1}, {8, 10}),
    ],
)
def test_auditor_names_what_disagrees_in_the_queue(pool, honest, tamper, failing):
    books, state = honest
    queue = replace(state.queue, **{k: getattr(state.queue, k) + v for k, v in tamper.items()})

    failed = {
        c.number for c in failures(check_invariants(pool, books, replace(state, queue=queue)))
    }

    assert failed == failing


def test_auditor_compares_each_value_of_and_the_aggregate(pool, honest):
    books, state = honest
    token_id = books.counted[0].token_id
    counted = len(books.counted)
    total = sum(state.value_of.values())

    one_off = replace(state, value_of={**state.value_of, token_id: state.value_of[token_id] - 1})
    # The aggregate may sit below the sum of value_of by up to one wei a counted GPU, no more.

    def aggregate(value: int):
        return replace(
            state, collateral_value=value, total_assets=state.free_cash + value, value_of_supply=0
        )

    floor, below = aggregate(total - counted), aggregate(total - counted - 1)

    assert check_invariants(pool, books, one_off)[1].passed is False
    assert check_invariants(pool, books, floor)[1].passed is True
    assert check_invariants(pool, books, below)[1].passed is False


def test_auditor_sees_a_gpu_taken_out_and_one_slipped_in(pool, honest):
    books, state = honest
    gone = books.counted[0].token_id

    taken = replace(state, gpus_held=state.gpus_held - {gone})
    slipped = replace(state, gpus_held=state.gpus_held | {99})

    assert {c.number for c in failures(check_invariants(pool, books, taken))} == {6}
    check = check_invariants(pool, books, slipped)[5]
    assert (check.passed, check.compared["held_not_counted_plain_transfer"]) == (False, "99")


def test_entries_open_while_a_gpu_is_written_down_fails(pool, honest):
    """Entries must wait out a temporary write-down: the books and the collateral agree that a GPU
    is returning, and the collateral still takes entries."""
    books, state = honest
    tampered = copy.deepcopy(books)
    gpu = _first_counted(tampered)
    gpu.ramp_end = state.timestamp + DAY
    returning = replace(state, written_down=1, entries_open=True)
    closed = replace(returning, entries_open=False)

    check = check_invariants(pool, tampered, returning)[10]

    assert (check.number, check.passed) == (11, False)
    assert check.compared["written_down"] == check.compared["written_down_from_events"] == 1
    assert check.compared["entries_open"] is True
    assert check_invariants(pool, tampered, closed)[10].passed is True
    assert summary_line(check_invariants(pool, tampered, closed)).endswith(
        "; entries closed (1 GPU(s) written down)"
    )


def test_due_maturities_are_reported_not_failed(pool, honest):
    # Views count every due change and a flow refuses beyond 16, naming process_maturities: no
    # price is taken from stale state, so many due changes are news, not a broken invariant.
    # (With 17 due the collateral takes no entry: `entries_open` is false.)
    books, state = honest
    state = replace(state, pending=17, entries_open=False)

    check = check_invariants(pool, books, state)[10]

    assert check.number == 11 and check.passed
    assert check.compared["pending_maturities"] == 17
    assert check.compared["flows_mature_them_themselves"] is False


# SCENARIOS: THE AUDITOR FOLLOWS THE POOL THROUGH EVERY CHANGE OF VALUE #


def test_gpu_sent_by_plain_transfer_is_held_not_counted(pool, custodian, operator, chain):
    spec = make_spec(acquired_at=chain.pending_timestamp - 30 * DAY)
    tx = pool.registry.register(operator, [spec], sender=custodian)
    token_id = tx.decode_logs(pool.registry.GpuRegistered)[0].token_id
    value_before = pool.collateral.value()

    pool.registry.transferFrom(operator, pool.collateral, token_id, sender=operator)

    checks = audit(pool)
    assert checks[6].compared["held_not_counted_plain_transfer"] == str(token_id)
    assert checks[6].compared["gpus_held"] == GPUS + 1
    assert checks[6].compared["came_in_by_flow"] == GPUS
    assert pool.collateral.position(token_id)[0] == NOT_HELD
    assert pool.collateral.value_of(token_id) == 0
    # Not counted: the pool's value only went on depreciating (a second or two, under load more,
    # at ~2 USDC a second for the demo's GPUs), far from the GPU's own value.
    value_after = pool.collateral.value()
    gpu_value = pool.registry.book_value(token_id) * ADVANCE_RATE_BPS // BPS
    assert value_after <= value_before
    assert value_before - value_after < gpu_value // 100


def test_purchased_gpu_is_paid_from_free_cash_in_the_books(pool, custodian, operator, chain):
    spec = make_spec(acquired_at=chain.pending_timestamp - 30 * DAY)
    tx = pool.registry.register(operator, [spec], sender=custodian)
    token_id = tx.decode_logs(pool.registry.GpuRegistered)[0].token_id
    price = 20_000 * USDC
    free_cash = pool.vault.free_cash()
    market_ops.offer_gpu(pool, operator, token_id, price, chain.pending_timestamp + DAY)

    paid, value, _ = market_ops.accept_offer(pool, operator, token_id)

    assert paid == price < value
    checks, books = audited(pool)
    assert checks[4].compared["free_cash_from_events"] == free_cash - price
    assert checks[6].compared["came_in_by_flow"] == GPUS + 1
    assert checks[2].compared["counted"] == GPUS + 1
    assert books.gpus[token_id].came_in == "purchased"


def test_sold_gpu_leaves_through_the_market_in_the_books(pool, operator, attacker, chain):
    """A GPU sold out at a premium: its GpuSold and GpuReleased match in their transaction, the
    price enters free cash up to its collateral value and the premium is a gain streamed (not a
    donation); invariant 6 counts one sale and no GPU gone without a flow."""
    token_id = next(
        i
        for i in range(1, GPUS + 1)
        if pool.collateral.counts(i) and pool.leases.lease_of_gpu(i) == 0
    )
    premium = 1_500 * USDC
    price = pool.market.floor(token_id) + premium
    market_ops.list_gpu(pool, operator, token_id, price, chain.pending_timestamp + DAY)
    pools.faucet(pool, attacker, price)
    free_cash, skimmed_before = pool.vault.free_cash(), audited(pool)[1].donations_skimmed

    sale = market_ops.take_gpu(pool, attacker, token_id)

    assert sale.price == price and sale.to_cash == sale.value < price
    checks, books = audited(pool)
    assert checks[4].compared["free_cash_from_events"] == free_cash + sale.value
    assert checks[6].compared["sales"] == checks[6].compared["sold"] == 1
    assert checks[6].compared["sales_below_floor"] == 0
    assert checks[6].compared["moves_unaccounted"] == "-"
    assert checks[6].compared["gpus_held"] == GPUS - 1
    assert checks[6].compared["left_without_flow"] == "-"
    assert checks[3].compared["sale_gains_streamed"] == price - sale.value
    assert books.donations_skimmed == skimmed_before
    assert books.gpus[token_id].went_out == "sold"
    assert pool.registry.ownerOf(token_id) == attacker.address


def test_impaired_gpu_leaves_at_once_and_returns_over_the_unlock_period(
    pool, honest, appraiser, chain
):
    """Impaired, the GPU's value leaves at once and it holds entries (it may come back);
    restored, it returns over the unlock period to one step of its line (entries wait out the
    ramp) and holds them on below its line until the appraiser settles. The audit recomputes
    each count from the events, to the wei."""
    token_id = GPUS  # a DGX outside the lease
    curve = honest[0].gpus[token_id].curve()

    tx = pool.registry.set_status(token_id, GpuStatus.IMPAIRED, sender=appraiser)

    [gone] = tx.decode_logs(pool.collateral.GpuUncounted)
    value = collateral_value_at(curve, tx.timestamp, ADVANCE_RATE_BPS)
    assert (gone.token_id, gone.status, gone.value) == (token_id, GpuStatus.IMPAIRED, value)
    assert pool.collateral.value_of(token_id) == 0
    checks = audit(pool)
    assert checks[6].compared["counted"] == GPUS - 1
    # Uncounted is not "written down for a while", but it may be restored: held down.
    figures = ("written_down", "held_down", "entries_open")
    assert tuple(checks[11].compared[f] for f in figures) == (0, 1, False)
    assert pool.collateral.position(token_id) == (HELD_UNCOUNTED, 0, 0, 0)

    chain.pending_timestamp += DAY
    tx = pool.registry.set_status(token_id, GpuStatus.ACTIVE, sender=appraiser)

    [back] = tx.decode_logs(pool.collateral.GpuCounted)
    now = chain.blocks.head.timestamp
    assert (back.since, back.ramp_end) == (now, day_ceil(now + UNLOCK_PERIOD))
    assert back.value == 0  # up gradually
    chain.mine(timestamp=now + 3 * DAY)
    assert 0 < pool.collateral.value_of(token_id) < value
    checks = audit(pool)  # the ramp recomputed from events, to the wei
    assert checks[11].compared["awaiting_sync"] == "-"
    assert checks[11].compared["written_down"] == checks[11].compared["written_down_from_events"]
    assert tuple(checks[11].compared[f] for f in figures) == (1, 1, False)

    chain.mine(timestamp=back.ramp_end)

    checks = audit(pool)
    assert tuple(checks[11].compared[f] for f in figures) == (0, 1, False)
    pool.appraisals.settle(token_id, b"\x5a" * 32, sender=appraiser)
    checks = audit(pool)
    assert tuple(checks[11].compared[f] for f in figures) == (0, 0, True)


def test_stale_gpus_stop_counting_and_return_over_the_unlock_period(
    pool, custodian, operator, chain
):
    books = rebuild_books(pool)
    stale_day = min(g.stale_at for g in books.counted)
    free_cash = pool.vault.free_cash()

    chain.mine(timestamp=stale_day)

    assert pool.collateral.value() == 0
    assert pool.vault.totalAssets() == free_cash
    checks = audit(pool)
    assert checks[11].compared["stale_counted"] == GPUS
    assert checks[11].compared["stale_with_value"] == "-"
    assert (checks[11].compared["written_down"], checks[11].compared["entries_open"]) == (
        GPUS,
        False,
    )
    assert checks[2].compared["recomputed_from_events"] == 0
    # Entries wait (nobody buys at the written-down price); the buy names the visit that fixes it.
    order = validated(pools.BuyOrder, dict(assets="10"), pool.context)
    with pytest.raises(UserError) as refused:
        pools.buy(pool, operator, order, console)
    ids = " ".join(str(i) for i in range(1, GPUS + 1))
    assert refused.value.message == (
        f"buying waits while the pool's GPUs are written down (GPUs {ids.replace(' ', ', ')} "
        f"stale: the custodian runs `ape run registry attest {ids}`, then they return over the "
        "7-day unlock period); redemptions stay open"
    )

    chain.pending_timestamp += DAY
    tx = attest(pool.attestor, list(range(1, GPUS + 1)))

    ramps = tx.decode_logs(pool.collateral.GpuCounted)
    now = chain.blocks.head.timestamp
    assert {(log.since, log.ramp_end, log.stale_at) for log in ramps} == {
        (now, day_ceil(now + UNLOCK_PERIOD), day_floor(now + STALENESS_WINDOW))
    }
    chain.mine(timestamp=now + 2 * DAY)
    assert pool.collateral.value() > 0
    checks = audit(pool)
    assert (checks[11].compared["written_down"], checks[11].compared["entries_open"]) == (
        GPUS,
        False,
    )


def test_auditor_follows_a_gpu_to_salvage_after_its_end_of_life(pool, custodian, chain):
    terms = pool.registry.terms(1)
    end_of_life = day_floor(terms.acquired_at + terms.useful_life)
    gpus = list(range(1, GPUS + 1))
    chain.pending_timestamp = end_of_life + DAY
    attest(pool.attestor, gpus)  # long stale: back over the unlock period
    chain.mine(timestamp=end_of_life + 3 * DAY)
    audit(pool)

    chain.pending_timestamp = end_of_life + DAY + UNLOCK_PERIOD + DAY
    attest(pool.attestor, gpus)  # still fresh: only the stale day moves
    chain.mine()

    salvage = terms.salvage * ADVANCE_RATE_BPS // BPS
    assert pool.collateral.value_of(1) == salvage
    checks = audit(pool)
    assert checks[2].compared["sum_of_value_of"] == checks[2].compared["recomputed_from_events"]


def test_attestations_alone_fill_the_maturity_queue(pool, custodian, operator, chain):
    """Found while building the demo: each attestation of a fresh GPU moved its stale day and left
    the old day marked as an empty change, still due; a custodian attesting daily filled the queue
    past what a flow matures and every flow refused until someone called process_maturities.
    A stale day moved away now takes its node with it: nothing is due, flows go through."""
    gpus = list(range(1, GPUS + 1))
    pool.collateral.process_maturities(1_024, sender=custodian)
    for _ in range(17):
        chain.pending_timestamp += DAY
        attest(pool.attestor, gpus)
    last_stale_day = pool.collateral.position(1)[3]
    chain.mine(timestamp=last_stale_day - 3_600)

    assert all(pool.collateral.counts(token_id) for token_id in gpus)
    assert pool.collateral.pending() == 0
    assert pool.vault.maxDeposit(operator) > 0
    order = validated(pools.BuyOrder, dict(assets="10"), pool.context)
    pools.buy(pool, operator, order, console)
    tx = pool.collateral.process_maturities(1_024, sender=custodian)
    assert tx.decode_logs(pool.collateral.ScheduleMatured) == []


# THE AUDIT SCRIPT #


def test_audit_script_reports_the_demo_pool(demo, tmp_path):
    _, _, manifest = demo
    report = tmp_path / "audit.json"

    result = run_script("audit", "--manifest", str(manifest), "--report", str(report))

    assert result.exit_code == 0, result.output
    assert f"{SUMMARY}; entries open" in result.output
    assert "GPUs of the pool: 10" in result.output
    checks = json.loads(report.read_text())["invariants"]
    assert [c["number"] for c in checks] == list(range(1, 13))
    assert [c["number"] for c in checks if c["passed"] is True] == INVARIANTS
    current = checks[10]["compared"]
    assert (current["written_down"], current["written_down_from_events"]) == (0, 0)
    assert current["entries_open"] is True


def test_audit_script_fails_on_a_broken_invariant(demo, monkeypatch):
    _, _, manifest = demo
    # A holder the books never saw: the auditor's rebuilt supply no longer matches the chain.
    monkeypatch.setattr("gpu_rwa.audit.ZERO_ADDRESS", "0x" + "00" * 19 + "01")

    result = run_script("audit", "--manifest", str(manifest))

    assert result.exit_code == 1
    assert "invariant(s) failed: fraction balances sum to total supply" in result.output


def test_summary_line_names_failures():
    def check(number, passed):
        return InvariantCheck(number=number, name=f"inv {number}", compared={}, passed=passed)

    assert summary_line([check(1, True), check(10, True)]) == "all 2 invariants pass"
    assert summary_line([check(1, False), check(2, True), check(3, False)]) == (
        "invariant(s) failed: inv 1; inv 3"
    )

    def current(entries_open: bool, written_down: int, passed: bool = True) -> InvariantCheck:
        figures = {"entries_open": entries_open, "written_down": written_down}
        return InvariantCheck(number=11, name="inv 11", compared=figures, passed=passed)

    assert summary_line([check(1, True), current(True, 0)]) == (
        "all 2 invariants pass; entries open"
    )
    assert summary_line([check(1, True), current(False, 3)]) == (
        "all 2 invariants pass; entries closed (3 GPU(s) written down)"
    )
    assert summary_line([current(False, 0, passed=False)]) == (
        "invariant(s) failed: inv 11; entries closed (maturities due)"
    )
