"""CollateralVault ERC-4626 surface: metadata, conversions, deposit/mint/withdraw/redeem, buy and
buy_with_permit, max* views; each over 6- and 18-decimal permit tokens and a no-bool token."""

import ape
import pytest

from tests.utils.vault import (
    DAY,
    DECIMALS_OFFSET,
    OWNER_NOT_VERIFIED,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    buy,
    contribute,
    fund,
    logs_of,
    permit_signature,
    to_assets,
    to_shares,
)


def unit(token) -> int:
    return 10 ** token.decimals()


def test_metadata(kit, usdc, registry, identity):
    vault = kit.vault
    assert vault.asset() == usdc.address
    assert vault.name() == "GPU Pool One"
    assert vault.symbol() == "GPU1"
    assert vault.decimals() == 6 + DECIMALS_OFFSET
    assert vault.GPU_REGISTRY() == registry.address
    assert vault.IDENTITY_REGISTRY() == identity.address
    assert vault.totalAssets() == 0
    assert vault.convertToShares(10**6) == 10**12


def test_deposit(any_kit, investor):
    vault, token = any_kit.vault, any_kit.token
    assets = 1_000 * unit(token)
    expected = to_shares(assets, 0, 0)
    assert vault.previewDeposit(assets) == expected
    tx = buy(vault, token, investor, assets)
    assert vault.balanceOf(investor) == expected == assets * 10**DECIMALS_OFFSET
    assert vault.totalSupply() == expected
    assert vault.free_cash() == assets == vault.totalAssets()
    assert token.balanceOf(vault) == assets
    [log] = tx.decode_logs(vault.Deposit)
    assert (log.sender, log.owner, log.assets, log.shares) == (investor, investor, assets, expected)
    [transfer] = logs_of(tx, vault, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (
        ape.utils.ZERO_ADDRESS,
        investor,
        expected,
    )


def test_deposit_to_receiver(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6, receiver=other_investor)
    assert vault.balanceOf(other_investor) == 10**12
    assert vault.balanceOf(investor) == 0


def test_deposit_reverts(kit, investor, attacker, pauser):
    vault, token = kit.vault, kit.token
    fund(token, investor, 10**6)
    token.approve(vault, 10**6, sender=investor)
    with ape.reverts("vault: zero shares"):
        vault.deposit(0, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.deposit(10**6, attacker, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.deposit(10**6, investor, sender=investor)


def test_mint(any_kit, investor, other_investor):
    vault, token = any_kit.vault, any_kit.token
    buy(vault, token, other_investor, 7 * unit(token))
    shares = 3 * 10 ** vault.decimals() + 1
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_assets(shares, total, supply, roundup=True)
    assert vault.previewMint(shares) == expected
    fund(token, investor, expected)
    token.approve(vault, expected, sender=investor)
    tx = vault.mint(shares, investor, sender=investor)
    assert vault.balanceOf(investor) == shares
    assert token.balanceOf(investor) == 0
    [log] = tx.decode_logs(vault.Deposit)
    assert (log.assets, log.shares) == (expected, shares)


def test_mint_reverts(kit, investor, attacker, pauser):
    vault = kit.vault
    with ape.reverts("vault: zero shares"):
        vault.mint(0, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.mint(10**12, attacker, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.mint(10**12, investor, sender=investor)


def test_redeem(any_kit, investor, other_investor):
    vault, token = any_kit.vault, any_kit.token
    assets = 1_000 * unit(token)
    buy(vault, token, investor, assets)
    shares = vault.balanceOf(investor) // 3
    expected = to_assets(shares, vault.totalAssets(), vault.totalSupply())
    assert vault.previewRedeem(shares) == expected
    tx = vault.redeem(shares, other_investor, investor, sender=investor)
    assert token.balanceOf(other_investor) == expected
    assert vault.free_cash() == assets - expected
    [log] = tx.decode_logs(vault.Withdraw)
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        other_investor,
        investor,
        expected,
        shares,
    )


def test_withdraw(any_kit, investor):
    vault, token = any_kit.vault, any_kit.token
    buy(vault, token, investor, 1_000 * unit(token))
    assets = 333 * unit(token) + 1
    expected = to_shares(assets, vault.totalAssets(), vault.totalSupply(), roundup=True)
    assert vault.previewWithdraw(assets) == expected
    before = vault.balanceOf(investor)
    tx = vault.withdraw(assets, investor, investor, sender=investor)
    assert vault.balanceOf(investor) == before - expected
    assert token.balanceOf(investor) == assets
    [log] = tx.decode_logs(vault.Withdraw)
    assert (log.assets, log.shares) == (assets, expected)


def test_redeem_by_spender(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
    with ape.reverts("erc20: insufficient allowance"):
        vault.redeem(10**12, other_investor, investor, sender=other_investor)
    vault.approve(other_investor, 10**12, sender=investor)
    vault.redeem(10**12, other_investor, investor, sender=other_investor)
    assert vault.allowance(investor, other_investor) == 0
    assert token.balanceOf(other_investor) == 10**6


def test_redeem_reverts(kit, investor, attacker, pauser, compliance, identity):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
    with ape.reverts("vault: zero assets"):
        vault.redeem(0, investor, investor, sender=investor)
    with ape.reverts("vault: zero assets"):
        vault.withdraw(0, investor, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.redeem(10**12, attacker, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.withdraw(10**6, attacker, investor, sender=investor)
    with ape.reverts("erc20: burn amount exceeds balance"):
        vault.redeem(10**12 + 1, investor, investor, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.redeem(10**12, investor, investor, sender=investor)
    with ape.reverts(PAUSED):
        vault.withdraw(10**6, investor, investor, sender=investor)
    vault.unpause(sender=ape.accounts.test_accounts[0])
    identity.revoke(investor, sender=compliance)
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.redeem(10**12, investor, investor, sender=investor)
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.withdraw(10**6, investor, investor, sender=investor)


def test_redeem_bounded_by_free_cash(kit, registry, operator, investor, gpu):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 100_000 * 10**6)
    token_id = gpu()
    registry.approve(vault, token_id, sender=operator)
    price = 20_000 * 10**6
    vault.buy_gpu(token_id, price, vault.end_time_hint(token_id), sender=operator)
    cash = vault.free_cash()
    assert cash == 80_000 * 10**6
    max_shares = vault.maxRedeem(investor)
    assert max_shares == to_shares(cash, vault.totalAssets(), vault.totalSupply())
    assert max_shares < vault.balanceOf(investor)
    assert vault.maxWithdraw(investor) == cash
    assert vault.previewRedeem(max_shares) <= cash
    with ape.reverts("vault: insufficient free cash"):
        vault.redeem(vault.balanceOf(investor), investor, investor, sender=investor)
    with ape.reverts("vault: insufficient free cash"):
        vault.withdraw(cash + 1, investor, investor, sender=investor)
    vault.redeem(max_shares, investor, investor, sender=investor)
    assert vault.free_cash() < 10**6


def test_max_views(kit, investor, attacker, pauser):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
    assert vault.maxDeposit(investor) == 2**256 - 1
    assert vault.maxMint(investor) == 2**127 - vault.totalSupply()
    assert vault.maxRedeem(investor) == 10**12
    assert vault.maxWithdraw(investor) == 10**6
    for view in (vault.maxDeposit, vault.maxMint, vault.maxRedeem, vault.maxWithdraw):
        assert view(attacker) == 0
    vault.pause(sender=pauser)
    for view in (vault.maxDeposit, vault.maxMint, vault.maxRedeem, vault.maxWithdraw):
        assert view(investor) == 0


def test_buy(kit, investor, chain):
    vault, token = kit.vault, kit.token
    fund(token, investor, 10**6)
    token.approve(vault, 10**6, sender=investor)
    deadline = chain.pending_timestamp + 60
    with ape.reverts("vault: slippage: too few shares"):
        vault.buy(10**6, investor, 10**12 + 1, deadline, sender=investor)
    with ape.reverts("vault: deadline passed"):
        vault.buy(10**6, investor, 0, chain.pending_timestamp - 1, sender=investor)
    tx = vault.buy(10**6, investor, 10**12, deadline, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].shares == 10**12
    assert vault.balanceOf(investor) == 10**12


@pytest.mark.parametrize("kind", ["usdc6", "usdc18"])
def test_buy_with_permit(create_vault, investor, chain, kind):
    kit = create_vault(kind=kind)
    vault, token = kit.vault, kit.token
    assets = 500 * 10 ** token.decimals()
    fund(token, investor, assets)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, assets, deadline)
    tx = vault.buy_with_permit(assets, investor, 1, deadline, v, r, s, sender=investor)
    assert vault.balanceOf(investor) == assets * 10**DECIMALS_OFFSET
    assert token.allowance(investor, vault) == 0
    assert len(tx.decode_logs(vault.Deposit)) == 1


def test_buy_with_permit_reverts(kit, investor, chain):
    vault, token = kit.vault, kit.token
    fund(token, investor, 10**6)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, 10**6 - 1, deadline)
    with ape.reverts("vault: permit failed"):
        vault.buy_with_permit(10**6, investor, 0, deadline, v, r, s, sender=investor)
    with ape.reverts("vault: deadline passed"):
        vault.buy_with_permit(
            10**6, investor, 0, chain.pending_timestamp - 1, v, r, s, sender=investor
        )


def test_buy_with_permit_front_run(kit, investor, attacker, chain):
    """A permit used by someone else first does not block the buy (the allowance is there)."""
    vault, token = kit.vault, kit.token
    fund(token, investor, 10**6)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, 10**6, deadline)
    token.permit(investor, vault, 10**6, deadline, v, r, s, sender=attacker)
    vault.buy_with_permit(10**6, investor, 0, deadline, v, r, s, sender=investor)
    assert vault.balanceOf(investor) == 10**12


def test_nav_with_gpu(kit, registry, operator, investor, gpu, chain):
    """Conversions follow NAV = free cash + collateral value, rounding against the caller."""
    vault = kit.vault
    contribute(vault, registry, operator, gpu())
    chain.pending_timestamp += 100 * DAY
    chain.mine()
    total, supply = vault.totalAssets(), vault.totalSupply()
    assert total == vault.collateral_value()
    assets = 12_345 * 10**6 + 7
    assert vault.convertToShares(assets) == to_shares(assets, total, supply)
    assert vault.convertToAssets(10**15) == to_assets(10**15, total, supply)
    assert vault.previewWithdraw(assets) == to_shares(assets, total, supply, roundup=True)
    assert vault.previewMint(10**15) == to_assets(10**15, total, supply, roundup=True)
