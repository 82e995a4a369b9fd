"""Fixtures shared by the whole suite: one account per role, and factories for the contracts.

Ape isolates every test with a chain snapshot (on Ganache through the ape-ganache-local provider),
so session-scoped deployments are shared and each test starts from the same state.
"""

import pytest
from ape_foundry.provider import FoundryProvider


# ROLES: one key per actor of ../shared/DOMAIN.md, never `accounts[n]` in a test body.
@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def operator(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def custodian(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def appraiser(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def compliance(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def pauser(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def lessee(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def investor(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def other_investor(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[9]


@pytest.fixture(scope="session", autouse=True)
def revert_reasons_without_traces():
    """On Anvil, ape traces every reverting call to build a source traceback and print its call
    tree: about half a second a revert, most of the suite's time. The tests match exact revert
    reasons, which Anvil returns without a trace (the Ganache provider never traces either)."""
    handle = FoundryProvider._handle_execution_reverted

    def without_trace(self, exception, revert_message=None, **kwargs):
        kwargs.pop("trace", None)
        kwargs.pop("txn", None)
        return handle(self, exception, revert_message=revert_message, **kwargs)

    FoundryProvider._handle_execution_reverted = without_trace
    yield
    FoundryProvider._handle_execution_reverted = handle


# Contract fixtures live beside the contracts they deploy, one plugin module per contract family.
pytest_plugins = [
    "tests.fixtures.registry",
    "tests.fixtures.vault",
]
