# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GpuAppraisals
@custom:contract-name GpuAppraisals
@license GNU Affero General Public License v3.0 only
@notice The appraisals of one pool's GPUs: the rules an appraiser's judgement follows before the
        pool's GpuCollateral restarts a GPU's curve from it ("down at once, up gradually").
        - `mark`: the appraiser sets a GPU's book value. Down: at once. Up: at most
          MAX_MARK_STEP_BPS of its straight-line book value above where it stands, never above
          that book value, not while an earlier return runs nor while it is stale; the value comes
          back linearly over the pool's unlock period. After a mark the value falls straight from
          it to the salvage value (at most the mark) at the end of the GPU's useful life: the new
          carrying amount depreciates over the remaining life (IAS 16 / IAS 36).
        - Buying during a write-down and selling after the restore gains nothing: while a GPU
          stands below its straight-line book value by a mark that may be raised again, entries
          wait (the collateral's `held_down`), as they wait during every return. `settle` ends the
          wait for a write-down that will not come back: the mark becomes final and the GPU is
          never marked up again in this pool (a later mark-down is final at once).
        - `set_recovery_value`: what a GPU is expected to fetch if its lessee defaults: the value a
          default marks it down to (salvage if none is set), and the sale floor of a GPU that is
          impaired, retired or marked down by a default (GpuMarket).
        - `mark_default`: the pool's LeaseManager, declaring a lease in default, marks its GPUs down
          to their recovery values at once (never up).
        Appraisers are the registry's APPRAISER_ROLE holders (the same keys that impair and
        restore GPUs); each mark's reason is a hash of the appraisal report, in the event.
@custom:security Needs APPRAISALS_ROLE on the pool's GpuCollateral. Every call goes to the
        registry or the collateral, both trusted.
@custom:kill Revoke APPRAISALS_ROLE on the collateral: no mark moves a value any more; GPUs keep
        depreciating on their curves.
"""


from .interfaces import IGpuAppraisals
implements: IGpuAppraisals


from .interfaces import IGpuCollateral
from .interfaces import IGpuRegistry


from snekmate.auth import access_control
initializes: access_control


exports: access_control.__interface__


# keccak256("LEASE_MANAGER_ROLE"): the pool's LeaseManager (default marks).
LEASE_MANAGER_ROLE: public(constant(bytes32)) = keccak256("LEASE_MANAGER_ROLE")
# The registry's role for appraisers.
_APPRAISER_ROLE: constant(bytes32) = keccak256("APPRAISER_ROLE")
# Largest recovery value (the collateral's largest counted cost).
MAX_VALUE: public(constant(uint256)) = 2**96
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# GpuCollateral position states.
_COUNTED: constant(uint256) = 1
# The reason recorded with a default's marks.
DEFAULT_REASON: public(constant(bytes32)) = keccak256("lease default")


# The pool's GpuCollateral, whose GPUs are appraised.
COLLATERAL: public(immutable(IGpuCollateral))
# The shared GPU registry (appraisers, book values, salvage values).
GPU_REGISTRY: public(immutable(IGpuRegistry))
# A mark-up's largest step, in basis points of the straight-line book value (the collateral's).
MAX_MARK_STEP_BPS: public(immutable(uint256))


# GpuCollateral.revalue flags: marked down by a default; held down (entries wait).
_DEFAULTED: constant(uint256) = 8
_HELD: constant(uint256) = 16


# token id -> recovery value + 1 (0: none set, salvage applies).
_recovery: HashMap[uint256, uint256]
# token id -> its mark is final: no mark-up, and marks hold no entries (`settle`).
settled: public(HashMap[uint256, bool])


@deploy
def __init__(collateral_: address):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE and grants LEASE_MANAGER_ROLE to the pool's
            LeaseManager; the collateral's admin grants this contract APPRAISALS_ROLE.
    @param collateral_ The pool's GpuCollateral.
    """
    assert collateral_.is_contract, "appraisals: collateral is not a contract"
    COLLATERAL = IGpuCollateral(collateral_)
    GPU_REGISTRY = IGpuRegistry(staticcall COLLATERAL.GPU_REGISTRY())
    MAX_MARK_STEP_BPS = staticcall COLLATERAL.MAX_MARK_STEP_BPS()
    access_control.__init__()


# APPRAISALS #


@external
def mark(token_id: uint256, book_value: uint256, reason: bytes32):
    """
    @notice The registry's APPRAISER_ROLE: set a GPU's book value (see the module notice: down at
            once; up by a bounded step that returns over the unlock period). Below the
            straight-line book value, entries wait until a mark reaches it or `settle`.
    @param token_id A GPU the pool holds.
    @param book_value The new book value (before the advance rate), stablecoin units; above the
           GPU's straight-line book value it is that book value (the line moves every second,
           so a mark back onto it names any value from it up to the step).
    @param reason A hash of the appraisal report (in the event).
    """
    self._require_appraiser()
    book: uint256 = staticcall GPU_REGISTRY.book_value(token_id)
    target: uint256 = min(book_value, book)
    previous: uint256 = staticcall COLLATERAL.book_of(token_id)
    rising: bool = False
    if target > previous:
        assert not self.settled[token_id], "appraisals: mark settled; no mark-up"
        state: uint256 = 0
        since: uint256 = 0
        ramp_end: uint256 = 0
        stale_at: uint256 = 0
        state, since, ramp_end, stale_at = staticcall COLLATERAL.position(token_id)
        if state == _COUNTED:
            assert stale_at > block.timestamp, "appraisals: gpu stale; the custodian attests first"
            assert ramp_end <= block.timestamp, "appraisals: gpu returning; mark up after its ramp"
            # book_value >= target > previous. The step bounds what was asked, so a value far
            # above the line is refused rather than taken as the line.
            assert unsafe_sub(book_value, previous) <= book * MAX_MARK_STEP_BPS // _BPS, "appraisals: mark-up above the step"
            rising = True
    extcall COLLATERAL.revalue(token_id, target, rising, self._hold(token_id, target, book))
    log IGpuAppraisals.GpuMarked(
        token_id=token_id, book_value=target, previous=previous, rising=rising, reason=reason, appraiser=msg.sender
    )


@external
def settle(token_id: uint256, reason: bytes32):
    """
    @notice The registry's APPRAISER_ROLE: make a GPU's write-down final where it stands now (on
            its mark's line, or where its return has reached): it is never marked up again in
            this pool, and it stops holding entries (an IMPAIRED GPU still holds them until it is
            restored or retired).
    @param token_id A GPU the pool holds.
    @param reason A hash of the appraisal report (in the event).
    """
    self._require_appraiser()
    book_value: uint256 = staticcall COLLATERAL.book_of(token_id)
    self.settled[token_id] = True
    extcall COLLATERAL.revalue(token_id, book_value, False, 0)
    log IGpuAppraisals.MarkSettled(token_id=token_id, book_value=book_value, reason=reason, appraiser=msg.sender)


@external
def set_recovery_value(token_id: uint256, recovery_value: uint256, reason: bytes32):
    """
    @notice The registry's APPRAISER_ROLE: what a GPU is expected to fetch if its lessee defaults.
            A default marks it down to this (salvage if none is set); it is the sale floor of a GPU
            that is impaired, retired or marked down by a default.
    @param token_id A GPU the pool holds.
    @param recovery_value Stablecoin units, at most MAX_VALUE.
    @param reason A hash of the appraisal report (in the event).
    """
    self._require_appraiser()
    # Reverts unless the pool holds the GPU.
    held_at: uint256 = staticcall COLLATERAL.book_of(token_id)
    assert recovery_value <= MAX_VALUE, "appraisals: value too large"
    self._recovery[token_id] = recovery_value + 1
    log IGpuAppraisals.RecoveryValueSet(token_id=token_id, value=recovery_value, reason=reason, appraiser=msg.sender)


@external
def mark_default(token_ids: DynArray[uint256, 32]):
    """
    @notice LEASE_MANAGER_ROLE (the pool's LeaseManager, declaring a lease in default): mark each
            GPU down at once to its recovery value (its salvage value if none is set), never up.
    @param token_ids The defaulted lease's GPUs, held by the pool.
    """
    access_control._check_role(LEASE_MANAGER_ROLE, msg.sender)
    for token_id: uint256 in token_ids:
        previous: uint256 = staticcall COLLATERAL.book_of(token_id)
        target: uint256 = min(self._recovery_value(token_id), previous)
        hold: uint256 = self._hold(token_id, target, staticcall GPU_REGISTRY.book_value(token_id))
        extcall COLLATERAL.revalue(token_id, target, False, _DEFAULTED | hold)
        log IGpuAppraisals.GpuMarked(
            token_id=token_id, book_value=target, previous=previous, rising=False, reason=DEFAULT_REASON, appraiser=msg.sender
        )


# VIEWS #


@view
@external
def recovery_value(token_id: uint256) -> (uint256, bool):
    """
    @notice A GPU's recovery value: the appraiser's (then True), or its salvage value (False).
    @param token_id A registered GPU.
    @return (uint256, bool) Stablecoin units, and whether an appraiser set it.
    """
    return self._recovery_value(token_id), self._recovery[token_id] != 0


# INTERNAL #


@view
@internal
def _recovery_value(token_id: uint256) -> uint256:
    stored: uint256 = self._recovery[token_id]
    if stored == 0:
        return (staticcall GPU_REGISTRY.terms(token_id)).salvage
    # stored is the value + 1, non-zero here.
    return unsafe_sub(stored, 1)


@view
@internal
def _hold(token_id: uint256, book_value: uint256, line: uint256) -> uint256:
    """
    @dev The collateral's hold flag for a mark at `book_value` where the straight line is `line`:
         held unless it reaches the line or the GPU's marks are settled.
    """
    if book_value < line and not self.settled[token_id]:
        return _HELD
    return 0


@view
@internal
def _require_appraiser():
    assert staticcall GPU_REGISTRY.hasRole(_APPRAISER_ROLE, msg.sender), "appraisals: caller is not an appraiser"
