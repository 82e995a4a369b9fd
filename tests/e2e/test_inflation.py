"""Empty-vault inflation / donation attack: unprofitable, and the victim loses at most 0.1%."""

import pytest

from tests.utils.vault import buy, fund


@pytest.mark.parametrize("donation", [10**6, 10_000 * 10**6, 1_000_000 * 10**6])
def test_donation_attack(kit, attacker, investor, compliance, identity, donation):
    vault, token = kit.vault, kit.token
    identity.verify(attacker, 2**40, 276, sender=compliance)
    # 1. The attacker is first in, with 1 wei.
    buy(vault, token, attacker, 1)
    assert vault.balanceOf(attacker) == 10**6
    # 2. It donates straight to the vault: internal accounting ignores it.
    fund(token, attacker, donation)
    token.transfer(vault, donation, sender=attacker)
    assert vault.totalAssets() == 1
    # 3. The victim deposits.
    deposit = 1_000 * 10**6
    buy(vault, token, investor, deposit)
    victim_value = vault.previewRedeem(vault.balanceOf(investor))
    assert victim_value * 1_000 >= deposit * 999
    # 4. The attacker exits with no more than it paid in (the donation is lost to it).
    attacker_value = vault.previewRedeem(vault.balanceOf(attacker))
    assert attacker_value <= 1


def test_first_deposit_rounding_attack(kit, attacker, investor, compliance, identity):
    """Without a donation route into NAV, rounding alone cannot steal from the next depositor:
    the virtual shares cap the victim's loss below 1e-6 of a stablecoin unit per share unit."""
    vault, token = kit.vault, kit.token
    identity.verify(attacker, 2**40, 276, sender=compliance)
    buy(vault, token, attacker, 1)
    for deposit in (1, 999, 10**6 + 1):
        shares_before = vault.balanceOf(investor)
        buy(vault, token, investor, deposit)
        got = vault.balanceOf(investor) - shares_before
        assert vault.previewRedeem(got) >= deposit - 1
