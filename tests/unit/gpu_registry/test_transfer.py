"""ERC-721 movement of registered units: transfers keep the unit's metadata and history."""

import ape

from tests.utils.registry import GpuStatus


def test_transfer_by_owner(registry, register_gpus, investor, other_investor):
    register_gpus(2)
    before = registry.gpu(1)

    tx = registry.transferFrom(investor, other_investor, 1, sender=investor)

    assert registry.ownerOf(1) == other_investor
    assert (registry.balanceOf(investor), registry.balanceOf(other_investor)) == (1, 1)
    assert registry.tokenOfOwnerByIndex(investor, 0) == 2
    assert registry.tokenOfOwnerByIndex(other_investor, 0) == 1
    assert registry.gpu(1) == before
    [log] = tx.decode_logs(registry.Transfer)
    assert (log.sender, log.receiver, log.token_id) == (investor, other_investor, 1)
    assert tx.decode_logs(registry.GpuStatusChanged) == []


def test_transfer_by_approved_spender(registry, register_gpus, investor, operator):
    register_gpus(1)
    registry.approve(operator, 1, sender=investor)
    assert registry.getApproved(1) == operator

    registry.safeTransferFrom(investor, operator, 1, sender=operator)

    assert registry.ownerOf(1) == operator
    assert registry.getApproved(1) == "0x" + "00" * 20


def test_transfer_by_operator_for_all(registry, register_gpus, investor, operator, lessee):
    register_gpus(2)
    registry.setApprovalForAll(operator, True, sender=investor)
    assert registry.isApprovedForAll(investor, operator)

    registry.transferFrom(investor, lessee, 2, sender=operator)

    assert registry.ownerOf(2) == lessee


def test_transfer_refused_to_others(registry, register_gpus, investor, attacker, custodian):
    register_gpus(1)

    for sender in (attacker, custodian):
        with ape.reverts("erc721: caller is not token owner or approved"):
            registry.transferFrom(investor, sender, 1, sender=sender)

    assert registry.ownerOf(1) == investor


def test_transfer_keeps_status(registry, register_gpus, set_status, investor, other_investor):
    register_gpus(1)
    set_status(1, GpuStatus.LEASED)

    registry.transferFrom(investor, other_investor, 1, sender=investor)

    assert registry.gpu(1).status == GpuStatus.LEASED
