"""`ape run vault fulfil [--max N]`: requests paid from the head of the queue at the NAV of the
fulfilling block, the last one in part when the cash ends inside it; exact amounts and events;
one line and nothing sent on bad input."""

import pytest

from tests.scripts.utils import refused, script
from tests.utils.vault import VIRTUAL_SHARES

F = 10**12  # one whole fraction of the script pool (6-decimal USDC, offset 6)


def books(kit, *accounts) -> list:
    """What a refused fulfilment must not change: nonces, free cash and the queue's state."""
    queue = kit.queue
    return [
        *(a.nonce for a in accounts),
        kit.vault.free_cash(),
        (queue.head(), queue.pending_shares(), queue.reserved()),
    ]


def fulfilled_logs(kit, chain) -> list:
    head = chain.blocks.head.number
    return list(kit.queue.RedeemFulfilled.range(head, head + 1))


@pytest.fixture
def fulfil_queue(invested, investor, operator):
    """`invested` (10,000 USDC of free cash) with three requests sent to the queue directly:
    1 (investor, 100 fractions), 2 (investor, 50) and 3 (operator, 20,000: more than the cash
    left pays)."""
    queue = invested.queue
    queue.requestRedeem(100 * F, investor, investor, sender=investor)
    queue.requestRedeem(50 * F, investor, investor, sender=investor)
    queue.requestRedeem(20_000 * F, operator, operator, sender=operator)
    return invested


def test_fulfil_pays_from_the_head_as_far_as_cash_goes(fulfil_queue, investor, operator, chain):
    kit = fulfil_queue
    vault, queue = kit.vault, kit.queue

    # --max 1: request 1 alone.
    result = script(kit, "vault", "fulfil", "--max", "1")

    assert result.exit_code == 0, result.output
    (log,) = fulfilled_logs(kit, chain)
    # Its NAV at the fulfilling block, before the burn: the totals now plus what left.
    nav, units = vault.totalAssets() + log.assets + 1, vault.totalSupply() + log.shares
    assert (log.controller, log.requestId, log.shares, log.remaining) == (investor, 1, 100 * F, 0)
    assert log.assets == 100 * F * nav // (units + VIRTUAL_SHARES)
    assert queue.reserved() == log.assets
    assert vault.free_cash() == 10_000 * 10**6 - log.assets
    assert (
        f"fulfilled 1 request(s) in full (1): 100.000000000000 GPU1 burnt, {kit.cash(log.assets)} "
        "reserved for their controllers to claim (`ape run invest claim-redeem`)"
    ) in result.output
    pending = 20_050 * F
    assert (
        f"still pending: 2 request(s) for {kit.fractions(pending)}, worth "
        f"{kit.cash(vault.convertToAssets(pending))} now"
    ) in result.output
    first = log.assets

    # The default batch: request 2 in full, then request 3 as far as the cash goes.
    cash = vault.free_cash()

    result = script(kit, "vault", "fulfil")

    assert result.exit_code == 0, result.output
    second, third = fulfilled_logs(kit, chain)
    burnt, paid = second.shares + third.shares, second.assets + third.assets
    nav, units = vault.totalAssets() + paid + 1, vault.totalSupply() + burnt + VIRTUAL_SHARES
    assert (second.requestId, second.shares, second.remaining) == (2, 50 * F, 0)
    assert second.assets == 50 * F * nav // units
    left = cash - second.assets
    take = ((left + 1) * units - 1) // nav
    assert (third.controller, third.requestId, third.shares) == (operator, 3, take)
    assert third.assets == take * nav // units
    assert third.remaining == 20_000 * F - take
    assert vault.free_cash() == cash - paid
    assert queue.reserved() == first + paid
    assert queue.controller_state(investor) == (0, 0, 150 * F, first + second.assets, 0)
    assert queue.controller_state(operator) == (third.remaining, 1, take, third.assets, 0)
    assert (
        f"fulfilled 1 request(s) in full (2) and request 3 in part: {kit.fractions(burnt)} burnt, "
        f"{kit.cash(paid)} reserved"
    ) in result.output
    assert f"still pending: 1 request(s) for {kit.fractions(third.remaining)}" in result.output

    # The cash is gone: the next one is refused before anything is sent.
    assert vault.free_cash() == 0
    before = books(kit, operator)
    refused(
        script(kit, "vault", "fulfil"),
        f"the vault has no free cash: 1 request(s) for {kit.fractions(third.remaining)} stay "
        "pending until cash comes in (lease payments, buys, a GPU sale)",
    )
    assert books(kit, operator) == before


def test_fulfil_everything_pending(fulfil_queue, operator, investor, chain):
    kit = fulfil_queue
    kit.queue.cancelRedeemRequest(3, operator, sender=operator)

    result = script(kit, "vault", "fulfil", "--max", "256")

    assert result.exit_code == 0, result.output
    assert [log.requestId for log in fulfilled_logs(kit, chain)] == [1, 2]
    assert kit.queue.head() == 0
    assert "fulfilled 2 request(s) in full (1, 2): 150.000000000000 GPU1 burnt" in result.output
    assert "no request is pending" in result.output

    before = books(kit, operator)
    refused(
        script(kit, "vault", "fulfil"),
        "no redemption request is pending: nothing to fulfil",
    )
    assert books(kit, operator) == before


def test_bad_fulfil_sends_nothing(fulfil_queue, operator, investor, pauser):
    kit = fulfil_queue
    before = books(kit, operator, investor)
    for args, message in [
        (("--max", "0"), "--max: Input should be greater than or equal to 1"),
        (("--max", "257"), "--max: Input should be less than or equal to 256"),
        (("--max", "x"), "--max: Input should be a valid integer"),
        (
            ("--account", "TEST::7"),
            f"{investor.address} does not hold FULFILLER_ROLE on the RedemptionQueue",
        ),
    ]:
        refused(script(kit, "vault", "fulfil", *args), message)
    kit.vault.pause(sender=pauser)
    refused(
        script(kit, "vault", "fulfil"),
        "the vault is paused: fulfilling redemptions is stopped until the admin unpauses it",
    )
    assert books(kit, operator, investor) == before
