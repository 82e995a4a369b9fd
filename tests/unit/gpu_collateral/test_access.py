"""Who may call each state-changing function of GpuCollateral: every role fixture and a stranger
(attacker), with the exact reason for everyone refused.

Each row is checked for all ten callers at once, as eth_calls from each caller at the same block
(one JSON-RPC batch: what the node would execute for that sender), and the permitted call is
then sent as a transaction and its effect checked."""

import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, reasons
from tests.utils.collateral import (
    DAY,
    IMPAIRED,
    NOT_REGISTRY,
    State,
)
from tests.utils.registry import ROLE_FIXTURES, USDC, GpuStatus
from tests.utils.vault import DEFAULT_ADMIN_ROLE, MISSING_ROLE, OPERATOR_ROLE, buy, logs_of

RENOUNCE_OTHERS = "access_control: can only renounce roles for itself"


@pytest.fixture
def callers(request) -> dict:
    return {name: request.getfixturevalue(name) for name in ROLE_FIXTURES}


def outcomes(pool, callers, method: str, *args, contract=None) -> dict[str, str | None]:
    """{caller name: revert reason or None} for `method(*args)` called by each caller."""
    contract = contract or pool.collateral
    results = reasons(
        pool.chain, [(contract, method, args, account) for account in callers.values()]
    )
    return dict(zip(callers, results, strict=True))


def only(allowed: str, refused_with: str) -> dict[str, str | None]:
    """`allowed` succeeds, every other caller is refused with `refused_with`."""
    return {name: None if name == allowed else refused_with for name in ROLE_FIXTURES}


def everyone(outcome: str | None) -> dict[str, str | None]:
    """The same outcome for every caller (None: all succeed)."""
    return dict.fromkeys(ROLE_FIXTURES, outcome)


def test_contribute_operator_only(pool, callers, investor):
    token_id = pool.register()
    assert outcomes(pool, callers, "contribute", token_id, investor, 0) == only(
        "operator", MISSING_ROLE
    )
    c = pool.contribute(token_id, investor)
    assert pool.collateral.position(token_id)[0] == State.COUNTED
    assert pool.vault.balanceOf(investor) == c.shares


def test_admit_and_release_movers_only(pool, callers, investor):
    """Only a MOVER_ROLE holder (the pool's GpuMarket and LeaseManager, which check the terms:
    tests/unit/gpu_market, tests/unit/lease_manager) brings a GPU in for cash or takes one out;
    no role fixture holds it."""
    buy(pool.vault, pool.kit.token, investor, 10_000 * USDC)
    outside = pool.register(owner=investor)
    pool.registry.approve(pool.collateral, outside, sender=investor)
    held = pool.register()
    pool.contribute(held)
    assert outcomes(pool, callers, "admit", outside, investor, USDC) == everyone(MISSING_ROLE)
    assert outcomes(pool, callers, "release", held, investor, 0) == everyone(MISSING_ROLE)
    # The market holds it: its flows move the GPUs (here a purchase at its offer).
    pool.market.offer_gpu(outside, USDC, pool.now() + DAY, sender=pool.roles["operator"])
    pool.sell(outside, investor, USDC)
    assert pool.registry.ownerOf(outside) == pool.collateral.address
    pool.check()


def test_wind_down_admin_only(pool, callers, admin):
    assert outcomes(pool, callers, "wind_down") == only("admin", MISSING_ROLE)
    pool.collateral.wind_down(sender=admin)
    assert pool.collateral.winding_down()


@pytest.mark.parametrize("hook", ["on_gpu_status", "on_gpu_attested"])
def test_hooks_nobody_but_the_registry(pool, callers, hook):
    token_id = pool.register()
    pool.contribute(token_id)
    argument = IMPAIRED if hook == "on_gpu_status" else pool.now()
    assert outcomes(pool, callers, hook, token_id, argument) == everyone(NOT_REGISTRY)
    # The registry itself calls them (test_hooks): here, an impairment through it.
    tx, _ = pool.set_status(token_id, GpuStatus.IMPAIRED)
    assert logs_of(tx, pool.collateral, "GpuUncounted")[0].token_id == token_id


def test_sync_process_and_current_value_anyone(many, callers, attacker):
    """A return deferred while 20 nodes were due: anyone may sync it, process maturities or
    bring the value current."""
    pool, built = many
    gpu = built.token_ids[-1]
    pool.set_status(gpu, GpuStatus.IMPAIRED)
    pool.next_at(built.day0 + 20 * DAY)
    pool.set_status(gpu, GpuStatus.ACTIVE)
    pool.view_at(built.day0 + 20 * DAY + 60)
    assert outcomes(pool, callers, "sync", gpu) == everyone(None)
    assert outcomes(pool, callers, "process_maturities", 1) == everyone(None)
    assert outcomes(pool, callers, "current_value") == everyone(None)
    tx = pool.sync(gpu, sender=attacker)
    assert counted_logs(tx, pool.collateral)[0][0] == gpu
    pool.check()


def test_role_management_admin_only(pool, callers, admin, attacker, operator):
    collateral = pool.collateral
    assert outcomes(pool, callers, "grantRole", OPERATOR_ROLE, attacker) == only(
        "admin", MISSING_ROLE
    )
    assert outcomes(pool, callers, "revokeRole", OPERATOR_ROLE, operator) == only(
        "admin", MISSING_ROLE
    )
    assert outcomes(pool, callers, "set_role_admin", OPERATOR_ROLE, OPERATOR_ROLE) == only(
        "admin", MISSING_ROLE
    )
    assert outcomes(pool, callers, "grantRole", DEFAULT_ADMIN_ROLE, attacker) == only(
        "admin", MISSING_ROLE
    )
    collateral.grantRole(OPERATOR_ROLE, attacker, sender=admin)
    assert collateral.hasRole(OPERATOR_ROLE, attacker)
    collateral.revokeRole(OPERATOR_ROLE, attacker, sender=admin)
    assert not collateral.hasRole(OPERATOR_ROLE, attacker)


def test_renounce_only_for_oneself(pool, callers, operator):
    assert outcomes(pool, callers, "renounceRole", OPERATOR_ROLE, operator) == only(
        "operator", RENOUNCE_OTHERS
    )
    pool.collateral.renounceRole(OPERATOR_ROLE, operator, sender=operator)
    assert not pool.collateral.hasRole(OPERATOR_ROLE, operator)
    assert outcomes(pool, callers, "contribute", 1, operator, 0) == everyone(MISSING_ROLE)


def test_roles_at_deployment(pool, admin, operator, callers):
    """The deployer is the only admin, the operator the only operator."""
    collateral = pool.collateral
    for name, account in callers.items():
        assert collateral.hasRole(DEFAULT_ADMIN_ROLE, account) == (name == "admin")
        assert collateral.hasRole(OPERATOR_ROLE, account) == (name == "operator")
    assert collateral.getRoleAdmin(OPERATOR_ROLE) == DEFAULT_ADMIN_ROLE
