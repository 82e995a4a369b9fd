"""Queued redemptions over the pool's RedemptionQueue (ERC-7540 asynchronous redeem, ERC-7887
cancellation): what an investor does when free cash cannot pay it now, and what the operator does
when cash comes in.

- `request_redeem`: the fractions go into escrow at once (they stop earning revenue) and wait in
  a first-in-first-out queue, each request with its own id.
- `cancel`: a request still pending is cancelled at once; its fractions wait to be claimed back.
- `claim_redeem`: what the operator fulfilled (stablecoin) and what was cancelled (fractions).
- `fulfil` (FULFILLER_ROLE): requests from the head of the queue, at the NAV of the block that
  fulfils them, as far as the vault's free cash goes (the last one maybe in part).
- `position_of` and `portfolio_rows`: an account's requests for `invest portfolio`.

Everything the chain can answer is checked before anything is sent, and a refusal is one
UserError line naming the command that fixes it where there is one (as in `gpu_rwa.pool`); what is
sent goes through `send()`.
"""

from dataclasses import dataclass

from ape import chain
from ape.api import AccountAPI, ReceiptAPI
from ape.exceptions import ApeException
from pydantic import Field, model_validator

from gpu_rwa.chain import require_role, send
from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool, require_current, require_not_paused, require_verified
from gpu_rwa.types import ZERO_ADDRESS, Address, FractionAmount

# RedemptionQueue's constants (contracts/RedemptionQueue.vy).
MAX_FULFIL_BATCH = 256
MAX_PAGE = 64
# Requests one `vault fulfil` settles unless told otherwise.
DEFAULT_FULFIL = 50

FULFIL_HINT = "`ape run vault fulfil`"
CLAIM_HINT = "`ape run invest claim-redeem`"


# INPUT #


class RequestOrder(StrictModel):
    shares: FractionAmount | None = Field(default=None, alias="FRACTIONS")
    all_: bool = Field(default=False, alias="--all")
    controller: Address | None = Field(default=None, alias="--controller")

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.shares is not None) == self.all_:
            raise ValueError("give exactly one of FRACTIONS or --all")
        return self


class RequestId(StrictModel):
    request_id: int = Field(ge=1, lt=2**256, alias="REQUEST_ID")


class FulfilOrder(StrictModel):
    max_requests: int = Field(default=DEFAULT_FULFIL, ge=1, le=MAX_FULFIL_BATCH, alias="--max")


# READING THE QUEUE #


@dataclass(frozen=True)
class Position:
    """One controller's place in the queue: `controller_state` and its pending requests."""

    pending: int
    open_requests: int
    claimable_shares: int
    claimable_assets: int
    cancelled: int
    # (id, pending shares, pending shares ahead of it in the queue), in queue order.
    requests: tuple[tuple[int, int, int], ...]

    @property
    def claimable(self) -> bool:
        return self.claimable_shares != 0 or self.cancelled != 0


def pending_requests(pool: Pool, controller: str, count: int) -> list[tuple[int, int, int]]:
    """`controller`'s pending requests as (id, shares, shares ahead of it), reading the queue
    from its head a page (`requests`, MAX_PAGE entries) at a time until all `count` are found:
    the queue keeps no list per controller."""
    queue = pool.queue
    target = int(controller, 16)
    found: list[tuple[int, int, int]] = []
    ahead, start, skip = 0, 0, 0
    while len(found) < count:
        # Pages after the first start at the last entry read (an id known to be pending).
        page = queue.requests(start, MAX_PAGE)
        for request_id, who, shares in page[skip:]:
            if who == target:
                found.append((request_id, shares, ahead))
            ahead += shares
        if len(page) < MAX_PAGE:
            break
        start, skip = page[-1][0], 1
    return found


def position_of(pool: Pool, controller: str) -> Position:
    pending, count, shares, assets, cancelled = pool.queue.controller_state(controller)
    requests = pending_requests(pool, controller, count) if count else []
    return Position(pending, count, shares, assets, cancelled, tuple(requests))


def _request_fate(pool: Pool, request_id: int) -> str | None:
    """Why a request id below `last_id` is no longer pending, from its events: "fulfilled",
    "worthless" (closed for nothing: worth less than a wei when fulfilled) or "cancelled" (None if
    the node will not search them)."""
    queue = pool.queue
    start = pool.manifest.contracts["RedemptionQueue"].block
    stop = chain.blocks.head.number + 1
    try:
        topics = {"requestId": request_id}
        fulfilled = list(queue.RedeemFulfilled.range(start, stop, topics))
        if any(log.remaining == 0 for log in fulfilled):
            return "fulfilled" if sum(log.assets for log in fulfilled) else "worthless"
        if any(True for _ in queue.CancelRedeemRequest.range(start, stop, topics)):
            return "cancelled"
    except ApeException:
        return None
    return None


def _last_cancelled_id(pool: Pool, controller: str) -> int:
    """The id of `controller`'s last cancelled request, for the claim-back's event (the claim
    takes every cancelled share whatever the id); 0 if the node will not search its events."""
    start = pool.manifest.contracts["RedemptionQueue"].block
    stop = chain.blocks.head.number + 1
    try:
        logs = list(pool.queue.CancelRedeemRequest.range(start, stop, {"controller": controller}))
    except ApeException:
        return 0
    return logs[-1].requestId if logs else 0


# REQUEST #


@dataclass(frozen=True)
class Requested:
    request_id: int
    controller: str
    shares: int
    # What the shares are worth at NAV in the block of the request (they are paid at the NAV of
    # the block that fulfils them).
    value: int
    receipt: ReceiptAPI


def request_redeem(pool: Pool, sender: AccountAPI, order: RequestOrder) -> Requested:
    """Queue the redemption of the sender's fractions (`requestRedeem`): they go into escrow now
    and stop earning revenue. Exit rights: a holder requests for itself whatever its verification;
    naming another `--controller` (who cancels and claims) needs both verified."""
    vault, queue = pool.vault, pool.queue
    owner = sender.address
    controller = order.controller or owner
    require_not_paused(pool, "requesting a redemption")
    if controller != owner:
        require_verified(pool, owner, "owner")
        require_verified(pool, controller, "controller")
    held = vault.balanceOf(owner)
    if held == 0:
        raise UserError(f"{owner} holds no {pool.fraction_symbol} fractions")
    shares = held if order.all_ else order.shares
    if shares > held:
        raise UserError(
            f"{owner} holds {pool.fractions(held)}, fewer than {pool.fractions(shares)}"
        )
    minimum = queue.min_request()
    if shares < minimum:
        instead = ""
        if 0 < shares <= vault.maxRedeem(owner):
            instead = f"; redeem it now with `ape run invest redeem {pool.fractions_arg(shares)}`"
        raise UserError(
            f"{pool.fractions(shares)} is below the queue's minimum request of "
            f"{pool.fractions(minimum)}{instead}"
        )
    most = queue.MAX_OPEN_PER_CONTROLLER()
    if queue.controller_state(controller)[1] >= most:
        raise UserError(
            f"{controller} already has {most} pending requests, the most one controller may "
            f"have: cancel one (`ape run invest cancel REQUEST_ID`) or wait for {FULFIL_HINT}"
        )
    if queue.open_requests() >= queue.MAX_OPEN_REQUESTS():
        raise UserError(
            f"the redemption queue is full ({queue.open_requests():,} pending requests): wait "
            f"for {FULFIL_HINT}"
        )
    receipt = send("requestRedeem", queue.requestRedeem, shares, controller, owner, sender=sender)
    log = next(iter(queue.RedeemRequest.from_receipt(receipt)))
    return Requested(
        request_id=log.requestId,
        controller=controller,
        shares=log.shares,
        value=vault.convertToAssets(log.shares),
        receipt=receipt,
    )


# CANCEL #


def cancel(pool: Pool, sender: AccountAPI, request_id: int) -> tuple[str, int, ReceiptAPI]:
    """Cancel what is still pending of request `request_id` (synchronous: its fractions can be
    claimed back at once). The sender is its controller or an operator the controller approved.
    Returns (controller, shares cancelled, receipt)."""
    queue = pool.queue
    controller, shares, _, _ = queue.request(request_id)
    if controller == ZERO_ADDRESS:
        last = queue.last_id()
        if request_id > last:
            made = f"the last request is {last}" if last else "no request has been made yet"
            raise UserError(f"request {request_id} does not exist ({made})")
        fate = _request_fate(pool, request_id)
        if fate == "fulfilled":
            why = f"it was fulfilled: its controller claims the stablecoin with {CLAIM_HINT}"
        elif fate == "worthless":
            why = "it was closed for nothing (its fractions were worth less than a wei)"
        elif fate == "cancelled":
            why = "it was already cancelled"
        else:
            why = "it was fulfilled or cancelled"
        raise UserError(f"request {request_id} is no longer pending: {why}")
    caller = sender.address
    if controller != caller and not queue.isOperator(controller, caller):
        raise UserError(
            f"request {request_id} is not {caller}'s: only its controller {controller} (or an "
            "operator it approved) can cancel it"
        )
    receipt = send(
        f"cancelling request {request_id}",
        queue.cancelRedeemRequest,
        request_id,
        controller,
        sender=sender,
    )
    return controller, shares, receipt


# CLAIM #


@dataclass(frozen=True)
class Claim:
    """What `claim_redeem` did: stablecoin paid for fulfilled shares, cancelled fractions given
    back."""

    receiver: str
    assets: int
    shares: int
    returned: int
    receipts: list[ReceiptAPI]


def claim_redeem(pool: Pool, sender: AccountAPI, receiver: str | None) -> Claim:
    """Claim everything the sender can claim from the queue, to itself or `receiver`: the
    stablecoin of its fulfilled requests (`redeem` of all its claimable shares, which pays all its
    claimable assets) and the fractions of its cancelled ones (`claimCancelRedeemRequest`).
    Exit rights: both go to the controller itself whatever its verification (its own exit, its
    own fractions back), to another receiver only with both verified."""
    queue = pool.queue
    controller = sender.address
    receiver = receiver or controller
    require_not_paused(pool, "claiming redemptions")
    position = position_of(pool, controller)
    if not position.claimable:
        if position.open_requests:
            wait = (
                f"its {position.open_requests} pending request(s) for "
                f"{pool.fractions(position.pending)} wait for the operator's {FULFIL_HINT}"
            )
        else:
            wait = "request one with `ape run invest request-redeem FRACTIONS`"
        raise UserError(f"{controller} has nothing to claim from the redemption queue: {wait}")
    if receiver != controller:
        require_verified(pool, controller, "controller")
        require_verified(pool, receiver, "receiver")
    returned = position.cancelled
    receipts = []
    if position.claimable_shares:
        receipts.append(
            send(
                "redeem",
                queue.redeem,
                position.claimable_shares,
                receiver,
                controller,
                sender=sender,
            )
        )
    if returned:
        receipts.append(
            send(
                "claimCancelRedeemRequest",
                queue.claimCancelRedeemRequest,
                _last_cancelled_id(pool, controller),
                receiver,
                controller,
                sender=sender,
            )
        )
    paid = [log for r in receipts for log in queue.Withdraw.from_receipt(r)]
    back = [log for r in receipts for log in queue.CancelRedeemClaim.from_receipt(r)]
    return Claim(
        receiver=receiver,
        assets=sum(log.assets for log in paid),
        shares=sum(log.shares for log in paid),
        returned=sum(log.shares for log in back),
        receipts=receipts,
    )


# FULFIL #


@dataclass(frozen=True)
class Fulfilment:
    """What `fulfil` did: requests settled in full, the one settled in part (if the cash ended
    inside it), fractions burnt and stablecoin reserved; and what stays pending."""

    settled: list[int]
    partial: int | None
    shares: int
    assets: int
    pending_requests: int
    pending_shares: int
    receipt: ReceiptAPI


def _head_settles(pool: Pool, shares: int, cash: int) -> bool:
    """Whether `fulfil` would settle something of the head request (`shares` pending) now, as the
    queue prices it: its shares' NAV rounded down, or the most shares the free cash pays; a
    request worth nothing at all is closed for nothing, but a part the cash pays nothing of
    stops the call."""
    vault = pool.vault
    nav = vault.totalAssets() + 1
    units = vault.totalSupply() + 10 ** vault.DECIMALS_OFFSET()
    take, assets = shares, shares * nav // units
    if assets > cash:
        take = ((cash + 1) * units - 1) // nav
        assets = take * nav // units
    return assets != 0 or take == shares


def fulfil(pool: Pool, sender: AccountAPI, max_requests: int) -> Fulfilment:
    """FULFILLER_ROLE: pay up to `max_requests` requests from the head of the queue at the NAV
    of this block, as far as the vault's free cash goes; their stablecoin is reserved in the queue
    for their controllers to claim."""
    queue, vault = pool.queue, pool.vault
    require_role(queue, "FULFILLER_ROLE", sender.address, "RedemptionQueue")
    require_not_paused(pool, "fulfilling redemptions")
    require_current(pool)
    head = queue.head()
    if head == 0:
        raise UserError("no redemption request is pending: nothing to fulfil")
    cash = vault.free_cash()
    waiting = (
        f"{queue.open_requests()} request(s) for {pool.fractions(queue.pending_shares())} stay "
        "pending until cash comes in (lease payments, buys, a GPU sale)"
    )
    if cash == 0:
        raise UserError(f"the vault has no free cash: {waiting}")
    if not _head_settles(pool, queue.request(head)[1], cash):
        raise UserError(
            f"the vault's free cash, {pool.cash(cash)}, pays nothing of request {head} at the "
            f"current price: {waiting}"
        )
    receipt = send("fulfil", queue.fulfil, max_requests, sender=sender)
    logs = list(queue.RedeemFulfilled.from_receipt(receipt))
    partial = [log.requestId for log in logs if log.remaining != 0]
    return Fulfilment(
        settled=[log.requestId for log in logs if log.remaining == 0],
        partial=partial[0] if partial else None,
        shares=sum(log.shares for log in logs),
        assets=sum(log.assets for log in logs),
        pending_requests=queue.open_requests(),
        pending_shares=queue.pending_shares(),
        receipt=receipt,
    )


# PORTFOLIO #


def portfolio_rows(pool: Pool, position: Position) -> list[tuple[str, str]]:
    """The rows `invest portfolio` shows for an account's requests: what it has queued (each
    pending request with its value now and the shares ahead of it), what it can claim."""
    convert = pool.vault.convertToAssets
    if position.open_requests:
        queued = (
            f"{pool.fractions(position.pending)} in {position.open_requests} request(s), worth "
            f"{pool.cash(convert(position.pending))} now"
        )
    else:
        queued = "none"
    rows = [("queued for redemption", queued)]
    for request_id, shares, ahead in position.requests:
        rows.append(
            (
                f"  request {request_id}",
                f"{pool.fractions(shares)}, worth {pool.cash(convert(shares))} now; "
                f"{pool.fractions(ahead)} ahead of it",
            )
        )
    fulfilled = pool.cash(position.claimable_assets)
    if position.claimable_shares:
        fulfilled += f" for {pool.fractions(position.claimable_shares)}"
    rows.append(("fulfilled, to claim", fulfilled))
    rows.append(("cancelled, to claim back", pool.fractions(position.cancelled)))
    return rows
