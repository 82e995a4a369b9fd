"""`ape test --gas` traces every contract call to count its gas (tests/utils/ape_gas_report.py
repairs what ape 0.8 gets wrong there); these run the traced path without `--gas`."""

import ape
import pytest
from ape.pytest.gas import GasTracker

from tests.utils.vault import DAY, JURISDICTION

TRACED = "a traced call is a debug_traceCall, which Ganache does not answer"


@pytest.fixture
def traced_calls(monkeypatch, chain):
    """Calls made as under `ape test --gas`: through debug_traceCall, into the gas report."""
    monkeypatch.setattr(GasTracker, "enabled", property(lambda self: True))
    runner = chain.provider._test_runner
    report = runner.gas_tracker.session_gas_report
    yield runner.gas_tracker
    runner.gas_tracker.session_gas_report = report


@pytest.mark.anvil_only(TRACED)
def test_a_struct_returning_view_reads_the_same_traced(
    traced_calls, identity_registry, compliance, investor, chain
):
    expiry = chain.pending_timestamp + 30 * DAY
    identity_registry.verify(investor, expiry, JURISDICTION, sender=compliance)

    assert identity_registry.identity(investor) == (expiry, JURISDICTION)
    assert "identity" in str(traced_calls.session_gas_report["IdentityRegistry"])


@pytest.mark.anvil_only(TRACED)
def test_a_reverting_view_raises_the_same_traced(traced_calls, identity_registry, investor):
    with ape.reverts("identity: sender not verified"):
        identity_registry.check_move(investor, 0, investor, 0, investor, 0, 1, 0)
