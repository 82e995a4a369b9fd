"""RedemptionQueue mirrors for tests: constants, revert reasons, the ERC-165 ids computed from the
standards' function lists, a Python model of the queue, the checks of invariant 10, and the pool
set-up the queue's unit and e2e tests share.

The model (`QueueModel`) restates the queue's rules in Python: a first-in-first-out list of
requests, each controller's pending, claimable and cancelled totals, fulfilment at one NAV
(each request its shares' NAV rounded down; the part of a request the cash pays found by search,
not by the contract's closed form), and claims with their rounding. Tests apply to it what a
transaction does and compare it with the contract to the wei (`assert_matches`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import ape
from eth_utils import keccak, to_checksum_address

from tests.utils.registry import make_spec
from tests.utils.vault import (
    ADVANCE_RATE_BPS,
    BPS,
    DAY,
    YEAR,
    buy,
    fund,
    key_of,
    largest,
    to_assets,
)

# RedemptionQueue's constants.
MAX_OPEN_PER_CONTROLLER = 16
MAX_OPEN_REQUESTS = 10_000
MAX_FULFIL_BATCH = 256
MAX_PAGE = 64
# Storage slot of `open_requests` (`vyper -f layout --evm-version shanghai`: slot 0 is the
# reentrancy lock a pre-Cancun build keeps): the one test that fills the queue writes it instead
# of sending ten thousand requests, and checks the slot first.
OPEN_REQUESTS_SLOT = 8

# Revert reasons.
NOT_OWNER_OR_OPERATOR = "queue: caller is not owner or operator"
BELOW_MINIMUM = "queue: request below minimum"
ZERO_CONTROLLER = "queue: zero controller"
TOO_MANY_OPEN = "queue: too many open requests"
QUEUE_FULL = "queue: queue full"
NO_PENDING = "queue: no pending request"
NO_CASH = "queue: no cash to fulfil"
ZERO_REQUESTS = "queue: zero requests"
TOO_MANY_REQUESTS = "queue: too many requests"
ZERO_SHARES = "queue: zero shares"
ZERO_ASSETS = "queue: zero assets"
ABOVE_CLAIMABLE = "queue: claim above claimable"
NOTHING_CANCELLED = "queue: nothing cancelled to claim"
NOTHING_TO_SWEEP = "queue: nothing to sweep"
OPERATOR_IS_CALLER = "queue: operator is the caller"
ZERO_MINIMUM = "queue: zero minimum request"
DEPOSITS_ELSEWHERE = "queue: deposits go to the vault"
NO_PREVIEW = "queue: asynchronous redeem has no preview"
CONTROLLER_NOT_VERIFIED = "identity: controller not verified"
EXCEEDS_BALANCE = "erc20: transfer amount exceeds balance"
INSUFFICIENT_FREE_CASH = "vault: insufficient free cash"
ARRIVED_SHORT = "queue: asset arrived short (fee on transfer)"

USDC = 10**6
# A GPU whose cost equals its salvage value keeps one collateral value for its whole life: with
# only such a GPU, a pool's NAV is free cash plus a constant, so a fulfilment's price is known
# before its block is mined. 50,000 USDC at the 80% advance rate, less the wei GpuCollateral
# takes off per counted GPU.
FLAT_COST = 50_000 * USDC
FLAT_VALUE = FLAT_COST * ADVANCE_RATE_BPS // BPS - 1
# The flat pool's lease: one instalment a month.
INSTALMENT = 5_000 * USDC
PERIOD = 30 * DAY


def interface_id(*signatures: str) -> bytes:
    """ERC-165: the XOR of the functions' selectors."""
    value = 0
    for signature in signatures:
        value ^= int.from_bytes(keccak(text=signature)[:4], "big")
    return value.to_bytes(4, "big")


# The ids the queue supports, from the function lists of each standard.
ERC165_ID = interface_id("supportsInterface(bytes4)")
ACCESS_CONTROL_ID = interface_id(
    "hasRole(bytes32,address)",
    "getRoleAdmin(bytes32)",
    "grantRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "renounceRole(bytes32,address)",
)
ERC7540_OPERATOR_ID = interface_id("isOperator(address,address)", "setOperator(address,bool)")
ERC7540_REDEEM_ID = interface_id(
    "requestRedeem(uint256,address,address)",
    "pendingRedeemRequest(uint256,address)",
    "claimableRedeemRequest(uint256,address)",
)
# ERC-7575's vault interface: ERC-4626's functions without the ERC-20 ones, plus share().
ERC7575_ID = interface_id(
    "asset()",
    "share()",
    "convertToShares(uint256)",
    "convertToAssets(uint256)",
    "totalAssets()",
    "maxDeposit(address)",
    "previewDeposit(uint256)",
    "deposit(uint256,address)",
    "maxMint(address)",
    "previewMint(uint256)",
    "mint(uint256,address)",
    "maxWithdraw(address)",
    "previewWithdraw(uint256)",
    "withdraw(uint256,address,address)",
    "maxRedeem(address)",
    "previewRedeem(uint256)",
    "redeem(uint256,address,address)",
)
ERC7887_REDEEM_ID = interface_id(
    "cancelRedeemRequest(uint256,address)",
    "pendingCancelRedeemRequest(uint256,address)",
    "claimableCancelRedeemRequest(uint256,address)",
    "claimCancelRedeemRequest(uint256,address,address)",
)
SUPPORTED_IDS = {
    "ERC-165": ERC165_ID,
    "AccessControl": ACCESS_CONTROL_ID,
    "ERC-7540 operators": ERC7540_OPERATOR_ID,
    "ERC-7540 async redeem": ERC7540_REDEEM_ID,
    "ERC-7575": ERC7575_ID,
    "ERC-7887 cancel redeem": ERC7887_REDEEM_ID,
}


# READING RECEIPTS #


def request_id_of(tx, queue) -> int:
    """The id a requestRedeem receipt gave (its RedeemRequest event)."""
    [log] = queue.RedeemRequest.from_receipt(tx)
    return log.requestId


def request(queue, owner, shares: int, controller=None, sender=None) -> int:
    """`owner` (or `sender`, its operator) requests `shares` for `controller` (the owner by
    default); returns the request id."""
    tx = queue.requestRedeem(shares, controller or owner, owner, sender=sender or owner)
    return request_id_of(tx, queue)


# THE MODEL #


@dataclass
class Fulfilled:
    """One RedeemFulfilled event as the model predicts it."""

    controller: str
    request_id: int
    shares: int
    assets: int
    remaining: int

    def matches(self, log) -> bool:
        return (log.controller, log.requestId, log.shares, log.assets, log.remaining) == (
            self.controller,
            self.request_id,
            self.shares,
            self.assets,
            self.remaining,
        )


class QueueModel:
    """The queue in Python: ids in request order, each pending request's controller and shares,
    each controller's claimable (shares, assets) and cancelled shares."""

    def __init__(self) -> None:
        self.pending: dict[int, list] = {}  # id -> [controller, shares], in queue order
        self.last_id = 0
        self.claimable: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.cancelled: dict[str, int] = defaultdict(int)

    @classmethod
    def read(cls, queue, controllers=()) -> QueueModel:
        """The queue's state now (its list through `requests`, the totals of `controllers`)."""
        model = cls()
        model.last_id = queue.last_id()
        for request_id, controller, shares in read_list(queue):
            model.pending[request_id] = [key_of(controller), shares]
        for controller in controllers:
            _, _, shares, assets, cancelled = queue.controller_state(controller)
            model.claimable[key_of(controller)] = [shares, assets]
            model.cancelled[key_of(controller)] = cancelled
        return model

    # Totals.
    @property
    def pending_shares(self) -> int:
        return sum(shares for _, shares in self.pending.values())

    @property
    def reserved(self) -> int:
        return sum(assets for _, assets in self.claimable.values())

    @property
    def cancelled_shares(self) -> int:
        return sum(self.cancelled.values())

    def pending_of(self, controller) -> tuple[int, int]:
        """(pending shares, open requests) of `controller`."""
        mine = [s for c, s in self.pending.values() if c == key_of(controller)]
        return sum(mine), len(mine)

    # What transactions do.
    def request(self, controller, shares: int) -> int:
        self.last_id += 1
        self.pending[self.last_id] = [key_of(controller), shares]
        return self.last_id

    def cancel(self, request_id: int) -> None:
        controller, shares = self.pending.pop(request_id)
        self.cancelled[controller] += shares

    def claim_back(self, controller) -> int:
        shares = self.cancelled.pop(key_of(controller), 0)
        return shares

    def fulfil(self, max_requests: int, total_assets: int, supply: int, cash: int) -> list:
        """Fulfil from the head at NAV `total_assets` over `supply` with `cash` free: each request
        gets its shares' NAV rounded down; where the cash ends inside a request, that request
        gets the most shares the cash left pays (searched for) and the rest stays pending; a
        request whose pending shares are worth nothing at this NAV is closed for nothing (while
        cash is left), as it could never be paid. Returns the Fulfilled events in order."""
        left = cash
        events = []
        for request_id in list(self.pending)[:max_requests]:
            controller, pending = self.pending[request_id]
            worth = to_assets(pending, total_assets, supply)
            if worth <= left:
                take, assets = pending, worth
            else:
                take = largest(
                    lambda x, cap=left: to_assets(x, total_assets, supply) <= cap, pending
                )
                assets = to_assets(take, total_assets, supply)
            if assets == 0 and (take != pending or left == 0):
                break
            left -= assets
            remaining = pending - take
            events.append(Fulfilled(controller, request_id, take, assets, remaining))
            if assets != 0:
                self.claimable[controller][0] += take
                self.claimable[controller][1] += assets
            if remaining:
                self.pending[request_id][1] = remaining
                break
            del self.pending[request_id]
        return events

    def redeem(self, controller, shares: int) -> int:
        """A `redeem` claim: assets rounded down, all of them for all the shares."""
        claimable = self.claimable[key_of(controller)]
        total_shares, total_assets = claimable
        assets = total_assets if shares == total_shares else shares * total_assets // total_shares
        claimable[0] -= shares
        claimable[1] -= assets
        return assets

    def withdraw(self, controller, assets: int) -> int:
        """A `withdraw` claim: shares rounded up, all of them for all the assets, and at least one
        left for any assets left."""
        claimable = self.claimable[key_of(controller)]
        total_shares, total_assets = claimable
        if assets == total_assets:
            shares = total_shares
        else:
            shares = min(-(-assets * total_shares // total_assets), total_shares - 1)
        claimable[0] -= shares
        claimable[1] -= assets
        return shares

    def assert_matches(self, queue, controllers=()) -> None:
        """The contract's list, totals and each of `controllers`' state equal the model's."""
        assert [tuple(entry) for entry in read_list(queue)] == [
            (request_id, controller, shares)
            for request_id, (controller, shares) in self.pending.items()
        ]
        assert queue.last_id() == self.last_id
        assert queue.open_requests() == len(self.pending)
        assert queue.pending_shares() == self.pending_shares
        assert queue.reserved() == self.reserved
        assert queue.cancelled_shares() == self.cancelled_shares
        for controller in controllers:
            key = key_of(controller)
            assert tuple(queue.controller_state(controller)) == (
                *self.pending_of(controller),
                *self.claimable[key],
                self.cancelled[key],
            )


# READING THE QUEUE AND ITS INVARIANT #


def read_list(queue) -> list[tuple[int, str, int]]:
    """Every pending request in queue order, paging through `requests` (MAX_PAGE a call):
    (id, controller, pending shares)."""
    entries: list[tuple[int, str, int]] = []
    start = 0
    while True:
        page = queue.requests(start, MAX_PAGE)
        entries += [(rid, _address(controller), shares) for rid, controller, shares in page]
        if len(page) < MAX_PAGE:
            return entries
        start = queue.request(page[-1][0])[3]
        if start == 0:
            return entries


def _address(value: int) -> str:
    return to_checksum_address(value.to_bytes(20, "big"))


def check_queue_books(kit, controllers) -> None:
    """Invariant 10 and the list's links, read at one block (two JSON-RPC batches). `controllers`:
    every controller that ever used the queue (their totals must add up to the queue's).
    - The list: ids ascending from `head` to `tail`; each entry's next is the following id and
      each entry but the head names the one before it; `open_requests` entries, their shares
      `pending_shares`; per controller, its pending shares and open requests are its entries'.
    - Escrow: the vault's own balance = DEAD_SHARES + pending + cancelled not yet claimed back.
    - Reserve: the queue's stablecoin = `reserved` = the controllers' claimable assets.
    - The ERC-7540/7887 views of each controller are its totals; max*: exactly the claimable
      (0 while paused)."""
    from ape import chain

    from tests.utils.exploits import read_all

    vault, queue, token = kit.vault, kit.queue, kit.token
    totals = [
        (queue.head, ()),
        (queue.tail, ()),
        (queue.open_requests, ()),
        (queue.pending_shares, ()),
        (queue.cancelled_shares, ()),
        (queue.reserved, ()),
        (vault.paused, ()),
        (vault.DEAD_SHARES, ()),
        (vault.balanceOf, (vault,)),
        (token.balanceOf, (queue,)),
        (queue.requests, (0, MAX_PAGE)),
    ]
    per_controller = [
        call
        for c in controllers
        for call in (
            (queue.controller_state, (c,)),
            (queue.pendingRedeemRequest, (0, c)),
            (queue.claimableRedeemRequest, (0, c)),
            (queue.claimableCancelRedeemRequest, (0, c)),
            (queue.maxRedeem, (c,)),
            (queue.maxWithdraw, (c,)),
        )
    ]
    _, values = read_all(chain, totals + per_controller)
    head, tail, open_requests, pending_shares, cancelled_shares, reserved = values[:6]
    paused, dead, escrow, reserve_balance, page = values[6:11]
    entries = [(rid, _address(c), shares) for rid, c, shares in page]
    if len(entries) == MAX_PAGE:
        entries = read_list(queue)
    ids = [rid for rid, _, _ in entries]
    assert ids == sorted(ids)
    assert head == (ids[0] if ids else 0)
    assert tail == (ids[-1] if ids else 0)
    _, links = read_all(chain, [(queue.request, (rid,)) for rid in ids]) if ids else (0, [])
    for i, ((rid, controller, shares), entry) in enumerate(zip(entries, links, strict=True)):
        assert (to_checksum_address(entry[0]), entry[1]) == (controller, shares), rid
        assert entry[3] == (ids[i + 1] if i + 1 < len(ids) else 0)
        if i:
            assert entry[2] == ids[i - 1]
    assert open_requests == len(entries)
    assert pending_shares == sum(shares for _, _, shares in entries)
    pending = claimable = cancelled = 0
    for i, controller in enumerate(controllers):
        state, pending_view, claimable_view, cancelled_view, max_redeem, max_withdraw = values[
            11 + 6 * i : 17 + 6 * i
        ]
        mine = [shares for _, c, shares in entries if c == key_of(controller)]
        assert (state[0], state[1]) == (sum(mine), len(mine)), key_of(controller)
        assert (pending_view, claimable_view, cancelled_view) == (state[0], state[2], state[4])
        assert (max_redeem, max_withdraw) == ((0, 0) if paused else (state[2], state[3]))
        pending += state[0]
        claimable += state[3]
        cancelled += state[4]
    assert pending == pending_shares
    assert cancelled == cancelled_shares
    assert escrow == dead + pending + cancelled
    assert reserve_balance == reserved == claimable


# THE FLAT POOL #


@dataclass
class FlatPool:
    """A pool whose NAV the clock does not move: one flat GPU (contributed by the operator, who got
    the fractions), leased to the lessee (funded, vault approved), and the buyers' cash."""

    kit: Any
    gpu: int
    lease_id: int


def flat_pool(create_vault, registry, custodian, operator, lessee, chain, buyers) -> FlatPool:
    """Deploy and fill a flat pool. `buyers`: (account, whole USDC) pairs, deposited in order."""
    kit = create_vault()
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    spec = make_spec(
        acquired_at=chain.pending_timestamp - 30 * DAY,
        acquisition_cost=FLAT_COST,
        salvage_value=FLAT_COST,
        useful_life=YEAR,
    )
    tx = registry.register(operator, [spec], sender=custodian)
    [token_id] = [log.token_id for log in tx.decode_logs(registry.GpuRegistered)]
    registry.approve(collateral, token_id, sender=operator)
    collateral.contribute(token_id, operator, 0, sender=operator)
    for account, whole in buyers:
        buy(vault, token, account, whole * USDC)
    kit.leases.open_lease(lessee, INSTALMENT, PERIOD, 12, 5 * DAY, [token_id], sender=operator)
    fund(token, lessee, 12 * INSTALMENT)
    token.approve(vault, 12 * INSTALMENT, sender=lessee)
    return FlatPool(kit=kit, gpu=token_id, lease_id=kit.leases.lease_count())


def nav(kit) -> tuple[int, int, int]:
    """(total assets, supply, free cash) now: what a fulfilment in the next block prices from
    when the NAV does not move with the clock (a flat pool)."""
    vault = kit.vault
    return vault.totalAssets(), vault.totalSupply(), vault.free_cash()


def creation_revert_reason(container, sender, *args) -> str:
    """The revert reason of a deployment, read with eth_call (which spends no nonce). Anvil
    answers a revert as web3's ContractLogicError, Ganache as an RPC error carrying the same
    revert data."""
    from eth_abi import decode
    from hexbytes import HexBytes
    from web3.exceptions import ContractLogicError, Web3RPCError

    data = HexBytes(container.contract_type.deployment_bytecode.bytecode) + HexBytes(
        container.constructor.encode_input(*args)
    )
    try:
        ape.chain.provider.web3.eth.call({"from": sender.address, "data": data.hex()})
    except ContractLogicError as error:
        revert = HexBytes(error.data if isinstance(error.data, str) else error.args[1])
    except Web3RPCError as error:
        revert = HexBytes(error.rpc_response["error"]["data"])
    else:
        raise AssertionError("the deployment did not revert")
    assert revert[:4] == HexBytes("0x08c379a0")  # Error(string)
    return decode(["string"], revert[4:])[0]


def set_storage(chain, address, slot: int, value: int) -> None:
    """Write a storage slot (Anvil's anvil_setStorageAt, Ganache's evm_setAccountStorageAt)."""
    from tests.utils.exploits import on_anvil

    web3 = chain.provider.web3
    word = "0x" + value.to_bytes(32, "big").hex()
    if on_anvil(chain):
        response = web3.provider.make_request("anvil_setStorageAt", [str(address), hex(slot), word])
    else:
        response = web3.provider.make_request(
            "evm_setAccountStorageAt", [str(address), "0x" + slot.to_bytes(32, "big").hex(), word]
        )
    assert "error" not in response, response
