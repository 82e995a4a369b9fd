"""The vault's revenue accumulator (contracts/revenue.vy) replayed from events, to the wei.

The contract streams each net payment on one line (a rate per second until an end) and, as it
vests, adds it to a per-share accumulator `acc` (wei scaled by ACC_SCALE per fraction unit) with
the division's remainder `rem` carried forward; each account is checkpointed before its balance
changes (`owed += balance * (acc - checkpoint)`, in units of 2**-28 wei) and a claim takes the
whole wei. The accumulator is *written* only when the supply or the rate changes (a mint or a
burn: the vault's Transfer from or to the zero address; a payment: RevenueDistributed or
Skimmed); a transfer or a claim checkpoints against the value computed in memory for its block
(`acc_now`). Replaying exactly those writes in chain order, with each block's time, gives every
account's owed amount to the 2**-28 wei, so `claimable(account, t)` here equals the vault's
`claimable(account)` at a block of time `t`. Each payment's rate and end are recomputed the
contract's way and checked against the event's (`mismatches` says where they differ).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from gpu_rwa.types import ZERO_ADDRESS

ACC_SCALE = 10**36
FRACTION_BITS = 28
ACC_PER_FRACTION = ACC_SCALE >> FRACTION_BITS
MASK_128 = 2**128 - 1


@dataclass
class Account:
    """revenue.vy's account slot: the accumulator at the last checkpoint, and what is owed (units
    of 2**-28 wei)."""

    checkpoint: int = 0
    owed: int = 0

    def owed_at(self, balance: int, acc: int) -> int:
        if balance == 0:
            return self.owed
        return self.owed + balance * (acc - self.checkpoint) // ACC_PER_FRACTION


@dataclass
class Accrual:
    """The accumulator and the stream (`revenue_state`), every account (`account_state`), the
    balances and the supply, as the vault's events replay them."""

    vault: str
    vesting_period: int
    acc: int = 1
    rem: int = 0
    rate: int = 0
    last: int = 0
    end: int = 0
    undistributed: int = 0
    supply: int = 0
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    accounts: dict[str, Account] = field(default_factory=lambda: defaultdict(Account))
    # Net revenue streamed (RevenueDistributed net of fee, Skimmed) and claimed, in wei.
    received: int = 0
    claimed: int = 0
    # Where a recomputed figure disagreed with the event's: "block 120: rate 5 != 4".
    mismatches: list[str] = field(default_factory=list)

    # THE CONTRACT'S STEPS #

    def acc_now(self, t: int) -> int:
        """`_acc_now`: the accumulator as a write at `t` would leave it, without writing."""
        now = min(t, self.end)
        if now <= self.last or self.supply == 0:
            return self.acc
        acc = self.acc + (self.rate * (now - self.last) + self.rem) // self.supply
        return self.acc if acc > MASK_128 else acc

    def sync(self, t: int) -> None:
        """`_sync`: write the accumulator forward to `t`."""
        now = min(t, self.end)
        if now <= self.last:
            return
        vested = self.rate * (now - self.last) + self.rem
        self.last = now
        if self.supply:
            acc = self.acc + vested // self.supply
            if acc <= MASK_128:
                self.acc, self.rem = acc, vested % self.supply
                return
        self.undistributed += vested
        self.rem = 0

    def checkpoint(self, account: str, acc: int) -> None:
        slot = self.accounts[account]
        slot.owed = slot.owed_at(self.balances[account], acc)
        slot.checkpoint = acc

    def take_owed(self, account: str, acc: int) -> int:
        """`_take_owed`: checkpoint at `acc` and take the whole wei (the sub-wei rest stays)."""
        self.checkpoint(account, acc)
        slot = self.accounts[account]
        amount = slot.owed >> FRACTION_BITS
        slot.owed -= amount << FRACTION_BITS
        return amount

    def distribute(self, amount: int, t: int, where: str, logged: tuple[int, int, int]) -> None:
        """`_distribute` of `amount` net wei at `t`; `logged` is the event's (recycled, rate,
        end), compared with the recomputed ones."""
        self.sync(t)
        recycled = 0
        if self.balances[self.vault]:
            recycled = self.take_owed(self.vault, self.acc)
        rate = self.rate if self.end > t else 0
        total = rate * max(self.end - t, 0) + (amount + recycled) * ACC_SCALE + self.undistributed
        duration = self.vesting_period
        new_rate = total // duration
        if new_rate < rate:
            duration = total // rate
            new_rate = total // duration
        self.undistributed = total - new_rate * duration
        self.rate, self.last, self.end = new_rate, t, t + duration
        self.received += amount
        if (recycled, new_rate, t + duration) != logged:
            self.mismatches.append(
                f"{where}: recycled, rate, end {(recycled, new_rate, t + duration)} recomputed, "
                f"{logged} logged"
            )

    # THE EVENTS #

    def transfer(self, sender: str, receiver: str, value: int, t: int) -> None:
        """The vault's Transfer: a mint or burn writes the accumulator first (the supply changes),
        a move checkpoints both sides at `acc_now`."""
        if sender == ZERO_ADDRESS or receiver == ZERO_ADDRESS:
            self.sync(t)
            acc = self.acc
        else:
            acc = self.acc_now(t)
        for account in (sender, receiver):
            if account != ZERO_ADDRESS:
                self.checkpoint(account, acc)
        if sender == ZERO_ADDRESS:
            self.supply += value
        else:
            self.balances[sender] -= value
        if receiver == ZERO_ADDRESS:
            self.supply -= value
        else:
            self.balances[receiver] += value

    def claim(self, account: str, amount: int, t: int, where: str) -> None:
        taken = self.take_owed(account, self.acc_now(t))
        self.claimed += amount
        if taken != amount:
            self.mismatches.append(f"{where}: claim of {amount} by {account}, {taken} recomputed")

    def recover(self, lost: str, new: str) -> None:
        """`_move_owed`: a recovered wallet's owed amount (sub-wei rest included) follows it; both
        were checkpointed by the forced transfer just before."""
        source, target = self.accounts[lost], self.accounts[new]
        target.owed += source.owed
        source.owed = 0

    def apply(self, name: str, args: dict, t: int, where: str) -> None:
        """One decoded event of the vault (or the PoolCompliance's WalletRecovered) at time `t`."""
        if name == "Transfer":
            self.transfer(args["sender"], args["receiver"], args["value"], t)
        elif name == "RevenueDistributed":
            logged = (args["recycled"], args["rate"], args["vesting_end"])
            self.distribute(args["amount"] - args["fee"], t, where, logged)
        elif name == "Skimmed":
            logged = (args["recycled"], args["rate"], args["vesting_end"])
            self.distribute(args["donation"], t, where, logged)
        elif name == "RevenueClaimed":
            self.claim(args["account"], args["amount"], t, where)
        elif name == "WalletRecovered":
            self.recover(args["lost"], args["new"])

    # VIEWS #

    def owed(self, account: str, t: int) -> int:
        """What `account` is owed at `t`, in units of 2**-28 wei (claimed revenue excluded)."""
        if account not in self.accounts:
            return 0
        return self.accounts[account].owed_at(self.balances[account], self.acc_now(t))

    def claimable(self, account: str, t: int) -> int:
        """`claimable(account)` at a block of time `t` (whole wei)."""
        return self.owed(account, t) >> FRACTION_BITS

    def unvested(self, t: int) -> int:
        """`unvested()` at `t` (wei, floor): the stream's rest, what is parked, and what vested
        since the last write that a write would park."""
        scaled = self.undistributed + self.rate * max(self.end - t, 0)
        now = min(t, self.end)
        if now > self.last:
            vested = self.rate * (now - self.last) + self.rem
            if self.supply == 0 or self.acc + vested // self.supply > MASK_128:
                scaled += vested
        return scaled // ACC_SCALE
