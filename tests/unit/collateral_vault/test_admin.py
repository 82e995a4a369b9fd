"""Constructor validation, roles, pause/unpause, fee setters."""

import ape
import pytest

from tests.utils.vault import (
    APPRAISER_ROLE,
    DAY,
    LEASE_MANAGER_ROLE,
    MAX_FEE_BPS,
    MISSING_ROLE,
    OPERATOR_ROLE,
    PAUSER_ROLE,
    logs_of,
)

GOOD = {
    "name": "Pool",
    "symbol": "P",
    "advance_rate_bps": 8_000,
    "fee_bps": 1_000,
    "vesting_period": 30 * DAY,
}


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"asset": "eoa"}, "vault: asset is not a contract"),
        ({"registry": "eoa"}, "vault: gpu registry is not a contract"),
        ({"identity": "eoa"}, "vault: identity registry is not a contract"),
        ({"name": ""}, "vault: empty name"),
        ({"symbol": ""}, "vault: empty symbol"),
        ({"advance_rate_bps": 0}, "vault: zero advance rate"),
        ({"advance_rate_bps": 10_001}, "vault: advance rate above 100%"),
        ({"fee_bps": MAX_FEE_BPS + 1}, "vault: fee above maximum"),
        ({"fee_recipient": "zero"}, "vault: zero fee recipient"),
        ({"vesting_period": DAY - 1}, "revenue: vesting period too short"),
        ({"vesting_period": 365 * DAY + 1}, "revenue: vesting period too long"),
    ],
)
def test_constructor_reverts(project, admin, usdc, registry, identity, override, reason):
    args = {
        "asset": usdc,
        "registry": registry,
        "identity": identity,
        **GOOD,
        "fee_recipient": admin,
    }
    for key, value in override.items():
        args[key] = {"eoa": admin, "zero": ape.utils.ZERO_ADDRESS}.get(value, value)
    with ape.reverts(reason):
        project.CollateralVault.deploy(
            args["asset"],
            args["registry"],
            args["identity"],
            args["name"],
            args["symbol"],
            args["advance_rate_bps"],
            args["fee_bps"],
            args["fee_recipient"],
            args["vesting_period"],
            sender=admin,
        )


def test_constructor(kit, admin):
    vault = kit.vault
    assert vault.ADVANCE_RATE_BPS() == 8_000
    assert vault.fee_bps() == 1_000
    assert vault.fee_recipient() == admin
    assert vault.vesting_period() == 30 * DAY
    assert vault.MAX_FEE_BPS() == MAX_FEE_BPS
    assert vault.DECIMALS_OFFSET() == 6
    assert vault.hasRole(b"\x00" * 32, admin)
    for role in (OPERATOR_ROLE, APPRAISER_ROLE, PAUSER_ROLE, LEASE_MANAGER_ROLE):
        assert vault.getRoleAdmin(role) == b"\x00" * 32
    assert vault.hasRole(LEASE_MANAGER_ROLE, kit.leases)
    assert not vault.paused()


def test_pause_unpause(kit, admin, pauser, attacker):
    vault = kit.vault
    with ape.reverts(MISSING_ROLE):
        vault.pause(sender=attacker)
    tx = vault.pause(sender=pauser)
    assert vault.paused()
    assert logs_of(tx, vault, "Paused")[0].account == pauser
    with ape.reverts("pausable: contract is paused"):
        vault.pause(sender=pauser)
    with ape.reverts(MISSING_ROLE):
        vault.unpause(sender=pauser)
    tx = vault.unpause(sender=admin)
    assert not vault.paused()
    assert logs_of(tx, vault, "Unpaused")[0].account == admin
    with ape.reverts("pausable: contract is not paused"):
        vault.unpause(sender=admin)


def test_set_fee_bps(kit, admin, attacker):
    vault = kit.vault
    tx = vault.set_fee_bps(MAX_FEE_BPS, sender=admin)
    [log] = logs_of(tx, vault, "UpdateFeeBps")
    assert (log.previous, log.current) == (1_000, MAX_FEE_BPS)
    assert vault.fee_bps() == MAX_FEE_BPS
    with ape.reverts("vault: fee above maximum"):
        vault.set_fee_bps(MAX_FEE_BPS + 1, sender=admin)
    with ape.reverts(MISSING_ROLE):
        vault.set_fee_bps(0, sender=attacker)


def test_set_fee_recipient(kit, admin, attacker, operator):
    vault = kit.vault
    tx = vault.set_fee_recipient(operator, sender=admin)
    [log] = logs_of(tx, vault, "UpdateFeeRecipient")
    assert (log.previous, log.current) == (admin, operator)
    with ape.reverts("vault: zero fee recipient"):
        vault.set_fee_recipient(ape.utils.ZERO_ADDRESS, sender=admin)
    with ape.reverts(MISSING_ROLE):
        vault.set_fee_recipient(attacker, sender=attacker)


def test_donation_stays_outside_the_books(kit, investor, attacker):
    """Invariant 4: a donation changes neither NAV nor the books; balance - books = donations."""
    from tests.utils.vault import accounted_cash, buy, fund

    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10**6)
    price = vault.convertToAssets(10**12)
    fund(token, attacker, 5 * 10**6)
    token.transfer(vault, 5 * 10**6, sender=attacker)
    assert vault.convertToAssets(10**12) == price
    assert token.balanceOf(vault) == accounted_cash(vault) + 5 * 10**6
