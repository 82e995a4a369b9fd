"""CollateralVault mirrors for tests: roles, constants, reference conversions and reusable checks.

The reference functions restate the contract's rules in Python (rounding included) so tests compare
the contract against an independent model.
"""

from __future__ import annotations

import functools

import ape
from eth_utils import keccak

DAY = 86_400
YEAR = 365 * DAY
BPS = 10_000
MAX_FEE_BPS = 2_000
DECIMALS_OFFSET = 6
VIRTUAL_SHARES = 10**DECIMALS_OFFSET
ACC_SCALE = 10**36
PRECISION = 10**18

# Vault defaults used by the fixtures.
ADVANCE_RATE_BPS = 8_000
FEE_BPS = 1_000
VESTING_PERIOD = 30 * DAY
STALENESS_WINDOW = 30 * DAY
UNLOCK_PERIOD = 7 * DAY
# LeaseManager: seconds past due before a lease may be declared in default.
DEFAULT_AFTER = 60 * DAY
JURISDICTION = 276  # Germany, ISO 3166-1 numeric


def role(name: str) -> bytes:
    return keccak(text=name)


OPERATOR_ROLE = role("OPERATOR_ROLE")
PAUSER_ROLE = role("PAUSER_ROLE")
LEASE_MANAGER_ROLE = role("LEASE_MANAGER_ROLE")
COMPLIANCE_ROLE = role("COMPLIANCE_ROLE")
REDEMPTION_QUEUE_ROLE = role("REDEMPTION_QUEUE_ROLE")
FULFILLER_ROLE = role("FULFILLER_ROLE")
APPRAISALS_ROLE = role("APPRAISALS_ROLE")
MOVER_ROLE = role("MOVER_ROLE")
ENFORCER_ROLE = role("ENFORCER_ROLE")
# The RedemptionQueue's smallest request in the test pools: ten whole fractions of a 6-decimal pool.
MIN_REQUEST = 10 * 10**12
DEFAULT_ADMIN_ROLE = b"\x00" * 32

MISSING_ROLE = "access_control: account is missing role"
PAUSED = "pausable: contract is paused"
RECEIVER_NOT_VERIFIED = "identity: receiver not verified"
SENDER_NOT_VERIFIED = "identity: sender not verified"
OWNER_NOT_VERIFIED = "identity: owner not verified"


def mul_div(x: int, y: int, d: int, roundup: bool) -> int:
    q, r = divmod(x * y, d)
    return q + 1 if roundup and r else q


def to_shares(assets: int, total_assets: int, supply: int, roundup: bool = False) -> int:
    return mul_div(assets, supply + VIRTUAL_SHARES, total_assets + 1, roundup)


def to_assets(shares: int, total_assets: int, supply: int, roundup: bool = False) -> int:
    return mul_div(shares, total_assets + 1, supply + VIRTUAL_SHARES, roundup)


def fund(token, account, amount: int) -> None:
    """Faucet `amount` of `token` to `account` (several calls past the per-call cap)."""
    cap = token.faucet_cap() if hasattr(token, "faucet_cap") else token.FAUCET_CAP()
    while amount > 0:
        step = min(cap, amount)
        token.faucet(step, sender=account)
        amount -= step


def buy(vault, token, account, assets: int, receiver=None):
    """Fund, approve and deposit `assets`; returns the receipt."""
    fund(token, account, assets)
    token.approve(vault, assets, sender=account)
    return vault.deposit(assets, receiver or account, sender=account)


def contribute(collateral, registry, operator, token_id: int, receiver=None, min_shares: int = 0):
    """Approve the collateral on the registry and contribute `token_id` from the operator."""
    registry.approve(collateral, token_id, sender=operator)
    return collateral.contribute(token_id, receiver or operator, min_shares, sender=operator)


def smallest_flows_refused(vault, account, reason: str, exits: bool = True) -> None:
    """A deposit and a mint of 1 by `account` to itself (and, with `exits`, a withdraw and a
    redeem of 1 from itself) each revert with `reason`."""
    with ape.reverts(reason):
        vault.deposit(1, account, sender=account)
    with ape.reverts(reason):
        vault.mint(1, account, sender=account)
    if exits:
        with ape.reverts(reason):
            vault.withdraw(1, account, account, sender=account)
        with ape.reverts(reason):
            vault.redeem(1, account, account, sender=account)


def accounted_cash(vault) -> int:
    """What the books say the vault holds: free cash + revenue held + accrued fees."""
    return vault.free_cash() + vault.held() + vault.accrued_fees()


def check_conservation(vault, holders, claimed: int) -> int:
    """Invariant 3: received = claimed + claimable + unvested + dust, 0 <= dust <= holders + 2.

    Fees are accounted apart (`accrued_fees`). Returns the dust in wei.
    """
    received = vault.received()
    claimable = sum(vault.claimable(h) for h in holders)
    unvested = vault.unvested()
    assert vault.held() == received - claimed
    dust = received - claimed - claimable - unvested
    assert 0 <= dust <= len(holders) + 2, f"dust {dust} out of bounds"
    return dust


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# The EIP-712 domain type of every signature the suite checks (name, version, chain, contract),
# as eth_account's typed-data encoder takes it.
EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def permit_signature(token, owner, spender, value: int, deadline: int, version: str = "2"):
    """An EIP-2612 permit signed by `owner` (an ape test account): returns (v, r, s)."""
    from eth_abi import encode
    from eth_utils import to_checksum_address

    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text=token.name()),
                keccak(text=version),
                ape.chain.chain_id,
                to_checksum_address(token.address),
            ],
        )
    )
    permit_type = keccak(
        text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    )
    spender_address = spender.address if hasattr(spender, "address") else spender
    struct = keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
            [permit_type, owner.address, spender_address, value, token.nonces(owner), deadline],
        )
    )
    digest = keccak(b"\x19\x01" + domain + struct)
    sig = owner.sign_raw_msghash(digest)
    # r and s come as big-endian bytes with leading zeros stripped: left-pad them to 32 bytes
    # (ape would right-pad a short bytes32, a 1-in-256 invalid signature).
    v, r, s = sig.v, int.from_bytes(sig.r, "big").to_bytes(32, "big"), int.from_bytes(sig.s, "big")
    # snekmate's ecdsa rejects the high-s twin of a signature (EIP-2 malleability): use low s.
    if s > SECP256K1_N // 2:
        s, v = SECP256K1_N - s, 55 - v
    return v, r, s.to_bytes(32, "big")


def claimed_in(tx, vault) -> int:
    """Revenue paid by a claim, from its RevenueClaimed event (no traces needed, so Ganache too)."""
    return sum(log.amount for log in logs_of(tx, vault, "RevenueClaimed"))


def logs_of(tx, contract, event: str) -> list:
    """Logs of `event` emitted by `contract` itself (the stablecoin and the ERC-721 registry share
    the Transfer/Approval signatures, so decode only this contract's logs)."""
    return list(getattr(contract, event).from_receipt(tx))


# ISSUE 6 ADDITIONS: caps, dead shares, exact max* references, the revenue stream, the collateral
# value. Everything below restates the contracts' rules in Python; nothing above was changed.

# CollateralVault's caps and the schedule steps a flow matures itself.
MAX_CASH = 2**127 - 1
SUPPLY_CAP = 2**127
MATURE_STEPS = 16
MATURITIES_PENDING = "collateral: maturities pending; call process_maturities"
# Entries (deposit, mint, buy, contribute) wait while a counted GPU is stale or returning.
ENTRIES_WAIT = "collateral: entries wait: gpus stale, returning or held down"
FIRST_MINT_BELOW_DEAD = "vault: first mint below dead shares"
FEE_ON_TRANSFER = "vault: asset arrived short (fee on transfer)"
MASK_128 = 2**128 - 1
FRACTION_BITS = 28
ACC_PER_FRACTION = ACC_SCALE // 2**FRACTION_BITS


def dead_shares(asset_decimals: int) -> int:
    """DEAD_SHARES: one whole fraction (the fraction has DECIMALS_OFFSET more decimals)."""
    return 10 ** (asset_decimals + DECIMALS_OFFSET)


def first_deposit_shares(assets: int, dead: int, total_assets: int = 0) -> int:
    """What the receiver of the first deposit gets: the fractions `assets` buys at NAV, less the
    dead shares locked with the vault (the first buyer pays for them)."""
    return to_shares(assets, total_assets, 0) - dead


def first_mint_assets(shares: int, dead: int, total_assets: int = 0) -> int:
    """What `mint(shares)` costs on an empty vault: `shares` plus the dead shares, rounded up."""
    return to_assets(shares + dead, total_assets, 0, roundup=True)


def largest(accepts, high: int) -> int:
    """The largest n in [0, high] with `accepts(n)` (a predicate true up to a point, then false
    for good); 0 when only 0 (or nothing) is accepted. Binary search: the reference for max*
    is "the largest amount the call accepts", found by trying, not by the contract's closed form."""
    low = 0
    if accepts(high):
        return high
    # Invariant: accepts(low) or low == 0; not accepts(high).
    while high - low > 1:
        middle = (low + high) // 2
        if accepts(middle):
            low = middle
        else:
            high = middle
    return low


def max_deposit(total_assets: int, supply: int, cash: int, dead: int = 0) -> int:
    """The largest `deposit` the vault accepts: cash stays at or below MAX_CASH, the supply (dead
    shares included on a first deposit) below SUPPLY_CAP, and it mints something (more than the
    dead shares on a first deposit); 0 when no amount within the caps mints anything (as for
    maxRedeem's dust). Pause, identity and pending maturities are the caller's to check."""

    def within_caps(assets: int) -> bool:
        return (
            cash + assets <= MAX_CASH
            and supply + to_shares(assets, total_assets, supply) < SUPPLY_CAP
        )

    assets = largest(within_caps, MAX_CASH)
    # Fewer assets mint fewer shares: if the largest mints nothing, every smaller one is refused.
    minted = to_shares(assets, total_assets, supply)
    return assets if minted > (dead if supply == 0 else 0) else 0


def max_mint(total_assets: int, supply: int, cash: int, dead: int) -> int:
    """The largest `mint` the caps accept: the price of the fractions (plus the dead shares on a
    first mint) keeps cash at or below MAX_CASH, and the supply stays below SUPPLY_CAP."""
    due = dead if supply == 0 else 0

    def accepts(shares: int) -> bool:
        assets = to_assets(shares + due, total_assets, supply, roundup=True)
        return cash + assets <= MAX_CASH and supply + due + shares < SUPPLY_CAP

    return largest(accepts, SUPPLY_CAP)


def max_withdraw(balance: int, total_assets: int, supply: int, cash: int) -> int:
    """The largest `withdraw` of `balance` the vault pays: within free cash, burning at most the
    balance (shares rounded up)."""

    def accepts(assets: int) -> bool:
        return assets <= cash and to_shares(assets, total_assets, supply, roundup=True) <= balance

    return largest(accepts, cash)


def max_redeem(balance: int, total_assets: int, supply: int, cash: int) -> int:
    """The largest `redeem` out of `balance` that pays something and at most free cash; 0 when
    every accepted amount would pay nothing (dust)."""

    def accepts(shares: int) -> bool:
        return shares <= balance and to_assets(shares, total_assets, supply) <= cash

    shares = largest(accepts, balance)
    return shares if to_assets(shares, total_assets, supply) != 0 else 0


def collateral_value_at(collateral, timestamp: int) -> int:
    """GpuCollateral's `value()` at `timestamp` from its schedule sums, when no node is due by
    then: floor((a - b t) * rate / (10_000 * 1e18)), clamped at 0, less one wei per counted GPU."""
    head, counted, _ = collateral.schedule_state()
    assert head == 0 or head > timestamp, "a node is due: this reference needs none"
    if counted == 0:
        return 0
    scaled = collateral.intercept_sum() - collateral.slope_sum() * timestamp
    value = scaled * collateral.ADVANCE_RATE_BPS() // (BPS * PRECISION) if scaled > 0 else 0
    return value - counted if value > counted else 0


def key_of(account) -> str:
    """An account or contract as the dictionary key of the models below."""
    return str(account.address if hasattr(account, "address") else account)


class RevenueModel:
    """The `revenue` module in Python, to the wei: the stream (rate, last update, end), the
    accumulator and its remainder, what is parked, and each account's checkpoint and what it is
    owed (units of 2**-28 wei). Read it from a vault (`RevenueModel.read`), apply what a
    transaction does to it with the balances and supply before it, compare (`assert_matches`)."""

    def __init__(
        self, vesting_period: int, state: tuple, undistributed: int, received: int, held: int
    ):
        self.vesting_period = vesting_period
        self.acc, self.rem, self.rate, self.last, self.end = state
        self.undistributed = undistributed
        self.received = received
        self.held = held
        self.accounts: dict[str, tuple[int, int]] = {}

    @classmethod
    def read(cls, vault, accounts=()) -> RevenueModel:
        model = cls(
            vault.vesting_period(),
            tuple(vault.revenue_state()),
            vault.undistributed(),
            vault.received(),
            vault.held(),
        )
        for account in (*accounts, vault):
            model.accounts[key_of(account)] = tuple(vault.account_state(account))
        return model

    def assert_matches(self, vault, accounts=()) -> None:
        assert tuple(vault.revenue_state()) == (self.acc, self.rem, self.rate, self.last, self.end)
        assert vault.undistributed() == self.undistributed
        assert (vault.received(), vault.held()) == (self.received, self.held)
        for account in (*accounts, vault):
            assert tuple(vault.account_state(account)) == self.accounts.get(key_of(account), (0, 0))

    # The module's internal functions.
    def sync(self, supply: int, now: int) -> None:
        until = min(now, self.end)
        if until <= self.last:
            return
        vested = self.rate * (until - self.last) + self.rem
        self.last = until
        if supply != 0 and self.acc + vested // supply <= MASK_128:
            self.acc, self.rem = self.acc + vested // supply, vested % supply
            return
        self.undistributed += vested
        self.rem = 0

    def acc_now(self, supply: int, now: int) -> int:
        until = min(now, self.end)
        if until <= self.last or supply == 0:
            return self.acc
        acc = self.acc + (self.rate * (until - self.last) + self.rem) // supply
        return self.acc if acc > MASK_128 else acc

    def owed(self, account, balance: int, acc: int) -> int:
        checkpoint, owed = self.accounts.get(key_of(account), (0, 0))
        if balance != 0:
            owed += balance * (acc - checkpoint) // ACC_PER_FRACTION
            assert owed <= MASK_128
        return owed

    def checkpoint(self, account, balance: int, acc: int) -> None:
        if self.accounts.get(key_of(account), (0, 0))[0] == acc:
            return
        self.accounts[key_of(account)] = (acc, self.owed(account, balance, acc))

    def take_owed(self, account, balance: int, acc: int) -> int:
        owed = self.owed(account, balance, acc)
        self.accounts[key_of(account)] = (acc, owed & (2**FRACTION_BITS - 1))
        return owed >> FRACTION_BITS

    def distribute(self, amount: int, supply: int, vault, dead_balance: int, now: int):
        """`_distribute`: returns (rate, end, recycled) as the events carry them."""
        self.sync(supply, now)
        recycled = self.take_owed(vault, dead_balance, self.acc) if dead_balance else 0
        rate = rest = 0
        if self.end > now:
            rate = self.rate
            rest = rate * (self.end - now)
        total = rest + (amount + recycled) * ACC_SCALE + self.undistributed
        duration = self.vesting_period
        new_rate = total // duration
        if new_rate < rate:
            duration = total // rate
            new_rate = total // duration
        self.undistributed = total - new_rate * duration
        self.rate, self.last, self.end = new_rate, now, now + duration
        self.received += amount
        self.held += amount
        return new_rate, now + duration, recycled

    # What the vault's flows do to it (balances and supply as they were before the flow).
    def mint(self, receiver, balance: int, supply: int, now: int) -> None:
        self.sync(supply, now)
        self.checkpoint(receiver, balance, self.acc)

    def first_mint(self, vault, receiver, dead: int, now: int) -> None:
        """The first mint: the dead shares to the vault, then the receiver's."""
        self.mint(vault, 0, 0, now)
        self.mint(receiver, 0, dead, now)

    burn = mint

    def transfer(self, owner, to, owner_balance: int, to_balance: int, supply: int, now: int):
        acc = self.acc_now(supply, now)
        self.checkpoint(owner, owner_balance, acc)
        self.checkpoint(to, to_balance, acc)

    def claim(self, account, balance: int, supply: int, now: int) -> int:
        amount = self.take_owed(account, balance, self.acc_now(supply, now))
        self.held -= amount
        return amount

    # The views.
    def claimable(self, account, balance: int, supply: int, now: int) -> int:
        checkpoint, owed = self.accounts.get(key_of(account), (0, 0))
        acc = self.acc_now(supply, now)
        if balance != 0 and acc > checkpoint:
            owed += balance * (acc - checkpoint) // ACC_PER_FRACTION
        return owed >> FRACTION_BITS

    def unvested(self, supply: int, now: int) -> int:
        scaled = self.undistributed
        if self.end > now:
            scaled += self.rate * (self.end - now)
        until = min(now, self.end)
        if until > self.last:
            vested = self.rate * (until - self.last) + self.rem
            if supply == 0 or self.acc + vested // supply > MASK_128:
                scaled += vested
        return scaled // ACC_SCALE


def check_conservation_all(vault, holders, claimed: int) -> int:
    """Invariant 3 with the vault's own (dead-share) account among the holders: received = claimed
    + claimable of every holder and of the vault + unvested + dust, 0 <= dust <= holders + 3.
    Returns the dust in wei."""
    return check_conservation(vault, [*holders, vault], claimed)


def mint_to(token, minter, account, amount: int) -> None:
    """Mint `amount` of a MockUSDC to `account` with snekmate's `mint` (its deployer is the minter):
    the faucet's per-call cap makes the amounts near the vault's caps out of reach otherwise."""
    token.mint(account, amount, sender=minter)


def memoise_test_accounts(monkeypatch) -> None:
    """Make ape's revert reporting cheap for the calling test. ape renders the call trace of every
    revert, and to label `tx.origin` it re-derives the ten test accounts from the mnemonic in pure
    Python for each address of the trace: about 2 s per expected revert on a loaded 2-core
    machine. The derivation is a pure function of its arguments: memoised here, restored by
    `monkeypatch` after the test. Use from an autouse fixture."""
    import ape_test.accounts

    monkeypatch.setattr(ape_test.accounts, "generate_dev_accounts", _memoised_dev_accounts())


@functools.cache
def _memoised_dev_accounts():
    """ape's derivation wrapped in a cache (built once, before any patch is in place)."""
    import ape_test.accounts

    return functools.lru_cache(maxsize=None)(ape_test.accounts.generate_dev_accounts)


def collateral_value(vault) -> int:
    """The collateral value in a vault's NAV (its GpuCollateral's `value()`)."""
    from ape import project

    return project.GpuCollateral.at(vault.COLLATERAL()).value()
