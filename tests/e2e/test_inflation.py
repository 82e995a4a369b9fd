"""Empty-vault inflation / donation attack: unprofitable, and the victim loses at most 0.1%.

The first mint locks DEAD_SHARES (one whole fraction, 10**12 units) with the vault, paid by the
first buyer: being first costs the price of a whole fraction more, and the vault's cash is
accounted internally, so a donation moves no price (it is streamed to holders by `skim`)."""

import ape
import pytest

from tests.utils.vault import JURISDICTION, buy, fund

DEAD_SHARES = 10**12
# The least first deposit: it mints assets * 10**6 units, which must exceed DEAD_SHARES.
FIRST_MIN = 10**6 + 1


@pytest.fixture
def first_in(kit, attacker, compliance, identity):
    """The attacker, verified, is first in with the least the dead shares allow."""
    vault, token = kit.vault, kit.token
    identity.verify(attacker, 2**40, JURISDICTION, sender=compliance)
    fund(token, attacker, 10**6)
    token.approve(vault, 10**6, sender=attacker)
    with ape.reverts("vault: first mint below dead shares"):
        vault.deposit(10**6, attacker, sender=attacker)
    buy(vault, token, attacker, FIRST_MIN)
    assert vault.balanceOf(attacker) == FIRST_MIN * 10**6 - DEAD_SHARES == 10**6
    assert vault.balanceOf(vault) == vault.DEAD_SHARES() == DEAD_SHARES
    return attacker


@pytest.mark.parametrize("donation", [10**6, 10_000 * 10**6, 1_000_000 * 10**6])
def test_donation_attack(kit, first_in, investor, donation):
    vault, token, attacker = kit.vault, kit.token, first_in
    # 1. It donates straight to the vault: internal accounting ignores it.
    fund(token, attacker, donation)
    token.transfer(vault, donation, sender=attacker)
    assert vault.totalAssets() == FIRST_MIN
    # 2. The victim deposits.
    deposit = 1_000 * 10**6
    buy(vault, token, investor, deposit)
    victim_value = vault.previewRedeem(vault.balanceOf(investor))
    assert victim_value * 1_000 >= deposit * 999
    # 3. The attacker exits with no more than it paid in (the donation and the dead shares'
    # price are lost to it).
    attacker_value = vault.previewRedeem(vault.balanceOf(attacker))
    assert attacker_value <= 1
    # 4. Skimmed, the donation streams to holders pro rata: the attacker's 10**6 units of a
    # supply of ~10**15 get a millionth of it at most.
    tx = vault.skim(sender=investor)
    (skimmed,) = vault.Skimmed.from_receipt(tx)
    assert skimmed.donation == donation
    assert vault.balanceOf(attacker) * 10**6 < vault.totalSupply()


def test_first_deposit_rounding_attack(kit, first_in, investor):
    """Without a donation route into NAV, rounding alone cannot steal from the next depositor:
    the virtual shares cap the victim's loss below 1e-6 of a stablecoin unit per share unit."""
    vault, token = kit.vault, kit.token
    for deposit in (1, 999, 10**6 + 1):
        shares_before = vault.balanceOf(investor)
        buy(vault, token, investor, deposit)
        got = vault.balanceOf(investor) - shares_before
        assert vault.previewRedeem(got) >= deposit - 1


def test_first_mint_pays_for_the_dead_shares(kit, investor):
    """`mint(x)` on an empty vault costs the price of x + DEAD_SHARES; after it, one unit costs
    one unit's price."""
    vault, token = kit.vault, kit.token
    assert vault.previewMint(1) == (DEAD_SHARES + 1 + 10**6 - 1) // 10**6 == 10**6 + 1
    fund(token, investor, 2 * 10**6)
    token.approve(vault, 2 * 10**6, sender=investor)
    tx = vault.mint(1, investor, sender=investor)
    (deposit,) = vault.Deposit.from_receipt(tx)
    assert (deposit.assets, deposit.shares) == (10**6 + 1, 1)
    assert (vault.balanceOf(investor), vault.balanceOf(vault)) == (1, DEAD_SHARES)
    assert vault.previewMint(1) == 1
