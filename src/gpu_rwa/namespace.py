"""The deployed pool's contracts by name, for `ape console` (see ape_console_extras.py).

The manifest is the connected network's (deployments/<network>.json), or the one
$GPU_RWA_MANIFEST names; it must describe the chain ape is connected to.
"""

import os
from pathlib import Path

from ape import project

from gpu_rwa.cli import manifest_file_or_default, require_manifest
from gpu_rwa.errors import UserError
from gpu_rwa.pool import load_pool

MANIFEST_ENV = "GPU_RWA_MANIFEST"

# Short names a console session types, for the contracts of the manifest (each is bound by its
# contract name too).
SHORT_NAMES = {
    "vault": "CollateralVault",
    "collateral": "GpuCollateral",
    "registry": "GpuRegistry",
    "identity": "IdentityRegistry",
    "leases": "LeaseManager",
    "queue": "RedemptionQueue",
    "market": "GpuMarket",
    "appraisals": "GpuAppraisals",
    "compliance": "PoolCompliance",
    "attestor": "CustodyAttestor",
    "timelock": "GovernanceTimelock",
    "metadata": "GpuMetadata",
}


def pool_namespace() -> tuple[dict, str]:
    """The names to bind and the one line saying what was bound (or why nothing was): each
    contract of the manifest by its contract name and its short name, `stablecoin`, and `pool`
    (the `gpu_rwa.pool.Pool`, whose `cash` and `fractions` format amounts)."""
    chosen = os.environ.get(MANIFEST_ENV)
    try:
        path = manifest_file_or_default(Path(chosen) if chosen else None)
        manifest = require_manifest(path)
        pool = load_pool(manifest)
    except UserError as exc:
        return {}, f"gpu-rwa: no contract bound ({exc.message})"
    contracts = {
        name: getattr(project, name).at(record.address)
        for name, record in manifest.contracts.items()
    }
    short = {alias: contracts[name] for alias, name in SHORT_NAMES.items() if name in contracts}
    namespace = contracts | short | {"stablecoin": pool.stablecoin, "pool": pool}
    line = (
        f"gpu-rwa: bound {', '.join(short)}, stablecoin, pool and each contract by its name "
        f"({', '.join(contracts)}) from {path} (chain {manifest.chain_id})"
    )
    return namespace, line
