"""Set-ups shared by the e2e tests and the exploit tests (tests/e2e/test_exploit_*.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.utils.vault import buy, contribute

USDC = 10**6


@dataclass
class Seeded:
    """A pool with one contributed GPU (the operator's fractions) and investors' cash."""

    token_id: int
    gpu_value: int  # the collateral value the GPU brought in (GpuContributed.value)
    contribution: Any  # the contribute receipt


@pytest.fixture
def seed(kit, registry, operator, gpu, request):
    """Factory: `seed(investor=100_000, other_investor=115_000)`, deposits in whole USDC by role
    fixture name. The operator first contributes one default GPU (30k cost, 3k salvage, 5 years,
    acquired 30 days ago, attested now): 23,644.836947 USDC of collateral at the 80% advance rate;
    its first mint locks the dead shares."""

    def _seed(**deposits: int) -> Seeded:
        token_id = gpu()
        tx = contribute(kit.collateral, registry, operator, token_id)
        (event,) = kit.collateral.GpuContributed.from_receipt(tx)
        for name, whole in deposits.items():
            buy(kit.vault, kit.token, request.getfixturevalue(name), whole * USDC)
        return Seeded(token_id=token_id, gpu_value=event.value, contribution=tx)

    return _seed
