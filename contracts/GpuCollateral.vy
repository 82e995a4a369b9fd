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
          came in); the pool's GpuMarket buys one with free cash from its owner, who accepted an
          offer (`admit`). A GPU comes in ACTIVE, freshly attested, and at most once: a GPU this
          contract holds, or one sent to it with a plain transfer, can never be brought in.
        - Current, always: the registry calls `on_gpu_status` / `on_gpu_attested` (COLLATERAL_ROLE)
          in the same transaction as a status change or an attestation of a GPU held here. IMPAIRED
          or RETIRED takes the GPU out of NAV at once; a GPU whose last attestation is older than
          STALENESS_WINDOW (to the grid day) stops counting at that day; end of life is a change
          at its day. A GPU that comes back (re-attested after going stale, or restored from
          IMPAIRED) returns linearly over UNLOCK_PERIOD ("down at once, up gradually"). OFFLINE
          and LEASED change nothing.
        - Entries wait out a temporary write-down: while a counted GPU is stale or returning on its
          ramp, or a held GPU is IMPAIRED or marked below its straight-line book value by a mark
          its appraiser has not settled (`held_down`), `entry_value` (what the vault prices
          deposits and mints from) and `contribute` refuse. Otherwise a buyer could pay the
          written-down price and keep the value when it comes back (a restore, a mark-up), at the
          expense of the holders who bore the write-down. Exits keep the low price (down at once).
          A write-down that will not come back ends the wait: the GPU is retired or sold, or the
          appraiser settles its mark (GpuAppraisals: no mark-up after that).
        - The clock's changes (end of life, staleness, end of a ramp) are nodes of the schedule:
          every flow that prices from the value first matures up to MAX_MATURE_STEPS of them and
          refuses if more are due ("collateral: maturities pending; call process_maturities");
          views count every due node, so they never understate.
        - Appraisals: the pool's GpuAppraisals (the rules: down at once, up by a bounded step)
          `revalue`s a GPU: its curve restarts from the mark, at once or returning over
          UNLOCK_PERIOD. A GPU restored from IMPAIRED returns the same way, to at most one step.
        - Out: the pool's GpuMarket sells a GPU (`release`: the buyer pays in the same transaction,
          the floor checked by the market); an RMA `exchange` (the LeaseManager) swaps a failed GPU
          for a replacement worth at least as much. Nothing else takes a GPU out (invariant 6).
        - Wind-down (`wind_down`, the admin): no more entries or purchases with cash.
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
# keccak256("APPRAISALS_ROLE"): the pool's GpuAppraisals (marks).
APPRAISALS_ROLE: public(constant(bytes32)) = keccak256("APPRAISALS_ROLE")
# keccak256("MOVER_ROLE"): moves GPUs in and out against their value: the pool's GpuMarket
# (purchases and sales) and LeaseManager (RMA exchanges), which check the terms.
MOVER_ROLE: public(constant(bytes32)) = keccak256("MOVER_ROLE")
# A mark-up raises a GPU's book value by at most this share of its straight-line book value, and
# returns over UNLOCK_PERIOD; the next one waits for the end of that ramp.
MAX_MARK_STEP_BPS: public(constant(uint256)) = 2_500
# Position states (bits 0..1) and flags.
_STATE: constant(uint256) = 3
_NONE: constant(uint256) = 0
_COUNTED: constant(uint256) = 1
_UNCOUNTED: constant(uint256) = 2
# The curve follows an appraiser's mark (`_marks`) rather than the registry's cost.
_MARKED: constant(uint256) = 4
# Marked down by a lease default (its sale floor may be the recovery value).
_DEFAULTED: constant(uint256) = 8
# Held down (each counts once in `held_down`): below its line by an appraiser's open mark; IMPAIRED.
_HELD: constant(uint256) = 16
_IMPAIRED_HELD: constant(uint256) = 32
_HOLDS: constant(uint256) = _HELD | _IMPAIRED_HELD
# The flags a position keeps when its curve changes.
_KEPT: constant(uint256) = _MARKED | _DEFAULTED | _HOLDS
# Packing of a position: state and flags (bits 0..7) | since (8..47) | ramp_end (48..87) |
# stale_at (88..127) | ramp_from (128..224, book value); of a mark: value (0..96) | at (97..).
_MASK_40: constant(uint256) = 2**40 - 1
# Book values are at most MAX_COST = 2**96: 97 bits.
_MASK_VALUE: constant(uint256) = 2**97 - 1
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
# token id -> packed mark (see _MASK_40).
_marks: HashMap[uint256, uint256]
# What closes entries besides the schedule, in the slot every entry reads anyway: bit 0 the
# wind-down (`winding_down`); above it, the count of hold flags (`held_down`).
_gate: uint256


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
    counted: uint256 = 0
    added, before, counted = self._bring_in(token_id, terms, True)
    extcall GPU_REGISTRY.transferFrom(msg.sender, self, token_id)
    shares: uint256 = extcall VAULT.issue_for_gpu(receiver, added, before, min_shares)
    log IGpuCollateral.GpuContributed(
        token_id=token_id, contributor=msg.sender, receiver=receiver, value=added, shares=shares
    )
    return shares


@external
def admit(token_id: uint256, owner: address, price: uint256) -> uint256:
    """
    @notice MOVER_ROLE (the pool's GpuMarket buying a GPU, or its LeaseManager taking an RMA
            replacement): a GPU `owner` holds comes in (approve this contract on the registry
            first), counted from now; `price` (0 for a replacement) is paid to `owner` from free
            cash, at most the collateral value that came in; `owner` must then be verified.
    @param token_id An ACTIVE, freshly attested GPU owned by `owner`, never held here.
    @param owner The GPU's owner.
    @param price Stablecoin paid for it.
    @return uint256 Its collateral value now.
    """
    access_control._check_role(MOVER_ROLE, msg.sender)
    # A purchase with cash in wind-down would turn holders' cash back into a GPU to sell.
    assert price == 0 or self._gate & 1 == 0, "collateral: pool winding down"
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    assert terms.owner == owner, "collateral: owner does not own the gpu"
    value_in: uint256 = self._bring_in(token_id, terms, False)[2]
    assert price <= value_in, "collateral: price above collateral value"
    log IGpuCollateral.GpuAdmitted(token_id=token_id, owner=owner, price=price, value=value_in)
    extcall GPU_REGISTRY.transferFrom(owner, self, token_id)
    if price != 0:
        extcall VAULT.pay_for_gpu(owner, price)
    return value_in


@external
def release(token_id: uint256, to: address, price: uint256) -> uint256:
    """
    @notice MOVER_ROLE (the pool's GpuMarket selling a GPU, having checked the listing and the
            floor; or its LeaseManager handing back an RMA'd GPU, price 0): a GPU stops counting
            and goes to `to`, who pays `price` to the vault in the same transaction (approve the
            vault). Up to the GPU's collateral value the price enters free
            cash, so NAV is unchanged; the rest is a gain streamed to holders like revenue (`skim`),
            so nobody captures it by buying fractions just before. In wind-down all of it enters
            free cash (no entry remains to capture it).
    @param token_id A GPU held here, not under lease.
    @param to Who pays and receives the GPU token.
    @param price Stablecoin units (0: nothing is paid).
    @return uint256 The collateral value that left NAV.
    """
    access_control._check_role(MOVER_ROLE, msg.sender)
    value: uint256 = self._take_out(token_id, self._held(token_id), staticcall GPU_REGISTRY.terms(token_id))
    to_cash: uint256 = min(price, value)
    if self._gate & 1 != 0:
        to_cash = price
    log IGpuCollateral.GpuReleased(token_id=token_id, to=to, price=price, value=value, to_cash=to_cash)
    extcall GPU_REGISTRY.transferFrom(self, to, token_id)
    if price != 0:
        extcall VAULT.collect_sale(to, price, to_cash)
        if to_cash < price:
            extcall VAULT.skim()
    return value


@external
def wind_down():
    """
    @notice DEFAULT_ADMIN_ROLE (the timelock once it exists): put the pool in wind-down, for good.
            No deposit, mint, contribution or purchase with cash is priced again, the LeaseManager
            opens no lease; GPUs are sold (`list_gpu`) and the cash reaches holders through
            redemptions: the queue's fulfilments then price pro rata without the dead shares, so
            the last request takes the last of the free cash.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    gate: uint256 = self._gate
    assert gate & 1 == 0, "collateral: already winding down"
    self._gate = gate | 1
    log IGpuCollateral.WindDownStarted(admin=msg.sender)


# APPRAISALS (the pool's GpuAppraisals applies the rules) #


@external
def revalue(token_id: uint256, book_value: uint256, rising: bool, flags: uint256) -> uint256:
    """
    @notice APPRAISALS_ROLE (the pool's GpuAppraisals, which checks the appraisal rules): a GPU's
            book value is `book_value` from now on, falling straight to its salvage value (at most
            the mark) at the end of its useful life. `rising`: it returns linearly from where it
            stands over UNLOCK_PERIOD (entries wait meanwhile); otherwise it applies at once.
    @param token_id A GPU held here.
    @param book_value The new book value (before the advance rate), stablecoin units.
    @param rising Whether the value returns gradually (a mark-up).
    @param flags 8: its lease defaulted (kept; the sale floor may then be its recovery value);
           16: the mark is below its line and may be raised again, so entries wait (`held_down`)
           until a mark clears it.
    @return uint256 Where its book value stood before (`book_of`).
    """
    access_control._check_role(APPRAISALS_ROLE, msg.sender)
    packed: uint256 = self._held(token_id)
    packed = self._hold(packed | flags & _DEFAULTED, packed & _IMPAIRED_HELD | flags & _HELD)
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    old: schedule.Curve = self._curve(token_id, packed, terms)
    previous: uint256 = self._book_now(old)
    ramp_end: uint256 = 0
    if rising:
        ramp_end = self._grid_ceil(block.timestamp + UNLOCK_PERIOD)
    if packed & _STATE == _COUNTED:
        self._make_current()
        schedule._apply(old, False)
        state: uint256 = self._store_mark(token_id, packed, book_value, previous, ramp_end)
        self._count(token_id, self._new_curve(token_id, state, terms, ramp_end, previous), state)
    else:
        self._positions[token_id] = self._store_mark(token_id, packed, book_value, previous, ramp_end)
    return previous


# KEEPING CURRENT #


@external
def on_gpu_status(token_id: uint256, status: uint256):
    """
    @notice The registry: a GPU held here changed status. IMPAIRED or RETIRED stops it counting
            at once (IMPAIRED holds entries until it is restored or retired); back to ACTIVE from
            IMPAIRED, it counts again over UNLOCK_PERIOD (or, if maturities are pending, once
            someone calls `sync`).
    @param token_id The GPU.
    @param status Its new status code.
    """
    assert msg.sender == GPU_REGISTRY.address, "collateral: caller is not the registry"
    packed: uint256 = self._positions[token_id]
    state: uint256 = packed & _STATE
    if state == _COUNTED and (status == _IMPAIRED or status == _RETIRED):
        self._uncount(token_id, packed, status, staticcall GPU_REGISTRY.terms(token_id))
    elif state == _UNCOUNTED and status == _ACTIVE:
        self._recount(token_id, packed, staticcall GPU_REGISTRY.terms(token_id), False)
    elif status == _RETIRED and state == _UNCOUNTED:
        # Retired for good: nothing of it comes back.
        self._positions[token_id] = self._hold(packed, 0)


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
    if packed & _STATE != _NONE:
        self._recount(token_id, packed, staticcall GPU_REGISTRY.terms(token_id), False)


@external
def sync(token_id: uint256):
    """
    @notice Anyone: bring a GPU's position in line with the registry (a return deferred by the
            hooks because maturities were pending; a safety net otherwise).
    @param token_id A GPU held here whose position differs from what the registry says.
    """
    packed: uint256 = self._positions[token_id]
    state: uint256 = packed & _STATE
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
    return self._value_of(token_id)


@view
@external
def counts(token_id: uint256) -> bool:
    """
    @notice Whether the GPU is counted and its attestation fresh (what a lease needs).
    @param token_id Any token id.
    @return bool True if it counts now.
    """
    packed: uint256 = self._positions[token_id]
    return packed & _STATE == _COUNTED and self._stale_at(packed) > block.timestamp


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
    return packed & _STATE, (packed >> 8) & _MASK_40, (packed >> 48) & _MASK_40, self._stale_at(packed)


@view
@external
def appraisal(token_id: uint256) -> (uint256, uint256, bool, uint256):
    """
    @notice A GPU's appraisal: its mark (book value) and when it was set (0, 0: none, the
            registry's cost line applies), whether a lease default marked it down, and where its
            current return ramp started (book value).
    @param token_id Any token id.
    @return (uint256, uint256, bool, uint256) The four fields.
    """
    packed: uint256 = self._positions[token_id]
    marked: uint256 = self._marks[token_id]
    return marked & _MASK_VALUE, marked >> 97, packed & _DEFAULTED != 0, (packed >> 128) & _MASK_VALUE


@view
@external
def book_of(token_id: uint256) -> uint256:
    """
    @notice Where a GPU held here stands in book value now (before the advance rate): on its
            return ramp, its mark's line or the registry's cost line, stale or not.
    @param token_id A GPU held here.
    @return uint256 Stablecoin units.
    """
    packed: uint256 = self._held(token_id)
    return self._book_now(self._curve(token_id, packed, staticcall GPU_REGISTRY.terms(token_id)))


@view
@external
def winding_down() -> bool:
    """
    @notice Whether the admin put the pool in wind-down (for good): no entries, no purchases with
            cash, no new leases; GPUs are sold.
    @return bool True in wind-down.
    """
    return self._gate & 1 != 0


@view
@external
def held_down() -> uint256:
    """
    @notice How many hold flags are set on held GPUs whose write-down may come back: IMPAIRED, or
            below their straight-line book value by a mark not settled (a GPU both counts twice).
            Entries wait while it is not 0.
    @return uint256 The number of flags.
    """
    return self._gate >> 1


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
    @notice Whether `entry_value` would answer now: not in wind-down, at most 16 due nodes and,
            after them, no GPU written down (`written_down`) or held down (`held_down`).
    @return bool True if deposits, mints and contributions can be priced now.
    """
    return (
        self._gate == 0
        and schedule._pending(schedule.MAX_MATURE_STEPS + 1) <= schedule.MAX_MATURE_STEPS
        and schedule._written_down() == 0
    )


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
def _bring_in(token_id: uint256, terms: IGpuRegistry.GpuTerms, entry: bool) -> (uint256, uint256, uint256):
    """
    @dev Start counting an incoming GPU. Returns the collateral value it adds (NAV's change), the
         collateral value before it and its own collateral value (`value_of`). `entry`: fractions are minted against it (a contribution), so no GPU may
         be written down for a while (see the module notice); a purchase with cash mints nothing.
    """
    assert self._positions[token_id] & _STATE == _NONE, "collateral: gpu already held"
    assert terms.status == _ACTIVE, "collateral: gpu not active"
    assert terms.cost <= MAX_COST, "collateral: cost too large"
    assert staticcall GPU_REGISTRY.hasRole(_COLLATERAL_ROLE, self), "collateral: not a collateral holder on the registry"
    self._make_current()
    if entry:
        self._require_none_written_down()
    before: uint256 = schedule._value(ADVANCE_RATE_BPS)
    curve: schedule.Curve = self._new_curve(token_id, 0, terms, 0, 0)
    assert curve.stale_at > block.timestamp, "collateral: attestation stale; the custodian attests first"
    counted: uint256 = self._count(token_id, curve, 0)
    after: uint256 = schedule._value(ADVANCE_RATE_BPS)
    if after <= before:
        return 0, before, counted
    # after > before, checked above.
    return unsafe_sub(after, before), before, counted


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
    state: uint256 = packed
    if packed & _STATE == _COUNTED:
        old: schedule.Curve = self._curve(token_id, packed, terms)
        if old.stale_at > block.timestamp:
            if stale_at <= old.stale_at:
                return False
            # Still counting: only the future stale day moves (no value changes now).
            schedule._apply(old, False)
            old.stale_at = stale_at
            self._count(token_id, old, packed)
            return True
    if strict:
        self._make_current()
    elif not self._try_current():
        return False
    ramp_end: uint256 = self._grid_ceil(block.timestamp + UNLOCK_PERIOD)
    if packed & _STATE == _COUNTED:
        schedule._apply(self._curve(token_id, packed, terms), False)
    else:
        # Restored from IMPAIRED: it returns as a mark-up would, to at most one step of its
        # straight-line book value; below that line, entries wait until the appraiser marks it
        # further up (a step per period) or settles the mark.
        step: uint256 = staticcall GPU_REGISTRY.book_value(token_id) * MAX_MARK_STEP_BPS // _BPS
        state = self._hold(packed, packed & _HELD)
        if self._book_now(self._curve(token_id, packed, terms)) > step:
            state = self._hold(self._store_mark(token_id, state, step, 0, ramp_end), _HELD)
    self._count(token_id, self._new_curve(token_id, state, terms, ramp_end, 0), state)
    return True


@internal
def _uncount(token_id: uint256, packed: uint256, status: uint256, terms: IGpuRegistry.GpuTerms):
    """
    @dev Stop counting a GPU at once (any time: removal needs no current schedule).
    """
    curve: schedule.Curve = self._curve(token_id, packed, terms)
    removed: uint256 = schedule._curve_value(curve, ADVANCE_RATE_BPS)
    schedule._apply(curve, False)
    holds: uint256 = 0
    if status == _IMPAIRED:
        holds = packed & _HELD | _IMPAIRED_HELD
    self._positions[token_id] = _UNCOUNTED | (self._hold(packed, holds) & _KEPT)
    log IGpuCollateral.GpuUncounted(token_id=token_id, status=status, value=removed)


@internal
def _count(token_id: uint256, curve: schedule.Curve, flags: uint256) -> uint256:
    """
    @dev Put a curve in the schedule and record it as the GPU's position (keeping the mark,
         default and hold flags of `flags`). Returns its collateral value now.
    """
    schedule._apply(curve, True)
    value: uint256 = schedule._curve_value(curve, ADVANCE_RATE_BPS)
    self._positions[token_id] = (
        _COUNTED
        | (flags & _KEPT)
        | (curve.since << 8)
        | (curve.ramp_end << 48)
        | (curve.stale_at << 88)
        | (curve.ramp_from << 128)
    )
    log IGpuCollateral.GpuCounted(
        token_id=token_id,
        since=curve.since,
        ramp_end=curve.ramp_end,
        stale_at=curve.stale_at,
        value=value,
    )
    return value


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
    @dev After `_make_current`: refuse an entry in wind-down, while a counted GPU is stale or
         returning, or while a held GPU is held down.
    """
    gate: uint256 = self._gate
    assert gate & 1 == 0, "collateral: pool winding down"
    assert schedule._written_down() == 0 and gate == 0, "collateral: entries wait: gpus stale, returning or held down"


@internal
def _try_current() -> bool:
    schedule._mature(schedule.MAX_MATURE_STEPS)
    return schedule._is_current()


@view
@internal
def _new_curve(token_id: uint256, packed: uint256, terms: IGpuRegistry.GpuTerms, ramp_end: uint256, ramp_from: uint256) -> schedule.Curve:
    """
    @dev The curve of a GPU counted from now, from the registry's terms and its mark.
    """
    curve: schedule.Curve = self._curve(token_id, packed, terms)
    curve.since = block.timestamp
    curve.ramp_end = ramp_end
    curve.ramp_from = ramp_from
    curve.stale_at = self._grid_floor(terms.last_attested_at + STALENESS_WINDOW)
    return curve


@view
@internal
def _curve(token_id: uint256, packed: uint256, terms: IGpuRegistry.GpuTerms) -> schedule.Curve:
    """
    @dev The curve a position stands for (the registry's terms never change; a mark replaces the
         cost, its time the start, and caps the salvage value).
    """
    curve: schedule.Curve = schedule.Curve(
        cost=terms.cost,
        salvage=terms.salvage,
        start=terms.acquired_at,
        end=self._grid_floor(terms.acquired_at + min(terms.useful_life, schedule.MAX_LIFE)),
        since=(packed >> 8) & _MASK_40,
        ramp_end=(packed >> 48) & _MASK_40,
        ramp_from=(packed >> 128) & _MASK_VALUE,
        stale_at=self._stale_at(packed),
    )
    if packed & _MARKED != 0:
        marked: uint256 = self._marks[token_id]
        curve.cost = marked & _MASK_VALUE
        curve.start = marked >> 97
        curve.salvage = min(curve.salvage, curve.cost)
    return curve


@view
@internal
def _book_now(curve: schedule.Curve) -> uint256:
    """
    @dev Where a curve stands now in book value (before the advance rate), stale or not.
    """
    live: schedule.Curve = curve
    live.stale_at = max_value(uint256)
    return schedule._curve_value(live, _BPS)


@internal
def _store_mark(token_id: uint256, packed: uint256, marked: uint256, previous: uint256, ramp_end: uint256) -> uint256:
    """
    @dev Record a mark and log it; returns the position flagged. A mark is at most the GPU's
         book value, so at most its cost, which came in at most MAX_COST (97 bits).
    """
    self._marks[token_id] = marked | (block.timestamp << 97)
    log IGpuCollateral.GpuRevalued(token_id=token_id, book_value=marked, previous=previous, ramp_end=ramp_end)
    return packed | _MARKED


@view
@internal
def _value_of(token_id: uint256) -> uint256:
    packed: uint256 = self._positions[token_id]
    if packed & _STATE != _COUNTED:
        return 0
    return schedule._curve_value(self._curve(token_id, packed, staticcall GPU_REGISTRY.terms(token_id)), ADVANCE_RATE_BPS)


@view
@internal
def _held(token_id: uint256) -> uint256:
    """
    @dev The position of a GPU held here (reverts otherwise).
    """
    packed: uint256 = self._positions[token_id]
    assert packed & _STATE != _NONE, "collateral: gpu not held"
    return packed


@internal
def _take_out(token_id: uint256, packed: uint256, terms: IGpuRegistry.GpuTerms) -> uint256:
    """
    @dev A GPU leaves: out of the schedule (with the schedule current, so the value is the one
         every exit is priced from) and no position left. Returns its collateral value now.
    """
    assert terms.status != _LEASED, "collateral: gpu under lease; close the lease first"
    self._make_current()
    value: uint256 = 0
    if packed & _STATE == _COUNTED:
        curve: schedule.Curve = self._curve(token_id, packed, terms)
        value = schedule._curve_value(curve, ADVANCE_RATE_BPS)
        schedule._apply(curve, False)
    self._hold(packed, 0)
    self._positions[token_id] = 0
    self._marks[token_id] = 0
    return value


@internal
def _hold(packed: uint256, holds: uint256) -> uint256:
    """
    @dev Set a position's hold flags to `holds` (of _HOLDS), keeping `held_down` their count.
    """
    was: uint256 = packed & _HOLDS
    if was != holds:
        # Each flag counts once; the count of the flags set is never below those of `was`.
        self._gate = unsafe_sub(unsafe_add(self._gate, ((holds >> 4 & 1) + (holds >> 5)) << 1), ((was >> 4 & 1) + (was >> 5)) << 1)
    return packed & ~_HOLDS | holds


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
