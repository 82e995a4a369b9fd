# pragma version ~=0.4.3
# pragma nonreentrancy off
# pragma optimize codesize
"""
@title CollateralVault
@license GNU Affero General Public License v3.0 only
@notice One pool: holds GPU tokens of the shared GpuRegistry and stablecoin, and issues the pool's
        fraction token (ERC-20 + EIP-2612 permit, ERC-4626 over the stablecoin).
        - NAV (`totalAssets`) = free cash + the collateral value of the GPUs it counts, where a GPU's
          collateral value is its straight-line book value times ADVANCE_RATE_BPS. The sum is kept
          in O(1) by the `depreciation` module (aggregate schedules, lazily matured end times), never
          above the sum of per-GPU values (see its rounding argument). A GPU sold above it is a gain.
        - GPUs come in by `contribute` (fractions minted at NAV for the value that came in) or
          `buy_gpu` (free cash paid, at most the value that came in). No flow takes a GPU out yet:
          sales and liquidations come with the wind-down issue and must pay the value in.
        - Fractions are bought at NAV (`deposit`/`mint`, or `buy`/`buy_with_permit` with a minimum
          out and a deadline) and redeemed instantly from free cash (`redeem`/`withdraw`);
          `maxRedeem`/`maxWithdraw` say how much can leave now (a script bounds the price with
          `previewRedeem`). The queued path (ERC-7540 style)
          comes later: it will reserve cash in a bucket of its own next to `free_cash`.
        - Leases live in the pool's LeaseManager contract (kept apart for EIP-170); it calls
          `collect_instalment`, which pulls each instalment from the payer and, less a fee
          (fee_bps <= MAX_FEE_BPS, accrued for `fee_recipient`), streams it to holders through the
          `revenue` module (vests over `vesting_period`, pulled with `claim`). Revenue is outside
          NAV. `counts(token_id)` tells the LeaseManager which GPUs it may lease.
        - Every fraction movement checks the shared IdentityRegistry: both sides of transfer and
          transferFrom, the receiver of deposit/mint/contribute, the owner and receiver of
          redeem/withdraw.
        Rounding is always against the caller (shares out rounded down, shares in rounded up), with
        a decimals offset of DECIMALS_OFFSET (virtual shares and one virtual asset, as in snekmate's
        erc4626) so an empty-vault donation attack costs the attacker about 1e6 times what it takes
        from a victim. Cash is accounted internally (free_cash + revenue held + accrued fees); a
        donation moves no price and stays outside the books (balance - books = donations).
@custom:security Pause (PAUSER_ROLE pauses, DEFAULT_ADMIN_ROLE unpauses) stops exactly: transfer,
        transferFrom, deposit, mint, buy, buy_with_permit, withdraw, redeem, contribute,
        buy_gpu, claim, claim_fees. It does not stop: collect_instalment (LeaseManager's
        pay_instalment: money coming in is not refused; it vests as usual), LeaseManager's
        open_lease, impair_gpu and sync_gpu (they can only lower NAV), process_maturities, approve,
        permit, role management and the fee setters. The flag is this contract's own (snekmate
        pausable's events and revert reasons), packed into the revenue module's accumulator slot,
        which transfer, claim, mint and burn read anyway.
        No reentrancy lock (a storage lock on shanghai): every external flow follows
        checks-effects-interactions with the trusted stablecoin and registry, calls last.
@custom:kill `pause()` from PAUSER_ROLE: no fraction moves and no cash leaves; instalments are still
        accepted and accounted.
"""


from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626
implements: IERC4626


from .interfaces import ICollateralVault
from .interfaces import IGpuRegistry
from .interfaces import IIdentityRegistry


from snekmate.auth import ownable
initializes: ownable


from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]


from snekmate.auth import access_control
initializes: access_control


from . import depreciation
initializes: depreciation


from . import revenue
initializes: revenue


exports: (
    # ERC-20 + EIP-2612 + EIP-5267 (transfer and transferFrom are this contract's own, below).
    erc20.approve,
    erc20.allowance,
    erc20.balanceOf,
    erc20.totalSupply,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    # Left out on purpose:
    # - erc20.transfer, erc20.transferFrom: replaced by versions that check identities and
    #   checkpoint revenue before moving a balance;
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
    # Left out on purpose (the runtime code must stay under the EIP-170 limit with snekmate's
    # immutables): access_control.set_role_admin (every role is administered by
    # DEFAULT_ADMIN_ROLE), access_control.supportsInterface.
    # Pause is this contract's own (`pause`, `unpause`, `paused`, with snekmate pausable's events
    # and revert reasons): its flag is packed into a revenue slot the hot paths read anyway.
    # Left out (EIP-170): revenue.account_state, revenue.undistributed (in `unvested`),
    # depreciation.intercept_sum, .slope_sum, .nodes (in `collateral_value`, `end_time_hint`).
    revenue.vesting_period,
    revenue.revenue_state,
    revenue.received,
    revenue.held,
    depreciation.salvage_sum,
    depreciation.head,
    depreciation.counted,
)


# keccak256("OPERATOR_ROLE"): brings GPUs in, opens leases.
OPERATOR_ROLE: public(constant(bytes32)) = keccak256("OPERATOR_ROLE")
# keccak256("APPRAISER_ROLE"): impairs GPUs held by the vault.
APPRAISER_ROLE: public(constant(bytes32)) = keccak256("APPRAISER_ROLE")
# keccak256("LEASE_MANAGER_ROLE"): the LeaseManager contract, which collects instalments.
LEASE_MANAGER_ROLE: public(constant(bytes32)) = keccak256("LEASE_MANAGER_ROLE")
# keccak256("PAUSER_ROLE"): pauses (the admin unpauses).
PAUSER_ROLE: public(constant(bytes32)) = keccak256("PAUSER_ROLE")
# Highest servicing fee, in basis points.
MAX_FEE_BPS: public(constant(uint256)) = 2_000
# Fractions have DECIMALS_OFFSET more decimals than the stablecoin (inflation defence).
DECIMALS_OFFSET: public(constant(uint256)) = 6
# Basis points denominator.
_BPS: constant(uint256) = 10_000
# Virtual shares of the conversions.
_VIRTUAL_SHARES: constant(uint256) = 10**DECIMALS_OFFSET
# IGpuRegistry.GpuStatus values as the registry encodes them (flags: powers of two).
_ACTIVE: constant(uint256) = 1
_IMPAIRED: constant(uint256) = 8
_RETIRED: constant(uint256) = 16
# Total supply stays below this (the revenue remainder is packed in 128 bits).
_SUPPLY_CAP: constant(uint256) = 2**127


# The stablecoin (ERC-4626 `asset`).
asset: public(immutable(address))
# The shared GPU registry.
GPU_REGISTRY: public(immutable(IGpuRegistry))
# The shared identity registry.
IDENTITY_REGISTRY: public(immutable(IIdentityRegistry))
# Collateral value / book value, in basis points.
ADVANCE_RATE_BPS: public(immutable(uint256))


# The registry's terms of a GPU the vault needs (IGpuRegistry.Gpu without its strings).
struct _GpuTerms:
    cost: uint256
    start: uint256
    life: uint256
    salvage: uint256
    status: uint256


# Stablecoin available for redemptions and GPU purchases (in NAV).
free_cash: public(uint256)
# Servicing fees accrued and not yet paid to the fee recipient (outside NAV).
accrued_fees: public(uint256)
# Servicing fee on each instalment, in basis points.
fee_bps: public(uint256)
# Receives the servicing fees and skimmed donations.
fee_recipient: public(address)
# token id -> the vault's position in that GPU.
positions: public(HashMap[uint256, ICollateralVault.GpuPosition])
# Number of GPUs the vault holds (counted or not).
gpus_held: public(uint256)


@deploy
def __init__(
    asset_: address,
    gpu_registry_: address,
    identity_registry_: address,
    name_: String[25],
    symbol_: String[5],
    advance_rate_bps_: uint256,
    fee_bps_: uint256,
    fee_recipient_: address,
    vesting_period_: uint256,
):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE; the deploy script grants the other roles, and
            the registry's LEASE_MANAGER_ROLE and APPRAISER_ROLE to this vault.
    @param asset_ The stablecoin (an ERC-20 with `decimals`).
    @param gpu_registry_ The shared GpuRegistry.
    @param identity_registry_ The shared IdentityRegistry.
    @param name_ Fraction token name (also the EIP-712 domain name).
    @param symbol_ Fraction token symbol.
    @param advance_rate_bps_ Collateral value / book value, in (0, 10_000].
    @param fee_bps_ Servicing fee on instalments, at most MAX_FEE_BPS.
    @param fee_recipient_ Receives fees.
    @param vesting_period_ Seconds over which each payment vests, in [1 day, 365 days].
    """
    assert asset_.is_contract, "vault: asset is not a contract"
    assert gpu_registry_.is_contract, "vault: gpu registry is not a contract"
    assert identity_registry_.is_contract, "vault: identity registry is not a contract"
    assert len(name_) != 0, "vault: empty name"
    assert len(symbol_) != 0, "vault: empty symbol"
    assert advance_rate_bps_ != 0, "vault: zero advance rate"
    assert advance_rate_bps_ <= _BPS, "vault: advance rate above 100%"
    assert fee_bps_ <= MAX_FEE_BPS, "vault: fee above maximum"
    assert fee_recipient_ != empty(address), "vault: zero fee recipient"
    asset_decimals: uint8 = staticcall IERC20Detailed(asset_).decimals()
    assert asset_decimals <= 30, "vault: asset decimals too large"

    asset = asset_
    GPU_REGISTRY = IGpuRegistry(gpu_registry_)
    IDENTITY_REGISTRY = IIdentityRegistry(identity_registry_)
    ADVANCE_RATE_BPS = advance_rate_bps_
    self.fee_bps = fee_bps_
    self.fee_recipient = fee_recipient_

    ownable.__init__()
    erc20.__init__(name_, symbol_, asset_decimals + convert(DECIMALS_OFFSET, uint8), name_, "1")
    access_control.__init__()
    depreciation.__init__()
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
    self._move(msg.sender, to, amount)
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
    self._move(owner, to, amount)
    return True


# ERC-4626 #


@view
@external
def totalAssets() -> uint256:
    """
    @notice NAV: free cash plus the collateral value of the GPUs the vault counts (revenue and fees
            are outside it).
    @return uint256 Stablecoin units.
    """
    return self._total_assets()


@view
@external
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Fractions worth `assets` at NAV, rounded down.
    """
    return self._to_shares(assets, self._total_assets(), erc20.totalSupply, False)


@view
@external
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Stablecoin worth `shares` at NAV, rounded down.
    """
    return self._to_assets(shares, self._total_assets(), erc20.totalSupply, False)


@view
@external
def maxDeposit(receiver: address) -> uint256:
    """
    @notice Most `deposit` accepts for `receiver`: 0 while paused or if `receiver` is not verified.
    """
    if revenue._paused() or not self._is_verified(receiver):
        return 0
    return max_value(uint256)


@view
@external
def maxMint(receiver: address) -> uint256:
    """
    @notice Most `mint` accepts for `receiver`: 0 while paused or if `receiver` is not verified.
    """
    if revenue._paused() or not self._is_verified(receiver):
        return 0
    supply: uint256 = erc20.totalSupply
    if supply >= _SUPPLY_CAP:
        return 0
    return unsafe_sub(_SUPPLY_CAP, supply)


@view
@external
def maxWithdraw(owner: address) -> uint256:
    """
    @notice Stablecoin `owner` can withdraw now: its fractions at NAV, bounded by free cash; 0 while
            paused or if `owner` is not verified.
    """
    if revenue._paused() or not self._is_verified(owner):
        return 0
    assets: uint256 = self._to_assets(erc20.balanceOf[owner], self._total_assets(), erc20.totalSupply, False)
    return min(assets, self.free_cash)


@view
@external
def maxRedeem(owner: address) -> uint256:
    """
    @notice Fractions `owner` can redeem now: its balance, bounded by what free cash pays at NAV;
            0 while paused or if `owner` is not verified.
    """
    if revenue._paused() or not self._is_verified(owner):
        return 0
    cash_shares: uint256 = self._to_shares(self.free_cash, self._total_assets(), erc20.totalSupply, False)
    return min(erc20.balanceOf[owner], cash_shares)


@view
@external
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Fractions `deposit(assets)` mints now (rounded down).
    """
    return self._to_shares(assets, self._total_assets(), erc20.totalSupply, False)


@view
@external
def previewMint(shares: uint256) -> uint256:
    """
    @notice Stablecoin `mint(shares)` takes now (rounded up).
    """
    return self._to_assets(shares, self._total_assets(), erc20.totalSupply, True)


@view
@external
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Fractions `withdraw(assets)` burns now (rounded up).
    """
    return self._to_shares(assets, self._total_assets(), erc20.totalSupply, True)


@view
@external
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Stablecoin `redeem(shares)` pays now (rounded down).
    """
    return self._to_assets(shares, self._total_assets(), erc20.totalSupply, False)


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Pay `assets` of stablecoin, mint fractions at NAV (rounded down) to `receiver`.
    @param assets Stablecoin units, pulled from the caller (approve first).
    @param receiver A verified investor.
    @return uint256 Fractions minted.
    """
    return self._buy(assets, receiver, 0)


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares` fractions to `receiver`, paying their NAV (rounded up).
    @param shares Fraction units.
    @param receiver A verified investor.
    @return uint256 Stablecoin paid.
    """
    self._require_not_paused()
    self._require_verified(receiver)
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    supply: uint256 = erc20.totalSupply
    assets: uint256 = self._to_assets(shares, self._total_assets(), supply, True)
    assert shares != 0, "vault: zero shares"
    self._issue(msg.sender, receiver, assets, shares, supply)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `owner`'s fractions worth `assets` at NAV (rounded up), pay `assets` from free cash.
    @param assets Stablecoin units, at most `maxWithdraw(owner)`.
    @param receiver A verified address that receives the stablecoin.
    @param owner A verified holder (the caller, or one that approved the caller).
    @return uint256 Fractions burnt.
    """
    self._require_not_paused()
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    assert assets != 0, "vault: zero assets"
    shares: uint256 = self._to_shares(assets, self._total_assets(), erc20.totalSupply, True)
    self._redeem(owner, receiver, assets, shares)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `shares` of `owner`'s fractions, pay their NAV (rounded down) from free cash.
    @param shares Fraction units, at most `maxRedeem(owner)`.
    @param receiver A verified address that receives the stablecoin.
    @param owner A verified holder (the caller, or one that approved the caller).
    @return uint256 Stablecoin paid.
    """
    return self._sell(shares, receiver, owner, 0)


# BUY (the scripts' path: minimum out and deadline) #


@external
def buy(assets: uint256, receiver: address, min_shares: uint256, deadline: uint256) -> uint256:
    """
    @notice `deposit` with a bound on the price and a deadline.
    @param assets Stablecoin units, pulled from the caller.
    @param receiver A verified investor.
    @param min_shares Revert if fewer fractions would be minted.
    @param deadline Revert after this time.
    @return uint256 Fractions minted.
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
    @param min_shares Revert if fewer fractions would be minted.
    @param deadline Revert after this time (also the permit's deadline).
    @param v Permit signature.
    @param r Permit signature.
    @param s Permit signature.
    @return uint256 Fractions minted.
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


# GPUS #


@external
def contribute(token_id: uint256, receiver: address, min_shares: uint256, hint: uint256) -> uint256:
    """
    @notice The operator brings in a GPU it owns (approve the vault on the registry first);
            fractions for the collateral value that came in are minted at NAV (rounded down).
    @param token_id An ACTIVE GPU owned by the caller.
    @param receiver A verified investor receiving the fractions.
    @param min_shares Revert if fewer fractions would be minted.
    @param hint The end-time list position (`end_time_hint(token_id)`).
    @return uint256 Fractions minted.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    self._require_not_paused()
    self._require_verified(receiver)
    assert staticcall GPU_REGISTRY.ownerOf(token_id) == msg.sender, "vault: caller does not own the gpu"
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    total_before: uint256 = self._total_assets()
    supply: uint256 = erc20.totalSupply
    value: uint256 = self._count_gpu(token_id, hint)
    shares: uint256 = self._to_shares(value, total_before, supply, False)
    assert shares != 0, "vault: zero shares"
    assert shares >= min_shares, "vault: slippage: too few shares"
    self._mint(receiver, shares, supply)
    log ICollateralVault.GpuContributed(
        token_id=token_id, contributor=msg.sender, receiver=receiver, value=value, shares=shares
    )
    extcall GPU_REGISTRY.transferFrom(msg.sender, self, token_id)
    return shares


@external
def buy_gpu(token_id: uint256, price: uint256, hint: uint256):
    """
    @notice The operator buys a GPU from its owner with free cash, at no more than the collateral
            value it brings in (the owner approves the vault on the registry first).
    @param token_id An ACTIVE GPU.
    @param price Stablecoin paid to the owner.
    @param hint The end-time list position (`end_time_hint(token_id)`).
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    self._require_not_paused()
    assert price != 0, "vault: zero price"
    cash: uint256 = self.free_cash
    assert price <= cash, "vault: insufficient free cash"
    seller: address = staticcall GPU_REGISTRY.ownerOf(token_id)
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    value: uint256 = self._count_gpu(token_id, hint)
    assert price <= value, "vault: price above collateral value"
    # price <= cash, checked above.
    self.free_cash = unsafe_sub(cash, price)
    log ICollateralVault.GpuPurchased(token_id=token_id, seller=seller, price=price, value=value)
    extcall GPU_REGISTRY.transferFrom(seller, self, token_id)
    self._pay_out(seller, price)


@external
def impair_gpu(token_id: uint256):
    """
    @notice The appraiser marks a GPU held by the vault IMPAIRED: it stops counting at once.
    @param token_id A counted GPU of this vault.
    """
    access_control._check_role(APPRAISER_ROLE, msg.sender)
    assert self.positions[token_id].counted, "vault: gpu not counted"
    value: uint256 = self._uncount_gpu(token_id)
    log ICollateralVault.GpuImpaired(token_id=token_id, value_removed=value, sender=msg.sender)
    extcall GPU_REGISTRY.set_status(token_id, IGpuRegistry.GpuStatus.IMPAIRED)


@external
def sync_gpu(token_id: uint256):
    """
    @notice Anyone: stop counting a GPU whose registry status is IMPAIRED or RETIRED (a change made
            on the registry directly rather than through `impair_gpu`).
    @param token_id A counted GPU of this vault.
    """
    assert self.positions[token_id].counted, "vault: gpu not counted"
    status: uint256 = self._gpu(token_id).status
    assert status == _IMPAIRED or status == _RETIRED, "vault: gpu still counts"
    value: uint256 = self._uncount_gpu(token_id)
    log ICollateralVault.GpuDropped(token_id=token_id, value_removed=value, sender=msg.sender)


@external
def process_maturities(max_steps: uint256) -> uint256:
    """
    @notice Anyone: move up to `max_steps` past end times from the depreciation line to salvage
            (state-changing calls do up to 16 themselves; views are exact up to 64 pending; some
            are pending while `head()` is non-zero and not after now).
    @param max_steps Most end times to process.
    @return uint256 How many were processed.
    """
    assert max_steps != 0, "vault: zero steps"
    return depreciation._mature(max_steps)


# LEASE REVENUE #


@external
def collect_instalment(lease_id: uint256, payer: address, amount: uint256) -> uint256:
    """
    @notice LEASE_MANAGER_ROLE (the LeaseManager contract only): pull an instalment from `payer`
            (who approved this vault); the fee accrues to the fee recipient and the rest is streamed
            to holders over `vesting_period`. Allowed while paused: money coming in is not refused.
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
    new_rate: uint256 = 0
    vesting_end: uint256 = 0
    new_rate, vesting_end = revenue._distribute(net, erc20.totalSupply)
    log ICollateralVault.RevenueDistributed(
        lease_id=lease_id, payer=payer, amount=amount, fee=fee, rate=new_rate, vesting_end=vesting_end
    )
    self._pull(payer, amount)
    return fee


# REVENUE #


@external
def claim(receiver: address = msg.sender) -> uint256:
    """
    @notice Pull the caller's vested revenue (whole stablecoin units; the sub-unit rest stays owed).
    @param receiver Who receives it (default: the caller).
    @return uint256 Stablecoin paid.
    """
    acc_rem: uint256 = revenue._require_not_paused()
    assert receiver != empty(address), "revenue: zero receiver"
    amount: uint256 = revenue._claim(msg.sender, erc20.balanceOf[msg.sender], erc20.totalSupply, acc_rem)
    assert amount != 0, "revenue: nothing to claim"
    log ICollateralVault.RevenueClaimed(account=msg.sender, receiver=receiver, amount=amount)
    self._pay_out(receiver, amount)
    return amount


@external
def claim_fees() -> uint256:
    """
    @notice Anyone: pay the accrued servicing fees to the fee recipient.
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
    @notice DEFAULT_ADMIN_ROLE: who receives fees and skimmed donations.
    @param fee_recipient_ Non-zero.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert fee_recipient_ != empty(address), "vault: zero fee recipient"
    log ICollateralVault.UpdateFeeRecipient(previous=self.fee_recipient, current=fee_recipient_)
    self.fee_recipient = fee_recipient_


# VIEWS #


@view
@external
def collateral_value() -> uint256:
    """
    @notice Collateral value of every GPU the vault counts (the aggregate in NAV). It never
            exceeds the sum over counted GPUs of
            `GPU_REGISTRY.book_value(id) * ADVANCE_RATE_BPS // 10_000` (see `depreciation`).
    """
    return depreciation._value(ADVANCE_RATE_BPS)


@view
@external
def counts(token_id: uint256) -> bool:
    """
    @notice Whether the vault holds `token_id` and counts it in NAV (what a lease needs).
    """
    return self.positions[token_id].counted


@view
@external
def end_time_hint(token_id: uint256) -> uint256:
    """
    @notice The `hint` that `contribute` and `buy_gpu` need for this GPU (walks the list; off-chain).
    """
    gpu: _GpuTerms = self._gpu(token_id)
    return depreciation._hint_for(gpu.start + gpu.life)


@view
@external
def claimable(account: address) -> uint256:
    """
    @notice Revenue `account` can claim now (stablecoin units).
    """
    return revenue._claimable(account, erc20.balanceOf[account], erc20.totalSupply)


@view
@external
def paused() -> bool:
    """
    @notice Whether the vault is paused (see the module docstring for what that stops).
    """
    return revenue._paused()


@view
@external
def unvested() -> uint256:
    """
    @notice Revenue received and not yet vested, the parked rest included (stablecoin units).
    """
    return revenue._unvested()


# INTERNAL #


@internal
def _move(owner: address, to: address, amount: uint256):
    """
    @dev transfer and transferFrom: snekmate's `_transfer` inlined on the balances the checkpoints
         already read (the registry never verifies the zero address, so neither side is zero).
    """
    acc_rem: uint256 = revenue._require_not_paused()
    owner_ok: bool = False
    to_ok: bool = False
    owner_ok, to_ok = staticcall IDENTITY_REGISTRY.are_verified(owner, to)
    assert owner_ok, "identity: sender not verified"
    assert to_ok, "identity: receiver not verified"
    owner_balance: uint256 = erc20.balanceOf[owner]
    assert owner_balance >= amount, "erc20: transfer amount exceeds balance"
    to_balance: uint256 = erc20.balanceOf[to]
    acc: uint256 = revenue._acc_now(erc20.totalSupply, acc_rem)
    revenue._checkpoint(owner, owner_balance, acc)
    revenue._checkpoint(to, to_balance, acc)
    if owner != to:
        # amount <= owner_balance, checked above.
        erc20.balanceOf[owner] = unsafe_sub(owner_balance, amount)
        # Balances sum to the supply, below _SUPPLY_CAP = 2**127.
        erc20.balanceOf[to] = unsafe_add(to_balance, amount)
    log IERC20.Transfer(sender=owner, receiver=to, value=amount)


@internal
def _buy(assets: uint256, receiver: address, min_shares: uint256) -> uint256:
    self._require_not_paused()
    self._require_verified(receiver)
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    supply: uint256 = erc20.totalSupply
    shares: uint256 = self._to_shares(assets, self._total_assets(), supply, False)
    assert shares != 0, "vault: zero shares"
    assert shares >= min_shares, "vault: slippage: too few shares"
    self._issue(msg.sender, receiver, assets, shares, supply)
    return shares


@internal
def _issue(payer: address, receiver: address, assets: uint256, shares: uint256, supply: uint256):
    # Transfer in before minting.
    self._pull(payer, assets)
    self.free_cash += assets
    self._mint(receiver, shares, supply)
    log IERC4626.Deposit(sender=payer, owner=receiver, assets=assets, shares=shares)


@internal
def _sell(shares: uint256, receiver: address, owner: address, min_assets: uint256) -> uint256:
    self._require_not_paused()
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    assets: uint256 = self._to_assets(shares, self._total_assets(), erc20.totalSupply, False)
    assert assets != 0, "vault: zero assets"
    assert assets >= min_assets, "vault: slippage: too few assets"
    self._redeem(owner, receiver, assets, shares)
    return assets


@internal
def _redeem(owner: address, receiver: address, assets: uint256, shares: uint256):
    owner_ok: bool = False
    receiver_ok: bool = False
    owner_ok, receiver_ok = staticcall IDENTITY_REGISTRY.are_verified(owner, receiver)
    assert owner_ok, "identity: owner not verified"
    assert receiver_ok, "identity: receiver not verified"
    cash: uint256 = self.free_cash
    assert assets <= cash, "vault: insufficient free cash"
    if msg.sender != owner:
        erc20._spend_allowance(owner, msg.sender, shares)
    # Burn before transferring out.
    revenue._checkpoint(owner, erc20.balanceOf[owner], revenue._synced_acc(erc20.totalSupply))
    erc20._burn(owner, shares)
    # assets <= cash, checked above.
    self.free_cash = unsafe_sub(cash, assets)
    log IERC4626.Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)
    self._pay_out(receiver, assets)


@internal
def _mint(receiver: address, shares: uint256, supply: uint256):
    """
    @dev snekmate's `_mint` inlined on the supply and balance already read (`receiver` is verified,
         so not the zero address).
    """
    new_supply: uint256 = supply + shares
    assert new_supply < _SUPPLY_CAP, "vault: supply cap"
    balance: uint256 = erc20.balanceOf[receiver]
    revenue._checkpoint(receiver, balance, revenue._synced_acc(supply))
    erc20.totalSupply = new_supply
    # balance <= supply < new_supply < _SUPPLY_CAP.
    erc20.balanceOf[receiver] = unsafe_add(balance, shares)
    log IERC20.Transfer(sender=empty(address), receiver=receiver, value=shares)


@internal
def _count_gpu(token_id: uint256, hint: uint256) -> uint256:
    """
    @dev Start counting an incoming GPU; returns the collateral value it adds to NAV.
    """
    gpu: _GpuTerms = self._gpu(token_id)
    assert gpu.status == _ACTIVE, "vault: gpu not active"
    before: uint256 = depreciation._value(ADVANCE_RATE_BPS)
    slope: uint256 = 0
    on_line: bool = False
    slope, on_line = depreciation._add(gpu.cost, gpu.salvage, gpu.start, gpu.life, hint)
    after: uint256 = depreciation._value(ADVANCE_RATE_BPS)
    self.positions[token_id] = ICollateralVault.GpuPosition(
        held=True,
        counted=True,
        on_line=on_line,
        cost=gpu.cost,
        salvage=gpu.salvage,
        start=gpu.start,
        life=gpu.life,
        slope=slope,
    )
    self.gpus_held += 1
    if after <= before:
        return 0
    # after > before, checked above.
    return unsafe_sub(after, before)


@internal
def _uncount_gpu(token_id: uint256) -> uint256:
    """
    @dev Stop counting a GPU; returns the collateral value it took out of NAV.
    """
    depreciation._mature(depreciation.MAX_MATURE_STEPS)
    position: ICollateralVault.GpuPosition = self.positions[token_id]
    before: uint256 = depreciation._value(ADVANCE_RATE_BPS)
    depreciation._remove(position.cost, position.salvage, position.start, position.life, position.slope, position.on_line)
    after: uint256 = depreciation._value(ADVANCE_RATE_BPS)
    self.positions[token_id].counted = False
    if before <= after:
        return 0
    # before > after, checked above.
    return unsafe_sub(before, after)


@view
@internal
def _require_not_paused():
    revenue._require_not_paused()


@view
@internal
def _require_verified(receiver: address):
    assert self._is_verified(receiver), "identity: receiver not verified"


@view
@internal
def _is_verified(account: address) -> bool:
    return staticcall IDENTITY_REGISTRY.is_verified(account)


@view
@internal
def _gpu(token_id: uint256) -> _GpuTerms:
    """
    @dev The fixed-size fields of `GPU_REGISTRY.gpu(token_id)`, read from their ABI positions
         (word 0 is the tuple offset, then model offset, serial hash, data centre offset, cost,
         acquired at, useful life, salvage, status): decoding the two strings as well would cost
         the vault ~400 bytes of its EIP-170 budget.
    """
    response: Bytes[288] = raw_call(
        GPU_REGISTRY.address,
        abi_encode(token_id, method_id=method_id("gpu(uint256)")),
        max_outsize=288,
        is_static_call=True,
    )
    assert len(response) == 288, "vault: unknown gpu"
    return _GpuTerms(
        cost=extract32(response, 128, output_type=uint256),
        start=extract32(response, 160, output_type=uint256),
        life=extract32(response, 192, output_type=uint256),
        salvage=extract32(response, 224, output_type=uint256),
        status=extract32(response, 256, output_type=uint256),
    )


@internal
def _pull(payer: address, amount: uint256):
    assert extcall IERC20(asset).transferFrom(payer, self, amount, default_return_value=True), "vault: asset transfer failed"


@internal
def _pay_out(receiver: address, amount: uint256):
    assert extcall IERC20(asset).transfer(receiver, amount, default_return_value=True), "vault: asset transfer failed"


@view
@internal
def _total_assets() -> uint256:
    return self.free_cash + depreciation._value(ADVANCE_RATE_BPS)


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
         than computed in 512 bits (snekmate's math._mul_div, 1 KB more bytecode): supply stays
         below 2**127 and NAV below 2**128, so x * y < 2**255 for every conversion here.
    """
    product: uint256 = x * y
    quotient: uint256 = product // denominator
    if roundup and product % denominator != 0:
        # quotient < product // 1 when the remainder is non-zero, so it cannot overflow.
        quotient = unsafe_add(quotient, 1)
    return quotient
