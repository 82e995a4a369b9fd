"""Shared set-ups for the vault's unit tests."""

import pytest

from tests.utils.vault import DAY, buy, contribute, fund

INSTALMENT = 10_000 * 10**6
PERIOD = 30 * DAY
GRACE = 5 * DAY


@pytest.fixture
def leased(kit, registry, operator, investor, lessee, gpu):
    """Two contributed GPUs (fractions to the operator), a buyer, and one 12-instalment lease over
    both GPUs; the lessee is funded and has approved the vault. Returns (lease_id, gpu ids)."""
    vault, leases, token = kit.vault, kit.leases, kit.token
    ids = [gpu(), gpu()]
    for token_id in ids:
        contribute(vault, registry, operator, token_id)
    buy(vault, token, investor, 40_000 * 10**6)
    leases.open_lease(lessee, INSTALMENT, PERIOD, 12, GRACE, ids, sender=operator)
    fund(token, lessee, 1_000_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=lessee)
    return leases.lease_count(), ids
