"""`ape run audit`: the report names what it audited (chain, blocks, pool) and shows positions,
leases and every invariant's figures with amounts in units beside base units, as JSON and
printed; `--charts` draws the pool's charts. Invariant 11's holds on entries: the audit rebuilds
GpuCollateral's hold flags from events alone (GpuMarked against the registry's line in its block,
MarkSettled, GpuUncounted, the restore's GpuCounted and step mark, a retirement the collateral
hears of with no event of its own, GpuReleased) and compares their count with `held_down()` at
every step; entries must be open exactly when nothing is written down or held down."""

import json
from datetime import UTC, datetime

from eth_utils import encode_hex, keccak

from gpu_rwa import market as market_ops
from gpu_rwa import pool as pools
from gpu_rwa.audit import check_invariants, failures, rebuild_books, summary_line
from gpu_rwa.charts import POOL_CHARTS, pool_charts
from gpu_rwa.history import replay
from tests.scripts.utils import cash, marked_down, script, table_cells
from tests.utils.governance import govern
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import APPRAISALS_ROLE

REASON = keccak(text="report")


def entry_figures(kit) -> dict:
    """Invariant 11's figures, after checking that every invariant holds."""
    checks = check_invariants(kit.pool, rebuild_books(kit.pool))
    assert not failures(checks), summary_line(checks)
    (current,) = [c for c in checks if c.number == 11]
    figures = current.compared
    assert figures["held_down"] == figures["held_down_from_events"]
    assert figures["entries_open"] == figures["entries_open_from_events"]
    return figures


def holds(kit) -> tuple[int, str, str, bool]:
    """(held_down, GPUs held below their line, GPUs held impaired, entries open) as audited."""
    f = entry_figures(kit)
    return f["held_down"], f["held_below_line"], f["held_impaired"], f["entries_open"]


def test_the_audit_follows_every_hold(deployed_pool, appraiser, custodian):
    kit = deployed_pool
    assert holds(kit) == (0, "-", "-", True)

    marked_down(kit, appraiser, 10_000 * USDC)
    assert holds(kit) == (1, "1", "-", False)

    # Impaired while counted; then marked below its line while uncounted: two holds.
    kit.registry.set_status(2, GpuStatus.IMPAIRED, sender=appraiser)
    assert holds(kit) == (2, "1", "2", False)
    marked_down(kit, appraiser, 9_000 * USDC, token_id=2)
    assert holds(kit) == (3, "1, 2", "2", False)

    kit.appraisals.settle(1, REASON, sender=appraiser)
    assert holds(kit) == (2, "2", "2", False)
    assert entry_figures(kit)["settled"] == "1"

    # Restored: the impairment's hold ends, the restore's step mark holds it below its line.
    kit.registry.set_status(2, GpuStatus.ACTIVE, sender=appraiser)
    assert holds(kit) == (1, "2", "-", False)

    # A settled GPU's mark-down is final at once; impaired, it holds; retired, nothing (the
    # collateral's hook clears it without an event of its own).
    marked_down(kit, appraiser, 8_000 * USDC)
    assert holds(kit) == (1, "2", "-", False)
    kit.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    assert holds(kit) == (2, "2", "1", False)
    kit.registry.set_status(1, GpuStatus.RETIRED, sender=custodian)
    assert holds(kit) == (1, "2", "-", False)

    # Settling the restored GPU cuts its return too: entries open.
    kit.appraisals.settle(2, REASON, sender=appraiser)
    assert holds(kit) == (0, "-", "-", True)


def test_a_sale_ends_the_holds_of_the_gpu_sold(deployed_pool, operator, appraiser, attacker, chain):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC, token_id=2)
    assert holds(kit) == (1, "2", "-", False)
    price = kit.market.floor(2)
    market_ops.list_gpu(kit.pool, operator, 2, price, chain.pending_timestamp + DAY)
    pools.faucet(kit.pool, attacker, price)

    market_ops.take_gpu(kit.pool, attacker, 2)

    assert holds(kit) == (0, "-", "-", True)


def test_a_revalue_no_event_explains_fails_the_audit(deployed_pool, admin, chain):
    """Another holder of the collateral's APPRAISALS_ROLE revalues GPU 1 with the hold flag: no
    event carries the flag, so the audit cannot rebuild it and says so."""
    kit = deployed_pool
    collateral = kit.collateral
    govern(kit, admin, "GpuCollateral", "grantRole", APPRAISALS_ROLE, admin)
    tx = collateral.revalue(1, collateral.book_of(1) // 2, False, 16, sender=admin)
    assert collateral.held_down() == 1

    checks = check_invariants(kit.pool, rebuild_books(kit.pool))

    assert [c.number for c in failures(checks)] == [11]
    figures = checks[10].compared
    assert (figures["held_down"], figures["held_down_from_events"]) == (1, 0)
    assert figures["hold_anomalies"] == (
        "GPU 1 revalued by no appraisal of the pool's GpuAppraisals nor a restore (transaction "
        f"{tx.txn_hash}): its hold flag is in no event"
    )


def test_audit_script_says_why_entries_are_closed(deployed_pool, appraiser):
    kit = deployed_pool
    kit.registry.set_status(2, GpuStatus.IMPAIRED, sender=appraiser)
    marked_down(kit, appraiser, 10_000 * USDC)

    result = script(kit, "audit")

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == (
        "all 12 invariants pass; entries closed (2 held down)"
    )
    # The GPU table's "held down" column, from the events.
    gpu_rows = [table_cells(line) for line in result.output.split("invariants")[0].splitlines()]
    held = {cells[0]: cells[6] for cells in gpu_rows if len(cells) == 9}
    assert held == {"1": "below line", "2": "impaired"}


def test_audit_report_names_the_chain_the_blocks_the_pool_and_every_position(
    leased, lessee, investor, operator, compliance, chain, tmp_path
):
    """One instalment paid, the next 12 days late: the report's JSON (and its print) name the
    chain, the blocks and the pool, every holder's position with its freeze, the lease's arrears
    and each invariant's figures in units beside base units; --charts draws four PNGs, the same
    bytes for the same events."""
    kit = leased
    vault, leases = kit.vault, kit.leases
    kit.stablecoin.approve(vault, 1_000 * USDC, sender=lessee)
    leases.pay_instalment(1, sender=lessee)
    kit.compliance.set_frozen_tokens(investor, 100 * 10**12, REASON, sender=compliance)
    chain.mine(timestamp=leases.next_due(1) + 12 * DAY)
    report, charts = tmp_path / "audit.json", tmp_path / "charts"

    result = script(kit, "audit", "--report", str(report), "--charts", str(charts))

    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    head = chain.blocks.head
    deployed = chain.blocks[kit.pool.manifest.deploy_block]
    assert data["chain"] == {
        "network": "local",
        "chain_id": chain.chain_id,
        "genesis_hash": encode_hex(chain.blocks[0].hash),
        # The manifest recorded the chain at the deploy: the same block 0.
        "genesis_hash_in_manifest": encode_hex(chain.blocks[0].hash),
        "node": kit.pool.manifest.node,
    }
    assert data["first_block"] == {
        "number": deployed.number,
        "timestamp": deployed.timestamp,
        "time": datetime.fromtimestamp(deployed.timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert (data["last_block"]["number"], data["last_block"]["timestamp"]) == (
        head.number,
        head.timestamp,
    )
    pool = data["pool"]
    assert pool["contracts"]["CollateralVault"] == vault.address
    assert pool["contracts"] == {n: r.address for n, r in kit.pool.manifest.contracts.items()}
    assert pool["nav"] == amount(vault.totalAssets())
    assert pool["price_per_fraction"] == amount(vault.convertToAssets(10**12))
    assert pool["free_cash"] == amount(10_000 * USDC)
    assert pool["revenue_received"] == amount(900 * USDC)
    positions = {p["holder"]: p for p in data["positions"]}
    # The dead shares, the operator's fractions for its GPUs, the investor's.
    assert set(positions) == {vault.address, operator.address, investor.address}
    held = positions[investor.address]
    balance = vault.balanceOf(investor)
    assert held == {
        "holder": investor.address,
        "fractions": {"base_units": balance, "units": kit.pool.fractions(balance)},
        "value": amount(vault.convertToAssets(balance)),
        "claimable": amount(vault.claimable(investor)),
        "frozen": {"base_units": 100 * 10**12, "units": "100.000000000000 GPU1"},
        "frozen_entirely": False,
    }
    count, owed, _, days_late = leases.arrears(1)
    assert (count, owed, days_late) == (1, 1_000 * USDC, 12)
    assert data["leases"] == [
        {
            "lease_id": 1,
            "lessee": lessee.address,
            "gpus": [1, 2],
            "instalment": amount(1_000 * USDC),
            "paid": 1,
            "instalments": 12,
            "arrears": amount(1_000 * USDC),
            "arrears_instalments": 1,
            "days_late": 12,
            "status": "active",
            "defaulted": False,
            "defaulted_at": None,
            "recovered": amount(0),
        }
    ]
    invariants = data["invariants"]
    assert [i["number"] for i in invariants if i["passed"]] == list(range(1, 13))
    cash_check = invariants[3]
    assert cash_check["compared"]["free_cash"] == 10_000 * USDC
    assert cash_check["figures"]["free_cash"] == "10,000.000000 USDC (10000000000)"
    assert invariants[0]["figures"]["dead_shares"] == "1.000000000000 GPU1 (1000000000000)"
    assert invariants[4]["figures"] == {"unverified_receipts": "0"}
    # 42 days after their registration, unattested since: stale.
    assert (data["summary"], data["passed"]) == (
        "all 12 invariants pass; entries closed (2 GPU(s) written down)",
        True,
    )
    rows = [table_cells(line) for line in result.output.splitlines()]
    audited = {cells[0]: cells[1] for cells in rows if len(cells) == 2}
    assert audited["network"] == f"local (chain id {chain.chain_id})"
    assert audited["blocks"] == (
        f"{deployed.number} ({data['first_block']['time']}) to {head.number} "
        f"({data['last_block']['time']})"
    )
    assert audited["free cash"] == f"{cash(10_000 * USDC)} (10000000000)"
    [lease] = [cells for cells in rows if len(cells) == 8 and cells[0] == "1"]
    assert lease == [
        "1", lessee.address, "1, 2", cash(1_000 * USDC), "1/12",
        f"{cash(1_000 * USDC)} (1)", "12", "active",
    ]  # fmt: skip
    assert f"free_cash = {cash(10_000 * USDC)} (10000000000)" in [
        cells[-1] for cells in rows if cells
    ]
    names = [charts / f"{name}.png" for name in POOL_CHARTS]
    for path in names:
        png = path.read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (900, 450)
        assert b"Software" not in png and b"tIME" not in png
    history, _ = replay(kit.pool, until=head.timestamp)
    again = pool_charts(kit.pool, history, tmp_path / "again")
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in names]


def amount(base_units: int) -> dict:
    """A stablecoin amount as the report writes it."""
    return {"base_units": base_units, "units": cash(base_units)}
