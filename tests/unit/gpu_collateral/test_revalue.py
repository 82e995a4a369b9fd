"""The collateral's primitives for the pool's other contracts, and the wind-down flag: who may
call them (every role fixture and a stranger, exact reasons, as eth_calls at one block), and what
each does when the right caller calls it.

- `revalue` (APPRAISALS_ROLE: the pool's GpuAppraisals, which applies the appraisal rules): the
  primitive applies what it is told, a rise of any size included, and its flags (DEFAULTED
  sticks, HELD holds entries until a call without it); the rules are GpuAppraisals'.
- `admit` / `release` (MOVER_ROLE: the pool's GpuMarket and LeaseManager).
- `wind_down` (DEFAULT_ADMIN_ROLE), once: then no entry is priced (`entries_open` false,
  `entry_value`, `contribute` and the vault's deposits refused with the collateral's reason)."""

import ape
import pytest

from tests.unit.gpu_collateral.conftest import (
    read_many,
    reasons,
    revalued_logs,
)
from tests.utils.collateral import (
    ALREADY_WINDING_DOWN,
    DAY,
    DEFAULTED,
    ENTRIES_WAIT,
    HELD,
    WINDING_DOWN,
    State,
    ceil_day,
)
from tests.utils.registry import ROLE_FIXTURES, USDC
from tests.utils.vault import (
    APPRAISALS_ROLE,
    MISSING_ROLE,
    MOVER_ROLE,
    UNLOCK_PERIOD,
    logs_of,
)


@pytest.fixture
def callers(request) -> dict:
    return {name: request.getfixturevalue(name) for name in ROLE_FIXTURES}


def outcomes(pool, callers, method: str, *args) -> dict[str, str | None]:
    """{caller name: revert reason or None} for `collateral.method(*args)` by each caller."""
    calls = [(pool.collateral, method, args, account) for account in callers.values()]
    return dict(zip(callers, reasons(pool.chain, calls), strict=True))


def only(allowed: str | None, refused_with: str) -> dict[str, str | None]:
    return {name: None if name == allowed else refused_with for name in ROLE_FIXTURES}


@pytest.fixture
def two(stocked):
    return stocked.pool, stocked.first, stocked.twin


# REVALUE #


def test_revalue_appraisals_only(two, callers):
    """Nobody but the appraisals contract: not the appraiser, not the admin."""
    pool, first, _ = two
    for args in ((first, 10_000 * USDC, False, 0), (first, 29_000 * USDC, True, DEFAULTED | HELD)):
        assert outcomes(pool, callers, "revalue", *args) == only(None, MISSING_ROLE)
    assert pool.collateral.hasRole(APPRAISALS_ROLE, pool.kit.appraisals)


def test_revalue_applies_what_it_is_told(two, admin, investor):
    """Granted APPRAISALS_ROLE, an account revalues directly: a rise of any size ramps from where
    the GPU stood over the unlock period (GpuAppraisals bounds it, the primitive does not), the
    DEFAULTED flag sticks, the HELD flag holds entries until a call without it (whatever the
    value: the line is GpuAppraisals' to judge), and `revalue` returns where the GPU stood."""
    pool, first, _ = two
    collateral = pool.collateral
    collateral.grantRole(APPRAISALS_ROLE, admin, sender=admin)
    terms = pool.terms(first)
    at = pool.now() + DAY + 7
    pool.pin(at)
    stood = collateral.book_of(first)
    assert stood == pool.book.book_of(first, terms, at)
    flags = DEFAULTED | HELD
    assert collateral.revalue.call(first, 1_000 * USDC, False, flags, sender=admin) == stood

    tx = collateral.revalue(first, 1_000 * USDC, False, flags, sender=admin)

    # Where it stood in the transaction's own second (a node may mine it a second after the pin).
    at = tx.timestamp
    stood = pool.book.revalue(first, terms, 1_000 * USDC, False, flags, at)
    assert revalued_logs(tx, collateral) == [(first, 1_000 * USDC, stood, 0)]
    assert collateral.appraisal(first) == (1_000 * USDC, at, True, stood)
    assert collateral.value_of(first) == 800 * USDC
    # Held down, nothing written down: entries wait all the same.
    assert (collateral.written_down(), collateral.held_down()) == (0, 1)
    assert reasons(pool.chain, [(collateral, "entry_value", (), investor)]) == [ENTRIES_WAIT]
    pool.check()
    # Far above a step, rising, no flag: the primitive ramps to it and the hold is lifted.
    pool.pin(at + DAY)
    tx = collateral.revalue(first, 29_000 * USDC, True, 0, sender=admin)
    up_at = tx.timestamp
    pool.book.revalue(first, terms, 29_000 * USDC, True, 0, up_at)
    ramp_end = ceil_day(up_at + UNLOCK_PERIOD)
    assert revalued_logs(tx, collateral) == [(first, 29_000 * USDC, 1_000 * USDC, ramp_end)]
    assert collateral.position(first)[:3] == (State.COUNTED, up_at, ramp_end)
    # Still flagged: a later mark does not clear a default.
    assert collateral.appraisal(first) == (29_000 * USDC, up_at, True, 1_000 * USDC)
    # Returning: written down until the ramp end, held no more.
    assert (collateral.written_down(), collateral.held_down()) == (1, 0)
    assert not collateral.entries_open()
    pool.check()
    pool.view_at(ramp_end)
    assert collateral.entries_open()
    pool.check()


def test_revalue_of_a_gpu_not_held(two, admin):
    pool, _, _ = two
    pool.collateral.grantRole(APPRAISALS_ROLE, admin, sender=admin)
    never_held = pool.register()
    calls = [(pool.collateral, "revalue", (never_held, USDC, False, HELD), admin)]
    assert reasons(pool.chain, calls) == ["collateral: gpu not held"]


# ADMIT AND RELEASE #


def test_admit_and_release_movers_only(two, callers):
    """Only the market and the LeaseManager move GPUs in and out against their value."""
    pool, first, _ = two
    newcomer = pool.register()
    assert outcomes(pool, callers, "admit", newcomer, pool.roles["operator"], 0) == only(
        None, MISSING_ROLE
    )
    assert outcomes(pool, callers, "release", first, pool.roles["operator"], 0) == only(
        None, MISSING_ROLE
    )
    for mover in (pool.kit.market, pool.kit.leases):
        assert pool.collateral.hasRole(MOVER_ROLE, mover)


def test_admit_and_release_by_a_mover(two, admin, operator):
    """Granted MOVER_ROLE, an account brings a GPU in for nothing (an RMA replacement: counted
    at once, no fraction minted, no cash paid) and takes one out for nothing (its value leaves
    NAV; the GPU goes to the named address)."""
    pool, first, _ = two
    collateral, vault = pool.collateral, pool.vault
    collateral.grantRole(MOVER_ROLE, admin, sender=admin)
    newcomer = pool.register()
    supply, cash = vault.totalSupply(), vault.free_cash()
    pool.next_at(pool.now() + 60)

    tx = collateral.admit(newcomer, operator, 0, sender=admin)

    # The transaction's own second (a node may mine it a second after the one asked for).
    at = tx.timestamp
    pool.book.make_current(at)
    pool.book.bring_in(newcomer, pool.terms(newcomer), at, False)
    value_in = pool.book.value_of(newcomer, at)
    [admitted] = logs_of(tx, collateral, "GpuAdmitted")
    assert (admitted.token_id, admitted.owner, admitted.price, admitted.value) == (
        newcomer,
        operator.address,
        0,
        value_in,
    )
    assert value_in == collateral.value_of(newcomer) > 0
    assert pool.registry.ownerOf(newcomer) == collateral.address
    assert (vault.totalSupply(), vault.free_cash()) == (supply, cash)
    pool.check()

    pool.next_at(at + DAY)
    tx = collateral.release(first, operator, 0, sender=admin)
    out_at = tx.timestamp
    value_out = pool.book.release(first, out_at)
    [released] = logs_of(tx, collateral, "GpuReleased")
    assert (released.token_id, released.to, released.price, released.value) == (
        first,
        operator.address,
        0,
        value_out,
    )
    assert value_out > 0
    assert pool.registry.ownerOf(first) == operator.address
    assert collateral.position(first) == (State.NONE, 0, 0, 0)
    assert vault.totalAssets() == vault.free_cash() + pool.book.value(out_at)
    pool.check()


# WIND-DOWN #


def test_wind_down_admin_only_and_once(two, callers, admin):
    pool, _, _ = two
    collateral = pool.collateral
    assert outcomes(pool, callers, "wind_down") == only("admin", MISSING_ROLE)
    assert not collateral.winding_down()

    tx = collateral.wind_down(sender=admin)

    assert [log.admin for log in logs_of(tx, collateral, "WindDownStarted")] == [admin.address]
    assert collateral.winding_down()
    assert outcomes(pool, callers, "wind_down") == only(None, MISSING_ROLE) | {
        "admin": ALREADY_WINDING_DOWN
    }
    with ape.reverts(ALREADY_WINDING_DOWN):
        collateral.wind_down(sender=admin)


def test_entries_closed_in_wind_down(two, admin, operator, investor):
    """Nothing is written down, yet no entry is priced: `entries_open` is false, the vault's
    maxDeposit and maxMint are 0, `entry_value`, deposits and contributions are refused with the
    collateral's reason; exits still price from `current_value`."""
    pool, _, _ = two
    collateral, vault = pool.collateral, pool.vault
    newcomer = pool.register()
    assert collateral.entries_open()
    collateral.wind_down(sender=admin)
    assert collateral.written_down() == 0
    assert read_many(
        pool.chain,
        [
            (collateral, "entries_open", ()),
            (vault, "maxDeposit", (investor,)),
            (vault, "maxMint", (investor,)),
        ],
    ) == [False, 0, 0]
    calls = [
        (collateral, "entry_value", (), investor),
        (collateral, "contribute", (newcomer, operator, 0), operator),
        (vault, "deposit", (1_000 * USDC, investor), investor),
        (vault, "mint", (10**9, investor), investor),
        (collateral, "current_value", (), investor),
    ]
    assert reasons(pool.chain, calls) == [WINDING_DOWN] * 4 + [None]
    with ape.reverts(WINDING_DOWN):
        collateral.contribute(newcomer, operator, 0, sender=operator)
    assert collateral.position(newcomer) == (State.NONE, 0, 0, 0)
