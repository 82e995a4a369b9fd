"""`ape run vault status`: NAV, price, supply, cash, collateral, revenue and the vault's GPUs."""

from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, refused, script, table_cells
from tests.utils.registry import USDC
from tests.utils.vault import BPS


def test_status_of_a_pool_with_a_lease(leased, lessee):
    vault, registry = leased.vault, leased.registry
    leased.stablecoin.approve(vault, 1_000 * USDC, sender=lessee)
    leased.leases.pay_instalment(1, sender=lessee)

    result = script(leased, "vault", "status")

    assert result.exit_code == 0, result.output
    one = 10**leased.fraction_decimals
    rate = vault.ADVANCE_RATE_BPS()
    expected = [
        ("NAV (totalAssets)", leased.cash(vault.totalAssets())),
        ("price of one GPU1", leased.cash(vault.convertToAssets(one))),
        ("total supply", leased.fractions(vault.totalSupply())),
        ("free cash", leased.cash(10_000 * USDC)),
        ("collateral value (80 % of book)", leased.cash(vault.collateral_value())),
        ("GPUs counted / held", "2 / 2"),
        ("revenue received (after fees)", leased.cash(900 * USDC)),
        ("revenue held", leased.cash(900 * USDC)),
        ("accrued fees (10 %)", leased.cash(100 * USDC)),
        ("paused", "no"),
    ]
    lines = result.output.splitlines()
    for label, value in expected:
        assert any(label in line and value in line for line in lines), (label, value)
    assert "GPUs in the vault: 2" in result.output
    rows = {cells[0]: cells for cells in map(table_cells, lines) if cells}
    for token_id in GPUS_IN_VAULT:
        book = registry.book_value(token_id)
        assert rows[str(token_id)] == [
            str(token_id),
            "H100 SXM",
            "LEASED",
            leased.cash(book),
            leased.cash(book * rate // BPS),
            "yes",
            "1",
        ]
    assert str(GPU_OUTSIDE) not in rows


def test_status_without_deployment(manifest_file):
    from tests.utils.scripts import run_script

    result = run_script("vault", "status", "--manifest", str(manifest_file))

    refused(result, "no deployment manifest; run `ape run deploy` first")
