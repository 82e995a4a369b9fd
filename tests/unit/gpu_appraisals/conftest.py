"""Set-ups for GpuAppraisals' unit tests.

They act through the gpu_collateral tests' `Pool` (a pool on chain beside its reference Book,
tests/utils/collateral.py): `pool.mark` and `pool.mark_default` move the Book as the collateral's
`revalue` must, check GpuRevalued and the nodes matured against it, and `pool.check()` compares
every view of the collateral (values, positions, appraisals, nodes, the entry gate) to the wei.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.unit.gpu_collateral.conftest import Pool, book_of
from tests.utils.appraisals import LEASE_MANAGER_ROLE
from tests.utils.collateral import DAY, ceil_day
from tests.utils.vault import buy, memoise_test_accounts

# Free cash of the pool (the other investor's deposit).
CASH = 100_000 * 10**6
# What `marked_down` marks the first GPU down to.
DOWN = 10_000 * 10**6


@pytest.fixture(autouse=True)
def _cheap_reverts(monkeypatch):
    """Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts)."""
    memoise_test_accounts(monkeypatch)


@dataclass
class Appraised:
    """The pool as built: its Pool (Book included) and its two identical GPUs."""

    pool: Pool
    first: int
    twin: int


@pytest.fixture(scope="session")
def appraised_built(
    create_vault,
    usdc,
    registry,
    attestor,
    chain,
    admin,
    operator,
    custodian,
    appraiser,
    compliance,
    pauser,
    investor,
    other_investor,
) -> Appraised:
    """A pool of its own with the default parameters (80% advance rate, 30-day staleness window,
    7-day unlock period), 100,000 USDC of free cash from the other investor and two identical
    GPUs (30,000 USDC, 3,000 salvage, 5 years, acquired 30 days before) registered in one
    transaction, an hour after a UTC midnight, and contributed by the operator. The operator also
    holds the appraisals' LEASE_MANAGER_ROLE, standing in for the pool's LeaseManager."""
    roles = {
        "admin": admin,
        "operator": operator,
        "custodian": custodian,
        "appraiser": appraiser,
        "compliance": compliance,
        "pauser": pauser,
        "investor": investor,
    }
    kit = create_vault(token=usdc, name="Appraised", symbol="APPR")
    registry.setApprovalForAll(kit.collateral, True, sender=operator)
    kit.appraisals.grantRole(LEASE_MANAGER_ROLE, operator, sender=admin)
    pool = Pool(kit, registry, chain, book_of(kit), roles, attestor)
    buy(kit.vault, usdc, other_investor, CASH)
    acquired_at = chain.pending_timestamp - 30 * DAY
    start = ceil_day(chain.pending_timestamp) + 3_600
    pool.next_at(start)
    first, twin = pool.register_alike(2, acquired_at=acquired_at)
    pool.contribute(first)
    pool.contribute(twin)
    pool.check()
    return Appraised(pool, first, twin)


@pytest.fixture
def two(appraised_built) -> tuple[Pool, int, int]:
    """(pool, first, twin): the pool with its own copy of the Book, and its two GPUs."""
    return appraised_built.pool.fork(), appraised_built.first, appraised_built.twin


@pytest.fixture
def marked_down(two) -> tuple[Pool, int, int, int]:
    """(pool, first, twin, down_at): `first` marked down to DOWN (10,000 USDC) a day and 100
    seconds after the contribution (`down_at`: the mark's block's time, whichever second the
    node mined it in): below its line, so it holds entries."""
    pool, first, twin = two
    pool.next_at(pool.now() + DAY + 100)
    tx, _ = pool.mark(first, DOWN)
    assert (pool.collateral.written_down(), pool.collateral.held_down()) == (0, 1)
    return pool, first, twin, tx.timestamp
