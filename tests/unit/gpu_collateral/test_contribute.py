"""contribute(): a GPU the operator owns comes in, fractions are minted at NAV for the value it
adds; every refusal with its reason; a GPU sent with a plain transfer never counts."""

import copy

import ape
import pytest

from tests.unit.gpu_collateral.conftest import counted_logs, matured_logs
from tests.utils.collateral import (
    ACTIVE,
    DAY,
    MAX_COST,
    NOT_APPROVED,
    NOT_HELD,
    NOT_HOLDER,
    NOT_OWNER,
    PRECISION,
    STALE,
    TOO_FEW_SHARES,
    State,
    floor_day,
)
from tests.utils.exploits import one_block, refused_in_its_block
from tests.utils.market import ALREADY_HELD, NO_OFFER
from tests.utils.registry import COLLATERAL_ROLE, USDC, YEAR, GpuStatus, path_id
from tests.utils.vault import (
    MISSING_ROLE,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    buy,
    logs_of,
    to_shares,
)


def nothing_came_in(pool, token_id, owner):
    """A refused contribution left the GPU with its owner and the collateral untouched."""
    assert pool.registry.ownerOf(token_id) == owner
    assert pool.collateral.position(token_id) == (State.NONE, 0, 0, 0)
    assert pool.collateral.schedule_state() == pool.book.schedule_state(pool.now())


def test_first_contribution(pool, investor, operator):
    """Into an empty pool: value = value_of - 1 wei, shares = value * 10**6 - dead shares."""
    collateral, vault, registry = pool.collateral, pool.vault, pool.registry
    token_id = pool.register()
    terms = pool.terms(token_id)

    c = pool.contribute(token_id, investor)

    now = c.tx.timestamp
    # Straight from the definition: cost at acquisition, falling to salvage at the grid day of
    # the end of life (5 years), slope rounded up; 80% of it, floored.
    end = floor_day(terms.acquired_at + 5 * YEAR)
    slope = -(-(terms.cost - terms.salvage) * PRECISION // (end - terms.acquired_at))
    value_of = (terms.cost * PRECISION - slope * (now - terms.acquired_at)) * 8_000 // 10**22
    stale_at = floor_day(terms.last_attested_at + 30 * DAY)
    dead = vault.DEAD_SHARES()
    assert c.value == value_of - 1
    assert c.shares == c.value * 10**6 - dead
    [log] = logs_of(c.tx, collateral, "GpuContributed")
    assert (log.token_id, log.contributor, log.receiver, log.value, log.shares) == (
        token_id,
        operator.address,
        investor.address,
        c.value,
        c.shares,
    )
    assert counted_logs(c.tx, collateral) == [(token_id, now, 0, stale_at, value_of)]
    assert matured_logs(c.tx, collateral) == []
    [moved] = logs_of(c.tx, registry, "Transfer")
    assert (moved.sender, moved.receiver, moved.token_id) == (
        operator.address,
        collateral.address,
        token_id,
    )
    minted = [(t.sender, t.receiver, t.value) for t in logs_of(c.tx, vault, "Transfer")]
    zero = "0x" + "00" * 20
    assert minted == [(zero, vault.address, dead), (zero, investor.address, c.shares)]
    assert registry.ownerOf(token_id) == collateral.address
    assert collateral.position(token_id) == (State.COUNTED, now, 0, stale_at)
    assert collateral.counts(token_id)
    assert vault.balanceOf(investor) == c.shares
    assert vault.totalAssets() == c.value
    assert collateral.schedule_state() == (stale_at, 1, 0)
    pool.check()


def test_contribution_priced_at_nav(pool, investor, other_investor):
    """With cash and a GPU in the pool, the next GPU's fractions are minted at NAV, for exactly
    the value the aggregate gained."""
    vault, token = pool.vault, pool.kit.token
    buy(vault, token, investor, 50_000 * USDC)
    pool.contribute(pool.register())
    token_id = pool.register(acquisition_cost=12_345 * USDC, salvage_value=1_000 * USDC + 7)
    cash, supply = vault.free_cash(), vault.totalSupply()
    at = pool.chain.pending_timestamp + 1_000
    pool.pin(at)
    assert vault.totalAssets() == cash + pool.book.value(at)

    c = pool.contribute(token_id, other_investor)

    # c.before: the collateral's value in the contribution's own second, before it (a node may
    # mine it a second after the pin).
    nav = cash + c.before
    assert c.shares == to_shares(c.value, cash + c.before, supply)
    assert c.value == pool.book.value(c.tx.timestamp) - c.before
    # Never more than the GPU's own collateral value.
    assert c.value <= pool.book.value_of(token_id, c.tx.timestamp)
    [log] = logs_of(c.tx, pool.collateral, "GpuContributed")
    assert (log.value, log.shares) == (c.value, c.shares)
    assert vault.balanceOf(other_investor) == c.shares
    assert vault.totalAssets() == nav + c.value
    assert vault.totalSupply() == supply + c.shares
    pool.check()


def test_contribution_past_end_of_life_counts_salvage(pool):
    """A GPU past its end of life comes in at salvage; its end day is no node."""
    token_id = pool.register(acquired_at=pool.chain.pending_timestamp - 6 * YEAR)
    c = pool.contribute(token_id)
    assert pool.book.value_of(token_id, c.tx.timestamp) == 3_000 * USDC * 8_000 // 10_000
    assert c.value == 2_400 * USDC - 1
    pool.check()


def test_contribution_of_a_gpu_at_max_cost(pool):
    token_id = pool.register(acquisition_cost=MAX_COST, salvage_value=MAX_COST // 10)
    c = pool.contribute(token_id)
    assert c.value == pool.book.value_of(token_id, c.tx.timestamp) - 1
    pool.check()


def test_refused_above_max_cost(pool, operator):
    token_id = pool.register(acquisition_cost=MAX_COST + 1, salvage_value=0)
    with ape.reverts("collateral: cost too large"):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


def test_refused_without_operator_role(pool, investor):
    """The GPU's owner (investor, approved) is not an operator."""
    token_id = pool.register(owner=investor)
    pool.registry.approve(pool.collateral, token_id, sender=investor)
    with ape.reverts(MISSING_ROLE):
        pool.collateral.contribute(token_id, investor, 0, sender=investor)
    nothing_came_in(pool, token_id, investor)


def test_refused_when_the_operator_does_not_own_the_gpu(pool, operator, investor):
    """Even approved by its owner, an operator cannot contribute someone else's GPU."""
    token_id = pool.register(owner=investor)
    pool.registry.approve(pool.collateral, token_id, sender=investor)
    with ape.reverts(NOT_OWNER):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, investor)


def test_refused_for_a_gpu_already_held(pool, operator):
    """A GPU the collateral holds is owned by the collateral: the ownership check refuses it
    before the "already held" one (the market refuses even an offer for it:
    tests/unit/gpu_market/test_offers.py)."""
    token_id = pool.register()
    pool.contribute(token_id)
    with ape.reverts(NOT_OWNER):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    assert pool.collateral.schedule_state()[1] == 1


@pytest.mark.parametrize(
    "path",
    [
        (GpuStatus.LEASED,),
        (GpuStatus.OFFLINE,),
        (GpuStatus.IMPAIRED,),
        (GpuStatus.RETIRED,),
        (GpuStatus.IMPAIRED, GpuStatus.RETIRED),
    ],
    ids=path_id,
)
def test_refused_unless_active(pool, operator, path):
    token_id = pool.register()
    for status in path:
        pool.set_status(token_id, status)
    with ape.reverts("collateral: gpu not active"):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


def test_active_again_can_be_contributed(pool):
    token_id = pool.register()
    pool.set_status(token_id, GpuStatus.OFFLINE)
    pool.set_status(token_id, GpuStatus.ACTIVE)
    pool.contribute(token_id)
    pool.check()


def test_refused_from_the_stale_day(pool, operator, chain):
    """Fresh until the second before floor_day(last attestation + 30 days), stale from it."""
    token_id = pool.register()
    stale_at = floor_day(pool.terms(token_id).last_attested_at + 30 * DAY)
    fresh = copy.deepcopy(pool.book)
    with chain.isolate():
        pool.next_at(stale_at - 1)
        c = pool.contribute(token_id)
        assert c.tx.timestamp == stale_at - 1
        assert counted_logs(c.tx, pool.collateral)[0][3] == stale_at
        pool.check()
    pool.book = fresh
    pool.next_at(stale_at)
    with ape.reverts(STALE):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)
    # The custodian attests: it comes in, stale 30 days (to the grid) after the attestation.
    pool.attest(token_id)
    c = pool.contribute(token_id)
    assert counted_logs(c.tx, pool.collateral)[0][3] == floor_day(c.tx.timestamp + 30 * DAY)
    pool.check()


def test_refused_without_collateral_role(pool, admin, operator):
    pool.registry.revokeRole(COLLATERAL_ROLE, pool.collateral, sender=admin)
    token_id = pool.register()
    with ape.reverts(NOT_HOLDER):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


def test_refused_while_paused(pool, pauser, operator):
    token_id = pool.register()
    pool.vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


@pytest.mark.parametrize("receiver", ["attacker", "lessee"])
def test_refused_for_an_unverified_receiver(pool, operator, receiver, request):
    token_id = pool.register()
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        pool.collateral.contribute(token_id, request.getfixturevalue(receiver), 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


def test_min_shares_is_exact(pool, investor, operator):
    """min_shares equal to what would be minted passes; one more is refused. Both are mined at
    the second the shares are computed for (a second later the GPU and NAV are worth less)."""
    pool.contribute(pool.register())
    token_id = pool.register()
    at = pool.chain.pending_timestamp + 100
    cash, supply = pool.vault.free_cash(), pool.vault.totalSupply()
    value, before = pool.predict(token_id, at)
    expected = to_shares(value, cash + before, supply)

    one_more = (pool.collateral.contribute, (token_id, investor, expected + 1), operator)
    with one_block(pool.chain, at, may_revert=True) as block:
        block.append(one_more)
    refused_in_its_block(block[0], TOO_FEW_SHARES, *one_more)
    nothing_came_in(pool, token_id, operator)
    c = pool.contribute(token_id, investor, min_shares=expected, at=at)
    assert c.tx.timestamp == at
    assert c.shares == expected
    assert pool.vault.balanceOf(investor) == expected


def test_refused_without_approval(pool, operator):
    pool.registry.setApprovalForAll(pool.collateral, False, sender=operator)
    token_id = pool.register()
    with ape.reverts(NOT_APPROVED):
        pool.collateral.contribute(token_id, operator, 0, sender=operator)
    nothing_came_in(pool, token_id, operator)


def test_transferred_gpu_never_counts(pool, operator, attacker, investor, chain):
    """A GPU sent to the collateral with a plain transferFrom is owned by it but never counted:
    it cannot be contributed, offered for or sold, the registry's hooks ignore it, and NAV never
    sees it."""
    collateral, registry = pool.collateral, pool.registry
    counted = pool.register()
    pool.contribute(counted)
    token_id = pool.register()
    registry.transferFrom(operator, collateral, token_id, sender=operator)
    assert registry.ownerOf(token_id) == collateral.address

    with ape.reverts(NOT_OWNER):
        collateral.contribute(token_id, operator, 0, sender=operator)
    price = 1 * USDC
    buy(pool.vault, pool.kit.token, investor, 10_000 * USDC)
    # No offer can be posted for it (the collateral owns it already), so none can be accepted.
    with ape.reverts(ALREADY_HELD):
        pool.market.offer_gpu(token_id, price, chain.pending_timestamp + DAY, sender=operator)
    assert pool.market.offer(token_id) == (0, 0)
    for caller in (operator, attacker, investor):
        with ape.reverts(NO_OFFER):
            pool.market.sell_gpu(token_id, price, sender=caller)
    with ape.reverts(NOT_HELD):
        collateral.sync(token_id, sender=attacker)
    # Hooks: attested, offline, active, impaired, active: never counted.
    tx = pool.attest(token_id)
    assert counted_logs(tx, collateral) == []
    for status in (GpuStatus.OFFLINE, GpuStatus.ACTIVE, GpuStatus.IMPAIRED, GpuStatus.ACTIVE):
        tx, _ = pool.set_status(token_id, status)
        assert counted_logs(tx, collateral) == []
        assert logs_of(tx, collateral, "GpuUncounted") == []
    assert collateral.position(token_id) == (State.NONE, 0, 0, 0)
    assert collateral.value_of(token_id) == 0
    assert not collateral.counts(token_id)
    assert collateral.schedule_state()[1] == 1
    assert pool.terms(token_id).status == ACTIVE
    pool.check([counted, token_id])
    assert pool.vault.totalAssets() == pool.vault.free_cash() + collateral.value()


def test_safe_transfer_to_the_collateral_is_refused(pool, operator):
    token_id = pool.register()
    # The collateral has no onERC721Received (nor a default function): the callback itself
    # reverts, with no reason, before the registry's own check can give one.
    with ape.reverts():
        pool.registry.safeTransferFrom(operator, pool.collateral, token_id, b"", sender=operator)
    assert pool.registry.ownerOf(token_id) == operator.address
