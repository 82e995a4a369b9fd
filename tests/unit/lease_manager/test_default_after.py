"""default_after: the constructor's bounds, the admin's setter, and each lease keeping the value in
force when it opened (a change never moves an open lease's terms)."""

import ape

from tests.unit.lease_manager.conftest import GRACE, INSTALMENT, INSTALMENTS, PERIOD
from tests.utils.vault import DAY, DEFAULT_AFTER, YEAR

OUT_OF_RANGE = "lease: default_after out of range"


def deploy(project, admin, vault, registry, appraisals, default_after=DEFAULT_AFTER):
    return project.LeaseManager.deploy(vault, registry, appraisals, default_after, sender=admin)


def test_constructor(project, lease_kit, registry, admin, chain):
    """default_after within [1 day, 365 days], logged as an update from 0; the appraisals bound to
    the vault's collateral."""
    kit = lease_kit
    for bound in (DAY, YEAR):
        manager = deploy(project, admin, kit.vault, registry, kit.appraisals, bound)
        assert manager.default_after() == bound
        [log] = manager.UpdateDefaultAfter.from_receipt(chain.get_receipt(manager.txn_hash))
        assert (log.previous, log.current) == (0, bound)
        assert (manager.VAULT(), manager.COLLATERAL(), manager.APPRAISALS()) == (
            kit.vault.address,
            kit.collateral.address,
            kit.appraisals.address,
        )
    for bad in (0, DAY - 1, YEAR + 1):
        with ape.reverts(OUT_OF_RANGE):
            deploy(project, admin, kit.vault, registry, kit.appraisals, bad)
    assert (kit.leases.MIN_DEFAULT_AFTER(), kit.leases.MAX_DEFAULT_AFTER()) == (DAY, YEAR)


def test_constructor_reverts(project, lease_kit, kit, registry, admin):
    with ape.reverts("lease: vault is not a contract"):
        deploy(project, admin, admin, registry, lease_kit.appraisals)
    with ape.reverts("lease: gpu registry is not a contract"):
        deploy(project, admin, lease_kit.vault, admin, lease_kit.appraisals)
    with ape.reverts("lease: appraisals is not a contract"):
        deploy(project, admin, lease_kit.vault, registry, admin)
    with ape.reverts("lease: appraisals of another pool"):
        deploy(project, admin, lease_kit.vault, registry, kit.appraisals)


def test_set_default_after(lease_kit, admin):
    leases = lease_kit.leases
    assert leases.default_after() == DEFAULT_AFTER
    for value in (DAY, YEAR, 90 * DAY):
        previous = leases.default_after()
        tx = leases.set_default_after(value, sender=admin)
        [log] = tx.decode_logs(leases.UpdateDefaultAfter)
        assert (log.previous, log.current) == (previous, value)
        assert leases.default_after() == value
    for bad in (0, DAY - 1, YEAR + 1):
        with ape.reverts(OUT_OF_RANGE):
            leases.set_default_after(bad, sender=admin)
    assert leases.default_after() == 90 * DAY


def test_open_leases_keep_their_default_after(lease_book, admin, operator, lessee, free_gpu, chain):
    """Lowering the pool's setting neither makes the open lease defaultable sooner nor its grace
    invalid; a lease opened after it takes the new value."""
    leases, lease_id = lease_book.kit.leases, lease_book.lease_id
    leases.set_default_after(10 * DAY, sender=admin)
    assert leases.lease(lease_id).default_after == DEFAULT_AFTER
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER)
    assert not leases.defaultable(lease_id)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + 1)
    assert leases.defaultable(lease_id)

    terms = (lessee, INSTALMENT, PERIOD, INSTALMENTS)
    tx = leases.open_lease(*terms, 10 * DAY - 1, [free_gpu()], sender=operator)
    [opened] = tx.decode_logs(leases.LeaseOpened)
    assert (opened.grace, opened.default_after) == (10 * DAY - 1, 10 * DAY)
    assert leases.lease(opened.lease_id).default_after == 10 * DAY
    with ape.reverts("lease: grace not below default_after"):
        leases.open_lease(*terms, 10 * DAY, [free_gpu()], sender=operator)


def test_lease_records_its_terms(lease_book):
    lease = lease_book.kit.leases.lease(lease_book.lease_id)
    assert (lease.grace, lease.default_after, lease.start) == (
        GRACE,
        DEFAULT_AFTER,
        lease_book.start,
    )
    assert (lease.defaulted_at, lease.recovered) == (0, 0)
