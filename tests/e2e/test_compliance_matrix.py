"""The compliance matrix (issue 9 item 8, invariants 5, 9 and 12, DOMAIN "Exit rights"): every path
that moves fractions, or pays out what they are worth, by every state the party it judges can be
in, each cell with the exact revert reason or the exact outcome, balances to the wei.

- A path is a row of `PATHS`: what is called, by whom, and which of its two investors the state is
  put on: `me` (the investor acting: sender, owner, controller, buyer, spender, payer, the
  receiver of a contribution, the seller of a GPU, the lost wallet) or `them` (the other investor:
  the receiver of fractions or stablecoin, the controller named, the new wallet).
- A state is a column of `STATES`, put on that investor (the unverified one is an address never
  verified, the attacker, which holds nothing): the vault paused; frozen entirely; partly frozen
  (everything but one unit, so the path moves more than the unfrozen part); verification expired;
  revoked; of a jurisdiction the pool does not admit (an allow list without its code, a block list
  with it); above the pool's maximum balance.
- `MATRIX` is the table path -> state -> expected outcome: a revert reason, or ALLOWED. For an
  allowed cell the outcome is exact: `Books` (every balance, freeze, claimable revenue, queue
  total and GPU owner the pool has) after the call equal the books before it with exactly the
  path's changes, computed from the reference conversions (tests/utils/vault.py, the queue
  model's rounding); nothing else moves. `test_matrix_covers_every_cell` fails when a cell is
  missing or a row names no path.
- Who acts for whom: a spender (transferFrom) and a payer (deposit for another) are judged by
  nothing but the pause: freezes and identities bind the holders, the sender and the receiver
  (ERC-3643's transferFrom checks only `from` and `to`).

One pool is set up for the module; ape restores its snapshot before each cell, so a cell pays
for its state's transactions and its call only. The exploits this matrix found (a named
controller made a holder past the pool's rules; enforcement on the vault's own account) have tests
of their own below, named after them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ape
import pytest

from tests.utils.exploits import read_all
from tests.utils.queue import FLAT_COST, FLAT_VALUE, QueueModel
from tests.utils.registry import make_spec
from tests.utils.vault import (
    DAY,
    FRACTION_BITS,
    JURISDICTION,
    MIN_REQUEST,
    OWNER_NOT_VERIFIED,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    YEAR,
    RevenueModel,
    fund,
    key_of,
    memoise_test_accounts,
    permit_signature,
    to_assets,
    to_shares,
)

USDC = 10**6
SHARES = 10**12  # one whole fraction of a 6-decimal pool
US = 840  # a jurisdiction the allow list leaves out, the block list names
REASON = b"\x09" * 32  # the order behind a freeze, forced transfer or recovery

# What the paths move.
MOVE = 2 * SHARES  # transfers and forced transfers: more than the one unit a partial freeze leaves
DEPOSIT = 100 * USDC
MINTED = 50 * SHARES
REDEEM = 10 * SHARES
WITHDRAW = 5 * USDC
QUEUE_REDEEM = MIN_REQUEST // 2  # half of the fulfilled request's shares
QUEUE_WITHDRAW = 3 * USDC  # part of its assets
OFFER = 1_000 * USDC  # what the operator offers for an investor's GPU
INSTALMENT = 1_000 * USDC

# The investor's three requests, made in the set-up.
CLAIMABLE_ID, CANCELLED_ID, PENDING_ID = 1, 2, 3

# Revert reasons, besides tests/utils/vault.py's.
FROZEN = "compliance: account frozen"
PART_FROZEN = "compliance: fractions frozen"
RECEIVER_FROZEN = "compliance: receiver frozen"
CONTROLLER_FROZEN = "compliance: controller frozen"
NOT_ADMITTED = "compliance: jurisdiction not admitted"
ABOVE_MAX = "compliance: balance above maximum"
CONTROLLER_NOT_VERIFIED = "identity: controller not verified"
SELLER_NOT_VERIFIED = "identity: seller not verified"
BURN_EXCEEDS = "erc20: burn amount exceeds balance"
TRANSFER_EXCEEDS = "erc20: transfer amount exceeds balance"
NOTHING_TO_CLAIM = "revenue: nothing to claim"
NO_PENDING = "queue: no pending request"
NOTHING_CANCELLED = "queue: nothing cancelled to claim"
ABOVE_CLAIMABLE = "queue: claim above claimable"
VAULT_ITSELF = "compliance: the vault itself"
ALLOWED = "allowed"

STATES = (
    "paused",
    "frozen",
    "partly frozen",
    "unverified",
    "expired",
    "revoked",
    "not on the allow list",
    "on the block list",
    "above the maximum",
)


# THE POOL #


@dataclass
class Matrix:
    """The module's pool and its parties."""

    kit: Any
    registry: Any
    identity: Any
    chain: Any
    roles: dict[str, Any]  # admin, operator, pauser, compliance and the three investors
    spare: int  # the operator's GPU, approved to the collateral: what a contribution brings in
    offered: dict[str, int]  # seller -> its GPU the operator offered to buy (investor, attacker)

    def __getattr__(self, name: str):
        roles = self.__dict__.get("roles", {})
        if name in roles:
            return roles[name]
        raise AttributeError(name)

    @property
    def vault(self):
        return self.kit.vault

    @property
    def token(self):
        return self.kit.token

    @property
    def queue(self):
        return self.kit.queue

    @property
    def desk(self):
        return self.kit.compliance

    def name(self, account) -> str:
        """The party's name in the books."""
        for name, party in self.parties().items():
            if key_of(party) == key_of(account):
                return name
        raise KeyError(account)

    def parties(self) -> dict[str, Any]:
        return {
            "investor": self.investor,
            "other_investor": self.other_investor,
            "attacker": self.attacker,
            "operator": self.operator,
            "vault": self.vault,
            "queue": self.queue,
        }

    def deadline(self) -> int:
        return self.chain.pending_timestamp + DAY


@pytest.fixture(scope="module")
def matrix(
    create_vault,
    registry,
    identity,
    custodian,
    admin,
    operator,
    pauser,
    compliance,
    lessee,
    investor,
    other_investor,
    attacker,
    chain,
) -> Matrix:
    """A pool whose every value holds still (set up once; ape restores it before each test):
    - GPUs whose cost is their salvage value (flat: NAV does not move with the clock): one the
      operator contributed (its fractions are the operator's) and leased, one more it may
      contribute, one the investor and one the attacker own, each offered for by the operator;
    - the investor holds ~100,000 USDC of fractions, the other investor ~1,000 (the maximum in
      the investor's "above the maximum" leaves room for everyone else); all three investors are
      funded and approved the vault; the investor and the attacker approved the operator as a
      spender, the other investor approved the investor and the attacker;
    - one instalment paid and vested in full (a one-day vesting period, two days ago), the
      revenue accumulator brought up to date: what each holder can claim holds still;
    - the investor's requests in the queue: #1 fulfilled (claimable), #2 cancelled (to claim
      back), #3 pending."""
    kit = create_vault(vesting_period=DAY)
    vault, token, collateral, queue, market = (
        kit.vault,
        kit.token,
        kit.collateral,
        kit.queue,
        kit.market,
    )
    acquired = chain.pending_timestamp - 30 * DAY

    def flat_gpu(owner) -> int:
        spec = make_spec(
            acquired_at=acquired,
            acquisition_cost=FLAT_COST,
            salvage_value=FLAT_COST,
            useful_life=YEAR,
        )
        tx = registry.register(owner, [spec], sender=custodian)
        [log] = tx.decode_logs(registry.GpuRegistered)
        registry.approve(collateral, log.token_id, sender=owner)
        return log.token_id

    leased, spare = flat_gpu(operator), flat_gpu(operator)
    offered = {"investor": flat_gpu(investor), "attacker": flat_gpu(attacker)}
    collateral.contribute(leased, operator, 0, sender=operator)
    for account, whole in ((investor, 101_000), (other_investor, 2_000), (attacker, 1_000)):
        fund(token, account, whole * USDC)
        token.approve(vault, 2**256 - 1, sender=account)
    vault.deposit(100_000 * USDC, investor, sender=investor)
    vault.deposit(1_000 * USDC, other_investor, sender=other_investor)
    for owner, spender in (
        (investor, operator),
        (attacker, operator),
        (other_investor, investor),
        (other_investor, attacker),
    ):
        vault.approve(spender, 2**256 - 1, sender=owner)
    for _ in range(3):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    queue.fulfil(1, sender=operator)
    queue.cancelRedeemRequest(CANCELLED_ID, investor, sender=investor)
    for token_id in offered.values():
        market.offer_gpu(token_id, OFFER, chain.pending_timestamp + 30 * DAY, sender=operator)
    kit.leases.open_lease(lessee, INSTALMENT, 30 * DAY, 3, DAY, [leased], sender=operator)
    fund(token, lessee, INSTALMENT)
    token.approve(vault, INSTALMENT, sender=lessee)
    kit.leases.pay_instalment(kit.leases.lease_count(), sender=lessee)
    chain.mine(timestamp=chain.pending_timestamp + 2 * DAY)
    # A mint syncs the accumulator past the stream's end: from here on it holds still.
    vault.deposit(USDC, other_investor, sender=other_investor)
    roles = {
        "admin": admin,
        "operator": operator,
        "pauser": pauser,
        "compliance": compliance,
        "investor": investor,
        "other_investor": other_investor,
        "attacker": attacker,
    }
    return Matrix(kit, registry, identity, chain, roles, spare, offered)


@pytest.fixture(autouse=True)
def _matrix_reverts_cheap(monkeypatch):
    """Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts)."""
    memoise_test_accounts(monkeypatch)


# THE BOOKS #


def books(m: Matrix) -> dict:
    """Everything a path may change, read in one JSON-RPC batch: each party's fractions and
    stablecoin; each investor's and the operator's freezes, claimable revenue and queue totals;
    the supply, free cash, revenue held, collateral value; the queue's totals and its pending
    request; the owners of the GPUs a path may bring in."""
    vault, token, queue = m.vault, m.token, m.queue
    calls: list[tuple] = []
    keys: list = []
    for name, party in m.parties().items():
        keys += [("fractions", name), ("usdc", name)]
        calls += [(vault.balanceOf, (party,)), (token.balanceOf, (party,))]
        if name in ("vault", "queue"):
            continue
        keys += [("frozen", name), ("full", name), ("claimable", name), ("queue", name)]
        calls += [
            (vault.getFrozenTokens, (party,)),
            (vault.is_frozen, (party,)),
            (vault.claimable, (party,)),
            (queue.controller_state, (party,)),
        ]
    keys += ["supply", "free_cash", "held", "collateral", "reserved", "pending", "cancelled"]
    calls += [
        (vault.totalSupply, ()),
        (vault.free_cash, ()),
        (vault.held, ()),
        (m.kit.collateral.value, ()),
        (queue.reserved, ()),
        (queue.pending_shares, ()),
        (queue.cancelled_shares, ()),
    ]
    keys += ["last_id", ("request", PENDING_ID)]
    calls += [(queue.last_id, ()), (queue.request, (PENDING_ID,))]
    gpus = [m.spare, *m.offered.values()]
    keys += [("gpu", token_id) for token_id in gpus]
    calls += [(m.registry.ownerOf, (token_id,)) for token_id in gpus]
    _, values = read_all(m.chain, calls)
    return {key: _plain(value) for key, value in zip(keys, values, strict=True)}


def _plain(value):
    """Addresses in one spelling, tuples as tuples."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    return value


class Change:
    """The books a path should leave: the books before it, with its changes applied."""

    def __init__(self, m: Matrix, before: dict):
        self.m = m
        self.books = dict(before)

    def add(self, field: str, account, amount: int) -> Change:
        key = (field, self.m.name(account))
        self.books[key] += amount
        return self

    def move(self, field: str, source, target, amount: int) -> Change:
        return self.add(field, source, -amount).add(field, target, amount)

    def total(self, key: str, amount: int) -> Change:
        self.books[key] += amount
        return self

    def set(self, field: str, account, value) -> Change:
        self.books[(field, self.m.name(account))] = value
        return self

    def controller(self, account, *deltas: int) -> Change:
        """Add to a controller's queue totals (pending, open, claimable shares, claimable
        assets, cancelled)."""
        key = ("queue", self.m.name(account))
        self.books[key] = tuple(v + d for v, d in zip(self.books[key], deltas, strict=True))
        return self

    def gpu(self, token_id: int, owner) -> Change:
        self.books[("gpu", token_id)] = key_of(owner).lower()
        return self


def nav(b: dict) -> int:
    """NAV from the books (flat GPUs: what a flow prices from in the next block too)."""
    return b["free_cash"] + b["collateral"]


def owed(m: Matrix, account, balance: int) -> int:
    """What `account` is owed, in 2**-28 wei (the revenue model at the synced accumulator)."""
    model = RevenueModel.read(m.vault, [account])
    return model.owed(account, balance, model.acc)


# THE PATHS: (m, me, them) -> receipt, and (m, me, them, books before) -> books after #


def transfer(m, me, them):
    return m.vault.transfer(them, MOVE, sender=me)


def transfer_from(m, me, them):
    return m.vault.transferFrom(me, them, MOVE, sender=m.operator)


def moved_me_to_them(m, me, them, b):
    return Change(m, b).move("fractions", me, them, MOVE)


def spend(m, me, them):
    """`me` spends `them`'s allowance: their fractions to the operator."""
    return m.vault.transferFrom(them, m.operator, MOVE, sender=me)


def spent(m, me, them, b):
    return Change(m, b).move("fractions", them, m.operator, MOVE)


def deposited(receiver_of: Callable, payer_of: Callable, assets_of: Callable, shares_of: Callable):
    """The books of a mint: `receiver_of(me, them)` gets `shares_of(b)`, `payer_of(me, them)`
    pays `assets_of(b)`."""

    def expect(m, me, them, b):
        assets, shares = assets_of(b), shares_of(b)
        change = Change(m, b).add("fractions", receiver_of(me, them), shares)
        change.move("usdc", payer_of(me, them), m.vault, assets)
        return change.total("supply", shares).total("free_cash", assets)

    return expect


def _deposit_shares(b):
    return to_shares(DEPOSIT, nav(b), b["supply"])


def _mint_assets(b):
    return to_assets(MINTED, nav(b), b["supply"], roundup=True)


def _me(me, them):
    return me


def _them(me, them):
    return them


to_me = deposited(_me, _me, lambda b: DEPOSIT, _deposit_shares)
minted_to_me = deposited(_me, _me, _mint_assets, lambda b: MINTED)
paid_for_them = deposited(_them, _me, lambda b: DEPOSIT, _deposit_shares)


def deposit(m, me, them):
    return m.vault.deposit(DEPOSIT, me, sender=me)


def mint(m, me, them):
    return m.vault.mint(MINTED, me, sender=me)


def buy(m, me, them):
    return m.vault.buy(DEPOSIT, me, 0, m.deadline(), sender=me)


def buy_with_permit(m, me, them):
    deadline = m.deadline()
    v, r, s = permit_signature(m.token, me, m.vault, DEPOSIT, deadline)
    return m.vault.buy_with_permit(DEPOSIT, me, 0, deadline, v, r, s, sender=me)


def deposit_for_them(m, me, them):
    return m.vault.deposit(DEPOSIT, them, sender=me)


def contribute(m, me, them):
    return m.kit.collateral.contribute(m.spare, me, 0, sender=m.operator)


def contributed(m, me, them, b):
    """A flat GPU adds FLAT_VALUE of collateral; fractions at the NAV before it."""
    shares = to_shares(FLAT_VALUE, nav(b), b["supply"])
    change = Change(m, b).add("fractions", me, shares).total("supply", shares)
    return change.total("collateral", FLAT_VALUE).gpu(m.spare, m.kit.collateral)


def sell_gpu(m, me, them):
    return m.kit.market.sell_gpu(m.offered[m.name(me)], OFFER, sender=me)


def sold_gpu(m, me, them, b):
    change = Change(m, b).move("usdc", m.vault, me, OFFER).total("free_cash", -OFFER)
    return change.total("collateral", FLAT_VALUE).gpu(m.offered[m.name(me)], m.kit.collateral)


def exited(receiver_of: Callable, amounts: Callable):
    """The books of an exit: `me` burns shares, `receiver_of(me, them)` is paid assets, where
    `amounts(b)` gives (shares, assets)."""

    def expect(m, me, them, b):
        shares, assets = amounts(b)
        change = Change(m, b).add("fractions", me, -shares).total("supply", -shares)
        change.move("usdc", m.vault, receiver_of(me, them), assets)
        return change.total("free_cash", -assets)

    return expect


def _redeemed(b):
    return REDEEM, to_assets(REDEEM, nav(b), b["supply"])


def _withdrawn(b):
    return to_shares(WITHDRAW, nav(b), b["supply"], roundup=True), WITHDRAW


def redeem_to_me(m, me, them):
    return m.vault.redeem(REDEEM, me, me, sender=me)


def redeem_to_them(m, me, them):
    return m.vault.redeem(REDEEM, them, me, sender=me)


def withdraw_to_me(m, me, them):
    return m.vault.withdraw(WITHDRAW, me, me, sender=me)


def sell_to_me(m, me, them):
    return m.vault.sell(REDEEM, me, 0, m.deadline(), sender=me)


def claim_to(receiver_of: Callable):
    def call(m, me, them):
        return m.vault.claim(receiver_of(me, them), sender=me)

    def expect(m, me, them, b):
        amount = b[("claimable", m.name(me))]
        change = Change(m, b).move("usdc", m.vault, receiver_of(me, them), amount)
        return change.total("held", -amount).set("claimable", me, 0)

    return call, expect


claim_to_me, claimed_to_me = claim_to(_me)
claim_to_them, claimed_to_them = claim_to(_them)


def request_for(controller_of: Callable):
    def call(m, me, them):
        return m.queue.requestRedeem(MIN_REQUEST, controller_of(me, them), me, sender=me)

    def expect(m, me, them, b):
        change = Change(m, b).move("fractions", me, m.vault, MIN_REQUEST)
        change.controller(controller_of(me, them), MIN_REQUEST, 1, 0, 0, 0)
        # The new request is linked after the pending one, the tail.
        controller, shares, previous, _ = b[("request", PENDING_ID)]
        change.books[("request", PENDING_ID)] = (controller, shares, previous, b["last_id"] + 1)
        return change.total("pending", MIN_REQUEST).total("last_id", 1)

    return call, expect


request_for_me, requested_for_me = request_for(_me)
request_for_them, requested_for_them = request_for(_them)


def cancel(m, me, them):
    return m.queue.cancelRedeemRequest(PENDING_ID, me, sender=me)


def cancelled(m, me, them, b):
    change = Change(m, b).controller(me, -MIN_REQUEST, -1, 0, 0, MIN_REQUEST)
    change.total("pending", -MIN_REQUEST).total("cancelled", MIN_REQUEST)
    change.books[("request", PENDING_ID)] = ("0x" + "0" * 40, 0, 0, 0)
    return change


def claim_back_to(receiver_of: Callable):
    def call(m, me, them):
        return m.queue.claimCancelRedeemRequest(CANCELLED_ID, receiver_of(me, them), me, sender=me)

    def expect(m, me, them, b):
        change = Change(m, b).move("fractions", m.vault, receiver_of(me, them), MIN_REQUEST)
        change.controller(me, 0, 0, 0, 0, -MIN_REQUEST)
        return change.total("cancelled", -MIN_REQUEST)

    return call, expect


claim_back_to_me, claimed_back_to_me = claim_back_to(_me)
claim_back_to_them, claimed_back_to_them = claim_back_to(_them)


def queue_claim(method: str, receiver_of: Callable):
    """A claim of `me`'s fulfilled request: `redeem` of QUEUE_REDEEM shares or `withdraw` of
    QUEUE_WITHDRAW assets, paid to `receiver_of(me, them)`; the amounts by the queue model."""

    def call(m, me, them):
        amount = QUEUE_REDEEM if method == "redeem" else QUEUE_WITHDRAW
        return getattr(m.queue, method)(amount, receiver_of(me, them), me, sender=me)

    def expect(m, me, them, b):
        model = QueueModel()
        model.claimable[key_of(me)] = list(b[("queue", m.name(me))][2:4])
        if method == "redeem":
            shares, assets = QUEUE_REDEEM, model.redeem(me, QUEUE_REDEEM)
        else:
            shares, assets = model.withdraw(me, QUEUE_WITHDRAW), QUEUE_WITHDRAW
        change = Change(m, b).move("usdc", m.queue, receiver_of(me, them), assets)
        return change.controller(me, 0, 0, -shares, -assets, 0).total("reserved", -assets)

    return call, expect


queue_redeem_to_me, queue_redeemed_to_me = queue_claim("redeem", _me)
queue_redeem_to_them, queue_redeemed_to_them = queue_claim("redeem", _them)
queue_withdraw_to_me, queue_withdrawn_to_me = queue_claim("withdraw", _me)
queue_withdraw_to_them, queue_withdrawn_to_them = queue_claim("withdraw", _them)


def force(m, me, them):
    return m.desk.force_transfer(me, them, MOVE, REASON, sender=m.compliance)


def forced(m, me, them, b):
    """The frozen shortfall is unfrozen: what stays frozen is at most what is left."""
    left = b[("fractions", m.name(me))] - MOVE
    frozen = min(b[("frozen", m.name(me))], left)
    return moved_me_to_them(m, me, them, b).set("frozen", me, frozen)


def recover(m, me, them):
    pending = [PENDING_ID] if key_of(me) == key_of(m.investor) else []
    return m.desk.recover(me, them, pending, REASON, sender=m.compliance)


def recovered(m, me, them, b):
    """Everything of the lost wallet (`me`) moves to the new one (`them`): balance, frozen
    amount and full freeze, owed revenue, queue totals and pending request; the lost wallet is
    left empty and frozen entirely."""
    lost, new = m.name(me), m.name(them)
    balance = b[("fractions", lost)]
    frozen, full = b[("frozen", lost)], b[("full", lost)]
    change = Change(m, b).move("fractions", me, them, balance)
    if frozen or full:
        change.set("frozen", them, b[("frozen", new)] + frozen).set("full", them, full)
    change.set("frozen", me, 0).set("full", me, True)
    owed_total = owed(m, me, balance) + owed(m, them, b[("fractions", new)])
    change.set("claimable", them, owed_total >> FRACTION_BITS).set("claimable", me, 0)
    change.controller(them, *b[("queue", lost)])
    change.set("queue", me, (0, 0, 0, 0, 0))
    request = b[("request", PENDING_ID)]
    if request[0] == key_of(me).lower():
        change.books[("request", PENDING_ID)] = (key_of(them).lower(), *request[1:])
    return change


@dataclass(frozen=True)
class Path:
    subject: str  # "me" or "them": whose state the column is
    call: Callable
    expect: Callable


PATHS: dict[str, Path] = {
    "transfer: sender": Path("me", transfer, moved_me_to_them),
    "transfer: receiver": Path("them", transfer, moved_me_to_them),
    "transferFrom: owner": Path("me", transfer_from, moved_me_to_them),
    "transferFrom: receiver": Path("them", transfer_from, moved_me_to_them),
    "transferFrom: spender": Path("me", spend, spent),
    "deposit": Path("me", deposit, to_me),
    "mint": Path("me", mint, minted_to_me),
    "buy": Path("me", buy, to_me),
    "buy_with_permit": Path("me", buy_with_permit, to_me),
    "deposit for another: payer": Path("me", deposit_for_them, paid_for_them),
    "GPU contribution: receiver": Path("me", contribute, contributed),
    "GPU sold to the pool: seller": Path("me", sell_gpu, sold_gpu),
    "redeem to self": Path("me", redeem_to_me, exited(_me, _redeemed)),
    "redeem to another: owner": Path("me", redeem_to_them, exited(_them, _redeemed)),
    "redeem to another: receiver": Path("them", redeem_to_them, exited(_them, _redeemed)),
    "withdraw to self": Path("me", withdraw_to_me, exited(_me, _withdrawn)),
    "sell to self": Path("me", sell_to_me, exited(_me, _redeemed)),
    "claim revenue to self": Path("me", claim_to_me, claimed_to_me),
    "claim revenue to another: claimer": Path("me", claim_to_them, claimed_to_them),
    "claim revenue to another: receiver": Path("them", claim_to_them, claimed_to_them),
    "requestRedeem": Path("me", request_for_me, requested_for_me),
    "requestRedeem for another: owner": Path("me", request_for_them, requested_for_them),
    "requestRedeem for another: controller": Path("them", request_for_them, requested_for_them),
    "cancelRedeemRequest": Path("me", cancel, cancelled),
    "claimCancelRedeemRequest to self": Path("me", claim_back_to_me, claimed_back_to_me),
    "claimCancelRedeemRequest to another: controller": Path(
        "me", claim_back_to_them, claimed_back_to_them
    ),
    "claimCancelRedeemRequest to another: receiver": Path(
        "them", claim_back_to_them, claimed_back_to_them
    ),
    "queue redeem to self": Path("me", queue_redeem_to_me, queue_redeemed_to_me),
    "queue redeem to another: controller": Path("me", queue_redeem_to_them, queue_redeemed_to_them),
    "queue redeem to another: receiver": Path("them", queue_redeem_to_them, queue_redeemed_to_them),
    "queue withdraw to self": Path("me", queue_withdraw_to_me, queue_withdrawn_to_me),
    "queue withdraw to another: controller": Path(
        "me", queue_withdraw_to_them, queue_withdrawn_to_them
    ),
    "queue withdraw to another: receiver": Path(
        "them", queue_withdraw_to_them, queue_withdrawn_to_them
    ),
    "forced transfer: owner": Path("me", force, forced),
    "forced transfer: receiver": Path("them", force, forced),
    "recovery: lost wallet": Path("me", recover, recovered),
    "recovery: new wallet": Path("them", recover, recovered),
}


# THE TABLE: path -> state -> expected #

OK = ALLOWED
P, F, PF, RF = PAUSED, FROZEN, PART_FROZEN, RECEIVER_FROZEN
SNV, RNV, ONV, CNV = (
    SENDER_NOT_VERIFIED,
    RECEIVER_NOT_VERIFIED,
    OWNER_NOT_VERIFIED,
    CONTROLLER_NOT_VERIFIED,
)
NA, MAX = NOT_ADMITTED, ABOVE_MAX
CF, SLV, NC = CONTROLLER_FROZEN, SELLER_NOT_VERIFIED, NOTHING_CANCELLED

# A receiver of fractions (becomes a holder): verified, not frozen entirely, admitted, within the
# maximum. A partly frozen receiver receives.
HOLDER_IN = (P, RF, OK, RNV, RNV, RNV, NA, NA, MAX)
# A receiver of stablecoin other than the holder: verified, not frozen entirely.
PAYEE = (P, RF, OK, RNV, RNV, RNV, OK, OK, OK)
# A holder sending fractions to someone else: verified, within its unfrozen balance.
SENDER = (P, F, PF, SNV, SNV, SNV, OK, OK, OK)
# A holder exiting to itself (exit rights): anything but frozen; the unverified holds nothing.
EXIT = (P, F, PF, BURN_EXCEEDS, OK, OK, OK, OK, OK)
# A holder paying its exit to someone else: verified too.
EXIT_TO_ANOTHER = (P, F, PF, ONV, ONV, ONV, OK, OK, OK)
# Freezes and identities do not bind who pays or spends for a holder.
ONLY_PAUSE = (P, OK, OK, OK, OK, OK, OK, OK, OK)

#  columns: paused, frozen, partly frozen, unverified, expired, revoked, allow list, block list,
#  above the maximum
ROWS: dict[str, tuple[str, ...]] = {
    "transfer: sender": SENDER,
    "transfer: receiver": HOLDER_IN,
    "transferFrom: owner": SENDER,
    "transferFrom: receiver": HOLDER_IN,
    "transferFrom: spender": ONLY_PAUSE,
    "deposit": HOLDER_IN,
    "mint": HOLDER_IN,
    "buy": HOLDER_IN,
    "buy_with_permit": HOLDER_IN,
    "deposit for another: payer": ONLY_PAUSE,
    "GPU contribution: receiver": HOLDER_IN,
    "GPU sold to the pool: seller": (P, RF, OK, SLV, SLV, SLV, OK, OK, OK),
    "redeem to self": EXIT,
    "redeem to another: owner": EXIT_TO_ANOTHER,
    "redeem to another: receiver": PAYEE,
    "withdraw to self": EXIT,
    "sell to self": EXIT,
    "claim revenue to self": (P, F, OK, NOTHING_TO_CLAIM, OK, OK, OK, OK, OK),
    "claim revenue to another: claimer": (P, F, OK, SNV, SNV, SNV, OK, OK, OK),
    "claim revenue to another: receiver": PAYEE,
    "requestRedeem": (P, F, PF, TRANSFER_EXCEEDS, OK, OK, OK, OK, OK),
    "requestRedeem for another: owner": EXIT_TO_ANOTHER,
    # The controller named can take the fractions back to itself after a cancel (the queue
    # cannot tell they were not its own): it is made a holder here, admitted as one.
    "requestRedeem for another: controller": (P, CF, OK, CNV, CNV, CNV, NA, NA, MAX),
    # Paused: a cancel moves nothing (the claim back waits).
    "cancelRedeemRequest": (OK, F, OK, NO_PENDING, OK, OK, OK, OK, OK),
    # Its own fractions back: exit rights, no admission.
    "claimCancelRedeemRequest to self": (P, F, OK, NC, OK, OK, OK, OK, OK),
    "claimCancelRedeemRequest to another: controller": (P, F, OK, NC, CNV, CNV, OK, OK, OK),
    "claimCancelRedeemRequest to another: receiver": HOLDER_IN,
    "queue redeem to self": (P, F, OK, ABOVE_CLAIMABLE, OK, OK, OK, OK, OK),
    "queue redeem to another: controller": (P, F, OK, ABOVE_CLAIMABLE, CNV, CNV, OK, OK, OK),
    "queue redeem to another: receiver": PAYEE,
    "queue withdraw to self": (P, F, OK, ABOVE_CLAIMABLE, OK, OK, OK, OK, OK),
    "queue withdraw to another: controller": (P, F, OK, ABOVE_CLAIMABLE, CNV, CNV, OK, OK, OK),
    "queue withdraw to another: receiver": PAYEE,
    # Whatever the holder's state; the unverified one holds nothing to move.
    "forced transfer: owner": (P, OK, OK, TRANSFER_EXCEEDS, OK, OK, OK, OK, OK),
    "forced transfer: receiver": HOLDER_IN,
    # The new wallet gets the whole balance: above the maximum stays above it.
    "recovery: lost wallet": (P, OK, OK, OK, OK, OK, OK, OK, MAX),
    "recovery: new wallet": HOLDER_IN,
}

MATRIX: dict[str, dict[str, str]] = {
    path: dict(zip(STATES, row, strict=False)) for path, row in ROWS.items()
}


def test_matrix_covers_every_cell():
    """Every path has an expected outcome for every state, and every row is a path."""
    assert set(MATRIX) == set(PATHS)
    missing = [(path, s) for path in PATHS for s in STATES if s not in MATRIX.get(path, {})]
    assert not missing, f"cells without an expected outcome: {missing}"
    assert all(len(row) == len(STATES) for row in ROWS.values())


# THE STATES #


def enter(m: Matrix, state: str, subject) -> None:
    """Put `subject` (or, for "paused", the pool) in `state`."""
    far = m.chain.pending_timestamp + YEAR
    if state == "paused":
        m.vault.pause(sender=m.pauser)
    elif state == "frozen":
        m.desk.freeze(subject, REASON, sender=m.compliance)
    elif state == "partly frozen":
        frozen = m.vault.balanceOf(subject) - 1
        m.desk.set_frozen_tokens(subject, frozen, REASON, sender=m.compliance)
    elif state == "expired":
        expires = m.chain.pending_timestamp + 60
        m.identity.verify(subject, expires, JURISDICTION, sender=m.compliance)
        m.chain.mine(timestamp=expires)
    elif state == "revoked":
        m.identity.revoke(subject, sender=m.compliance)
    elif state == "not on the allow list":
        m.identity.verify(subject, far, US, sender=m.compliance)
        m.desk.set_jurisdiction_mode(1, sender=m.admin)
        m.desk.set_jurisdictions([JURISDICTION], True, sender=m.admin)
    elif state == "on the block list":
        m.identity.verify(subject, far, US, sender=m.compliance)
        m.desk.set_jurisdiction_mode(2, sender=m.admin)
        m.desk.set_jurisdictions([US], True, sender=m.admin)
    elif state == "above the maximum":
        m.desk.set_max_balance(m.vault.balanceOf(subject) - 1, sender=m.admin)
    else:
        assert state == "unverified", state


def parties(m: Matrix, path: Path, state: str) -> tuple:
    """(me, them, subject): the unverified subject is the attacker, never verified."""
    me, them = m.investor, m.other_investor
    if state == "unverified":
        if path.subject == "me":
            me = m.attacker
        else:
            them = m.attacker
    return me, them, me if path.subject == "me" else them


CELLS = [pytest.param(path, state, id=f"{path} | {state}") for path in PATHS for state in STATES]


@pytest.mark.parametrize("path_name, state", CELLS)
def test_cell(matrix, path_name, state):
    m, path = matrix, PATHS[path_name]
    expected = MATRIX[path_name][state]
    me, them, subject = parties(m, path, state)
    enter(m, state, subject)
    if expected != ALLOWED:
        with ape.reverts(expected):
            path.call(m, me, them)
        return
    before = books(m)
    wanted = path.expect(m, me, them, before).books
    path.call(m, me, them)
    after = books(m)
    assert {k: after[k] for k in after if after[k] != wanted[k]} == {
        k: wanted[k] for k in after if after[k] != wanted[k]
    }


# THE EXPLOITS IT FOUND #


def test_exploit_claim_back_makes_a_holder_the_pool_does_not_admit(matrix):
    """The other investor's jurisdiction is not admitted (an allow list without it): no
    transfer, mint or forced transfer reaches it. Were the investor to name it the controller of
    a request, it could cancel and claim the fractions back to itself, and hold them: naming it
    is refused, as the transfer is."""
    m = matrix
    them = m.other_investor
    enter(m, "not on the allow list", them)
    with ape.reverts(NOT_ADMITTED):
        m.vault.transfer(them, MIN_REQUEST, sender=m.investor)
    held = m.vault.balanceOf(them)
    with ape.reverts(NOT_ADMITTED):
        m.queue.requestRedeem(MIN_REQUEST, them, m.investor, sender=m.investor)
    assert m.vault.balanceOf(them) == held


@pytest.mark.parametrize("call", ["force_transfer", "forcedTransfer", "recover"])
def test_exploit_enforcement_on_the_vaults_own_account(matrix, call):
    """The vault's own account is its dead shares and the queue's escrow: a forced transfer or a
    recovery from it would take them out of the vault (invariant 10: escrow = dead shares +
    pending + cancelled; DOMAIN: never a tiny supply), and a recovery would then freeze the vault
    entirely. PoolCompliance refuses it, as it refuses to freeze it."""
    m = matrix
    escrow = m.vault.balanceOf(m.vault)
    calls = {
        "force_transfer": lambda: m.desk.force_transfer(
            m.vault, m.other_investor, escrow, REASON, sender=m.compliance
        ),
        "forcedTransfer": lambda: m.desk.forcedTransfer(
            m.vault, m.other_investor, escrow, sender=m.compliance
        ),
        "recover": lambda: m.desk.recover(
            m.vault, m.other_investor, [], REASON, sender=m.compliance
        ),
    }
    with ape.reverts(VAULT_ITSELF):
        calls[call]()


def test_exploit_recovering_the_vault_corrupts_its_books(matrix):
    """What a recovery of the vault's own account led to: the escrow gone and the vault frozen,
    a claim back and a new request refused, and the next fulfilment burning escrow no longer
    there (the vault's holding wrapping into its freeze bits: invariant 1). Refused: the claim
    back, a request and a fulfilment go on, the books whole."""
    m = matrix
    with ape.reverts(VAULT_ITSELF):
        m.desk.recover(m.vault, m.other_investor, [], REASON, sender=m.compliance)
    m.queue.claimCancelRedeemRequest(CANCELLED_ID, m.investor, m.investor, sender=m.investor)
    m.queue.requestRedeem(MIN_REQUEST, m.investor, m.investor, sender=m.investor)
    m.queue.fulfil(1, sender=m.operator)
    assert m.vault.balanceOf(m.vault) <= m.vault.totalSupply()
