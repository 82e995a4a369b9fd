"""LeaseManager.cure: every instalment in arrears paid in one call, through the vault's
collect_instalment; refused when nothing is in arrears or the lease is no longer active."""

import ape

from tests.unit.lease_manager.conftest import GRACE, INSTALMENT, INSTALMENTS
from tests.utils.registry import GpuStatus
from tests.utils.vault import FEE_BPS, RevenueModel, fund, logs_of

NOTHING = "lease: nothing in arrears"


def fee_of(amount: int) -> int:
    return amount * FEE_BPS // 10_000


def test_cure_pays_every_arrear(lease_book, lessee, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    vault, leases, token = kit.vault, kit.leases, kit.token
    chain.mine(timestamp=lease_book.due(3) + GRACE + 1)
    assert tuple(leases.arrears(lease_id))[:2] == (3, 3 * INSTALMENT)
    cash, paid_by = token.balanceOf(vault), token.balanceOf(lessee)
    model = RevenueModel.read(vault)
    supply = vault.totalSupply()

    tx = leases.cure(lease_id, sender=lessee)

    amount = 3 * INSTALMENT
    fee = fee_of(amount)
    [cured] = tx.decode_logs(leases.LeaseCured)
    assert (cured.lease_id, cured.payer, cured.instalments, cured.amount, cured.fee) == (
        lease_id,
        lessee,
        3,
        amount,
        fee,
    )
    assert not tx.decode_logs(leases.InstalmentPaid)
    [dist] = logs_of(tx, vault, "RevenueDistributed")
    rate, end, _ = model.distribute(
        amount - fee, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    assert (dist.lease_id, dist.payer, dist.amount, dist.fee) == (lease_id, lessee, amount, fee)
    assert (dist.rate, dist.vesting_end) == (rate, end)
    model.assert_matches(vault)
    assert token.balanceOf(vault) == cash + amount
    assert token.balanceOf(lessee) == paid_by - amount
    assert vault.accrued_fees() == fee
    assert vault.received() == amount - fee
    lease = leases.lease(lease_id)
    assert (lease.paid, lease.status) == (3, 1)
    assert tuple(leases.arrears(lease_id)) == (0, 0, 0, 0)
    assert leases.next_due(lease_id) == lease_book.due(4)
    with ape.reverts(NOTHING):
        leases.cure(lease_id, sender=lessee)


def test_cure_by_anyone(lease_book, other_investor, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    chain.mine(timestamp=lease_book.due(1) + GRACE + 1)
    fund(kit.token, other_investor, INSTALMENT)
    kit.token.approve(kit.vault, INSTALMENT, sender=other_investor)
    tx = kit.leases.cure(lease_id, sender=other_investor)
    assert tx.decode_logs(kit.leases.LeaseCured)[0].payer == other_investor
    assert logs_of(tx, kit.vault, "RevenueDistributed")[0].payer == other_investor
    assert kit.token.balanceOf(other_investor) == 0
    assert kit.leases.lease(lease_id).paid == 1


def test_paying_one_by_one_cures_too(lease_book, lessee, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    chain.mine(timestamp=lease_book.due(2) + GRACE + 1)
    kit.leases.pay_instalment(lease_id, sender=lessee)
    assert kit.leases.in_arrears(lease_id)
    kit.leases.pay_instalment(lease_id, sender=lessee)
    assert tuple(kit.leases.arrears(lease_id)) == (0, 0, 0, 0)
    with ape.reverts(NOTHING):
        kit.leases.cure(lease_id, sender=lessee)


def test_cure_refused_without_arrears(lease_book, lessee, chain):
    """Before the first due date, and within a due date's grace period (an hour left of it)."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    with ape.reverts(NOTHING):
        kit.leases.cure(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(1) + GRACE - 3_600)
    with ape.reverts(NOTHING):
        kit.leases.cure(lease_id, sender=lessee)
    assert kit.leases.lease(lease_id).paid == 0


def test_cure_refused_for_unknown_or_completed_leases(lease_book, lessee, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    for unknown in (0, lease_id + 1):
        with ape.reverts("lease: not active"):
            kit.leases.cure(unknown, sender=lessee)
    for _ in range(INSTALMENTS):
        kit.leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(INSTALMENTS) + GRACE + 1)
    with ape.reverts("lease: not active"):
        kit.leases.cure(lease_id, sender=lessee)


def test_cure_that_pays_the_last_instalment_completes(lease_book, registry, lessee, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    kit.leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(INSTALMENTS) + GRACE + 1)
    tx = leases.cure(lease_id, sender=lessee)
    left = INSTALMENTS - 1
    [cured] = tx.decode_logs(leases.LeaseCured)
    assert (cured.instalments, cured.amount) == (left, left * INSTALMENT)
    assert [log.lease_id for log in tx.decode_logs(leases.LeaseCompleted)] == [lease_id]
    assert leases.lease(lease_id).status == 2  # COMPLETED
    assert leases.lease(lease_id).paid == INSTALMENTS
    assert leases.next_due(lease_id) == 0
    for token_id in lease_book.gpu_ids:
        assert leases.lease_of_gpu(token_id) == 0
        assert registry.gpu(token_id).status == GpuStatus.ACTIVE


def test_cure_needs_the_payers_allowance(lease_book, attacker, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    chain.mine(timestamp=lease_book.due(1) + GRACE + 1)
    with ape.reverts("erc20: insufficient allowance"):
        kit.leases.cure(lease_id, sender=attacker)
    assert kit.leases.lease(lease_id).paid == 0
    assert kit.leases.in_arrears(lease_id)


def test_cure_frees_only_leased_gpus(lease_book, registry, lessee, appraiser, chain):
    """Completion by a cure frees the GPUs as the last instalment does: an impaired one stays
    IMPAIRED."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    impaired, *rest = lease_book.gpu_ids
    registry.set_status(impaired, GpuStatus.IMPAIRED, sender=appraiser)
    chain.mine(timestamp=lease_book.due(INSTALMENTS) + GRACE + 1)
    kit.leases.cure(lease_id, sender=lessee)
    assert registry.gpu(impaired).status == GpuStatus.IMPAIRED
    for token_id in rest:
        assert registry.gpu(token_id).status == GpuStatus.ACTIVE
