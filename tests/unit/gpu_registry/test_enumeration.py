"""ERC-721 enumerable: totalSupply and tokenByIndex without storage (ids are sequential from 1 and
never burnt, so `register` no longer writes snekmate's all-tokens index), tokenOfOwnerByIndex
through transfers in and out."""

import ape

from tests.utils.registry import MAX_BATCH, GpuStatus

GLOBAL_OUT_OF_BOUNDS = "erc721: global index out of bounds"
OWNER_OUT_OF_BOUNDS = "erc721: owner index out of bounds"


def owned(registry, owner) -> list[int]:
    """The owner's tokens in tokenOfOwnerByIndex order."""
    return [registry.tokenOfOwnerByIndex(owner, i) for i in range(registry.balanceOf(owner))]


def test_empty_registry(registry, investor):
    assert registry.totalSupply() == 0
    with ape.reverts(GLOBAL_OUT_OF_BOUNDS):
        registry.tokenByIndex(0)
    with ape.reverts(OWNER_OUT_OF_BOUNDS):
        registry.tokenOfOwnerByIndex(investor, 0)


def test_token_by_index_is_sequential_across_batches(
    registry, register_gpus, investor, other_investor
):
    """Three batches to two owners: index i is token i + 1, though `register` writes no global
    index (the registry's tokenByIndex computes it; snekmate's is not exported)."""
    register_gpus(3)
    register_gpus(2, owner=other_investor)
    register_gpus(2)

    assert registry.totalSupply() == 7
    assert [registry.tokenByIndex(i) for i in range(7)] == [1, 2, 3, 4, 5, 6, 7]
    assert owned(registry, investor) == [1, 2, 3, 6, 7]
    assert owned(registry, other_investor) == [4, 5]
    for index in (7, 2**256 - 1):
        with ape.reverts(GLOBAL_OUT_OF_BOUNDS):
            registry.tokenByIndex(index)


def test_token_by_index_after_a_full_batch(registry, register_gpus):
    register_gpus(MAX_BATCH)

    assert registry.totalSupply() == MAX_BATCH
    for index in (0, 1, MAX_BATCH // 2, MAX_BATCH - 1):
        assert registry.tokenByIndex(index) == index + 1


def test_enumeration_after_transfers_out_and_in(registry, register_gpus, investor, other_investor):
    register_gpus(4)

    # Out: snekmate moves the owner's last token into the freed slot.
    registry.transferFrom(investor, other_investor, 2, sender=investor)
    assert owned(registry, investor) == [1, 4, 3]
    assert owned(registry, other_investor) == [2]

    registry.transferFrom(investor, other_investor, 4, sender=investor)
    assert owned(registry, investor) == [1, 3]
    assert owned(registry, other_investor) == [2, 4]

    # In: a token coming back is appended.
    registry.transferFrom(other_investor, investor, 2, sender=other_investor)
    assert owned(registry, investor) == [1, 3, 2]
    assert owned(registry, other_investor) == [4]

    # The global enumeration does not move with ownership.
    assert registry.totalSupply() == 4
    assert [registry.tokenByIndex(i) for i in range(4)] == [1, 2, 3, 4]
    with ape.reverts(GLOBAL_OUT_OF_BOUNDS):
        registry.tokenByIndex(4)
    with ape.reverts(OWNER_OUT_OF_BOUNDS):
        registry.tokenOfOwnerByIndex(investor, 3)


def test_enumeration_after_transferring_everything(
    registry, register_gpus, investor, other_investor
):
    register_gpus(2)

    registry.transferFrom(investor, other_investor, 1, sender=investor)
    registry.transferFrom(investor, other_investor, 2, sender=investor)

    assert registry.balanceOf(investor) == 0
    with ape.reverts(OWNER_OUT_OF_BOUNDS):
        registry.tokenOfOwnerByIndex(investor, 0)
    assert owned(registry, other_investor) == [1, 2]
    assert [registry.tokenByIndex(i) for i in range(2)] == [1, 2]


def test_total_supply_counts_retired_units(registry, register_gpus, set_status):
    """A retired unit keeps its token and its place: nothing is ever burnt."""
    register_gpus(3)

    set_status(2, GpuStatus.RETIRED)

    assert registry.totalSupply() == 3
    assert registry.tokenByIndex(1) == 2
    assert registry.ownerOf(2) == registry.terms(2).owner
