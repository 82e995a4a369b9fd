"""GPU flows: contribute, buy_gpu, impair_gpu, sync_gpu, process_maturities, end_time_hint, and the
aggregate collateral value against the per-GPU registry book values."""

import ape
import pytest

from tests.utils.registry import CUSTODIAN_ROLE, GpuStatus
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    BPS,
    DAY,
    MISSING_ROLE,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    YEAR,
    buy,
    contribute,
    to_shares,
)


def per_gpu_values(vault, registry, token_ids) -> list[int]:
    return [
        registry.book_value(t) * ADVANCE_RATE_BPS // BPS if vault.counts(t) else 0
        for t in token_ids
    ]


def assert_bound(vault, registry, token_ids):
    """The aggregate never exceeds the per-GPU values and is below them by at most 3 wei each."""
    values = per_gpu_values(vault, registry, token_ids)
    counted = sum(1 for t in token_ids if vault.counts(t))
    aggregate = vault.collateral_value()
    assert aggregate <= sum(values)
    assert sum(values) - aggregate <= 3 * counted + 1


def test_contribute(kit, registry, operator, investor, gpu):
    vault = kit.vault
    token_id = gpu()
    registry.approve(vault, token_id, sender=operator)
    total, supply = vault.totalAssets(), vault.totalSupply()
    tx = vault.contribute(token_id, investor, 0, vault.end_time_hint(token_id), sender=operator)
    [log] = tx.decode_logs(vault.GpuContributed)
    value = vault.collateral_value()
    assert (log.token_id, log.contributor, log.receiver, log.value) == (
        token_id,
        operator,
        investor,
        value,
    )
    assert log.shares == to_shares(value, total, supply) == vault.balanceOf(investor)
    assert registry.ownerOf(token_id) == vault.address
    assert vault.counts(token_id)
    assert vault.gpus_held() == 1
    assert vault.counted() == 1
    position = vault.positions(token_id)
    assert position.held and position.counted and position.on_line
    book = registry.book_value(token_id)
    assert book * ADVANCE_RATE_BPS // BPS - 3 <= value <= book * ADVANCE_RATE_BPS // BPS
    assert vault.totalAssets() == value


def test_contribute_at_nav(kit, registry, operator, investor, other_investor, gpu):
    """A GPU contributed into a pool with cash is priced at NAV, not at par."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 50_000 * 10**6)
    token_id = gpu(acquisition_cost=10_000 * 10**6, salvage_value=1_000 * 10**6)
    total, supply = vault.totalAssets(), vault.totalSupply()
    tx = contribute(vault, registry, operator, token_id, receiver=other_investor)
    [log] = tx.decode_logs(vault.GpuContributed)
    assert log.shares == to_shares(log.value, total, supply)
    assert vault.totalAssets() == total + log.value


def test_contribute_reverts(kit, registry, operator, investor, attacker, pauser, gpu, custodian):
    vault = kit.vault
    token_id = gpu()
    hint = vault.end_time_hint(token_id)
    with ape.reverts(MISSING_ROLE):
        vault.contribute(token_id, investor, 0, hint, sender=investor)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        vault.contribute(token_id, attacker, 0, hint, sender=operator)
    other = gpu()
    registry.transferFrom(operator, investor, other, sender=operator)
    with ape.reverts("vault: caller does not own the gpu"):
        vault.contribute(other, investor, 0, hint, sender=operator)
    with ape.reverts("vault: slippage: too few shares"):
        registry.approve(vault, token_id, sender=operator)
        vault.contribute(token_id, investor, 10**30, hint, sender=operator)
    offline = gpu()
    registry.set_status(offline, GpuStatus.OFFLINE, sender=custodian)
    registry.approve(vault, offline, sender=operator)
    with ape.reverts("vault: gpu not active"):
        vault.contribute(offline, investor, 0, 0, sender=operator)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.contribute(token_id, investor, 0, hint, sender=operator)


def test_contribute_needs_approval(kit, registry, operator, investor, gpu):
    vault = kit.vault
    token_id = gpu()
    with ape.reverts():
        vault.contribute(token_id, investor, 0, 0, sender=operator)
    assert registry.ownerOf(token_id) == operator
    assert vault.counted() == 0


def test_end_time_hint(kit, registry, operator, gpu, chain):
    vault = kit.vault
    now = chain.pending_timestamp
    early = gpu(acquired_at=now - 10 * DAY, useful_life=2 * YEAR)
    late = gpu(acquired_at=now - 10 * DAY, useful_life=4 * YEAR)
    middle = gpu(acquired_at=now - 10 * DAY, useful_life=3 * YEAR)
    contribute(vault, registry, operator, early)
    contribute(vault, registry, operator, late)
    early_end = now - 10 * DAY + 2 * YEAR
    assert vault.end_time_hint(middle) == early_end
    registry.approve(vault, middle, sender=operator)
    with ape.reverts("vault: bad end-time hint"):
        vault.contribute(middle, operator, 0, 0, sender=operator)
    with ape.reverts("vault: bad end-time hint"):
        vault.contribute(middle, operator, 0, now - 10 * DAY + 4 * YEAR, sender=operator)
    with ape.reverts("vault: bad end-time hint"):
        vault.contribute(middle, operator, 0, 12345, sender=operator)
    vault.contribute(middle, operator, 0, early_end, sender=operator)
    assert vault.head() == early_end


def test_buy_gpu(kit, registry, operator, investor, gpu):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 100_000 * 10**6)
    token_id = gpu()
    registry.approve(vault, token_id, sender=operator)
    total_before = vault.totalAssets()
    price = 20_000 * 10**6
    tx = vault.buy_gpu(token_id, price, vault.end_time_hint(token_id), sender=operator)
    [log] = tx.decode_logs(vault.GpuPurchased)
    assert (log.token_id, log.seller, log.price) == (token_id, operator, price)
    assert log.value == vault.collateral_value()
    assert vault.free_cash() == 80_000 * 10**6
    assert token.balanceOf(operator) == price
    assert registry.ownerOf(token_id) == vault.address
    # Bought below collateral value: a gain for holders.
    assert vault.totalAssets() == total_before - price + log.value > total_before


def test_buy_gpu_reverts(kit, registry, operator, investor, pauser, gpu):
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 100_000 * 10**6)
    token_id = gpu()
    registry.approve(vault, token_id, sender=operator)
    hint = vault.end_time_hint(token_id)
    with ape.reverts(MISSING_ROLE):
        vault.buy_gpu(token_id, 1, hint, sender=investor)
    with ape.reverts("vault: zero price"):
        vault.buy_gpu(token_id, 0, hint, sender=operator)
    with ape.reverts("vault: insufficient free cash"):
        vault.buy_gpu(token_id, 100_000 * 10**6 + 1, hint, sender=operator)
    book = registry.book_value(token_id) * ADVANCE_RATE_BPS // BPS
    with ape.reverts("vault: price above collateral value"):
        vault.buy_gpu(token_id, book + 1, hint, sender=operator)
    vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        vault.buy_gpu(token_id, 1, hint, sender=operator)


def test_impair_gpu(kit, registry, operator, appraiser, gpu, chain):
    vault = kit.vault
    ids = [gpu(), gpu()]
    for token_id in ids:
        contribute(vault, registry, operator, token_id)
    tx = vault.impair_gpu(ids[0], sender=appraiser)
    [log] = tx.decode_logs(vault.GpuImpaired)
    assert (log.token_id, log.sender) == (ids[0], appraiser)
    at = chain.blocks[tx.block_number].timestamp
    own = registry.book_value_at(ids[0], at) * ADVANCE_RATE_BPS // BPS
    # The GPU's own collateral value at that block, within the 2-wei margin and rounding.
    assert own - 4 <= log.value_removed <= own + 2
    assert registry.gpu(ids[0]).status == GpuStatus.IMPAIRED
    assert not vault.counts(ids[0])
    assert vault.counted() == 1
    assert_bound(vault, registry, ids)
    with ape.reverts("vault: gpu not counted"):
        vault.impair_gpu(ids[0], sender=appraiser)
    with ape.reverts(MISSING_ROLE):
        vault.impair_gpu(ids[1], sender=operator)


def test_impair_allowed_while_paused(kit, registry, operator, appraiser, pauser, gpu):
    vault = kit.vault
    token_id = gpu()
    contribute(vault, registry, operator, token_id)
    vault.pause(sender=pauser)
    vault.impair_gpu(token_id, sender=appraiser)
    assert vault.collateral_value() == 0


def test_sync_gpu(kit, registry, operator, custodian, attacker, gpu):
    """A GPU retired on the registry directly stops counting once anyone syncs it."""
    vault = kit.vault
    token_id = gpu()
    contribute(vault, registry, operator, token_id)
    with ape.reverts("vault: gpu still counts"):
        vault.sync_gpu(token_id, sender=attacker)
    assert registry.hasRole(CUSTODIAN_ROLE, custodian)
    registry.set_status(token_id, GpuStatus.RETIRED, sender=custodian)
    tx = vault.sync_gpu(token_id, sender=attacker)
    [log] = tx.decode_logs(vault.GpuDropped)
    assert log.token_id == token_id and log.value_removed > 0
    assert vault.collateral_value() == 0
    with ape.reverts("vault: gpu not counted"):
        vault.sync_gpu(token_id, sender=attacker)


def test_aggregate_bound_over_life(kit, registry, operator, gpu, chain):
    """Over the whole life of five GPUs (one already past its end, two sharing an end time), the
    aggregate stays within 3 wei per GPU below the sum of per-GPU values, before and after the
    lazy maturities are processed."""
    vault = kit.vault
    now = chain.pending_timestamp
    specs = [
        {"acquired_at": now - 2 * YEAR, "useful_life": YEAR, "salvage_value": 2_000 * 10**6},
        {"acquired_at": now - 100 * DAY, "useful_life": 200 * DAY},
        {"acquired_at": now - 100 * DAY, "useful_life": 200 * DAY, "salvage_value": 0},
        {
            "acquired_at": now - 7,
            "useful_life": 3 * YEAR + 13,
            "acquisition_cost": 10**6 + 7,
            "salvage_value": 5,
        },
        {"acquired_at": now - DAY, "useful_life": 5 * YEAR},
    ]
    ids = [gpu(**spec) for spec in specs]
    for token_id in ids:
        contribute(vault, registry, operator, token_id)
    assert_bound(vault, registry, ids)
    for step in (50 * DAY, 51 * DAY, YEAR, 2 * YEAR, 3 * YEAR):
        chain.pending_timestamp += step
        chain.mine()
        assert_bound(vault, registry, ids)
        view_value = vault.collateral_value()
        if vault.head() and vault.head() <= chain.pending_timestamp - 1:
            with chain.isolate():
                tx = vault.process_maturities(10, sender=operator)
                assert len(tx.decode_logs(vault.DepreciationMatured)) >= 1
                # Processing moves sums from the line to salvage; the value only follows time.
                assert vault.collateral_value() <= view_value
                assert_bound(vault, registry, ids)
    salvage = sum(s.get("salvage_value", 3_000 * 10**6) for s in specs)
    assert vault.collateral_value() == salvage * ADVANCE_RATE_BPS // BPS - 2 * len(ids)
    assert vault.collateral_value() == sum(per_gpu_values(vault, registry, ids)) - 2 * len(ids)


def test_process_maturities_reverts(kit, operator):
    with ape.reverts("vault: zero steps"):
        kit.vault.process_maturities(0, sender=operator)
    tx = kit.vault.process_maturities(5, sender=operator)
    assert not tx.decode_logs(kit.vault.DepreciationMatured)


@pytest.mark.parametrize("n", [3])
def test_contribution_after_maturity(kit, registry, operator, gpu, chain, n):
    """A state-changing call matures pending end times before valuing (no stale price)."""
    vault = kit.vault
    now = chain.pending_timestamp
    ids = [gpu(acquired_at=now - DAY, useful_life=10 * DAY + i) for i in range(n)]
    for token_id in ids:
        contribute(vault, registry, operator, token_id)
    chain.pending_timestamp += 20 * DAY
    fresh = gpu()
    tx = contribute(vault, registry, operator, fresh)
    assert len(tx.decode_logs(vault.DepreciationMatured)) == n
    assert vault.head() == registry.gpu(fresh).acquired_at + 5 * YEAR
    assert_bound(vault, registry, [*ids, fresh])
