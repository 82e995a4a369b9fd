"""Stateful fuzzing of one pool (GpuCollateral + CollateralVault + LeaseManager + RedemptionQueue):
buys, sells, transfers, instalments, claims, redemptions, donations and skims; queued redemptions
(requests, some for another verified controller, floods up to the open-request limit,
cancellations, cancelled shares claimed back, fulfilments by the operator, `redeem`/`withdraw`
claims, and a pause that stops them); GPUs contributed or bought with cash; the registry's
attestations and status changes (impair, restore, retire, offline) reaching the collateral; the
appraiser's marks (down at once, up by a bounded step that returns over the unlock period) and
settlements (a write-down made final: no mark-up after it); a short lease declared in default (its
GPU marked down) and closed; GPUs sold through the market
(at the floor or above it: the premium streamed, or all of it to free cash in wind-down); the
wind-down (every entry refused from then on, the queue priced pro rata without the dead shares);
time jumps, some straight onto the schedule's next change (an end of life, a stale day, a ramp's
end); `process_maturities` and `sync`. After every step:

- invariant 1: the balances (the vault's own included: dead shares and escrow) sum to the supply;
- invariant 3: revenue is conserved to the wei, dust bounded; and a holder with no fractions of
  its own (all of them in escrow, or none) earns nothing: its claimable revenue stays as it was
  until it claims;
- invariant 4: the vault's stablecoin balance is the books (free cash + revenue held + fees) plus
  the donations not yet skimmed; the queue's is its reserve;
- invariant 10: the vault's own fractions are the dead shares plus the escrow, pending requests
  plus cancelled shares not yet claimed back; the pending requests in order (`requests`), the
  queue's totals and each controller's maxRedeem/maxWithdraw are the Python model's
  (tests/utils/queue_model.py); the reserve is the sum of what is claimable, and claimable shares
  and assets are zero together (a max claim leaves no dust). After each queue flow, its rule
  also checks what only such a flow changes: each controller's totals, the ERC-7540/7887 views,
  the list's ends and the links around the entries it touched;
- NAV is free cash + the collateral's value, and that value is exactly the Python model's
  (tests/utils/exploits.py) and within [sum of value_of - counted, sum of value_of];
- the schedule is the model's: the next node, the GPUs counted and written down (stale, or
  returning on a ramp) at the cursor and now, the nodes due, the holds on entries (`held_down`:
  GPUs impaired while counted until restored or retired, and GPUs marked below their straight
  line by a mark not settled, a restore's step included, until a mark reaches the line, a
  settlement, a retirement or a sale), whether entries are open (and maxDeposit/maxMint 0 when
  they are not);
- invariant 7 inside its rule: a mint and a redeem in one block never return more than was paid.

Queue rules predict each refusal's exact reason in the contract's order (below the minimum, an
unverified controller, too many open requests, the pause, the balance; no pending request, no
cash to fulfil, the pause, maturities pending; a claim above what is claimable), and each
fulfilment's events exactly: every request gets its shares' NAV at the fulfilling block, rounded
down, and the one the cash ends inside gets the most shares the cash left pays.

Entries (deposit, mint, contribute) wait while a counted GPU is written down or a GPU is held
down, and every flow
refuses while more than 16 nodes are due: each rule predicts, from the model at the block its
call is mined in, whether the call goes through or is refused, and with which exact reason. Exits
and purchases of GPUs with cash never wait for a write-down. The nodes matured
(ScheduleMatured's four fields) and the next node (`nodes(t)`'s three) are the model's.

Quick profile by default (CI, well under a minute); `VAULT_FUZZ_PROFILE=deep` for a longer run.
Each step is a few RPC round trips on Anvil; every example starts from the same chain snapshot.
"""

import os
from collections.abc import Sequence

import ape
from ape.exceptions import ContractLogicError
from eth_abi import decode
from eth_utils import to_bytes, to_hex
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.utils.appraisals import SETTLED_UP, next_step
from tests.utils.collateral import Curve, Mark, Terms
from tests.utils.custody import attest as attest_gpus
from tests.utils.exploits import (
    COUNTED,
    MATURITIES_PENDING,
    UNCOUNTED,
    cursor,
    curve_from,
    new_curve,
    nodes_between,
    now,
    on_anvil,
    one_block,
    pool_value,
    send_all,
    value_of,
    written_down,
)
from tests.utils.queue_model import (
    MAX_OPEN_PER_CONTROLLER,
    NO_CASH_TO_FULFIL,
    NO_PENDING,
    NOTHING_CANCELLED,
    Fulfilment,
    QueueModel,
)
from tests.utils.registry import GpuStatus, make_spec
from tests.utils.vault import (
    ACC_SCALE,
    DAY,
    ENTRIES_WAIT,
    MATURE_STEPS,
    PAUSED,
    RECEIVER_NOT_VERIFIED,
    STALENESS_WINDOW,
    claimed_in,
    contribute,
    fund,
    key_of,
    max_deposit,
    max_mint,
    memoise_test_accounts,
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
PAGE = 64  # the queue's MAX_PAGE: more than the machine's open requests (3 x 16)
# Percent of what is claimable a claim takes: often all of it (the max claim), else a part.
CLAIM_PART = st.one_of(st.just(100), st.integers(1, 99))
# Queue calls tried while paused.
PAUSED_CALLS = ["request", "fulfil", "redeem", "withdraw", "claim_cancelled", "cancel"]
WINDING_DOWN = "collateral: pool winding down"
MARK_REASON = b"\x07" * 32
# A mark-up is at most this share (percent) of the step: the book values fall a little between
# the read and the block (the step and the registry's book value with them). TO_THE_LINE: the
# largest step at the block's second, up to the line if within reach (Anvil only: its blocks are
# a second apart, so the second is known; elsewhere 80).
TO_THE_LINE = 100
MARK_UP_PARTS = st.one_of(st.integers(1, 80), st.just(TO_THE_LINE))
# The short leases the machine defaults: one instalment an hour after the start, no grace; the
# pool's default_after is lowered to its minimum (a day) before the machine starts.
HOUR = 3_600


def read_head(chain, calls: Sequence[tuple]) -> tuple[int, list]:
    """`read_all` (tests/utils/exploits.py) straight to the node: view calls `(contract_method,
    args)` in one JSON-RPC batch at the head block, past web3's per-call formatting middleware
    (several milliseconds a call in Python, most of a step once the queue's views joined the
    books). Returns the head block's timestamp and the decoded results (a single output
    unwrapped)."""
    node = chain.provider.web3.provider
    head = node.make_request("eth_getBlockByNumber", ["latest", False])["result"]
    requests = []
    for method, args in calls:
        call = {"to": method.contract.address, "data": to_hex(method.encode_input(*args))}
        requests.append(("eth_call", [call, head["number"]]))
    results = []
    for (method, args), response in zip(calls, node.make_batch_request(requests), strict=True):
        assert "error" not in response, (method, args, response)
        (abi,) = [abi for abi in method.abis if len(abi.inputs) == len(args)]
        types = [output.canonical_type for output in abi.outputs]
        values = decode(types, to_bytes(hexstr=response["result"]))
        results.append(values[0] if len(values) == 1 else tuple(values))
    return int(head["timestamp"], 16), results


def test_vault_machine(
    kit,
    registry,
    attestor,
    admin,
    operator,
    custodian,
    appraiser,
    pauser,
    investor,
    other_investor,
    attacker,
    lessee,
    chain,
    monkeypatch,
):
    # Expected reverts cost ~0.5 s instead of ~2.5 s (see memoise_test_accounts).
    memoise_test_accounts(monkeypatch)
    vault, leases, token, collateral = kit.vault, kit.leases, kit.token, kit.collateral
    queue = kit.queue
    holders = [investor, other_investor, operator]
    accounts = [*holders, vault]
    by_key = {key_of(h): h for h in holders}
    # Controllers a request may name: the owner itself (None), a verified holder, or a stranger.
    controllers = st.sampled_from([None, *holders, attacker])
    # Receivers of a claim: the controller itself (None) or a verified holder.
    receivers = st.sampled_from([None, *holders])
    min_request = queue.min_request()
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
    leases.set_default_after(DAY, sender=admin)
    appraisals, market = kit.appraisals, kit.market
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
            self.queue = QueueModel(min_request)
            # The last request each controller cancelled (the id its claim back names).
            self.cancelled_ids: dict[str, int] = {}
            # Holders with no fractions of their own at the last check: their claimable revenue.
            self.idle: dict[str, int] = {}
            self.winding = False
            # The holds on entries (`held_down` counts both): GPUs marked below their line by a
            # mark not settled, and GPUs impaired while counted; the GPUs whose marks are settled.
            self.held_below = set()
            self.held_impaired = set()
            self.settled = set()

        def teardown(self):
            chain.restore(self.snapshot)

        def pick(self, index: int) -> int:
            return self.held[index % len(self.held)]

        def held_down(self) -> int:
            return len(self.held_below) + len(self.held_impaired)

        def hold_mark(self, token_id: int, value: int, at: int) -> None:
            """A mark to `value` at `at` (the appraiser's, or a default's): held below the
            registry's straight-line book value then, unless the GPU's marks are settled."""
            line = registry.book_value_at(token_id, at)
            if value < line and token_id not in self.settled:
                self.held_below.add(token_id)
            else:
                self.held_below.discard(token_id)

        def follow_return(self, token_id: int, before: tuple, appraisal: tuple, at: int) -> None:
            """After a transaction at `at` that may have brought an impaired GPU back (a restore,
            or the attestation or `sync` of a return the hook deferred; `before`, `appraisal`:
            its position and appraisal before it): if it counts again, the impairment's hold
            goes, and if it stood above one step of its book value (from its mark then) the
            restore marked it down to that step, below its line: held."""
            if before[0] != UNCOUNTED or collateral.position(token_id)[0] != COUNTED:
                return
            self.held_impaired.discard(token_id)
            now_terms = Terms.read(registry.terms(token_id))
            value, marked_at, _, _ = appraisal
            mark = Mark(value, marked_at) if marked_at else None
            if Curve.of(now_terms, 0, 0, mark=mark).book(at) > now_terms.step(at):
                self.held_below.add(token_id)

        def counted(self, positions, appraisals) -> list:
            """The curves of the GPUs counted (the model), from their `position`s and
            `appraisal`s (a restored GPU returns to one step, recorded as a mark)."""
            curves = (
                curve_from(terms[i], p, a)
                for i, p, a in zip(self.held, positions, appraisals, strict=True)
            )
            return [c for c in curves if c is not None]

        def schedule(self) -> tuple[list, int, int]:
            """The curves counted, the cursor and the time of the head block (from the books the
            invariants read there: usually no new read)."""
            b = self.books()
            curves = self.counted(b["positions"], b["appraisals"])
            return curves, cursor(b["schedule_state"], b["t"]), b["t"]

        def refusal(self, entry: bool) -> str | None:
            """Why a flow mined in the next block (a second after the head) is refused, from the
            model: more than 16 nodes due then, or, for an entry, a counted GPU written down
            then. None if it goes through. Ganache's blocks follow its clock, so its next block
            may share the head's second: where the answer changes between the two (the head a
            second before a node), an empty block first steps over the change."""
            reason = self.refusal_at(entry, 1)
            if not deterministic and self.refusal_at(entry, 0) != reason:
                chain.mine(timestamp=now(chain) + 1)
                reason = self.refusal_at(entry, 1)
            return reason

        def refusal_at(self, entry: bool, delay: int) -> str | None:
            """`refusal` for a block `delay` seconds after the head."""
            curves, at, t = self.schedule()
            if len(nodes_between(curves, at, t + delay)) > MATURE_STEPS:
                return MATURITIES_PENDING
            if entry and self.winding:
                return WINDING_DOWN
            if entry and (written_down(curves, t + delay) or self.held_down()):
                return ENTRIES_WAIT
            return None

        def exit_price(self, shares: int, min_assets: int = 0):
            """(price, reason): `price(t)`, what `shares` redeem for in a block at t, at the
            model's NAV then; and the reason the exit is refused in the next block (a second
            after the head, where Anvil mines it), in the contract's order (None if it goes
            through). A result is checked at its transaction's own second, on any chain."""
            reason = self.refusal(entry=False)
            curves, _, t = self.schedule()
            b = self.books()
            cash, supply = b["free_cash"], b["supply"]

            def price(at: int) -> int:
                return to_assets(shares, cash + pool_value(curves, at), supply)

            assets = price(t + 1)
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

        @initialize(
            assets=st.tuples(st.integers(10**9, 10**12), st.integers(10**9, 10**12)),
            parts=st.tuples(*[st.sampled_from([0, 30, 70, 100])] * len(holders)),
        )
        def first_holdings(self, assets, parts):
            """Both investors buy (the operator's fractions come from the first GPU), then each
            holder may queue a part of its fractions (none, some, most or all, in percent): from
            the first step there are requests to fulfil, cancel and claim, and free cash to pay
            them. Sent as plain transactions (a step on Ganache costs enough already); the
            invariants check the result."""
            if self.refusal(entry=True) is None:
                investors = zip([investor, other_investor], assets, strict=True)
                send_all(chain, [(vault.deposit, (a, who), who) for who, a in investors])
            requests = []
            for who, part in zip(holders, parts, strict=True):
                shares = self.balance_of(who) * part // 100
                if shares >= min_request:
                    requests.append((queue.requestRedeem, (shares, who, who), who))
                    self.queue.request(shares, key_of(who))
            send_all(chain, requests)

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
            reason = self.refusal(entry=True)
            if reason is not None:
                with ape.reverts(reason):
                    vault.mint(shares, who, sender=who)
                return
            at = now(chain) + 1
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
            if key_of(who) in self.idle:
                self.idle[key_of(who)] = 0

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

        # QUEUED REDEMPTIONS #

        def balance_of(self, who) -> int:
            return self.books()["balances"][accounts.index(who)]

        def check_views(self, controllers, entries=()) -> None:
            """After a queue flow, in one read: the list's ends and counters, the totals of
            `controllers` (`controller_state`, and the ERC-7540/7887 views: pending, claimable,
            cancelled; a cancel never pending) and the `entries` it touched (by id: controller,
            shares, `pendingRedeemRequest` and the links to the neighbours while pending, zeros
            after) are the model's."""
            model = self.queue
            ids = [r.id for r in model.queue]
            calls = []
            for request_id in entries:
                r = model.queue[ids.index(request_id)] if request_id in ids else None
                owner = by_key[r.controller] if r is not None else controllers[0]
                calls += [
                    (queue.request, (request_id,)),
                    (queue.pendingRedeemRequest, (request_id, owner)),
                ]
            for c in controllers:
                calls += [
                    (queue.pendingRedeemRequest, (0, c)),
                    (queue.claimableRedeemRequest, (0, c)),
                    (queue.claimableCancelRedeemRequest, (0, c)),
                    (queue.pendingCancelRedeemRequest, (0, c)),
                ]
            for c in controllers:
                calls.append((queue.controller_state, (c,)))
            calls += [
                (queue.open_requests, ()),
                (queue.head, ()),
                (queue.tail, ()),
                (queue.last_id, ()),
            ]
            _, results = read_head(chain, calls)
            *results, open_requests, head, tail, last_id = results
            assert (open_requests, last_id) == (len(ids), model.last_id)
            assert (head, tail) == ((ids[0], ids[-1]) if ids else (0, 0))
            for n, request_id in enumerate(entries):
                (controller, shares, previous, following), by_id = results[2 * n : 2 * n + 2]
                if request_id not in ids:
                    assert (int(controller, 16), shares, previous, following, by_id) == (0,) * 5
                    continue
                i = ids.index(request_id)
                assert (controller.lower(), shares, by_id) == (
                    model.queue[i].controller.lower(),
                    model.queue[i].shares,
                    model.queue[i].shares,
                )
                assert following == (ids[i + 1] if i + 1 < len(ids) else 0)
                # (the head's previous id may name an entry fulfilment removed)
                assert i == 0 or previous == ids[i - 1]
            views = results[2 * len(entries) :]
            states = views[4 * len(controllers) :]
            for n, c in enumerate(controllers):
                key = key_of(c)
                pending, claimable, cancelled, cancel_pending = views[4 * n : 4 * n + 4]
                assert (pending, claimable, cancelled) == (
                    model.pending_of(key),
                    model.claimable_of(key)[0],
                    model.cancelled_of(key),
                )
                assert cancel_pending is False
                assert tuple(states[n]) == model.state_of(key), key

        def request(self, who, controller, shares: int, paused: bool = False) -> None:
            """`who` requests the exit of `shares` of its own fractions for `controller`: refused
            with the model's reason, or queued as the model's next id with its event."""
            owner, key = key_of(who), key_of(controller)
            reason = self.queue.request_refusal(
                shares, owner, key, self.balance_of(who), controller is not attacker, paused
            )
            if reason is not None:
                with ape.reverts(reason):
                    queue.requestRedeem(shares, controller, who, sender=who)
                return
            tx = queue.requestRedeem(shares, controller, who, sender=who)
            request_id = self.queue.request(shares, key)
            (log,) = queue.RedeemRequest.from_receipt(tx)
            assert (log.controller, log.owner, log.requestId, log.sender, log.shares) == (
                key,
                owner,
                request_id,
                owner,
                shares,
            )
            ids = [r.id for r in self.queue.queue]
            self.check_views([controller], ids[-2:])

        @rule(
            who=st.sampled_from(holders),
            controller=controllers,
            size=st.sampled_from(["below minimum", "part", "all", "above balance"]),
            part=st.integers(1, 99),
        )
        def request_redeem(self, who, controller, size, part):
            """The owner's own exit (for itself or another controller), from below the minimum
            to above its balance."""
            balance = self.balance_of(who)
            shares = {
                "below minimum": min_request * part // 100,
                "part": balance * part // 100,
                "all": balance,
                "above balance": balance + part,
            }[size]
            self.request(who, controller or who, shares)

        @rule(who=st.sampled_from(holders))
        def flood(self, who):
            """Requests of the minimum until `who` has as many open as a controller may (in one
            batch); the next is refused."""
            room = MAX_OPEN_PER_CONTROLLER - self.queue.open_of(key_of(who))
            if room * min_request > self.balance_of(who):
                return
            send_all(chain, [(queue.requestRedeem, (min_request, who, who), who)] * room)
            for _ in range(room):
                self.queue.request(min_request, key_of(who))
            self.check_views([who], [r.id for r in self.queue.queue][-room - 1 :])
            self.request(who, who, min_request)

        @rule(index=INDEX, stray=st.integers(0, 7))
        def cancel_request(self, index, stray):
            """The controller cancels a pending request (the head too, after a partial
            fulfilment); one time in eight it names an id that is not its pending request."""
            if not self.queue.queue:
                return
            r = self.queue.queue[index % len(self.queue.queue)]
            controller = by_key[r.controller]
            if stray == 0:
                others = [q.id for q in self.queue.queue if q.controller != r.controller]
                wrong = others[0] if others else self.queue.last_id + 1
                with ape.reverts(NO_PENDING):
                    queue.cancelRedeemRequest(wrong, controller, sender=controller)
                return
            self.cancel(r)

        def cancel(self, r) -> None:
            """The controller cancels pending request `r`: the entry is unlinked (its neighbours
            now point at each other) and its shares become claimable back."""
            controller = by_key[r.controller]
            ids = [q.id for q in self.queue.queue]
            i = ids.index(r.id)
            tx = queue.cancelRedeemRequest(r.id, controller, sender=controller)
            self.queue.cancel(r.id, r.controller)
            self.cancelled_ids[r.controller] = r.id
            (log,) = queue.CancelRedeemRequest.from_receipt(tx)
            assert (log.controller, log.requestId, log.sender) == (r.controller, r.id, r.controller)
            self.check_views([controller], ids[max(i - 1, 0) : i + 2])

        def controller(self, index: int, has) -> object:
            """A holder for which `has(key)` (the model), if any; otherwise any holder."""
            candidates = [h for h in holders if has(key_of(h))] or holders
            return candidates[index % len(candidates)]

        @rule(index=INDEX, receiver=controllers)
        def claim_cancelled(self, index, receiver):
            """A controller takes its cancelled shares back, to itself or another verified
            holder (a stranger is refused; so is a controller with nothing cancelled)."""
            who = self.controller(index, self.queue.cancelled_of)
            receiver = receiver or who
            key = key_of(who)
            shares = self.queue.cancelled_of(key)
            reason = None
            if shares == 0:
                reason = NOTHING_CANCELLED
            elif receiver is attacker:
                reason = RECEIVER_NOT_VERIFIED
            request_id = self.cancelled_ids.get(key, 0)
            if reason is not None:
                with ape.reverts(reason):
                    queue.claimCancelRedeemRequest(request_id, receiver, who, sender=who)
                return
            before = self.balance_of(receiver)
            tx = queue.claimCancelRedeemRequest(request_id, receiver, who, sender=who)
            assert self.queue.claim_cancelled(key) == shares
            (log,) = queue.CancelRedeemClaim.from_receipt(tx)
            assert (log.controller, log.receiver, log.requestId, log.sender, log.shares) == (
                key,
                key_of(receiver),
                request_id,
                key,
                shares,
            )
            assert vault.balanceOf(receiver) == before + shares
            self.check_views([who])

        def fulfil_plan(self, max_requests: int):
            """(plan, t): `plan(at)`, the model's fulfilment in a block at `at`; t, the head's."""
            curves, _, t = self.schedule()
            b = self.books()
            cash, supply = b["free_cash"], b["supply"]

            def plan(at: int) -> list[Fulfilment]:
                nav = cash + pool_value(curves, at)
                dead = DEAD_SHARES if self.winding else None
                return self.queue.plan_fulfil(max_requests, nav, supply, cash, dead)

            return plan, t

        def fulfil_refusal(self, plan, t: int, paused: bool) -> str | None:
            """Why `fulfil` mined a second after the head is refused, in the contract's order."""
            if not self.queue.queue:
                return NO_PENDING
            if not plan(t + 1):
                return NO_CASH_TO_FULFIL
            if paused:
                return PAUSED
            return self.refusal(entry=False)

        @rule(max_requests=st.integers(1, 24))
        def fulfil(self, max_requests):
            """The operator pays requests from the head at the NAV of the fulfilling block: the
            events are the model's to the wei, the settlement their sum."""
            plan, t = self.fulfil_plan(max_requests)
            reason = self.fulfil_refusal(plan, t, paused=False)
            if reason is not None:
                with ape.reverts(reason):
                    queue.fulfil(max_requests, sender=operator)
                return
            tx = queue.fulfil(max_requests, sender=operator)
            expected = plan(tx.timestamp)
            got = [
                Fulfilment(e.controller, e.requestId, e.shares, e.assets, e.remaining)
                for e in queue.RedeemFulfilled.from_receipt(tx)
            ]
            assert got == expected
            (settled,) = vault.Withdraw.from_receipt(tx)
            assert (settled.owner, settled.receiver, settled.shares, settled.assets) == (
                vault.address,
                queue.address,
                sum(f.shares for f in expected),
                sum(f.assets for f in expected),
            )
            self.queue.fulfil(expected)
            touched = {f.controller: by_key[f.controller] for f in expected}
            head = [self.queue.queue[0].id] if self.queue.queue else []
            self.check_views(list(touched.values()), [f.request_id for f in expected] + head)

        def claimed_from_queue(self, tx, who, receiver, shares: int, assets: int, before: int):
            """A claim's event and payment are the model's; the model's books follow it."""
            (log,) = queue.Withdraw.from_receipt(tx)
            assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
                key_of(who),
                key_of(receiver),
                key_of(who),
                assets,
                shares,
            )
            assert token.balanceOf(receiver) == before + assets
            self.queue.claim(key_of(who), shares, assets)
            self.check_views([who])

        @rule(index=INDEX, part=CLAIM_PART, receiver=receivers)
        def claim_redeem(self, index, part, receiver):
            """A controller's `redeem` of part (100: all, maxRedeem) of its claimable shares, to
            itself or another verified holder: assets rounded down, all of them for all the
            shares."""
            who = self.controller(index, lambda key: self.queue.claimable_of(key)[0])
            receiver = receiver or who
            claimable_shares, _ = self.queue.claimable_of(key_of(who))
            if claimable_shares == 0 and part != 1:
                return  # (now and then, a claim of nothing is refused)
            shares = max(1, claimable_shares * part // 100)
            assets, reason = self.queue.redeem_outcome(key_of(who), shares)
            if reason is not None:
                with ape.reverts(reason):
                    queue.redeem(shares, receiver, who, sender=who)
                return
            before = token.balanceOf(receiver)
            tx = queue.redeem(shares, receiver, who, sender=who)
            self.claimed_from_queue(tx, who, receiver, shares, assets, before)

        @rule(index=INDEX, part=CLAIM_PART, receiver=receivers)
        def claim_withdraw(self, index, part, receiver):
            """A controller's `withdraw` of part (100: all, maxWithdraw) of its claimable assets:
            claimable shares taken rounded up, all of them for all the assets."""
            who = self.controller(index, lambda key: self.queue.claimable_of(key)[1])
            receiver = receiver or who
            _, claimable_assets = self.queue.claimable_of(key_of(who))
            if claimable_assets == 0 and part != 1:
                return
            assets = max(1, claimable_assets * part // 100)
            shares, reason = self.queue.withdraw_outcome(key_of(who), assets)
            if reason is not None:
                with ape.reverts(reason):
                    queue.withdraw(assets, receiver, who, sender=who)
                return
            before = token.balanceOf(receiver)
            tx = queue.withdraw(assets, receiver, who, sender=who)
            self.claimed_from_queue(tx, who, receiver, shares, assets, before)

        @rule(call=st.sampled_from(PAUSED_CALLS), who=st.sampled_from(holders), index=INDEX)
        def paused_queue(self, call, who, index):
            """Paused: requests, fulfilment and claims are refused (with the pause's reason once
            their own checks pass), maxRedeem and maxWithdraw read 0; a cancel goes through."""
            vault.pause(sender=pauser)
            _, maxima = read_head(
                chain,
                [(queue.maxRedeem, (h,)) for h in holders]
                + [(queue.maxWithdraw, (h,)) for h in holders],
            )
            assert not any(maxima)
            if call == "request":
                self.request(who, who, self.balance_of(who), paused=True)
            elif call == "fulfil":
                plan, t = self.fulfil_plan(1)
                reason = self.fulfil_refusal(plan, t, paused=True)
                with ape.reverts(reason):
                    queue.fulfil(1, sender=operator)
            elif call in ("redeem", "withdraw"):
                with ape.reverts(PAUSED):
                    getattr(queue, call)(1, who, who, sender=who)
            elif call == "claim_cancelled":
                reason = NOTHING_CANCELLED if self.queue.cancelled_of(key_of(who)) == 0 else PAUSED
                with ape.reverts(reason):
                    queue.claimCancelRedeemRequest(0, who, who, sender=who)
            elif self.queue.queue:
                self.cancel(self.queue.queue[index % len(self.queue.queue)])
            vault.unpause(sender=admin)

        # GPUS #

        def ready_spare(self) -> int | None:
            """A spare GPU freshly attested (the custodian attests a stale one first)."""
            if not self.spares or pending_refusal():
                return None
            token_id = self.spares.pop()
            last = registry.terms(token_id).last_attested_at
            if (last + STALENESS_WINDOW) // DAY * DAY <= now(chain) + 1:
                attest_gpus(attestor, [token_id])
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
            market.offer_gpu(token_id, price, t + DAY, sender=operator)
            if self.winding:
                with ape.reverts("collateral: pool winding down"):
                    market.sell_gpu(token_id, price, sender=operator)
                self.spares.append(token_id)
                return
            tx = market.sell_gpu(token_id, price, sender=operator)
            assert market.GpuPurchased.from_receipt(tx)[0].price == price
            self.held.append(token_id)

        @rule(index=INDEX)
        def attest(self, index):
            token_id = self.pick(index)
            if self.status(token_id) == GpuStatus.RETIRED:
                return
            before, appraisal = collateral.position(token_id), collateral.appraisal(token_id)
            tx = attest_gpus(attestor, [token_id])
            terms[token_id] = registry.terms(token_id)
            self.follow_return(token_id, before, appraisal, tx.timestamp)

        @rule(index=INDEX)
        def impair(self, index):
            token_id = self.pick(index)
            if self.status(token_id) in (GpuStatus.IMPAIRED, GpuStatus.RETIRED):
                return
            counted = collateral.position(token_id)[0] == COUNTED
            registry.set_status(token_id, GpuStatus.IMPAIRED, sender=appraiser)
            assert collateral.value_of(token_id) == 0
            # Out of the count, it may come back: held (one out already is held since).
            if counted:
                self.held_impaired.add(token_id)

        @rule(index=INDEX)
        def restore(self, index):
            token_id = self.pick(index)
            if self.status(token_id) != GpuStatus.IMPAIRED:
                return
            before, appraisal = collateral.position(token_id), collateral.appraisal(token_id)
            tx = registry.set_status(token_id, GpuStatus.ACTIVE, sender=appraiser)
            # Up gradually: nothing comes back in the block of the restore.
            assert collateral.value_of(token_id) == 0
            self.follow_return(token_id, before, appraisal, tx.timestamp)

        @rule(index=INDEX)
        def retire(self, index):
            token_id = self.pick(index)
            if self.status(token_id) in (GpuStatus.LEASED, GpuStatus.RETIRED):
                return
            registry.set_status(token_id, GpuStatus.RETIRED, sender=custodian)
            assert collateral.value_of(token_id) == 0
            # Nothing of it comes back: no hold.
            self.held_below.discard(token_id)
            self.held_impaired.discard(token_id)

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
            token_id = self.pick(index)
            before, appraisal = collateral.position(token_id), collateral.appraisal(token_id)
            try:
                tx = collateral.sync(token_id, sender=attacker)
            except ContractLogicError as error:
                assert error.revert_message in SYNC_REASONS, error.revert_message
                return
            self.follow_return(token_id, before, appraisal, tx.timestamp)

        # APPRAISALS, DEFAULT, SALE, WIND-DOWN #

        def position_of(self, token_id: int) -> tuple:
            return self.books()["positions"][self.held.index(token_id)]

        def value_then(self, token_id: int):
            """The GPU's value as a function of time, as it stands now (the model, from its
            position and appraisal): what a change in a later block is compared with, at that
            block's second (a GPU on its return ramp is worth more a second later)."""
            curve = curve_from(
                terms[token_id], collateral.position(token_id), collateral.appraisal(token_id)
            )
            return lambda at: 0 if curve is None else value_of(curve, at)

        @rule(index=INDEX, part=st.integers(0, 90))
        def mark_down(self, index, part):
            """The appraiser marks a held GPU down to `part` percent of where it stands (at most
            90: where it stands falls a little by the block), never above the registry's book
            value (0 once retired): at once, never above where it stood (the model follows the
            mark through `appraisal`)."""
            token_id = self.pick(index)
            counted = self.position_of(token_id)[0] == 1
            reason = self.refusal(entry=False) if counted else None
            before = self.value_then(token_id)
            target = min(collateral.book_of(token_id) * part // 100, registry.book_value(token_id))
            if reason is not None:
                with ape.reverts(reason):
                    appraisals.mark(token_id, target, MARK_REASON, sender=appraiser)
                return
            tx = appraisals.mark(token_id, target, MARK_REASON, sender=appraiser)
            [marked] = appraisals.GpuMarked.from_receipt(tx)
            assert (marked.book_value, marked.rising) == (target, False)
            assert collateral.value_of(token_id) <= before(tx.timestamp)
            self.hold_mark(token_id, target, tx.timestamp)

        @rule(index=INDEX, part=MARK_UP_PARTS)
        def mark_up(self, index, part):
            """The appraiser marks a counted GPU up by `part` percent of the step (or the whole
            step, to the line if within reach: TO_THE_LINE): refused once its marks are settled,
            and while it is stale or returning; otherwise it returns over the unlock period from
            where it stands (entries wait meanwhile, and after it while the mark is below the
            line: it holds them)."""
            token_id = self.pick(index)
            state, _, ramp_end, stale_at = self.position_of(token_id)
            if state != 1:
                return
            t = now(chain) + 1
            book = registry.book_value(token_id)
            step = book * collateral.MAX_MARK_STEP_BPS() // 10_000
            if part == TO_THE_LINE and deterministic:
                position, appraisal = self.position_of(token_id), collateral.appraisal(token_id)
                stands = curve_from(terms[token_id], position, appraisal).book(t)
                target = next_step(Terms.read(registry.terms(token_id)), stands, t)
            else:
                # The registry's book value falls by the block: a ten-thousandth below it holds.
                part = min(part, 80)
                target = min(
                    collateral.book_of(token_id) + step * part // 100, book - book // 10_000
                )
            if target <= collateral.book_of(token_id):
                return
            reason = None
            if token_id in self.settled:
                reason = SETTLED_UP
            elif stale_at <= t:
                reason = "appraisals: gpu stale; the custodian attests first"
            elif ramp_end > t:
                reason = "appraisals: gpu returning; mark up after its ramp"
            else:
                reason = self.refusal(entry=False)
            if reason is not None:
                with ape.reverts(reason):
                    appraisals.mark(token_id, target, MARK_REASON, sender=appraiser)
                return
            before = self.value_then(token_id)
            tx = appraisals.mark(token_id, target, MARK_REASON, sender=appraiser)
            [marked] = appraisals.GpuMarked.from_receipt(tx)
            assert (marked.book_value, marked.rising) == (target, True)
            # Up gradually: nothing comes back in the block of the mark.
            assert collateral.value_of(token_id) <= before(tx.timestamp)
            assert collateral.position(token_id)[2] > tx.timestamp
            self.hold_mark(token_id, target, tx.timestamp)

        @rule(index=INDEX)
        def default_and_close(self, index):
            """A short lease over a held GPU (counted, fresh, in no lease) goes a day and a second
            past due unpaid; anyone declares the default (the GPU marked down to its salvage value
            at once) and the operator closes the lease (the GPU ACTIVE again, free to sell)."""
            t = now(chain)
            free = [
                i
                for i in self.held
                if self.position_of(i)[0] == 1
                and self.position_of(i)[3] > t + 60
                and leases.lease_of_gpu(i) == 0
                and self.status(i) == GpuStatus.ACTIVE
            ]
            if not free:
                return
            token_id = free[index % len(free)]
            if self.winding:
                with ape.reverts("lease: pool winding down"):
                    leases.open_lease(lessee, INSTALMENT, HOUR, 1, 0, [token_id], sender=operator)
                return
            tx = leases.open_lease(lessee, INSTALMENT, HOUR, 1, 0, [token_id], sender=operator)
            lease_id = leases.LeaseOpened.from_receipt(tx)[0].lease_id
            chain.mine(timestamp=tx.timestamp + HOUR + DAY + 1)
            if self.refusal(entry=False) is not None:
                collateral.process_maturities(VIEW_STEPS, sender=attacker)
            before = self.value_then(token_id)
            tx = leases.declare_default(lease_id, sender=attacker)
            [defaulted] = leases.LeaseDefaulted.from_receipt(tx)
            assert (defaulted.instalments, defaulted.arrears_amount) == (1, INSTALMENT)
            assert collateral.appraisal(token_id)[2]
            assert collateral.value_of(token_id) <= before(tx.timestamp)
            [marked] = appraisals.GpuMarked.from_receipt(tx)
            self.hold_mark(token_id, marked.book_value, tx.timestamp)
            leases.close_lease(lease_id, sender=operator)
            assert self.status(token_id) == GpuStatus.ACTIVE
            assert leases.lease_of_gpu(token_id) == 0

        @rule(index=INDEX, premium=st.sampled_from([0, 0, 1, 10**9]))
        def sell_gpu(self, index, premium):
            """The operator lists a held GPU in no lease at its floor plus `premium`; a buyer
            takes it in the next block. Its collateral value leaves NAV and as much of the price
            enters free cash (all of it in wind-down); the premium is streamed to holders (with
            any donation waiting to be skimmed). A GPU on its return ramp (its floor rising) or
            worth nothing (no floor: no recovery value is set here) is not listed, nor the last
            GPU held."""
            t = now(chain)
            sellable = [
                i
                for i, (_, _, ramp_end, stale_at) in zip(
                    self.held, self.books()["positions"], strict=True
                )
                if self.status(i) != GpuStatus.LEASED
                and ramp_end <= t
                and stale_at > t + 60
                and collateral.value_of(i) != 0
            ]
            if len(self.held) < 2 or not sellable:
                return
            token_id = sellable[index % len(sellable)]
            price = market.floor(token_id) + premium
            market.list_gpu(token_id, price, t + DAY, sender=operator)
            afford(attacker, price)
            token.approve(vault, price, sender=attacker)
            reason = self.refusal(entry=False)
            if reason is not None:
                with ape.reverts(reason):
                    market.buy_gpu(token_id, price, sender=attacker)
                return
            cash = vault.free_cash()
            curve = curve_from(
                terms[token_id], self.position_of(token_id), collateral.appraisal(token_id)
            )
            tx = market.buy_gpu(token_id, price, sender=attacker)
            value = value_of(curve, tx.timestamp)
            to_cash = price if self.winding else min(price, value)
            [released] = collateral.GpuReleased.from_receipt(tx)
            assert (released.price, released.value, released.to_cash) == (price, value, to_cash)
            assert vault.free_cash() == cash + to_cash
            streamed = [log.donation for log in vault.Skimmed.from_receipt(tx)]
            if to_cash < price:
                assert streamed == [price - to_cash + self.donations]
                self.donations = 0
            else:
                assert streamed == []
            assert registry.ownerOf(token_id) == attacker
            self.held.remove(token_id)
            # Gone: it holds nothing.
            self.held_below.discard(token_id)
            self.held_impaired.discard(token_id)

        @rule(index=INDEX)
        def settle(self, index):
            """The appraiser settles a held GPU's write-down where it stands: re-marked there
            (MarkSettled carries it, to the wei of the model; a return ramp is cut), its mark's
            hold goes and no mark goes up any more. A counted GPU's revaluation needs the
            schedule current (more than 16 due: refused)."""
            token_id = self.pick(index)
            counted = self.position_of(token_id)[0] == COUNTED
            reason = self.refusal(entry=False) if counted else None
            if reason is not None:
                with ape.reverts(reason):
                    appraisals.settle(token_id, MARK_REASON, sender=appraiser)
                return
            position, appraisal = collateral.position(token_id), collateral.appraisal(token_id)
            if counted:
                curve = curve_from(terms[token_id], position, appraisal)
            else:
                value, marked_at, _, _ = appraisal
                mark = Mark(value, marked_at) if marked_at else None
                curve = Curve.of(Terms.read(terms[token_id]), 0, 0, mark=mark)
            tx = appraisals.settle(token_id, MARK_REASON, sender=appraiser)
            [settled] = appraisals.MarkSettled.from_receipt(tx)
            assert settled.book_value == curve.book(tx.timestamp)
            assert appraisals.settled(token_id)
            if counted:
                assert collateral.position(token_id)[1:3] == (tx.timestamp, 0)
            self.settled.add(token_id)
            self.held_below.discard(token_id)

        @rule()
        def wind_down(self):
            """The admin winds the pool down, once: entries, purchases with cash and new leases
            are refused from then on, and the queue prices pro rata without the dead shares."""
            if self.winding:
                with ape.reverts("collateral: already winding down"):
                    collateral.wind_down(sender=admin)
                return
            collateral.wind_down(sender=admin)
            self.winding = True
            assert not collateral.entries_open()

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
                "balances": [(vault.balanceOf, (a,)) for a in [*accounts, attacker, queue]],
                "claimable": [(vault.claimable, (a,)) for a in accounts],
                "positions": [(collateral.position, (i,)) for i in self.held],
                "appraisals": [(collateral.appraisal, (i,)) for i in self.held],
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
                    (collateral.value, ()),
                    (collateral.schedule_state, ()),
                    (collateral.written_down, ()),
                    (collateral.held_down, ()),
                    (collateral.entries_open, ()),
                    (collateral.pending, ()),
                    (vault.maxDeposit, (investor,)),
                    (vault.maxMint, (investor,)),
                ],
                "queue_scalars": [
                    (queue.pending_shares, ()),
                    (queue.cancelled_shares, ()),
                    (queue.reserved, ()),
                    (token.balanceOf, (queue,)),
                    (queue.requests, (0, PAGE)),
                ],
                "max_redeem": [(queue.maxRedeem, (h,)) for h in holders],
                "max_withdraw": [(queue.maxWithdraw, (h,)) for h in holders],
            }
            flat = [call for group in calls.values() for call in group]
            t, results = read_head(chain, flat)
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
                books["value"],
                books["schedule_state"],
                books["written_down"],
                books["held_down"],
                books["entries_open"],
                books["pending"],
                books["max_deposit"],
                books["max_mint"],
            ) = books.pop("scalars")
            (
                books["pending_shares"],
                books["cancelled_shares"],
                books["reserved"],
                books["queue_balance"],
                books["requests"],
            ) = books.pop("queue_scalars")
            books["counted"] = books["schedule_state"][1]
            return books

        @invariant()
        def supply_is_sum_of_balances(self):
            """Invariant 1, the vault's own balance included: the dead shares and the escrow
            (invariant 10: pending requests and cancelled shares not yet claimed back). The
            queue holds no fractions."""
            b = self.books()
            *own, vault_own, stranger, queue_own = b["balances"]
            assert sum(own) + vault_own == b["supply"]
            assert vault_own == DEAD_SHARES + b["pending_shares"] + b["cancelled_shares"]
            assert stranger == queue_own == 0

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
        def escrow_earns_nothing(self):
            """A holder with no fractions of its own (all of them in escrow, or none) earns no
            revenue: its claimable stays as it was, whatever time passed, until it claims."""
            b = self.books()
            n = len(holders)
            mine = zip(holders, b["balances"][:n], b["claimable"][:n], strict=True)
            for holder, balance, claimable in mine:
                key = key_of(holder)
                if balance != 0:
                    self.idle.pop(key, None)
                    continue
                if key in self.idle:
                    assert claimable == self.idle[key], f"{key} earned with no fractions"
                self.idle[key] = claimable

        @invariant()
        def cash_matches_books(self):
            """Invariant 4: the vault's stablecoin is its books plus unskimmed donations; the
            queue's is its reserve, the sum of what its controllers can claim."""
            b = self.books()
            assert b["balance"] == b["free_cash"] + b["held"] + b["fees"] + self.donations
            assert b["queue_balance"] == b["reserved"] == self.queue.reserved

        @invariant()
        def queue_is_the_model(self):
            """Invariant 10: the pending requests (in order, with their controllers and shares)
            and the totals (pending, cancelled) are the model's, and maxRedeem/maxWithdraw are
            exactly what each controller can claim (claimable shares and assets zero together).
            What only a queue flow changes (each controller's totals, the ERC-7540 views, the
            ends and links of the list) is checked by the rule of that flow (`check_views`)."""
            b = self.books()
            model = self.queue
            assert b["pending_shares"] == model.pending_shares
            assert b["pending_shares"] == sum(shares for _, _, shares in b["requests"])
            assert b["cancelled_shares"] == model.cancelled_shares
            assert len(b["requests"]) < PAGE
            assert [tuple(e) for e in b["requests"]] == [
                (r.id, int(r.controller, 16), r.shares) for r in model.queue
            ]
            for i, holder in enumerate(holders):
                claimable_shares, claimable_assets = model.claimable_of(key_of(holder))
                assert (claimable_shares == 0) == (claimable_assets == 0)
                assert b["max_redeem"][i] == claimable_shares
                assert b["max_withdraw"][i] == claimable_assets

        @invariant()
        def nav_is_cash_plus_collateral(self):
            b = self.books()
            value = b["value"]
            assert b["nav"] == b["free_cash"] + value
            curves = []
            for token_id, position, appraisal, single in zip(
                self.held, b["positions"], b["appraisals"], b["value_of"], strict=True
            ):
                curve = curve_from(terms[token_id], position, appraisal)
                assert single == (0 if curve is None else value_of(curve, b["t"]))
                if curve is not None:
                    curves.append(curve)
            assert b["counted"] == len(curves)
            assert value == pool_value(curves, b["t"])
            per_gpu = sum(b["value_of"])
            assert max(per_gpu - b["counted"], 0) <= value <= per_gpu

        @invariant()
        def schedule_is_the_model(self):
            """The next node, the GPUs written down at the cursor and now, the nodes due, the
            holds and the entry gate, from the curves counted and the holds' model."""
            b = self.books()
            t, state = b["t"], b["schedule_state"]
            curves = self.counted(b["positions"], b["appraisals"])
            at = cursor(state, t)
            ahead = nodes_between(curves, at, FAR)
            assert state[0] == (ahead[0][0] if ahead else 0)
            assert state[2] == written_down(curves, at)
            assert b["written_down"] == written_down(curves, t)
            due = len(nodes_between(curves, at, t))
            assert b["pending"] == min(due, MATURE_STEPS + 1)
            assert b["held_down"] == self.held_down()
            is_open = (
                due <= MATURE_STEPS
                and b["written_down"] == 0
                and b["held_down"] == 0
                and not self.winding
            )
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
