"""Stateful fuzzing of one pool: buys, transfers, transferFrom, instalments, claims, redemptions,
time jumps and GPU contributions, with invariants 1, 3, 4, 5 and 7 of DOMAIN.md after every step.

Quick profile by default (CI); `VAULT_FUZZ_PROFILE=deep` for a longer run. Each step is a few RPC
round trips on Anvil; every example starts from the same chain snapshot.
"""

import os

import ape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.utils.vault import (
    DAY,
    RECEIVER_NOT_VERIFIED,
    accounted_cash,
    check_conservation,
    claimed_in,
    contribute,
    fund,
)

PROFILES = {
    "quick": settings(
        max_examples=8,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ),
    "deep": settings(
        max_examples=100,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ),
}
INSTALMENT = 7_777 * 10**6 + 13


def test_vault_machine(
    kit, registry, operator, investor, other_investor, attacker, lessee, gpu, chain
):
    vault, leases, token = kit.vault, kit.leases, kit.token
    holders = [investor, other_investor, operator]
    first = gpu()
    contribute(vault, registry, operator, first)
    leases.open_lease(lessee, INSTALMENT, 30 * DAY, 1_000, DAY, [first], sender=operator)
    fund(token, lessee, 100 * INSTALMENT)
    token.approve(vault, 2**256 - 1, sender=lessee)
    for holder in holders:
        fund(token, holder, 5_000_000 * 10**6)
        token.approve(vault, 2**256 - 1, sender=holder)
        vault.approve(operator, 2**256 - 1, sender=holder)
    spare_gpus = [
        gpu(acquired_at=chain.pending_timestamp - 10 * DAY, useful_life=(40 + 7 * i) * DAY)
        for i in range(8)
    ]

    class VaultMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.claimed = 0
            self.gpus = list(spare_gpus)

        def teardown(self):
            chain.restore(self.snapshot)

        @rule(who=st.sampled_from(holders), assets=st.integers(1, 10**12))
        def buy(self, who, assets):
            if vault.previewDeposit(assets) == 0:
                return
            vault.deposit(assets, who, sender=who)

        @rule(src=st.sampled_from(holders), dst=st.sampled_from(holders), part=st.integers(0, 100))
        def transfer(self, src, dst, part):
            vault.transfer(dst, vault.balanceOf(src) * part // 100, sender=src)

        @rule(src=st.sampled_from(holders), dst=st.sampled_from(holders), part=st.integers(0, 100))
        def transfer_from(self, src, dst, part):
            vault.transferFrom(src, dst, vault.balanceOf(src) * part // 100, sender=operator)

        @rule(src=st.sampled_from(holders))
        def transfer_to_unverified(self, src):
            with ape.reverts(RECEIVER_NOT_VERIFIED):
                vault.transfer(attacker, 1, sender=src)

        @rule()
        def pay(self):
            leases.pay_instalment(1, sender=lessee)

        @rule(who=st.sampled_from(holders))
        def claim(self, who):
            if vault.claimable(who) == 0:
                return
            self.claimed += claimed_in(vault.claim(sender=who), vault)

        @rule(who=st.sampled_from(holders), part=st.integers(1, 100))
        def redeem(self, who, part):
            shares = vault.maxRedeem(who) * part // 100
            if shares == 0 or vault.previewRedeem(shares) == 0:
                return
            vault.redeem(shares, who, who, sender=who)

        @rule(who=st.sampled_from(holders), assets=st.integers(1, 10**10))
        def round_trip(self, who, assets):
            """Invariant 7: buying then redeeming at once never returns more than was paid."""
            shares = vault.previewDeposit(assets)
            if shares == 0:
                return
            before = token.balanceOf(who)
            vault.deposit(assets, who, sender=who)
            if vault.previewRedeem(shares) == 0:
                # Dust: redeeming it pays nothing (the vault refuses "vault: zero assets").
                with ape.reverts("vault: zero assets"):
                    vault.redeem(shares, who, who, sender=who)
                return
            vault.redeem(shares, who, who, sender=who)
            assert token.balanceOf(who) <= before

        @rule(seconds=st.integers(1, 45 * DAY))
        def time_jump(self, seconds):
            chain.pending_timestamp += seconds
            chain.mine()

        @rule(who=st.sampled_from(holders))
        def contribute_gpu(self, who):
            if not self.gpus:
                return
            contribute(vault, registry, operator, self.gpus.pop(), receiver=who)

        @invariant()
        def supply_is_sum_of_balances(self):
            assert sum(vault.balanceOf(h) for h in holders) == vault.totalSupply()
            assert vault.balanceOf(attacker) == 0

        @invariant()
        def revenue_conserved(self):
            check_conservation(vault, holders, self.claimed)

        @invariant()
        def cash_matches_books(self):
            assert token.balanceOf(vault) == accounted_cash(vault)

    profile = PROFILES[os.environ.get("VAULT_FUZZ_PROFILE", "quick")]
    run_state_machine_as_test(VaultMachine, settings=profile)
