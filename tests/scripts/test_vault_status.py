"""`ape run vault status`: NAV, price, supply, cash, collateral, revenue, maturities due, GPUs
written down and held down with whether entries are open, and each GPU the pool's GpuCollateral
holds (counted, value, attestation age, stale day, return ramp)."""

from gpu_rwa.types import format_time
from tests.scripts.utils import (
    GPU_OUTSIDE,
    GPUS_IN_VAULT,
    below_line_reason,
    impaired_reason,
    line_value,
    marked_down,
    refused,
    script,
    stale_reason,
    table_cells,
)
from tests.utils.custody import attest
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.scripts import run_script
from tests.utils.vault import STALENESS_WINDOW


def age(seconds: int) -> str:
    return f"{seconds // DAY}d {seconds % DAY // 3600}h ago"


def rows_of(output: str) -> dict[str, list[str]]:
    """The rows of the vault and GPU tables (the lease book after them is left out)."""
    tables = output.split("leases of ")[0]
    return {cells[0]: cells for cells in map(table_cells, tables.splitlines()) if cells}


def cell(output: str, label: str) -> str:
    """The value of the two-column row `label`, its lines joined where rich wrapped it."""
    lines = [table_cells(line) for line in output.splitlines()]
    start = next(i for i, cells in enumerate(lines) if cells and cells[0] == label)
    parts = [lines[start][1]]
    for cells in lines[start + 1 :]:
        if len(cells) != 2 or cells[0]:
            break
        parts.append(cells[1])
    return " ".join(parts)


def test_status_of_a_pool_with_a_lease(leased, lessee, chain):
    vault, collateral, registry = leased.vault, leased.collateral, leased.registry
    leased.stablecoin.approve(vault, 1_000 * USDC, sender=lessee)
    leased.leases.pay_instalment(1, sender=lessee)

    result = script(leased, "vault", "status")

    assert result.exit_code == 0, result.output
    one = 10**leased.fraction_decimals
    expected = {
        "NAV (totalAssets)": leased.cash(vault.totalAssets()),
        "price of one GPU1": leased.cash(vault.convertToAssets(one)),
        "total supply": leased.fractions(vault.totalSupply()),
        "free cash": leased.cash(10_000 * USDC),
        "collateral value (80 % of book)": leased.cash(collateral.value()),
        "GPUs counted (stale incl.) / held": "2 / 2",
        "maturities due": "0",
        "GPUs written down (stale or returning)": "0",
        "GPUs held down (impaired or below their line)": "0",
        "entries (buy, contribute)": "open",
        "staleness window / unlock period": "30 d / 7 d",
        "revenue received (after fees)": leased.cash(900 * USDC),
        "revenue held": leased.cash(900 * USDC),
        "accrued fees (10 %)": leased.cash(100 * USDC),
        "paused": "no",
    }
    rows = rows_of(result.output)
    for label, value in expected.items():
        assert rows[label][1] == value, (label, rows[label])
    assert "GPUs held by the pool: 2" in result.output
    now = chain.blocks.head.timestamp
    for token_id in GPUS_IN_VAULT:
        terms = registry.terms(token_id)
        stale = (terms.last_attested_at + STALENESS_WINDOW) // DAY * DAY
        assert rows[str(token_id)] == [
            str(token_id),
            "H100 SXM",
            "LEASED",
            "yes",
            leased.cash(line_value(registry, token_id, now)),
            "-",
            age(now - terms.last_attested_at),
            format_time(stale),
            "-",
            "1",
        ]
    assert str(GPU_OUTSIDE) not in rows


def test_status_shows_stale_and_returning_gpus(deployed_pool, custodian, chain):
    """Past the stale day both GPUs count for nothing; GPU 2 attested again counts from 0 and
    rises to full value at the end of its ramp (a UTC midnight, 7 days on)."""
    registry, collateral = deployed_pool.registry, deployed_pool.collateral
    stale = (registry.terms(1).last_attested_at + STALENESS_WINDOW) // DAY * DAY
    chain.mine(timestamp=stale + 3 * DAY)
    attested = attest(deployed_pool.attestor, [2]).timestamp
    ramp_end = -(-(attested + 7 * DAY) // DAY) * DAY
    chain.mine(timestamp=attested + 2 * DAY)

    result = script(deployed_pool, "vault", "status")

    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert rows["1"][2:] == [
        "ACTIVE",
        "stale",
        "0.000000 USDC",
        "-",
        age(chain.blocks.head.timestamp - registry.terms(1).last_attested_at),
        format_time(stale),
        "-",
        "-",
    ]
    assert rows["2"][2:] == [
        "ACTIVE",
        "yes",
        deployed_pool.cash(collateral.value_of(2)),
        "-",
        age(2 * DAY),
        format_time((attested + STALENESS_WINDOW) // DAY * DAY),
        format_time(ramp_end),
        "-",
    ]
    # Two days into a ramp of (ramp_end - attested) seconds: about that share of full value.
    full = line_value(registry, 2, ramp_end)
    assert 0 < collateral.value_of(2) < full * 3 // 7
    assert rows["collateral value (80 % of book)"][1] == deployed_pool.cash(collateral.value())
    assert rows["GPUs counted (stale incl.) / held"][1] == "2 / 2"
    assert rows["GPUs written down (stale or returning)"][1] == "2"
    assert cell(result.output, "entries (buy, contribute)") == (
        f"closed: {stale_reason('1')}; GPU 2 returning: the last ramp ends on "
        f"{format_time(ramp_end)} UTC"
    )


def test_status_counts_the_gpus_held_down(deployed_pool, appraiser):
    """GPU 1 marked below its line and GPU 2 impaired: two holds, nothing written down; the
    entries row names both and what ends each."""
    marked_down(deployed_pool, appraiser, 10_000 * USDC)
    deployed_pool.registry.set_status(2, GpuStatus.IMPAIRED, sender=appraiser)

    result = script(deployed_pool, "vault", "status")

    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert rows["GPUs written down (stale or returning)"][1] == "0"
    assert rows["GPUs held down (impaired or below their line)"][1] == "2"
    assert cell(result.output, "entries (buy, contribute)") == (
        f"closed: {impaired_reason(2)}; {below_line_reason('1')}"
    )


def test_status_says_entries_are_closed_while_paused(deployed_pool, pauser):
    deployed_pool.vault.pause(sender=pauser)

    result = script(deployed_pool, "vault", "status")

    assert result.exit_code == 0, result.output
    assert rows_of(result.output)["entries (buy, contribute)"][1] == "closed: the vault is paused"


def test_status_without_deployment(manifest_file):
    result = run_script("vault", "status", "--manifest", str(manifest_file))

    refused(result, "no deployment manifest; run `ape run deploy` first")
