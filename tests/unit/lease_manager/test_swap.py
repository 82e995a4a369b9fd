"""LeaseManager.swap_gpu (RMA): a failed GPU of an active lease goes back to the operator, a
replacement worth at least as much comes in LEASED in its place, and the lease runs on."""

import ape

from tests.unit.lease_manager.conftest import INSTALMENTS
from tests.utils.registry import YEAR, GpuStatus
from tests.utils.vault import DAY, DEFAULT_AFTER, logs_of


def replacement_for(registry, collateral, operator, gpu, **spec) -> int:
    """A GPU registered to the operator (attested at registration) and approved to the pool."""
    token_id = gpu(**spec)
    registry.approve(collateral, token_id, sender=operator)
    return token_id


def test_swap_gpu(lease_book, registry, operator, lessee, gpu, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases, collateral = kit.leases, kit.collateral
    failed = lease_book.gpu_ids[1]
    # Acquired now: worth more than the failed one, acquired 30 days before the lease.
    new = replacement_for(registry, collateral, operator, gpu, acquired_at=chain.pending_timestamp)
    nav = kit.vault.totalAssets()

    tx = leases.swap_gpu(lease_id, failed, new, sender=operator)

    [log] = tx.decode_logs(leases.GpuReplaced)
    [released] = logs_of(tx, collateral, "GpuReleased")
    [admitted] = logs_of(tx, collateral, "GpuAdmitted")
    assert (log.lease_id, log.failed, log.replacement, log.operator) == (
        lease_id,
        failed,
        new,
        operator,
    )
    assert (log.value_out, log.value_in) == (released.value, admitted.value)
    assert (released.token_id, released.to, released.price) == (failed, operator, 0)
    assert (admitted.token_id, admitted.owner, admitted.price) == (new, operator, 0)
    assert 0 < log.value_out < log.value_in == collateral.value_of(new)
    assert collateral.value_of(failed) == 0
    expected = [*lease_book.gpu_ids]
    expected[1] = new
    assert list(leases.lease_gpus(lease_id)) == expected
    assert (leases.lease_of_gpu(failed), leases.lease_of_gpu(new)) == (0, lease_id)
    assert (registry.ownerOf(failed), registry.gpu(failed).status) == (operator, GpuStatus.ACTIVE)
    assert (registry.ownerOf(new), registry.gpu(new).status) == (
        collateral.address,
        GpuStatus.LEASED,
    )
    # Free cash is untouched; NAV moves by the values exchanged (one wei a GPU of rounding).
    assert abs(kit.vault.totalAssets() - (nav + log.value_in - log.value_out)) <= 1
    # The lease runs on; its completion frees the replacement, not the failed GPU.
    for _ in range(INSTALMENTS):
        leases.pay_instalment(lease_id, sender=lessee)
    assert registry.gpu(new).status == GpuStatus.ACTIVE
    assert leases.lease_of_gpu(new) == 0


def test_swap_an_impaired_gpu(lease_book, registry, appraiser, operator, gpu):
    """The usual RMA: the appraiser impaired the failed GPU (its value left NAV then, and it held
    entries: it might have been restored); it goes to the operator IMPAIRED, nothing of value
    leaves with it, and its hold goes with it: entries open again."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    failed = lease_book.gpu_ids[0]
    registry.set_status(failed, GpuStatus.IMPAIRED, sender=appraiser)
    assert (kit.collateral.held_down(), kit.collateral.entries_open()) == (1, False)
    new = replacement_for(registry, kit.collateral, operator, gpu)
    tx = kit.leases.swap_gpu(lease_id, failed, new, sender=operator)
    assert (kit.collateral.held_down(), kit.collateral.entries_open()) == (0, True)
    [log] = tx.decode_logs(kit.leases.GpuReplaced)
    assert log.value_out == 0 < log.value_in
    assert (registry.ownerOf(failed), registry.gpu(failed).status) == (
        operator,
        GpuStatus.IMPAIRED,
    )
    assert registry.gpu(new).status == GpuStatus.LEASED


def test_swap_refused(lease_book, registry, operator, attacker, free_gpu, gpu, chain):
    """Each refusal leaves the lease, the GPUs and the pool as they were."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases, collateral = kit.leases, kit.collateral
    failed, other = lease_book.gpu_ids[:2]
    new = replacement_for(registry, collateral, operator, gpu)
    outside = free_gpu()
    old = replacement_for(
        registry, collateral, operator, gpu, acquired_at=chain.pending_timestamp - 4 * YEAR
    )
    unapproved = gpu()
    cash = kit.vault.free_cash()
    cases = [
        ((lease_id + 1, failed, new), "lease: not active"),
        ((lease_id, outside, new), "lease: gpu not in the lease"),
        ((lease_id, failed, failed), "lease: replacement is the failed gpu"),
        ((lease_id, failed, other), "lease: gpu already leased"),
        ((lease_id, failed, old), "lease: replacement worth less"),
        ((lease_id, failed, unapproved), "erc721: caller is not token owner or approved"),
        ((lease_id, failed, outside), "collateral: owner does not own the gpu"),
    ]
    for args, reason in cases:
        with ape.reverts(reason):
            leases.swap_gpu(*args, sender=operator)
    assert list(leases.lease_gpus(lease_id)) == lease_book.gpu_ids
    assert registry.gpu(failed).status == GpuStatus.LEASED
    assert registry.ownerOf(failed) == collateral.address
    assert kit.vault.free_cash() == cash
    for token_id in (new, old, unapproved):
        assert collateral.position(token_id)[0] == 0  # not held
        assert registry.ownerOf(token_id) == operator
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    leases.declare_default(lease_id, sender=attacker)
    with ape.reverts("lease: not active"):
        leases.swap_gpu(lease_id, failed, new, sender=operator)
