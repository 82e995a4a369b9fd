"""Stateful fuzzing of one pool (GpuCollateral + CollateralVault + LeaseManager): buys, sells,
transfers, instalments, claims, redemptions, donations and skims; GPUs contributed or bought with
cash; the registry's attestations and status changes (impair, restore, retire, offline) reaching
the collateral; time jumps, some straight onto the schedule's next change (an end of life, a stale
day, a ramp's end); `process_maturities` and `sync`. After every step:

- invariant 1: the balances (the dead shares included) sum to the supply;
- invariant 3: revenue is conserved to the wei, dust bounded;
- invariant 4: the stablecoin balance is the books (free cash + revenue held + fees) plus the
  donations not yet skimmed;
- NAV is free cash + the collateral's value, and that value is exactly the Python model's
  (tests/utils/exploits.py) and within [sum of value_of - counted, sum of value_of];
- the schedule is the model's: the next node, the GPUs counted and written down (stale, or
  returning on a ramp) at the cursor and now, the nodes due, whether entries are open (and
  maxDeposit/maxMint 0 when they are not);
- invariant 7 inside its rule: a mint and a redeem in one block never return more than was paid.

Entries (deposit, mint, contribute) wait while a counted GPU is written down, and every flow
refuses while more than 16 nodes are due: each rule predicts, from the model at the block its
call is mined in, whether the call goes through or is refused, and with which exact reason. Exits
and purchases of GPUs with cash never wait for a write-down. The nodes matured
(ScheduleMatured's four fields) and the next node (`nodes(t)`'s three) are the model's.

Quick profile by default (CI, well under a minute); `VAULT_FUZZ_PROFILE=deep` for a longer run.
Each step is a few RPC round trips on Anvil; every example starts from the same chain snapshot.
"""

import os

import ape
from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests.utils.exploits import (
    MATURITIES_PENDING,
    cursor,
    curve_from,
    new_curve,
    nodes_between,
    now,
    on_anvil,
    one_block,
    pool_value,
    read_all,
    value_of,
    written_down,
)
from tests.utils.registry import GpuStatus, make_spec
from tests.utils.vault import (
    ACC_SCALE,
    DAY,
    ENTRIES_WAIT,
    MATURE_STEPS,
    RECEIVER_NOT_VERIFIED,
    STALENESS_WINDOW,
    claimed_in,
    contribute,
    fund,
    max_deposit,
    max_mint,
    to_assets,
)

PROFILES = {
    # CI: no shrinking (on a chain it takes minutes); rerun a failure with `deep` to shrink it.
    "quick": settings(
        max_examples=8,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    ),
    "deep": settings(
        max_examples=100,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    ),
}
INSTALMENT = 7_777 * 10**6 + 13
DEAD_SHARES = 10**12
SPARES = 5
INDEX = st.integers(0, 2**16)
SYNC_REASONS = {"collateral: nothing to sync", MATURITIES_PENDING}
ZERO_ASSETS = "vault: zero assets"
TOO_FEW_ASSETS = "vault: slippage: too few assets"
NO_CASH = "vault: insufficient free cash"
VIEW_STEPS = 1_024  # nodes process_maturities matures at most in one call
FAR = 2**40  # later than any node


def test_vault_machine(
    kit, registry, operator, custodian, appraiser, investor, other_investor, attacker, lessee, chain
):
    vault, leases, token, collateral = kit.vault, kit.leases, kit.token, kit.collateral
    holders = [investor, other_investor, operator]
    accounts = [*holders, vault]
    # GPUs: the first is contributed and leased; the spares (lives of 40 to 68 days, so ends of
    # life fall within reach of a few jumps) wait with the operator.
    start = chain.pending_timestamp
    specs = [make_spec(acquired_at=start - 30 * DAY)] + [
        make_spec(acquired_at=start - 10 * DAY, useful_life=(40 + 7 * i) * DAY)
        for i in range(SPARES)
    ]
    tx = registry.register(operator, specs, sender=custodian)
    first, *spares = [log.token_id for log in registry.GpuRegistered.from_receipt(tx)]
    terms = {token_id: registry.terms(token_id) for token_id in [first, *spares]}
    registry.setApprovalForAll(collateral, True, sender=operator)
    contribute(collateral, registry, operator, first)
    leases.open_lease(lessee, INSTALMENT, 30 * DAY, 1_000, DAY, [first], sender=operator)
    fund(token, lessee, 100 * INSTALMENT)
    token.approve(vault, 2**256 - 1, sender=lessee)
    for holder in holders:
        fund(token, holder, 5_000_000 * 10**6)
        token.approve(vault, 2**256 - 1, sender=holder)
        vault.approve(operator, 2**256 - 1, sender=holder)

    def afford(who, amount: int) -> None:
        """Top `who` up so that it can pay `amount`."""
        if token.balanceOf(who) < amount:
            fund(token, who, amount)

    def pending_refusal() -> bool:
        """Whether a flow priced now would refuse (more due changes than it matures)."""
        return collateral.pending() > MATURE_STEPS

    class VaultMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.snapshot = chain.snapshot()
            self.claimed = 0
            self.donations = 0
            self.held = [first]
            self.spares = list(spares)

        def teardown(self):
            chain.restore(self.snapshot)

        def pick(self, index: int) -> int:
            return self.held[index % len(self.held)]

        def counted(self, positions) -> list:
            """The curves of the GPUs counted (the model), from their `position`s."""
            curves = (curve_from(terms[i], p) for i, p in zip(self.held, positions, strict=True))
            return [c for c in curves if c is not None]

        def schedule(self) -> tuple[list, int, int]:
            """The curves counted, the cursor and the time of the head block (from the books the
            invariants read there: usually no new read)."""
            b = self.books()
            return self.counted(b["positions"]), cursor(b["schedule_state"], b["t"]), b["t"]

        def refusal(self, entry: bool) -> str | None:
            """Why a flow mined in the next block (a second after the head) is refused, from the
            model: more than 16 nodes due then, or, for an entry, a counted GPU written down
            then. None if it goes through."""
            curves, at, t = self.schedule()
            if len(nodes_between(curves, at, t + 1)) > MATURE_STEPS:
                return MATURITIES_PENDING
            if entry and written_down(curves, t + 1):
                return ENTRIES_WAIT
            return None

        def exit_price(self, shares: int, min_assets: int = 0):
            """(price, reason): `price(t)`, what `shares` redeem for in a block at t, at the
            model's NAV then; and the reason the exit is refused in the next block (a second
            after the head, where Anvil mines it), in the contract's order (None if it goes
            through). A result is checked at its transaction's own second, on any chain."""
            curves, _, t = self.schedule()
            b = self.books()
            cash, supply = b["free_cash"], b["supply"]

            def price(at: int) -> int:
                return to_assets(shares, cash + pool_value(curves, at), supply)

            assets = price(t + 1)
            reason = self.refusal(entry=False)
            if reason is None and assets == 0:
                reason = ZERO_ASSETS
            if reason is None and assets < min_assets:
                reason = TOO_FEW_ASSETS
            if reason is None and assets > cash:
                reason = NO_CASH
            return price, reason

        def status(self, token_id: int) -> GpuStatus:
            return GpuStatus(registry.gpu(token_id).status)

        # FRACTIONS AND CASH #

        @rule(who=st.sampled_from(holders), assets=st.integers(1, 10**12))
        def buy(self, who, assets):
            afford(who, assets)
            reason = self.refusal(entry=True)
            if reason is not None:
                with ape.reverts(reason):
                    vault.deposit(assets, who, sender=who)
                return
            vault.deposit(assets, who, sender=who)

        @rule(who=st.sampled_from(holders), part=st.integers(1, 100))
        def redeem(self, who, part):
            if pending_refusal():
                assert vault.maxRedeem(who) == 0
                return
            most = vault.maxRedeem(who)
            if most < vault.balanceOf(who):
                part = min(part, 95)  # bound by free cash: leave room for a ramp's second
            shares = most * part // 100
            if shares == 0:
                return
            price, reason = self.exit_price(shares)
            if reason is not None:
                with ape.reverts(reason):
                    vault.redeem(shares, who, who, sender=who)
                return
            tx = vault.redeem(shares, who, who, sender=who)
            assert vault.Withdraw.from_receipt(tx)[0].assets == price(tx.timestamp)

        @rule(who=st.sampled_from(holders), part=st.integers(1, 95))
        def sell(self, who, part):
            shares = vault.maxRedeem(who) * part // 100
            quote = vault.previewRedeem(shares)
            if shares == 0 or quote < 100:
                return
            floor, deadline = quote * 99 // 100, chain.pending_timestamp + DAY
            price, reason = self.exit_price(shares, floor)
            if reason is not None:
                with ape.reverts(reason):
                    vault.sell(shares, who, floor, deadline, sender=who)
                return
            tx = vault.sell(shares, who, floor, deadline, sender=who)
            assert vault.Withdraw.from_receipt(tx)[0].assets == price(tx.timestamp) >= floor

        @rule(who=st.sampled_from(holders), shares=st.integers(10**8, 10**18))
        def round_trip(self, who, shares):
            """Invariant 7: minting and redeeming the same fractions in one block (one price)
            never returns more than was paid."""
            afford(who, vault.previewMint(shares) * 2)
            at = now(chain) + 1
            reason = self.refusal(entry=True)
            if reason is not None:
                with ape.reverts(reason):
                    vault.mint(shares, who, sender=who)
                return
            if at % DAY == 0 or vault.previewRedeem(shares) < 1_000:
                return  # (a redeem of dust would refuse: "vault: zero assets")
            with one_block(chain, timestamp=at) as block:
                block.append((vault.mint, (shares, who), who))
                block.append((vault.redeem, (shares, who, who), who))
            paid = vault.Deposit.from_receipt(block[0])[0].assets
            got = vault.Withdraw.from_receipt(block[1])[0].assets
            assert got <= paid

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

        # REVENUE #

        @rule()
        def pay(self):
            leases.pay_instalment(1, sender=lessee)

        @rule(who=st.sampled_from(holders))
        def claim(self, who):
            if vault.claimable(who) == 0:
                return
            self.claimed += claimed_in(vault.claim(sender=who), vault)

        @rule(amount=st.integers(1, 10**10))
        def donate(self, amount):
            afford(attacker, amount)
            token.transfer(vault, amount, sender=attacker)
            self.donations += amount

        @rule()
        def skim(self):
            tx = vault.skim(sender=attacker)
            assert vault.Skimmed.from_receipt(tx)[0].donation == self.donations
            self.donations = 0

        # GPUS #

        def ready_spare(self) -> int | None:
            """A spare GPU freshly attested (the custodian attests a stale one first)."""
            if not self.spares or pending_refusal():
                return None
            token_id = self.spares.pop()
            last = registry.terms(token_id).last_attested_at
            if (last + STALENESS_WINDOW) // DAY * DAY <= now(chain) + 1:
                registry.attest([token_id], sender=custodian)
            terms[token_id] = registry.terms(token_id)
            return token_id

        @rule(who=st.sampled_from(holders))
        def contribute_gpu(self, who):
            token_id = self.ready_spare()
            if token_id is None:
                return
            reason = self.refusal(entry=True)
            if reason is not None:
                with ape.reverts(reason):
                    collateral.contribute(token_id, who, 0, sender=operator)
                self.spares.append(token_id)
                return
            collateral.contribute(token_id, who, 0, sender=operator)
            self.held.append(token_id)

        @rule(discount=st.integers(50, 95))
        def buy_gpu_with_cash(self, discount):
            """The operator offers a price below the value it brings; the owner accepts."""
            token_id = self.ready_spare()
            if token_id is None:
                return
            t = now(chain)
            worth = value_of(new_curve(terms[token_id], t, STALENESS_WINDOW), t + 60)
            price = min(worth * discount // 100, vault.free_cash())
            if price == 0:
                self.spares.append(token_id)
                return
            collateral.offer_gpu(token_id, price, t + DAY, sender=operator)
            tx = collateral.sell_gpu(token_id, price, sender=operator)
            assert collateral.GpuPurchased.from_receipt(tx)[0].price == price
            self.held.append(token_id)

        @rule(index=INDEX)
        def attest(self, index):
            token_id = self.pick(index)
            if self.status(token_id) == GpuStatus.RETIRED:
                return
            registry.attest([token_id], sender=custodian)
            terms[token_id] = registry.terms(token_id)

        @rule(index=INDEX)
        def impair(self, index):
            token_id = self.pick(index)
            if self.status(token_id) in (GpuStatus.IMPAIRED, GpuStatus.RETIRED):
                return
            registry.set_status(token_id, GpuStatus.IMPAIRED, sender=appraiser)
            assert collateral.value_of(token_id) == 0

        @rule(index=INDEX)
        def restore(self, index):
            token_id = self.pick(index)
            if self.status(token_id) != GpuStatus.IMPAIRED:
                return
            registry.set_status(token_id, GpuStatus.ACTIVE, sender=appraiser)
            # Up gradually: nothing comes back in the block of the restore.
            assert collateral.value_of(token_id) == 0

        @rule(index=INDEX)
        def retire(self, index):
            token_id = self.pick(index)
            if self.status(token_id) in (GpuStatus.LEASED, GpuStatus.RETIRED):
                return
            registry.set_status(token_id, GpuStatus.RETIRED, sender=custodian)
            assert collateral.value_of(token_id) == 0

        @rule(index=INDEX)
        def offline_and_back(self, index):
            """OFFLINE is operational: the position does not change."""
            token_id = self.pick(index)
            if self.status(token_id) != GpuStatus.ACTIVE:
                return
            position = collateral.position(token_id)
            registry.set_status(token_id, GpuStatus.OFFLINE, sender=custodian)
            assert collateral.position(token_id) == position
            registry.set_status(token_id, GpuStatus.ACTIVE, sender=custodian)
            assert collateral.position(token_id) == position

        @rule(index=INDEX)
        def sync(self, index):
            try:
                collateral.sync(self.pick(index), sender=attacker)
            except ContractLogicError as error:
                assert error.revert_message in SYNC_REASONS, error.revert_message

        @rule(steps=st.integers(1, 24))
        def process_maturities(self, steps):
            """The nodes matured, in order, with their three changes, are the model's."""
            curves, at, _ = self.schedule()
            tx = collateral.process_maturities(steps, sender=attacker)
            due = nodes_between(curves, at, tx.timestamp)[: min(steps, VIEW_STEPS)]
            matured = collateral.ScheduleMatured.from_receipt(tx)
            assert [(m.at, m.intercept, m.slope, m.gpus) for m in matured] == due

        # TIME #

        @rule(seconds=st.integers(1, 45 * DAY))
        def time_jump(self, seconds):
            chain.mine(timestamp=now(chain) + seconds)

        @rule(offset=st.sampled_from([-1, 0, 1, DAY // 2]))
        def jump_to_next_change(self, offset):
            """Onto the schedule's next node (an end of life, a stale day, a ramp's end), whose
            three changes are the model's."""
            head = self.books()["schedule_state"][0]
            if head != 0:
                curves, at, _ = self.schedule()
                # nodes(t): (intercept, slope, gpus)
                assert [(head, *collateral.nodes(head))] == nodes_between(curves, at, FAR)[:1]
            if head + offset > now(chain):
                chain.mine(timestamp=head + offset)

        # INVARIANTS (one batched read of the head block serves them all) #

        def books(self) -> dict:
            head = chain.blocks.head.hash
            if getattr(self, "_books_at", None) != head:
                self._books_at, self._books = head, self.read_books()
            return self._books

        def read_books(self) -> dict:
            calls = {
                "balances": [(vault.balanceOf, (a,)) for a in [*accounts, attacker]],
                "claimable": [(vault.claimable, (a,)) for a in accounts],
                "positions": [(collateral.position, (i,)) for i in self.held],
                "value_of": [(collateral.value_of, (i,)) for i in self.held],
                "scalars": [
                    (vault.totalSupply, ()),
                    (vault.received, ()),
                    (vault.held, ()),
                    (vault.unvested, ()),
                    (vault.free_cash, ()),
                    (vault.accrued_fees, ()),
                    (token.balanceOf, (vault,)),
                    (vault.totalAssets, ()),
                    (vault.collateral_value, ()),
                    (collateral.value, ()),
                    (collateral.schedule_state, ()),
                    (collateral.written_down, ()),
                    (collateral.entries_open, ()),
                    (collateral.pending, ()),
                    (vault.maxDeposit, (investor,)),
                    (vault.maxMint, (investor,)),
                ],
            }
            flat = [call for group in calls.values() for call in group]
            t, results = read_all(chain, flat)
            books, at = {"t": t}, 0
            for name, group in calls.items():
                books[name], at = results[at : at + len(group)], at + len(group)
            (
                books["supply"],
                books["received"],
                books["held"],
                books["unvested"],
                books["free_cash"],
                books["fees"],
                books["balance"],
                books["nav"],
                books["collateral_value"],
                books["value"],
                books["schedule_state"],
                books["written_down"],
                books["entries_open"],
                books["pending"],
                books["max_deposit"],
                books["max_mint"],
            ) = books.pop("scalars")
            books["counted"] = books["schedule_state"][1]
            return books

        @invariant()
        def supply_is_sum_of_balances(self):
            b = self.books()
            *own, dead, stranger = b["balances"]
            assert sum(own) + dead == b["supply"]
            assert dead == DEAD_SHARES
            assert stranger == 0

        @invariant()
        def revenue_conserved(self):
            """received = claimed + claimable + unvested + dust, the dust never negative and at
            most a wei per account (sub-wei rests), one for the floor of unvested, one for the
            checkpoints' 2**-28 drops, and the accumulator's remainder: below the supply in
            ACC_SCALE units, so under a wei while the supply is below 10**36 units, and up to
            ~170 wei at the supply cap (reached when a GPU comes into a pool whose NAV was
            written down to a few wei: the price per fraction is then near zero)."""
            b = self.books()
            assert b["held"] == b["received"] - self.claimed
            dust = b["held"] - sum(b["claimable"]) - b["unvested"]
            bound = len(accounts) + 2 + b["supply"] // ACC_SCALE
            assert 0 <= dust <= bound, f"dust {dust} above {bound} (supply {b['supply']})"

        @invariant()
        def cash_matches_books(self):
            b = self.books()
            assert b["balance"] == b["free_cash"] + b["held"] + b["fees"] + self.donations

        @invariant()
        def nav_is_cash_plus_collateral(self):
            b = self.books()
            value = b["value"]
            assert b["nav"] == b["free_cash"] + value
            assert b["collateral_value"] == value
            curves = []
            for token_id, position, single in zip(
                self.held, b["positions"], b["value_of"], strict=True
            ):
                curve = curve_from(terms[token_id], position)
                assert single == (0 if curve is None else value_of(curve, b["t"]))
                if curve is not None:
                    curves.append(curve)
            assert b["counted"] == len(curves)
            assert value == pool_value(curves, b["t"])
            per_gpu = sum(b["value_of"])
            assert max(per_gpu - b["counted"], 0) <= value <= per_gpu

        @invariant()
        def schedule_is_the_model(self):
            """The next node, the GPUs written down at the cursor and now, the nodes due and the
            entry gate, from the curves counted."""
            b = self.books()
            t, state = b["t"], b["schedule_state"]
            curves = self.counted(b["positions"])
            at = cursor(state, t)
            ahead = nodes_between(curves, at, FAR)
            assert state[0] == (ahead[0][0] if ahead else 0)
            assert state[2] == written_down(curves, at)
            assert b["written_down"] == written_down(curves, t)
            due = len(nodes_between(curves, at, t))
            assert b["pending"] == min(due, MATURE_STEPS + 1)
            is_open = due <= MATURE_STEPS and b["written_down"] == 0
            assert b["entries_open"] == is_open
            if is_open:
                nav, supply, cash = b["nav"], b["supply"], b["free_cash"]
                assert b["max_deposit"] == max_deposit(nav, supply, cash)
                assert b["max_mint"] == max_mint(nav, supply, cash, DEAD_SHARES)
            else:
                assert b["max_deposit"] == b["max_mint"] == 0

    profile = PROFILES[os.environ.get("VAULT_FUZZ_PROFILE", "quick")]
    # On Anvil, deterministic time (each block one second after the last, not the wall clock),
    # so that a failing example replays, and shrinks, exactly. Ganache has no such switch: its
    # blocks follow its clock, and each result is checked at its own block's second.
    rpc = chain.provider.web3.provider.make_request
    deterministic = on_anvil(chain)
    if deterministic:
        rpc("anvil_setBlockTimestampInterval", [1])
    try:
        run_state_machine_as_test(VaultMachine, settings=profile)
    finally:
        if deterministic:
            rpc("anvil_removeBlockTimestampInterval", [])
