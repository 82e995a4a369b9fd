"""Finding i, "donations": `skim()` (anyone) streams the stablecoin the vault holds beyond its
books (free cash + revenue held + accrued fees) to holders like revenue: vested, with no fee, so
a donation never moves the price and nobody captures it by buying just before. Allowed while
paused (it moves no cash out)."""

import copy

import pytest
from ape import Contract

from tests.unit.collateral_vault.conftest import INSTALMENT
from tests.utils.vault import (
    DAY,
    FEE_BPS,
    VESTING_PERIOD,
    RevenueModel,
    accounted_cash,
    buy,
    check_conservation_all,
    fund,
    logs_of,
    to_assets,
)

DONATION = 7_777 * 10**6 + 7


def donate(token, donor, vault, amount: int) -> None:
    fund(token, donor, amount)
    token.transfer(vault, amount, sender=donor)


def skim(vault, model, sender):
    """Skim and check the event against the model (the donation is the vault's balance beyond its
    books). Returns (receipt, donation)."""
    donation = Contract(vault.asset()).balanceOf(vault) - accounted_cash(vault)
    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    tx = vault.skim(sender=sender)
    rate, end, recycled = model.distribute(donation, supply, vault, dead, tx.timestamp)
    [log] = logs_of(tx, vault, "Skimmed")
    assert (log.donation, log.recycled, log.rate, log.vesting_end) == (
        donation,
        recycled,
        rate,
        end,
    )
    return tx, donation


def test_skim_streams_a_donation(leased_kit, leased, lessee, investor, operator, attacker, chain):
    vault, token = leased_kit.vault, leased_kit.token
    holders = (investor, operator)
    leased_kit.leases.pay_instalment(leased[0], sender=lessee)  # fees accrued: outside the donation
    fees = vault.accrued_fees()
    assert fees == INSTALMENT * FEE_BPS // 10_000
    chain.pending_timestamp += 3 * DAY
    donate(token, attacker, vault, DONATION)
    model = RevenueModel.read(vault, holders)
    before = copy.deepcopy(model)
    received, held, cash = vault.received(), vault.held(), vault.free_cash()
    tx, donation = skim(vault, model, attacker)
    assert donation == DONATION
    model.assert_matches(vault, holders)
    # Unvested grows by the donation (and the dead shares' recycled revenue), to the wei but for
    # the floor of the scaled rest.
    supply = vault.totalSupply()
    grown = vault.unvested() - before.unvested(supply, tx.timestamp)
    recycled = logs_of(tx, vault, "Skimmed")[0].recycled
    assert DONATION + recycled <= grown <= DONATION + recycled + 1
    assert vault.received() == received + DONATION
    assert vault.held() == held + DONATION
    assert (vault.free_cash(), vault.accrued_fees()) == (cash, fees)  # no fee, not in NAV
    assert token.balanceOf(vault) == accounted_cash(vault)
    assert vault.unvested() == model.unvested(supply, tx.timestamp)
    # The donation joins the unvested rest: the line is redrawn, never delayed.
    assert model.end == tx.timestamp + VESTING_PERIOD
    chain.mine(timestamp=tx.timestamp + VESTING_PERIOD)
    check_conservation_all(vault, holders, claimed=0)
    assert vault.unvested() == 0


def test_a_donation_never_moves_the_price(kit, investor, other_investor, attacker):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10_000 * 10**6)
    buy(vault, token, other_investor, 3_333 * 10**6 + 1)
    total, supply = vault.totalAssets(), vault.totalSupply()
    price = vault.convertToAssets(10**18)
    donate(token, attacker, vault, DONATION)
    assert (vault.totalAssets(), vault.convertToAssets(10**18)) == (total, price)
    tx = vault.skim(sender=attacker)
    assert logs_of(tx, vault, "Skimmed")[0].donation == DONATION
    assert (vault.totalAssets(), vault.totalSupply()) == (total, supply)
    assert vault.convertToAssets(10**18) == price == to_assets(10**18, total, supply)
    assert vault.previewRedeem(vault.balanceOf(investor)) == to_assets(
        vault.balanceOf(investor), total, supply
    )


def test_nobody_captures_a_donation_by_buying_before(
    kit, investor, other_investor, attacker, chain
):
    """A front-runner buys a large stake right before the skim and sells right after: it gets its
    money back at the unchanged price and only the few seconds of stream it held for, pro rata."""
    vault, token = kit.vault, kit.token
    holders = (investor, other_investor)
    buy(vault, token, investor, 10_000 * 10**6)
    donate(token, attacker, vault, DONATION)
    model = RevenueModel.read(vault, holders)
    stake = 90_000 * 10**6
    fund(token, other_investor, stake)
    token.approve(vault, stake, sender=other_investor)
    supply = vault.totalSupply()
    tx = vault.deposit(stake, other_investor, sender=other_investor)
    model.mint(other_investor, 0, supply, tx.timestamp)
    tx, _ = skim(vault, model, other_investor)
    skimmed_at = tx.timestamp
    shares, supply = vault.balanceOf(other_investor), vault.totalSupply()
    chain.pending_timestamp = skimmed_at + 1
    tx = vault.redeem(shares, other_investor, other_investor, sender=other_investor)
    model.burn(other_investor, shares, supply, tx.timestamp)
    model.assert_matches(vault, holders)
    assert token.balanceOf(other_investor) == logs_of(tx, vault, "Withdraw")[0].assets <= stake
    captured = vault.claimable(other_investor)
    assert captured == model.claimable(other_investor, 0, supply - shares, tx.timestamp)
    # One second of a 30-day line, 90% of the supply: about 0.9 / 2,592,000 of the donation.
    assert captured <= DONATION * shares // supply // VESTING_PERIOD + 1
    chain.mine(timestamp=skimmed_at + VESTING_PERIOD)
    assert vault.claimable(investor) > DONATION * 99 // 100 - captured
    check_conservation_all(vault, holders, claimed=0)


def test_skim_with_nothing_to_skim(kit, investor, attacker):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10_000 * 10**6)
    holders = (investor,)
    model = RevenueModel.read(vault, holders)
    received = vault.received()
    tx, donation = skim(vault, model, attacker)
    assert donation == 0
    [log] = logs_of(tx, vault, "Skimmed")
    assert (log.donation, log.recycled, log.rate) == (0, 0, 0)
    assert log.vesting_end == tx.timestamp + VESTING_PERIOD
    model.assert_matches(vault, holders)
    assert vault.received() == received == 0
    assert vault.unvested() == 0


def test_skim_twice_streams_a_donation_once(kit, investor, attacker, chain):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10_000 * 10**6)
    donate(token, attacker, vault, DONATION)
    model = RevenueModel.read(vault, (investor,))
    skim(vault, model, attacker)
    chain.pending_timestamp += DAY
    _, donation = skim(vault, model, attacker)
    assert donation == 0
    model.assert_matches(vault, (investor,))
    assert vault.received() == DONATION


@pytest.mark.parametrize("donation", [1, DONATION])
def test_skim_allowed_while_paused(kit, investor, attacker, pauser, chain, donation):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10_000 * 10**6)
    vault.pause(sender=pauser)
    donate(token, attacker, vault, donation)
    model = RevenueModel.read(vault, (investor,))
    tx, skimmed = skim(vault, model, attacker)
    assert skimmed == donation
    model.assert_matches(vault, (investor,))
    assert vault.paused()
    chain.mine(timestamp=tx.timestamp + VESTING_PERIOD)
    check_conservation_all(vault, (investor,), claimed=0)
