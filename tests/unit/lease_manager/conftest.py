"""Shared set-ups for the LeaseManager's unit tests: one pool with a lease over four GPUs."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.utils.registry import make_spec
from tests.utils.vault import (
    DAY,
    DEFAULT_AFTER,
    YEAR,
    buy,
    contribute,
    fund,
    memoise_test_accounts,
)

INSTALMENT = 10_000 * 10**6
PERIOD = 30 * DAY
GRACE = 5 * DAY
INSTALMENTS = 12
GPUS = 4
# The pool's GPUs stay fresh for a year: defaults happen months into a lease, and no attestation
# is needed to keep them counting meanwhile.
STALENESS = YEAR


@dataclass
class LeaseBook:
    """The pool (`kit`), its lease and what the lease covers."""

    kit: Any
    lease_id: int
    gpu_ids: list[int]
    start: int

    def due(self, k: int) -> int:
        """When instalment k (1-based) falls due."""
        return self.start + k * PERIOD


@pytest.fixture(autouse=True)
def _cheap_reverts(monkeypatch):
    """Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts)."""
    memoise_test_accounts(monkeypatch)


@pytest.fixture(scope="session")
def lease_book(create_vault, registry, custodian, operator, investor, lessee, chain) -> LeaseBook:
    """A pool of its own (deployed once, default_after 60 days): four GPUs contributed by the
    operator, 40,000 USDC from the investor, and one lease of 12 x 10,000 USDC every 30 days with
    5 days' grace over the four; the lessee is funded with 1,000,000 USDC and has approved the
    vault for any amount."""
    kit = create_vault(staleness_window=STALENESS)
    vault, leases, token, collateral = kit.vault, kit.leases, kit.token, kit.collateral
    specs = [make_spec(acquired_at=chain.pending_timestamp - 30 * DAY) for _ in range(GPUS)]
    tx = registry.register(operator, specs, sender=custodian)
    ids = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.setApprovalForAll(collateral, True, sender=operator)
    for token_id in ids:
        collateral.contribute(token_id, operator, 0, sender=operator)
    registry.setApprovalForAll(collateral, False, sender=operator)
    buy(vault, token, investor, 40_000 * 10**6)
    tx = leases.open_lease(lessee, INSTALMENT, PERIOD, INSTALMENTS, GRACE, ids, sender=operator)
    opened = tx.decode_logs(leases.LeaseOpened)[0]
    fund(token, lessee, 1_000_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=lessee)
    return LeaseBook(kit=kit, lease_id=opened.lease_id, gpu_ids=ids, start=opened.start)


@pytest.fixture(scope="session")
def lease_kit(lease_book):
    """The pool of `lease_book`."""
    return lease_book.kit


@pytest.fixture
def defaulted(lease_book, attacker, chain) -> LeaseBook:
    """`lease_book` with its lease declared in default, by an account holding no role, a second
    after the first instalment was default_after past due: instalments 1 and 2 in arrears."""
    chain.pending_timestamp = lease_book.due(1) + DEFAULT_AFTER + 1
    lease_book.kit.leases.declare_default(lease_book.lease_id, sender=attacker)
    return lease_book


@pytest.fixture
def free_gpu(lease_kit, registry, operator, gpu):
    """Factory: `free_gpu()` registers a GPU to the operator and contributes it to the pool (in no
    lease); returns its id."""

    def _free() -> int:
        token_id = gpu()
        contribute(lease_kit.collateral, registry, operator, token_id)
        return token_id

    return _free
