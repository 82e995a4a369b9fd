"""A transaction that reverts is one line from the scripts: ape's call trace (fetched from the
node and printed before ape raises) is left for `-v DEBUG` (gpu_rwa.cli)."""

import pytest
from ape.logging import LogLevel, logger
from ape_ethereum.trace import Trace
from ape_foundry.provider import FoundryProvider

from gpu_rwa import cli
from gpu_rwa.chain import send
from gpu_rwa.errors import UserError
from tests.utils.registry import USDC


@pytest.fixture
def shown(monkeypatch) -> list[str]:
    """The call traces ape shows, recorded instead of printed (ape prints them to the stdout it
    found at import, which a test cannot capture)."""
    traces = []
    monkeypatch.setattr(Trace, "show", lambda self, *args, **kwargs: traces.append(self))
    return traces


@pytest.fixture
def paused_buy(deployed_pool, investor, pauser, monkeypatch):
    """A buy sent past the scripts' pre-checks into a paused vault, through Anvil's own revert
    handling as the scripts meet it (the suite skips ape's traces: tests/utils/ape_overheads)."""
    monkeypatch.setattr(
        FoundryProvider, "_handle_execution_reverted", cli._foundry_revert_without_trace
    )
    vault = deployed_pool.vault
    deployed_pool.stablecoin.approve(vault, 100 * USDC, sender=investor)
    vault.pause(sender=pauser)
    return lambda: send("buy", vault.buy, 100 * USDC, investor, 1, 2**40, sender=investor)


def test_a_revert_prints_no_call_trace(paused_buy, shown, capfd):
    with pytest.raises(UserError) as error:
        paused_buy()

    assert error.value.message == "buy reverted: pausable: contract is paused"
    assert shown == []
    assert capfd.readouterr() == ("", "")


@pytest.mark.anvil_only("the call trace of a failed transaction comes from debug_traceTransaction")
def test_a_revert_shows_its_call_trace_when_debugging(paused_buy, shown):
    level = logger.level
    logger.set_level(LogLevel.DEBUG)
    try:
        with pytest.raises(UserError, match="buy reverted: pausable: contract is paused"):
            paused_buy()
    finally:
        logger.set_level(level)

    [trace] = shown
    assert trace.revert_message == "pausable: contract is paused"
