from tests.utils.vault import buy, to_assets


def test_request_fulfil_claim_and_cancel(kit, investor, other_investor, operator):
    vault, queue, token = kit.vault, kit.queue, kit.token
    buy(vault, token, investor, 1_000 * 10**6)
    buy(vault, token, other_investor, 1_000 * 10**6)
    shares = vault.balanceOf(investor) // 2
    tx = queue.requestRedeem(shares, investor, investor, sender=investor)
    assert queue.pendingRedeemRequest(1, investor) == shares
    queue.requestRedeem(shares, other_investor, other_investor, sender=other_investor)
    queue.cancelRedeemRequest(2, other_investor, sender=other_investor)
    assert queue.claimableCancelRedeemRequest(0, other_investor) == shares
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_assets(shares, total, supply)
    queue.fulfil(10, sender=operator)
    assert queue.claimableRedeemRequest(0, investor) == shares
    assert queue.maxWithdraw(investor) == expected
    before = token.balanceOf(investor)
    queue.redeem(shares, investor, investor, sender=investor)
    assert token.balanceOf(investor) - before == expected
    queue.claimCancelRedeemRequest(2, other_investor, other_investor, sender=other_investor)
    assert queue.head() == 0 and queue.tail() == 0 and queue.reserved() == 0
