# pragma version ~=0.4.3
# pragma nonreentrancy off
# pragma optimize codesize
"""
@title CollateralVault
@license GNU Affero General Public License v3.0 only
@notice One pool's fraction token (ERC-20 with ERC-7943 freezes, ERC-4626 over the stablecoin), its
        cash and its lease revenue. The pool's GPUs and their value live in its GpuCollateral.
        - NAV (`totalAssets`) = free cash + the GpuCollateral's `value()`, read in one call. Every
          flow prices from `current_value()` (exits) or `entry_value()` (deposits, mints), which
          first mature the schedule's due changes (end of life, stale attestations) or refuse with
          the name of the catching-up call: no price comes from state the clock or the registry
          has already changed. Entries also wait while a GPU is stale or returning: nobody buys
          at a temporary write-down and keeps the value when it comes back.
        - Fractions are bought at NAV (`deposit`/`mint`, or `buy`/`buy_with_permit` with a minimum
          out and a deadline) and redeemed instantly from free cash (`redeem`/`withdraw`, or `sell`
          with a minimum out and a deadline). Each `max*` is exactly what its call accepts.
        - The GpuCollateral calls `issue_for_gpu` (fractions at NAV for a contributed GPU) and
          `pay_for_gpu` (free cash to the seller of a GPU who accepted the operator's offer).
        - Queued redemptions live in the pool's RedemptionQueue (ERC-7540): it moves requested
          fractions into escrow here (`move_escrowed`; the escrow is this vault's own balance
          beyond DEAD_SHARES, so they stop earning revenue at once, like the dead shares) and
          settles fulfilled requests (`settle_redemptions`: escrow burnt, their NAV paid from free
          cash to the queue's reserve, outside NAV).
        - Leases live in the pool's LeaseManager; it calls `collect_instalment`, which pulls each
          instalment from the payer and, less a fee (fee_bps <= MAX_FEE_BPS, accrued for
          `fee_recipient`), streams it to holders through the `revenue` module (pulled with
          `claim`). A payment adds revenue and never delays revenue already vesting. Revenue is
          outside NAV.
        - The first mint locks DEAD_SHARES (one whole fraction) with the vault for ever, paid by
          the first buyer or contributor: the supply never falls below it, so neither the price
          nor the revenue accumulator can be pushed to an extreme through a tiny supply (with it,
          saturating the accumulator takes ~3.4e8 whole stablecoin units of revenue vested at the
          minimum supply). What the dead shares earn is streamed back to holders at every payment
          and by `skim`.
        - Identity (the shared IdentityRegistry): fractions go only to verified investors (both
          sides of a transfer, the receiver of a mint). Exit rights: a holder whose verification
          expired or was revoked can still redeem and claim to itself; paying anyone else needs
          both sides verified. Stablecoin leaves only to the holder itself, a verified address,
          or the fee recipient (its fees).
        Rounding is always against the caller (shares out rounded down, shares in rounded up), with
        a decimals offset of DECIMALS_OFFSET (virtual shares and one virtual asset, as in snekmate's
        erc4626). Cash is accounted internally (free_cash + revenue held + accrued fees); a
        donation moves no price: `skim` streams it to holders like revenue (vested, so nobody
        captures it by timing). Stablecoin that does not arrive in full (a fee on transfer) is
        refused.
@custom:security Pause (PAUSER_ROLE pauses, DEFAULT_ADMIN_ROLE unpauses) stops exactly: transfer,
        transferFrom, deposit, mint, buy, buy_with_permit, withdraw, redeem, sell, claim, claim_fees,
        issue_for_gpu and pay_for_gpu (so GpuCollateral's contribute and sell_gpu), move_escrowed
        and settle_redemptions (so the RedemptionQueue's requestRedeem, claimCancelRedeemRequest
        and fulfil; the queue also stops its redeem and withdraw claims). It does not
        stop: collect_instalment (money coming in is not refused; it vests as usual), skim (it
        moves no cash out), approve, permit, role management and the fee setters; nor what
        only lowers NAV in the GpuCollateral (status hooks, maturities). The flag is this
        contract's own (snekmate pausable's events and revert reasons), packed into the revenue
        module's accumulator slot, which transfer, claim, mint and burn read anyway.
        No reentrancy lock (a storage lock on shanghai): every external flow follows
        checks-effects-interactions with the trusted stablecoin, collateral and registries.
@custom:kill `pause()` from PAUSER_ROLE: no fraction moves and no cash leaves; instalments are still
        accepted and accounted.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626
implements: IERC4626


from .interfaces import ICollateralVault
from .interfaces import IGpuCollateral
from .interfaces import IIdentityRegistry


from snekmate.auth import ownable
initializes: ownable


from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]


from snekmate.auth import access_control
initializes: access_control


from . import revenue
initializes: revenue


exports: (
    # ERC-20 (transfer and transferFrom are this contract's own, below).
    erc20.approve,
    erc20.allowance,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    # Left out on purpose:
    # - erc20.transfer, erc20.transferFrom: replaced by versions that check identities, freezes
    #   and jurisdictions and checkpoint revenue before moving a balance;
    # - erc20.balanceOf, erc20.totalSupply: balances and the supply live in `_holdings` and
    #   `_supply_rules`, packed with the freezes and the pool's rules (`balanceOf`, `totalSupply`
    #   below); snekmate's own two stay empty;
    # - erc20.permit, erc20.nonces, erc20.DOMAIN_SEPARATOR, erc20.eip712Domain: a fraction is a
    #   security moved only between verified holders; an approval is the holder's own
    #   transaction (ERC-3643 tokens have no permit either). The stablecoin's permit stays
    #   (`buy_with_permit`);
    # - erc20.mint, erc20.burn, erc20.burn_from, erc20.set_minter, erc20.is_minter: fractions are
    #   minted and burnt only by the ERC-4626 and GPU flows, against value in or out;
    # - erc20.transfer_ownership, erc20.renounce_ownership, ownable.owner: ownable is initialised
    #   only because snekmate's erc20 `uses` it; powers here come from roles;
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    # Left out on purpose: access_control.set_role_admin (every role is administered by
    # DEFAULT_ADMIN_ROLE), access_control.supportsInterface.
    # Pause is this contract's own (`pause`, `unpause`, `paused`, with snekmate pausable's events
    # and revert reasons): its flag is packed into a revenue slot the hot paths read anyway.
    revenue.vesting_period,
    revenue.revenue_state,
    revenue.account_state,
    revenue.undistributed,
    revenue.received,
    revenue.held,
)


# keccak256("LEASE_MANAGER_ROLE"): the LeaseManager contract, which collects instalments.
LEASE_MANAGER_ROLE: public(constant(bytes32)) = keccak256("LEASE_MANAGER_ROLE")
# keccak256("REDEMPTION_QUEUE_ROLE"): the pool's RedemptionQueue, which escrows and settles requests.
REDEMPTION_QUEUE_ROLE: public(constant(bytes32)) = keccak256("REDEMPTION_QUEUE_ROLE")
# keccak256("PAUSER_ROLE"): pauses (the admin unpauses).
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")
# keccak256("ENFORCER_ROLE"): the pool's PoolCompliance contract, which freezes, forces
# transfers, recovers wallets and sets the jurisdiction rules.
ENFORCER_ROLE: public(constant(bytes32)) = keccak256("ENFORCER_ROLE")

# Highest servicing fee, in basis points.
MAX_FEE_BPS: constant(uint256) = 2_000
# Fractions have DECIMALS_OFFSET more decimals than the stablecoin (inflation defence).
DECIMALS_OFFSET: public(constant(uint256)) = 6
# Free cash stays at or below this (with GPU costs below 2**96 each, NAV stays below 2**128, so
# every conversion product stays below 2**255).
MAX_CASH: constant(uint256) = 2**127 - 1
# Total supply stays below this (the revenue remainder is packed in 127 bits).
SUPPLY_CAP: constant(uint256) = 2**127
# Due schedule changes a flow matures itself (GpuCollateral's MAX_MATURE_STEPS).
_MATURE_STEPS: constant(uint256) = 16
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# Virtual shares of the conversions.
_VIRTUAL_SHARES: constant(uint256) = 10**DECIMALS_OFFSET
# A holding: the balance (bits 0..126, below SUPPLY_CAP), the frozen amount (128..254, never
# above the balance) and the full freeze (255). One slot, read by every flow that moves it.
_BALANCE: constant(uint256) = 2**127 - 1
_FROZEN_SHIFT: constant(uint256) = 128
_FULL_FREEZE: constant(uint256) = 2**255
# `_supply_rules`: the supply (bits 0..126), the jurisdiction mode (127..128) and the maximum
# balance per investor (129..255, 0: none). Every mint, burn and transfer reads the supply, so the
# rules cost no slot of their own.
_MODE_SHIFT: constant(uint256) = 127
_CAP_SHIFT: constant(uint256) = 129
# Kinds of movement the identity registry's `check_move` judges (IdentityRegistry's constants).
_TRANSFER: constant(uint256) = 0
_ESCROW: constant(uint256) = 1
_FORCED: constant(uint256) = 2
_MINT: constant(uint256) = 3
_EXIT: constant(uint256) = 4
_CLAIM: constant(uint256) = 5
_PAYEE: constant(uint256) = 6


# The stablecoin (ERC-4626 `asset`).
asset: public(immutable(address))
# The pool's GPUs and their value.
COLLATERAL: public(immutable(IGpuCollateral))
# The shared identity registry.
IDENTITY_REGISTRY: public(immutable(IIdentityRegistry))
# Fractions locked with the vault at the first mint: one whole fraction.
DEAD_SHARES: public(immutable(uint256))


# Stablecoin available for redemptions and GPU purchases (in NAV).
free_cash: public(uint256)
# Servicing fees accrued and not yet paid to the fee recipient (outside NAV).
accrued_fees: public(uint256)
# Servicing fee on each instalment, in basis points.
fee_bps: public(uint256)
# Receives the servicing fees.
fee_recipient: public(address)
# account -> balance | frozen amount | full freeze (see _BALANCE).
_holdings: HashMap[address, uint256]
# supply | jurisdiction mode | maximum balance (see _MODE_SHIFT).
_supply_rules: uint256


@deploy
def __init__(
    asset_: address,
    collateral_: address,
    identity_registry_: address,
    name_: String[25],
    symbol_: String[5],
    fee_bps_: uint256,
    fee_recipient_: address,
    vesting_period_: uint256,
):
    """
    @notice Deployed right after its GpuCollateral (which names this vault's predicted address).
            The deployer becomes DEFAULT_ADMIN_ROLE; the deploy script grants the other roles.
    @param asset_ The stablecoin (an ERC-20 with `decimals`).
    @param collateral_ The pool's GpuCollateral; its `VAULT()` must be this contract.
    @param identity_registry_ The shared IdentityRegistry.
    @param name_ Fraction token name (also the EIP-712 domain name).
    @param symbol_ Fraction token symbol.
    @param fee_bps_ Servicing fee on instalments, at most MAX_FEE_BPS.
    @param fee_recipient_ Receives fees.
    @param vesting_period_ Seconds within which each payment vests, in [1 day, 365 days].
    """
    assert asset_.is_contract, "vault: asset is not a contract"
    assert collateral_.is_contract, "vault: collateral is not a contract"
    assert staticcall IGpuCollateral(collateral_).VAULT() == self, "vault: collateral of another vault"
    assert identity_registry_.is_contract, "vault: identity registry is not a contract"
    assert len(name_) != 0, "vault: empty name"
    assert len(symbol_) != 0, "vault: empty symbol"
    assert fee_bps_ <= MAX_FEE_BPS, "vault: fee above maximum"
    assert fee_recipient_ != empty(address), "vault: zero fee recipient"
    asset_decimals: uint8 = staticcall IERC20Detailed(asset_).decimals()
    assert asset_decimals <= 30, "vault: asset decimals too large"

    asset = asset_
    COLLATERAL = IGpuCollateral(collateral_)
    IDENTITY_REGISTRY = IIdentityRegistry(identity_registry_)
    DEAD_SHARES = 10 ** (convert(asset_decimals, uint256) + DECIMALS_OFFSET)
    self.fee_bps = fee_bps_
    self.fee_recipient = fee_recipient_

    ownable.__init__()
    erc20.__init__(name_, symbol_, asset_decimals + convert(DECIMALS_OFFSET, uint8), name_, "1")
    access_control.__init__()
    revenue.__init__(vesting_period_)
    log ICollateralVault.UpdateFeeBps(previous=0, current=fee_bps_)
    log ICollateralVault.UpdateFeeRecipient(previous=empty(address), current=fee_recipient_)


# ERC-20 #


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Move `amount` fractions from the caller to `to`; both must be verified.
    @param to The receiver.
    @param amount Fraction units.
    @return bool True (reverts on failure).
    """
    self._move(msg.sender, to, amount, _TRANSFER)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Move `amount` of `owner`'s fractions to `to` within the caller's allowance; `owner` and
            `to` must be verified.
    @param owner The holder.
    @param to The receiver.
    @param amount Fraction units.
    @return bool True (reverts on failure).
    """
    erc20._spend_allowance(owner, msg.sender, amount)
    self._move(owner, to, amount, _TRANSFER)
    return True


# ERC-4626 #


@view
@external
def totalAssets() -> uint256:
    """
    @notice NAV: free cash plus the collateral value of the pool's GPUs (revenue and fees are
            outside it).
    @return uint256 Stablecoin units.
    """
    return self._total_assets()


@view
@external
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Fractions worth `assets` at NAV, rounded down.
    @param assets Stablecoin units.
    @return uint256 Fraction units.
    """
    return self._to_shares(assets, self._total_assets(), self._supply(), False)


@view
@external
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Stablecoin worth `shares` at NAV, rounded down.
    @param shares Fraction units.
    @return uint256 Stablecoin units.
    """
    return self._to_assets(shares, self._total_assets(), self._supply(), False)


@view
@external
def maxDeposit(receiver: address) -> uint256:
    """
    @notice Exactly the most `deposit` accepts for `receiver` now (the supply cap and MAX_CASH
            bound it); 0 while paused, while the collateral refuses entries (more due changes
            than a flow matures, or GPUs stale or returning), if `receiver` is not verified, or
            if the room left buys no fraction.
    @param receiver Who would receive the fractions.
    @return uint256 Stablecoin units.
    """
    room: uint256 = self._room(receiver)
    supply: uint256 = self._supply()
    cash: uint256 = self.free_cash
    if room == 0 or supply >= SUPPLY_CAP - 1 or cash >= MAX_CASH:
        return 0
    # Largest `assets` whose shares keep the supply below SUPPLY_CAP (and within the receiver's
    # room under the maximum balance; on a first mint that room also bounds the dead shares, an
    # underestimate): floor(a * (s + V) / (T + 1)) <= room  <=>  a * (s + V) < (room + 1) * (T + 1).
    room = min(room, SUPPLY_CAP - 1 - supply)
    total: uint256 = self._total_assets()
    by_supply: uint256 = ((room + 1) * (total + 1) - 1) // (supply + _VIRTUAL_SHARES)
    assets: uint256 = min(by_supply, MAX_CASH - cash)
    # A room too small to buy one fraction (beyond the dead shares) accepts nothing.
    if self._to_shares(assets, total, supply, False) <= self._dead_shares_due(supply):
        return 0
    return assets


@view
@external
def maxMint(receiver: address) -> uint256:
    """
    @notice Exactly the most `mint` accepts for `receiver` now (the supply cap and MAX_CASH bound
            it; the first mint also pays for DEAD_SHARES); 0 as for `maxDeposit`.
    @param receiver Who would receive the fractions.
    @return uint256 Fraction units.
    """
    room: uint256 = self._room(receiver)
    supply: uint256 = self._supply()
    cash: uint256 = self.free_cash
    dead: uint256 = self._dead_shares_due(supply)
    if room == 0 or supply + dead >= SUPPLY_CAP - 1 or cash >= MAX_CASH:
        return 0
    # ceil(x * (T + 1) / (s + V)) <= cash room  <=>  x <= cash room * (s + V) // (T + 1).
    by_cash: uint256 = (MAX_CASH - cash) * (supply + _VIRTUAL_SHARES) // (self._total_assets() + 1)
    if by_cash <= dead:
        return 0
    return min(min(SUPPLY_CAP - 1 - supply - dead, by_cash - dead), room)


@view
@external
def maxWithdraw(owner: address) -> uint256:
    """
    @notice Exactly the most `withdraw` pays out of `owner`'s fractions to `owner` now: their NAV,
            bounded by free cash. Verification is not needed to exit to oneself. 0 while paused or
            while the collateral has more due changes than a flow matures.
    @param owner The holder.
    @return uint256 Stablecoin units.
    """
    if not self._can_price():
        return 0
    assets: uint256 = self._to_assets(self._unfrozen(owner), self._total_assets(), self._supply(), False)
    return min(assets, self.free_cash)


@view
@external
def maxRedeem(owner: address) -> uint256:
    """
    @notice Exactly the most fractions `redeem` takes from `owner` to `owner` now: its balance,
            bounded by what free cash pays at NAV; 0 when that would pay nothing (dust), while
            paused, or while the collateral has more due changes than a flow matures.
    @param owner The holder.
    @return uint256 Fraction units.
    """
    if not self._can_price():
        return 0
    supply: uint256 = self._supply()
    total: uint256 = self._total_assets()
    # Largest shares paying at most free cash: floor(x * (T + 1) / (s + V)) <= cash  <=>
    # x * (T + 1) < (cash + 1) * (s + V).
    by_cash: uint256 = ((self.free_cash + 1) * (supply + _VIRTUAL_SHARES) - 1) // (total + 1)
    shares: uint256 = min(self._unfrozen(owner), by_cash)
    if self._to_assets(shares, total, supply, False) == 0:
        return 0
    return shares


@view
@external
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Fractions `deposit(assets)` gives the receiver now (rounded down): on a first deposit,
            what is left after DEAD_SHARES (0 if nothing is).
    @param assets Stablecoin units.
    @return uint256 Fraction units.
    """
    supply: uint256 = self._supply()
    shares: uint256 = self._to_shares(assets, self._total_assets(), supply, False)
    dead: uint256 = self._dead_shares_due(supply)
    if shares <= dead:
        return 0
    # shares > dead, checked above.
    return unsafe_sub(shares, dead)


@view
@external
def previewMint(shares: uint256) -> uint256:
    """
    @notice Stablecoin `mint(shares)` takes now (rounded up), dead shares included on a first mint.
    @param shares Fraction units.
    @return uint256 Stablecoin units.
    """
    supply: uint256 = self._supply()
    return self._to_assets(shares + self._dead_shares_due(supply), self._total_assets(), supply, True)


@view
@external
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Fractions `withdraw(assets)` burns now (rounded up).
    @param assets Stablecoin units.
    @return uint256 Fraction units.
    """
    return self._to_shares(assets, self._total_assets(), self._supply(), True)


@view
@external
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Stablecoin `redeem(shares)` pays now (rounded down).
    @param shares Fraction units.
    @return uint256 Stablecoin units.
    """
    return self._to_assets(shares, self._total_assets(), self._supply(), False)


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Pay `assets` of stablecoin, mint fractions at NAV (rounded down) to `receiver`; on the
            first mint DEAD_SHARES of them are locked with the vault.
    @param assets Stablecoin units, pulled from the caller (approve first).
    @param receiver A verified investor.
    @return uint256 Fractions minted to `receiver`.
    """
    return self._buy(assets, receiver, 0)


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares` fractions to `receiver`, paying their NAV (rounded up); the first
            mint also pays for DEAD_SHARES.
    @param shares Fraction units, non-zero.
    @param receiver A verified investor.
    @return uint256 Stablecoin paid.
    """
    self._require_not_paused()
    self._admit(receiver)
    assert shares != 0, "vault: zero shares"
    supply_rules: uint256 = self._supply_rules
    supply: uint256 = supply_rules & _BALANCE
    minted: uint256 = shares + self._dead_shares_due(supply)
    assets: uint256 = self._to_assets(minted, self.free_cash + extcall COLLATERAL.entry_value(), supply, True)
    self._issue(msg.sender, receiver, assets, minted, supply_rules)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `owner`'s fractions worth `assets` at NAV (rounded up), pay `assets` from free cash.
    @param assets Stablecoin units, at most `maxWithdraw(owner)`.
    @param receiver `owner` itself, or a verified address (then `owner` must be verified too).
    @param owner The holder (the caller, or one that approved the caller).
    @return uint256 Fractions burnt.
    """
    self._require_not_paused()
    assert assets != 0, "vault: zero assets"
    shares: uint256 = self._to_shares(assets, self._current_total_assets(), self._supply(), True)
    self._redeem(owner, receiver, assets, shares)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `shares` of `owner`'s fractions, pay their NAV (rounded down) from free cash.
    @param shares Fraction units, at most `maxRedeem(owner)`.
    @param receiver `owner` itself, or a verified address (then `owner` must be verified too).
    @param owner The holder (the caller, or one that approved the caller).
    @return uint256 Stablecoin paid.
    """
    return self._sell(shares, receiver, owner, 0)


# BUY AND SELL (the scripts' paths: a bound on the price and a deadline) #


@external
def buy(assets: uint256, receiver: address, min_shares: uint256, deadline: uint256) -> uint256:
    """
    @notice `deposit` with a bound on the price and a deadline.
    @param assets Stablecoin units, pulled from the caller.
    @param receiver A verified investor.
    @param min_shares Revert if fewer fractions would be minted to `receiver`.
    @param deadline Revert after this time.
    @return uint256 Fractions minted to `receiver`.
    """
    assert block.timestamp <= deadline, "vault: deadline passed"
    return self._buy(assets, receiver, min_shares)


@external
def buy_with_permit(
    assets: uint256,
    receiver: address,
    min_shares: uint256,
    deadline: uint256,
    v: uint8,
    r: bytes32,
    s: bytes32,
) -> uint256:
    """
    @notice `buy` in one transaction: an EIP-2612 permit of the stablecoin for `assets` to this
            vault, signed by the caller with the same deadline, then the buy.
    @dev The permit is attempted and may already have been used (front-run): the buy goes ahead if
         the allowance is there either way.
    @param assets Stablecoin units, pulled from the caller.
    @param receiver A verified investor.
    @param min_shares Revert if fewer fractions would be minted to `receiver`.
    @param deadline Revert after this time (also the permit's deadline).
    @param v Permit signature.
    @param r Permit signature.
    @param s Permit signature.
    @return uint256 Fractions minted to `receiver`.
    """
    assert block.timestamp <= deadline, "vault: deadline passed"
    # The result is not checked: the allowance below is what counts.
    permitted: bool = raw_call(
        asset,
        abi_encode(
            msg.sender, self, assets, deadline, v, r, s,
            method_id=method_id("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"),
        ),
        revert_on_failure=False,
    )
    assert staticcall IERC20(asset).allowance(msg.sender, self) >= assets, "vault: permit failed"
    return self._buy(assets, receiver, min_shares)


@external
def sell(shares: uint256, receiver: address, min_assets: uint256, deadline: uint256) -> uint256:
    """
    @notice `redeem` of the caller's own fractions with a bound on the price and a deadline.
    @param shares Fraction units, at most `maxRedeem(msg.sender)`.
    @param receiver The caller itself, or a verified address (then the caller must be verified).
    @param min_assets Revert if less stablecoin would be paid.
    @param deadline Revert after this time.
    @return uint256 Stablecoin paid.
    """
    assert block.timestamp <= deadline, "vault: deadline passed"
    return self._sell(shares, receiver, msg.sender, min_assets)


# GPUS (called by the pool's GpuCollateral) #


@external
def issue_for_gpu(receiver: address, value_in: uint256, collateral_before: uint256, min_shares: uint256) -> uint256:
    """
    @notice GpuCollateral only: mint fractions for `value_in` of collateral that came in, at the NAV
            before it came in (rounded down); the first mint locks DEAD_SHARES.
    @param receiver A verified investor.
    @param value_in Collateral value the GPU added.
    @param collateral_before The collateral value before it (current: the collateral matured).
    @param min_shares Revert if fewer fractions would be minted to `receiver`.
    @return uint256 Fractions minted to `receiver`.
    """
    self._require_collateral()
    self._require_not_paused()
    supply_rules: uint256 = self._supply_rules
    shares: uint256 = self._mint_fractions(
        receiver,
        self._to_shares(value_in, self.free_cash + collateral_before, supply_rules & _BALANCE, False),
        supply_rules,
    )
    assert shares >= min_shares, "vault: slippage: too few shares"
    return shares


@external
def pay_for_gpu(seller: address, price: uint256):
    """
    @notice GpuCollateral only: pay a GPU's seller (who accepted the operator's offer) from free
            cash. The seller must be verified.
    @param seller The GPU's former owner.
    @param price Stablecoin units, at most free cash.
    """
    self._require_collateral()
    self._require_not_paused()
    self._comply(_PAYEE, seller, 0, seller, self._holdings[seller], 0, 0)
    cash: uint256 = self.free_cash
    assert price <= cash, "vault: insufficient free cash"
    # price <= cash, checked above.
    self.free_cash = unsafe_sub(cash, price)
    self._pay_out(seller, price)


@external
def collect_sale(buyer: address, price: uint256, to_cash: uint256):
    """
    @notice GpuCollateral only: the buyer of a GPU the pool sold pays `price` (approve this vault);
            `to_cash` of it (at most the price: the GPU's collateral value, or all of it in
            wind-down) enters free cash, the rest stays beyond the books for `skim` to stream.
    @param buyer Who pays.
    @param price Stablecoin units.
    @param to_cash Stablecoin units added to free cash.
    """
    self._require_collateral()
    self._require_not_paused()
    cash: uint256 = self.free_cash + to_cash
    assert cash <= MAX_CASH, "vault: cash cap"
    self._pull(buyer, price)
    self.free_cash = cash


# REDEMPTION QUEUE (called by the pool's RedemptionQueue) #


@external
def move_escrowed(owner: address, to: address, shares: uint256, admit: bool):
    """
    @notice REDEMPTION_QUEUE_ROLE (the pool's RedemptionQueue only): move fractions into the escrow
            (a request: `to` is this vault) or out of it (a cancelled request claimed back:
            `owner` is this vault). No identity check on the holder here: the queue checks the
            exit right at request and the receiver at claim; the owner's freezes still apply and
            a receiver frozen entirely is refused, and a receiver other than the controller
            (`admit`) must be able to hold them, as the receiver of a mint. The escrow is this
            vault's own balance beyond DEAD_SHARES, so escrowed fractions stop earning revenue at
            once: what they earn is streamed back to holders, as the dead shares' is. The role is
            the queue's alone (the deploy grants it to nobody else): the vault trusts it as it
            trusts its collateral, and spends no bytes checking which side is the escrow.
    @param owner The requester, or this vault.
    @param to This vault, or the receiver of a cancelled request.
    @param shares Fraction units.
    @param admit Whether `to` is checked as a new holder (a receiver other than the controller).
    """
    access_control._check_role(REDEMPTION_QUEUE_ROLE, msg.sender)
    kind: uint256 = _ESCROW
    if admit:
        kind = _MINT
    self._move(owner, to, shares, kind)


@external
def settle_redemptions(shares: uint256, assets: uint256):
    """
    @notice REDEMPTION_QUEUE_ROLE (the pool's RedemptionQueue only): burn `shares` of the escrow
            and pay `assets` from free cash to the queue, which reserves them for the requests it
            fulfilled. The queue prices them at this block's NAV from `totalAssets` (the collateral's
            `value()` counts every due change, so it is current without maturing), each request
            rounded down; the vault checks only free cash (bytes: it trusts its queue as it trusts
            its collateral's prices).
    @param shares Escrowed fraction units fulfilled.
    @param assets Stablecoin units the requests receive.
    """
    access_control._check_role(REDEMPTION_QUEUE_ROLE, msg.sender)
    self._require_not_paused()
    self._burn_and_pay(self, msg.sender, assets, shares)


# LEASE REVENUE #


@external
def collect_instalment(lease_id: uint256, payer: address, amount: uint256) -> uint256:
    """
    @notice LEASE_MANAGER_ROLE (the LeaseManager contract only): pull an instalment from `payer`
            (who approved this vault); the fee accrues to the fee recipient and the rest is
            streamed to holders with what the dead shares earned. Allowed while paused: money
            coming in is not refused.
    @param lease_id The lease paid (for the books).
    @param payer Who pays (the caller of LeaseManager.pay_instalment).
    @param amount The instalment.
    @return uint256 The fee taken.
    """
    access_control._check_role(LEASE_MANAGER_ROLE, msg.sender)
    assert amount != 0, "revenue: zero amount"
    fee: uint256 = amount * self.fee_bps // _BPS
    # fee <= amount: fee_bps <= MAX_FEE_BPS < _BPS.
    net: uint256 = unsafe_sub(amount, fee)
    self.accrued_fees += fee
    rate: uint256 = 0
    vesting_end: uint256 = 0
    recycled: uint256 = 0
    rate, vesting_end, recycled = revenue._distribute(net, self._supply(), self._holdings[self] & _BALANCE)
    log ICollateralVault.RevenueDistributed(
        lease_id=lease_id,
        payer=payer,
        amount=amount,
        fee=fee,
        recycled=recycled,
        rate=rate,
        vesting_end=vesting_end,
    )
    self._pull(payer, amount)
    return fee


@external
def skim() -> uint256:
    """
    @notice Anyone: stream to holders, like revenue, the stablecoin the vault holds beyond its books
            (donations), with what the dead shares earned and anything parked. Streaming (not
            adding to NAV, not paying the fee recipient) means a donation moves no price and
            nobody captures it by buying just before.
    @return uint256 The donation streamed (stablecoin units).
    """
    supply: uint256 = self._supply()
    books: uint256 = self.free_cash + revenue.held + self.accrued_fees
    balance: uint256 = staticcall IERC20(asset).balanceOf(self)
    donation: uint256 = 0
    if balance > books:
        # balance > books, checked above.
        donation = unsafe_sub(balance, books)
    rate: uint256 = 0
    vesting_end: uint256 = 0
    recycled: uint256 = 0
    rate, vesting_end, recycled = revenue._distribute(donation, supply, self._holdings[self] & _BALANCE)
    log ICollateralVault.Skimmed(donation=donation, recycled=recycled, rate=rate, vesting_end=vesting_end)
    return donation


# REVENUE #


@external
def claim(receiver: address = msg.sender) -> uint256:
    """
    @notice Pull the caller's vested revenue (whole stablecoin units; the sub-unit rest stays owed).
            To the caller itself always (exit right); to another address only if both are verified.
    @param receiver Who receives it (default: the caller).
    @return uint256 Stablecoin paid.
    """
    acc_rem: uint256 = revenue._require_not_paused()
    assert receiver != empty(address), "revenue: zero receiver"
    holding: uint256 = self._holdings[msg.sender]
    # A claim to oneself, the hot path, needs the registry only to refuse a full freeze.
    if receiver != msg.sender or holding >= _FULL_FREEZE:
        self._comply(_CLAIM, msg.sender, holding, receiver, self._holdings[receiver], 0, 0)
    amount: uint256 = revenue._claim(msg.sender, holding & _BALANCE, self._supply(), acc_rem)
    assert amount != 0, "revenue: nothing to claim"
    log ICollateralVault.RevenueClaimed(account=msg.sender, receiver=receiver, amount=amount)
    self._pay_out(receiver, amount)
    return amount


@external
def claim_fees() -> uint256:
    """
    @notice Anyone: pay the accrued servicing fees to the fee recipient (a recipient the stablecoin
            refuses blocks only this).
    @return uint256 Stablecoin paid.
    """
    self._require_not_paused()
    amount: uint256 = self.accrued_fees
    assert amount != 0, "revenue: no fees to claim"
    self.accrued_fees = 0
    recipient: address = self.fee_recipient
    log ICollateralVault.FeesClaimed(recipient=recipient, amount=amount)
    self._pay_out(recipient, amount)
    return amount


# ADMIN #


@external
def pause():
    """
    @notice PAUSER_ROLE: stop what the module docstring lists.
    """
    access_control._check_role(PAUSER_ROLE, msg.sender)
    self._require_not_paused()
    revenue._set_paused(True)
    log ICollateralVault.Paused(account=msg.sender)


@external
def unpause():
    """
    @notice DEFAULT_ADMIN_ROLE: lift the pause.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert revenue._paused(), "pausable: contract is not paused"
    revenue._set_paused(False)
    log ICollateralVault.Unpaused(account=msg.sender)


@external
def set_fee_bps(fee_bps_: uint256):
    """
    @notice DEFAULT_ADMIN_ROLE (a timelock in a later issue): the fee on future instalments.
    @param fee_bps_ At most MAX_FEE_BPS.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert fee_bps_ <= MAX_FEE_BPS, "vault: fee above maximum"
    log ICollateralVault.UpdateFeeBps(previous=self.fee_bps, current=fee_bps_)
    self.fee_bps = fee_bps_


@external
def set_fee_recipient(fee_recipient_: address):
    """
    @notice DEFAULT_ADMIN_ROLE: who receives fees.
    @param fee_recipient_ Non-zero.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert fee_recipient_ != empty(address), "vault: zero fee recipient"
    log ICollateralVault.UpdateFeeRecipient(previous=self.fee_recipient, current=fee_recipient_)
    self.fee_recipient = fee_recipient_


# COMPLIANCE (the pool's PoolCompliance: ENFORCER_ROLE; it validates, the vault applies) #


@external
def enforce_freeze(account: address, frozen: uint256, full: bool):
    """
    @notice ENFORCER_ROLE: `frozen` of `account`'s fractions are frozen (they move by no path but a
            forced transfer or a recovery) and, if `full`, the account entirely (it can neither
            send, receive, redeem, request nor claim). Allowed while paused. The PoolCompliance
            checks `frozen` is at most the balance and `account` is not this vault.
    @param account The holder.
    @param frozen Fraction units.
    @param full Whether the account is frozen entirely.
    """
    access_control._check_role(ENFORCER_ROLE, msg.sender)
    holding: uint256 = (self._holdings[account] & _BALANCE) | (frozen << _FROZEN_SHIFT)
    if full:
        holding |= _FULL_FREEZE
    self._holdings[account] = holding
    log ICollateralVault.Frozen(account=account, amount=frozen)


@external
def enforce_move(owner: address, to: address, amount: uint256, recovery: bool):
    """
    @notice ENFORCER_ROLE: a forced transfer of `amount` of `owner`'s fractions to `to` whatever
            `owner`'s freezes and verification, the frozen shortfall unfrozen; `to` must be able to
            hold them (verified, not frozen, of an admitted jurisdiction, within the maximum
            balance). Revenue is checkpointed on both sides; a `recovery` (a lost wallet's whole
            balance to the investor's new one) also moves the revenue `owner` accrued and did not
            claim. The PoolCompliance refuses `to` = `owner` and moves the freezes of a recovery.
    @param owner The holder.
    @param to Another address.
    @param amount Fraction units, at most `owner`'s balance.
    @param recovery Whether `owner`'s unclaimed revenue follows.
    """
    access_control._check_role(ENFORCER_ROLE, msg.sender)
    frozen: uint256 = self._holdings[owner] >> _FROZEN_SHIFT
    self._move(owner, to, amount, _FORCED)
    if recovery:
        # `_move` checkpointed both at the same accumulator: what `owner` is owed moves as it is.
        revenue._move_owed(owner, to)
    if self._holdings[owner] >> _FROZEN_SHIFT != frozen:
        log ICollateralVault.Frozen(account=owner, amount=(self._holdings[owner] >> _FROZEN_SHIFT) & _BALANCE)
    log ICollateralVault.ForcedTransfer(sender=owner, receiver=to, amount=amount)


@external
def enforce_rules(mode: uint256, max_balance: uint256):
    """
    @notice ENFORCER_ROLE: the jurisdiction mode (0: every jurisdiction, 1: only the listed ones,
            2: all but them; the list is the identity registry's, per pool) and the maximum
            balance per investor (0: none), checked on every path that makes someone a holder.
            The PoolCompliance checks the mode and that the maximum is below the supply cap.
    @param mode 0, 1 or 2.
    @param max_balance Fraction units; 0 for none.
    """
    access_control._check_role(ENFORCER_ROLE, msg.sender)
    self._supply_rules = self._supply() | (mode << _MODE_SHIFT) | (max_balance << _CAP_SHIFT)


# VIEWS #


@view
@external
def balanceOf(account: address) -> uint256:
    """
    @notice `account`'s fractions, frozen ones included.
    @param account Any address.
    @return uint256 Fraction units.
    """
    return self._holdings[account] & _BALANCE


@view
@external
def totalSupply() -> uint256:
    """
    @notice Fractions in existence (the dead shares and the queue's escrow included).
    @return uint256 Fraction units.
    """
    return self._supply()


@view
@external
def getFrozenTokens(account: address) -> uint256:
    """
    @notice ERC-7943: `account`'s frozen fractions (they move only by a forced transfer or a
            recovery; the rest of its balance moves normally unless it is frozen entirely).
    @param account Any address.
    @return uint256 Fraction units.
    """
    return (self._holdings[account] >> _FROZEN_SHIFT) & _BALANCE


@view
@external
def is_frozen(account: address) -> bool:
    """
    @notice Whether `account` is frozen entirely.
    @param account Any address.
    @return bool True if frozen entirely.
    """
    return self._holdings[account] >= _FULL_FREEZE


@view
@external
def rules() -> (uint256, uint256):
    """
    @notice The jurisdiction mode (0: every jurisdiction, 1: only the listed ones, 2: all but
            them) and the maximum balance per investor (0: none).
    @return (uint256, uint256) The mode; fraction units.
    """
    supply_rules: uint256 = self._supply_rules
    return (supply_rules >> _MODE_SHIFT) & 3, supply_rules >> _CAP_SHIFT


@view
@external
def packed(account: address) -> (uint256, uint256):
    """
    @notice `account`'s packed holding (balance, frozen amount << 128, full freeze bit 255) and the
            packed supply and rules (supply, jurisdiction mode << 127, maximum balance << 129),
            as the vault passes them to the identity registry's `check_move`.
    @param account Any address.
    @return (uint256, uint256) The holding and the supply with the rules.
    """
    return self._holdings[account], self._supply_rules


@view
@external
def canTransfer(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice ERC-7943: whether `transfer` of `amount` from `owner` to `to` would pass now (the
            identity registry's `check_move` gives the reason when not).
    @param owner The holder.
    @param to The receiver.
    @param amount Fraction units.
    @return bool True if it would pass.
    """
    if revenue._paused():
        return False
    return self._can_comply(_TRANSFER, owner, to, amount)


@view
@external
def claimable(account: address) -> uint256:
    """
    @notice Revenue `account` can claim now (stablecoin units; the vault's own account is what its
            dead shares earned, streamed back at the next payment or `skim`).
    @param account Any address.
    @return uint256 Stablecoin units.
    """
    return revenue._claimable(account, self._holdings[account] & _BALANCE, self._supply())


@view
@external
def paused() -> bool:
    """
    @notice Whether the vault is paused (see the module docstring for what that stops).
    @return bool True while paused.
    """
    return revenue._paused()


@view
@external
def unvested() -> uint256:
    """
    @notice Revenue received and not yet vested, what is parked included (stablecoin units).
    @return uint256 Stablecoin units.
    """
    return revenue._unvested(self._supply())


# INTERNAL #


@internal
def _move(owner: address, to: address, amount: uint256, kind: uint256):
    """
    @dev A transfer, a queue escrow move (no identity checks: the queue checks exit rights; the
         sender's freezes and a fully frozen receiver still refuse it) or a forced transfer (the
         sender's freezes do not apply and the frozen shortfall is unfrozen), judged by the
         identity registry. snekmate's `_transfer` inlined on the holdings the revenue
         checkpoints already read.
    """
    acc_rem: uint256 = revenue._require_not_paused()
    supply_rules: uint256 = self._supply_rules
    owner_holding: uint256 = self._holdings[owner]
    to_holding: uint256 = self._holdings[to]
    # `_comply` written out: the transfer's hot path.
    owner_holding = staticcall IDENTITY_REGISTRY.check_move(self, kind, owner, owner_holding, to, to_holding, amount, supply_rules)
    acc: uint256 = revenue._acc_now(supply_rules & _BALANCE, acc_rem)
    revenue._checkpoint(owner, owner_holding & _BALANCE, acc)
    revenue._checkpoint(to, to_holding & _BALANCE, acc)
    if owner != to:
        # amount <= the owner's balance, checked; the frozen amount stays at most the balance left.
        self._holdings[owner] = unsafe_sub(owner_holding, amount)
        # Balances sum to the supply, below SUPPLY_CAP = 2**127: no carry into the frozen bits.
        self._holdings[to] = unsafe_add(to_holding, amount)
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)


@view
@internal
def _comply(kind: uint256, owner: address, owner_holding: uint256, to: address, to_holding: uint256, amount: uint256, supply_rules: uint256) -> uint256:
    """
    @dev The identity registry judges the movement (identities, freezes, the pool's jurisdiction
         list and maximum balance) and reverts with the reason; it returns `owner_holding` with
         the frozen shortfall of a forced transfer unfrozen.
    """
    return staticcall IDENTITY_REGISTRY.check_move(self, kind, owner, owner_holding, to, to_holding, amount, supply_rules)


@view
@internal
def _admit(receiver: address):
    """
    @dev Before a deposit or mint pulls any stablecoin: its receiver may hold fractions (verified,
         not frozen, of an admitted jurisdiction, not at the maximum balance); `_mint` checks again
         with the fractions it gets. A contribution has nothing to pull: `_mint` alone.
    """
    # `_comply` written out: every deposit and contribution asks it.
    _: uint256 = staticcall IDENTITY_REGISTRY.check_move(self, _MINT, receiver, 0, receiver, self._holdings[receiver], 0, self._supply_rules)


@view
@internal
def _can_comply(kind: uint256, owner: address, to: address, amount: uint256) -> bool:
    return raw_call(
        IDENTITY_REGISTRY.address,
        abi_encode(
            self, kind, owner, self._holdings[owner], to, self._holdings[to], amount, self._supply_rules,
            method_id=method_id("check_move(address,uint256,address,uint256,address,uint256,uint256,uint256)"),
        ),
        is_static_call=True,
        revert_on_failure=False,
    )


@internal
def _buy(assets: uint256, receiver: address, min_shares: uint256) -> uint256:
    self._require_not_paused()
    self._admit(receiver)
    supply_rules: uint256 = self._supply_rules
    total: uint256 = self.free_cash + extcall COLLATERAL.entry_value()
    shares: uint256 = self._issue(
        msg.sender, receiver, assets, self._to_shares(assets, total, supply_rules & _BALANCE, False), supply_rules
    )
    assert shares >= min_shares, "vault: slippage: too few shares"
    return shares


@internal
def _issue(payer: address, receiver: address, assets: uint256, minted: uint256, supply_rules: uint256) -> uint256:
    """
    @dev Take `assets` in and mint `minted` fractions (dead shares included on a first mint).
    @return uint256 The fractions `receiver` got.
    """
    cash: uint256 = self.free_cash + assets
    assert cash <= MAX_CASH, "vault: cash cap"
    # Transfer in before minting.
    self._pull(payer, assets)
    self.free_cash = cash
    shares: uint256 = self._mint_fractions(receiver, minted, supply_rules)
    log IERC4626.Deposit(sender=payer, owner=receiver, assets=assets, shares=shares)
    return shares


@internal
def _mint_fractions(receiver: address, minted: uint256, supply_rules: uint256) -> uint256:
    """
    @dev Mint `minted` fractions; on the first mint DEAD_SHARES of them go to the vault itself.
    @param supply_rules `_supply_rules` as read by the caller.
    @return uint256 The fractions `receiver` got.
    """
    if supply_rules & _BALANCE != 0:
        assert minted != 0, "vault: zero shares"
        self._mint(receiver, minted, supply_rules)
        return minted
    assert minted > DEAD_SHARES, "vault: first mint below dead shares"
    self._mint(self, DEAD_SHARES, supply_rules)
    # minted > DEAD_SHARES, checked above.
    shares: uint256 = unsafe_sub(minted, DEAD_SHARES)
    # The supply was 0: it is DEAD_SHARES now.
    self._mint(receiver, shares, unsafe_add(supply_rules, DEAD_SHARES))
    return shares


@internal
def _sell(shares: uint256, receiver: address, owner: address, min_assets: uint256) -> uint256:
    self._require_not_paused()
    assets: uint256 = self._to_assets(shares, self._current_total_assets(), self._supply(), False)
    assert assets != 0, "vault: zero assets"
    assert assets >= min_assets, "vault: slippage: too few assets"
    self._redeem(owner, receiver, assets, shares)
    return assets


@internal
def _redeem(owner: address, receiver: address, assets: uint256, shares: uint256):
    """
    @dev Exit rights (the identity registry's EXIT): the owner, not frozen entirely and within
         its unfrozen balance, is paid whatever its verification; paying anyone else needs both
         verified and the receiver not frozen entirely. A spender other than the owner uses its
         allowance.
    """
    payee_holding: uint256 = 0
    if receiver != owner:
        payee_holding = self._holdings[receiver]
    self._comply(_EXIT, owner, self._holdings[owner], receiver, payee_holding, shares, 0)
    if msg.sender != owner:
        erc20._spend_allowance(owner, msg.sender, shares)
    self._burn_and_pay(owner, receiver, assets, shares)


@internal
def _burn_and_pay(owner: address, receiver: address, assets: uint256, shares: uint256):
    """
    @dev Burn `owner`'s `shares` (checked by the caller: `_redeem`, or the queue's escrow), then
         pay `assets` out of free cash.
    """
    cash: uint256 = self.free_cash
    assert assets <= cash, "vault: insufficient free cash"
    holding: uint256 = self._holdings[owner]
    balance: uint256 = holding & _BALANCE
    # Burn before transferring out.
    supply_rules: uint256 = self._supply_rules
    revenue._checkpoint(owner, balance, revenue._synced_acc(supply_rules & _BALANCE))
    # shares <= balance <= supply: `_redeem` checked the owner's balance; the queue's escrow has
    # no freeze bits, so a settlement beyond it underflows and reverts.
    self._holdings[owner] = holding - shares
    self._supply_rules = unsafe_sub(supply_rules, shares)
    log IERC20.Transfer(sender=owner, receiver=empty(address), value=shares)
    # assets <= cash, checked above.
    self.free_cash = unsafe_sub(cash, assets)
    log IERC4626.Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)
    self._pay_out(receiver, assets)


@internal
def _mint(receiver: address, shares: uint256, supply_rules: uint256):
    """
    @dev snekmate's `_mint` inlined on the supply and holding it reads. A receiver other than the
         vault (its dead shares) must be able to hold the fractions: the identity registry's MINT
         (verified, so not the zero address, not frozen, of an admitted jurisdiction, within the
         maximum balance with them).
    @param supply_rules `_supply_rules` as it stands.
    """
    supply: uint256 = supply_rules & _BALANCE
    assert supply + shares < SUPPLY_CAP, "vault: supply cap"
    holding: uint256 = self._holdings[receiver]
    if receiver != self:
        # `_comply` written out: every deposit and contribution asks it.
        _: uint256 = staticcall IDENTITY_REGISTRY.check_move(self, _MINT, receiver, 0, receiver, holding, shares, supply_rules)
    revenue._checkpoint(receiver, holding & _BALANCE, revenue._synced_acc(supply))
    # supply + shares < SUPPLY_CAP: no carry out of the supply field.
    self._supply_rules = unsafe_add(supply_rules, shares)
    # balance <= supply < new_supply < SUPPLY_CAP.
    self._holdings[receiver] = unsafe_add(holding, shares)
    log IERC20.Transfer(sender=empty(address), receiver=receiver, value=shares)


@view
@internal
def _require_collateral():
    assert msg.sender == COLLATERAL.address, "vault: caller is not the collateral"


@view
@internal
def _require_not_paused():
    revenue._require_not_paused()


@view
@internal
def _supply() -> uint256:
    return self._supply_rules & _BALANCE


@view
@internal
def _unfrozen(owner: address) -> uint256:
    """
    @dev What `owner` may redeem or move: 0 if fully frozen, else its balance less the frozen part.
    """
    holding: uint256 = self._holdings[owner]
    if holding >= _FULL_FREEZE:
        return 0
    # frozen <= balance, kept so by every write.
    return unsafe_sub(holding & _BALANCE, (holding >> _FROZEN_SHIFT) & _BALANCE)


@view
@internal
def _room(receiver: address) -> uint256:
    """
    @dev Fractions `receiver` may still be minted now: 0 unless entries are open and it may hold
         (verified, not frozen, of an admitted jurisdiction), else what the maximum balance leaves.
    """
    if not self._can_enter() or not self._can_comply(_MINT, receiver, receiver, 1):
        return 0
    cap: uint256 = self._supply_rules >> _CAP_SHIFT
    if cap == 0:
        return max_value(uint256)
    # The check passed: balance + 1 <= cap.
    return unsafe_sub(cap, self._holdings[receiver] & _BALANCE)


@view
@internal
def _can_price() -> bool:
    """
    @dev Whether a flow could price now: not paused, and the collateral has no more due changes
         than a flow matures itself.
    """
    return not revenue._paused() and staticcall COLLATERAL.pending() <= _MATURE_STEPS


@view
@internal
def _can_enter() -> bool:
    """
    @dev Whether a deposit or mint could be priced now: not paused, and the collateral takes
         entries (no more due changes than a flow matures, no GPU stale or returning).
    """
    return not revenue._paused() and staticcall COLLATERAL.entries_open()


@view
@internal
def _dead_shares_due(supply: uint256) -> uint256:
    if supply == 0:
        return DEAD_SHARES
    return 0


@internal
def _pull(payer: address, amount: uint256):
    """
    @dev Pull `amount` and refuse a token that delivers less (a fee on transfer would break the
         cash books: the last holder could not leave).
    """
    before: uint256 = staticcall IERC20(asset).balanceOf(self)
    assert extcall IERC20(asset).transferFrom(payer, self, amount, default_return_value=True), "vault: asset transfer failed"
    assert staticcall IERC20(asset).balanceOf(self) >= before + amount, "vault: asset arrived short (fee on transfer)"


@internal
def _pay_out(receiver: address, amount: uint256):
    assert extcall IERC20(asset).transfer(receiver, amount, default_return_value=True), "vault: asset transfer failed"


@view
@internal
def _total_assets() -> uint256:
    return self.free_cash + staticcall COLLATERAL.value()


@internal
def _current_total_assets() -> uint256:
    return self.free_cash + extcall COLLATERAL.current_value()


@pure
@internal
def _to_shares(assets: uint256, total_assets: uint256, supply: uint256, roundup: bool) -> uint256:
    return self._mul_div(assets, supply + _VIRTUAL_SHARES, total_assets + 1, roundup)


@pure
@internal
def _to_assets(shares: uint256, total_assets: uint256, supply: uint256, roundup: bool) -> uint256:
    return self._mul_div(shares, total_assets + 1, supply + _VIRTUAL_SHARES, roundup)


@pure
@internal
def _mul_div(x: uint256, y: uint256, denominator: uint256, roundup: bool) -> uint256:
    """
    @dev x * y / denominator, rounded as asked. The product is checked (reverts on overflow) rather
         than computed in 512 bits (snekmate's math._mul_div): supply stays below 2**127 and NAV
         below 2**128 (MAX_CASH, GpuCollateral's MAX_COST), so x * y < 2**255 for every
         conversion of an accepted amount.
    """
    product: uint256 = x * y
    quotient: uint256 = product // denominator
    if roundup and product % denominator != 0:
        # quotient < product // 1 when the remainder is non-zero, so it cannot overflow.
        quotient = unsafe_add(quotient, 1)
    return quotient
