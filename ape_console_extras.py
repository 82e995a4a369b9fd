"""`ape console` with the deployed pool's contracts at hand: `vault`, `collateral`, `registry`,
... and each by its contract name (`CollateralVault`, ...), from the connected network's manifest
(deployments/<network>.json, or $GPU_RWA_MANIFEST). Ape calls `ape_init_extras` when the console
starts and binds what it returns; without a manifest of this chain it says so in one line.

    ape console --network ethereum:local:foundry
    GPU_RWA_MANIFEST=deployments/demo.json ape console
"""

from gpu_rwa.namespace import pool_namespace


def ape_init_extras() -> dict:
    namespace, line = pool_namespace()
    print(line)
    return namespace
