"""MockUSDC (permit, faucet, the deployer's mint) and MockNoBoolToken (no return values, the
owner's fee on transfer and blocklist)."""

import ape
import pytest

from tests.utils.vault import DAY, memoise_test_accounts, permit_signature


@pytest.fixture(autouse=True)
def _cheap_reverts(monkeypatch):
    memoise_test_accounts(monkeypatch)


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


def test_usdc_mint_by_its_deployer(project, admin, investor):
    """MockUSDC keeps snekmate's `mint` for its deployer (the minter): amounts past the faucet's
    per-call cap, up to the vault's caps."""
    token = project.MockUSDC.deploy("Dollar 18", "USD18", 18, sender=admin)
    assert token.is_minter(admin)
    amount = 2**127
    tx = token.mint(investor, amount, sender=admin)
    [log] = tx.decode_logs(token.Transfer)
    assert (log.sender, log.receiver, log.value) == (ape.utils.ZERO_ADDRESS, investor, amount)
    assert token.balanceOf(investor) == token.totalSupply() == amount
    with ape.reverts("erc20: access is denied"):
        token.mint(investor, 1, sender=investor)


@pytest.fixture
def usdt(project, admin, investor):
    token = project.MockNoBoolToken.deploy(sender=admin)
    token.faucet(1_000_000, sender=investor)
    return token


def test_no_bool_token_fee_on_transfer(usdt, admin, investor, other_investor, attacker):
    assert usdt.owner() == admin
    assert usdt.fee_bps() == 0
    with ape.reverts("usdt: not the owner"):
        usdt.set_fee_bps(10, sender=attacker)
    with ape.reverts("usdt: fee too high"):
        usdt.set_fee_bps(1_001, sender=admin)
    usdt.set_fee_bps(1_000, sender=admin)
    assert usdt.fee_bps() == 1_000
    tx = usdt.transfer(other_investor, 10_009, sender=investor)
    fee = 10_009 * 1_000 // 10_000
    to_receiver, to_owner = tx.decode_logs(usdt.Transfer)
    assert (to_receiver.sender, to_receiver.receiver, to_receiver.value) == (
        investor,
        other_investor,
        10_009 - fee,
    )
    assert (to_owner.sender, to_owner.receiver, to_owner.value) == (investor, admin, fee)
    assert usdt.balanceOf(other_investor) == 10_009 - fee
    assert usdt.balanceOf(admin) == fee
    assert usdt.balanceOf(investor) == 1_000_000 - 10_009
    # transferFrom takes the fee too, and the allowance is spent in full.
    usdt.approve(attacker, 100, sender=investor)
    usdt.transferFrom(investor, other_investor, 100, sender=attacker)
    assert usdt.balanceOf(other_investor) == 10_009 - fee + 90
    assert usdt.allowance(investor, attacker) == 0
    # Below 10 units a 10% fee rounds to nothing.
    usdt.transfer(other_investor, 9, sender=investor)
    assert usdt.balanceOf(admin) == fee + 10
    assert usdt.totalSupply() == 1_000_000


def test_no_bool_token_blocklist(usdt, admin, investor, other_investor, attacker):
    with ape.reverts("usdt: not the owner"):
        usdt.set_blocked(investor, True, sender=attacker)
    usdt.set_blocked(other_investor, True, sender=admin)
    assert usdt.blocked(other_investor)
    with ape.reverts("usdt: blocked"):
        usdt.transfer(other_investor, 1, sender=investor)  # cannot receive
    usdt.set_blocked(other_investor, False, sender=admin)
    usdt.transfer(other_investor, 5, sender=investor)
    usdt.set_blocked(other_investor, True, sender=admin)
    with ape.reverts("usdt: blocked"):
        usdt.transfer(investor, 1, sender=other_investor)  # cannot send
    usdt.approve(attacker, 5, sender=other_investor)  # approving is not moving
    with ape.reverts("usdt: blocked"):
        usdt.transferFrom(other_investor, attacker, 1, sender=attacker)
    assert usdt.balanceOf(other_investor) == 5
    # The owner itself can be blocked (it still administers the token).
    usdt.set_blocked(admin, True, sender=admin)
    with ape.reverts("usdt: blocked"):
        usdt.transfer(admin, 1, sender=investor)
    usdt.set_blocked(admin, False, sender=admin)
    usdt.transfer(admin, 1, sender=investor)
    assert usdt.balanceOf(admin) == 1
