# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title PoolCompliance
@license GNU Affero General Public License v3.0 only
@notice One pool's compliance desk, with the ERC-7943 (uRWA) surface for its fraction token.
        - The compliance officer (COMPLIANCE_ROLE, an emergency power: immediate) freezes an
          address entirely (`freeze`/`unfreeze`: it can neither send, receive, redeem, request
          nor claim) or a number of its fractions (`set_frozen_tokens`, ERC-7943
          `setFrozenTokens`: those move by no path, the rest moves normally); forces a transfer to
          another address that may hold the fractions (`force_transfer`, ERC-7943
          `forcedTransfer`: the frozen shortfall is unfrozen); and recovers a lost wallet
          (`recover`: its balance, frozen amount, full freeze, unclaimed revenue and pending
          redemption requests move to the investor's new wallet, and the lost one is frozen
          entirely so that nothing reaches it again).
        - The admin (DEFAULT_ADMIN_ROLE: the timelock, so after a notice period) sets the pool's
          jurisdiction rules: a mode (every jurisdiction, only the listed ones, or all but the
          listed ones), the list (kept per pool by the identity registry) and a maximum balance
          per investor, checked on every path that makes someone a holder.
        Every action is an event with a reason hash (the off-chain order, court decision or
        ticket); the vault emits ERC-7943's Frozen and ForcedTransfer with the Transfer events.
        This contract validates and records; the vault applies (ENFORCER_ROLE on the vault, on
        the queue for a recovery's requests) and the identity registry's `check_move` enforces
        the rules on every fraction movement.
@custom:security Freezes work while the vault is paused (they move nothing); forced transfers and
        recoveries wait for the unpause, as every fraction movement does. A forced transfer never
        goes to the holder itself. Invariant 12 (frozen fractions move only by a recorded forced
        transfer or recovery) holds because the vault's every other path asks `check_move`.
@custom:kill Revoke COMPLIANCE_ROLE from every holder: no freeze changes and no forced moves;
        existing freezes stay in force.
"""


from ethereum.ercs import IERC165
from snekmate.auth import access_control
initializes: access_control


exports: (
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
)


interface IVault:
    def balanceOf(account: address) -> uint256: view
    def totalSupply() -> uint256: view
    def getFrozenTokens(account: address) -> uint256: view
    def is_frozen(account: address) -> bool: view
    def rules() -> (uint256, uint256): view
    def packed(account: address) -> (uint256, uint256): view
    def canTransfer(owner: address, to: address, amount: uint256) -> bool: view
    def IDENTITY_REGISTRY() -> address: view
    def enforce_freeze(account: address, frozen: uint256, full: bool): nonpayable
    def enforce_move(owner: address, to: address, amount: uint256, recovery: bool): nonpayable
    def enforce_rules(mode: uint256, max_balance: uint256): nonpayable


interface IRegistry:
    def set_jurisdictions(pool: address, codes: DynArray[uint16, MAX_JURISDICTIONS], listed: bool): nonpayable
    def is_verified(account: address) -> bool: view


interface IQueue:
    def VAULT() -> address: view
    def move_requests(lost: address, new: address, request_ids: DynArray[uint256, MAX_RECOVERED_REQUESTS]) -> uint256: nonpayable


# The compliance officer froze, unfroze or changed the frozen amount of `account`.
event FreezeUpdated:
    account: indexed(address)
    frozen: uint256
    full: bool
    reason: bytes32
    sender: indexed(address)


# The compliance officer moved `amount` of `owner`'s fractions to `receiver`.
event TransferForced:
    owner: indexed(address)
    receiver: indexed(address)
    amount: uint256
    reason: bytes32
    sender: indexed(address)


# The compliance officer recovered `lost` into `new`.
event WalletRecovered:
    lost: indexed(address)
    new: indexed(address)
    amount: uint256
    frozen: uint256
    full: bool
    requests: uint256
    reason: bytes32
    sender: address


event JurisdictionModeUpdated:
    previous: uint256
    current: uint256


event MaxBalanceUpdated:
    previous: uint256
    current: uint256


# keccak256("COMPLIANCE_ROLE"): freezes, forces transfers, recovers wallets.
COMPLIANCE_ROLE: public(constant(bytes32)) = keccak256("COMPLIANCE_ROLE")
# Jurisdiction modes.
ADMIT_ALL: public(constant(uint256)) = 0
ALLOW_LIST: public(constant(uint256)) = 1
BLOCK_LIST: public(constant(uint256)) = 2
# Largest jurisdiction list change (the identity registry's MAX_JURISDICTIONS).
MAX_JURISDICTIONS: constant(uint256) = 64
# Pending requests a recovery moves (the queue's MAX_OPEN_PER_CONTROLLER).
MAX_RECOVERED_REQUESTS: constant(uint256) = 16
# The vault's supply cap: the maximum balance stays below it.
_SUPPLY_CAP: constant(uint256) = 2**127
# IdentityRegistry.MINT: the receiver's side of a movement.
_MINT: constant(uint256) = 3
# ERC-165 ids: IERC165 and ERC-7943's fungible interface.
_IERC165_ID: constant(bytes4) = 0x01FFC9A7
_IERC7943_ID: constant(bytes4) = 0x3EDBB4C4


# The pool's fraction token.
VAULT: public(immutable(IVault))
# The shared identity registry (it keeps the pool's jurisdiction list).
IDENTITY_REGISTRY: public(immutable(IRegistry))
# The pool's RedemptionQueue (a recovery moves its pending requests).
QUEUE: public(immutable(IQueue))


@deploy
def __init__(vault_: address, queue_: address):
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE (the deploy hands it to the timelock) and
            grants COMPLIANCE_ROLE; it also grants this contract ENFORCER_ROLE on the vault and
            on the queue.
    @param vault_ The pool's CollateralVault.
    @param queue_ The pool's RedemptionQueue.
    """
    assert vault_.is_contract, "compliance: vault is not a contract"
    assert staticcall IQueue(queue_).VAULT() == vault_, "compliance: queue of another vault"
    VAULT = IVault(vault_)
    QUEUE = IQueue(queue_)
    IDENTITY_REGISTRY = IRegistry(staticcall VAULT.IDENTITY_REGISTRY())
    access_control.__init__()


# FREEZES (COMPLIANCE_ROLE) #


@external
def freeze(account: address, reason: bytes32):
    """
    @notice Freeze `account` entirely: it can neither send, receive, redeem, request, cancel nor
            claim; its fractions move only by a forced transfer or a recovery.
    @param account Any address but the vault.
    @param reason Hash of the order or ticket behind it.
    """
    self._set_freeze(account, staticcall VAULT.getFrozenTokens(account), True, reason)


@external
def unfreeze(account: address, reason: bytes32):
    """
    @notice Lift `account`'s full freeze (a partial freeze stays).
    @param account An address frozen entirely.
    @param reason Hash of the order or ticket behind it.
    """
    assert staticcall VAULT.is_frozen(account), "compliance: not frozen"
    self._set_freeze(account, staticcall VAULT.getFrozenTokens(account), False, reason)


@external
def set_frozen_tokens(account: address, amount: uint256, reason: bytes32):
    """
    @notice Freeze exactly `amount` of `account`'s fractions (0 unfreezes them); the rest of its
            balance moves normally unless it is frozen entirely.
    @param account A holder.
    @param amount Fraction units, at most its balance.
    @param reason Hash of the order or ticket behind it.
    """
    self._set_freeze(account, amount, staticcall VAULT.is_frozen(account), reason)


@external
def setFrozenTokens(account: address, amount: uint256) -> bool:
    """
    @notice ERC-7943: `set_frozen_tokens` with no reason recorded.
    @param account A holder.
    @param amount Fraction units, at most its balance.
    @return bool True.
    """
    self._set_freeze(account, amount, staticcall VAULT.is_frozen(account), empty(bytes32))
    return True


# FORCED TRANSFER AND RECOVERY (COMPLIANCE_ROLE) #


@external
def force_transfer(owner: address, to: address, amount: uint256, reason: bytes32) -> bool:
    """
    @notice Move `amount` of `owner`'s fractions to `to` whatever `owner`'s freezes or
            verification (a court order, a sanction): frozen fractions are unfrozen as far as
            needed. `to` must be able to hold them (verified, not frozen, of an admitted
            jurisdiction, within the maximum balance). Revenue is checkpointed on both sides.
    @param owner The holder.
    @param to Another address.
    @param amount Fraction units, non-zero, at most `owner`'s balance.
    @param reason Hash of the order behind it.
    @return bool True.
    """
    self._force(owner, to, amount, reason)
    return True


@external
def forcedTransfer(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice ERC-7943: `force_transfer` with no reason recorded.
    @param owner The holder.
    @param to Another address.
    @param amount Fraction units, non-zero, at most `owner`'s balance.
    @return bool True.
    """
    self._force(owner, to, amount, empty(bytes32))
    return True


@external
def recover(
    lost: address,
    new: address,
    request_ids: DynArray[uint256, MAX_RECOVERED_REQUESTS],
    reason: bytes32,
) -> uint256:
    """
    @notice Recover an investor's lost wallet into its new one: the balance, the frozen amount
            and a full freeze (a freeze follows the investor, as in ERC-3643), the revenue accrued
            and not claimed, and the redemption requests it controls (every pending one must be
            listed; its claimable and cancelled shares follow). The lost wallet is then frozen
            entirely, so nothing can reach it again.
    @param lost The lost wallet.
    @param new The investor's new wallet: verified, not frozen, of an admitted jurisdiction,
           within the maximum balance once it holds the lost balance.
    @param request_ids Every pending request `lost` controls (the queue's `requests` view).
    @param reason Hash of the identity check behind it.
    @return uint256 The fractions moved.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert new != lost, "compliance: same wallet"
    # The vault's own account is its dead shares and the queue's escrow: no one's wallet.
    assert lost != VAULT.address, "compliance: the vault itself"
    amount: uint256 = staticcall VAULT.balanceOf(lost)
    frozen: uint256 = staticcall VAULT.getFrozenTokens(lost)
    full: bool = staticcall VAULT.is_frozen(lost)
    new_frozen: uint256 = staticcall VAULT.getFrozenTokens(new)
    extcall VAULT.enforce_move(lost, new, amount, True)
    if frozen != 0 or full:
        extcall VAULT.enforce_freeze(new, new_frozen + frozen, full)
    extcall VAULT.enforce_freeze(lost, 0, True)
    requests: uint256 = extcall QUEUE.move_requests(lost, new, request_ids)
    log WalletRecovered(
        lost=lost,
        new=new,
        amount=amount,
        frozen=frozen,
        full=full,
        requests=requests,
        reason=reason,
        sender=msg.sender,
    )
    return amount


# JURISDICTION RULES (DEFAULT_ADMIN_ROLE: the timelock) #


@external
def set_jurisdiction_mode(mode: uint256):
    """
    @notice What the pool's jurisdiction list means: ADMIT_ALL (no restriction), ALLOW_LIST
            (only the listed jurisdictions may become holders) or BLOCK_LIST (all but them).
    @param mode ADMIT_ALL, ALLOW_LIST or BLOCK_LIST.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert mode <= BLOCK_LIST, "compliance: unknown jurisdiction mode"
    previous: uint256 = 0
    max_balance: uint256 = 0
    previous, max_balance = staticcall VAULT.rules()
    log JurisdictionModeUpdated(previous=previous, current=mode)
    extcall VAULT.enforce_rules(mode, max_balance)


@external
def set_jurisdictions(codes: DynArray[uint16, MAX_JURISDICTIONS], listed: bool):
    """
    @notice Put `codes` on the pool's jurisdiction list, or take them off (the identity registry
            keeps the list and logs JurisdictionsListed).
    @param codes ISO 3166-1 numeric codes (1 to 999).
    @param listed Whether they are listed.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    for code: uint16 in codes:
        assert code <= 999, "compliance: not an ISO 3166-1 numeric code"
    extcall IDENTITY_REGISTRY.set_jurisdictions(VAULT.address, codes, listed)


@external
def set_max_balance(max_balance: uint256):
    """
    @notice The most fractions one investor may hold (0: no maximum). Holders above a new maximum
            keep their fractions but receive no more.
    @param max_balance Fraction units, below the vault's supply cap.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert max_balance < _SUPPLY_CAP, "compliance: maximum balance too large"
    mode: uint256 = 0
    previous: uint256 = 0
    mode, previous = staticcall VAULT.rules()
    log MaxBalanceUpdated(previous=previous, current=max_balance)
    extcall VAULT.enforce_rules(mode, max_balance)


# ERC-7943 VIEWS #


@view
@external
def canSend(account: address) -> bool:
    """
    @notice ERC-7943: whether `account` may transfer fractions now: verified and not frozen
            entirely (an unverified holder may still exit to itself: redeem and claim).
    @param account Any address.
    @return bool True if it may send.
    """
    return staticcall IDENTITY_REGISTRY.is_verified(account) and not staticcall VAULT.is_frozen(account)


@view
@external
def canReceive(account: address) -> bool:
    """
    @notice ERC-7943: whether `account` may receive fractions now: verified, not frozen entirely,
            of a jurisdiction the pool admits, and below the maximum balance.
    @param account Any address.
    @return bool True if it may receive one fraction unit.
    """
    holding: uint256 = 0
    rules: uint256 = 0
    holding, rules = staticcall VAULT.packed(account)
    return raw_call(
        IDENTITY_REGISTRY.address,
        abi_encode(
            VAULT.address,
            _MINT,
            account,
            holding,
            account,
            holding,
            convert(1, uint256),
            rules,
            method_id=method_id("check_move(address,uint256,address,uint256,address,uint256,uint256,uint256)"),
        ),
        is_static_call=True,
        revert_on_failure=False,
    )


@view
@external
def canTransfer(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice ERC-7943: the vault's `canTransfer`.
    @param owner The holder.
    @param to The receiver.
    @param amount Fraction units.
    @return bool True if the transfer would pass now.
    """
    return staticcall VAULT.canTransfer(owner, to, amount)


@view
@external
def getFrozenTokens(account: address) -> uint256:
    """
    @notice ERC-7943: the vault's `getFrozenTokens`.
    @param account Any address.
    @return uint256 Fraction units.
    """
    return staticcall VAULT.getFrozenTokens(account)


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice ERC-165: IERC165 and ERC-7943's fungible interface.
    @param interface_id The interface identifier.
    @return bool True if supported.
    """
    return interface_id in [_IERC165_ID, _IERC7943_ID]


# INTERNAL #


@internal
def _set_freeze(account: address, amount: uint256, full: bool, reason: bytes32):
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert account != VAULT.address, "compliance: the vault itself"
    assert amount <= staticcall VAULT.balanceOf(account), "compliance: frozen above balance"
    log FreezeUpdated(account=account, frozen=amount, full=full, reason=reason, sender=msg.sender)
    extcall VAULT.enforce_freeze(account, amount, full)


@internal
def _force(owner: address, to: address, amount: uint256, reason: bytes32):
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert to != owner, "compliance: transfer to itself"
    # The vault's own account is its dead shares and the queue's escrow: no one's to move.
    assert owner != VAULT.address, "compliance: the vault itself"
    assert amount != 0, "compliance: zero amount"
    log TransferForced(owner=owner, receiver=to, amount=amount, reason=reason, sender=msg.sender)
    extcall VAULT.enforce_move(owner, to, amount, False)
