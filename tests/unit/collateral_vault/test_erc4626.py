"""CollateralVault ERC-4626 surface: metadata, conversions, deposit/mint/withdraw/redeem, buy and
buy_with_permit; each over 6- and 18-decimal permit tokens and a no-bool token. The first mint's
dead shares are in test_dead_shares.py, every max* bound in test_max.py, exit rights in
test_exit_rights.py, sell in test_sell.py."""

import ape
import pytest

from tests.unit.collateral_vault.conftest import FLAT_COST
from tests.utils.market import sell_gpu
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    BPS,
    DAY,
    DECIMALS_OFFSET,
    FIRST_MINT_BELOW_DEAD,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    buy,
    collateral_value,
    collateral_value_at,
    contribute,
    dead_shares,
    first_deposit_shares,
    fund,
    logs_of,
    permit_signature,
    to_assets,
    to_shares,
)


def unit(token) -> int:
    return 10 ** token.decimals()


def test_metadata(kit, usdc, identity):
    vault = kit.vault
    assert vault.asset() == usdc.address
    assert vault.name() == "GPU Pool One"
    assert vault.symbol() == "GPU1"
    assert vault.decimals() == 6 + DECIMALS_OFFSET
    assert vault.COLLATERAL() == kit.collateral.address
    assert vault.IDENTITY_REGISTRY() == identity.address
    assert vault.totalAssets() == 0
    assert vault.convertToShares(10**6) == 10**12
    assert vault.convertToAssets(10**12) == 10**6
    assert vault.previewMint(1) == 10**6 + 1  # 1 share unit + the dead shares, rounded up


def test_deposit(any_kit, investor, other_investor):
    """A deposit into a vault that already has holders: fractions at NAV, rounded down."""
    vault, token = any_kit.vault, any_kit.token
    buy(vault, token, other_investor, 3 * unit(token))
    assets = 1_000 * unit(token) + 7
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_shares(assets, total, supply)
    assert vault.previewDeposit(assets) == expected
    tx = buy(vault, token, investor, assets)
    assert vault.balanceOf(investor) == expected == assets * 10**DECIMALS_OFFSET
    assert vault.totalSupply() == supply + expected
    assert vault.free_cash() == total + assets == vault.totalAssets()
    assert token.balanceOf(vault) == total + assets
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
    buy(vault, token, investor, 2 * 10**6, receiver=other_investor)
    assert vault.balanceOf(other_investor) == first_deposit_shares(2 * 10**6, 10**12) == 10**12
    assert vault.balanceOf(investor) == 0


def test_deposit_reverts(kit, investor, attacker, pauser):
    vault, token = kit.vault, kit.token
    fund(token, investor, 3 * 10**6)
    token.approve(vault, 3 * 10**6, sender=investor)
    with ape.reverts(FIRST_MINT_BELOW_DEAD):
        vault.deposit(0, investor, sender=investor)
    vault.deposit(2 * 10**6, investor, sender=investor)
    with ape.reverts("vault: zero shares"):
        vault.deposit(0, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.deposit(10**6, attacker, sender=investor)
    with ape.reverts("erc20: insufficient allowance"):
        vault.deposit(10**6 + 1, investor, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.deposit(10**6, investor, sender=investor)
    assert vault.balanceOf(investor) == 10**12
    assert vault.free_cash() == 2 * 10**6


def test_mint(any_kit, investor, other_investor):
    vault, token = any_kit.vault, any_kit.token
    buy(vault, token, other_investor, 7 * unit(token))
    shares = 3 * 10 ** vault.decimals() + 1
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_assets(shares, total, supply, roundup=True)
    assert expected == 3 * unit(token) + 1
    assert vault.previewMint(shares) == expected
    fund(token, investor, expected)
    token.approve(vault, expected, sender=investor)
    tx = vault.mint(shares, investor, sender=investor)
    assert vault.balanceOf(investor) == shares
    assert vault.totalSupply() == supply + shares
    assert vault.free_cash() == total + expected
    assert token.balanceOf(investor) == 0
    [log] = tx.decode_logs(vault.Deposit)
    assert (log.sender, log.owner, log.assets, log.shares) == (investor, investor, expected, shares)


def test_mint_reverts(kit, investor, attacker, pauser):
    vault = kit.vault
    with ape.reverts("vault: zero shares"):
        vault.mint(0, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.mint(10**12, attacker, sender=investor)
    with ape.reverts("erc20: insufficient allowance"):
        vault.mint(10**12, investor, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.mint(10**12, investor, sender=investor)


def test_redeem(any_kit, investor, other_investor):
    vault, token = any_kit.vault, any_kit.token
    assets = 1_000 * unit(token)
    buy(vault, token, investor, assets)
    shares = vault.balanceOf(investor) // 3
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_assets(shares, total, supply)
    assert vault.previewRedeem(shares) == expected
    tx = vault.redeem(shares, other_investor, investor, sender=investor)
    assert token.balanceOf(other_investor) == expected
    assert vault.free_cash() == assets - expected
    assert vault.totalSupply() == supply - shares
    [log] = tx.decode_logs(vault.Withdraw)
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        other_investor,
        investor,
        expected,
        shares,
    )
    [burn] = logs_of(tx, vault, "Transfer")
    assert (burn.sender, burn.receiver, burn.value) == (investor, ape.utils.ZERO_ADDRESS, shares)


def test_withdraw(any_kit, investor):
    vault, token = any_kit.vault, any_kit.token
    buy(vault, token, investor, 1_000 * unit(token))
    assets = 333 * unit(token) + 1
    total, supply = vault.totalAssets(), vault.totalSupply()
    expected = to_shares(assets, total, supply, roundup=True)
    assert vault.previewWithdraw(assets) == expected
    before = vault.balanceOf(investor)
    tx = vault.withdraw(assets, investor, investor, sender=investor)
    assert vault.balanceOf(investor) == before - expected
    assert token.balanceOf(investor) == assets
    assert vault.free_cash() == total - assets
    [log] = tx.decode_logs(vault.Withdraw)
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        investor,
        investor,
        assets,
        expected,
    )


def test_redeem_by_spender(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    with ape.reverts("erc20: insufficient allowance"):
        vault.redeem(10**12, other_investor, investor, sender=other_investor)
    vault.approve(other_investor, 10**12, sender=investor)
    tx = vault.redeem(10**12, other_investor, investor, sender=other_investor)
    assert vault.allowance(investor, other_investor) == 0
    assert token.balanceOf(other_investor) == to_assets(10**12, 2 * 10**6, 2 * 10**12) == 10**6
    [log] = tx.decode_logs(vault.Withdraw)
    assert (log.sender, log.receiver, log.owner) == (other_investor, other_investor, investor)


def test_withdraw_by_spender(kit, investor, other_investor):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    shares = to_shares(5 * 10**5, 2 * 10**6, 2 * 10**12, roundup=True)
    vault.approve(other_investor, shares - 1, sender=investor)
    with ape.reverts("erc20: insufficient allowance"):
        vault.withdraw(5 * 10**5, other_investor, investor, sender=other_investor)
    vault.approve(other_investor, shares, sender=investor)
    vault.withdraw(5 * 10**5, other_investor, investor, sender=other_investor)
    assert vault.allowance(investor, other_investor) == 0
    assert vault.balanceOf(investor) == 10**12 - shares
    assert token.balanceOf(other_investor) == 5 * 10**5


def test_redeem_reverts(kit, investor, other_investor, attacker, pauser):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    with ape.reverts("vault: zero assets"):
        vault.redeem(0, investor, investor, sender=investor)
    with ape.reverts("vault: zero assets"):
        vault.redeem(10**6 - 1, investor, investor, sender=investor)  # pays 0.999... wei
    with ape.reverts("vault: zero assets"):
        vault.withdraw(0, investor, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.redeem(10**12, attacker, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.withdraw(10**6, attacker, investor, sender=investor)
    with ape.reverts("erc20: burn amount exceeds balance"):
        vault.redeem(10**12 + 10**6, investor, investor, sender=investor)
    with ape.reverts("erc20: burn amount exceeds balance"):
        vault.redeem(10**6, other_investor, other_investor, sender=other_investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.redeem(10**12, investor, investor, sender=investor)
    with ape.reverts(PAUSED):
        vault.withdraw(10**6, investor, investor, sender=investor)
    assert vault.balanceOf(investor) == 10**12


def test_redeem_bounded_by_free_cash(kit, registry, operator, investor, flat_gpu):
    """Free cash spent on a GPU (sell_gpu at the operator's offer) bounds instant redemptions."""
    vault, token, market = kit.vault, kit.token, kit.market
    buy(vault, token, investor, 100_000 * 10**6)
    token_id = flat_gpu(cost=30_000 * 10**6)
    price = 20_000 * 10**6
    sell_gpu(market, registry, operator, token_id, price)
    cash = vault.free_cash()
    assert cash == 80_000 * 10**6
    value = 30_000 * 10**6 * ADVANCE_RATE_BPS // BPS - 1
    assert collateral_value(vault) == value
    total, supply = cash + value, vault.totalSupply()
    assert vault.totalAssets() == total
    balance = vault.balanceOf(investor)
    max_shares = vault.maxRedeem(investor)
    assert max_shares == ((cash + 1) * (supply + 10**6) - 1) // (total + 1) < balance
    assert vault.maxWithdraw(investor) == cash
    assert vault.previewRedeem(max_shares) == cash
    assert vault.previewRedeem(max_shares + 1) == cash + 1
    with ape.reverts("vault: insufficient free cash"):
        vault.redeem(max_shares + 1, investor, investor, sender=investor)
    with ape.reverts("vault: insufficient free cash"):
        vault.withdraw(cash + 1, investor, investor, sender=investor)
    vault.redeem(max_shares, investor, investor, sender=investor)
    assert vault.free_cash() == 0
    assert token.balanceOf(investor) == cash
    assert vault.balanceOf(investor) == balance - max_shares


def test_buy(kit, investor, chain):
    vault, token = kit.vault, kit.token
    fund(token, investor, 2 * 10**6)
    token.approve(vault, 2 * 10**6, sender=investor)
    deadline = chain.pending_timestamp + 60
    with ape.reverts("vault: slippage: too few shares"):
        vault.buy(2 * 10**6, investor, 10**12 + 1, deadline, sender=investor)
    with ape.reverts("vault: deadline passed"):
        vault.buy(2 * 10**6, investor, 0, chain.pending_timestamp - 1, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.buy(2 * 10**6, ape.accounts.test_accounts[9], 0, deadline, sender=investor)
    tx = vault.buy(2 * 10**6, investor, 10**12, deadline, sender=investor)
    [log] = logs_of(tx, vault, "Deposit")
    assert (log.sender, log.owner, log.assets, log.shares) == (
        investor,
        investor,
        2 * 10**6,
        10**12,
    )
    assert vault.balanceOf(investor) == 10**12


def test_buy_at_the_deadline(kit, investor, chain):
    """The deadline is the last second a buy goes through."""
    vault, token = kit.vault, kit.token
    fund(token, investor, 2 * 10**6)
    token.approve(vault, 2 * 10**6, sender=investor)
    deadline = chain.pending_timestamp + 100
    chain.pending_timestamp = deadline
    tx = vault.buy(2 * 10**6, investor, 0, deadline, sender=investor)
    assert tx.timestamp == deadline
    assert vault.balanceOf(investor) == 10**12


# Both kits are asked for by name: ape snapshots around the fixtures a test names, and a session
# deployment fetched with request.getfixturevalue() would be reverted with the test's snapshot.
@pytest.mark.parametrize("decimals", [6, 18])
def test_buy_with_permit(kit, kit18, investor, chain, decimals):
    chosen = kit if decimals == 6 else kit18
    vault, token = chosen.vault, chosen.token
    assets = 500 * 10 ** token.decimals()
    fund(token, investor, assets)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, assets, deadline)
    tx = vault.buy_with_permit(assets, investor, 1, deadline, v, r, s, sender=investor)
    dead = dead_shares(token.decimals())
    assert vault.balanceOf(investor) == assets * 10**DECIMALS_OFFSET - dead
    assert token.allowance(investor, vault) == 0
    [log] = tx.decode_logs(vault.Deposit)
    assert (log.assets, log.shares) == (assets, assets * 10**DECIMALS_OFFSET - dead)


def test_buy_with_permit_reverts(kit, investor, chain):
    vault, token = kit.vault, kit.token
    fund(token, investor, 2 * 10**6)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, 2 * 10**6 - 1, deadline)
    with ape.reverts("vault: permit failed"):
        vault.buy_with_permit(2 * 10**6, investor, 0, deadline, v, r, s, sender=investor)
    with ape.reverts("vault: deadline passed"):
        vault.buy_with_permit(
            2 * 10**6, investor, 0, chain.pending_timestamp - 1, v, r, s, sender=investor
        )
    assert vault.totalSupply() == 0


def test_buy_with_permit_front_run(kit, investor, attacker, chain):
    """A permit used by someone else first does not block the buy (the allowance is there)."""
    vault, token = kit.vault, kit.token
    fund(token, investor, 2 * 10**6)
    deadline = chain.pending_timestamp + 3_600
    v, r, s = permit_signature(token, investor, vault, 2 * 10**6, deadline)
    token.permit(investor, vault, 2 * 10**6, deadline, v, r, s, sender=attacker)
    vault.buy_with_permit(2 * 10**6, investor, 0, deadline, v, r, s, sender=investor)
    assert vault.balanceOf(investor) == 10**12


def test_nav_with_gpu(kit, registry, operator, investor, gpu, chain):
    """Conversions follow NAV = free cash + collateral value, rounding against the caller; the
    collateral value is the schedule's line at the block (reference from its sums)."""
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    contribute(collateral, registry, operator, gpu())
    buy(vault, token, investor, 12_345 * 10**6)
    chain.pending_timestamp += 10 * DAY
    chain.mine()
    now = chain.blocks.head.timestamp
    value = collateral_value_at(collateral, now)
    assert collateral_value(vault) == value == collateral.value()
    total, supply = vault.totalAssets(), vault.totalSupply()
    assert total == vault.free_cash() + value == 12_345 * 10**6 + value
    assets = 12_345 * 10**6 + 7
    assert vault.convertToShares(assets) == to_shares(assets, total, supply)
    assert vault.convertToAssets(10**15) == to_assets(10**15, total, supply)
    assert vault.previewDeposit(assets) == to_shares(assets, total, supply)
    assert vault.previewRedeem(10**15) == to_assets(10**15, total, supply)
    assert vault.previewWithdraw(assets) == to_shares(assets, total, supply, roundup=True)
    assert vault.previewMint(10**15) == to_assets(10**15, total, supply, roundup=True)


def test_deposit_priced_at_the_block(kit, registry, operator, investor, gpu, chain):
    """A deposit is priced from the collateral value of its own block (the line moves every
    second), not from the view of the block before."""
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    contribute(collateral, registry, operator, gpu())
    assets = 50_000 * 10**6
    fund(token, investor, assets)
    token.approve(vault, assets, sender=investor)
    chain.pending_timestamp += 3 * DAY
    supply = vault.totalSupply()
    tx = vault.deposit(assets, investor, sender=investor)
    total = collateral_value_at(collateral, tx.timestamp)
    assert total < collateral_value_at(collateral, tx.timestamp - 1)
    assert vault.balanceOf(investor) == to_shares(assets, total, supply)


def test_flat_gpu_keeps_its_value(kit, registry, operator, flat_gpu, chain):
    """The set-up the max* tests rely on: a GPU whose salvage is its cost has one value."""
    collateral = kit.collateral
    contribute(collateral, registry, operator, flat_gpu())
    value = FLAT_COST * ADVANCE_RATE_BPS // BPS - 1
    assert collateral_value(kit.vault) == value
    chain.pending_timestamp += 20 * DAY
    chain.mine()
    assert collateral_value(kit.vault) == value
