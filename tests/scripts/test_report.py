"""`ape run report statement` and the replay under it: an investor's purchase, transfer,
redemptions (at once and through the queue) and claim over two months of lease revenue, from
events alone. The revenue accumulator replayed is the vault's own to the 2**-28 wei
(`revenue_state`, `account_state`, `claimable`, `unvested`); the statement's figures, its CSV and
its chart; one-line refusals."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from gpu_rwa.history import replay
from gpu_rwa.statement import StatementRequest, build_statement, xirr
from gpu_rwa.types import format_units
from tests.scripts.utils import GPUS_IN_VAULT, refused, script
from tests.utils.custody import attest
from tests.utils.registry import DAY, USDC
from tests.utils.vault import fund

F = 10**12
INSTALMENT = 1_000 * USDC
PURCHASE = 10_000 * USDC
GIVEN, SOLD, QUEUED = 1_000 * F, 500 * F, 300 * F
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def story(deployed_pool, chain, investor, other_investor, operator, lessee, custodian):
    """The investor buys for 10,000 USDC; a lease pays 1,000 USDC a month (10 % fee, vesting
    over 30 days); the investor gives 1,000 fractions away, claims, sells 500 back at once and
    queues 300 (fulfilled, then claimed); the custodian attests the GPUs on the way (they stay
    counted); the chain ends 20 days after the last move."""
    kit = deployed_pool
    vault, queue, leases = kit.vault, kit.queue, kit.leases
    kit.stablecoin.approve(vault, PURCHASE, sender=investor)
    vault.deposit(PURCHASE, investor, sender=investor)
    leases.open_lease(
        lessee, INSTALMENT, 30 * DAY, 12, 5 * DAY, list(GPUS_IN_VAULT), sender=operator
    )
    fund(kit.stablecoin, lessee, 20 * INSTALMENT)
    kit.stablecoin.approve(vault, 20 * INSTALMENT, sender=lessee)
    leases.pay_instalment(1, sender=lessee)
    chain.pending_timestamp += 10 * DAY
    attest(kit.attestor, GPUS_IN_VAULT)
    vault.transfer(other_investor, GIVEN, sender=investor)
    chain.pending_timestamp += 25 * DAY
    attest(kit.attestor, GPUS_IN_VAULT)
    leases.pay_instalment(1, sender=lessee)
    vault.claim(sender=investor)
    chain.pending_timestamp += 10 * DAY
    vault.redeem(SOLD, investor, investor, sender=investor)
    queue.requestRedeem(QUEUED, investor, investor, sender=investor)
    queue.fulfil(1, sender=operator)
    chain.pending_timestamp += 5 * DAY
    attest(kit.attestor, GPUS_IN_VAULT)
    queue.redeem(queue.maxRedeem(investor), investor, investor, sender=investor)
    chain.mine(timestamp=chain.pending_timestamp + 20 * DAY)
    return kit


def logged(kit, chain, event) -> list:
    return list(event.range(kit.pool.manifest.deploy_block, chain.blocks.head.number + 1))


def day_of(chain, event_log) -> date:
    return datetime.fromtimestamp(chain.blocks[event_log.block_number].timestamp, UTC).date()


def test_the_accumulator_replayed_is_the_vaults_to_the_wei(
    story, chain, investor, other_investor, operator
):
    vault = story.vault
    now = chain.blocks.head.timestamp

    history, _ = replay(story.pool)

    accrual = history.accrual
    # Every payment's rate and end recomputed as the contract did, and every claim.
    assert accrual.mismatches == []
    state = (accrual.acc, accrual.rem, accrual.rate, accrual.last, accrual.end)
    assert state == tuple(vault.revenue_state())
    assert accrual.undistributed == vault.undistributed()
    for account in (investor, other_investor, operator, vault):
        slot = accrual.accounts[account.address]
        assert (slot.checkpoint, slot.owed) == tuple(vault.account_state(account))
        assert accrual.claimable(account.address, now) == vault.claimable(account) > 0
    assert accrual.unvested(now) == vault.unvested()
    assert accrual.received == vault.received() == 2 * (INSTALMENT - INSTALMENT // 10)


def test_statement_lists_every_move_and_its_figures_to_the_wei(story, chain, investor):
    vault, queue = story.vault, story.queue
    [deposit] = [log for log in logged(story, chain, vault.Deposit) if log.owner == investor]
    [sale] = [log for log in logged(story, chain, vault.Withdraw) if log.owner == investor]
    [claim] = logged(story, chain, vault.RevenueClaimed)
    [paid] = logged(story, chain, queue.Withdraw)
    [fulfilled] = logged(story, chain, queue.RedeemFulfilled)
    [given] = [log for log in logged(story, chain, vault.Transfer) if log.value == GIVEN]

    statement = build_statement(story.pool, StatementRequest(ADDRESS=investor.address))

    given_value = next(e.cash for e in statement.entries if e.kind == "transfer out")
    assert [(e.kind, e.fractions, e.cash, e.block) for e in statement.entries] == [
        ("purchase", deposit.shares, -PURCHASE, deposit.block_number),
        ("transfer out", -GIVEN, given_value, given.block_number),
        ("revenue claimed", 0, claim.amount, claim.block_number),
        ("redemption", -SOLD, sale.assets, sale.block_number),
        ("redemption request", 0, 0, fulfilled.block_number - 1),
        ("request fulfilled", -QUEUED, 0, fulfilled.block_number),
        ("redemption paid", 0, paid.assets, paid.block_number),
    ]
    assert paid.assets == fulfilled.assets
    p = statement.performance
    balance = vault.balanceOf(investor)
    assert balance == deposit.shares - GIVEN - SOLD - QUEUED
    assert p.claimable == statement.claimable_on_chain == vault.claimable(investor) > 0
    assert (p.paid, p.claimed, p.opening_value) == (PURCHASE, claim.amount, 0)
    assert p.returned == given_value + sale.assets + paid.assets
    # Valued at NAV recomputed from the events: free cash plus each GPU's collateral value (the
    # collateral's aggregate may lag the sum by a wei a GPU, a fraction of a wei here).
    assert 0 <= p.value - vault.convertToAssets(balance) <= 1
    # Average cost: each disposal (given, sold, fulfilled) takes its share, rounded down.
    cost, units = PURCHASE, deposit.shares
    for out in (GIVEN, SOLD, QUEUED):
        cost, units = cost - cost * out // units, units - out
    assert (p.cost_basis, units) == (cost, balance)
    assert p.total_return == p.value + p.claimable + p.claimed + p.returned - PURCHASE
    # Month by month: what accrued adds up to what was claimed and what is claimable, to the wei.
    assert [m.start for m in statement.months][1:] == [
        int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())
        for d in _month_starts(day_of(chain, deposit), statement.period.end)
    ]
    assert sum(m.accrued for m in statement.months) == p.claimed + p.claimable
    assert sum(m.claimed for m in statement.months) == p.claimed
    assert statement.months[-1].cumulative_return == p.total_return
    assert statement.months[-1].closing.units == balance


def _month_starts(first: date, end: int) -> list[date]:
    starts, day = [], first.replace(day=1)
    while True:
        day = (day + timedelta(days=32)).replace(day=1)
        if datetime(day.year, day.month, 1, tzinfo=UTC).timestamp() > end:
            return starts
        starts.append(day)


def test_statements_of_two_periods_add_up_to_the_whole(story, chain, investor):
    """A statement to a day and one from the next meet at that midnight: their returns add up to
    the whole history's, to the wei, and each lists only its own events."""
    [claim] = logged(story, chain, story.vault.RevenueClaimed)
    split = day_of(chain, claim)

    whole = build_statement(story.pool, StatementRequest(ADDRESS=investor.address))
    before = build_statement(
        story.pool, StatementRequest(ADDRESS=investor.address, **{"--to": split})
    )
    after = build_statement(
        story.pool, StatementRequest(ADDRESS=investor.address, **{"--from": split + timedelta(1)})
    )

    assert before.performance.total_return + after.performance.total_return == (
        whole.performance.total_return
    )
    assert before.entries + after.entries == whole.entries
    assert [e.kind for e in before.entries][-1] == "revenue claimed"
    opening = after.opening
    assert after.performance.opening_value == opening.value + opening.claimable > 0
    assert after.performance.paid == 0
    assert before.claimable_on_chain is None


def test_xirr_is_the_annual_rate_that_prices_the_flows_at_zero():
    year = 365 * DAY
    assert xirr([(0, -1_000), (year, 1_100)]) == pytest.approx(0.10, abs=1e-9)
    # Half a year at 10 % a year, compounded yearly.
    assert xirr([(0, -1_000), (year // 2, round(1_000 * 1.1**0.5))]) == pytest.approx(
        0.10, abs=1e-3
    )
    assert xirr([(0, -1_000), (DAY - 1, 1_100)]) is None  # under a day
    assert xirr([(0, 1_000), (year, 1_100)]) is None  # no money in


def test_statement_script_writes_the_csv_and_the_chart(story, chain, investor, tmp_path):
    result = script(story, "report", "statement", investor.address, "--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    statement = build_statement(story.pool, StatementRequest(ADDRESS=investor.address))
    csv_file = tmp_path / f"statement-{investor.address}.csv"
    png_file = tmp_path / f"statement-{investor.address}.png"
    assert f"wrote {csv_file} and {png_file}" in " ".join(result.output.split())
    events, months, totals = csv_file.read_text().split("\n\n")
    rows = list(csv.reader(io.StringIO(events)))
    assert rows[0] == [
        "date (UTC)", "block", "transaction", "event", "fractions (GPU1)",
        "fractions (base units)", "cash (USDC)", "cash (base units)",
        "price per fraction (USDC)", "detail",
    ]  # fmt: skip
    [deposit] = [e for e in statement.entries if e.kind == "purchase"]
    when = datetime.fromtimestamp(deposit.t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert rows[1] == [
        when, str(deposit.block), deposit.tx, "purchase",
        format_units(deposit.fractions, 12), str(deposit.fractions),
        "-10,000.000000", str(-PURCHASE), format_units(PURCHASE * F // deposit.fractions, 6), "",
    ]  # fmt: skip
    assert [(r[3], int(r[5]), int(r[7])) for r in rows[1:]] == [
        (e.kind, e.fractions, e.cash) for e in statement.entries
    ]
    month_rows = list(csv.reader(io.StringIO(months)))
    assert month_rows[0][0] == "month" and len(month_rows) == 1 + len(statement.months)
    assert sum(int(r[7]) for r in month_rows[1:]) == (
        statement.performance.claimed + statement.performance.claimable
    )
    figures = {r[0]: r[1:] for r in csv.reader(io.StringIO(totals))}
    p = statement.performance
    assert figures["total return"][1] == str(p.total_return)
    assert figures["revenue claimable"] == [
        f"{p.claimable // USDC:,}.{p.claimable % USDC:06d}",
        str(story.vault.claimable(investor)),
    ]
    assert figures["paid in"] == ["10,000.000000", str(PURCHASE)]
    assert figures["yield (XIRR, annual)"][0] == f"{p.xirr * 100:,.2f} %"
    png = png_file.read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    # IHDR: 900 x 1000 pixels (9 x 10 inches at 100 dpi); nothing but the image in it.
    assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (900, 1000)
    assert b"Software" not in png and b"tIME" not in png


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0x1234"], "ADDRESS: "),
        (["{investor}", "--from", "2027-13-01"],
         "--from: '2027-13-01' is not a date: write it as YYYY-MM-DD (UTC)"),
        (["{investor}", "--to", "yesterday"],
         "--to: 'yesterday' is not a date: write it as YYYY-MM-DD (UTC)"),
        (["{investor}", "--from", "2027-02-01", "--to", "2027-01-31"],
         "--from 2027-02-01 is after --to 2027-01-31"),
        (["{investor}", "--from", "2999-01-01"],
         "--from 2999-01-01 is after the chain's last block"),
        (["{investor}", "--to", "2000-01-01"], "--to 2000-01-01 is before the pool was deployed"),
        (["{lessee}"], "{lessee} has no history in this pool: no purchase, contribution, "
         "transfer, redemption or revenue claim"),
        # The other investor received its first fractions ten days after the deploy.
        (["{other}", "--to", "{deployed}"],
         "{other} held nothing and did nothing between {deployed} and {deployed}"),
    ],
)  # fmt: skip
def test_statement_refusals_are_one_line_and_write_nothing(
    story, chain, investor, other_investor, lessee, tmp_path, args, message
):
    deployed_at = chain.blocks[story.pool.manifest.deploy_block].timestamp
    deployed = datetime.fromtimestamp(deployed_at, UTC).date()
    names = {
        "investor": investor.address,
        "other": other_investor.address,
        "lessee": lessee.address,
        "deployed": deployed.isoformat(),
    }
    args = [arg.format(**names) for arg in args]

    result = script(story, "report", "statement", *args, "--out", str(tmp_path / "out"))

    refused(result, message.format(**names))
    assert not (tmp_path / "out").exists()


def test_a_recovered_wallet_takes_its_fractions_revenue_and_requests(
    story, chain, investor, other_investor, compliance
):
    """The compliance officer recovers the investor's wallet into the other investor's (a
    request of it pending): the statements follow the fractions, the queued ones and the
    revenue owed, which the accumulator moves to the 2**-28 wei."""
    vault, queue = story.vault, story.queue
    tx = queue.requestRedeem(100 * F, investor, investor, sender=investor)
    [request] = tx.decode_logs(queue.RedeemRequest)
    balance = vault.balanceOf(investor)
    story.compliance.recover(
        investor, other_investor, [request.requestId], b"\x01" * 32, sender=compliance
    )
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    history, _ = replay(story.pool)
    lost = build_statement(story.pool, StatementRequest(ADDRESS=investor.address))
    new = build_statement(story.pool, StatementRequest(ADDRESS=other_investor.address))

    now = chain.blocks.head.timestamp
    assert history.accrual.mismatches == []
    for account in (investor, other_investor):
        assert history.accrual.claimable(account.address, now) == vault.claimable(account)
    assert vault.claimable(investor) == lost.performance.claimable == 0
    assert new.performance.claimable == vault.claimable(other_investor) > 0
    assert [(e.kind, e.fractions) for e in lost.entries[-3:]] == [
        ("redemption request", 0),
        ("recovery out", -balance),
        ("recovery of queued fractions out", -100 * F),
    ]
    assert [(e.kind, e.fractions) for e in new.entries[-2:]] == [
        ("recovery in", balance),
        ("recovery of queued fractions in", 100 * F),
    ]
    assert lost.performance.value == 0 and lost.snapshots[-1].units == 0
    assert new.snapshots[-1].units == vault.balanceOf(other_investor) + 100 * F
    assert queue.pendingRedeemRequest(0, other_investor) == 100 * F


def test_cancelled_requests_and_forced_transfers_are_named(
    story, chain, investor, other_investor, compliance
):
    """A request cancelled and its fractions claimed back move nothing out of the position; a
    forced transfer is named so on both sides, at NAV then; the revenue stays exact."""
    vault, queue = story.vault, story.queue
    tx = queue.requestRedeem(50 * F, investor, investor, sender=investor)
    [request] = tx.decode_logs(queue.RedeemRequest)
    queue.cancelRedeemRequest(request.requestId, investor, sender=investor)
    chain.pending_timestamp += DAY
    queue.claimCancelRedeemRequest(request.requestId, investor, investor, sender=investor)
    story.compliance.force_transfer(
        investor, other_investor, 10 * F, b"\x02" * 32, sender=compliance
    )
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    mine = build_statement(story.pool, StatementRequest(ADDRESS=investor.address))
    theirs = build_statement(story.pool, StatementRequest(ADDRESS=other_investor.address))

    assert [(e.kind, e.fractions) for e in mine.entries[-4:]] == [
        ("redemption request", 0),
        ("request cancelled", 0),
        ("cancelled fractions back", 0),
        ("forced transfer out", -10 * F),
    ]
    assert mine.entries[-3].detail == f"request {request.requestId}: {50 * F} to claim back"
    forced_out, forced_in = mine.entries[-1], theirs.entries[-1]
    assert (forced_in.kind, forced_in.fractions, forced_in.cash) == (
        "forced transfer in",
        10 * F,
        -forced_out.cash,
    )
    assert forced_out.cash > 0 and forced_out.tx == forced_in.tx
    assert mine.snapshots[-1].units == vault.balanceOf(investor)
    assert mine.performance.claimable == vault.claimable(investor) > 0
    assert theirs.performance.claimable == vault.claimable(other_investor) > 0
