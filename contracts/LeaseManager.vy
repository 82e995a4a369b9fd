# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title LeaseManager
@license GNU Affero General Public License v3.0 only
@notice The leases of one pool. The operator leases GPUs its GpuCollateral counts (each in at
        most one active lease; their registry status becomes LEASED); the lessee, or anyone for it,
        pays instalments in order with `pay_instalment`: the vault pulls the money from the payer
        (approve the vault) and streams it, less its fee, to fraction holders. An instalment unpaid
        past its grace period shows in `instalments_overdue` / `in_arrears`. The last instalment
        completes the lease and frees its GPUs (back to ACTIVE unless impaired meanwhile).
        A contract of its own (the `leases` module holds the book) so that the vault stays under
        the EIP-170 size limit and defaults and liquidation (a later issue) have room here.
@custom:security Needs LEASE_MANAGER_ROLE on the GpuRegistry (ACTIVE <-> LEASED) and on its vault
        (`collect_instalment`). Payments are not pausable (money coming in is not refused); the
        vault's pause stops every outflow. Calls go last (checks-effects-interactions).
@custom:kill Revoke OPERATOR_ROLE here (no new leases) and LEASE_MANAGER_ROLE on the vault (no
        payments recorded).
"""


from .interfaces import ICollateralVault
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


# keccak256("OPERATOR_ROLE"): opens leases.
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")


# The vault which receives the instalments.
VAULT: public(immutable(ICollateralVault))
# The vault's GpuCollateral, which holds the GPUs leased.
COLLATERAL: public(immutable(IGpuCollateral))
# The shared GPU registry.
GPU_REGISTRY: public(immutable(IGpuRegistry))


# token id -> the active lease covering it (0: none).
lease_of_gpu: public(HashMap[uint256, uint256])


@deploy
def __init__(vault_: address, gpu_registry_: address):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE and grants OPERATOR_ROLE.
    @param vault_ The CollateralVault.
    @param gpu_registry_ The shared GpuRegistry.
    """
    assert vault_.is_contract, "lease: vault is not a contract"
    assert gpu_registry_.is_contract, "lease: gpu registry is not a contract"
    VAULT = ICollateralVault(vault_)
    COLLATERAL = IGpuCollateral(staticcall VAULT.COLLATERAL())
    GPU_REGISTRY = IGpuRegistry(gpu_registry_)
    access_control.__init__()
    leases.__init__()


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
            falls due at start + (k + 1) * period; unpaid `grace` seconds later, it is in arrears.
    @param lessee Who the lease is to.
    @param instalment Stablecoin per instalment.
    @param period Seconds between instalments (at least one hour).
    @param instalments Number of instalments (at most 1,200).
    @param grace Seconds after a due date before arrears (at most a year).
    @param gpu_ids 1 to 32 GPUs, counted by the pool's GpuCollateral, ACTIVE in the registry.
    @return uint256 The lease id.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    lease_id: uint256 = leases._open(lessee, instalment, period, instalments, grace, gpu_ids)
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
    @param lease_id An active lease.
    @return uint256 The index (0-based) of the instalment paid.
    """
    index: uint256 = 0
    amount: uint256 = 0
    completed: bool = False
    index, amount, completed = leases._pay(lease_id)
    fee: uint256 = extcall VAULT.collect_instalment(lease_id, msg.sender, amount)
    log ILeaseManager.InstalmentPaid(lease_id=lease_id, payer=msg.sender, index=index, amount=amount, fee=fee)
    if completed:
        self._release(lease_id)
    return index


@view
@external
def instalments_overdue(lease_id: uint256) -> uint256:
    """
    @notice Instalments of an active lease unpaid past their grace period (its arrears).
    """
    return leases._overdue(lease_id)


@view
@external
def in_arrears(lease_id: uint256) -> bool:
    """
    @notice Whether an active lease has an instalment unpaid past its grace period.
    """
    return leases._overdue(lease_id) != 0


@view
@external
def next_due(lease_id: uint256) -> uint256:
    """
    @notice When the next unpaid instalment of an active lease falls due (0: none).
    """
    return leases._next_due(lease_id)


@view
@external
def lease_gpus(lease_id: uint256) -> DynArray[uint256, leases.MAX_LEASE_GPUS]:
    """
    @notice The GPUs of a lease.
    """
    return leases._gpus(lease_id)


@internal
def _release(lease_id: uint256):
    log ILeaseManager.LeaseCompleted(lease_id=lease_id)
    gpu_ids: DynArray[uint256, leases.MAX_LEASE_GPUS] = leases._gpus(lease_id)
    for token_id: uint256 in gpu_ids:
        self.lease_of_gpu[token_id] = 0
    for token_id: uint256 in gpu_ids:
        if (staticcall GPU_REGISTRY.gpu(token_id)).status == IGpuRegistry.GpuStatus.LEASED:
            extcall GPU_REGISTRY.set_status(token_id, IGpuRegistry.GpuStatus.ACTIVE)
