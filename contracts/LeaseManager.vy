# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title LeaseManager
@license GNU Affero General Public License v3.0 only
@notice The leases of one pool. The operator leases GPUs its GpuCollateral counts (each in at
        most one lease; their registry status becomes LEASED); the lessee, or anyone for it, pays
        instalments in order with `pay_instalment`, or every instalment in arrears at once with
        `cure`: the vault pulls the money from the payer (approve the vault) and streams it, less
        its fee, to fraction holders. An instalment unpaid past its grace period is in arrears
        (`arrears`); once the oldest unpaid one is more than the lease's `default_after` past due,
        anyone may `declare_default`: the lease's GPUs are marked down at once (GpuAppraisals: to
        the appraiser's recovery value, salvage by default), and stay LEASED until the operator
        closes the lease (`close_lease`), which frees them for sale or a new lease. Money
        recovered from the lessee later reaches holders as revenue (`pay_recovery`). A failed GPU
        is exchanged for a replacement of at least its collateral value while its lease runs on
        (`swap_gpu`, RMA). The last instalment completes a lease and frees its GPUs (back to
        ACTIVE unless impaired meanwhile). No lease opens while the pool winds down.
        A contract of its own (the `leases` module holds the book) so that the vault stays under
        the EIP-170 size limit.
@custom:security Needs LEASE_MANAGER_ROLE on the GpuRegistry (ACTIVE <-> LEASED), on its vault
        (`collect_instalment`), LEASE_MANAGER_ROLE on its GpuAppraisals (`mark_default`) and
        MOVER_ROLE on its GpuCollateral (`release` and `admit` for an RMA swap). Payments
        are not pausable (money coming in is not refused); the vault's pause stops every outflow.
        `declare_default` only lowers value, so anyone may call it once the lease's terms allow.
        Each lease keeps the `default_after` of its opening: the admin's setter never moves the
        terms of an open lease. The registry's LEASE_MANAGER_ROLE is shared by every pool, so a
        GPU is set back to ACTIVE only while this pool's collateral holds it, and a default marks
        only the GPUs the pool still holds (an impaired GPU of a lease can be sold meanwhile).
        Calls go last (checks-effects-interactions); the registry, the vault, the collateral and
        the appraisals are the pool's own trusted contracts.
@custom:kill Revoke OPERATOR_ROLE here (no new leases, closes or swaps) and LEASE_MANAGER_ROLE on
        the vault (no payments recorded), LEASE_MANAGER_ROLE on the appraisals (no default marks)
        and MOVER_ROLE on the collateral (no swaps).
"""


from .interfaces import ICollateralVault
from .interfaces import IGpuAppraisals
from .interfaces import IGpuCollateral
from .interfaces import IGpuRegistry
from .interfaces import ILeaseManager
implements: ILeaseManager


from snekmate.auth import access_control
initializes: access_control


from . import leases
initializes: leases


exports: (
    access_control.__interface__,
    leases.lease_count,
    leases.lease,
)


# keccak256("OPERATOR_ROLE"): opens leases, closes defaulted ones, exchanges failed GPUs.
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
# Bounds of `default_after`.
MIN_DEFAULT_AFTER: public(constant(uint256)) = 86_400
MAX_DEFAULT_AFTER: public(constant(uint256)) = 365 * 86_400


# The vault which receives the instalments.
VAULT: public(immutable(ICollateralVault))
# The vault's GpuCollateral, which holds the GPUs leased.
COLLATERAL: public(immutable(IGpuCollateral))
# The shared GPU registry.
GPU_REGISTRY: public(immutable(IGpuRegistry))
# The pool's GpuAppraisals, which marks a defaulted lease's GPUs down.
APPRAISALS: public(immutable(IGpuAppraisals))


# token id -> the lease covering it (0: none); kept until the lease completes or closes.
lease_of_gpu: public(HashMap[uint256, uint256])
# Seconds past an instalment's due date after which a lease may be declared in default; each new
# lease takes the value in force when it opens.
default_after: public(uint256)


@deploy
def __init__(vault_: address, gpu_registry_: address, appraisals_: address, default_after_: uint256):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE and grants OPERATOR_ROLE.
    @param vault_ The CollateralVault.
    @param gpu_registry_ The shared GpuRegistry.
    @param appraisals_ The pool's GpuAppraisals (of the vault's collateral).
    @param default_after_ Seconds past due before a lease may be declared in default (1 to 365
           days).
    """
    assert vault_.is_contract, "lease: vault is not a contract"
    assert gpu_registry_.is_contract, "lease: gpu registry is not a contract"
    VAULT = ICollateralVault(vault_)
    COLLATERAL = IGpuCollateral(staticcall VAULT.COLLATERAL())
    GPU_REGISTRY = IGpuRegistry(gpu_registry_)
    assert appraisals_.is_contract, "lease: appraisals is not a contract"
    assert staticcall IGpuAppraisals(appraisals_).COLLATERAL() == COLLATERAL.address, "lease: appraisals of another pool"
    APPRAISALS = IGpuAppraisals(appraisals_)
    access_control.__init__()
    leases.__init__()
    self._set_default_after(default_after_)


# LEASES #


@external
def open_lease(
    lessee: address,
    instalment: uint256,
    period: uint256,
    instalments: uint256,
    grace: uint256,
    gpu_ids: DynArray[uint256, leases.MAX_LEASE_GPUS],
) -> uint256:
    """
    @notice OPERATOR_ROLE: lease GPUs the vault counts to `lessee`, starting now. Instalment k
            falls due at start + (k + 1) * period; unpaid `grace` seconds later, it is in arrears;
            unpaid `default_after` seconds later (the pool's, now), the lease may be declared in
            default. Refused while the pool winds down.
    @param lessee Who the lease is to.
    @param instalment Stablecoin per instalment.
    @param period Seconds between instalments (at least one hour).
    @param instalments Number of instalments (at most 1,200).
    @param grace Seconds after a due date before arrears (below `default_after`).
    @param gpu_ids 1 to 32 GPUs, counted by the pool's GpuCollateral, ACTIVE in the registry.
    @return uint256 The lease id.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert not staticcall COLLATERAL.winding_down(), "lease: pool winding down"
    lease_id: uint256 = leases._open(lessee, instalment, period, instalments, grace, self.default_after, gpu_ids)
    for token_id: uint256 in gpu_ids:
        assert staticcall COLLATERAL.counts(token_id), "lease: gpu not counted by the pool"
        assert self.lease_of_gpu[token_id] == 0, "lease: gpu already leased"
        self.lease_of_gpu[token_id] = lease_id
    for token_id: uint256 in gpu_ids:
        extcall GPU_REGISTRY.set_status(token_id, IGpuRegistry.GpuStatus.LEASED)
    return lease_id


@external
def pay_instalment(lease_id: uint256) -> uint256:
    """
    @notice Pay the next instalment of a lease (the lessee or anyone; approve the vault first).
            Paying every instalment in arrears this way cures the lease, as `cure` does.
    @param lease_id An active lease.
    @return uint256 The index (0-based) of the instalment paid.
    """
    index: uint256 = 0
    amount: uint256 = 0
    completed: bool = False
    index, amount, completed = leases._pay(lease_id, 1)
    fee: uint256 = extcall VAULT.collect_instalment(lease_id, msg.sender, amount)
    log ILeaseManager.InstalmentPaid(lease_id=lease_id, payer=msg.sender, index=index, amount=amount, fee=fee)
    if completed:
        self._complete(lease_id)
    return index


@external
def cure(lease_id: uint256) -> uint256:
    """
    @notice Pay every instalment of a lease in arrears in one call (the lessee or anyone; approve
            the vault for `arrears(lease_id)[1]` first), before it is declared in default.
    @param lease_id An active lease with arrears.
    @return uint256 The number of instalments paid.
    """
    leases._require_active(lease_id)
    count: uint256 = leases._arrears(lease_id)[0]
    assert count != 0, "lease: nothing in arrears"
    index: uint256 = 0
    amount: uint256 = 0
    completed: bool = False
    index, amount, completed = leases._pay(lease_id, count)
    fee: uint256 = extcall VAULT.collect_instalment(lease_id, msg.sender, amount)
    log ILeaseManager.LeaseCured(lease_id=lease_id, payer=msg.sender, instalments=count, amount=amount, fee=fee)
    if completed:
        self._complete(lease_id)
    return count


# DEFAULT #


@external
def declare_default(lease_id: uint256):
    """
    @notice Anyone: declare an active lease in default once its oldest unpaid instalment is more
            than the lease's `default_after` past due (`defaultable`). Its GPUs the pool still
            holds are marked down at once (GpuAppraisals: to their recovery value, salvage by
            default) and stay LEASED until `close_lease`; its arrears are frozen at this second.
    @param lease_id A defaultable lease.
    """
    count: uint256 = 0
    amount: uint256 = 0
    days_late: uint256 = 0
    count, amount, days_late = leases._declare_default(lease_id)
    log ILeaseManager.LeaseDefaulted(
        lease_id=lease_id, arrears_amount=amount, instalments=count, days_late=days_late, caller=msg.sender
    )
    gpu_ids: DynArray[uint256, leases.MAX_LEASE_GPUS] = leases._gpus(lease_id)
    held: DynArray[uint256, leases.MAX_LEASE_GPUS] = []
    for token_id: uint256 in gpu_ids:
        if (staticcall COLLATERAL.position(token_id))[0] != 0:
            held.append(token_id)
    extcall APPRAISALS.mark_default(held)


@external
def close_lease(lease_id: uint256):
    """
    @notice OPERATOR_ROLE: close a defaulted lease: its GPUs are free again (LEASED ones back to
            ACTIVE), for sale or a new lease. Recoveries stay possible after it.
    @param lease_id A defaulted lease.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    leases._close(lease_id)
    log ILeaseManager.LeaseClosed(lease_id=lease_id, operator=msg.sender)
    self._free_gpus(lease_id)


@external
def pay_recovery(lease_id: uint256, amount: uint256):
    """
    @notice Anyone (the lessee, a collection agent): pay money recovered on a defaulted or closed
            lease; the vault pulls it from the caller (approve the vault) and streams it, less its
            fee, to fraction holders as revenue.
    @param lease_id A defaulted or closed lease.
    @param amount Stablecoin recovered (not zero).
    """
    leases._recover(lease_id, amount)
    fee: uint256 = extcall VAULT.collect_instalment(lease_id, msg.sender, amount)
    log ILeaseManager.RecoveryPaid(lease_id=lease_id, payer=msg.sender, amount=amount, fee=fee)


# RMA #


@external
def swap_gpu(lease_id: uint256, failed: uint256, replacement: uint256):
    """
    @notice OPERATOR_ROLE: exchange a failed GPU of an active lease for a replacement the caller
            owns (approved to the collateral on the registry, ACTIVE, freshly attested, in no
            lease) and worth at least the failed one's collateral value now. The failed GPU goes
            to the caller (its value leaves NAV), the replacement comes in counted and LEASED, and
            the lease runs on with it in the failed one's place.
    @param lease_id An active lease.
    @param failed A GPU of that lease.
    @param replacement The GPU that takes its place.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    leases._require_active(lease_id)
    assert self.lease_of_gpu[failed] == lease_id, "lease: gpu not in the lease"
    assert replacement != failed, "lease: replacement is the failed gpu"
    assert self.lease_of_gpu[replacement] == 0, "lease: gpu already leased"
    leases._replace(lease_id, failed, replacement)
    self.lease_of_gpu[failed] = 0
    self.lease_of_gpu[replacement] = lease_id
    self._set_active(failed)
    value_out: uint256 = extcall COLLATERAL.release(failed, msg.sender, 0)
    value_in: uint256 = extcall COLLATERAL.admit(replacement, msg.sender, 0)
    assert value_in >= value_out, "lease: replacement worth less"
    extcall GPU_REGISTRY.set_status(replacement, IGpuRegistry.GpuStatus.LEASED)
    log ILeaseManager.GpuReplaced(
        lease_id=lease_id, failed=failed, replacement=replacement, value_out=value_out, value_in=value_in, operator=msg.sender
    )


# ADMIN #


@external
def set_default_after(default_after_: uint256):
    """
    @notice DEFAULT_ADMIN_ROLE: the `default_after` of leases opened from now on (open leases keep
            their own).
    @param default_after_ Seconds past due before a lease may be declared in default (1 to 365
           days).
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_default_after(default_after_)


# VIEWS #


@view
@external
def arrears(lease_id: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice A lease's arrears: now for an active lease, frozen at its default for a defaulted or
            closed one (all 0 when nothing is in arrears).
    @param lease_id The lease.
    @return (uint256, uint256, uint256, uint256) Instalments unpaid past their grace period, their
            amount, the due date of the oldest, whole days since it fell due.
    """
    return leases._arrears(lease_id)


@view
@external
def defaultable(lease_id: uint256) -> bool:
    """
    @notice Whether `declare_default` would succeed now: an active lease whose oldest unpaid
            instalment is more than its `default_after` past due.
    @param lease_id The lease.
    @return bool True if it may be declared in default.
    """
    return leases._defaultable(lease_id)


@view
@external
def instalments_overdue(lease_id: uint256) -> uint256:
    """
    @notice Instalments of a lease unpaid past their grace period (`arrears(lease_id)[0]`).
    @param lease_id The lease.
    @return uint256 Their number.
    """
    return leases._arrears(lease_id)[0]


@view
@external
def in_arrears(lease_id: uint256) -> bool:
    """
    @notice Whether a lease has an instalment unpaid past its grace period (at its default, for a
            defaulted or closed one).
    @param lease_id The lease.
    @return bool True if in arrears.
    """
    return leases._arrears(lease_id)[0] != 0


@view
@external
def next_due(lease_id: uint256) -> uint256:
    """
    @notice When the next unpaid instalment of an active lease falls due (0: none).
    @param lease_id The lease.
    @return uint256 A timestamp.
    """
    return leases._next_due(lease_id)


@view
@external
def lease_gpus(lease_id: uint256) -> DynArray[uint256, leases.MAX_LEASE_GPUS]:
    """
    @notice The GPUs of a lease (a replacement in the place of the GPU it replaced).
    @param lease_id The lease.
    @return DynArray[uint256, 32] Token ids.
    """
    return leases._gpus(lease_id)


@internal
def _set_default_after(default_after_: uint256):
    assert default_after_ >= MIN_DEFAULT_AFTER and default_after_ <= MAX_DEFAULT_AFTER, "lease: default_after out of range"
    log ILeaseManager.UpdateDefaultAfter(previous=self.default_after, current=default_after_)
    self.default_after = default_after_


@internal
def _complete(lease_id: uint256):
    log ILeaseManager.LeaseCompleted(lease_id=lease_id)
    self._free_gpus(lease_id)


@internal
def _free_gpus(lease_id: uint256):
    gpu_ids: DynArray[uint256, leases.MAX_LEASE_GPUS] = leases._gpus(lease_id)
    for token_id: uint256 in gpu_ids:
        self.lease_of_gpu[token_id] = 0
    for token_id: uint256 in gpu_ids:
        self._set_active(token_id)


@internal
def _set_active(token_id: uint256):
    """
    @dev LEASED -> ACTIVE in the registry, for a GPU this pool's collateral holds: one impaired
         (or restored and moved on) meanwhile keeps the status the registry gave it, and one that
         left the pool is no longer this lease manager's to move.
    """
    terms: IGpuRegistry.GpuTerms = staticcall GPU_REGISTRY.terms(token_id)
    if terms.owner == COLLATERAL.address and terms.status == convert(IGpuRegistry.GpuStatus.LEASED, uint256):
        extcall GPU_REGISTRY.set_status(token_id, IGpuRegistry.GpuStatus.ACTIVE)
