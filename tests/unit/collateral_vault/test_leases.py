"""LeaseManager: open_lease, pay_instalment (through the vault's collect_instalment), arrears views,
completion; and the registry status following the lease."""

import ape
import pytest

from tests.unit.collateral_vault.conftest import GRACE, INSTALMENT, PERIOD
from tests.utils.registry import GpuStatus
from tests.utils.vault import DAY, FEE_BPS, MISSING_ROLE, contribute, fund, logs_of


def test_open_lease(kit, registry, operator, lessee, gpu):
    vault, leases = kit.vault, kit.leases
    ids = [gpu(), gpu()]
    for token_id in ids:
        contribute(vault, registry, operator, token_id)
    tx = leases.open_lease(lessee, INSTALMENT, PERIOD, 12, GRACE, ids, sender=operator)
    assert leases.lease_count() == 1
    [log] = tx.decode_logs(leases.LeaseOpened)
    assert (log.lease_id, log.lessee, log.instalment, log.period, log.instalments, log.grace) == (
        1,
        lessee,
        INSTALMENT,
        PERIOD,
        12,
        GRACE,
    )
    assert list(log.gpu_ids) == ids
    lease = leases.lease(1)
    assert (lease.lessee, lease.paid, lease.status, lease.start) == (lessee, 0, 1, log.start)
    assert list(leases.lease_gpus(1)) == ids
    for token_id in ids:
        assert registry.gpu(token_id).status == GpuStatus.LEASED
        assert leases.lease_of_gpu(token_id) == 1
    assert leases.next_due(1) == log.start + PERIOD


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"lessee": ape.utils.ZERO_ADDRESS}, "lease: zero lessee"),
        ({"instalment": 0}, "lease: zero instalment"),
        ({"period": 3_599}, "lease: period too short"),
        ({"instalments": 0}, "lease: zero instalments"),
        ({"instalments": 1_201}, "lease: too many instalments"),
        ({"grace": 365 * DAY + 1}, "lease: grace too long"),
        ({"gpu_ids": []}, "lease: no gpus"),
    ],
)
def test_open_lease_term_reverts(kit, registry, operator, lessee, gpu, override, reason):
    token_id = gpu()
    contribute(kit.vault, registry, operator, token_id)
    args = {
        "lessee": lessee,
        "instalment": INSTALMENT,
        "period": PERIOD,
        "instalments": 12,
        "grace": GRACE,
        "gpu_ids": [token_id],
    }
    args.update(override)
    with ape.reverts(reason):
        kit.leases.open_lease(*args.values(), sender=operator)


def test_open_lease_gpu_reverts(kit, registry, operator, lessee, appraiser, gpu):
    vault, leases = kit.vault, kit.leases
    outside, inside, impaired = gpu(), gpu(), gpu()
    contribute(vault, registry, operator, inside)
    contribute(vault, registry, operator, impaired)
    vault.impair_gpu(impaired, sender=appraiser)
    terms = (lessee, INSTALMENT, PERIOD, 12, GRACE)
    with ape.reverts(MISSING_ROLE):
        leases.open_lease(*terms, [inside], sender=lessee)
    with ape.reverts("lease: gpu not counted by the vault"):
        leases.open_lease(*terms, [outside], sender=operator)
    with ape.reverts("lease: gpu not counted by the vault"):
        leases.open_lease(*terms, [impaired], sender=operator)
    with ape.reverts("lease: gpu already leased"):
        leases.open_lease(*terms, [inside, inside], sender=operator)
    leases.open_lease(*terms, [inside], sender=operator)
    with ape.reverts("lease: gpu already leased"):
        leases.open_lease(*terms, [inside], sender=operator)


def test_pay_instalment(kit, leased, lessee, admin):
    vault, leases, token = kit.vault, kit.leases, kit.token
    lease_id, _ = leased
    cash_before = token.balanceOf(vault)
    tx = leases.pay_instalment(lease_id, sender=lessee)
    fee = INSTALMENT * FEE_BPS // 10_000
    [paid] = tx.decode_logs(leases.InstalmentPaid)
    assert (paid.lease_id, paid.payer, paid.index, paid.amount, paid.fee) == (
        lease_id,
        lessee,
        0,
        INSTALMENT,
        fee,
    )
    [dist] = logs_of(tx, vault, "RevenueDistributed")
    assert (dist.lease_id, dist.payer, dist.amount, dist.fee) == (lease_id, lessee, INSTALMENT, fee)
    assert dist.vesting_end == vault.revenue_state()[4]
    assert token.balanceOf(vault) == cash_before + INSTALMENT
    assert vault.accrued_fees() == fee
    assert vault.received() == INSTALMENT - fee == vault.held()
    assert leases.lease(lease_id).paid == 1


def test_pay_for_the_lessee(kit, leased, other_investor):
    vault, leases, token = kit.vault, kit.leases, kit.token
    lease_id, _ = leased
    fund(token, other_investor, INSTALMENT)
    token.approve(vault, INSTALMENT, sender=other_investor)
    tx = leases.pay_instalment(lease_id, sender=other_investor)
    assert tx.decode_logs(leases.InstalmentPaid)[0].payer == other_investor


def test_pay_allowed_while_paused(kit, leased, lessee, pauser):
    kit.vault.pause(sender=pauser)
    kit.leases.pay_instalment(leased[0], sender=lessee)
    assert kit.vault.received() > 0


def test_pay_reverts(kit, leased, lessee, attacker):
    vault, leases = kit.vault, kit.leases
    with ape.reverts("lease: not active"):
        leases.pay_instalment(99, sender=lessee)
    with ape.reverts():
        leases.pay_instalment(leased[0], sender=attacker)  # no allowance, no funds
    with ape.reverts(MISSING_ROLE):
        vault.collect_instalment(leased[0], lessee, 1, sender=attacker)


def test_completion_frees_gpus(kit, registry, leased, lessee, appraiser):
    vault, leases = kit.vault, kit.leases
    lease_id, ids = leased
    vault.impair_gpu(ids[1], sender=appraiser)
    for _ in range(11):
        leases.pay_instalment(lease_id, sender=lessee)
    tx = leases.pay_instalment(lease_id, sender=lessee)
    assert tx.decode_logs(leases.InstalmentPaid)[0].index == 11
    assert len(tx.decode_logs(leases.LeaseCompleted)) == 1
    assert leases.lease(lease_id).status == 2
    assert registry.gpu(ids[0]).status == GpuStatus.ACTIVE
    assert registry.gpu(ids[1]).status == GpuStatus.IMPAIRED
    assert leases.lease_of_gpu(ids[0]) == 0
    assert leases.next_due(lease_id) == 0
    with ape.reverts("lease: not active"):
        leases.pay_instalment(lease_id, sender=lessee)


def test_arrears(kit, leased, lessee, chain):
    leases = kit.leases
    lease_id, _ = leased
    start = leases.lease(lease_id).start
    chain.mine(timestamp=start + PERIOD + GRACE)
    assert leases.instalments_overdue(lease_id) == 0
    assert not leases.in_arrears(lease_id)
    chain.mine(timestamp=start + PERIOD + GRACE + 1)
    assert leases.instalments_overdue(lease_id) == 1
    assert leases.in_arrears(lease_id)
    chain.mine(timestamp=start + 3 * PERIOD + GRACE + 1)
    assert leases.instalments_overdue(lease_id) == 3
    leases.pay_instalment(lease_id, sender=lessee)
    leases.pay_instalment(lease_id, sender=lessee)
    assert leases.instalments_overdue(lease_id) == 1
    leases.pay_instalment(lease_id, sender=lessee)
    assert not leases.in_arrears(lease_id)
    assert leases.next_due(lease_id) == start + 4 * PERIOD
    chain.mine(timestamp=start + 100 * PERIOD)
    assert leases.instalments_overdue(lease_id) == 12 - 3
