"""LeaseManager.arrears / defaultable: amounts and days across periods and the grace period, the
default boundary to the second, and the other arrears views agreeing with them."""

from tests.unit.lease_manager.conftest import GRACE, INSTALMENT, INSTALMENTS
from tests.utils.vault import DAY, DEFAULT_AFTER

NONE = (0, 0, 0, 0)


def views(leases, lease_id):
    """arrears, and the older views that must agree with it."""
    arrears = tuple(leases.arrears(lease_id))
    assert leases.instalments_overdue(lease_id) == arrears[0]
    assert leases.in_arrears(lease_id) == (arrears[0] != 0)
    return arrears


def test_arrears_across_periods_and_grace(lease_book, lessee, chain):
    leases, lease_id = lease_book.kit.leases, lease_book.lease_id
    due = lease_book.due
    assert views(leases, lease_id) == NONE
    # Due but within its grace period: not in arrears, to the second.
    chain.mine(timestamp=due(1))
    assert views(leases, lease_id) == NONE
    chain.mine(timestamp=due(1) + GRACE)
    assert views(leases, lease_id) == NONE
    chain.mine(timestamp=due(1) + GRACE + 1)
    assert views(leases, lease_id) == (1, INSTALMENT, due(1), 5)
    # Whole days since the due date, rounded down.
    chain.mine(timestamp=due(1) + 6 * DAY - 1)
    assert views(leases, lease_id) == (1, INSTALMENT, due(1), 5)
    chain.mine(timestamp=due(1) + 6 * DAY)
    assert views(leases, lease_id) == (1, INSTALMENT, due(1), 6)
    # The second instalment falls due: the first stays the oldest; the second joins past grace.
    chain.mine(timestamp=due(2) + GRACE)
    assert views(leases, lease_id) == (1, INSTALMENT, due(1), 35)
    chain.mine(timestamp=due(2) + GRACE + 1)
    assert views(leases, lease_id) == (2, 2 * INSTALMENT, due(1), 35)
    chain.mine(timestamp=due(3) + GRACE + 1)
    assert views(leases, lease_id) == (3, 3 * INSTALMENT, due(1), 65)
    # Paying the oldest makes the next one the oldest.
    leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=due(3) + GRACE + 2 * DAY)
    assert views(leases, lease_id) == (2, 2 * INSTALMENT, due(2), 37)
    leases.pay_instalment(lease_id, sender=lessee)
    leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=due(3) + GRACE + 3 * DAY)
    assert views(leases, lease_id) == NONE
    assert leases.next_due(lease_id) == due(4)
    # Long after the end: every unpaid instalment, none beyond the last.
    chain.mine(timestamp=due(INSTALMENTS) + 400 * DAY)
    left = INSTALMENTS - 3
    assert views(leases, lease_id) == (left, left * INSTALMENT, due(4), 400 + 8 * 30)


def test_paying_ahead_leaves_no_arrears(lease_book, lessee, chain):
    leases, lease_id = lease_book.kit.leases, lease_book.lease_id
    for _ in range(3):
        leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(3) + GRACE + 1)
    assert views(leases, lease_id) == NONE
    assert not leases.defaultable(lease_id)
    chain.mine(timestamp=lease_book.due(4) + GRACE + 1)
    assert views(leases, lease_id) == (1, INSTALMENT, lease_book.due(4), 5)


def test_defaultable_to_the_second(lease_book, lessee, chain):
    """More than default_after past the oldest unpaid due date, not at it; paying the oldest moves
    the boundary to the next one's."""
    leases, lease_id = lease_book.kit.leases, lease_book.lease_id
    due = lease_book.due
    assert not leases.defaultable(lease_id)
    chain.mine(timestamp=due(1) + DEFAULT_AFTER)
    assert not leases.defaultable(lease_id)
    assert views(leases, lease_id) == (2, 2 * INSTALMENT, due(1), 60)
    chain.mine(timestamp=due(1) + DEFAULT_AFTER + 1)
    assert leases.defaultable(lease_id)
    leases.pay_instalment(lease_id, sender=lessee)
    assert not leases.defaultable(lease_id)
    chain.mine(timestamp=due(2) + DEFAULT_AFTER)
    assert not leases.defaultable(lease_id)
    chain.mine(timestamp=due(2) + DEFAULT_AFTER + 1)
    assert leases.defaultable(lease_id)


def test_no_arrears_for_unknown_or_completed_leases(lease_book, lessee, chain):
    leases, lease_id = lease_book.kit.leases, lease_book.lease_id
    for unknown in (0, lease_id + 1):
        assert views(leases, unknown) == NONE
        assert not leases.defaultable(unknown)
        assert leases.next_due(unknown) == 0
    chain.mine(timestamp=lease_book.due(INSTALMENTS) + DEFAULT_AFTER + 1)
    assert leases.defaultable(lease_id)
    for _ in range(INSTALMENTS):
        leases.pay_instalment(lease_id, sender=lessee)
    assert views(leases, lease_id) == NONE
    assert not leases.defaultable(lease_id)
