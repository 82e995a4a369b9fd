# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title leases
@custom:contract-name leases
@license GNU Affero General Public License v3.0 only
@notice The lease book of one vault: terms, payments made, arrears and default, read on-chain.
        Instalment k (0-based) falls due at `start + (k + 1) * period`; unpaid, it is in arrears
        once `block.timestamp > due + grace`, and the lease may be declared in default once the
        oldest unpaid one is unpaid at `due + default_after` and a second later. Payments are made
        in order (one instalment a call, or every instalment in arrears at once: a cure); paying
        ahead is allowed. A defaulted lease's arrears are frozen at the second of its default;
        recoveries after it are counted apart. Each lease keeps the `default_after` in force when
        it opened, so a later change of the pool's setting never moves an open lease's terms.
        LeaseManager moves the GPUs and the vault the money; this module keeps the book. Used by
        LeaseManager (kept out of the vault so both stay under the EIP-170 size limit).
"""


from .interfaces import ILeaseManager


# Most GPUs one lease covers (bounds the loops that open and close it).
MAX_LEASE_GPUS: constant(uint256) = 32
# Most instalments of one lease (100 years of monthly instalments).
MAX_INSTALMENTS: constant(uint256) = 1_200
# Shortest period; the grace must be below the lease's default_after (at most a year).
MIN_PERIOD: constant(uint256) = 3_600
# Days late are whole days.
_DAY: constant(uint256) = 86_400


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
    default_after: uint256,
    gpu_ids: DynArray[uint256, MAX_LEASE_GPUS],
) -> uint256:
    """
    @dev Record a new lease starting now and log LeaseOpened; LeaseManager checks and moves the
         GPUs. `default_after` is the pool's, already within its bounds.
    """
    assert lessee != empty(address), "lease: zero lessee"
    assert instalment != 0, "lease: zero instalment"
    assert period >= MIN_PERIOD, "lease: period too short"
    assert instalments != 0, "lease: zero instalments"
    assert instalments <= MAX_INSTALMENTS, "lease: too many instalments"
    assert grace < default_after, "lease: grace not below default_after"
    assert len(gpu_ids) != 0, "lease: no gpus"
    lease_id: uint256 = self.lease_count + 1
    self.lease_count = lease_id
    self.lease[lease_id] = ILeaseManager.Lease(
        lessee=lessee,
        instalment=instalment,
        period=period,
        instalments=instalments,
        grace=grace,
        default_after=default_after,
        start=block.timestamp,
        paid=0,
        status=ILeaseManager.LeaseStatus.ACTIVE,
        defaulted_at=0,
        recovered=0,
    )
    self._lease_gpus[lease_id] = gpu_ids
    log ILeaseManager.LeaseOpened(
        lease_id=lease_id,
        lessee=lessee,
        instalment=instalment,
        period=period,
        instalments=instalments,
        grace=grace,
        default_after=default_after,
        start=block.timestamp,
        gpu_ids=gpu_ids,
    )
    return lease_id


@internal
def _pay(lease_id: uint256, count: uint256) -> (uint256, uint256, bool):
    """
    @dev Record the next `count` (at least one) instalments of an active lease as paid.
    @return (uint256, uint256, bool) The index of the first, their amount, and whether the lease
            is now complete.
    """
    self._require_active(lease_id)
    index: uint256 = self.lease[lease_id].paid
    paid: uint256 = index + count
    self.lease[lease_id].paid = paid
    completed: bool = paid == self.lease[lease_id].instalments
    if completed:
        self.lease[lease_id].status = ILeaseManager.LeaseStatus.COMPLETED
    return index, count * self.lease[lease_id].instalment, completed


@internal
def _declare_default(lease_id: uint256) -> (uint256, uint256, uint256):
    """
    @dev Mark an active lease DEFAULTED once its oldest unpaid instalment is more than its
         default_after past due; its arrears freeze at this second.
    @return (uint256, uint256, uint256) The instalments in arrears, their amount, days late.
    """
    self._require_active(lease_id)
    assert self._defaultable(lease_id), "lease: not past default_after"
    self.lease[lease_id].status = ILeaseManager.LeaseStatus.DEFAULTED
    self.lease[lease_id].defaulted_at = block.timestamp
    count: uint256 = 0
    amount: uint256 = 0
    oldest_due: uint256 = 0
    days_late: uint256 = 0
    count, amount, oldest_due, days_late = self._arrears(lease_id)
    return count, amount, days_late


@internal
def _close(lease_id: uint256):
    """
    @dev A defaulted lease becomes CLOSED (LeaseManager frees its GPUs).
    """
    assert self.lease[lease_id].status == ILeaseManager.LeaseStatus.DEFAULTED, "lease: not defaulted"
    self.lease[lease_id].status = ILeaseManager.LeaseStatus.CLOSED


@internal
def _recover(lease_id: uint256, amount: uint256):
    """
    @dev Count `amount` recovered on a defaulted or closed lease.
    """
    status: ILeaseManager.LeaseStatus = self.lease[lease_id].status
    assert status in (ILeaseManager.LeaseStatus.DEFAULTED | ILeaseManager.LeaseStatus.CLOSED), "lease: not defaulted"
    self.lease[lease_id].recovered += amount


@internal
def _replace(lease_id: uint256, failed: uint256, replacement: uint256):
    """
    @dev Put `replacement` in the place of `failed` in a lease's GPU list; LeaseManager checked
         that the lease is active and `failed` is in it (`lease_of_gpu`), so the walk finds it.
    """
    for i: uint256 in range(len(self._lease_gpus[lease_id]), bound=MAX_LEASE_GPUS):
        if self._lease_gpus[lease_id][i] == failed:
            self._lease_gpus[lease_id][i] = replacement
            return


@view
@internal
def _require_active(lease_id: uint256):
    assert self.lease[lease_id].status == ILeaseManager.LeaseStatus.ACTIVE, "lease: not active"


@view
@internal
def _arrears(lease_id: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @dev Instalments unpaid past their grace period, their amount, the due date of the oldest and
         whole days since it fell due: now for an active lease, at its default for a defaulted or
         closed one, none for any other. All four are 0 when nothing is in arrears.
    """
    status: ILeaseManager.LeaseStatus = self.lease[lease_id].status
    at: uint256 = block.timestamp
    if status in (ILeaseManager.LeaseStatus.DEFAULTED | ILeaseManager.LeaseStatus.CLOSED):
        at = self.lease[lease_id].defaulted_at
    elif status != ILeaseManager.LeaseStatus.ACTIVE:
        return 0, 0, 0, 0
    start: uint256 = self.lease[lease_id].start
    cutoff: uint256 = start + self.lease[lease_id].grace
    if at <= cutoff:
        return 0, 0, 0, 0
    period: uint256 = self.lease[lease_id].period
    paid: uint256 = self.lease[lease_id].paid
    # Instalment k is in arrears iff start + (k + 1) * period + grace < at.
    # at > cutoff, checked above.
    due: uint256 = min(unsafe_sub(unsafe_sub(at, cutoff), 1) // period, self.lease[lease_id].instalments)
    if due <= paid:
        return 0, 0, 0, 0
    # due > paid, checked above.
    count: uint256 = unsafe_sub(due, paid)
    oldest_due: uint256 = start + (paid + 1) * period
    # oldest_due + grace < at: instalment `paid` is in arrears.
    return count, count * self.lease[lease_id].instalment, oldest_due, unsafe_sub(at, oldest_due) // _DAY


@view
@internal
def _defaultable(lease_id: uint256) -> bool:
    """
    @dev Whether an active lease's oldest unpaid instalment is more than its default_after past due.
    """
    due: uint256 = self._next_due(lease_id)
    return due != 0 and block.timestamp > due + self.lease[lease_id].default_after


@view
@internal
def _next_due(lease_id: uint256) -> uint256:
    """
    @dev When the oldest unpaid instalment of an active lease falls due (0: none).
    """
    if self.lease[lease_id].status != ILeaseManager.LeaseStatus.ACTIVE:
        return 0
    return self.lease[lease_id].start + (self.lease[lease_id].paid + 1) * self.lease[lease_id].period


@view
@internal
def _gpus(lease_id: uint256) -> DynArray[uint256, MAX_LEASE_GPUS]:
    return self._lease_gpus[lease_id]
