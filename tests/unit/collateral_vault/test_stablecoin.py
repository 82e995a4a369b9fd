"""Finding h, "stablecoin behaviour", over the USDT-like token (no return values, a fee switch and
a blocklist held by its owner, admin): stablecoin that arrives short (a fee on transfer) is refused
with a clear reason and nothing changes; a blocklisted fee recipient blocks only its own fees."""

import ape
import pytest

from tests.unit.collateral_vault.conftest import GRACE, PERIOD
from tests.utils.vault import (
    FEE_BPS,
    FEE_ON_TRANSFER,
    contribute,
    dead_shares,
    fund,
    logs_of,
    to_shares,
)

INSTALMENT = 5_000 * 10**6
NET = INSTALMENT - INSTALMENT * FEE_BPS // 10_000


@pytest.fixture
def usdt_pool(usdt_kit, registry, operator, investor, lessee, gpu):
    """The USDT pool with a contributed GPU, a buyer, and a lease the lessee has approved."""
    vault, token = usdt_kit.vault, usdt_kit.token
    token_id = gpu()
    contribute(usdt_kit.collateral, registry, operator, token_id)
    fund(token, investor, 50_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=investor)
    vault.deposit(20_000 * 10**6, investor, sender=investor)
    usdt_kit.leases.open_lease(lessee, INSTALMENT, PERIOD, 12, GRACE, [token_id], sender=operator)
    fund(token, lessee, 12 * INSTALMENT)
    token.approve(vault, 2**256 - 1, sender=lessee)
    return usdt_kit.leases.lease_count()


def books(vault, token, *accounts) -> tuple:
    return (
        token.balanceOf(vault),
        vault.totalSupply(),
        vault.free_cash(),
        vault.received(),
        vault.held(),
        vault.accrued_fees(),
        vault.unvested(),
        *(vault.balanceOf(a) for a in accounts),
        *(token.balanceOf(a) for a in accounts),
    )


def test_fee_on_transfer_deposit_refused(usdt_kit, admin, investor, other_investor):
    vault, token = usdt_kit.vault, usdt_kit.token
    fund(token, investor, 10_000 * 10**6)
    token.approve(vault, 2**256 - 1, sender=investor)
    vault.deposit(1_000 * 10**6, investor, sender=investor)
    token.set_fee_bps(1, sender=admin)  # 0.01%: 1,000 USDT arrive as 999.9
    before = books(vault, token, investor, other_investor)
    with ape.reverts(FEE_ON_TRANSFER):
        vault.deposit(1_000 * 10**6, investor, sender=investor)
    with ape.reverts(FEE_ON_TRANSFER):
        vault.mint(10**15, investor, sender=investor)
    with ape.reverts(FEE_ON_TRANSFER):
        vault.buy(1_000 * 10**6, other_investor, 0, 2**40, sender=investor)
    assert books(vault, token, investor, other_investor) == before
    # A fee that rounds to zero on the amount is no fee: 9,999 units at 1 bp arrive in full.
    tx = vault.deposit(9_999, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].assets == 9_999
    assert token.balanceOf(vault) == vault.free_cash() == 1_000 * 10**6 + 9_999
    # Without the fee the refused deposit goes through, priced at NAV.
    token.set_fee_bps(0, sender=admin)
    total, supply = vault.totalAssets(), vault.totalSupply()
    tx = vault.deposit(1_000 * 10**6, investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].shares == to_shares(1_000 * 10**6, total, supply)
    assert token.balanceOf(vault) == vault.free_cash() == 2_000 * 10**6 + 9_999
    assert vault.balanceOf(vault) == dead_shares(6)


def test_fee_on_transfer_instalment_refused(usdt_kit, usdt_pool, admin, lessee, investor):
    vault, token, leases = usdt_kit.vault, usdt_kit.token, usdt_kit.leases
    token.set_fee_bps(1_000, sender=admin)
    before = books(vault, token, lessee, investor)
    state = vault.revenue_state()
    with ape.reverts(FEE_ON_TRANSFER):
        leases.pay_instalment(usdt_pool, sender=lessee)
    assert books(vault, token, lessee, investor) == before
    assert vault.revenue_state() == state
    assert leases.lease(usdt_pool).paid == 0
    token.set_fee_bps(0, sender=admin)
    tx = leases.pay_instalment(usdt_pool, sender=lessee)
    [log] = logs_of(tx, vault, "RevenueDistributed")
    assert (log.amount, log.fee) == (INSTALMENT, INSTALMENT - NET)
    assert vault.received() == NET
    assert token.balanceOf(vault) == vault.free_cash() + vault.held() + vault.accrued_fees()


def test_blocklisted_fee_recipient_blocks_only_its_fees(
    usdt_kit, usdt_pool, admin, operator, lessee, investor, other_investor, chain
):
    vault, token, leases = usdt_kit.vault, usdt_kit.token, usdt_kit.leases
    assert vault.fee_recipient() == admin
    leases.pay_instalment(usdt_pool, sender=lessee)
    token.set_blocked(admin, True, sender=admin)
    with ape.reverts("usdt: blocked"):
        vault.claim_fees(sender=operator)
    assert vault.accrued_fees() == INSTALMENT - NET
    # Everything else goes on: deposits, redemptions, claims, payments.
    chain.pending_timestamp += 86_400
    tx = vault.deposit(1_000 * 10**6, other_investor, sender=investor)
    assert logs_of(tx, vault, "Deposit")[0].owner == other_investor
    shares = vault.balanceOf(other_investor)
    tx = vault.redeem(shares, other_investor, other_investor, sender=other_investor)
    assert token.balanceOf(other_investor) == logs_of(tx, vault, "Withdraw")[0].assets > 0
    tx = vault.claim(sender=investor)
    claimed = logs_of(tx, vault, "RevenueClaimed")[0].amount
    assert claimed > 0
    leases.pay_instalment(usdt_pool, sender=lessee)
    assert vault.accrued_fees() == 2 * (INSTALMENT - NET)
    with ape.reverts("usdt: blocked"):
        vault.claim_fees(sender=operator)
    # The admin names another recipient: the fees flow again, all of them.
    vault.set_fee_recipient(operator, sender=admin)
    tx = vault.claim_fees(sender=investor)
    [log] = logs_of(tx, vault, "FeesClaimed")
    assert (log.recipient, log.amount) == (operator, 2 * (INSTALMENT - NET))
    assert token.balanceOf(operator) == 2 * (INSTALMENT - NET)
    assert vault.accrued_fees() == 0
    assert token.balanceOf(vault) == vault.free_cash() + vault.held()
