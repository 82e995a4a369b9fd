# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GpuCollateral
@custom:contract-name GpuCollateral
@license GNU Affero General Public License v3.0 only
@notice The GPUs of one pool and their value. It holds the pool's GPU tokens, one packed slot of
        position per GPU, and the `schedule` of their collateral value (book value times
        ADVANCE_RATE_BPS), which its CollateralVault reads for NAV in one call.
        - In: the operator `contribute`s a GPU it owns (fractions minted at NAV for the value that
          came in), or offers to buy one with the pool's free cash (`offer_gpu`), which the owner
          accepts by calling `sell_gpu`: no GPU is paid for without its owner's consent. A GPU
          comes in ACTIVE, freshly attested, and at most once: a GPU this contract holds, or one
          sent to it with a plain transfer, can never be contributed or bought.
        - Current, always: the registry calls `on_gpu_status` / `on_gpu_attested` (COLLATERAL_ROLE)
          in the same transaction as a status change or an attestation of a GPU held here. IMPAIRED
          or RETIRED takes the GPU out of NAV at once; a GPU whose last attestation is older than
          STALENESS_WINDOW (to the grid day) stops counting at that day; end of life is a change
          at its day. A GPU that comes back (re-attested after going stale, or restored from
          IMPAIRED) returns linearly over UNLOCK_PERIOD ("down at once, up gradually"). OFFLINE
          and LEASED change nothing.
        - Entries wait out a temporary write-down: while a counted GPU is stale or returning on its
          ramp, `entry_value` (what the vault prices deposits and mints from) and `contribute`
          refuse. Otherwise a buyer could pay the written-down price and keep the value when it
          comes back, at the expense of the holders who bore the write-down. Exits keep the low
          price (down at once).
        - The clock's changes (end of life, staleness, end of a ramp) are nodes of the schedule:
          every flow that prices from the value first matures up to MAX_MATURE_STEPS of them and
          refuses if more are due ("collateral: maturities pending; call process_maturities");
          views count every due node, so they never understate.
        - Sales and liquidations of GPUs come with the wind-down issue; nothing takes a GPU out yet.
@custom:security The vault trusts this contract's `collateral_before` and `value` (immutables on
        both sides bind the pair). Every external call goes to the registry or the vault, both
        trusted; effects come first (checks-effects-interactions). Needs COLLATERAL_ROLE on the
        registry before any GPU comes in (checked in `_bring_in`).
@custom:kill Pause the vault: `contribute` and `sell_gpu` stop with it (minting and paying are the
        vault's). Value can still go down (hooks, maturities) while paused, never up by a flow.
"""


from .interfaces import IGpuCollateral
implements: IGpuCollateral


from .interfaces import IGpuHolder
implements: IGpuHolder


from .interfaces import ICollateralVault
from .interfaces import IGpuRegistry


from snekmate.auth import access_control
initializes: access_control


from . import schedule
initializes: schedule


exports: (
    access_control.__interface__,
    schedule.intercept_sum,
    schedule.slope_sum,
    schedule.nodes,
    schedule.schedule_state,
)


# keccak256("OPERATOR_ROLE"): brings GPUs in.
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
# The registry's role for pools' collateral contracts (it calls their hooks).
_COLLATERAL_ROLE: constant(bytes32) = keccak256("COLLATERAL_ROLE")
# Largest acquisition cost counted (keeps NAV below 2**127 for the vault's conversions).
MAX_COST: public(constant(uint256)) = 2**96
# Bounds of the staleness window and the unlock period.
MIN_WINDOW: public(constant(uint256)) = 86_400
MAX_WINDOW: public(constant(uint256)) = 365 * 86_400
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# IGpuRegistry.GpuStatus codes.
_ACTIVE: constant(uint256) = 1
_LEASED: constant(uint256) = 2
_OFFLINE: constant(uint256) = 4
_IMPAIRED: constant(uint256) = 8
_RETIRED: constant(uint256) = 16
# Position states.
_NONE: constant(uint256) = 0
_COUNTED: constant(uint256) = 1
_UNCOUNTED: constant(uint256) = 2
# Packing of a position: state (bits 0..7) | since (8..47) | ramp_end (48..87) | stale_at (88..127);
# of an offer: price (0..127) | expires_at (128..167).
_MASK_40: constant(uint256) = 2**40 - 1
_MASK_128: constant(uint256) = 2**128 - 1


# The pool's vault: mints fractions for contributions, pays for purchases, reads `value`.
VAULT: public(immutable(ICollateralVault))
# The shared GPU registry.
GPU_REGISTRY: public(immutable(IGpuRegistry))
# Collateral value / book value, in basis points.
ADVANCE_RATE_BPS: public(immutable(uint256))
# A GPU counts until its last attestation is this old (rounded down to the grid day).
STALENESS_WINDOW: public(immutable(uint256))
# A GPU that comes back returns to full value linearly over this period (to the grid day).
UNLOCK_PERIOD: public(immutable(uint256))


# token id -> packed position (see _MASK_40).
_positions: HashMap[uint256, uint256]
# token id -> packed offer to buy it (0: none).
_offers: HashMap[uint256, uint256]


@deploy
def __init__(
    vault_: address,
    gpu_registry_: address,
    advance_rate_bps_: uint256,
    staleness_window_: uint256,
    unlock_period_: uint256,
):
    """
    @notice Deployed just before the vault (whose address `vault_` is predicted: the vault checks
            `VAULT()` is itself when it is deployed). The deployer becomes DEFAULT_ADMIN_ROLE and
            grants OPERATOR_ROLE; the registry's admin grants this contract COLLATERAL_ROLE.
    @param vault_ The CollateralVault of the pool.
    @param gpu_registry_ The shared GpuRegistry.
    @param advance_rate_bps_ Collateral value / book value, in (0, 10_000].
    @param staleness_window_ Seconds an attestation keeps a GPU counting, in [1 day, 365 days].
    @param unlock_period_ Seconds over which a returning GPU regains its value, in [1 day, 365 days].
    """
    assert vault_ != empty(address), "collateral: zero vault"
    assert gpu_registry_.is_contract, "collateral: gpu registry is not a contract"
    assert advance_rate_bps_ != 0, "collateral: zero advance rate"
    assert advance_rate_bps_ <= _BPS, "collateral: advance rate above 100%"
    assert staleness_window_ >= MIN_WINDOW, "collateral: staleness window too short"
    assert staleness_window_ <= MAX_WINDOW, "collateral: staleness window too long"
    assert unlock_period_ >= MIN_WINDOW, "collateral: unlock period too short"
    assert unlock_period_ <= MAX_WINDOW, "collateral: unlock period too long"
    VAULT = ICollateralVault(vault_)
    GPU_REGISTRY = IGpuRegistry(gpu_registry_)
    ADVANCE_RATE_BPS = advance_rate_bps_
    STALENESS_WINDOW = staleness_window_
    UNLOCK_PERIOD = unlock_period_
    access_control.__init__()
    schedule.__init__()


# GPUS IN #


@external
def contribute(token_id: uint256, receiver: address, min_shares: uint256) -> uint256:
    """
    @notice OPERATOR_ROLE: bring in a GPU the caller owns (approve this contract on the registry
            first); fractions for the collateral value that came in are minted at NAV to
            `receiver` (rounded down).
    @param token_id An ACTIVE, freshly attested GPU owned by the caller, never held here.
    @param receiver A verified investor.
    @param min_shares Revert if fewer fractions would be minted.
    @return uint256 Fractions minted.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    assert terms.owner == msg.sender, "collateral: caller does not own the gpu"
    added: uint256 = 0
    before: uint256 = 0
    added, before = self._bring_in(token_id, terms, True)
    extcall GPU_REGISTRY.transferFrom(msg.sender, self, token_id)
    shares: uint256 = extcall VAULT.issue_for_gpu(receiver, added, before, min_shares)
    log IGpuCollateral.GpuContributed(
        token_id=token_id, contributor=msg.sender, receiver=receiver, value=added, shares=shares
    )
    return shares


@external
def offer_gpu(token_id: uint256, price: uint256, expires_at: uint256):
    """
    @notice OPERATOR_ROLE: offer to buy a GPU from its owner with the pool's free cash (replaces
            any earlier offer). The owner accepts with `sell_gpu`; the price is checked against the
            collateral value and the free cash then.
    @param token_id A registered GPU.
    @param price Stablecoin to pay, non-zero, below 2**128.
    @param expires_at The last second the offer can be accepted (not in the past).
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert price != 0, "collateral: zero price"
    assert price <= _MASK_128, "collateral: price too large"
    assert expires_at >= block.timestamp, "collateral: offer expired"
    assert expires_at <= _MASK_40, "collateral: expiry too far"
    # The registry's owner covers every GPU held, counted or not (one sent by plain transfer too).
    assert (staticcall GPU_REGISTRY.terms(token_id)).owner != self, "collateral: gpu already held"
    self._offers[token_id] = price | (expires_at << 128)
    log IGpuCollateral.GpuOffered(token_id=token_id, price=price, expires_at=expires_at, operator=msg.sender)


@external
def cancel_offer(token_id: uint256):
    """
    @notice OPERATOR_ROLE: withdraw the offer for a GPU.
    @param token_id A GPU with an open offer.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert self._offers[token_id] != 0, "collateral: no offer"
    self._offers[token_id] = 0
    log IGpuCollateral.GpuOfferCancelled(token_id=token_id, operator=msg.sender)


@external
def sell_gpu(token_id: uint256, price: uint256) -> uint256:
    """
    @notice The GPU's owner accepts the operator's offer: the GPU comes in (approve this contract
            on the registry first) and the price is paid from the pool's free cash. The owner must
            be a verified address; the price must not exceed the collateral value that comes in.
    @param token_id A GPU the caller owns, with an open offer.
    @param price The offer's price (guards against an offer changed meanwhile).
    @return uint256 The collateral value that came in.
    """
    offer: uint256 = self._offers[token_id]
    assert offer != 0, "collateral: no offer"
    assert offer & _MASK_128 == price, "collateral: price differs from the offer"
    assert block.timestamp <= offer >> 128, "collateral: offer expired"
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    assert terms.owner == msg.sender, "collateral: caller does not own the gpu"
    self._offers[token_id] = 0
    added: uint256 = 0
    before: uint256 = 0
    added, before = self._bring_in(token_id, terms, False)
    assert price <= added, "collateral: price above collateral value"
    log IGpuCollateral.GpuPurchased(token_id=token_id, seller=msg.sender, price=price, value=added)
    extcall GPU_REGISTRY.transferFrom(msg.sender, self, token_id)
    extcall VAULT.pay_for_gpu(msg.sender, price)
    return added


# KEEPING CURRENT #


@external
def on_gpu_status(token_id: uint256, status: uint256):
    """
    @notice The registry: a GPU held here changed status. IMPAIRED or RETIRED stops it counting
            at once; back to ACTIVE from IMPAIRED, it counts again over UNLOCK_PERIOD (or, if
            maturities are pending, once someone calls `sync`).
    @param token_id The GPU.
    @param status Its new status code.
    """
    assert msg.sender == GPU_REGISTRY.address, "collateral: caller is not the registry"
    packed: uint256 = self._positions[token_id]
    state: uint256 = packed & 255
    if state == _COUNTED and (status == _IMPAIRED or status == _RETIRED):
        self._uncount(token_id, packed, status, staticcall GPU_REGISTRY.terms(token_id))
    elif state == _UNCOUNTED and status == _ACTIVE:
        self._recount(token_id, packed, staticcall GPU_REGISTRY.terms(token_id), False)


@external
def on_gpu_attested(token_id: uint256, attested_at: uint256):
    """
    @notice The registry: a GPU held here was attested. A counted GPU keeps counting for another
            STALENESS_WINDOW; one that had gone stale counts again over UNLOCK_PERIOD (or, if
            maturities are pending, once someone calls `sync`).
    @param token_id The GPU.
    @param attested_at The attestation time (now).
    """
    assert msg.sender == GPU_REGISTRY.address, "collateral: caller is not the registry"
    packed: uint256 = self._positions[token_id]
    if packed & 255 != _NONE:
        self._recount(token_id, packed, staticcall GPU_REGISTRY.terms(token_id), False)


@external
def sync(token_id: uint256):
    """
    @notice Anyone: bring a GPU's position in line with the registry (a return deferred by the
            hooks because maturities were pending; a safety net otherwise).
    @param token_id A GPU held here whose position differs from what the registry says.
    """
    packed: uint256 = self._positions[token_id]
    state: uint256 = packed & 255
    assert state != _NONE, "collateral: gpu not held"
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    if state == _COUNTED and (terms.status == _IMPAIRED or terms.status == _RETIRED):
        self._uncount(token_id, packed, terms.status, terms)
        return
    assert self._recount(token_id, packed, terms, True), "collateral: nothing to sync"


@external
def process_maturities(max_steps: uint256) -> uint256:
    """
    @notice Anyone: mature up to `max_steps` due nodes of the schedule (end of life, staleness,
            end of a ramp), in time order. Flows do up to 16 themselves and refuse beyond.
    @param max_steps Most nodes to mature (1,024 at most are done in one call).
    @return uint256 How many were matured.
    """
    assert max_steps != 0, "collateral: zero steps"
    return schedule._mature(min(max_steps, schedule.MAX_VIEW_STEPS))


@external
def current_value() -> uint256:
    """
    @notice The collateral value now, after maturing up to 16 due nodes; reverts if more are due.
            What the vault prices exits from.
    @return uint256 Stablecoin units.
    """
    self._make_current()
    return schedule._value(ADVANCE_RATE_BPS)


@external
def entry_value() -> uint256:
    """
    @notice `current_value`, refusing while a counted GPU is written down for a while (stale, or
            returning over the unlock period): what the vault prices deposits and mints from.
    @return uint256 Stablecoin units.
    """
    self._make_current()
    self._require_none_written_down()
    return schedule._value(ADVANCE_RATE_BPS)


# VIEWS #


@view
@external
def value() -> uint256:
    """
    @notice The collateral value of every GPU counted now: due nodes included, never above the sum
            of `value_of` over the GPUs held and below it by at most one wei a counted GPU.
            Reverts if more than 1,024 nodes are due (call `process_maturities`).
    @return uint256 Stablecoin units.
    """
    return schedule._value(ADVANCE_RATE_BPS)


@view
@external
def value_of(token_id: uint256) -> uint256:
    """
    @notice One GPU's collateral value now (0 unless it is counted and its attestation fresh).
    @param token_id Any token id.
    @return uint256 Stablecoin units.
    """
    packed: uint256 = self._positions[token_id]
    if packed & 255 != _COUNTED:
        return 0
    return schedule._curve_value(self._curve(packed, staticcall GPU_REGISTRY.terms(token_id)), ADVANCE_RATE_BPS)


@view
@external
def counts(token_id: uint256) -> bool:
    """
    @notice Whether the GPU is counted and its attestation fresh (what a lease needs).
    @param token_id Any token id.
    @return bool True if it counts now.
    """
    packed: uint256 = self._positions[token_id]
    return packed & 255 == _COUNTED and self._stale_at(packed) > block.timestamp


@view
@external
def position(token_id: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice A GPU's position: state (0 not held, 1 counted, 2 held and not counted), counted
            since, full value from (0: at once), stale from.
    @param token_id Any token id.
    @return (uint256, uint256, uint256, uint256) The four fields.
    """
    packed: uint256 = self._positions[token_id]
    return packed & 255, (packed >> 8) & _MASK_40, (packed >> 48) & _MASK_40, self._stale_at(packed)


@view
@external
def offer(token_id: uint256) -> (uint256, uint256):
    """
    @notice The open offer to buy a GPU: price and expiry (0, 0: none).
    @param token_id Any token id.
    @return (uint256, uint256) Price and last second it can be accepted.
    """
    packed: uint256 = self._offers[token_id]
    return packed & _MASK_128, packed >> 128


@view
@external
def written_down() -> uint256:
    """
    @notice How many counted GPUs are written down for a while now: stale (the custodian attests
            them) or returning on their ramp (until its end). Entries wait while it is not 0.
    @return uint256 The number of GPUs.
    """
    return schedule._written_down()


@view
@external
def entries_open() -> bool:
    """
    @notice Whether `entry_value` would answer now: at most 16 due nodes and, after them, no GPU
            written down.
    @return bool True if deposits, mints and contributions can be priced now.
    """
    return schedule._pending(schedule.MAX_MATURE_STEPS + 1) <= schedule.MAX_MATURE_STEPS and schedule._written_down() == 0


@view
@external
def pending() -> uint256:
    """
    @notice Nodes due and not matured, counted up to 17: above 16, flows refuse until someone
            calls `process_maturities`.
    @return uint256 The count, at most 17.
    """
    return schedule._pending(schedule.MAX_MATURE_STEPS + 1)


# INTERNAL #


@internal
def _bring_in(token_id: uint256, terms: IGpuRegistry.GpuTerms, entry: bool) -> (uint256, uint256):
    """
    @dev Start counting an incoming GPU. Returns the collateral value it adds and the collateral
         value before it. `entry`: fractions are minted against it (a contribution), so no GPU may
         be written down for a while (see the module notice); a purchase with cash mints nothing.
    """
    assert self._positions[token_id] & 255 == _NONE, "collateral: gpu already held"
    assert terms.status == _ACTIVE, "collateral: gpu not active"
    assert terms.cost <= MAX_COST, "collateral: cost too large"
    assert staticcall GPU_REGISTRY.hasRole(_COLLATERAL_ROLE, self), "collateral: not a collateral holder on the registry"
    self._make_current()
    if entry:
        self._require_none_written_down()
    before: uint256 = schedule._value(ADVANCE_RATE_BPS)
    curve: schedule.Curve = self._new_curve(terms, 0)
    assert curve.stale_at > block.timestamp, "collateral: attestation stale; the custodian attests first"
    self._count(token_id, curve)
    after: uint256 = schedule._value(ADVANCE_RATE_BPS)
    if after <= before:
        return 0, before
    # after > before, checked above.
    return unsafe_sub(after, before), before


@internal
def _recount(token_id: uint256, packed: uint256, terms: IGpuRegistry.GpuTerms, strict: bool) -> bool:
    """
    @dev Follow a fresh attestation or a restored status: a counted GPU whose attestation is still
         fresh only moves its stale day; one that had stopped counting (stale, or UNCOUNTED and
         now in a counting status) returns over UNLOCK_PERIOD, which needs the schedule current:
         `strict` refuses otherwise, a hook defers it to `sync`. Returns whether anything changed.
    """
    if terms.status & (_ACTIVE | _LEASED | _OFFLINE) == 0:
        return False
    stale_at: uint256 = self._grid_floor(terms.last_attested_at + STALENESS_WINDOW)
    if stale_at <= block.timestamp:
        return False
    if packed & 255 == _COUNTED:
        old: schedule.Curve = self._curve(packed, terms)
        if old.stale_at > block.timestamp:
            if stale_at <= old.stale_at:
                return False
            # Still counting: only the future stale day moves (no value changes now).
            schedule._apply(old, False)
            old.stale_at = stale_at
            self._count(token_id, old)
            return True
    if strict:
        self._make_current()
    elif not self._try_current():
        return False
    if packed & 255 == _COUNTED:
        schedule._apply(self._curve(packed, terms), False)
    self._count(token_id, self._new_curve(terms, self._grid_ceil(block.timestamp + UNLOCK_PERIOD)))
    return True


@internal
def _uncount(token_id: uint256, packed: uint256, status: uint256, terms: IGpuRegistry.GpuTerms):
    """
    @dev Stop counting a GPU at once (any time: removal needs no current schedule).
    """
    curve: schedule.Curve = self._curve(packed, terms)
    removed: uint256 = schedule._curve_value(curve, ADVANCE_RATE_BPS)
    schedule._apply(curve, False)
    self._positions[token_id] = _UNCOUNTED
    log IGpuCollateral.GpuUncounted(token_id=token_id, status=status, value=removed)


@internal
def _count(token_id: uint256, curve: schedule.Curve):
    """
    @dev Put a curve in the schedule and record it as the GPU's position.
    """
    schedule._apply(curve, True)
    self._positions[token_id] = _COUNTED | (curve.since << 8) | (curve.ramp_end << 48) | (curve.stale_at << 88)
    log IGpuCollateral.GpuCounted(
        token_id=token_id,
        since=curve.since,
        ramp_end=curve.ramp_end,
        stale_at=curve.stale_at,
        value=schedule._curve_value(curve, ADVANCE_RATE_BPS),
    )


@internal
def _make_current():
    """
    @dev Mature what a flow may (MAX_MATURE_STEPS) and refuse if nodes are still due.
    """
    assert self._try_current(), "collateral: maturities pending; call process_maturities"


@view
@internal
def _require_none_written_down():
    """
    @dev After `_make_current`: refuse an entry while a counted GPU is stale or returning.
    """
    assert schedule._written_down() == 0, "collateral: gpus stale or returning; entries wait for attest and unlock"


@internal
def _try_current() -> bool:
    schedule._mature(schedule.MAX_MATURE_STEPS)
    return schedule._is_current()


@view
@internal
def _new_curve(terms: IGpuRegistry.GpuTerms, ramp_end: uint256) -> schedule.Curve:
    """
    @dev The curve of a GPU counted from now, from the registry's terms.
    """
    return schedule.Curve(
        cost=terms.cost,
        salvage=terms.salvage,
        start=terms.acquired_at,
        end=self._grid_floor(terms.acquired_at + min(terms.useful_life, schedule.MAX_LIFE)),
        since=block.timestamp,
        ramp_end=ramp_end,
        stale_at=self._grid_floor(terms.last_attested_at + STALENESS_WINDOW),
    )


@pure
@internal
def _curve(packed: uint256, terms: IGpuRegistry.GpuTerms) -> schedule.Curve:
    """
    @dev The curve a counted position stands for (its registry terms never change).
    """
    return schedule.Curve(
        cost=terms.cost,
        salvage=terms.salvage,
        start=terms.acquired_at,
        end=self._grid_floor(terms.acquired_at + min(terms.useful_life, schedule.MAX_LIFE)),
        since=(packed >> 8) & _MASK_40,
        ramp_end=(packed >> 48) & _MASK_40,
        stale_at=self._stale_at(packed),
    )


@pure
@internal
def _stale_at(packed: uint256) -> uint256:
    return (packed >> 88) & _MASK_40


@pure
@internal
def _grid_floor(t: uint256) -> uint256:
    return t // schedule.GRID * schedule.GRID


@pure
@internal
def _grid_ceil(t: uint256) -> uint256:
    return (t + schedule.GRID - 1) // schedule.GRID * schedule.GRID
