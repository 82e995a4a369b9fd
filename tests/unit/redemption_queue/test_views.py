"""The queue's entry point and views: ERC-165 ids (computed here from each standard's functions),
ERC-7575 (`share` is the vault, `asset` the stablecoin, conversions and NAV are the vault's),
deposits refused and previews reverting as ERC-7540 requires, the request and controller views,
and `requests` paging through the list."""

import ape

from tests.utils.exploits import send_all
from tests.utils.queue import (
    DEPOSITS_ELSEWHERE,
    FLAT_VALUE,
    MAX_FULFIL_BATCH,
    MAX_OPEN_PER_CONTROLLER,
    MAX_OPEN_REQUESTS,
    MAX_PAGE,
    NO_PREVIEW,
    SUPPORTED_IDS,
    check_queue_books,
    interface_id,
    read_list,
    request,
)
from tests.utils.vault import FULFILLER_ROLE, JURISDICTION, MIN_REQUEST, buy


def test_supports_interface(flat_kit):
    queue = flat_kit.queue
    for name, interface in SUPPORTED_IDS.items():
        assert queue.supportsInterface(interface), name
    # Not: ERC-7540's asynchronous deposit, the share token's ERC-7575 id (the vault's to
    # declare), ERC-20, and the id ERC-165 reserves as invalid.
    for interface in (
        interface_id(
            "requestDeposit(uint256,address,address)",
            "pendingDepositRequest(uint256,address)",
            "claimableDepositRequest(uint256,address)",
        ),
        interface_id("vault(address)"),
        interface_id(
            "totalSupply()",
            "balanceOf(address)",
            "transfer(address,uint256)",
            "transferFrom(address,address,uint256)",
            "approve(address,uint256)",
            "allowance(address,address)",
        ),
        b"\xff\xff\xff\xff",
        b"\x00\x00\x00\x00",
    ):
        assert not queue.supportsInterface(interface), interface.hex()


def test_erc7575_entry_point(flat_kit, identity, investor, admin):
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    assert queue.share() == queue.VAULT() == vault.address
    assert queue.asset() == token.address
    assert queue.IDENTITY_REGISTRY() == identity.address
    # The flat pool's NAV: its cash and the flat GPU's constant value (the reserve is outside).
    assert queue.totalAssets() == vault.totalAssets() == vault.free_cash() + FLAT_VALUE
    for amount in (0, 1, 10**6 + 7, 10**18):
        assert queue.convertToShares(amount) == vault.convertToShares(amount)
        assert queue.convertToAssets(amount) == vault.convertToAssets(amount)
    # Deposits go to the vault itself.
    assert vault.maxDeposit(investor) > 0
    assert queue.maxDeposit(investor) == queue.maxMint(investor) == 0
    assert (
        queue.MAX_OPEN_PER_CONTROLLER(),
        queue.MAX_OPEN_REQUESTS(),
        queue.MAX_FULFIL_BATCH(),
        queue.MAX_PAGE(),
    ) == (MAX_OPEN_PER_CONTROLLER, MAX_OPEN_REQUESTS, MAX_FULFIL_BATCH, MAX_PAGE)
    assert queue.FULFILLER_ROLE() == FULFILLER_ROLE
    assert queue.min_request() == MIN_REQUEST


def test_deposits_and_previews_revert(flat_kit, investor):
    queue, token = flat_kit.queue, flat_kit.token
    with ape.reverts(DEPOSITS_ELSEWHERE):
        queue.previewDeposit(10**6)
    with ape.reverts(DEPOSITS_ELSEWHERE):
        queue.previewMint(10**12)
    # ERC-7540: an asynchronous redeem has no preview (the price is the fulfilling block's).
    with ape.reverts(NO_PREVIEW):
        queue.previewRedeem(10**12)
    with ape.reverts(NO_PREVIEW):
        queue.previewWithdraw(10**6)
    token.approve(queue, 10**6, sender=investor)
    balance = token.balanceOf(investor)
    with ape.reverts(DEPOSITS_ELSEWHERE):
        queue.deposit(10**6, investor, sender=investor)
    with ape.reverts(DEPOSITS_ELSEWHERE):
        queue.mint(10**12, investor, sender=investor)
    assert token.balanceOf(investor) == balance


def test_request_views(flat_kit, investor, other_investor, operator):
    """`request(id)` and `pendingRedeemRequest(id, controller)` of a request, of someone else's,
    of a fulfilled one and of an id never given; claimable views ignore the id (claims are per
    controller)."""
    queue = flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    request(queue, other_investor, 2 * MIN_REQUEST, controller=investor)
    request(queue, other_investor, 3 * MIN_REQUEST)
    assert tuple(queue.request(2)) == (investor, 2 * MIN_REQUEST, 1, 3)
    assert queue.pendingRedeemRequest(2, investor) == 2 * MIN_REQUEST
    assert queue.pendingRedeemRequest(2, other_investor) == 0
    assert queue.pendingRedeemRequest(0, investor) == 3 * MIN_REQUEST
    assert tuple(queue.request(4)) == (ape.utils.ZERO_ADDRESS, 0, 0, 0)
    assert queue.pendingRedeemRequest(4, investor) == 0
    queue.fulfil(2, sender=operator)
    assert queue.pendingRedeemRequest(1, investor) == 0
    _, _, shares, assets, _ = queue.controller_state(investor)
    assert shares == 3 * MIN_REQUEST and assets > 0
    for request_id in (0, 1, 2, 3, 99):
        assert queue.claimableRedeemRequest(request_id, investor) == shares
        assert queue.claimableRedeemRequest(request_id, other_investor) == 0
    # The head is now request 3: it names no next entry.
    assert (queue.head(), queue.tail()) == (3, 3)
    assert queue.request(3)[0] == other_investor and queue.request(3)[3] == 0
    check_queue_books(flat_kit, [investor, other_investor])


def test_requests_paging(
    flat_kit, investor, other_investor, operator, admin, pauser, compliance, identity, chain
):
    """Eighty requests of five controllers: `requests` gives MAX_PAGE at most a call, in queue
    order, from the head (0) or from any pending id; a count of 0, or an id not pending, gives
    none; cancelled requests are skipped."""
    vault, queue = flat_kit.vault, flat_kit.queue
    # Two more verified controllers, for whom the investor requests.
    identity.verify_batch([admin, pauser], 2**40, JURISDICTION, sender=compliance)
    buy(vault, flat_kit.token, investor, 1_000 * 10**6)
    calls = []
    for owner, controller in [
        (investor, investor),
        (other_investor, other_investor),
        (operator, operator),
        (investor, admin),
        (investor, pauser),
    ]:
        for _ in range(MAX_OPEN_PER_CONTROLLER):
            # Request i asks for MIN_REQUEST + i - 1.
            calls.append(
                (queue.requestRedeem, (MIN_REQUEST + len(calls), controller, owner), owner)
            )
    send_all(chain, calls)
    assert queue.open_requests() == 80
    first = queue.requests(0, 1_000)
    assert len(first) == MAX_PAGE
    assert [entry[0] for entry in first] == list(range(1, MAX_PAGE + 1))
    assert first[20][2] == MIN_REQUEST + 20
    assert list(queue.requests(0, 3)) == list(first[:3])
    assert list(queue.requests(5, 2)) == list(first[4:6])
    assert list(queue.requests(0, 0)) == []
    assert list(queue.requests(81, 10)) == []
    rest = queue.requests(queue.request(MAX_PAGE)[3], MAX_PAGE)
    assert [entry[0] for entry in rest] == list(range(MAX_PAGE + 1, 81))
    # Cancelled entries are unlinked: pages skip them.
    queue.cancelRedeemRequest(2, investor, sender=investor)
    queue.cancelRedeemRequest(MAX_PAGE + 1, pauser, sender=pauser)
    assert [entry[0] for entry in queue.requests(1, 2)] == [1, 3]
    assert queue.request(MAX_PAGE)[3] == MAX_PAGE + 2
    ids = [entry[0] for entry in read_list(queue)]
    assert ids == [i for i in range(1, 81) if i not in (2, MAX_PAGE + 1)]
    # Fulfilled entries are gone from the pages too.
    queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    assert list(queue.requests(0, MAX_PAGE)) == []
    check_queue_books(flat_kit, [investor, other_investor, operator, admin, pauser])
