"""Who may do what, across the pool's contracts: every fraction- or cash-moving path tried by and
toward an unverified address, and under pause; the exit rights of a holder whose verification
lapsed (it may still redeem, withdraw, sell and claim to itself, request its own exit from the
RedemptionQueue and claim it to itself, and nothing else); and the calls reserved to a role or to
another contract of the pool."""

import ape
import pytest

from tests.utils.queue import CONTROLLER_NOT_VERIFIED
from tests.utils.registry import MISSING_ROLE, make_spec
from tests.utils.vault import (
    DAY,
    JURISDICTION,
    MIN_REQUEST,
    OWNER_NOT_VERIFIED,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    buy,
    contribute,
    fund,
    permit_signature,
)

USDC = 10**6
SHARES = 10**12  # one whole fraction: ~1 USDC
INSTALMENT = 1_000 * USDC


@pytest.fixture(scope="module")
def ready(kit, registry, custodian, investor, attacker, operator, lessee, chain):
    """Set up once for the module (ape restores it before each test): the investor holds
    fractions, has lease revenue vesting and has approved the attacker; the attacker is funded,
    approved, and owns a GPU the operator offered to buy; the operator owns a GPU approved to the
    collateral, and another that is counted and leased."""
    vault, token, collateral, leases = kit.vault, kit.token, kit.collateral, kit.leases
    acquired = chain.pending_timestamp - 30 * DAY

    def register(owner) -> int:
        tx = registry.register(owner, [make_spec(acquired_at=acquired)], sender=custodian)
        return registry.GpuRegistered.from_receipt(tx)[0].token_id

    leased, spare, attackers_gpu = register(operator), register(operator), register(attacker)
    contribute(collateral, registry, operator, leased)
    buy(vault, token, investor, 10 * USDC)
    leases.open_lease(lessee, INSTALMENT, 30 * DAY, 3, DAY, [leased], sender=operator)
    fund(token, lessee, 2 * INSTALMENT)
    token.approve(vault, 2 * INSTALMENT, sender=lessee)
    leases.pay_instalment(1, sender=lessee)
    vault.approve(attacker, 2**256 - 1, sender=investor)
    fund(token, attacker, 10 * USDC)
    token.approve(vault, 2**256 - 1, sender=attacker)
    registry.approve(collateral, spare, sender=operator)
    registry.approve(collateral, attackers_gpu, sender=attacker)
    kit.market.offer_gpu(attackers_gpu, USDC, chain.pending_timestamp + 30 * DAY, sender=operator)
    return {"gpu": spare, "leased": leased, "attackers_gpu": attackers_gpu}


def paths(kit, investor, attacker, operator, ready, chain):
    """name -> (call, expected reason while the attacker is unverified)."""
    vault, token, collateral = kit.vault, kit.token, kit.collateral
    deadline = chain.pending_timestamp + DAY
    v, r, s = permit_signature(token, attacker, vault, USDC, deadline)
    return {
        "transfer to unverified": (
            lambda: vault.transfer(attacker, 1, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
        "transfer by unverified": (
            lambda: vault.transfer(investor, 0, sender=attacker),
            SENDER_NOT_VERIFIED,
        ),
        "transferFrom to unverified": (
            lambda: vault.transferFrom(investor, attacker, 1, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "deposit to unverified": (
            lambda: vault.deposit(USDC, attacker, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "mint to unverified": (
            lambda: vault.mint(SHARES, attacker, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "buy to unverified": (
            lambda: vault.buy(USDC, attacker, 0, deadline, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "buy_with_permit to unverified": (
            lambda: vault.buy_with_permit(USDC, attacker, 0, deadline, v, r, s, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "contribute to unverified": (
            lambda: collateral.contribute(ready["gpu"], attacker, 0, sender=operator),
            RECEIVER_NOT_VERIFIED,
        ),
        "sell_gpu by unverified seller": (
            lambda: kit.market.sell_gpu(ready["attackers_gpu"], USDC, sender=attacker),
            "identity: seller not verified",
        ),
        "redeem to unverified": (
            lambda: vault.redeem(SHARES, attacker, investor, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "withdraw to unverified": (
            lambda: vault.withdraw(USDC, attacker, investor, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "sell to unverified": (
            lambda: vault.sell(SHARES, attacker, 0, deadline, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
        "claim to unverified": (
            lambda: vault.claim(attacker, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
        "redeem of unverified owner": (
            lambda: vault.redeem(SHARES, investor, attacker, sender=attacker),
            OWNER_NOT_VERIFIED,
        ),
        "withdraw of unverified owner": (
            lambda: vault.withdraw(USDC, investor, attacker, sender=attacker),
            OWNER_NOT_VERIFIED,
        ),
        "sell of unverified owner": (
            lambda: vault.sell(SHARES, investor, 0, deadline, sender=attacker),
            OWNER_NOT_VERIFIED,
        ),
        "claim by unverified to another": (
            lambda: vault.claim(investor, sender=attacker),
            SENDER_NOT_VERIFIED,
        ),
    }


NAMES = [
    "transfer to unverified",
    "transfer by unverified",
    "transferFrom to unverified",
    "deposit to unverified",
    "mint to unverified",
    "buy to unverified",
    "buy_with_permit to unverified",
    "contribute to unverified",
    "sell_gpu by unverified seller",
    "redeem to unverified",
    "withdraw to unverified",
    "sell to unverified",
    "claim to unverified",
    "redeem of unverified owner",
    "withdraw of unverified owner",
    "sell of unverified owner",
    "claim by unverified to another",
]


def books(kit, *accounts) -> tuple:
    vault, token = kit.vault, kit.token
    return (
        vault.totalSupply(),
        vault.free_cash(),
        vault.held(),
        kit.collateral.schedule_state(),
        *[(vault.balanceOf(a), token.balanceOf(a)) for a in accounts],
    )


@pytest.mark.parametrize("name", NAMES)
def test_unverified(kit, ready, investor, attacker, operator, chain, name):
    call, reason = paths(kit, investor, attacker, operator, ready, chain)[name]
    before = books(kit, investor, attacker, operator)
    with ape.reverts(reason):
        call()
    assert books(kit, investor, attacker, operator) == before


def test_paused(kit, ready, investor, attacker, operator, pauser, compliance, identity, chain):
    """Every path of `test_unverified`, with the attacker verified, stops on the pause (a revert
    changes nothing, so one paused state serves them all)."""
    identity.verify(attacker, 2**40, JURISDICTION, sender=compliance)
    calls = paths(kit, investor, attacker, operator, ready, chain)
    kit.vault.pause(sender=pauser)
    before = books(kit, investor, attacker, operator)
    for name in NAMES:
        call, _ = calls[name]
        with ape.reverts(PAUSED):
            call()
    assert books(kit, investor, attacker, operator) == before


@pytest.fixture
def lapsed(ready, investor, compliance, identity):
    """The investor, with revenue vesting, has its verification revoked."""
    identity.revoke(investor, sender=compliance)
    return investor


EXITS = {
    "redeem": lambda v, me, dl: v.redeem(SHARES, me, me, sender=me),
    "withdraw": lambda v, me, dl: v.withdraw(USDC // 2, me, me, sender=me),
    "sell": lambda v, me, dl: v.sell(SHARES, me, 1, dl, sender=me),
    "claim": lambda v, me, dl: v.claim(me, sender=me),
}


@pytest.mark.parametrize("exit_", list(EXITS))
def test_exit_rights(kit, lapsed, other_investor, chain, exit_):
    """A holder whose verification lapsed exits to its own address; the stablecoin it gets is
    exactly what the exit's event says."""
    vault, token, me = kit.vault, kit.token, lapsed
    chain.pending_timestamp += DAY
    assert vault.maxRedeem(me) == vault.balanceOf(me) > 0
    assert vault.maxDeposit(me) == vault.maxMint(me) == 0
    before = token.balanceOf(me)
    tx = EXITS[exit_](vault, me, chain.pending_timestamp + DAY)
    if exit_ == "claim":
        (event,) = vault.RevenueClaimed.from_receipt(tx)
        paid = event.amount
        assert (event.account, event.receiver) == (me.address, me.address)
    else:
        (event,) = vault.Withdraw.from_receipt(tx)
        paid = event.assets
        assert (event.owner, event.receiver) == (me.address, me.address)
    assert paid > 0
    assert token.balanceOf(me) == before + paid


@pytest.mark.parametrize(
    "name, reason",
    [
        ("transfer", SENDER_NOT_VERIFIED),
        ("deposit to itself", RECEIVER_NOT_VERIFIED),
        ("redeem to another", OWNER_NOT_VERIFIED),
        ("claim to another", SENDER_NOT_VERIFIED),
    ],
)
def test_exit_rights_stop_at_the_holder(kit, lapsed, other_investor, chain, name, reason):
    """...and nothing else: it cannot move fractions, buy more, or pay anyone else."""
    vault, me = kit.vault, lapsed
    calls = {
        "transfer": lambda: vault.transfer(other_investor, 1, sender=me),
        "deposit to itself": lambda: vault.deposit(USDC, me, sender=me),
        "redeem to another": lambda: vault.redeem(SHARES, other_investor, me, sender=me),
        "claim to another": lambda: vault.claim(other_investor, sender=me),
    }
    before = books(kit, me, other_investor)
    with ape.reverts(reason):
        calls[name]()
    assert books(kit, me, other_investor) == before


def test_paused_outflows(kit, ready, investor, pauser, lessee, attacker, chain):
    """Claims, fee claims and GPU sales stop; instalments are still accepted and a donation can
    still be skimmed (neither moves cash out)."""
    vault, token = kit.vault, kit.token
    chain.pending_timestamp += DAY
    vault.pause(sender=pauser)
    (paid,) = vault.RevenueDistributed.from_receipt(kit.leases.pay_instalment(1, sender=lessee))
    assert paid.amount == INSTALMENT
    token.transfer(vault, 1, sender=attacker)
    (skimmed,) = vault.Skimmed.from_receipt(vault.skim(sender=attacker))
    assert skimmed.donation == 1
    assert vault.claimable(investor) > 0
    for call in (
        lambda: vault.claim(sender=investor),
        lambda: vault.claim_fees(sender=investor),
        lambda: kit.market.sell_gpu(ready["attackers_gpu"], USDC, sender=attacker),
    ):
        with ape.reverts(PAUSED):
            call()


NOT_THE_REGISTRY = "collateral: caller is not the registry"
NOT_THE_COLLATERAL = "vault: caller is not the collateral"
# name (who may) -> (call by `who`, reason for anyone else).
RESERVED = {
    "contribute (operator)": (
        lambda k, r, who: k.collateral.contribute(r["gpu"], who, 0, sender=who),
        MISSING_ROLE,
    ),
    "offer_gpu (operator)": (
        lambda k, r, who: k.market.offer_gpu(r["gpu"], 1, 2**39, sender=who),
        MISSING_ROLE,
    ),
    "cancel_offer (operator)": (
        lambda k, r, who: k.market.cancel_offer(r["attackers_gpu"], sender=who),
        MISSING_ROLE,
    ),
    "cancel_listing (operator)": (
        lambda k, r, who: k.market.cancel_listing(r["leased"], sender=who),
        MISSING_ROLE,
    ),
    "admit (mover: market, lease manager)": (
        lambda k, r, who: k.collateral.admit(r["attackers_gpu"], who, 0, sender=who),
        MISSING_ROLE,
    ),
    "release (mover: market, lease manager)": (
        lambda k, r, who: k.collateral.release(r["leased"], who, 0, sender=who),
        MISSING_ROLE,
    ),
    "wind_down (admin)": (lambda k, r, who: k.collateral.wind_down(sender=who), MISSING_ROLE),
    "on_gpu_status (registry)": (
        lambda k, r, who: k.collateral.on_gpu_status(r["leased"], 8, sender=who),
        NOT_THE_REGISTRY,
    ),
    "on_gpu_attested (registry)": (
        lambda k, r, who: k.collateral.on_gpu_attested(r["leased"], 0, sender=who),
        NOT_THE_REGISTRY,
    ),
    "issue_for_gpu (collateral)": (
        lambda k, r, who: k.vault.issue_for_gpu(who, USDC, 0, 0, sender=who),
        NOT_THE_COLLATERAL,
    ),
    "pay_for_gpu (collateral)": (
        lambda k, r, who: k.vault.pay_for_gpu(who, 1, sender=who),
        NOT_THE_COLLATERAL,
    ),
    "collect_sale (collateral)": (
        lambda k, r, who: k.vault.collect_sale(who, 1, 1, sender=who),
        NOT_THE_COLLATERAL,
    ),
    "collect_instalment (lease manager)": (
        lambda k, r, who: k.vault.collect_instalment(1, who, 1, sender=who),
        MISSING_ROLE,
    ),
    "open_lease (operator)": (
        lambda k, r, who: k.leases.open_lease(who, 1, DAY, 1, 0, [r["gpu"]], sender=who),
        MISSING_ROLE,
    ),
    "pause (pauser)": (lambda k, r, who: k.vault.pause(sender=who), MISSING_ROLE),
    "fulfil (fulfiller)": (lambda k, r, who: k.queue.fulfil(1, sender=who), MISSING_ROLE),
    "set_min_request (admin)": (
        lambda k, r, who: k.queue.set_min_request(1, sender=who),
        MISSING_ROLE,
    ),
    "move_escrowed (redemption queue)": (
        lambda k, r, who: k.vault.move_escrowed(who, k.vault, 1, False, sender=who),
        MISSING_ROLE,
    ),
    "settle_redemptions (redemption queue)": (
        lambda k, r, who: k.vault.settle_redemptions(1, 0, sender=who),
        MISSING_ROLE,
    ),
}


@pytest.mark.parametrize("name", list(RESERVED))
def test_reserved_calls(kit, ready, operator, attacker, name):
    """Each call reserved to a role or to a contract of the pool, tried by the attacker (and the
    collateral's calls by the operator too, who holds the pool's roles but is not the
    collateral). The positive twins are the flows of the other e2e tests."""
    call, reason = RESERVED[name]
    for caller in [attacker, operator] if reason == NOT_THE_COLLATERAL else [attacker]:
        before = books(kit, caller)
        with ape.reverts(reason):
            call(kit, ready, caller)
        assert books(kit, caller) == before


# THE REDEMPTION QUEUE (last in the module: `queue_ready` stays set up for the tests after it) #


@pytest.fixture(scope="module")
def queue_ready(kit, ready, investor, operator):
    """On top of `ready` (module-wide, for the RedemptionQueue's paths only): the investor buys
    more fractions and has three requests of MIN_REQUEST in the pool's queue: the first fulfilled
    (claimable), the second cancelled (to claim back), the third pending."""
    queue = kit.queue
    buy(kit.vault, kit.token, investor, 100 * USDC)
    for _ in range(3):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    queue.fulfil(1, sender=operator)
    queue.cancelRedeemRequest(2, investor, sender=investor)


def queue_paths(kit, investor, attacker):
    """The RedemptionQueue's paths: name -> (call, expected reason while the attacker is
    unverified)."""
    queue = kit.queue
    return {
        "requestRedeem for unverified controller": (
            lambda: queue.requestRedeem(MIN_REQUEST, attacker, investor, sender=investor),
            CONTROLLER_NOT_VERIFIED,
        ),
        "requestRedeem of unverified owner for another": (
            lambda: queue.requestRedeem(MIN_REQUEST, investor, attacker, sender=attacker),
            OWNER_NOT_VERIFIED,
        ),
        "queue redeem to unverified": (
            lambda: queue.redeem(MIN_REQUEST, attacker, investor, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
        "queue withdraw to unverified": (
            lambda: queue.withdraw(1, attacker, investor, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
        "claimCancelRedeemRequest to unverified": (
            lambda: queue.claimCancelRedeemRequest(2, attacker, investor, sender=investor),
            RECEIVER_NOT_VERIFIED,
        ),
    }


QUEUE_NAMES = [
    "requestRedeem for unverified controller",
    "requestRedeem of unverified owner for another",
    "queue redeem to unverified",
    "queue withdraw to unverified",
    "claimCancelRedeemRequest to unverified",
]


def queue_books(kit, *accounts) -> tuple:
    queue = kit.queue
    return (
        books(kit, *accounts),
        queue.reserved(),
        queue.pending_shares(),
        queue.cancelled_shares(),
        queue.last_id(),
        *[tuple(queue.controller_state(a)) for a in accounts],
    )


@pytest.mark.parametrize("name", QUEUE_NAMES)
def test_unverified_queue(kit, queue_ready, investor, attacker, name):
    call, reason = queue_paths(kit, investor, attacker)[name]
    before = queue_books(kit, investor, attacker)
    with ape.reverts(reason):
        call()
    assert queue_books(kit, investor, attacker) == before


def test_paused_queue(kit, queue_ready, investor, attacker, operator, pauser, compliance, identity):
    """Every queue path of `test_unverified_queue`, with the attacker verified, and the
    fulfilment of the pending request, stop on the pause."""
    identity.verify(attacker, 2**40, JURISDICTION, sender=compliance)
    calls = queue_paths(kit, investor, attacker)
    kit.vault.pause(sender=pauser)
    before = queue_books(kit, investor, attacker)
    for name in QUEUE_NAMES:
        call, _ = calls[name]
        with ape.reverts(PAUSED):
            call()
    with ape.reverts(PAUSED):
        kit.queue.fulfil(1, sender=operator)
    assert queue_books(kit, investor, attacker) == before


QUEUE_EXITS = {
    "requestRedeem": lambda q, me: q.requestRedeem(MIN_REQUEST, me, me, sender=me),
    "cancelRedeemRequest": lambda q, me: q.cancelRedeemRequest(3, me, sender=me),
    "queue redeem": lambda q, me: q.redeem(MIN_REQUEST, me, me, sender=me),
    "queue withdraw": lambda q, me: q.withdraw(q.maxWithdraw(me), me, me, sender=me),
    "claim back": lambda q, me: q.claimCancelRedeemRequest(2, me, me, sender=me),
}


@pytest.mark.parametrize("exit_", list(QUEUE_EXITS))
def test_queue_exit_rights(kit, queue_ready, lapsed, exit_):
    """A holder whose verification lapsed requests its own exit from the queue, cancels it, takes
    its cancelled fractions back, and claims the stablecoin to itself; what it gets is exactly
    what the claim's event says."""
    vault, queue, token, me = kit.vault, kit.queue, kit.token, lapsed
    balance, cash = vault.balanceOf(me), token.balanceOf(me)
    state = tuple(queue.controller_state(me))
    tx = QUEUE_EXITS[exit_](queue, me)
    if exit_ == "requestRedeem":
        assert vault.balanceOf(me) == balance - MIN_REQUEST
        assert queue.controller_state(me)[0] == state[0] + MIN_REQUEST
    elif exit_ == "cancelRedeemRequest":
        assert queue.controller_state(me)[4] == state[4] + MIN_REQUEST
    elif exit_ == "claim back":
        assert vault.balanceOf(me) == balance + state[4] > balance
        assert queue.controller_state(me)[4] == 0
    else:
        (event,) = queue.Withdraw.from_receipt(tx)
        assert (event.owner, event.receiver, event.assets) == (me.address, me.address, state[3])
        assert token.balanceOf(me) == cash + state[3] > cash


@pytest.mark.parametrize(
    "name, reason",
    [
        ("request for another controller", OWNER_NOT_VERIFIED),
        ("claim to another", CONTROLLER_NOT_VERIFIED),
        ("claim back to another", CONTROLLER_NOT_VERIFIED),
    ],
)
def test_queue_exit_rights_stop_at_the_holder(
    kit, queue_ready, lapsed, other_investor, name, reason
):
    """...and in the queue too, nothing else: no request naming another controller, no claim of
    assets or of cancelled fractions to anyone else."""
    queue, me = kit.queue, lapsed
    calls = {
        "request for another controller": lambda: queue.requestRedeem(
            MIN_REQUEST, other_investor, me, sender=me
        ),
        "claim to another": lambda: queue.redeem(MIN_REQUEST, other_investor, me, sender=me),
        "claim back to another": lambda: queue.claimCancelRedeemRequest(
            2, other_investor, me, sender=me
        ),
    }
    before = queue_books(kit, me, other_investor)
    with ape.reverts(reason):
        calls[name]()
    assert queue_books(kit, me, other_investor) == before
