"""Forced transfer and recovery (issue 9.2): compliance moves fractions to another eligible
address (never to itself), unfreezing the shortfall, revenue checkpointed on both sides; a recovery
moves the balance, the frozen amount, the accrued revenue and the pending requests, and freezes the
lost wallet. Evented with a reason hash."""

import ape

from tests.unit.pool_compliance.conftest import REASON
from tests.utils.vault import JURISDICTION, MIN_REQUEST, RECEIVER_NOT_VERIFIED, logs_of


def test_forced_transfer_unfreezes_the_shortfall(pool, investor, other_investor, compliance):
    vault, desk = pool.vault, pool.compliance
    balance = vault.balanceOf(investor)
    desk.set_frozen_tokens(investor, balance - 100, REASON, sender=compliance)
    desk.freeze(investor, REASON, sender=compliance)
    owed_before = (vault.claimable(investor), vault.claimable(other_investor))
    receiver_before = vault.balanceOf(other_investor)
    # 100 unfrozen, 200 moved: 100 of the frozen ones are unfrozen.
    tx = desk.force_transfer(investor, other_investor, 200, REASON, sender=compliance)
    [forced] = logs_of(tx, desk, "TransferForced")
    assert (forced.owner, forced.receiver, forced.amount, forced.reason, forced.sender) == (
        investor,
        other_investor,
        200,
        REASON,
        compliance,
    )
    [erc7943] = logs_of(tx, vault, "ForcedTransfer")
    assert (erc7943.sender, erc7943.receiver, erc7943.amount) == (investor, other_investor, 200)
    [frozen] = logs_of(tx, vault, "Frozen")
    assert (frozen.account, frozen.amount) == (investor, balance - 200)
    [transfer] = logs_of(tx, vault, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (investor, other_investor, 200)
    assert vault.balanceOf(investor) == balance - 200 == vault.getFrozenTokens(investor)
    assert vault.balanceOf(other_investor) == receiver_before + 200
    assert vault.is_frozen(investor)  # the full freeze stays
    # Revenue was checkpointed on both sides: what each had earned stays its own.
    assert vault.claimable(investor) >= owed_before[0]
    assert vault.claimable(other_investor) >= owed_before[1]


def test_forced_transfer_bounds(pool, investor, other_investor, attacker, compliance):
    desk, vault = pool.compliance, pool.vault
    with ape.reverts("compliance: transfer to itself"):
        desk.force_transfer(investor, investor, 1, REASON, sender=compliance)
    with ape.reverts("compliance: zero amount"):
        desk.force_transfer(investor, other_investor, 0, REASON, sender=compliance)
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        desk.force_transfer(investor, attacker, 1, REASON, sender=compliance)
    with ape.reverts("erc20: transfer amount exceeds balance"):
        desk.force_transfer(
            investor, other_investor, vault.balanceOf(investor) + 1, REASON, sender=compliance
        )
    desk.freeze(other_investor, REASON, sender=compliance)
    with ape.reverts("compliance: receiver frozen"):
        desk.force_transfer(investor, other_investor, 1, REASON, sender=compliance)


def test_forced_transfer_waits_for_the_unpause(pool, investor, other_investor, compliance, pauser):
    pool.vault.pause(sender=pauser)
    with ape.reverts("pausable: contract is paused"):
        pool.compliance.force_transfer(investor, other_investor, 1, REASON, sender=compliance)


def test_recovery_moves_everything(
    pool, investor, other_investor, attacker, identity, compliance, chain
):
    """The investor lost its key: compliance verifies its new wallet (the attacker account stands
    in for it), then recovers. Balance, frozen amount, full freeze, unclaimed revenue and pending
    requests all move; the lost wallet is left empty and frozen."""
    vault, desk, queue = pool.vault, pool.compliance, pool.queue
    new = attacker
    identity.verify(new, chain.pending_timestamp + 365 * 86_400, JURISDICTION, sender=compliance)
    queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    first = queue.last_id()
    queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    second = queue.last_id()
    queue.cancelRedeemRequest(second, investor, sender=investor)
    desk.set_frozen_tokens(investor, 1_000, REASON, sender=compliance)
    desk.freeze(investor, REASON, sender=compliance)
    balance = vault.balanceOf(investor)
    chain.mine()
    tx = desk.recover(investor, new, [first], REASON, sender=compliance)
    owed = vault.claimable(new)
    [log] = logs_of(tx, desk, "WalletRecovered")
    assert (log.lost, log.new, log.amount, log.frozen, log.full, log.requests, log.reason) == (
        investor,
        new,
        balance,
        1_000,
        True,
        1,
        REASON,
    )
    assert vault.balanceOf(investor) == 0 and vault.claimable(investor) == 0
    assert vault.balanceOf(new) == balance
    assert vault.getFrozenTokens(new) == 1_000 and vault.is_frozen(new)  # the freeze follows
    assert vault.is_frozen(investor) and vault.getFrozenTokens(investor) == 0
    assert owed > 0
    # The requests follow: the pending one by id, the cancelled shares with it.
    assert queue.request(first)[0] == new
    assert queue.controller_state(new)[:2] == (MIN_REQUEST, 1)
    assert queue.controller_state(new)[4] == MIN_REQUEST
    assert queue.controller_state(investor) == (0, 0, 0, 0, 0)
    [moved] = logs_of(tx, queue, "RequestsRecovered")
    assert (moved.lost, moved.new, list(moved.request_ids)) == (investor, new, [first])
    # The new wallet, once unfrozen, claims what the lost one had earned.
    desk.set_frozen_tokens(new, 0, REASON, sender=compliance)
    desk.unfreeze(new, REASON, sender=compliance)
    [claimed] = logs_of(vault.claim(sender=new), vault, "RevenueClaimed")
    assert claimed.account == new and claimed.amount >= owed


def test_recovery_needs_every_pending_request(
    pool, investor, attacker, identity, compliance, chain
):
    identity.verify(attacker, chain.pending_timestamp + 86_400, JURISDICTION, sender=compliance)
    pool.queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    with ape.reverts("queue: list every pending request of the lost wallet"):
        pool.compliance.recover(investor, attacker, [], REASON, sender=compliance)
    with ape.reverts("compliance: same wallet"):
        pool.compliance.recover(investor, investor, [], REASON, sender=compliance)


def test_recovery_to_an_unverified_wallet_is_refused(pool, investor, attacker, compliance):
    with ape.reverts(RECEIVER_NOT_VERIFIED):
        pool.compliance.recover(investor, attacker, [], REASON, sender=compliance)


def test_the_vaults_own_account_is_no_ones(pool, other_investor, compliance):
    """The vault's own fractions (its dead shares, the queue's escrow) are never forced or
    recovered: they belong to no investor."""
    desk, vault = pool.compliance, pool.vault
    held = vault.balanceOf(vault)
    with ape.reverts("compliance: the vault itself"):
        desk.force_transfer(vault, other_investor, held, REASON, sender=compliance)
    with ape.reverts("compliance: the vault itself"):
        desk.forcedTransfer(vault, other_investor, held, sender=compliance)
    with ape.reverts("compliance: the vault itself"):
        desk.recover(vault, other_investor, [], REASON, sender=compliance)
    assert vault.balanceOf(vault) == held
