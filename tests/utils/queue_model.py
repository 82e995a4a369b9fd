"""The RedemptionQueue in Python, for the stateful machine: a FIFO list of pending requests and,
per controller, what is claimable (shares and assets) and what was cancelled. Each flow is
restated from the queue's docstring, not from its code: a request is priced at the fulfilling
block's NAV (`to_assets`, rounded down), and when the cash ends inside a request the part fulfilled
is "the most shares the cash pays", found by trying (`largest`), not by the contract's closed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.utils.vault import PAUSED, largest, to_assets

# The queue's limits.
MAX_OPEN_PER_CONTROLLER = 16
MAX_FULFIL_BATCH = 256

# Its refusals (and the vault's, for the escrow's transfer).
BELOW_MINIMUM = "queue: request below minimum"
TOO_MANY_OPEN = "queue: too many open requests"
EXCEEDS_BALANCE = "erc20: transfer amount exceeds balance"
CONTROLLER_NOT_VERIFIED = "identity: controller not verified"
NO_PENDING = "queue: no pending request"
NO_CASH_TO_FULFIL = "queue: no cash to fulfil"
NOTHING_CANCELLED = "queue: nothing cancelled to claim"
CLAIM_ABOVE_CLAIMABLE = "queue: claim above claimable"
ZERO_CLAIM_ASSETS = "queue: zero assets"


@dataclass
class Request:
    """A pending request: its id, its controller (a checksummed address) and its shares."""

    id: int
    controller: str
    shares: int


@dataclass(frozen=True)
class Fulfilment:
    """One RedeemFulfilled event: a request, or the part `shares` of it, paid `assets`."""

    controller: str
    request_id: int
    shares: int
    assets: int
    remaining: int


@dataclass
class QueueModel:
    """The queue's books: `queue` in FIFO order; per controller, claimable (shares, assets) and
    cancelled shares to claim back."""

    min_request: int
    queue: list[Request] = field(default_factory=list)
    last_id: int = 0
    claimable: dict[str, tuple[int, int]] = field(default_factory=dict)
    cancelled: dict[str, int] = field(default_factory=dict)

    # TOTALS #

    def pending_of(self, controller: str) -> int:
        return sum(r.shares for r in self.queue if r.controller == controller)

    def open_of(self, controller: str) -> int:
        return sum(1 for r in self.queue if r.controller == controller)

    def claimable_of(self, controller: str) -> tuple[int, int]:
        return self.claimable.get(controller, (0, 0))

    def cancelled_of(self, controller: str) -> int:
        return self.cancelled.get(controller, 0)

    @property
    def pending_shares(self) -> int:
        return sum(r.shares for r in self.queue)

    @property
    def cancelled_shares(self) -> int:
        return sum(self.cancelled.values())

    @property
    def reserved(self) -> int:
        return sum(assets for _, assets in self.claimable.values())

    def state_of(self, controller: str) -> tuple[int, int, int, int, int]:
        """`controller_state`: (pending shares, open requests, claimable shares, claimable
        assets, cancelled shares)."""
        return (
            self.pending_of(controller),
            self.open_of(controller),
            *self.claimable_of(controller),
            self.cancelled_of(controller),
        )

    # REQUESTS #

    def request_refusal(
        self,
        shares: int,
        owner: str,
        controller: str,
        balance: int,
        controller_verified: bool,
        paused: bool = False,
    ) -> str | None:
        """Why `requestRedeem(shares, controller, owner)` from the owner itself (a verified
        holder) is refused, in the contract's order; None if it goes through. The pause and the
        balance are the vault's (its escrow transfer), checked last."""
        if shares < self.min_request:
            return BELOW_MINIMUM
        if controller != owner and not controller_verified:
            return CONTROLLER_NOT_VERIFIED
        if self.open_of(controller) >= MAX_OPEN_PER_CONTROLLER:
            return TOO_MANY_OPEN
        if paused:
            return PAUSED
        if shares > balance:
            return EXCEEDS_BALANCE
        return None

    def request(self, shares: int, controller: str) -> int:
        self.last_id += 1
        self.queue.append(Request(self.last_id, controller, shares))
        return self.last_id

    def pending_request(self, request_id: int, controller: str) -> Request | None:
        for r in self.queue:
            if r.id == request_id and r.controller == controller:
                return r
        return None

    def cancel(self, request_id: int, controller: str) -> int:
        """A synchronous cancel: the pending shares become claimable back at once."""
        r = self.pending_request(request_id, controller)
        assert r is not None, "the machine cancels only a pending request"
        self.queue.remove(r)
        self.cancelled[controller] = self.cancelled_of(controller) + r.shares
        return r.shares

    def claim_cancelled(self, controller: str) -> int:
        shares = self.cancelled.pop(controller, 0)
        assert shares != 0
        return shares

    # FULFILMENT #

    def plan_fulfil(
        self, max_requests: int, nav: int, supply: int, cash: int, dead_shares: int | None = None
    ) -> list[Fulfilment]:
        """What `fulfil(max_requests)` pays in a block where the vault's NAV is `nav`, its supply
        `supply` (the escrow included) and its free cash `cash`: requests from the head, each at
        its shares' NAV rounded down, until the cash ends (inside a request: the most shares the
        cash left pays). A request worth nothing at this NAV is closed for nothing while cash is
        left (it could never be paid). Empty: refused. In wind-down (`dead_shares` given) the NAV
        is shared pro rata among the live fractions, without the dead and virtual shares:
        floor(shares * nav / live), and each request paid leaves the next the rest, as a call of
        its own would price it (nav less its assets, live less its shares): the request holding
        the last live fractions takes the last of NAV."""
        live = None if dead_shares is None else supply - dead_shares

        def price(shares: int) -> int:
            if live is None:
                return to_assets(shares, nav, supply)
            return shares * nav // live

        plan: list[Fulfilment] = []
        paid = 0
        for r in self.queue[:max_requests]:
            left = cash - paid
            take = r.shares
            assets = price(take)
            if assets > left:
                take = largest(lambda x, left=left: price(x) <= left, r.shares)
                assets = price(take)
            if assets == 0 and (take != r.shares or left == 0):
                break
            paid += assets
            if live is not None:
                nav, live = nav - assets, live - take
            plan.append(Fulfilment(r.controller, r.id, take, assets, r.shares - take))
            if take != r.shares:
                break
        return plan

    def fulfil(self, plan: list[Fulfilment]) -> None:
        for f in plan:
            head = self.queue[0]
            assert head.id == f.request_id
            if f.remaining == 0:
                self.queue.pop(0)
            else:
                head.shares = f.remaining
            if f.assets:
                shares, assets = self.claimable_of(f.controller)
                self.claimable[f.controller] = (shares + f.shares, assets + f.assets)

    # CLAIMS #

    def redeem_outcome(self, controller: str, shares: int) -> tuple[int, str | None]:
        """(assets, reason): what `redeem(shares)` pays the controller (its part of the claimable
        assets rounded down; all of them for all the shares), or why it is refused."""
        claimable_shares, claimable_assets = self.claimable_of(controller)
        if shares > claimable_shares:
            return 0, CLAIM_ABOVE_CLAIMABLE
        if shares == claimable_shares:
            return claimable_assets, None
        assets = shares * claimable_assets // claimable_shares
        return assets, None if assets != 0 else ZERO_CLAIM_ASSETS

    def withdraw_outcome(self, controller: str, assets: int) -> tuple[int, str | None]:
        """(shares, reason): the claimable shares `withdraw(assets)` takes (rounded up, leaving
        at least one share for the assets left; all of them for all the assets)."""
        claimable_shares, claimable_assets = self.claimable_of(controller)
        if assets > claimable_assets:
            return 0, CLAIM_ABOVE_CLAIMABLE
        if assets == claimable_assets:
            return claimable_shares, None
        rounded_up = -(-assets * claimable_shares // claimable_assets)
        return min(rounded_up, claimable_shares - 1), None

    def claim(self, controller: str, shares: int, assets: int) -> None:
        claimable_shares, claimable_assets = self.claimable_of(controller)
        left = (claimable_shares - shares, claimable_assets - assets)
        assert min(left) >= 0
        if left == (0, 0):
            self.claimable.pop(controller, None)
        else:
            self.claimable[controller] = left
