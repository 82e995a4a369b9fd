"""MockUSDC (permit, faucet) and MockNoBoolToken (no return values)."""

import ape
import pytest

from tests.utils.vault import DAY, permit_signature


@pytest.mark.parametrize("decimals", [6, 18])
def test_usdc_metadata_and_faucet(project, admin, investor, decimals):
    token = project.MockUSDC.deploy("USD Coin", "USDC", decimals, sender=admin)
    assert token.decimals() == decimals
    cap = 1_000_000 * 10**decimals
    assert token.faucet_cap() == cap
    tx = token.faucet(cap, sender=investor)
    assert token.balanceOf(investor) == cap
    [log] = tx.decode_logs(token.Transfer)
    assert (log.sender, log.receiver, log.value) == (ape.utils.ZERO_ADDRESS, investor, cap)
    with ape.reverts("usdc: faucet cap exceeded"):
        token.faucet(cap + 1, sender=investor)
    with ape.reverts("usdc: zero amount"):
        token.faucet(0, sender=investor)


def test_usdc_permit(usdc, investor, other_investor, chain):
    deadline = chain.pending_timestamp + DAY
    v, r, s = permit_signature(usdc, investor, other_investor, 123, deadline)
    usdc.permit(investor, other_investor, 123, deadline, v, r, s, sender=other_investor)
    assert usdc.allowance(investor, other_investor) == 123
    assert usdc.nonces(investor) == 1


def test_no_bool_token(project, admin, investor, other_investor):
    token = project.MockNoBoolToken.deploy(sender=admin)
    assert token.decimals() == 6
    token.faucet(1_000, sender=investor)
    token.transfer(other_investor, 400, sender=investor)
    for name in ("transfer", "transferFrom", "approve"):
        [method] = [m for m in token.contract_type.mutable_methods if m.name == name]
        assert method.outputs == []
    token.approve(other_investor, 100, sender=investor)
    token.transferFrom(investor, other_investor, 100, sender=other_investor)
    assert token.balanceOf(other_investor) == 500
    assert token.balanceOf(investor) == 500
    with ape.reverts("usdt: insufficient allowance"):
        token.transferFrom(investor, other_investor, 1, sender=other_investor)
    with ape.reverts("usdt: insufficient balance"):
        token.transfer(other_investor, 501, sender=investor)
    with ape.reverts("usdt: faucet cap exceeded"):
        token.faucet(10**12 + 1, sender=investor)
