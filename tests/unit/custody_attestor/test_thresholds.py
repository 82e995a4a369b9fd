"""set_threshold / set_pool_threshold: DEFAULT_ADMIN_ROLE only, bounded, evented."""

import ape
import pytest

from tests.utils.custody import MAX_SIGNERS
from tests.utils.registry import MISSING_ROLE, ROLE_FIXTURES


def test_set_threshold(attestor, admin):
    tx = attestor.set_threshold(MAX_SIGNERS, sender=admin)

    assert attestor.threshold() == MAX_SIGNERS
    [log] = tx.decode_logs(attestor.UpdateThreshold)
    assert (log.previous, log.current) == (1, MAX_SIGNERS)

    tx = attestor.set_threshold(1, sender=admin)
    [log] = tx.decode_logs(attestor.UpdateThreshold)
    assert (log.previous, log.current) == (MAX_SIGNERS, 1)


@pytest.mark.parametrize("threshold", [0, MAX_SIGNERS + 1])
def test_set_threshold_out_of_range(attestor, admin, threshold):
    with ape.reverts("attestor: threshold out of range"):
        attestor.set_threshold(threshold, sender=admin)


def test_set_pool_threshold(attestor, admin, investor):
    tx = attestor.set_pool_threshold(investor, 3, sender=admin)

    assert attestor.pool_threshold(investor) == 3
    [log] = tx.decode_logs(attestor.UpdatePoolThreshold)
    assert (log.holder, log.previous, log.current) == (investor.address, 0, 3)

    tx = attestor.set_pool_threshold(investor, 0, sender=admin)
    assert attestor.pool_threshold(investor) == 0
    [log] = tx.decode_logs(attestor.UpdatePoolThreshold)
    assert (log.holder, log.previous, log.current) == (investor.address, 3, 0)


def test_set_pool_threshold_out_of_range(attestor, admin, investor):
    attestor.set_pool_threshold(investor, MAX_SIGNERS, sender=admin)
    with ape.reverts("attestor: threshold out of range"):
        attestor.set_pool_threshold(investor, MAX_SIGNERS + 1, sender=admin)


@pytest.mark.parametrize("caller", [name for name in ROLE_FIXTURES if name != "admin"])
def test_only_the_admin_sets_thresholds(attestor, request, investor, caller):
    sender = request.getfixturevalue(caller)

    with ape.reverts(MISSING_ROLE):
        attestor.set_threshold(2, sender=sender)
    with ape.reverts(MISSING_ROLE):
        attestor.set_pool_threshold(investor, 2, sender=sender)

    assert (attestor.threshold(), attestor.pool_threshold(investor)) == (1, 0)
