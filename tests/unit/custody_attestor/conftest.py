"""Fixtures of the CustodyAttestor's tests: more custodians for M-of-N, and GPUs to attest.

The attestor itself is the session fixture `attestor` (tests/fixtures/registry.py): threshold 1,
holding the registry's ATTESTER_ROLE; `custodian` is its one custodian until `custodians` adds two.
"""

import pytest
from eth_account import Account
from eth_utils import keccak

from tests.utils.registry import CUSTODIAN_ROLE, DAY


@pytest.fixture(scope="session")
def co_custodian_keys():
    """Two more custodians' keys (they sign, never send: no gas needed)."""
    return [Account.from_key(keccak(text=f"co-custodian {i}")) for i in (1, 2)]


@pytest.fixture
def custodians(registry, admin, custodian, co_custodian_keys):
    """Three custodians, ascending by address: the `custodian` fixture and two keys granted
    CUSTODIAN_ROLE."""
    for key in co_custodian_keys:
        registry.grantRole(CUSTODIAN_ROLE, key.address, sender=admin)
    return sorted([custodian, *co_custodian_keys], key=lambda a: int(a.address, 16))


@pytest.fixture
def gpus(register_gpus, chain):
    """Three GPUs of the investor, registered a day ago (so any later time is newer)."""
    token_ids = register_gpus(3).token_ids
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    return token_ids
