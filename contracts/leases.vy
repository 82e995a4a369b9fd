# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title leases
@custom:contract-name leases
@license GNU Affero General Public License v3.0 only
@notice The lease book of one vault: terms, payments made and arrears, read on-chain. Instalment k
        (0-based) falls due at `start + (k + 1) * period` and is in arrears once
        `block.timestamp > due + grace` while unpaid. Payments are made in order, one instalment
        per call; paying ahead is allowed. LeaseManager moves the GPUs and the vault the money; this module keeps
        the book. Later issues add DEFAULTED (arrears past a threshold) as a new status here.
        Used by LeaseManager (kept out of the vault so both stay under the EIP-170 size limit).
"""


from .interfaces import ILeaseManager


# Most GPUs one lease covers (bounds the loops that open and close it).
MAX_LEASE_GPUS: constant(uint256) = 32
# Most instalments of one lease (100 years of monthly instalments).
MAX_INSTALMENTS: constant(uint256) = 1_200
# Shortest period and longest grace.
MIN_PERIOD: constant(uint256) = 3_600
MAX_GRACE: constant(uint256) = 365 * 86_400


# Number of leases ever opened (lease ids start at 1; 0 means "no lease").
lease_count: public(uint256)
# lease id -> terms and progress.
lease: public(HashMap[uint256, ILeaseManager.Lease])
# lease id -> the GPUs it covers.
_lease_gpus: HashMap[uint256, DynArray[uint256, MAX_LEASE_GPUS]]


@deploy
def __init__():
    pass


@internal
def _open(
    lessee: address,
    instalment: uint256,
    period: uint256,
    instalments: uint256,
    grace: uint256,
    gpu_ids: DynArray[uint256, MAX_LEASE_GPUS],
) -> uint256:
    """
    @dev Record a new lease starting now and log LeaseOpened; the vault checks and moves the GPUs.
    """
    assert lessee != empty(address), "lease: zero lessee"
    assert instalment != 0, "lease: zero instalment"
    assert period >= MIN_PERIOD, "lease: period too short"
    assert instalments != 0, "lease: zero instalments"
    assert instalments <= MAX_INSTALMENTS, "lease: too many instalments"
    assert grace <= MAX_GRACE, "lease: grace too long"
    assert len(gpu_ids) != 0, "lease: no gpus"
    lease_id: uint256 = self.lease_count + 1
    self.lease_count = lease_id
    self.lease[lease_id] = ILeaseManager.Lease(
        lessee=lessee,
        instalment=instalment,
        period=period,
        instalments=instalments,
        grace=grace,
        start=block.timestamp,
        paid=0,
        status=ILeaseManager.LeaseStatus.ACTIVE,
    )
    self._lease_gpus[lease_id] = gpu_ids
    log ILeaseManager.LeaseOpened(
        lease_id=lease_id,
        lessee=lessee,
        instalment=instalment,
        period=period,
        instalments=instalments,
        grace=grace,
        start=block.timestamp,
        gpu_ids=gpu_ids,
    )
    return lease_id


@internal
def _pay(lease_id: uint256) -> (uint256, uint256, bool):
    """
    @dev Record the next instalment as paid.
    @return (uint256, uint256, bool) Its index, its amount, and whether the lease is now complete.
    """
    assert self.lease[lease_id].status == ILeaseManager.LeaseStatus.ACTIVE, "lease: not active"
    index: uint256 = self.lease[lease_id].paid
    paid: uint256 = index + 1
    self.lease[lease_id].paid = paid
    completed: bool = paid == self.lease[lease_id].instalments
    if completed:
        self.lease[lease_id].status = ILeaseManager.LeaseStatus.COMPLETED
    return index, self.lease[lease_id].instalment, completed


@view
@internal
def _overdue(lease_id: uint256) -> uint256:
    """
    @dev Instalments unpaid past their grace period now.
    """
    lease: ILeaseManager.Lease = self.lease[lease_id]
    if lease.status != ILeaseManager.LeaseStatus.ACTIVE:
        return 0
    cutoff: uint256 = lease.start + lease.grace
    if block.timestamp <= cutoff:
        return 0
    # Instalment k is overdue iff start + (k + 1) * period + grace < now.
    # block.timestamp > cutoff, checked above.
    due: uint256 = min(unsafe_sub(unsafe_sub(block.timestamp, cutoff), 1) // lease.period, lease.instalments)
    if due <= lease.paid:
        return 0
    # due > paid, checked above.
    return unsafe_sub(due, lease.paid)


@view
@internal
def _next_due(lease_id: uint256) -> uint256:
    """
    @dev When the next unpaid instalment falls due (0: none).
    """
    lease: ILeaseManager.Lease = self.lease[lease_id]
    if lease.status != ILeaseManager.LeaseStatus.ACTIVE:
        return 0
    return lease.start + (lease.paid + 1) * lease.period


@view
@internal
def _gpus(lease_id: uint256) -> DynArray[uint256, MAX_LEASE_GPUS]:
    return self._lease_gpus[lease_id]
