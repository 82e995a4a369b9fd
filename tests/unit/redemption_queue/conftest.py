"""Shared set-ups for the RedemptionQueue's unit tests.

Most tests run on `flat_kit`, a pool of its own whose NAV the clock does not move (one flat GPU,
see tests/utils/queue.py): what a fulfilment pays can be computed before its block is mined, and
a test may let days pass without the price moving (the GPU goes stale after 30 days)."""

import pytest

from tests.utils.queue import flat_pool
from tests.utils.vault import buy, memoise_test_accounts

# The flat pool's buyers, in whole USDC: with the operator's GPU (40,000 USDC of collateral) the
# NAV is 100,000 USDC (less a wei), 60,000 of it free cash.
INVESTOR_USDC = 40_000
OTHER_INVESTOR_USDC = 20_000


@pytest.fixture(autouse=True)
def _cheap_reverts(monkeypatch):
    """Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts)."""
    memoise_test_accounts(monkeypatch)


@pytest.fixture(scope="session")
def flat_queue_pool(
    create_vault, registry, custodian, operator, lessee, investor, other_investor, chain
):
    """The flat pool (deployed once for the session; ape restores it before each test)."""
    return flat_pool(
        create_vault,
        registry,
        custodian,
        operator,
        lessee,
        chain,
        [(investor, INVESTOR_USDC), (other_investor, OTHER_INVESTOR_USDC)],
    )


@pytest.fixture(scope="session")
def flat_kit(flat_queue_pool):
    """The flat pool's contracts: .vault .queue .token .collateral .leases."""
    return flat_queue_pool.kit


@pytest.fixture(scope="session")
def usdt_queue_kit(create_vault, investor):
    """A pool of cash only over the USDT-like token (no return values; its deployer, admin, can
    switch on a fee on transfers): the investor's 1,000 USDT."""
    kit = create_vault(kind="nobool")
    buy(kit.vault, kit.token, investor, 1_000 * 10**6)
    return kit
