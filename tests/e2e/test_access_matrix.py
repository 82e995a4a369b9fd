"""Every fraction-moving path tried by and toward an unverified address, and under pause."""

import ape
import pytest

from tests.utils.vault import (
    DAY,
    OWNER_NOT_VERIFIED,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    SENDER_NOT_VERIFIED,
    buy,
    contribute,
    fund,
    permit_signature,
)


@pytest.fixture
def ready(kit, investor, attacker, operator, registry, gpu, chain):
    """Investor holds fractions and has approved the attacker; attacker is funded and approved."""
    vault, token = kit.vault, kit.token
    buy(vault, token, investor, 10 * 10**6)
    vault.approve(attacker, 2**256 - 1, sender=investor)
    fund(token, attacker, 10 * 10**6)
    token.approve(vault, 2**256 - 1, sender=attacker)
    token_id = gpu()
    registry.approve(vault, token_id, sender=operator)
    return token_id


def paths(kit, investor, attacker, operator, token_id, chain):
    """(name, callable, expected reason when the other side is unverified)."""
    vault, token = kit.vault, kit.token
    deadline = chain.pending_timestamp + DAY
    v, r, s = permit_signature(token, attacker, vault, 10**6, deadline)
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
            lambda: vault.deposit(10**6, attacker, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "mint to unverified": (
            lambda: vault.mint(10**12, attacker, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "buy to unverified": (
            lambda: vault.buy(10**6, attacker, 0, deadline, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "buy_with_permit to unverified": (
            lambda: vault.buy_with_permit(10**6, attacker, 0, deadline, v, r, s, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "contribute to unverified": (
            lambda: vault.contribute(token_id, attacker, 0, 0, sender=operator),
            RECEIVER_NOT_VERIFIED,
        ),
        "redeem to unverified": (
            lambda: vault.redeem(10**6, attacker, investor, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "withdraw to unverified": (
            lambda: vault.withdraw(10**6, attacker, investor, sender=attacker),
            RECEIVER_NOT_VERIFIED,
        ),
        "redeem of unverified owner": (
            lambda: vault.redeem(0 + 10**6, investor, attacker, sender=attacker),
            OWNER_NOT_VERIFIED,
        ),
        "withdraw of unverified owner": (
            lambda: vault.withdraw(10**6, investor, attacker, sender=attacker),
            OWNER_NOT_VERIFIED,
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
    "redeem to unverified",
    "withdraw to unverified",
    "redeem of unverified owner",
    "withdraw of unverified owner",
]


@pytest.mark.parametrize("name", NAMES)
def test_unverified(kit, ready, investor, attacker, operator, chain, name):
    call, reason = paths(kit, investor, attacker, operator, ready, chain)[name]
    supply = kit.vault.totalSupply()
    with ape.reverts(reason):
        call()
    assert kit.vault.totalSupply() == supply


@pytest.mark.parametrize("name", NAMES)
def test_paused(
    kit, ready, investor, attacker, operator, pauser, compliance, identity, chain, name
):
    identity.verify(attacker, 2**40, 276, sender=compliance)
    call, _ = paths(kit, investor, attacker, operator, ready, chain)[name]
    kit.vault.pause(sender=pauser)
    with ape.reverts(PAUSED):
        call()


def test_paused_outflows(kit, ready, investor, operator, pauser, registry, lessee, chain):
    """Claims, fee claims and GPU purchases stop; instalments are still accepted."""
    vault, leases, token = kit.vault, kit.leases, kit.token
    contribute(vault, registry, operator, ready)
    leases.open_lease(lessee, 10**9, 30 * DAY, 3, DAY, [ready], sender=operator)
    fund(token, lessee, 10**9)
    token.approve(vault, 10**9, sender=lessee)
    vault.pause(sender=pauser)
    leases.pay_instalment(1, sender=lessee)
    chain.pending_timestamp += DAY
    for call in (
        lambda: vault.claim(sender=investor),
        lambda: vault.claim_fees(sender=investor),
        lambda: vault.buy_gpu(ready, 1, 0, sender=operator),
    ):
        with ape.reverts(PAUSED):
            call()
