"""A lease's default end to end, to the wei ("Default", ../shared/DOMAIN.md): an instalment unpaid
past its grace period puts the lease in arrears (the amounts and days grow month by month); past
the pool's default_after anyone declares the default and its GPUs are marked down in the same
transaction (NAV falls at once, the appraiser's recovery value for one, salvage for the other);
the operator closes the lease and sells a defaulted GPU at its recovery value (the floor; the part
above its collateral value is streamed to holders); the lessee's recovery payment reaches holders
as revenue; the holders claim exactly what the revenue model says."""

import ape
from eth_utils import keccak

from tests.utils.collateral import Curve, Mark, Terms
from tests.utils.exploits import curve_of, pool_value, value_of
from tests.utils.registry import USDC, GpuStatus, make_spec
from tests.utils.vault import (
    BPS,
    DAY,
    DEFAULT_AFTER,
    FEE_BPS,
    YEAR,
    RevenueModel,
    buy,
    claimed_in,
    fund,
    logs_of,
)

INSTALMENT = 4_000 * USDC
PERIOD = 30 * DAY
GRACE = 5 * DAY
INSTALMENTS = 12
# GPU A's recovery value (book value), set by the appraiser before the default; GPU B has none
# (salvage applies).
RECOVERY = 12_000 * USDC
SALVAGE = 3_000 * USDC
RECOVERED = 5_000 * USDC
LEASE_ACTIVE, LEASE_DEFAULTED, LEASE_CLOSED = 1, 4, 8
DEFAULT_REASON = keccak(text="lease default")


def fee(amount: int) -> int:
    return amount * FEE_BPS // BPS


def test_default_lifecycle(
    create_vault, registry, admin, custodian, operator, appraiser, investor, lessee, attacker, chain
):
    kit = create_vault(staleness_window=YEAR)
    vault, collateral, leases, appraisals, market, token = (
        kit.vault,
        kit.collateral,
        kit.leases,
        kit.appraisals,
        kit.market,
        kit.token,
    )
    specs = [make_spec(acquired_at=chain.pending_timestamp - 30 * DAY) for _ in range(3)]
    tx = registry.register(operator, specs, sender=custodian)
    gpu_a, gpu_b, gpu_c = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.setApprovalForAll(collateral, True, sender=operator)
    for token_id in (gpu_a, gpu_b, gpu_c):
        collateral.contribute(token_id, operator, 0, sender=operator)
    buy(vault, token, investor, 30_000 * USDC)
    appraisals.set_recovery_value(gpu_a, RECOVERY, b"\x0a" * 32, sender=appraiser)
    tx = leases.open_lease(
        lessee, INSTALMENT, PERIOD, INSTALMENTS, GRACE, [gpu_a, gpu_b], sender=operator
    )
    lease_id, start = 1, tx.decode_logs(leases.LeaseOpened)[0].start
    fund(token, lessee, INSTALMENT + RECOVERED)
    token.approve(vault, INSTALMENT + RECOVERED, sender=lessee)
    holders = [operator, investor]
    balances = {h: vault.balanceOf(h) for h in holders}
    supply, dead = vault.totalSupply(), vault.balanceOf(vault)
    model = RevenueModel.read(vault, holders)

    def due(k: int) -> int:
        return start + k * PERIOD

    def distributed(tx, amount: int) -> None:
        """The model's distribution of `amount` in `tx`, matched to the vault's event."""
        expected = model.distribute(amount, supply, vault, dead, tx.timestamp)
        events = logs_of(tx, vault, "RevenueDistributed") or logs_of(tx, vault, "Skimmed")
        [log] = events
        assert (log.rate, log.vesting_end, log.recycled) == expected
        model.assert_matches(vault, holders)

    # One instalment paid, then none: arrears grow month by month.
    chain.pending_timestamp = due(1)
    tx = leases.pay_instalment(lease_id, sender=lessee)
    distributed(tx, INSTALMENT - fee(INSTALMENT))
    arrears = {}
    for at in (due(2) + GRACE, due(2) + GRACE + 1, due(3) + GRACE + 1, due(2) + DEFAULT_AFTER):
        chain.mine(timestamp=at)
        now = chain.blocks.head.timestamp
        arrears[at] = (tuple(leases.arrears(lease_id)), leases.defaultable(lease_id), now)
    # Within its grace the second instalment is not in arrears; a second later it is.
    assert arrears[due(2) + GRACE][0] == (0, 0, 0, 0)
    assert arrears[due(2) + GRACE + 1][0] == (1, INSTALMENT, due(2), 5)
    assert arrears[due(3) + GRACE + 1][0] == (2, 2 * INSTALMENT, due(2), 35)
    assert arrears[due(2) + DEFAULT_AFTER][0] == (2, 2 * INSTALMENT, due(2), 60)
    assert [defaultable for _, defaultable, _ in arrears.values()] == [False] * 4
    with ape.reverts("lease: not past default_after"):
        leases.declare_default(lease_id, sender=attacker)

    # Anyone declares the default: the GPUs are marked down in the same transaction.
    curves = {i: curve_of(collateral, registry, i) for i in (gpu_a, gpu_b, gpu_c)}
    assert vault.totalAssets() == vault.free_cash() + pool_value(
        curves.values(), chain.blocks.head.timestamp
    )
    chain.pending_timestamp = due(2) + DEFAULT_AFTER + 1
    cash = vault.free_cash()
    tx = leases.declare_default(lease_id, sender=attacker)
    t_default = tx.timestamp
    [defaulted] = logs_of(tx, leases, "LeaseDefaulted")
    assert (defaulted.arrears_amount, defaulted.instalments, defaulted.caller) == (
        2 * INSTALMENT,
        2,
        attacker,
    )
    assert defaulted.days_late == (t_default - due(2)) // DAY == 60
    nav_before = cash + pool_value(curves.values(), t_default)
    previous = {i: curves[i].book(t_default) for i in (gpu_a, gpu_b)}
    targets = {gpu_a: RECOVERY, gpu_b: SALVAGE}
    marked = {
        i: Curve.of(Terms.of(registry, i), YEAR, t_default, mark=Mark(targets[i], t_default))
        for i in targets
    }
    after = {**curves, **marked}
    nav_after = cash + pool_value(after.values(), t_default)
    assert [
        (log.token_id, log.book_value, log.previous, log.rising, log.reason, log.appraiser)
        for log in logs_of(tx, appraisals, "GpuMarked")
    ] == [
        (i, targets[i], previous[i], False, DEFAULT_REASON, leases.address) for i in (gpu_a, gpu_b)
    ]
    assert vault.totalAssets() == nav_after
    assert collateral.value_of(gpu_a) == RECOVERY * 8_000 // BPS
    assert collateral.value_of(gpu_b) == SALVAGE * 8_000 // BPS
    # What the marks took off the two GPUs' values, give or take the aggregate's flooring.
    drop = sum(value_of(curves[i], t_default) - value_of(marked[i], t_default) for i in targets)
    assert abs(nav_before - nav_after - drop) <= len(curves)
    assert leases.lease(lease_id).status == LEASE_DEFAULTED
    assert all(registry.terms(i).status == GpuStatus.LEASED for i in (gpu_a, gpu_b))

    # The operator closes the lease: its GPUs are free.
    tx = leases.close_lease(lease_id, sender=operator)
    assert [log.lease_id for log in logs_of(tx, leases, "LeaseClosed")] == [lease_id]
    assert leases.lease(lease_id).status == LEASE_CLOSED
    for token_id in (gpu_a, gpu_b):
        assert registry.terms(token_id).status == GpuStatus.ACTIVE
        assert leases.lease_of_gpu(token_id) == 0

    # GPU A sells at its recovery value, the floor of a defaulted GPU; a cent less is refused.
    assert market.floor(gpu_a) == RECOVERY
    expires = chain.pending_timestamp + DAY
    fund(token, attacker, RECOVERY)
    token.approve(vault, RECOVERY, sender=attacker)
    market.list_gpu(gpu_a, RECOVERY - 10_000, expires, sender=operator)
    with ape.reverts("market: price below floor"):
        market.buy_gpu(gpu_a, RECOVERY - 10_000, sender=attacker)
    market.list_gpu(gpu_a, RECOVERY, expires, sender=operator)
    cash = vault.free_cash()
    tx = market.buy_gpu(gpu_a, RECOVERY, sender=attacker)
    t_sale = tx.timestamp
    value = value_of(marked[gpu_a], t_sale)
    [released] = logs_of(tx, collateral, "GpuReleased")
    assert (released.token_id, released.to, released.price) == (gpu_a, attacker, RECOVERY)
    assert (released.value, released.to_cash) == (value, value)
    [sold] = logs_of(tx, market, "GpuSold")
    assert (sold.price, sold.value, sold.floor) == (RECOVERY, value, RECOVERY)
    assert registry.ownerOf(gpu_a) == attacker
    assert vault.free_cash() == cash + value
    remaining = {i: c for i, c in after.items() if i != gpu_a}
    assert collateral.value() == pool_value(remaining.values(), t_sale)
    # The premium above the collateral value is streamed to holders (skim, no fee).
    [skimmed] = logs_of(tx, vault, "Skimmed")
    assert skimmed.donation == RECOVERY - value
    distributed(tx, RECOVERY - value)

    # The lessee pays a recovery: revenue to holders, less the fee.
    tx = leases.pay_recovery(lease_id, RECOVERED, sender=lessee)
    [paid] = logs_of(tx, leases, "RecoveryPaid")
    assert (paid.lease_id, paid.payer, paid.amount, paid.fee) == (
        lease_id,
        lessee,
        RECOVERED,
        fee(RECOVERED),
    )
    assert leases.lease(lease_id).recovered == RECOVERED
    distributed(tx, RECOVERED - fee(RECOVERED))

    # Once it has vested, the holders claim exactly what the model owes them.
    chain.mine(timestamp=model.end + 1)
    net = INSTALMENT - fee(INSTALMENT) + RECOVERY - value + RECOVERED - fee(RECOVERED)
    assert vault.received() == net
    claimed = 0
    for holder in holders:
        tx = vault.claim(sender=holder)
        expected = model.claim(holder, balances[holder], supply, tx.timestamp)
        assert claimed_in(tx, vault) == expected > 0
        claimed += expected
    model.assert_matches(vault, holders)
    assert vault.accrued_fees() == fee(INSTALMENT) + fee(RECOVERED)
    # What the dead shares earned waits to be recycled; the rest is dust.
    left = net - claimed - vault.claimable(vault) - vault.unvested()
    assert 0 <= left <= len(holders) + 1 + 2
