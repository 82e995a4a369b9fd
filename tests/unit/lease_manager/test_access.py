"""Who may call what on the LeaseManager: each role-gated function refuses every other role
(MISSING_ROLE before any other check), and the functions open to anyone need no role."""

import ape
import pytest

from tests.unit.lease_manager.conftest import INSTALMENT, INSTALMENTS, PERIOD
from tests.utils.registry import ROLE_FIXTURES
from tests.utils.vault import DAY, MISSING_ROLE, fund

# function -> the one role fixture that may call it.
GATED = {
    "open_lease": "operator",
    "close_lease": "operator",
    "swap_gpu": "operator",
    "set_default_after": "admin",
}


def call(leases, name: str, book, sender):
    lease_id, gpus = book.lease_id, book.gpu_ids
    if name == "open_lease":
        return leases.open_lease(sender, INSTALMENT, PERIOD, INSTALMENTS, 0, gpus, sender=sender)
    if name == "close_lease":
        return leases.close_lease(lease_id, sender=sender)
    if name == "swap_gpu":
        return leases.swap_gpu(lease_id, gpus[0], gpus[0] + 100, sender=sender)
    return leases.set_default_after(30 * DAY, sender=sender)


@pytest.mark.parametrize("name", GATED)
def test_gated_functions_refuse_every_other_role(name, defaulted, request):
    """On a defaulted lease, where `close_lease` by the operator succeeds: every other account,
    the admin included, is refused for want of the role."""
    leases = defaulted.kit.leases
    for caller in ROLE_FIXTURES:
        if caller != GATED[name]:
            with ape.reverts(MISSING_ROLE):
                call(leases, name, defaulted, request.getfixturevalue(caller))
    assert leases.lease(defaulted.lease_id).status == 4  # DEFAULTED
    assert leases.default_after() == 60 * DAY


def test_holders_pass_the_role_check(defaulted, operator, admin):
    leases = defaulted.kit.leases
    tx = leases.close_lease(defaulted.lease_id, sender=operator)
    assert tx.decode_logs(leases.LeaseClosed)[0].operator == operator
    tx = leases.set_default_after(30 * DAY, sender=admin)
    assert tx.decode_logs(leases.UpdateDefaultAfter)[0].current == 30 * DAY


def test_open_to_anyone(lease_book, attacker, chain):
    """An account holding no role pays, cures, declares a default and pays a recovery."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    fund(kit.token, attacker, 10 * INSTALMENT)
    kit.token.approve(kit.vault, 10 * INSTALMENT, sender=attacker)
    leases.pay_instalment(lease_id, sender=attacker)
    chain.mine(timestamp=lease_book.due(2) + 6 * DAY)
    assert leases.cure(lease_id, sender=attacker).decode_logs(leases.LeaseCured)[0].instalments == 1
    chain.mine(timestamp=lease_book.due(3) + 61 * DAY)
    tx = leases.declare_default(lease_id, sender=attacker)
    assert tx.decode_logs(leases.LeaseDefaulted)[0].caller == attacker
    tx = leases.pay_recovery(lease_id, INSTALMENT, sender=attacker)
    assert tx.decode_logs(leases.RecoveryPaid)[0].payer == attacker
