"""Constructor, the minimum request, sweep, FULFILLER_ROLE, and the vault's hooks that only the
queue (REDEMPTION_QUEUE_ROLE) may call."""

import ape

from tests.utils.queue import (
    BELOW_MINIMUM,
    INSUFFICIENT_FREE_CASH,
    MAX_FULFIL_BATCH,
    NOTHING_TO_SWEEP,
    ZERO_MINIMUM,
    check_queue_books,
    creation_revert_reason,
    nav,
    request,
)
from tests.utils.vault import (
    DEFAULT_ADMIN_ROLE,
    FULFILLER_ROLE,
    MIN_REQUEST,
    MISSING_ROLE,
    REDEMPTION_QUEUE_ROLE,
    fund,
    logs_of,
    to_assets,
)


def test_constructor(project, flat_kit, identity, admin, operator, chain):
    vault = flat_kit.vault
    queue = project.RedemptionQueue.deploy(vault, 5, sender=admin)
    assert (queue.VAULT(), queue.share(), queue.asset()) == (
        vault.address,
        vault.address,
        flat_kit.token.address,
    )
    assert queue.IDENTITY_REGISTRY() == identity.address
    assert queue.min_request() == 5
    [log] = queue.UpdateMinRequest.from_receipt(chain.get_receipt(queue.txn_hash))
    assert (log.previous, log.current) == (0, 5)
    assert queue.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert queue.getRoleAdmin(FULFILLER_ROLE) == DEFAULT_ADMIN_ROLE
    # The deploy script grants FULFILLER_ROLE; the constructor grants nothing but the admin's.
    assert not queue.hasRole(FULFILLER_ROLE, admin)
    assert not queue.hasRole(FULFILLER_ROLE, operator)
    assert (queue.head(), queue.last_id(), queue.reserved()) == (0, 0, 0)


def test_constructor_reverts(project, flat_kit, admin):
    """Each bad argument alone makes the deployment revert with its reason (read with eth_call);
    the good ones deploy."""
    vault = flat_kit.vault.address
    queue = project.RedemptionQueue
    assert creation_revert_reason(queue, admin, admin.address, 1) == (
        "queue: vault is not a contract"
    )
    assert creation_revert_reason(queue, admin, vault, 0) == ZERO_MINIMUM
    assert queue.deploy(vault, 1, sender=admin).min_request() == 1


def test_set_min_request(flat_kit, admin, investor, operator, attacker):
    """Only the admin; never zero; requests already queued are kept (and fulfilled)."""
    queue = flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    tx = queue.set_min_request(2 * MIN_REQUEST, sender=admin)
    [log] = queue.UpdateMinRequest.from_receipt(tx)
    assert (log.previous, log.current) == (MIN_REQUEST, 2 * MIN_REQUEST)
    assert queue.min_request() == 2 * MIN_REQUEST
    with ape.reverts(BELOW_MINIMUM):
        queue.requestRedeem(2 * MIN_REQUEST - 1, investor, investor, sender=investor)
    request(queue, investor, 2 * MIN_REQUEST)
    with ape.reverts(ZERO_MINIMUM):
        queue.set_min_request(0, sender=admin)
    for stranger in (attacker, operator):
        with ape.reverts(MISSING_ROLE):
            queue.set_min_request(1, sender=stranger)
    assert queue.min_request() == 2 * MIN_REQUEST
    tx = queue.fulfil(MAX_FULFIL_BATCH, sender=operator)
    assert [log.shares for log in queue.RedeemFulfilled.from_receipt(tx)] == [
        MIN_REQUEST,
        2 * MIN_REQUEST,
    ]


def test_sweep(flat_kit, investor, operator, attacker):
    """Stablecoin sent to the queue beyond its reserve goes to the vault, whose skim streams it to
    holders; the reserve stays. Anyone may call it."""
    vault, queue, token = flat_kit.vault, flat_kit.queue, flat_kit.token
    with ape.reverts(NOTHING_TO_SWEEP):
        queue.sweep(sender=attacker)
    request(queue, investor, MIN_REQUEST)
    queue.fulfil(1, sender=operator)
    reserve = queue.reserved()
    assert token.balanceOf(queue) == reserve > 0
    with ape.reverts(NOTHING_TO_SWEEP):
        queue.sweep(sender=attacker)
    fund(token, attacker, 1_234_567)
    token.transfer(queue, 1_234_567, sender=attacker)
    vault_balance = token.balanceOf(vault)
    tx = queue.sweep(sender=attacker)
    [log] = queue.Swept.from_receipt(tx)
    assert log.amount == 1_234_567
    [moved] = logs_of(tx, token, "Transfer")
    assert (moved.sender, moved.receiver, moved.value) == (queue, vault, 1_234_567)
    assert token.balanceOf(queue) == queue.reserved() == reserve
    assert token.balanceOf(vault) == vault_balance + 1_234_567
    [skimmed] = vault.Skimmed.from_receipt(vault.skim(sender=attacker))
    assert skimmed.donation == 1_234_567
    check_queue_books(flat_kit, [investor])


def test_fulfiller_role(flat_kit, admin, operator, other_investor, investor):
    queue = flat_kit.queue
    request(queue, investor, MIN_REQUEST)
    request(queue, investor, MIN_REQUEST)
    with ape.reverts(MISSING_ROLE):
        queue.grantRole(FULFILLER_ROLE, other_investor, sender=operator)
    queue.revokeRole(FULFILLER_ROLE, operator, sender=admin)
    with ape.reverts(MISSING_ROLE):
        queue.fulfil(1, sender=operator)
    queue.grantRole(FULFILLER_ROLE, other_investor, sender=admin)
    tx = queue.fulfil(1, sender=other_investor)
    assert queue.RedeemFulfilled.from_receipt(tx)[0].requestId == 1
    queue.renounceRole(FULFILLER_ROLE, other_investor, sender=other_investor)
    with ape.reverts(MISSING_ROLE):
        queue.fulfil(1, sender=other_investor)


def test_vault_hooks_are_the_queues(
    flat_kit, admin, operator, pauser, investor, other_investor, attacker
):
    """move_escrowed and settle_redemptions need REDEMPTION_QUEUE_ROLE, which the pool's wiring
    gives to its queue alone: the vault trusts the queue as it trusts its collateral (it checks
    neither which side of a move is the escrow nor the price of a settlement, only free cash).
    Called directly by an account given the role: a move needs no identity, a settlement burns
    escrow and pays from free cash, never more than there is."""
    vault, queue = flat_kit.vault, flat_kit.queue
    assert vault.hasRole(REDEMPTION_QUEUE_ROLE, queue)
    for account in (admin, operator, pauser):
        assert not vault.hasRole(REDEMPTION_QUEUE_ROLE, account)
    for stranger in (attacker, investor, operator):
        with ape.reverts(MISSING_ROLE):
            vault.move_escrowed(investor, vault, MIN_REQUEST, False, sender=stranger)
        with ape.reverts(MISSING_ROLE):
            vault.settle_redemptions(1, 0, sender=stranger)
    # The role given to an account, to call the hooks directly.
    vault.grantRole(REDEMPTION_QUEUE_ROLE, pauser, sender=admin)
    escrowed = vault.balanceOf(investor) + vault.balanceOf(operator)
    for owner in (investor, operator):
        balance = vault.balanceOf(owner)
        tx = vault.move_escrowed(owner, vault, balance, False, sender=pauser)
        [moved] = logs_of(tx, vault, "Transfer")
        assert (moved.sender, moved.receiver, moved.value) == (owner, vault, balance)
    assert vault.balanceOf(vault) == vault.DEAD_SHARES() + escrowed
    total, supply, cash = nav(flat_kit)
    assert to_assets(escrowed, total, supply) > cash
    with ape.reverts(INSUFFICIENT_FREE_CASH):
        vault.settle_redemptions(escrowed, cash + 1, sender=pauser)
    shares = MIN_REQUEST
    worth = to_assets(shares, total, supply)
    tx = vault.settle_redemptions(shares, worth, sender=pauser)
    [withdrawn] = logs_of(tx, vault, "Withdraw")
    assert (withdrawn.receiver, withdrawn.owner, withdrawn.assets, withdrawn.shares) == (
        pauser,
        vault,
        worth,
        shares,
    )
    assert vault.free_cash() == cash - worth
    assert vault.totalSupply() == supply - shares
    assert vault.balanceOf(vault) == vault.DEAD_SHARES() + escrowed - shares
    # Out of the escrow, to an account that is not verified: the queue checks identities.
    tx = vault.move_escrowed(vault, attacker, shares, False, sender=pauser)
    assert vault.balanceOf(attacker) == shares
