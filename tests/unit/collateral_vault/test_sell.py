"""Finding k, "redeem with a bound on-chain": `sell(shares, receiver, min_assets, deadline)`
redeems the caller's own fractions with a minimum of assets out and a deadline (the `buy` twin)."""

import ape

from tests.utils.market import sell_gpu
from tests.utils.vault import (
    DAY,
    PAUSED,
    buy,
    logs_of,
    to_assets,
)

SLIPPAGE = "vault: slippage: too few assets"
DEADLINE = "vault: deadline passed"


def test_sell(kit, investor, other_investor, chain):
    vault, token = kit.vault, kit.token
    buy(vault, token, other_investor, 3_000 * 10**6 + 17)
    buy(vault, token, investor, 1_000 * 10**6)
    shares = vault.balanceOf(investor) // 3 + 5
    total, supply = vault.totalAssets(), vault.totalSupply()
    assets = to_assets(shares, total, supply)
    assert vault.previewRedeem(shares) == assets
    deadline = chain.pending_timestamp + DAY
    with ape.reverts(SLIPPAGE):
        vault.sell(shares, investor, assets + 1, deadline, sender=investor)
    tx = vault.sell(shares, investor, assets, deadline, sender=investor)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        investor,
        investor,
        assets,
        shares,
    )
    [burn] = logs_of(tx, vault, "Transfer")
    assert (burn.sender, burn.receiver, burn.value) == (investor, ape.utils.ZERO_ADDRESS, shares)
    assert token.balanceOf(investor) == assets
    assert vault.totalSupply() == supply - shares
    assert vault.free_cash() == total - assets


def test_sell_to_a_verified_receiver(kit, investor, other_investor, chain):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2_000 * 10**6)
    shares = vault.balanceOf(investor)
    total, supply = vault.totalAssets(), vault.totalSupply()
    assets = to_assets(shares, total, supply)
    tx = vault.sell(shares, other_investor, assets, chain.pending_timestamp + 60, sender=investor)
    [log] = logs_of(tx, vault, "Withdraw")
    assert (log.sender, log.receiver, log.owner) == (investor, other_investor, investor)
    assert token.balanceOf(other_investor) == assets
    assert vault.balanceOf(investor) == 0


def test_sell_deadline(kit, investor, chain):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    with ape.reverts(DEADLINE):
        vault.sell(10**12, investor, 0, chain.pending_timestamp - 1, sender=investor)
    # The deadline is the last second it goes through.
    deadline = chain.pending_timestamp + 100
    chain.pending_timestamp = deadline
    tx = vault.sell(10**12, investor, 10**6, deadline, sender=investor)
    assert tx.timestamp == deadline
    assert logs_of(tx, vault, "Withdraw")[0].assets == 10**6


def test_sell_only_the_callers_own(kit, investor, other_investor):
    """sell has no owner argument: an approved spender sells its own balance, never the
    owner's (that is what redeem with an allowance is for)."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 2 * 10**6)
    vault.approve(other_investor, 10**12, sender=investor)
    with ape.reverts("erc20: burn amount exceeds balance"):
        vault.sell(10**12, other_investor, 0, 2**40, sender=other_investor)
    with ape.reverts("erc20: burn amount exceeds balance"):
        vault.sell(10**12 + 10**6, investor, 0, 2**40, sender=investor)
    assert vault.allowance(investor, other_investor) == 10**12
    assert vault.balanceOf(investor) == 10**12


def test_sell_reverts(kit, registry, operator, investor, pauser, flat_gpu):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 100 * 10**6)
    with ape.reverts("vault: zero assets"):
        vault.sell(0, investor, 0, 2**40, sender=investor)
    with ape.reverts("vault: zero assets"):
        vault.sell(10**6 - 1, investor, 0, 2**40, sender=investor)  # below one wei of NAV
    # Free cash bounds it: spend most of it on a GPU.
    sell_gpu(kit.market, registry, operator, flat_gpu(cost=200 * 10**6), 90 * 10**6)
    shares = vault.balanceOf(investor)
    assert vault.previewRedeem(shares) > vault.free_cash() == 10 * 10**6
    with ape.reverts("vault: insufficient free cash"):
        vault.sell(shares, investor, 0, 2**40, sender=investor)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.sell(10**12, investor, 0, 2**40, sender=investor)
    assert vault.balanceOf(investor) == shares
