"""Shared set-ups for the vault's unit tests."""

import pytest

from tests.utils.registry import make_spec
from tests.utils.vault import DAY, YEAR, buy, fund, memoise_test_accounts

INSTALMENT = 10_000 * 10**6
PERIOD = 30 * DAY
GRACE = 5 * DAY
# A GPU whose cost equals its salvage value keeps one collateral value for its whole life: a pool
# holding only such GPUs has a NAV the clock does not move, so a view read in one block and the
# call it predicts in the next agree to the wei.
FLAT_COST = 2**96


@pytest.fixture(autouse=True)
def _cheap_reverts(monkeypatch):
    """Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts)."""
    memoise_test_accounts(monkeypatch)


@pytest.fixture(scope="session")
def kit18(create_vault):
    """A pool over an 18-decimal MockUSDC (admin mints it: amounts up to the caps)."""
    return create_vault(kind="usdc18")


@pytest.fixture(scope="session")
def usdt_kit(create_vault):
    """A pool over the USDT-like token (no return values; fee on transfer and blocklist switches
    held by admin, who is also the vault's fee recipient)."""
    return create_vault(kind="nobool")


@pytest.fixture
def flat_gpu(gpu):
    """Factory: `flat_gpu(cost=FLAT_COST)` registers to the operator a GPU whose value never
    changes (salvage = cost)."""

    def _flat(cost: int = FLAT_COST) -> int:
        return gpu(acquisition_cost=cost, salvage_value=cost, useful_life=YEAR)

    return _flat


@pytest.fixture(scope="session")
def leased_pool(create_vault, registry, custodian, operator, investor, lessee, chain):
    """A pool of its own (deployed once): two GPUs contributed by the operator (fractions to it),
    40,000 USDC from the investor, and one 12-instalment lease over both GPUs; the lessee is
    funded and has approved the vault. Returns (kit, lease id, gpu ids)."""
    kit = create_vault()
    vault, leases, token, collateral = kit.vault, kit.leases, kit.token, kit.collateral
    specs = [make_spec(acquired_at=chain.pending_timestamp - 30 * DAY) for _ in range(2)]
    tx = registry.register(operator, specs, sender=custodian)
    ids = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.setApprovalForAll(collateral, True, sender=operator)
    for token_id in ids:
        collateral.contribute(token_id, operator, 0, sender=operator)
    registry.setApprovalForAll(collateral, False, sender=operator)
    buy(vault, token, investor, 40_000 * 10**6)
    leases.open_lease(lessee, INSTALMENT, PERIOD, 12, GRACE, ids, sender=operator)
    fund(token, lessee, 1_000_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=lessee)
    return kit, leases.lease_count(), ids


@pytest.fixture(scope="session")
def leased_kit(leased_pool):
    """The leased pool's contracts (see `leased_pool`)."""
    return leased_pool[0]


@pytest.fixture
def leased(leased_pool):
    """(lease id, gpu ids) of `leased_kit`'s lease."""
    return leased_pool[1], leased_pool[2]
