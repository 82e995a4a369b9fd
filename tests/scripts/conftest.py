"""Fixtures of the script tests: a manifest per test, and one deployed, populated pool.

`deployed_pool` deploys through the deploy script once per session (ape reverts each test to the
snapshot taken after it): the investors and the operator verified, the investor funded, three GPUs
registered to the operator (attested at registration) and the first two contributed to the
pool's GpuCollateral.
"""

import pytest

from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool
from tests.scripts.utils import GPU_COST, GPUS_IN_VAULT, INVESTOR_FUNDS, PoolKit
from tests.utils.registry import DAY, USDC, make_spec
from tests.utils.scripts import run_script
from tests.utils.vault import JURISDICTION, YEAR, contribute, fund


@pytest.fixture
def manifest_file(tmp_path):
    """Each script test writes its own manifest, never deployments/ of the checkout."""
    return tmp_path / "deployments" / "local.json"


@pytest.fixture(scope="session")
def deployed_pool(
    tmp_path_factory, chain, admin, operator, custodian, compliance, investor, other_investor
) -> PoolKit:
    path = tmp_path_factory.mktemp("pool") / "local.json"
    result = run_script("deploy", "--manifest", str(path))
    assert result.exit_code == 0, result.output
    kit = PoolKit(pool=load_pool(read_manifest(path)), manifest=str(path))
    kit.identity.verify_batch(
        [operator, investor, other_investor],
        chain.pending_timestamp + 10 * YEAR,
        JURISDICTION,
        sender=compliance,
    )
    fund(kit.stablecoin, investor, INVESTOR_FUNDS)
    specs = [
        make_spec(acquired_at=chain.pending_timestamp - 30 * DAY, acquisition_cost=GPU_COST)
        for _ in range(3)
    ]
    kit.registry.register(operator, specs, sender=custodian)
    for token_id in GPUS_IN_VAULT:
        contribute(kit.collateral, kit.registry, operator, token_id)
    return kit


# Function-scoped on purpose: a session-scoped fixture's state stays for every later test (ape
# snapshots after it), so tests asking only for `deployed_pool` would see these transactions too.
@pytest.fixture
def invested(deployed_pool, investor) -> PoolKit:
    """`deployed_pool` after the investor bought for 10,000 USDC: free cash to redeem from."""
    assets = 10_000 * USDC
    deployed_pool.stablecoin.approve(deployed_pool.vault, assets, sender=investor)
    deployed_pool.vault.deposit(assets, investor, sender=investor)
    return deployed_pool


@pytest.fixture
def leased(invested, operator, lessee) -> PoolKit:
    """`invested` with lease 1 over GPUs 1 and 2 to the lessee (12 x 1,000 USDC every 30 days,
    5 days' grace) and the lessee funded with 20,000 USDC."""
    invested.leases.open_lease(
        lessee, 1_000 * USDC, 30 * DAY, 12, 5 * DAY, list(GPUS_IN_VAULT), sender=operator
    )
    fund(invested.stablecoin, lessee, 20_000 * USDC)
    return invested
