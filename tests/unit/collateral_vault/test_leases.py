"""LeaseManager: open_lease, pay_instalment (through the vault's collect_instalment), arrears views,
completion; and the registry status following the lease."""

import ape

from tests.unit.collateral_vault.conftest import GRACE, INSTALMENT, PERIOD
from tests.utils.custody import attest
from tests.utils.registry import GpuStatus
from tests.utils.vault import (
    DAY,
    DEFAULT_AFTER,
    FEE_BPS,
    MISSING_ROLE,
    STALENESS_WINDOW,
    RevenueModel,
    contribute,
    fund,
    logs_of,
)

NOT_COUNTED = "lease: gpu not counted by the pool"


def test_open_lease(kit, registry, operator, lessee, gpu):
    leases = kit.leases
    ids = [gpu(), gpu()]
    for token_id in ids:
        contribute(kit.collateral, registry, operator, token_id)
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


TERM_REVERTS = [
    ({"lessee": ape.utils.ZERO_ADDRESS}, "lease: zero lessee"),
    ({"instalment": 0}, "lease: zero instalment"),
    ({"period": 3_599}, "lease: period too short"),
    ({"instalments": 0}, "lease: zero instalments"),
    ({"instalments": 1_201}, "lease: too many instalments"),
    ({"grace": DEFAULT_AFTER}, "lease: grace not below default_after"),
    ({"gpu_ids": []}, "lease: no gpus"),
]


def test_open_lease_term_reverts(kit, registry, operator, lessee, gpu):
    """Each bad term alone is refused with its reason; the terms at their bounds are accepted."""
    token_id = gpu()
    contribute(kit.collateral, registry, operator, token_id)
    good = {
        "lessee": lessee,
        "instalment": INSTALMENT,
        "period": PERIOD,
        "instalments": 12,
        "grace": GRACE,
        "gpu_ids": [token_id],
    }
    for override, reason in TERM_REVERTS:
        with ape.reverts(reason):
            kit.leases.open_lease(*{**good, **override}.values(), sender=operator)
    bounds = {"period": 3_600, "instalments": 1_200, "grace": DEFAULT_AFTER - 1}
    tx = kit.leases.open_lease(*{**good, **bounds}.values(), sender=operator)
    [log] = tx.decode_logs(kit.leases.LeaseOpened)
    assert (log.period, log.instalments, log.grace) == (3_600, 1_200, DEFAULT_AFTER - 1)


def test_open_lease_gpu_reverts(kit, registry, operator, lessee, appraiser, gpu):
    leases = kit.leases
    outside, inside, impaired = gpu(), gpu(), gpu()
    contribute(kit.collateral, registry, operator, inside)
    contribute(kit.collateral, registry, operator, impaired)
    registry.set_status(impaired, GpuStatus.IMPAIRED, sender=appraiser)
    assert not kit.collateral.counts(impaired)
    terms = (lessee, INSTALMENT, PERIOD, 12, GRACE)
    with ape.reverts(MISSING_ROLE):
        leases.open_lease(*terms, [inside], sender=lessee)
    with ape.reverts(NOT_COUNTED):
        leases.open_lease(*terms, [outside], sender=operator)
    with ape.reverts(NOT_COUNTED):
        leases.open_lease(*terms, [impaired], sender=operator)
    with ape.reverts("lease: gpu already leased"):
        leases.open_lease(*terms, [inside, inside], sender=operator)
    leases.open_lease(*terms, [inside], sender=operator)
    with ape.reverts("lease: gpu already leased"):
        leases.open_lease(*terms, [inside], sender=operator)


def test_pay_instalment(leased_kit, leased, lessee, admin):
    vault, leases, token = leased_kit.vault, leased_kit.leases, leased_kit.token
    lease_id, _ = leased
    cash_before = token.balanceOf(vault)
    model = RevenueModel.read(vault)
    supply = vault.totalSupply()
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
    rate, end, recycled = model.distribute(
        INSTALMENT - fee, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    assert (dist.lease_id, dist.payer, dist.amount, dist.fee, dist.recycled) == (
        lease_id,
        lessee,
        INSTALMENT,
        fee,
        0,
    )
    assert (dist.rate, dist.vesting_end) == (rate, end) == (model.rate, tx.timestamp + PERIOD)
    assert recycled == 0
    model.assert_matches(vault)
    assert token.balanceOf(vault) == cash_before + INSTALMENT
    assert vault.accrued_fees() == fee
    assert vault.received() == INSTALMENT - fee == vault.held()
    assert leases.lease(lease_id).paid == 1


def test_pay_for_the_lessee(leased_kit, leased, other_investor):
    vault, leases, token = leased_kit.vault, leased_kit.leases, leased_kit.token
    lease_id, _ = leased
    fund(token, other_investor, INSTALMENT)
    token.approve(vault, INSTALMENT, sender=other_investor)
    tx = leases.pay_instalment(lease_id, sender=other_investor)
    assert tx.decode_logs(leases.InstalmentPaid)[0].payer == other_investor
    [dist] = logs_of(tx, vault, "RevenueDistributed")
    assert (dist.payer, dist.amount) == (other_investor, INSTALMENT)
    assert token.balanceOf(other_investor) == 0
    assert vault.received() == INSTALMENT - INSTALMENT * FEE_BPS // 10_000


def test_pay_allowed_while_paused(leased_kit, leased, lessee, pauser):
    vault = leased_kit.vault
    vault.pause(sender=pauser)
    tx = leased_kit.leases.pay_instalment(leased[0], sender=lessee)
    assert logs_of(tx, vault, "RevenueDistributed")[0].amount == INSTALMENT
    assert vault.received() == INSTALMENT - INSTALMENT * FEE_BPS // 10_000
    assert vault.paused()


def test_pay_reverts(leased_kit, leased, lessee, attacker):
    vault, leases = leased_kit.vault, leased_kit.leases
    with ape.reverts("lease: not active"):
        leases.pay_instalment(99, sender=lessee)
    with ape.reverts("erc20: insufficient allowance"):
        leases.pay_instalment(leased[0], sender=attacker)
    leased_kit.token.approve(vault, INSTALMENT, sender=attacker)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        leases.pay_instalment(leased[0], sender=attacker)
    assert leases.lease(leased[0]).paid == 0
    with ape.reverts(MISSING_ROLE):
        vault.collect_instalment(leased[0], lessee, 1, sender=attacker)


def test_completion_frees_gpus(leased_kit, registry, leased, lessee, appraiser):
    leases = leased_kit.leases
    lease_id, ids = leased
    registry.set_status(ids[1], GpuStatus.IMPAIRED, sender=appraiser)
    assert not leased_kit.collateral.counts(ids[1])
    assert leased_kit.collateral.counts(ids[0])
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


def test_arrears(leased_kit, leased, lessee, chain):
    leases = leased_kit.leases
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


def test_open_lease_refuses_a_stale_gpu(kit, registry, attestor, operator, lessee, gpu, chain):
    """A GPU whose attestation is older than the pool's staleness window (to the grid day) is not
    counted, so it cannot be leased; a fresh attestation makes it count again."""
    collateral, leases = kit.collateral, kit.leases
    token_id = gpu()
    contribute(collateral, registry, operator, token_id)
    stale_at = collateral.position(token_id)[3]
    assert stale_at == (registry.gpu(token_id).last_attested_at + STALENESS_WINDOW) // DAY * DAY
    terms = (lessee, INSTALMENT, PERIOD, 12, GRACE, [token_id])
    chain.pending_timestamp = stale_at
    with ape.reverts(NOT_COUNTED):
        leases.open_lease(*terms, sender=operator)
    attest(attestor, [token_id])
    assert collateral.counts(token_id)
    tx = leases.open_lease(*terms, sender=operator)
    assert tx.decode_logs(leases.LeaseOpened)[0].lease_id == 1


def test_lease_manager_reads_the_collateral(kit, project, registry, admin):
    """LeaseManager takes the collateral from its vault: no way to pair it with another pool's."""
    assert kit.leases.COLLATERAL() == kit.vault.COLLATERAL() == kit.collateral.address
    assert kit.leases.VAULT() == kit.vault.address
    other = project.LeaseManager.deploy(
        kit.vault, registry, kit.appraisals, DEFAULT_AFTER, sender=admin
    )
    assert other.COLLATERAL() == kit.collateral.address
