"""Fixtures shared by the whole suite: one account per role, and factories for the contracts.

Ape isolates every test with a chain snapshot (on Ganache through the ape-ganache-local provider),
so session-scoped deployments are shared and each test starts from the same state.
"""

import ape
import pytest

from tests.utils.ape_gas_report import repair as repair_gas_report
from tests.utils.ape_overheads import switch_off
from tests.utils.exploits import skip_unless_anvil


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
def without_ape_overheads():
    """Ape's per-call traces and code checks, which no test uses (see tests/utils/ape_overheads)."""
    switch_on = switch_off()
    restore_gas_report = repair_gas_report()  # `ape test --gas` (see tests/utils/ape_gas_report)
    yield
    restore_gas_report()
    switch_on()


@pytest.fixture(scope="session", autouse=True)
def event_cache_in_tmp(tmp_path_factory):
    """`ape run audit` keeps the events it read in a cache file: the suite's, not the checkout's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GPU_RWA_EVENT_CACHE", str(tmp_path_factory.mktemp("cache") / "events.sqlite"))
        yield


# The registry's unit tests count tokens from an empty shared registry; session set-ups elsewhere
# register GPUs in it for good (ape keeps session state), so those tests run first.
FIRST = ("tests/unit/gpu_registry/", "tests/unit/gpu_metadata/")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(FIRST))


def pytest_runtest_setup(item):
    """A test marked anvil_only(reason) needs what only Anvil offers (a block at an exact second,
    hundreds of blocks mined in one request): on any other node it is skipped, saying why, before
    its fixtures are set up."""
    if (marker := item.get_closest_marker("anvil_only")) is not None:
        skip_unless_anvil(ape.chain, marker.args[0])


# Contract fixtures live beside the contracts they deploy, one plugin module per contract family.
pytest_plugins = [
    "tests.fixtures.governance",
    "tests.fixtures.registry",
    "tests.fixtures.vault",
]


def pytest_collection_finish(session):
    """Ape isolates tests by fixture *name*: it records which names were set up in which scope's
    snapshot and re-snapshots when a higher-scoped name shows up late. Two fixtures of one name
    in different scopes (a session `pool` in one folder, a function `pool` in another) make it
    skip the function snapshots of whole modules, silently. Refuse such a suite."""
    scopes: dict[str, set[str]] = {}
    for name, definitions in session._fixturemanager._arg2fixturedefs.items():
        scopes[name] = {d.scope for d in definitions}
    clashes = sorted(name for name, found in scopes.items() if len(found) > 1)
    if clashes:
        raise pytest.UsageError(
            f"fixture name(s) defined in more than one scope: {', '.join(clashes)} "
            "(ape's isolation keys snapshots by name: rename one)"
        )
