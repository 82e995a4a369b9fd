"""`ape run audit` and invariant 11's holds on entries: the audit rebuilds GpuCollateral's hold
flags from events alone (GpuMarked against the registry's line in its block, MarkSettled,
GpuUncounted, the restore's GpuCounted and step mark, a retirement the collateral hears of with
no event of its own, GpuReleased) and compares their count with `held_down()` at every step;
entries must be open exactly when nothing is written down or held down."""

from eth_utils import keccak

from gpu_rwa import market as market_ops
from gpu_rwa import pool as pools
from gpu_rwa.audit import check_invariants, failures, rebuild_books, summary_line
from tests.scripts.utils import marked_down, script, table_cells
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
