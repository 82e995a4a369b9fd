# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GpuMarket
@custom:contract-name GpuMarket
@license GNU Affero General Public License v3.0 only
@notice One pool's GPU trades for cash, both ways, each at a price checked against the GPU's value
        in the block it happens.
        - In: the operator offers to buy a GPU from its owner (`offer_gpu`); the owner accepts
          with `sell_gpu` and is paid from the pool's free cash, at most the collateral value that
          comes in. No GPU is paid for without its owner's consent; none is bought in wind-down.
        - Out: the operator lists a GPU the pool holds (`list_gpu`); a buyer takes it with
          `buy_gpu`, paying the stablecoin and receiving the GPU token in the same transaction, at
          no less than the floor: the GPU's collateral value now, or the appraiser's recovery value
          (if higher) for a GPU that is impaired, retired or marked down by a lease default; never
          while the GPU returns on a ramp. The GPU stops
          counting; the proceeds enter free cash up to its collateral value (NAV unchanged) and the
          rest is a gain streamed to holders (all of it enters free cash in wind-down).
@custom:security Needs MOVER_ROLE on the pool's GpuCollateral, which moves the GPU and the cash.
        Every call goes to the registry, the collateral or the appraisals, all trusted.
@custom:kill Revoke OPERATOR_ROLE here (no offers, no listings) or MOVER_ROLE on the collateral
        (nothing moves). Pausing the vault stops purchases and sales (the vault pays and collects).
"""


from .interfaces import IGpuMarket
implements: IGpuMarket


from .interfaces import IGpuAppraisals
from .interfaces import IGpuCollateral
from .interfaces import IGpuRegistry


from snekmate.auth import access_control
initializes: access_control


exports: access_control.__interface__


# keccak256("OPERATOR_ROLE"): makes offers and listings.
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
# IGpuRegistry.GpuStatus.LEASED.
_LEASED: constant(uint256) = 2
# GpuCollateral position states.
_UNCOUNTED: constant(uint256) = 2
# Packing of an offer or a listing: price (bits 0..127) | expires_at (128..167).
_MASK_40: constant(uint256) = 2**40 - 1
_MASK_128: constant(uint256) = 2**128 - 1


# The pool's GpuCollateral (holds the GPUs, values them, moves them and the cash).
COLLATERAL: public(immutable(IGpuCollateral))
# The pool's GpuAppraisals (recovery values: the floor of a GPU that no longer counts in full).
APPRAISALS: public(immutable(IGpuAppraisals))
# The shared GPU registry.
GPU_REGISTRY: public(immutable(IGpuRegistry))


# token id -> packed offer to buy it in (0: none).
_offers: HashMap[uint256, uint256]
# token id -> packed listing to sell it (0: none).
_listings: HashMap[uint256, uint256]


@deploy
def __init__(collateral_: address, appraisals_: address):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE and grants OPERATOR_ROLE; the collateral's
            admin grants this contract MOVER_ROLE.
    @param collateral_ The pool's GpuCollateral.
    @param appraisals_ The pool's GpuAppraisals.
    """
    assert collateral_.is_contract, "market: collateral is not a contract"
    assert staticcall IGpuAppraisals(appraisals_).COLLATERAL() == collateral_, "market: appraisals of another pool"
    COLLATERAL = IGpuCollateral(collateral_)
    APPRAISALS = IGpuAppraisals(appraisals_)
    GPU_REGISTRY = IGpuRegistry(staticcall COLLATERAL.GPU_REGISTRY())
    access_control.__init__()


# GPUS IN #


@external
def offer_gpu(token_id: uint256, price: uint256, expires_at: uint256):
    """
    @notice OPERATOR_ROLE: offer to buy a GPU from its owner with the pool's free cash (replaces
            any earlier offer). The owner accepts with `sell_gpu`; the price is checked against the
            collateral value and the free cash then.
    @param token_id A registered GPU the pool does not hold.
    @param price Stablecoin to pay, non-zero, below 2**128.
    @param expires_at The last second the offer can be accepted (not in the past).
    """
    # The registry's owner covers every GPU held, counted or not (one sent by plain transfer too).
    assert (staticcall GPU_REGISTRY.terms(token_id)).owner != COLLATERAL.address, "market: gpu already held"
    self._offers[token_id] = self._pack(price, expires_at)
    log IGpuMarket.GpuOffered(token_id=token_id, price=price, expires_at=expires_at, operator=msg.sender)


@external
def cancel_offer(token_id: uint256):
    """
    @notice OPERATOR_ROLE: withdraw the offer for a GPU.
    @param token_id A GPU with an open offer.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert self._offers[token_id] != 0, "market: no offer"
    self._offers[token_id] = 0
    log IGpuMarket.GpuOfferCancelled(token_id=token_id, operator=msg.sender)


@external
def sell_gpu(token_id: uint256, price: uint256) -> uint256:
    """
    @notice The GPU's owner accepts the operator's offer: the GPU comes in (approve the pool's
            GpuCollateral on the registry first) and the price is paid from the pool's free cash.
            The owner must be a verified address; the price must not exceed the collateral value
            that comes in. Refused in wind-down (by the collateral: no purchase with cash).
    @param token_id A GPU the caller owns, with an open offer.
    @param price The offer's price (guards against an offer changed meanwhile).
    @return uint256 The collateral value that came in.
    """
    offered: uint256 = self._offers[token_id]
    assert offered != 0, "market: no offer"
    self._check_open(offered, price)
    self._offers[token_id] = 0
    value: uint256 = extcall COLLATERAL.admit(token_id, msg.sender, price)
    log IGpuMarket.GpuPurchased(token_id=token_id, seller=msg.sender, price=price, value=value)
    return value


# GPUS OUT #


@external
def list_gpu(token_id: uint256, price: uint256, expires_at: uint256):
    """
    @notice OPERATOR_ROLE: list a GPU the pool holds for sale at `price` (replaces any earlier
            listing). A buyer takes it with `buy_gpu`; the floor is checked then, against the value
            in that block.
    @param token_id A GPU the pool holds, not under lease.
    @param price Stablecoin asked, non-zero, below 2**128.
    @param expires_at The last second the listing can be taken (not in the past).
    """
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    assert terms.owner == COLLATERAL.address, "market: gpu not held by the pool"
    assert terms.status != _LEASED, "market: gpu under lease; close the lease first"
    self._listings[token_id] = self._pack(price, expires_at)
    log IGpuMarket.GpuListed(token_id=token_id, price=price, expires_at=expires_at, operator=msg.sender)


@external
def cancel_listing(token_id: uint256):
    """
    @notice OPERATOR_ROLE: withdraw the listing of a GPU.
    @param token_id A GPU with an open listing.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert self._listings[token_id] != 0, "market: no listing"
    self._listings[token_id] = 0
    log IGpuMarket.GpuListingCancelled(token_id=token_id, operator=msg.sender)


@external
def buy_gpu(token_id: uint256, price: uint256) -> uint256:
    """
    @notice Anyone: buy a listed GPU, paying `price` (approve the pool's vault for it) and receiving
            the GPU token in the same transaction, at no less than `floor(token_id)`.
    @param token_id A listed GPU.
    @param price The listing's price (guards against a listing changed meanwhile).
    @return uint256 The collateral value that left NAV.
    """
    listed: uint256 = self._listings[token_id]
    assert listed != 0, "market: no listing"
    self._check_open(listed, price)
    self._listings[token_id] = 0
    lowest: uint256 = self._floor(token_id)
    assert price >= lowest, "market: price below floor"
    value: uint256 = extcall COLLATERAL.release(token_id, msg.sender, price)
    log IGpuMarket.GpuSold(token_id=token_id, buyer=msg.sender, price=price, value=value, floor=lowest)
    return value


# VIEWS #


@view
@external
def floor(token_id: uint256) -> uint256:
    """
    @notice The lowest price a GPU the pool holds can be sold at now: its collateral value, or the
            appraiser's recovery value if it is impaired, retired or marked down by a default.
            Reverts if there is none (a GPU that no longer counts, with no recovery value set).
    @param token_id A GPU the pool holds.
    @return uint256 Stablecoin units.
    """
    return self._floor(token_id)


@view
@external
def offer(token_id: uint256) -> (uint256, uint256):
    """
    @notice The open offer to buy a GPU: price and expiry (0, 0: none).
    @param token_id Any token id.
    @return (uint256, uint256) Price and last second it can be accepted.
    """
    return self._unpack(self._offers[token_id])


@view
@external
def listing(token_id: uint256) -> (uint256, uint256):
    """
    @notice The open listing of a GPU: price and expiry (0, 0: none).
    @param token_id Any token id.
    @return (uint256, uint256) Price and last second it can be taken.
    """
    return self._unpack(self._listings[token_id])


# INTERNAL #


@view
@internal
def _floor(token_id: uint256) -> uint256:
    """
    @dev The sale floor (see `floor`). The collateral's views count every due change, so the value
         is the one `release` takes out in this block.
    """
    state: uint256 = 0
    since: uint256 = 0
    ramp_end: uint256 = 0
    stale_at: uint256 = 0
    state, since, ramp_end, stale_at = staticcall COLLATERAL.position(token_id)
    mark: uint256 = 0
    marked_at: uint256 = 0
    defaulted: bool = False
    ramp_from: uint256 = 0
    mark, marked_at, defaulted, ramp_from = staticcall COLLATERAL.appraisal(token_id)
    # On a return ramp the value is written down on purpose while it comes back: sold at it, the
    # GPU would take the return from the holders who bore the write-down. Sales wait, as entries do.
    assert ramp_end <= block.timestamp, "market: gpu returning; sell after its ramp"
    value: uint256 = staticcall COLLATERAL.value_of(token_id)
    recovery: uint256 = 0
    appraised: bool = False
    recovery, appraised = staticcall APPRAISALS.recovery_value(token_id)
    if appraised and (defaulted or state == _UNCOUNTED):
        # Never below what the sale takes out of NAV.
        return max(recovery, value)
    assert value != 0, "market: no floor; the appraiser sets a recovery value"
    return value


@view
@internal
def _pack(price: uint256, expires_at: uint256) -> uint256:
    """
    @dev OPERATOR_ROLE: an offer or a listing, checked and packed.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert price != 0, "market: zero price"
    assert price <= _MASK_128, "market: price too large"
    assert expires_at >= block.timestamp, "market: expired"
    assert expires_at <= _MASK_40, "market: expiry too far"
    return price | (expires_at << 128)


@view
@internal
def _check_open(packed: uint256, price: uint256):
    """
    @dev An open offer or listing is taken at its own price, before it expires.
    """
    assert packed & _MASK_128 == price, "market: price differs from the offer"
    assert block.timestamp <= packed >> 128, "market: expired"


@pure
@internal
def _unpack(packed: uint256) -> (uint256, uint256):
    return packed & _MASK_128, packed >> 128
