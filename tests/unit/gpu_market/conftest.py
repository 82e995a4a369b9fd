"""Shared set-ups for GpuMarket's unit tests: pools of their own, driven through GpuCollateral's
`Pool` (tests/unit/gpu_collateral/conftest.py), so every purchase and sale is checked against the
collateral's reference Book to the wei.

The set-ups have names of their own (ape keys its snapshots by fixture name: a session set-up
sharing a name with GpuCollateral's would not be re-snapshotted when built here).
"""

from dataclasses import replace

import pytest

from tests.unit.gpu_collateral.conftest import (
    Pool,
    Stocked,
    new_pool,  # noqa: F401 (a fixture)
    role_accounts,  # noqa: F401 (a fixture)
    stock,
)


@pytest.fixture(scope="session")
def market_stocked_built(new_pool, other_investor, investor) -> Stocked:  # noqa: F811
    return stock(new_pool(name="Market", symbol="MKT"), other_investor, investor)


@pytest.fixture
def stocked_market(market_stocked_built) -> Stocked:
    """A pool with the default parameters, 100,000 USDC of free cash (other_investor's) and two
    identical GPUs contributed (`first`, `twin`: the aggregate's one wei per GPU shows); the
    investor approved the collateral for all its GPUs (it sells to the pool)."""
    return replace(market_stocked_built, pool=market_stocked_built.pool.fork())


@pytest.fixture(scope="session")
def market_empty_built(new_pool) -> Pool:  # noqa: F811
    return new_pool(name="Market, empty", symbol="MKE")


@pytest.fixture
def empty_market(market_empty_built) -> Pool:
    """A pool with the default parameters and nothing in it."""
    return market_empty_built.fork()
