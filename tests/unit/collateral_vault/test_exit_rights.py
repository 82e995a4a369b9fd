"""Finding g, "claim ignores identity", and the Decision "Exit rights": a holder whose
verification was revoked or expired can still redeem, withdraw, sell and claim to its own address;
paying anyone else needs both sides verified; an unverified receiver is refused even when the
holder is verified. Stablecoin leaves only to the holder or to a verified address."""

import ape
import pytest

from tests.utils.vault import (
    DAY,
    JURISDICTION,
    OWNER_NOT_VERIFIED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    RevenueModel,
    collateral_value_at,
    logs_of,
    to_assets,
    to_shares,
)


@pytest.fixture(params=["revoked", "expired"])
def exiled(request, leased_kit, leased, lessee, investor, identity, compliance, chain):
    """The investor holds fractions and vested revenue, then loses its verification (revoked by
    compliance, or expired). Returns how."""
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    if request.param == "revoked":
        chain.pending_timestamp += 10 * DAY
        identity.revoke(investor, sender=compliance)
    else:
        identity.verify(investor, chain.pending_timestamp + DAY, JURISDICTION, sender=compliance)
        chain.pending_timestamp += 10 * DAY
    chain.mine()
    assert not identity.is_verified(investor)
    return request.param


def test_redeem_to_itself(leased_kit, exiled, investor):
    vault, token = leased_kit.vault, leased_kit.token
    shares = vault.balanceOf(investor) // 4
    assert vault.maxRedeem(investor) == vault.balanceOf(investor)
    cash, supply = vault.free_cash(), vault.totalSupply()
    tx = vault.redeem(shares, investor, investor, sender=investor)
    # Priced at the NAV of its own block (the GPUs' line moves every second).
    total = cash + collateral_value_at(leased_kit.collateral, tx.timestamp)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.receiver, log.owner, log.shares) == (investor, investor, shares)
    assert log.assets == to_assets(shares, total, supply) == token.balanceOf(investor)


def test_withdraw_to_itself(leased_kit, exiled, investor):
    vault, token = leased_kit.vault, leased_kit.token
    before = vault.balanceOf(investor)
    cash, supply = vault.free_cash(), vault.totalSupply()
    assert vault.maxWithdraw(investor) > 10**9
    tx = vault.withdraw(10**9, investor, investor, sender=investor)
    total = cash + collateral_value_at(leased_kit.collateral, tx.timestamp)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.sender, log.receiver, log.owner, log.assets) == (
        investor,
        investor,
        investor,
        10**9,
    )
    assert log.shares == to_shares(10**9, total, supply, roundup=True)
    assert vault.balanceOf(investor) == before - log.shares
    assert token.balanceOf(investor) == 10**9


def test_sell_to_itself(leased_kit, exiled, investor, chain):
    vault, token = leased_kit.vault, leased_kit.token
    shares = vault.balanceOf(investor)
    cash, supply = vault.free_cash(), vault.totalSupply()
    tx = vault.sell(shares, investor, 1, chain.pending_timestamp + DAY, sender=investor)
    total = cash + collateral_value_at(leased_kit.collateral, tx.timestamp)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.owner, log.receiver, log.shares) == (investor, investor, shares)
    assert token.balanceOf(investor) == log.assets == to_assets(shares, total, supply)
    assert vault.balanceOf(investor) == 0


def test_claim_to_itself(leased_kit, exiled, investor, chain):
    vault, token = leased_kit.vault, leased_kit.token
    model = RevenueModel.read(vault, (investor,))
    balance, supply = vault.balanceOf(investor), vault.totalSupply()
    tx = vault.claim(sender=investor)
    amount = model.claim(investor, balance, supply, tx.timestamp)
    [log] = logs_of(tx, vault, "RevenueClaimed")
    assert (log.account, log.receiver, log.amount) == (investor, investor, amount)
    assert token.balanceOf(investor) == amount > 0
    # Naming itself as the receiver is the same exit.
    chain.pending_timestamp = tx.timestamp + 60
    tx = vault.claim(investor, sender=investor)
    amount = model.claim(investor, balance, supply, tx.timestamp)
    assert logs_of(tx, vault, "RevenueClaimed")[0].amount == amount > 0
    model.assert_matches(vault, (investor,))


def test_paying_anyone_else_needs_verification(
    leased_kit, exiled, investor, other_investor, operator, chain
):
    vault, token = leased_kit.vault, leased_kit.token
    deadline = chain.pending_timestamp + DAY
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.redeem(10**12, other_investor, investor, sender=investor)
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.withdraw(10**6, other_investor, investor, sender=investor)
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.sell(10**12, other_investor, 0, deadline, sender=investor)
    with ape.reverts(SENDER_NOT_VERIFIED):
        vault.claim(other_investor, sender=investor)
    with ape.reverts(SENDER_NOT_VERIFIED):
        vault.transfer(other_investor, 1, sender=investor)
    # A spender it approved earlier cannot take the stablecoin either, only pay the owner.
    vault.approve(operator, 2 * 10**12, sender=investor)
    with ape.reverts(OWNER_NOT_VERIFIED):
        vault.redeem(10**12, operator, investor, sender=operator)
    tx = vault.redeem(10**12, investor, investor, sender=operator)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.sender, log.receiver, log.owner) == (operator, investor, investor)
    assert token.balanceOf(investor) == log.assets
    assert token.balanceOf(other_investor) == 0


def test_max_views_ignore_the_owners_identity(leased_kit, exiled, investor, other_investor):
    """maxWithdraw and maxRedeem describe the exit to oneself: no identity in them; maxDeposit and
    maxMint are 0 for a receiver that is not verified."""
    vault = leased_kit.vault
    total, supply, cash = vault.totalAssets(), vault.totalSupply(), vault.free_cash()
    balance = vault.balanceOf(investor)
    assert vault.maxRedeem(investor) == balance
    assert vault.maxWithdraw(investor) == min(to_assets(balance, total, supply), cash)
    assert vault.maxDeposit(investor) == 0
    assert vault.maxMint(investor) == 0
    assert vault.maxDeposit(other_investor) > 0


def test_unverified_receiver_refused_for_verified_holder(
    leased_kit, leased, lessee, investor, attacker, chain
):
    vault, token = leased_kit.vault, leased_kit.token
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    chain.pending_timestamp += DAY
    deadline = chain.pending_timestamp + DAY
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.redeem(10**12, attacker, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.withdraw(10**6, attacker, investor, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.sell(10**12, attacker, 0, deadline, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.claim(attacker, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.transfer(attacker, 1, sender=investor)
    assert token.balanceOf(attacker) == 0


def test_verified_holder_pays_a_verified_receiver(
    leased_kit, leased, lessee, investor, other_investor
):
    vault, token = leased_kit.vault, leased_kit.token
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    supply, cash = vault.totalSupply(), vault.free_cash()
    assets = 10**6
    tx = vault.withdraw(assets, other_investor, investor, sender=investor)
    total = cash + collateral_value_at(leased_kit.collateral, tx.timestamp)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.receiver, log.owner, log.assets) == (other_investor, investor, assets)
    assert log.shares == to_shares(assets, total, supply, roundup=True)
    assert token.balanceOf(other_investor) == assets
    assert vault.free_cash() == cash - assets
