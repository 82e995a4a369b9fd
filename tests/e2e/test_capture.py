"""Capture scenario: buying just before an instalment and selling right after earns nothing
material."""

from tests.utils.vault import DAY, VESTING_PERIOD, buy, contribute, fund

INSTALMENT = 100_000 * 10**6


def test_buy_before_payment_sell_after(
    kit, registry, operator, investor, other_investor, lessee, gpu, chain
):
    vault, leases, token = kit.vault, kit.leases, kit.token
    token_id = gpu()
    contribute(kit.collateral, registry, operator, token_id)
    buy(vault, token, investor, 100_000 * 10**6)
    leases.open_lease(lessee, INSTALMENT, 30 * DAY, 12, DAY, [token_id], sender=operator)
    fund(token, lessee, INSTALMENT)
    token.approve(vault, INSTALMENT, sender=lessee)

    # The capturer buys ten times the pool just before the payment...
    stake = 1_000_000 * 10**6
    buy_tx = buy(vault, token, other_investor, stake)
    pay_tx = kit.leases.pay_instalment(1, sender=lessee)
    # ...and sells everything right after.
    sell_tx = vault.redeem(
        vault.balanceOf(other_investor), other_investor, other_investor, sender=other_investor
    )
    held = (
        chain.blocks[sell_tx.block_number].timestamp - chain.blocks[pay_tx.block_number].timestamp
    )
    assert held <= 2
    captured = vault.claimable(other_investor)
    net = vault.received()
    # At most its share of what vested while it held: `held` seconds out of 30 days.
    assert captured <= net * held // VESTING_PERIOD + 1
    assert captured * 10_000 < net  # below 0.01% of the instalment
    # And the round trip itself lost to rounding, never gained.
    assert token.balanceOf(other_investor) <= stake
    assert buy_tx.gas_used > 0
