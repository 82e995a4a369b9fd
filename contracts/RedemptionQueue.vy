# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title RedemptionQueue
@license GNU Affero General Public License v3.0 only
@notice One pool's queued redemptions: ERC-7540 asynchronous redeem with ERC-7887 cancellation,
        an ERC-7575 entry point whose `share()` is the pool's fraction token (the CollateralVault)
        and whose `asset()` is the stablecoin. An investor who cannot leave from free cash now
        requests, and is paid when cash comes in.
        - `requestRedeem` moves the fractions from the owner into escrow (the vault's own balance
          beyond its dead shares): from then on they earn no revenue (the vault streams what they
          earn back to the holders who stay) and the owner cannot move them. Each request is an
          entry of a first-in-first-out list with its own id (1, 2, 3...).
        - `fulfil` (FULFILLER_ROLE, the pool's operator) pays requests from the head of the list
          at the NAV of its own block, up to the vault's free cash: each request gets its shares'
          NAV rounded down, the escrowed fractions are burnt, and the assets move from the vault's
          free cash to this contract's reserve (outside NAV and free cash) until claimed. When the
          cash runs out inside a request, the request is fulfilled in part (the most shares the
          cash pays) and the rest stays pending at the head. A request whose pending shares are
          worth nothing at that NAV (less than a wei) is closed for nothing while cash is left,
          so that it cannot block the requests behind it. A write-down before fulfilment is
          borne by the request.
        - The controller claims with `redeem`/`withdraw` (claims are per controller: the fulfilled
          shares and assets of its requests add up). A request still pending can be cancelled
          (`cancelRedeemRequest`, synchronous: the shares become claimable back at once, so no
          cancel is ever pending) and the shares claimed back (`claimCancelRedeemRequest`).
        Limits, so that a flood of small requests blocks nothing and costs the fulfiller the same
        per request: a minimum request size (`min_request`), MAX_OPEN_PER_CONTROLLER open requests
        per controller and MAX_OPEN_REQUESTS overall; the list is doubly linked (a cancel unlinks,
        leaving no hole to skip), fulfilment does at most MAX_FULFIL_BATCH requests a call, and
        every view reads a bounded number of entries.
        Rounding: a request gets its NAV rounded down (the rest stays with the holders); a `redeem`
        claim pays assets rounded down; a `withdraw` claim takes claimable shares rounded up;
        claiming all that is claimable pays all of it, leaving nothing behind.
@custom:security Identity (exit rights): a holder requests its own exit whatever its
        verification; naming another controller needs both verified (the claim passes to it).
        A claim (assets, or fractions claimed back after a cancel) goes to the controller itself
        whatever its verification (its own exit, or its own fractions back), or to another
        receiver when both are verified. The vault's escrow receives without identity checks (REDEMPTION_QUEUE_ROLE).
        Pause (the vault's): stops requestRedeem, fulfil, redeem, withdraw and
        claimCancelRedeemRequest. It does not stop cancelRedeemRequest (nothing moves until the
        claim), setOperator, sweep or role management.
        Books, from events alone: escrowed shares = sum(RedeemRequest.shares) -
        sum(RedeemFulfilled.shares) - sum(CancelRedeemClaim.shares); reserve =
        sum(RedeemFulfilled.assets) - sum(Withdraw.assets). Invariant: the vault's balance of its
        own fractions = DEAD_SHARES + pending + cancelled not yet claimed back; this contract's
        stablecoin = reserve (+ anything sent to it, which `sweep` gives to the vault); a
        fulfilment whose assets arrive short (a fee on transfer) is refused to keep it so.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC4626


from .interfaces import ICollateralVault
from .interfaces import IGpuCollateral
from .interfaces import IIdentityRegistry


from snekmate.auth import access_control
initializes: access_control


exports: (
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
)


# ERC-7540 events.
event RedeemRequest:
    controller: indexed(address)
    owner: indexed(address)
    requestId: indexed(uint256)
    sender: address
    shares: uint256


event OperatorSet:
    controller: indexed(address)
    operator: indexed(address)
    approved: bool


# ERC-7887 events.
event CancelRedeemRequest:
    controller: indexed(address)
    requestId: indexed(uint256)
    sender: address


event CancelRedeemClaim:
    controller: indexed(address)
    receiver: indexed(address)
    requestId: indexed(uint256)
    sender: address
    shares: uint256


# A request (or the part `shares` of it) fulfilled at the NAV of this block; `remaining` shares
# stay pending.
event RedeemFulfilled:
    controller: indexed(address)
    requestId: indexed(uint256)
    shares: uint256
    assets: uint256
    remaining: uint256


event UpdateMinRequest:
    previous: uint256
    current: uint256


# Stablecoin beyond the reserve, given to the vault (whose `skim` streams it to holders).
event Swept:
    amount: uint256


# A recovered wallet's requests now belong to `new` (its pending ones by id; its claimable and
# cancelled shares with them).
event RequestsRecovered:
    lost: indexed(address)
    new: indexed(address)
    request_ids: DynArray[uint256, MAX_OPEN_PER_CONTROLLER]
    pending_shares: uint256
    claimable_shares: uint256
    claimable_assets: uint256
    cancelled_shares: uint256


# keccak256("FULFILLER_ROLE"): fulfils requests (the pool's operator).
FULFILLER_ROLE: public(constant(bytes32)) = keccak256("FULFILLER_ROLE")
# IdentityRegistry.MINT: a movement's receiving side only.
_MINT: constant(uint256) = 3
# keccak256("ENFORCER_ROLE"): the pool's PoolCompliance, which moves a recovered wallet's requests.
ENFORCER_ROLE: public(constant(bytes32)) = keccak256("ENFORCER_ROLE")
# Open (pending) requests one controller may have.
MAX_OPEN_PER_CONTROLLER: public(constant(uint256)) = 16
# Open requests overall.
MAX_OPEN_REQUESTS: public(constant(uint256)) = 10_000
# Most requests one `fulfil` settles.
MAX_FULFIL_BATCH: public(constant(uint256)) = 256
# Most entries one `requests` view returns.
MAX_PAGE: public(constant(uint256)) = 64
# ERC-165 interface ids.
_ERC165_ID: constant(bytes4) = 0x01FFC9A7
_ACCESS_CONTROL_ID: constant(bytes4) = 0x7965DB0B
_OPERATOR_ID: constant(bytes4) = 0xE3BC4E65
_ASYNC_REDEEM_ID: constant(bytes4) = 0x620EE8E4
_ERC7575_ID: constant(bytes4) = 0x2F0A18C5
_CANCEL_REDEEM_ID: constant(bytes4) = 0xE76CFFC7
_MASK_128: constant(uint256) = 2**128 - 1
_MASK_160: constant(uint256) = 2**160 - 1


# The pool's fraction token and vault (ERC-7575 `share`).
VAULT: public(immutable(ICollateralVault))
# The stablecoin (ERC-7575 `asset`).
asset: public(immutable(address))
# The shared identity registry.
IDENTITY_REGISTRY: public(immutable(IIdentityRegistry))
# The vault's virtual shares (10**DECIMALS_OFFSET): its conversions, repeated here exactly.
_VIRTUAL_SHARES: immutable(uint256)
# The vault's dead shares (no holder: left out of the wind-down's pro rata price).
_DEAD_SHARES: immutable(uint256)
# The pool's GpuCollateral (whether the pool is winding down).
_COLLATERAL: immutable(IGpuCollateral)


# controller -> operator -> approved (ERC-7540).
isOperator: public(HashMap[address, HashMap[address, bool]])
# Smallest request, in fraction units.
min_request: public(uint256)
# First and last pending request (0: none), and the last id given.
head: public(uint256)
tail: public(uint256)
last_id: public(uint256)
# Pending requests and their shares, over all controllers.
open_requests: public(uint256)
pending_shares: public(uint256)
# Cancelled shares not yet claimed back, over all controllers.
cancelled_shares: public(uint256)
# Assets of fulfilled requests not yet claimed (the reserve).
reserved: public(uint256)
# id -> controller (bits 0..159) | next id (160..255).
_links: HashMap[uint256, uint256]
# id -> pending shares (bits 0..127) | previous id (128..255).
_shares: HashMap[uint256, uint256]
# controller -> pending shares (bits 0..127) | open requests (128..255).
_pending_of: HashMap[address, uint256]
# controller -> claimable shares (bits 0..127) | claimable assets (128..255).
_claimable_of: HashMap[address, uint256]
# controller -> cancelled shares to claim back.
_cancelled_of: HashMap[address, uint256]


@deploy
def __init__(vault_: address, min_request_: uint256):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE; the deploy script grants FULFILLER_ROLE here
            and REDEMPTION_QUEUE_ROLE to this contract on the vault.
    @param vault_ The pool's CollateralVault.
    @param min_request_ Smallest request, in fraction units (non-zero).
    """
    assert vault_.is_contract, "queue: vault is not a contract"
    assert min_request_ != 0, "queue: zero minimum request"
    VAULT = ICollateralVault(vault_)
    asset = staticcall VAULT.asset()
    IDENTITY_REGISTRY = IIdentityRegistry(staticcall VAULT.IDENTITY_REGISTRY())
    _VIRTUAL_SHARES = 10 ** staticcall VAULT.DECIMALS_OFFSET()
    _DEAD_SHARES = staticcall VAULT.DEAD_SHARES()
    _COLLATERAL = IGpuCollateral(staticcall VAULT.COLLATERAL())
    self.min_request = min_request_
    access_control.__init__()
    log UpdateMinRequest(previous=0, current=min_request_)


# ERC-7575 #


@view
@external
def share() -> address:
    """
    @notice The pool's fraction token (the CollateralVault).
    @return address The share token.
    """
    return VAULT.address


@view
@external
def totalAssets() -> uint256:
    """
    @notice The pool's NAV (the vault's `totalAssets`; the reserve is outside it).
    @return uint256 Stablecoin units.
    """
    return staticcall VAULT.totalAssets()


@view
@external
def convertToShares(assets: uint256) -> uint256:
    """
    @notice The vault's `convertToShares`.
    @param assets Stablecoin units.
    @return uint256 Fraction units.
    """
    return staticcall VAULT.convertToShares(assets)


@view
@external
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice The vault's `convertToAssets`: what pending shares are worth now.
    @param shares Fraction units.
    @return uint256 Stablecoin units.
    """
    return staticcall VAULT.convertToAssets(shares)


@view
@external
def maxDeposit(receiver: address) -> uint256:
    """
    @notice 0: deposits go to the vault itself.
    @param receiver Any address.
    @return uint256 0.
    """
    return 0


@view
@external
def maxMint(receiver: address) -> uint256:
    """
    @notice 0: mints go to the vault itself.
    @param receiver Any address.
    @return uint256 0.
    """
    return 0


@view
@external
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Reverts: deposits go to the vault itself.
    """
    raise "queue: deposits go to the vault"


@view
@external
def previewMint(shares: uint256) -> uint256:
    """
    @notice Reverts: mints go to the vault itself.
    """
    raise "queue: deposits go to the vault"


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Reverts: deposits go to the vault itself.
    """
    raise "queue: deposits go to the vault"


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Reverts: mints go to the vault itself.
    """
    raise "queue: deposits go to the vault"


@view
@external
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Reverts, as ERC-7540 requires of an asynchronous redeem: the price is that of the
            fulfilling block.
    """
    raise "queue: asynchronous redeem has no preview"


@view
@external
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Reverts, as ERC-7540 requires of an asynchronous redeem.
    """
    raise "queue: asynchronous redeem has no preview"


# ERC-7540 REQUESTS #


@external
def requestRedeem(shares: uint256, controller: address, owner: address) -> uint256:
    """
    @notice Queue the redemption of `shares` of `owner`'s fractions for `controller`; the
            fractions go into escrow now and stop earning revenue.
    @param shares Fraction units, at least `min_request`.
    @param controller Who controls the request (claims or cancels it). `owner` itself, or a
           verified address (then `owner` must be verified too).
    @param owner The holder: the caller, or one that made the caller its operator.
    @return uint256 The request id (its place in the queue).
    """
    self._check_caller(owner)
    assert controller != empty(address), "queue: zero controller"
    assert shares >= self.min_request, "queue: request below minimum"
    if controller != owner:
        self._require_both_verified(owner, controller, "identity: owner not verified", "identity: controller not verified")
        self._require_not_frozen(controller, "compliance: controller frozen")
        # The controller may claim the fractions back if it cancels: it must be able to hold
        # them now, as the receiver of a transfer (its jurisdiction, the maximum balance).
        holding: uint256 = 0
        rules: uint256 = 0
        holding, rules = staticcall VAULT.packed(controller)
        _: uint256 = staticcall IDENTITY_REGISTRY.check_move(
            VAULT.address, _MINT, controller, 0, controller, holding, shares, rules
        )
    pending: uint256 = self._pending_of[controller]
    count: uint256 = pending >> 128
    assert count < MAX_OPEN_PER_CONTROLLER, "queue: too many open requests"
    assert self.open_requests < MAX_OPEN_REQUESTS, "queue: queue full"
    # Pending shares stay below the supply cap of 2**127, so the packed field cannot overflow.
    self._pending_of[controller] = ((count + 1) << 128) | ((pending & _MASK_128) + shares)
    self.open_requests += 1
    self.pending_shares += shares
    request_id: uint256 = self.last_id + 1
    self.last_id = request_id
    tail_id: uint256 = self.tail
    self._links[request_id] = convert(controller, uint256)
    self._shares[request_id] = (tail_id << 128) | shares
    if tail_id == 0:
        self.head = request_id
    else:
        self._links[tail_id] |= request_id << 160
    self.tail = request_id
    log RedeemRequest(controller=controller, owner=owner, requestId=request_id, sender=msg.sender, shares=shares)
    extcall VAULT.move_escrowed(owner, VAULT.address, shares, False)
    return request_id


@view
@external
def pendingRedeemRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Shares of request `requestId` still pending (0 unless it is `controller`'s); for
            `requestId` 0, all of `controller`'s pending shares.
    @param requestId A request id, or 0.
    @param controller The controller.
    @return uint256 Fraction units.
    """
    if requestId == 0:
        return self._pending_of[controller] & _MASK_128
    if self._links[requestId] & _MASK_160 != convert(controller, uint256):
        return 0
    return self._shares[requestId] & _MASK_128


@view
@external
def claimableRedeemRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Fulfilled shares `controller` can claim. Claims are per controller (ERC-7540's
            `redeem`/`withdraw` take no id), so this is the controller's total whatever the id.
    @param requestId Any id (0 is the ERC-7540 convention).
    @param controller The controller.
    @return uint256 Fraction units (already burnt; what `redeem` takes).
    """
    return self._claimable_of[controller] & _MASK_128


@external
def setOperator(operator: address, approved: bool) -> bool:
    """
    @notice Let `operator` (or stop it) request, claim and cancel for the caller (ERC-7540).
    @param operator Not the caller.
    @param approved True to approve, False to revoke.
    @return bool True.
    """
    assert operator != msg.sender, "queue: operator is the caller"
    self.isOperator[msg.sender][operator] = approved
    log OperatorSet(controller=msg.sender, operator=operator, approved=approved)
    return True


# FULFILMENT #


@external
def fulfil(max_requests: uint256) -> (uint256, uint256, uint256):
    """
    @notice FULFILLER_ROLE: pay up to `max_requests` requests from the head of the queue at the
            NAV of this block, as far as the vault's free cash goes (the last one in part if the
            cash ends inside it). Each request gets its shares' NAV rounded down; the escrowed
            fractions are burnt and the assets reserved here until claimed. A request worth
            nothing at this NAV is closed for nothing (burnt, nothing to claim) while cash is
            left. Reverts if nothing can be settled (no request, or no free cash), or if the
            stablecoin delivers the reserve less than was sent (a fee on transfer).
    @param max_requests Requests to settle, in [1, MAX_FULFIL_BATCH].
    @return (uint256, uint256, uint256) Requests settled in full, shares burnt, assets reserved.
    """
    access_control._check_role(FULFILLER_ROLE, msg.sender)
    assert max_requests != 0, "queue: zero requests"
    assert max_requests <= MAX_FULFIL_BATCH, "queue: too many requests"
    request_id: uint256 = self.head
    assert request_id != 0, "queue: no pending request"
    # The vault's conversion, floor(shares * (T + 1) / (supply + V)), at this block's NAV (the
    # vault re-prices the total when it settles, after maturing what is due). In wind-down no
    # fraction is minted again, so no inflation is left to defend against: the price is pro rata
    # without the dead and virtual shares, floor(shares * T / (supply - DEAD_SHARES)), and the
    # request that takes the last live fractions takes the last of NAV, to the wei.
    nav: uint256 = staticcall VAULT.totalAssets() + 1
    units: uint256 = staticcall VAULT.totalSupply() + _VIRTUAL_SHARES
    winding: bool = staticcall _COLLATERAL.winding_down()
    if winding:
        # A request is pending, so its escrowed shares are in the supply beyond DEAD_SHARES.
        nav = unsafe_sub(nav, 1)
        units = unsafe_sub(units, _VIRTUAL_SHARES + _DEAD_SHARES)
    cash: uint256 = staticcall VAULT.free_cash()
    done: uint256 = 0
    burnt: uint256 = 0
    paid: uint256 = 0
    for _: uint256 in range(max_requests, bound=MAX_FULFIL_BATCH):
        if request_id == 0:
            break
        links: uint256 = self._links[request_id]
        packed: uint256 = self._shares[request_id]
        pending: uint256 = packed & _MASK_128
        take: uint256 = pending
        assets: uint256 = take * nav // units
        # paid <= cash throughout.
        left: uint256 = unsafe_sub(cash, paid)
        if assets > left:
            # The most shares `left` pays: floor(x * nav / units) <= left <=> x * nav < (left + 1) * units
            # (nav > 0 here: assets > left >= 0).
            take = ((left + 1) * units - 1) // nav
            assets = take * nav // units
        if assets == 0:
            # Nothing to pay: either the cash is spent (the part it pays is worth nothing), and
            # the call stops here; or the request's pending shares are worth nothing at this NAV
            # (a remainder left where the cash ended a wei short, or a write-down). No cash would
            # ever pay such a request: while cash is left it is closed for nothing (its NAV rounded
            # down), or it would stay at the head and block every request behind it.
            if take != pending or left == 0:
                break
        controller: address = convert(links & _MASK_160, address)
        burnt += take
        paid += assets
        if winding:
            # Pro rata of what is left, as a call of its own would price it: the request holding
            # the last live fractions takes the last of NAV wherever it sits in the batch
            # (assets <= nav as take <= units: the escrow is in the live supply).
            nav = unsafe_sub(nav, assets)
            units = unsafe_sub(units, take)
        # take <= pending: full, or the part the cash pays (assets(take) <= left < assets(pending)).
        remaining: uint256 = unsafe_sub(pending, take)
        self._credit(controller, take, assets, remaining == 0)
        log RedeemFulfilled(controller=controller, requestId=request_id, shares=take, assets=assets, remaining=remaining)
        if remaining != 0:
            self._shares[request_id] = (packed & ~_MASK_128) | remaining
            break
        self._links[request_id] = 0
        self._shares[request_id] = 0
        done += 1
        request_id = links >> 160
    assert burnt != 0, "queue: no cash to fulfil"
    self.head = request_id
    if request_id == 0:
        self.tail = 0
    self.pending_shares -= burnt
    self.open_requests -= done
    self.reserved += paid
    # The reserve must hold what it books for the controllers: a stablecoin taking a fee on
    # transfers would leave the last claim unpaid. Refused, as the vault refuses cash that arrives
    # short; the requests wait.
    balance: uint256 = staticcall IERC20(asset).balanceOf(self)
    extcall VAULT.settle_redemptions(burnt, paid)
    assert staticcall IERC20(asset).balanceOf(self) >= balance + paid, "queue: asset arrived short (fee on transfer)"
    return done, burnt, paid


# CLAIMS #


@view
@external
def maxRedeem(controller: address) -> uint256:
    """
    @notice Exactly what `redeem` takes from `controller`'s claimable shares now (0 while paused).
    @param controller The controller.
    @return uint256 Fraction units.
    """
    if staticcall VAULT.paused():
        return 0
    return self._claimable_of[controller] & _MASK_128


@view
@external
def maxWithdraw(controller: address) -> uint256:
    """
    @notice Exactly what `withdraw` pays `controller` now: its claimable assets (0 while paused).
    @param controller The controller.
    @return uint256 Stablecoin units.
    """
    if staticcall VAULT.paused():
        return 0
    return self._claimable_of[controller] >> 128


@external
def redeem(shares: uint256, receiver: address, controller: address) -> uint256:
    """
    @notice Claim `shares` of `controller`'s fulfilled shares: pays their part of its claimable
            assets, rounded down (all of them when `shares` is all that is claimable).
    @param shares Fraction units, at most `maxRedeem(controller)`.
    @param receiver `controller` itself, or a verified address (then `controller` must be verified).
    @param controller The caller, or one that made the caller its operator.
    @return uint256 Stablecoin paid.
    """
    self._check_claim(controller)
    assert shares != 0, "queue: zero shares"
    packed: uint256 = self._claimable_of[controller]
    claimable_shares: uint256 = packed & _MASK_128
    claimable_assets: uint256 = packed >> 128
    assert shares <= claimable_shares, "queue: claim above claimable"
    assets: uint256 = claimable_assets
    if shares != claimable_shares:
        assets = shares * claimable_assets // claimable_shares
    assert assets != 0, "queue: zero assets"
    self._pay(controller, receiver, claimable_shares - shares, claimable_assets - assets, shares, assets)
    return assets


@external
def withdraw(assets: uint256, receiver: address, controller: address) -> uint256:
    """
    @notice Claim `assets` of `controller`'s claimable assets: takes claimable shares rounded up
            (all of them when `assets` is all that is claimable).
    @param assets Stablecoin units, at most `maxWithdraw(controller)`.
    @param receiver `controller` itself, or a verified address (then `controller` must be verified).
    @param controller The caller, or one that made the caller its operator.
    @return uint256 Claimable shares taken.
    """
    self._check_claim(controller)
    assert assets != 0, "queue: zero assets"
    packed: uint256 = self._claimable_of[controller]
    claimable_shares: uint256 = packed & _MASK_128
    claimable_assets: uint256 = packed >> 128
    assert assets <= claimable_assets, "queue: claim above claimable"
    shares: uint256 = claimable_shares
    if assets != claimable_assets:
        # Rounded up, but leaving at least one share for the assets left (claimable_shares >= 1:
        # fulfilment credits shares with every asset).
        shares = min(
            (assets * claimable_shares + claimable_assets - 1) // claimable_assets,
            claimable_shares - 1,
        )
    self._pay(controller, receiver, claimable_shares - shares, claimable_assets - assets, shares, assets)
    return shares


# ERC-7887 CANCELLATION #


@external
def cancelRedeemRequest(requestId: uint256, controller: address):
    """
    @notice Cancel what is still pending of request `requestId`: its shares become claimable back
            at once (a synchronous cancel: it is never pending). A part already fulfilled stays
            claimable as assets.
    @param requestId A pending request of `controller`.
    @param controller The caller, or one that made the caller its operator.
    """
    self._check_caller(controller)
    self._require_not_frozen(controller, "compliance: account frozen")
    links: uint256 = self._links[requestId]
    assert links != 0 and links & _MASK_160 == convert(controller, uint256), "queue: no pending request"
    packed: uint256 = self._shares[requestId]
    shares: uint256 = packed & _MASK_128
    previous_id: uint256 = packed >> 128
    next_id: uint256 = links >> 160
    # Unlink. Fulfilment deletes entries from the head without touching the next one's link, so
    # the head is recognised by id; every other entry's previous id is a live entry.
    at_head: bool = requestId == self.head
    if at_head:
        self.head = next_id
    else:
        self._links[previous_id] = (self._links[previous_id] & _MASK_160) | (next_id << 160)
    if next_id == 0:
        self.tail = 0 if at_head else previous_id
    else:
        self._shares[next_id] = (self._shares[next_id] & _MASK_128) | (previous_id << 128)
    self._links[requestId] = 0
    self._shares[requestId] = 0
    pending: uint256 = self._pending_of[controller]
    # The request's shares and its count are part of the controller's totals.
    self._pending_of[controller] = (((pending >> 128) - 1) << 128) | ((pending & _MASK_128) - shares)
    self.open_requests -= 1
    self.pending_shares -= shares
    self._cancelled_of[controller] += shares
    self.cancelled_shares += shares
    log CancelRedeemRequest(controller=controller, requestId=requestId, sender=msg.sender)


@view
@external
def pendingCancelRedeemRequest(requestId: uint256, controller: address) -> bool:
    """
    @notice Always False: a cancel is synchronous (its shares are claimable back at once), so
            nothing ever waits and a new request is never blocked by one.
    @param requestId Any id.
    @param controller Any address.
    @return bool False.
    """
    return False


@view
@external
def claimableCancelRedeemRequest(requestId: uint256, controller: address) -> uint256:
    """
    @notice Cancelled shares `controller` can claim back (its total whatever the id: a claim takes
            them all).
    @param requestId Any id.
    @param controller The controller.
    @return uint256 Fraction units.
    """
    return self._cancelled_of[controller]


@external
def claimCancelRedeemRequest(requestId: uint256, receiver: address, controller: address):
    """
    @notice Take back all of `controller`'s cancelled shares, to `receiver`.
    @param requestId The cancelled request (for the event; the claim takes every cancelled share).
    @param receiver `controller` itself (whatever its verification: its own fractions come
           back), or a verified address (then `controller` must be verified too).
    @param controller The caller, or one that made the caller its operator.
    """
    self._check_caller(controller)
    self._require_not_frozen(controller, "compliance: account frozen")
    shares: uint256 = self._cancelled_of[controller]
    assert shares != 0, "queue: nothing cancelled to claim"
    # Back to the controller itself whatever its verification (exit rights: its own fractions,
    # which it can then redeem or queue again); to anyone else, both verified, and the receiver
    # becomes a holder (the vault checks it may: not frozen, admitted jurisdiction, maximum).
    if receiver != controller:
        self._require_both_verified(controller, receiver, "identity: controller not verified", "identity: receiver not verified")
    self._cancelled_of[controller] = 0
    self.cancelled_shares -= shares
    log CancelRedeemClaim(controller=controller, receiver=receiver, requestId=requestId, sender=msg.sender, shares=shares)
    extcall VAULT.move_escrowed(VAULT.address, receiver, shares, receiver != controller)


# RECOVERY (the pool's PoolCompliance) #


@external
def move_requests(lost: address, new: address, request_ids: DynArray[uint256, MAX_OPEN_PER_CONTROLLER]) -> uint256:
    """
    @notice ENFORCER_ROLE (the pool's PoolCompliance, recovering a lost wallet): give `new` the
            requests `lost` controls: every pending one (all must be listed, in any order) and
            its claimable and cancelled shares. `new`'s own open requests and the moved ones stay
            within MAX_OPEN_PER_CONTROLLER. Operator approvals do not follow.
    @param lost The lost wallet.
    @param new The investor's new wallet.
    @param request_ids Every pending request `lost` controls.
    @return uint256 The pending requests moved.
    """
    access_control._check_role(ENFORCER_ROLE, msg.sender)
    pending: uint256 = self._pending_of[lost]
    count: uint256 = pending >> 128
    assert len(request_ids) == count, "queue: list every pending request of the lost wallet"
    for request_id: uint256 in request_ids:
        links: uint256 = self._links[request_id]
        assert links != 0 and links & _MASK_160 == convert(lost, uint256), "queue: no pending request"
        self._links[request_id] = (links & ~_MASK_160) | convert(new, uint256)
    new_pending: uint256 = self._pending_of[new]
    assert (new_pending >> 128) + count <= MAX_OPEN_PER_CONTROLLER, "queue: too many open requests"
    # Counts and shares each stay within their fields (shares below the supply cap).
    self._pending_of[new] = new_pending + pending
    self._pending_of[lost] = 0
    claimable: uint256 = self._claimable_of[lost]
    self._claimable_of[new] += claimable
    self._claimable_of[lost] = 0
    cancelled: uint256 = self._cancelled_of[lost]
    self._cancelled_of[new] += cancelled
    self._cancelled_of[lost] = 0
    log RequestsRecovered(
        lost=lost,
        new=new,
        request_ids=request_ids,
        pending_shares=pending & _MASK_128,
        claimable_shares=claimable & _MASK_128,
        claimable_assets=claimable >> 128,
        cancelled_shares=cancelled,
    )
    return count


# ADMIN AND UPKEEP #


@external
def set_min_request(min_request_: uint256):
    """
    @notice DEFAULT_ADMIN_ROLE: the smallest request (fraction units, non-zero); requests already
            queued are kept.
    @param min_request_ Fraction units.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert min_request_ != 0, "queue: zero minimum request"
    log UpdateMinRequest(previous=self.min_request, current=min_request_)
    self.min_request = min_request_


@external
def sweep() -> uint256:
    """
    @notice Anyone: give the vault the stablecoin held here beyond the reserve (sent by mistake or
            as a donation); the vault's `skim` streams it to holders.
    @return uint256 Stablecoin units swept.
    """
    balance: uint256 = staticcall IERC20(asset).balanceOf(self)
    reserve: uint256 = self.reserved
    assert balance > reserve, "queue: nothing to sweep"
    # balance > reserve, checked above.
    amount: uint256 = unsafe_sub(balance, reserve)
    log Swept(amount=amount)
    assert extcall IERC20(asset).transfer(VAULT.address, amount, default_return_value=True), "queue: asset transfer failed"
    return amount


# VIEWS #


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: ERC-165, access control, ERC-7540 operators and asynchronous redeem, ERC-7575
            and ERC-7887 redeem cancellation.
    @param interface_id The interface id.
    @return bool Whether it is supported.
    """
    return interface_id in [
        _ERC165_ID, _ACCESS_CONTROL_ID, _OPERATOR_ID, _ASYNC_REDEEM_ID, _ERC7575_ID, _CANCEL_REDEEM_ID
    ]


@view
@external
def request(request_id: uint256) -> (address, uint256, uint256, uint256):
    """
    @notice A pending request: (controller, pending shares, previous id, next id); zeros if it is
            not pending (fulfilled in full, cancelled, or never made).
    @param request_id The id.
    @return (address, uint256, uint256, uint256) Its entry.
    """
    links: uint256 = self._links[request_id]
    packed: uint256 = self._shares[request_id]
    return convert(links & _MASK_160, address), packed & _MASK_128, packed >> 128, links >> 160


@view
@external
def requests(start_id: uint256, count: uint256) -> DynArray[uint256[3], MAX_PAGE]:
    """
    @notice Up to `count` (at most MAX_PAGE) pending requests in queue order from `start_id` (0:
            the head), each as [id, controller, pending shares]. Page on from the next id of the
            last entry (`request`).
    @param start_id A pending request's id, or 0 for the head.
    @param count Entries wanted.
    @return DynArray[uint256[3], MAX_PAGE] The entries.
    """
    page: DynArray[uint256[3], MAX_PAGE] = []
    request_id: uint256 = start_id
    if request_id == 0:
        request_id = self.head
    for _: uint256 in range(min(count, MAX_PAGE), bound=MAX_PAGE):
        links: uint256 = self._links[request_id]
        if links == 0:
            break
        page.append([request_id, links & _MASK_160, self._shares[request_id] & _MASK_128])
        request_id = links >> 160
    return page


@view
@external
def controller_state(controller: address) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @notice `controller`'s totals: (pending shares, open requests, claimable shares, claimable
            assets, cancelled shares to claim back).
    @param controller Any address.
    @return (uint256, uint256, uint256, uint256, uint256) Its totals.
    """
    pending: uint256 = self._pending_of[controller]
    claimable: uint256 = self._claimable_of[controller]
    return pending & _MASK_128, pending >> 128, claimable & _MASK_128, claimable >> 128, self._cancelled_of[controller]


# INTERNAL #


@internal
def _credit(controller: address, shares: uint256, assets: uint256, closed: bool):
    """
    @dev Move `shares` of `controller`'s pending shares to claimable with their `assets`; `closed`:
         the request is fulfilled in full (one open request fewer). Shares closed for nothing
         (`assets` 0) are burnt and credit nothing: a claim always pays something.
    """
    pending: uint256 = self._pending_of[controller]
    count: uint256 = pending >> 128
    if closed:
        count -= 1
    self._pending_of[controller] = (count << 128) | ((pending & _MASK_128) - shares)
    if assets == 0:
        return
    claimable: uint256 = self._claimable_of[controller]
    # Claimable shares stay below the supply cap (2**127) and assets below NAV's bound (2**128).
    self._claimable_of[controller] = (((claimable >> 128) + assets) << 128) | ((claimable & _MASK_128) + shares)


@internal
def _pay(controller: address, receiver: address, shares_left: uint256, assets_left: uint256, shares: uint256, assets: uint256):
    """
    @dev A claim: the controller itself is always paid (exit right); another receiver needs both
         verified. Then the books, the event, and the transfer out of the reserve.
    """
    if receiver != controller:
        self._require_both_verified(controller, receiver, "identity: controller not verified", "identity: receiver not verified")
        self._require_not_frozen(receiver, "compliance: receiver frozen")
    self._claimable_of[controller] = (assets_left << 128) | shares_left
    self.reserved -= assets
    log IERC4626.Withdraw(sender=msg.sender, receiver=receiver, owner=controller, assets=assets, shares=shares)
    assert extcall IERC20(asset).transfer(receiver, assets, default_return_value=True), "queue: asset transfer failed"


@view
@internal
def _check_caller(account: address):
    """
    @dev ERC-7540: the account itself, or an operator it approved.
    """
    assert msg.sender == account or self.isOperator[account][msg.sender], "queue: caller is not owner or operator"


@view
@internal
def _check_claim(controller: address):
    assert not staticcall VAULT.paused(), "pausable: contract is paused"
    self._check_caller(controller)
    self._require_not_frozen(controller, "compliance: account frozen")


@view
@internal
def _require_not_frozen(account: address, reason: String[30]):
    """
    @dev A frozen investor can do nothing (DOMAIN "Exit rights"): no request, cancel or claim.
    """
    assert not staticcall VAULT.is_frozen(account), reason


@view
@internal
def _require_both_verified(first: address, second: address, first_reason: String[35], second_reason: String[35]):
    first_ok: bool = False
    second_ok: bool = False
    first_ok, second_ok = staticcall IDENTITY_REGISTRY.are_verified(first, second)
    assert first_ok, first_reason
    assert second_ok, second_reason
