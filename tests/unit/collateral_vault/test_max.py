"""ERC-4626 conformance (issue 6, item j): each max* is exactly what its call accepts. For every
bound that can be the binding one, the call with the max succeeds with the exact result and the
call with max + 1 reverts with the exact reason. The references (tests/utils/vault.py) find the
largest accepted amount by trying amounts against the caps, not by the contract's closed forms.

The caps need amounts near 2**127: the pools here are over an 18-decimal MockUSDC that admin
mints (its faucet is capped per call). A "high price" pool (a GPU worth 0.8 * 2**96 bought for
1 wei into a pool of 2 tokens) makes MAX_CASH the binding bound. Pools hold only cash and GPUs
whose value never changes, so a view in one block and the call in the next see the same NAV.
Pending maturities: test_max_pending.py."""

import ape
import pytest

from tests.unit.collateral_vault.conftest import FLAT_COST
from tests.utils.market import sell_gpu
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    BPS,
    MAX_CASH,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SUPPLY_CAP,
    VIRTUAL_SHARES,
    buy,
    contribute,
    logs_of,
    max_deposit,
    max_mint,
    max_redeem,
    max_withdraw,
    mint_to,
    smallest_flows_refused,
    to_assets,
    to_shares,
)

SUPPLY_CAP_REASON = "vault: supply cap"
CASH_CAP = "vault: cash cap"
BURN_EXCEEDS = "erc20: burn amount exceeds balance"
NO_CASH = "vault: insufficient free cash"
ZERO_ASSETS = "vault: zero assets"
DEAD18 = 10**24


def state(vault) -> tuple[int, int, int]:
    return vault.totalAssets(), vault.totalSupply(), vault.free_cash()


def funded(kit, admin, account, amount: int) -> None:
    mint_to(kit.token, admin, account, amount)
    kit.token.approve(kit.vault, 2**256 - 1, sender=account)


@pytest.fixture
def holders18(kit18, admin, investor, other_investor):
    """kit18 with two holders: 1,000 tokens from other_investor, then 250 from the investor."""
    vault = kit18.vault
    funded(kit18, admin, other_investor, 1_000 * 10**18)
    vault.deposit(1_000 * 10**18, other_investor, sender=other_investor)
    funded(kit18, admin, investor, 250 * 10**18)
    vault.deposit(250 * 10**18, investor, sender=investor)
    return kit18


@pytest.fixture
def high_price(kit18, registry, admin, operator, investor, flat_gpu):
    """kit18 priced high: 2 tokens deposited (half of them dead), then a GPU worth
    0.8 * 2**96 wei bought for 1 wei. A fraction unit is then worth ~3e4 wei, so MAX_CASH binds
    deposits and mints long before the supply cap."""
    vault = kit18.vault
    funded(kit18, admin, investor, 2 * 10**18)
    vault.deposit(2 * 10**18, investor, sender=investor)
    sell_gpu(kit18.market, registry, operator, flat_gpu(), 1)
    value = FLAT_COST * ADVANCE_RATE_BPS // BPS - 1
    assert state(vault) == (2 * 10**18 - 1 + value, 2 * DEAD18, 2 * 10**18 - 1)
    return kit18


# maxDeposit #


def test_max_deposit_first_mint_supply_cap(kit18, admin, investor):
    """Empty vault: the supply cap binds, the dead shares counted in the supply minted."""
    vault = kit18.vault
    assert state(vault) == (0, 0, 0)
    expected = max_deposit(0, 0, 0)
    assert expected == (SUPPLY_CAP - 1) // VIRTUAL_SHARES
    assert vault.maxDeposit(investor) == expected
    funded(kit18, admin, investor, expected + 1)
    with ape.reverts(SUPPLY_CAP_REASON):
        vault.deposit(expected + 1, investor, sender=investor)
    tx = vault.deposit(expected, investor, sender=investor)
    minted = to_shares(expected, 0, 0)
    assert logs_of(tx, vault, "Deposit")[0].shares == minted - DEAD18 == vault.balanceOf(investor)
    assert vault.balanceOf(vault) == DEAD18
    assert vault.totalSupply() == minted < SUPPLY_CAP
    assert vault.maxDeposit(investor) == max_deposit(*state(vault)) == 0


def test_max_deposit_supply_cap(holders18, admin, investor):
    vault = holders18.vault
    total, supply, cash = state(vault)
    expected = max_deposit(total, supply, cash)
    assert expected < MAX_CASH - cash  # the supply binds
    assert vault.maxDeposit(investor) == expected
    funded(holders18, admin, investor, expected + 1)
    with ape.reverts(SUPPLY_CAP_REASON):
        vault.deposit(expected + 1, investor, sender=investor)
    before = vault.balanceOf(investor)
    tx = vault.deposit(expected, investor, sender=investor)
    shares = to_shares(expected, total, supply)
    assert logs_of(tx, vault, "Deposit")[0].shares == shares
    assert vault.balanceOf(investor) == before + shares
    assert SUPPLY_CAP - VIRTUAL_SHARES <= vault.totalSupply() < SUPPLY_CAP
    assert vault.maxDeposit(investor) == max_deposit(*state(vault))


def test_max_deposit_cash_cap(high_price, admin, investor):
    vault = high_price.vault
    total, supply, cash = state(vault)
    expected = max_deposit(total, supply, cash)
    assert expected == MAX_CASH - cash  # MAX_CASH binds
    assert vault.maxDeposit(investor) == expected
    funded(high_price, admin, investor, expected + 1)
    with ape.reverts(CASH_CAP):
        vault.deposit(expected + 1, investor, sender=investor)
    tx = vault.deposit(expected, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].shares == to_shares(expected, total, supply)
    assert vault.free_cash() == MAX_CASH
    # Full: nothing more goes in, by deposit or mint.
    assert vault.maxDeposit(investor) == vault.maxMint(investor) == 0
    smallest_flows_refused(vault, investor, CASH_CAP, exits=False)


# maxMint #


def test_max_mint_first_mint_supply_cap(kit18, admin, investor):
    """Empty vault: the first mint also pays for the dead shares, which count in the supply."""
    vault = kit18.vault
    expected = max_mint(0, 0, 0, DEAD18)
    assert expected == SUPPLY_CAP - 1 - DEAD18
    assert vault.maxMint(investor) == expected
    cost = to_assets(expected + DEAD18, 0, 0, roundup=True)
    assert vault.previewMint(expected) == cost
    funded(kit18, admin, investor, cost + 1)
    with ape.reverts(SUPPLY_CAP_REASON):
        vault.mint(expected + 1, investor, sender=investor)
    tx = vault.mint(expected, investor, sender=investor)
    [log] = logs_of(tx, vault, "Deposit")
    assert (log.assets, log.shares) == (cost, expected)
    assert vault.totalSupply() == SUPPLY_CAP - 1
    assert vault.balanceOf(vault) == DEAD18
    # At the cap: maxMint and maxDeposit are 0, and 1 more of either reverts.
    assert vault.maxMint(investor) == vault.maxDeposit(investor) == 0
    smallest_flows_refused(vault, investor, SUPPLY_CAP_REASON, exits=False)


def test_max_mint_supply_cap(holders18, admin, investor):
    vault = holders18.vault
    total, supply, cash = state(vault)
    expected = max_mint(total, supply, cash, DEAD18)
    assert expected == SUPPLY_CAP - 1 - supply  # the supply binds (the old maxMint was one more)
    assert vault.maxMint(investor) == expected
    cost = to_assets(expected, total, supply, roundup=True)
    assert vault.previewMint(expected) == cost
    funded(holders18, admin, investor, cost + 1)
    with ape.reverts(SUPPLY_CAP_REASON):
        vault.mint(expected + 1, investor, sender=investor)
    tx = vault.mint(expected, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].assets == cost
    assert vault.totalSupply() == SUPPLY_CAP - 1
    assert vault.maxMint(investor) == 0


def test_max_mint_cash_cap(high_price, admin, investor):
    vault = high_price.vault
    total, supply, cash = state(vault)
    expected = max_mint(total, supply, cash, DEAD18)
    assert expected == (MAX_CASH - cash) * (supply + VIRTUAL_SHARES) // (total + 1)
    assert expected < SUPPLY_CAP - 1 - supply  # MAX_CASH binds
    assert vault.maxMint(investor) == expected
    cost = to_assets(expected, total, supply, roundup=True)
    assert cash + cost <= MAX_CASH < cash + to_assets(expected + 1, total, supply, roundup=True)
    funded(high_price, admin, investor, MAX_CASH)
    with ape.reverts(CASH_CAP):
        vault.mint(expected + 1, investor, sender=investor)
    tx = vault.mint(expected, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].assets == cost
    assert vault.free_cash() == cash + cost
    assert vault.maxMint(investor) == max_mint(*state(vault), DEAD18) == 0


def test_max_deposit_and_mint_zero_when_the_cash_room_buys_no_fraction(high_price, admin, investor):
    """Cash 1,000 wei below MAX_CASH, one fraction unit worth ~3e4 wei: maxMint is 0 (not a mint
    that reverts), and so is maxDeposit: 1,000 wei fit under the cash cap but buy no fraction, so
    no deposit is accepted (the ERC-4626 max is what the call accepts, as maxRedeem does for
    dust)."""
    vault = high_price.vault
    total, supply, cash = state(vault)
    funded(high_price, admin, investor, MAX_CASH)
    vault.deposit(MAX_CASH - cash - 1_000, investor, sender=investor)
    total, supply, cash = state(vault)
    assert cash == MAX_CASH - 1_000
    assert to_assets(1, total, supply, roundup=True) > 1_000
    assert vault.maxMint(investor) == max_mint(total, supply, cash, DEAD18) == 0
    with ape.reverts(CASH_CAP):
        vault.mint(1, investor, sender=investor)
    with ape.reverts(CASH_CAP):
        vault.deposit(1_001, investor, sender=investor)
    with ape.reverts("vault: zero shares"):
        vault.deposit(1_000, investor, sender=investor)
    assert max_deposit(total, supply, cash) == 0
    assert vault.maxDeposit(investor) == 0, "maxDeposit offers 1,000 wei that deposit refuses"


# maxWithdraw #


def test_max_withdraw_balance(holders18, investor):
    vault, token = holders18.vault, holders18.token
    total, supply, cash = state(vault)
    balance = vault.balanceOf(investor)
    expected = max_withdraw(balance, total, supply, cash)
    assert expected == to_assets(balance, total, supply) < cash  # the balance binds
    assert vault.maxWithdraw(investor) == expected
    with ape.reverts(BURN_EXCEEDS):
        vault.withdraw(expected + 1, investor, investor, sender=investor)
    tx = vault.withdraw(expected, investor, investor, sender=investor)
    burnt = to_shares(expected, total, supply, roundup=True)
    assert logs_of(tx, vault, "Withdraw")[0].shares == burnt <= balance
    assert vault.balanceOf(investor) == balance - burnt
    assert token.balanceOf(investor) == expected
    assert vault.maxWithdraw(investor) == 0


def test_max_withdraw_free_cash(kit18, registry, admin, operator, investor, flat_gpu):
    """The operator's fractions (a contributed GPU) are worth more than the free cash."""
    vault, token = kit18.vault, kit18.token
    contribute(kit18.collateral, registry, operator, flat_gpu())
    funded(kit18, admin, investor, 10**28)
    vault.deposit(10**28, investor, sender=investor)
    total, supply, cash = state(vault)
    balance = vault.balanceOf(operator)
    expected = max_withdraw(balance, total, supply, cash)
    assert expected == cash < to_assets(balance, total, supply)  # free cash binds
    assert vault.maxWithdraw(operator) == expected
    with ape.reverts(NO_CASH):
        vault.withdraw(expected + 1, operator, operator, sender=operator)
    tx = vault.withdraw(expected, operator, operator, sender=operator)
    burnt = to_shares(expected, total, supply, roundup=True)
    assert logs_of(tx, vault, "Withdraw")[0].shares == burnt
    assert vault.free_cash() == 0
    assert token.balanceOf(operator) == cash
    assert vault.maxWithdraw(operator) == vault.maxRedeem(operator) == 0


# maxRedeem #


def test_max_redeem_balance(holders18, investor):
    vault, token = holders18.vault, holders18.token
    total, supply, cash = state(vault)
    balance = vault.balanceOf(investor)
    assert vault.maxRedeem(investor) == max_redeem(balance, total, supply, cash) == balance
    with ape.reverts(BURN_EXCEEDS):
        vault.redeem(balance + 1, investor, investor, sender=investor)
    tx = vault.redeem(balance, investor, investor, sender=investor)
    assets = to_assets(balance, total, supply)
    assert logs_of(tx, vault, "Withdraw")[0].assets == assets == token.balanceOf(investor)
    assert vault.maxRedeem(investor) == 0


def test_max_redeem_free_cash(kit18, registry, admin, operator, investor, flat_gpu):
    vault, token = kit18.vault, kit18.token
    contribute(kit18.collateral, registry, operator, flat_gpu())
    funded(kit18, admin, investor, 10**28 + 7)
    vault.deposit(10**28 + 7, investor, sender=investor)
    total, supply, cash = state(vault)
    balance = vault.balanceOf(operator)
    expected = max_redeem(balance, total, supply, cash)
    assert expected == ((cash + 1) * (supply + VIRTUAL_SHARES) - 1) // (total + 1) < balance
    assert vault.maxRedeem(operator) == expected
    assert to_assets(expected + 1, total, supply) == cash + 1
    with ape.reverts(NO_CASH):
        vault.redeem(expected + 1, operator, operator, sender=operator)
    tx = vault.redeem(expected, operator, operator, sender=operator)
    assets = to_assets(expected, total, supply)
    assert logs_of(tx, vault, "Withdraw")[0].assets == assets == token.balanceOf(operator)
    assert cash - assets < to_assets(1, total, supply, roundup=True)  # the last unit's worth
    assert vault.maxRedeem(operator) == max_redeem(vault.balanceOf(operator), *state(vault))


def test_max_redeem_and_withdraw_zero_for_dust(kit, investor, other_investor):
    """A holding worth less than one wei: maxRedeem is 0 (its redeem would pay nothing), and so is
    maxWithdraw; one more reverts with the exact reason."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    vault.transfer(other_investor, 10**6 - 1, sender=investor)
    total, supply, cash = state(vault)
    balance = vault.balanceOf(other_investor)
    assert to_assets(balance, total, supply) == 0
    assert vault.maxRedeem(other_investor) == max_redeem(balance, total, supply, cash) == 0
    assert vault.maxWithdraw(other_investor) == max_withdraw(balance, total, supply, cash) == 0
    with ape.reverts(ZERO_ASSETS):
        vault.redeem(1, other_investor, other_investor, sender=other_investor)
    with ape.reverts(ZERO_ASSETS):
        vault.redeem(balance, other_investor, other_investor, sender=other_investor)
    with ape.reverts(BURN_EXCEEDS):
        vault.withdraw(1, other_investor, other_investor, sender=other_investor)
    # One more share unit makes it worth one wei: then the max is the whole balance.
    vault.transfer(other_investor, 1, sender=investor)
    assert vault.maxRedeem(other_investor) == 10**6
    assert vault.maxWithdraw(other_investor) == 1


def test_max_redeem_zero_when_free_cash_pays_nothing(kit, registry, operator, flat_gpu):
    """All NAV in a GPU, no free cash: the bound by cash pays 0, so maxRedeem is 0, not a redeem
    that would revert."""
    vault = kit.vault
    contribute(kit.collateral, registry, operator, flat_gpu(cost=30_000 * 10**6))
    total, supply, cash = state(vault)
    assert cash == 0
    balance = vault.balanceOf(operator)
    assert vault.maxRedeem(operator) == max_redeem(balance, total, supply, cash) == 0
    assert vault.maxWithdraw(operator) == 0
    with ape.reverts(ZERO_ASSETS):
        vault.redeem(1, operator, operator, sender=operator)
    with ape.reverts(NO_CASH):
        vault.withdraw(1, operator, operator, sender=operator)


# Paused, unverified #


def test_max_zero_while_paused(holders18, pauser, investor):
    vault = holders18.vault
    assert all(
        view(investor) > 0
        for view in (vault.maxDeposit, vault.maxMint, vault.maxWithdraw, vault.maxRedeem)
    )
    vault.pause(sender=pauser)
    for view in (vault.maxDeposit, vault.maxMint, vault.maxWithdraw, vault.maxRedeem):
        assert view(investor) == 0
    smallest_flows_refused(vault, investor, PAUSED)


def test_max_zero_for_an_unverified_receiver(holders18, admin, investor, attacker):
    vault = holders18.vault
    assert vault.maxDeposit(attacker) == vault.maxMint(attacker) == 0
    funded(holders18, admin, investor, 10**18)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.deposit(1, attacker, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.mint(1, attacker, sender=investor)
    # Exit views are not about the receiver: an address holding nothing can take nothing.
    assert vault.maxWithdraw(attacker) == vault.maxRedeem(attacker) == 0
