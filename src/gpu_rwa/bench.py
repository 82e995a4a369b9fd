"""The benchmark: every state-changing call measured from receipts on a fresh deployment.

Each scenario deploys what it needs, records gas into a GasReport and returns timing figures;
scripts/bench.py runs them all and writes reports/.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ape import accounts, chain, project
from rich.console import Console

from gpu_rwa.chain import LOCAL_ROLE_ACCOUNTS
from gpu_rwa.gas import GasReport
from gpu_rwa.inventory import InventoryEntry, InventoryRow
from gpu_rwa.registry import MAX_BATCH, STATUS_CODES, register_entries

DECIMALS = 6


def _role(name: str):
    return accounts.test_accounts[LOCAL_ROLE_ACCOUNTS[name]]


def synthetic_inventory(count: int, prefix: str) -> list[InventoryEntry]:
    """`count` distinct GPUs acquired a year before the chain's current time."""
    acquired = datetime.fromtimestamp(chain.pending_timestamp, UTC) - timedelta(days=365)
    return [
        InventoryEntry(
            line=i + 2,
            row=InventoryRow(
                serial=f"{prefix}-{i:06d}",
                model="NVIDIA H100 SXM5 80GB",
                data_centre="Equinix DC11 Ashburn",
                acquisition_cost=Decimal("30000.00"),
                acquired_at=acquired,
                useful_life_years=Decimal(5),
                salvage_value=Decimal("3000.00"),
            ),
        )
        for i in range(count)
    ]


def bench_registry(report: GasReport, console: Console) -> dict[str, float]:
    admin, operator, custodian, appraiser = map(
        _role, ("admin", "operator", "custodian", "appraiser")
    )
    holder = accounts.test_accounts[7]
    registry = admin.deploy(project.GpuRegistry)
    report.figures["registry: deploy"] = registry.creation_metadata.receipt.gas_used
    report.record(
        "registry: grantRole",
        registry.grantRole(registry.CUSTODIAN_ROLE(), custodian, sender=admin),
    )
    registry.grantRole(registry.APPRAISER_ROLE(), appraiser, sender=admin)
    registry.grantRole(registry.LEASE_MANAGER_ROLE(), operator, sender=admin)

    for size in (1, 25, MAX_BATCH):
        specs = [e.row.to_spec(DECIMALS) for e in synthetic_inventory(size, f"B{size}")]
        receipt = registry.register(custodian, specs, sender=custodian)
        report.record(f"registry: register ({size} GPU{'s' if size > 1 else ''})", receipt)
        report.figures[f"registry: register, per GPU in a batch of {size}"] = (
            receipt.gas_used // size
        )

    token = 1
    report.record("registry: attest (1 GPU)", registry.attest([token], sender=custodian))
    report.record(
        f"registry: attest ({MAX_BATCH} GPUs)",
        registry.attest(list(range(2, 2 + MAX_BATCH)), sender=custodian),
    )
    transitions = (
        ("ACTIVE", "OFFLINE", custodian),
        ("OFFLINE", "ACTIVE", custodian),
        ("ACTIVE", "LEASED", operator),
        ("LEASED", "ACTIVE", operator),
        ("ACTIVE", "IMPAIRED", appraiser),
        ("IMPAIRED", "ACTIVE", appraiser),
        ("ACTIVE", "RETIRED", custodian),
    )
    for previous, current, sender in transitions:
        report.record(
            f"registry: set_status {previous} -> {current}",
            registry.set_status(token, STATUS_CODES[current], sender=sender),
        )

    moved = 2
    report.record("registry: approve", registry.approve(holder, moved, sender=custodian))
    report.record(
        "registry: transferFrom", registry.transferFrom(custodian, holder, moved, sender=custodian)
    )
    report.record(
        "registry: safeTransferFrom",
        registry.safeTransferFrom(holder, custodian, moved, sender=holder),
    )
    report.record(
        "registry: setApprovalForAll", registry.setApprovalForAll(holder, True, sender=custodian)
    )
    report.record(
        "registry: revokeRole",
        registry.revokeRole(registry.APPRAISER_ROLE(), appraiser, sender=admin),
    )

    thousand = synthetic_inventory(1_000, "K")
    started = time.perf_counter()
    register_entries(
        registry, thousand, custodian.address, custodian, decimals=DECIMALS, console=console
    )
    seconds = time.perf_counter() - started
    console.print(f"registered 1,000 GPUs in {seconds:.1f} s (batches of {MAX_BATCH})")
    return {"register 1,000 GPUs, seconds": round(seconds, 2)}
