"""Shared set-ups for the PoolCompliance tests: the leased pool of the vault tests (revenue
flowing), with the investor and the other investor both holding fractions."""

import pytest

from tests.unit.collateral_vault.conftest import (  # noqa: F401 (fixtures)
    _cheap_reverts,
    leased,
    leased_kit,
    leased_pool,
)
from tests.utils.vault import buy

REASON = b"\x01" * 32


@pytest.fixture
def pool(leased_kit, leased, lessee, other_investor, chain):  # noqa: F811 (fixtures)
    """The leased pool after one instalment, with the other investor holding too and revenue
    vesting for both holders."""
    kit = leased_kit
    buy(kit.vault, kit.token, other_investor, 10_000 * 10**6)
    kit.leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += 3 * 86_400
    chain.mine()
    return kit
