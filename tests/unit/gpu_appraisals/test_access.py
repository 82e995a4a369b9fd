"""Who may call each state-changing function of GpuAppraisals: every role fixture and a stranger,
with the exact reason for everyone refused (eth_calls from each caller at one block), then the
permitted call sent and its effect checked. Appraisers are the registry's APPRAISER_ROLE holders:
granting or revoking that role on the registry is what makes or unmakes one."""

import ape
import pytest

from tests.unit.gpu_collateral.conftest import REASON, reasons
from tests.utils.appraisals import LEASE_MANAGER_ROLE, NOT_A_CONTRACT, NOT_APPRAISER
from tests.utils.registry import APPRAISER_ROLE, ROLE_FIXTURES, USDC
from tests.utils.vault import APPRAISALS_ROLE, DEFAULT_ADMIN_ROLE, MISSING_ROLE

RENOUNCE_OTHERS = "access_control: can only renounce roles for itself"


@pytest.fixture
def callers(request) -> dict:
    return {name: request.getfixturevalue(name) for name in ROLE_FIXTURES}


def outcomes(pool, callers, method: str, *args) -> dict[str, str | None]:
    """{caller name: revert reason or None} for `appraisals.method(*args)` by each caller."""
    appraisals = pool.kit.appraisals
    results = reasons(pool.chain, [(appraisals, method, args, c) for c in callers.values()])
    return dict(zip(callers, results, strict=True))


def only(allowed: tuple[str, ...], refused_with: str) -> dict[str, str | None]:
    return {name: None if name in allowed else refused_with for name in ROLE_FIXTURES}


def test_mark_appraiser_only(two, callers, appraiser):
    pool, first, _ = two
    mark = 20_000 * USDC
    assert outcomes(pool, callers, "mark", first, mark, REASON) == only(
        ("appraiser",), NOT_APPRAISER
    )
    pool.mark(first, mark, sender=appraiser)
    assert pool.collateral.book_of(first) == mark
    pool.check()


def test_settle_appraiser_only(two, callers, appraiser):
    """Only an appraiser settles a mark: every other role (the operator, which holds the
    appraisals' LEASE_MANAGER_ROLE here, and the admin included) and a stranger are refused."""
    pool, first, _ = two
    pool.mark(first, 20_000 * USDC)
    assert outcomes(pool, callers, "settle", first, REASON) == only(("appraiser",), NOT_APPRAISER)
    assert pool.collateral.held_down() == 1
    pool.settle(first, sender=appraiser)
    assert pool.kit.appraisals.settled(first)
    assert pool.collateral.held_down() == 0
    pool.check()


def test_set_recovery_value_appraiser_only(two, callers, appraiser):
    pool, first, _ = two
    assert outcomes(pool, callers, "set_recovery_value", first, USDC, REASON) == only(
        ("appraiser",), NOT_APPRAISER
    )
    pool.kit.appraisals.set_recovery_value(first, USDC, REASON, sender=appraiser)
    assert pool.kit.appraisals.recovery_value(first) == (USDC, True)


def test_mark_default_lease_manager_only(two, callers, operator):
    """The operator holds LEASE_MANAGER_ROLE here, standing in for the pool's LeaseManager."""
    pool, first, _ = two
    assert outcomes(pool, callers, "mark_default", [first]) == only(("operator",), MISSING_ROLE)
    pool.mark_default([first], {}, sender=operator)
    assert pool.collateral.appraisal(first)[2]


def test_an_appraiser_is_the_registrys(two, callers, admin, attacker):
    """Granted APPRAISER_ROLE on the registry, a stranger marks and settles; revoked, it no
    longer can."""
    pool, first, _ = two
    pool.registry.grantRole(APPRAISER_ROLE, attacker, sender=admin)
    assert outcomes(pool, callers, "mark", first, 20_000 * USDC, REASON) == only(
        ("appraiser", "attacker"), NOT_APPRAISER
    )
    assert outcomes(pool, callers, "settle", first, REASON) == only(
        ("appraiser", "attacker"), NOT_APPRAISER
    )
    pool.registry.revokeRole(APPRAISER_ROLE, attacker, sender=admin)
    with ape.reverts(NOT_APPRAISER):
        pool.kit.appraisals.mark(first, 20_000 * USDC, REASON, sender=attacker)
    with ape.reverts(NOT_APPRAISER):
        pool.kit.appraisals.settle(first, REASON, sender=attacker)


def test_role_management_admin_only(two, callers, admin, attacker):
    pool, _, _ = two
    appraisals = pool.kit.appraisals
    for method, args in (
        ("grantRole", (LEASE_MANAGER_ROLE, attacker)),
        ("revokeRole", (LEASE_MANAGER_ROLE, pool.kit.leases)),
        ("grantRole", (DEFAULT_ADMIN_ROLE, attacker)),
    ):
        assert outcomes(pool, callers, method, *args) == only(("admin",), MISSING_ROLE)
    assert outcomes(pool, callers, "renounceRole", DEFAULT_ADMIN_ROLE, admin) == only(
        ("admin",), RENOUNCE_OTHERS
    )
    for name, account in callers.items():
        assert appraisals.hasRole(DEFAULT_ADMIN_ROLE, account) == (name == "admin")


def test_kill_switch_revokes_the_collateral_role(two, admin, appraiser, operator):
    """@custom:kill: the collateral's admin revokes APPRAISALS_ROLE from the appraisals; no mark
    moves a value any more, nor does a settle (the collateral refuses `revalue`)."""
    pool, first, _ = two
    pool.collateral.revokeRole(APPRAISALS_ROLE, pool.kit.appraisals, sender=admin)
    appraisals = pool.kit.appraisals
    calls = [
        (appraisals, "mark", (first, 20_000 * USDC, REASON), appraiser),
        (appraisals, "mark_default", ([first],), operator),
        (appraisals, "settle", (first, REASON), appraiser),
    ]
    assert reasons(pool.chain, calls) == [MISSING_ROLE] * 3


def test_deployment(two, project, admin, attacker):
    """Bound to one collateral (the registry and the step read from it); the constructor refuses
    an address that is not a contract."""
    pool, _, _ = two
    appraisals = pool.kit.appraisals
    assert appraisals.COLLATERAL() == pool.collateral.address
    assert appraisals.GPU_REGISTRY() == pool.registry.address
    assert appraisals.MAX_MARK_STEP_BPS() == pool.collateral.MAX_MARK_STEP_BPS() == 2_500
    assert appraisals.MAX_VALUE() == 2**96
    assert appraisals.LEASE_MANAGER_ROLE() == LEASE_MANAGER_ROLE
    with ape.reverts(NOT_A_CONTRACT):
        project.GpuAppraisals.deploy(attacker, sender=admin)
