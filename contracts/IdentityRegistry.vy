# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title IdentityRegistry
@license GNU Affero General Public License v3.0 only
@notice Which addresses are verified investors (KYC done off-chain by the compliance officer),
        until when, and under which jurisdiction (ISO 3166-1 numeric code). An address is verified
        while `block.timestamp < expires_at`; expiry needs no transaction. One registry is shared
        by every vault and read on every fraction movement, so an identity is one packed slot;
        `are_verified` (the queue) answers both sides in one call, and `check_move` judges a
        vault's every fraction movement against identities, freezes and the pool's rules
        (jurisdiction list, kept here per pool, and maximum balance) in the one call the vault
        makes.
        An officer verifies directly (`verify`), or signs, off chain, the EIP-712 struct
        `Verification(address account,uint16 jurisdiction,uint64 expiresAt,uint256 nonce,
        uint256 deadline)` in the domain ("GPU RWA Identity", "1", chain id, this contract), and
        the investor submits it with `onboard`, paying the gas (self-onboarding).
@custom:security
        - Only COMPLIANCE_ROLE changes identities, directly or by signature; DEFAULT_ADMIN_ROLE
          (governance, later a timelock) grants and revokes that role. The zero address is never
          verified, so a vault can never mint to or transfer to it through a verification gap.
        - A signed verification is bound to one account nonce: `onboard` consumes it, and every
          identity change by an officer (`verify`, `verify_batch`, `revoke`, `revoke_batch`) and
          `invalidate` bump it, so a signature is accepted once and dies when the officer acts
          on the account after signing it (a revocation is never undone by an older signature).
          The nonce shares the identity's slot: verifying costs no extra storage write.
        - The signer's COMPLIANCE_ROLE is read at submission: revoking an officer voids every
          signature of it not yet submitted. The domain binds a signature to this chain and this
          contract; `deadline` bounds how long a signature lives, `expiresAt` how long the
          identity does.
        - Only 65-byte signatures with v 27 or 28 and s in the low half are read (no EIP-2098
          compact form, no malleable twin); snekmate's ecdsa refuses one that recovers nothing.
@custom:kill Revoke COMPLIANCE_ROLE from every holder: identities then only expire, no signed
             verification is accepted any more, and every vault that reads this registry stops
             accepting fraction movements to expired accounts.
"""


from snekmate.auth import access_control
initializes: access_control


from snekmate.auth.interfaces import IAccessControl

from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator


# Stateless: needs no `initializes`.
from snekmate.utils import ecdsa


from .interfaces import IIdentityRegistry
implements: IIdentityRegistry


exports: (
    # Roles: DEFAULT_ADMIN_ROLE grants COMPLIANCE_ROLE.
    access_control.__interface__,
    # ERC-5267: the EIP-712 domain officers sign verifications in.
    eip712_domain_separator.eip712Domain,
)


# keccak256("COMPLIANCE_ROLE"): verifies and revokes investors, signs verifications.
COMPLIANCE_ROLE: public(constant(bytes32)) = keccak256("COMPLIANCE_ROLE")
# Largest batch `verify_batch` / `revoke_batch` accept (bounds a transaction's gas).
MAX_BATCH: public(constant(uint256)) = 256
# The EIP-712 type compliance officers sign for `onboard`.
VERIFICATION_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Verification(address account,uint16 jurisdiction,uint64 expiresAt,uint256 nonce,"
    "uint256 deadline)"
)
# Low 64 bits of a packed identity: its expiry.
_EXPIRY_MASK: constant(uint256) = 2**64 - 1
# keccak256("ENFORCER_ROLE"): on a vault, its PoolCompliance, which sets the pool's jurisdiction
# list here.
ENFORCER_ROLE: public(constant(bytes32)) = keccak256("ENFORCER_ROLE")
# Kinds of fraction movement `check_move` judges (the CollateralVault passes them).
TRANSFER: public(constant(uint256)) = 0  # transfer, transferFrom
ESCROW: public(constant(uint256)) = 1  # into or out of the redemption queue's escrow
FORCED: public(constant(uint256)) = 2  # a forced transfer or a recovery
MINT: public(constant(uint256)) = 3  # deposit, mint, buy, a contributed GPU
EXIT: public(constant(uint256)) = 4  # redeem, withdraw, sell
CLAIM: public(constant(uint256)) = 5  # revenue claimed
PAYEE: public(constant(uint256)) = 6  # free cash paid for a GPU bought in
# Jurisdiction modes of a pool (bits 127..128 of its rules word).
ALLOW_LIST: public(constant(uint256)) = 1
BLOCK_LIST: public(constant(uint256)) = 2
# Largest list `set_jurisdictions` takes.
MAX_JURISDICTIONS: public(constant(uint256)) = 64
# A vault's holding: balance (bits 0..126), frozen amount (128..254), full freeze (255); its rules
# word: supply (0..126), jurisdiction mode (127..128), maximum balance (129..255, 0: none).
_BALANCE: constant(uint256) = 2**127 - 1
_FROZEN_SHIFT: constant(uint256) = 128
_FULL_FREEZE: constant(uint256) = 2**255
_MODE_SHIFT: constant(uint256) = 127
_CAP_SHIFT: constant(uint256) = 129
# Bits 64..79 of a packed identity: its jurisdiction.
_JURISDICTION_SHIFT: constant(uint256) = 64
_JURISDICTION_MASK: constant(uint256) = 2**16 - 1
# Bits 80..255 of a packed identity: the account's nonce (below it, the identity itself).
_NONCE_SHIFT: constant(uint256) = 80
_IDENTITY_MASK: constant(uint256) = 2**80 - 1


# account -> expires_at (bits 0..63) | jurisdiction (bits 64..79) | nonce (bits 80..255): one
# SLOAD per check, one SSTORE per identity change.
_identities: HashMap[address, uint256]
# pool (vault) -> code // 256 -> a bit per listed jurisdiction.
_lists: HashMap[address, HashMap[uint256, uint256]]


@deploy
def __init__():
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE; the deploy script grants COMPLIANCE_ROLE.
    """
    access_control.__init__()
    eip712_domain_separator.__init__("GPU RWA Identity", "1")


# IDENTITY MANAGEMENT #


@external
def verify(account: address, expires_at: uint64, jurisdiction: uint16):
    """
    @notice Verify `account` until `expires_at` under `jurisdiction` (also renews or re-files it).
    @dev Bumps the account's nonce: a signed verification not yet submitted is void.
    @param account The investor.
    @param expires_at Unix time at which the verification lapses; must be in the future.
    @param jurisdiction ISO 3166-1 numeric country code, non-zero.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    self._verify(account, expires_at, jurisdiction, self._identities[account], msg.sender)


@external
def verify_batch(accounts: DynArray[address, MAX_BATCH], expires_at: uint64, jurisdiction: uint16):
    """
    @notice `verify` for many accounts with the same expiry and jurisdiction.
    @dev Bumps each account's nonce.
    @param accounts The investors (at most MAX_BATCH).
    @param expires_at Unix time at which the verifications lapse; must be in the future.
    @param jurisdiction ISO 3166-1 numeric country code, non-zero.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert len(accounts) != 0, "identity: empty batch"
    for account: address in accounts:
        self._verify(account, expires_at, jurisdiction, self._identities[account], msg.sender)


@external
def revoke(account: address):
    """
    @notice End `account`'s verification now.
    @dev Bumps the account's nonce: a verification signed before cannot undo the revocation.
    @param account A currently verified investor.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    self._revoke(account)


@external
def revoke_batch(accounts: DynArray[address, MAX_BATCH]):
    """
    @notice `revoke` for many accounts; every one must currently be verified.
    @dev Bumps each account's nonce.
    @param accounts The investors (at most MAX_BATCH).
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert len(accounts) != 0, "identity: empty batch"
    for account: address in accounts:
        self._revoke(account)


# POOL JURISDICTION LISTS #


@external
def set_jurisdictions(pool: address, codes: DynArray[uint16, MAX_JURISDICTIONS], listed: bool):
    """
    @notice The pool's PoolCompliance (ENFORCER_ROLE on the vault `pool`): put `codes` on the
            pool's jurisdiction list, or take them off. The pool's mode says what the list means
            (admitted only, or refused).
    @param pool The vault.
    @param codes ISO 3166-1 numeric codes, non-zero.
    @param listed Whether they are listed.
    """
    assert staticcall IAccessControl(pool).hasRole(ENFORCER_ROLE, msg.sender), "identity: caller is not the pool's enforcer"
    assert len(codes) != 0, "identity: empty batch"
    for code: uint16 in codes:
        assert code != 0, "identity: zero jurisdiction"
        word: uint256 = convert(code, uint256) >> 8
        bit: uint256 = 1 << (convert(code, uint256) & 255)
        if listed:
            self._lists[pool][word] |= bit
        else:
            self._lists[pool][word] &= ~bit
    log IIdentityRegistry.JurisdictionsListed(pool=pool, codes=codes, listed=listed, sender=msg.sender)


# SELF-ONBOARDING #


@external
def onboard(
    account: address,
    jurisdiction: uint16,
    expires_at: uint64,
    nonce: uint256,
    deadline: uint256,
    signer: address,
    signature: Bytes[65],
):
    """
    @notice Anyone (normally the investor, who pays the gas): verify `account` with a compliance
            officer's signed `Verification(account, jurisdiction, expiresAt, nonce, deadline)`.
            The identity is written as `verify` would, by the signer.
    @dev The nonce and the signer are passed (as in EIP-3009) so that each refusal says what is
         wrong: "identity: signature expired" after `deadline`, "identity: nonce not current"
         unless `nonce == nonces(account)` (a replay, or a signature the officer voided by
         verifying, revoking or invalidating the account since), "identity: invalid signature"
         for one not 65 bytes or whose v is not 27 or 28, "identity: malleable signature" for a
         high s (snekmate's "ecdsa: invalid signature" if nothing is recovered), "identity:
         signature not by signer" if it recovers another address (a field changed, another
         chain or another contract), "identity: signer is not a compliance officer" unless
         `signer` holds COMPLIANCE_ROLE now; then what `verify` refuses ("identity: zero
         address", "identity: expiry not in the future", "identity: zero jurisdiction"). Logs
         IdentityVerified (sender: the signer), then SelfOnboarded.
    @param account The investor verified.
    @param jurisdiction ISO 3166-1 numeric country code, non-zero (signed).
    @param expires_at Unix time at which the verification lapses, in the future (signed).
    @param nonce `nonces(account)` when signed; consumed.
    @param deadline Unix time after which the signature is refused (signed).
    @param signer The compliance officer who signed.
    @param signature 65-byte (r, s, v) signature of `digest(...)` by `signer`.
    """
    assert block.timestamp <= deadline, "identity: signature expired"
    packed: uint256 = self._identities[account]
    assert nonce == packed >> _NONCE_SHIFT, "identity: nonce not current"
    digest: bytes32 = self._digest(account, jurisdiction, expires_at, nonce, deadline)
    assert self._recover(digest, signature) == signer, "identity: signature not by signer"
    assert access_control.hasRole[COMPLIANCE_ROLE][
        signer
    ], "identity: signer is not a compliance officer"
    self._verify(account, expires_at, jurisdiction, packed, signer)
    log IIdentityRegistry.SelfOnboarded(account=account, signer=signer, nonce=nonce)


@external
def invalidate(account: address):
    """
    @notice Void every verification signed for `account` and not yet submitted, without changing
            its identity (e.g. one signed for an account that is not verified, which `revoke`
            refuses).
    @dev Bumps the account's nonce; logs OnboardingInvalidated with the nonce voided.
    @param account Any non-zero address.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert account != empty(address), "identity: zero address"
    packed: uint256 = self._identities[account]
    self._identities[account] = self._bump(packed, packed & _IDENTITY_MASK)
    log IIdentityRegistry.OnboardingInvalidated(
        account=account, nonce=packed >> _NONCE_SHIFT, sender=msg.sender
    )


# VIEWS #


@view
@external
def is_listed(pool: address, code: uint16) -> bool:
    """
    @notice Whether jurisdiction `code` is on `pool`'s list.
    @param pool The vault.
    @param code ISO 3166-1 numeric code.
    @return bool True if listed.
    """
    return self._listed(pool, convert(code, uint256))


@view
@external
def check_move(
    pool: address,
    kind: uint256,
    owner: address,
    owner_holding: uint256,
    receiver: address,
    receiver_holding: uint256,
    amount: uint256,
    rules: uint256,
) -> uint256:
    """
    @notice Whether `amount` fractions of `pool` may move as `kind` says; reverts with the reason
            if not. The vault passes the holdings (balance, frozen amount, full freeze) and its
            rules word, so a transfer reads no slot beyond the two identities (and the list word
            of the receiver's jurisdiction when the pool keeps a list).
            - The owner's side (TRANSFER, ESCROW, EXIT, CLAIM): not frozen entirely; the amount
              within its unfrozen balance (FORCED: within its balance, the frozen shortfall
              unfrozen). TRANSFER also needs the owner verified.
            - A receiver that becomes a holder (TRANSFER, FORCED, MINT): verified, not frozen
              entirely, of a jurisdiction the pool admits, and within the maximum balance.
            - ESCROW: the receiver not frozen entirely (the queue checks exit rights).
            - Stablecoin paid out (EXIT, CLAIM): to the owner itself whatever its verification
              (exit rights), or to a verified receiver not frozen entirely, the owner verified
              too; PAYEE (a GPU's seller): verified and not frozen entirely.
    @param pool The vault (whose jurisdiction list applies).
    @param kind TRANSFER, ESCROW, FORCED, MINT, EXIT, CLAIM or PAYEE.
    @param owner Whose fractions move (MINT, PAYEE: the receiver).
    @param owner_holding The owner's packed holding.
    @param receiver Who receives the fractions or the stablecoin.
    @param receiver_holding The receiver's packed holding.
    @param amount Fraction units.
    @param rules The vault's rules word (the mode and the maximum balance are read from it).
    @return uint256 `owner_holding`, its frozen amount lowered by the shortfall of a FORCED move.
    """
    if kind == MINT:
        # A mint's receiver, written out too (every deposit and contribution).
        identity: uint256 = self._identities[receiver]
        assert (identity & _EXPIRY_MASK) > block.timestamp, "identity: receiver not verified"
        assert receiver_holding < _FULL_FREEZE, "compliance: receiver frozen"
        if rules >> _MODE_SHIFT != 0:
            self._admit_rules(pool, identity, receiver_holding, amount, rules)
        return owner_holding
    if kind == TRANSFER:
        # The hot path, written out (no internal call: ~300 gas on every transfer): two identity
        # reads, and the list word only in a pool that keeps a list.
        assert owner_holding < _FULL_FREEZE, "compliance: account frozen"
        assert (self._identities[owner] & _EXPIRY_MASK) > block.timestamp, "identity: sender not verified"
        identity: uint256 = self._identities[receiver]
        assert (identity & _EXPIRY_MASK) > block.timestamp, "identity: receiver not verified"
        assert receiver_holding < _FULL_FREEZE, "compliance: receiver frozen"
        balance: uint256 = owner_holding & _BALANCE
        assert balance >= amount, "erc20: transfer amount exceeds balance"
        # balance >= amount, checked above; the full freeze bit is clear.
        assert owner_holding >> _FROZEN_SHIFT <= unsafe_sub(balance, amount), "compliance: fractions frozen"
        if rules >> _MODE_SHIFT != 0:
            # A transfer to oneself adds nothing to the receiver's balance.
            self._admit_rules(pool, identity, receiver_holding, amount if receiver != owner else 0, rules)
        return owner_holding
    if kind == FORCED:
        balance: uint256 = owner_holding & _BALANCE
        assert balance >= amount, "erc20: transfer amount exceeds balance"
        self._admit(pool, receiver, receiver_holding, amount, rules)
        # The frozen amount comes down to at most what is left (the shortfall unfrozen).
        rest: uint256 = unsafe_sub(balance, amount)
        frozen: uint256 = (owner_holding >> _FROZEN_SHIFT) & _BALANCE
        if frozen > rest:
            return unsafe_sub(owner_holding, unsafe_sub(frozen, rest) << _FROZEN_SHIFT)
        return owner_holding
    if kind != PAYEE:
        # ESCROW, EXIT, CLAIM: the holder's own fractions or revenue.
        assert owner_holding < _FULL_FREEZE, "compliance: account frozen"
    if kind == ESCROW:
        self._require_unfrozen(owner_holding, amount, "erc20: transfer amount exceeds balance")
        assert receiver_holding < _FULL_FREEZE, "compliance: receiver frozen"
        return owner_holding
    if receiver != owner or kind == PAYEE:
        # Stablecoin to someone else than the holder: both verified (a seller: itself), and the
        # receiver not frozen.
        receiver_ok: bool = (self._identities[receiver] & _EXPIRY_MASK) > block.timestamp
        if kind == PAYEE:
            assert receiver_ok, "identity: seller not verified"
        else:
            owner_ok: bool = (self._identities[owner] & _EXPIRY_MASK) > block.timestamp
            if kind == EXIT:
                assert owner_ok, "identity: owner not verified"
            else:
                assert owner_ok, "identity: sender not verified"
            assert receiver_ok, "identity: receiver not verified"
        assert receiver_holding < _FULL_FREEZE, "compliance: receiver frozen"
    if kind == EXIT:
        self._require_unfrozen(owner_holding, amount, "erc20: burn amount exceeds balance")
    return owner_holding


@view
@external
def is_verified(account: address) -> bool:
    """
    @notice Whether `account` is verified right now.
    @param account Any address.
    @return bool True while the verification has not expired or been revoked.
    """
    return (self._identities[account] & _EXPIRY_MASK) > block.timestamp


@view
@external
def are_verified(first: address, second: address) -> (bool, bool):
    """
    @notice `is_verified` for two accounts in one call (the two sides of a queue request or
            claim).
    @param first Any address.
    @param second Any address.
    @return (bool, bool) Whether each is verified right now.
    """
    # Written out (~115 gas less than two internal calls): asked on every fraction movement.
    return (
        (self._identities[first] & _EXPIRY_MASK) > block.timestamp,
        (self._identities[second] & _EXPIRY_MASK) > block.timestamp,
    )


@view
@external
def identity(account: address) -> IIdentityRegistry.Identity:
    """
    @notice The stored identity of `account` (zero if never verified or revoked).
    @param account Any address.
    @return Identity Its expiry and jurisdiction.
    """
    packed: uint256 = self._identities[account]
    return IIdentityRegistry.Identity(
        expires_at=convert(packed & _EXPIRY_MASK, uint64),
        jurisdiction=convert((packed >> _JURISDICTION_SHIFT) & _JURISDICTION_MASK, uint16),
    )


@view
@external
def nonces(account: address) -> uint256:
    """
    @notice The nonce the next signed verification of `account` must carry.
    @dev Starts at 0; +1 on every identity change, onboarding and `invalidate` of the account.
    @param account Any address.
    @return uint256 The current nonce.
    """
    return self._identities[account] >> _NONCE_SHIFT


@view
@external
def DOMAIN_SEPARATOR() -> bytes32:
    """
    @notice The EIP-712 domain separator verifications are signed in (see `eip712Domain`).
    @return bytes32 keccak256 of ("GPU RWA Identity", "1", chain id, this contract).
    """
    return eip712_domain_separator._domain_separator_v4()


@view
@external
def digest(
    account: address, jurisdiction: uint16, expires_at: uint64, nonce: uint256, deadline: uint256
) -> bytes32:
    """
    @notice The EIP-712 hash an officer signs for `onboard`: `Verification(account,
            jurisdiction, expiresAt, nonce, deadline)` in this contract's domain.
    @param account The investor.
    @param jurisdiction ISO 3166-1 numeric country code.
    @param expires_at When the verification lapses.
    @param nonce `nonces(account)` at signing.
    @param deadline Last second the signature is accepted.
    @return bytes32 The digest to sign.
    """
    return self._digest(account, jurisdiction, expires_at, nonce, deadline)


# INTERNAL #


@internal
def _verify(
    account: address, expires_at: uint64, jurisdiction: uint16, packed: uint256, sender: address
):
    """
    @dev Writes the identity over `packed` (the account's slot as read by the caller), bumping
         its nonce; logs IdentityVerified by `sender`.
    """
    assert account != empty(address), "identity: zero address"
    assert convert(expires_at, uint256) > block.timestamp, "identity: expiry not in the future"
    assert jurisdiction != 0, "identity: zero jurisdiction"
    self._identities[account] = self._bump(
        packed,
        convert(expires_at, uint256) | (convert(jurisdiction, uint256) << _JURISDICTION_SHIFT),
    )
    log IIdentityRegistry.IdentityVerified(
        account=account, expires_at=expires_at, jurisdiction=jurisdiction, sender=sender
    )


@internal
def _revoke(account: address):
    packed: uint256 = self._identities[account]
    assert (packed & _EXPIRY_MASK) > block.timestamp, "identity: not verified"
    self._identities[account] = self._bump(packed, 0)
    log IIdentityRegistry.IdentityRevoked(account=account, sender=msg.sender)


@pure
@internal
def _require_unfrozen(holding: uint256, amount: uint256, short: String[38]):
    """
    @dev `amount` of `holding` may leave it: within the balance (`short` otherwise) and within
         the unfrozen part of it.
    """
    balance: uint256 = holding & _BALANCE
    assert balance >= amount, short
    # balance >= amount, checked above; the full freeze bit was checked clear by the caller.
    assert holding >> _FROZEN_SHIFT <= unsafe_sub(balance, amount), "compliance: fractions frozen"


@view
@internal
def _admit(pool: address, receiver: address, holding: uint256, amount: uint256, rules: uint256):
    """
    @dev `receiver` may become a holder of `amount` more of `pool`'s fractions: verified, not
         frozen entirely, and admitted by the pool's rules.
    """
    identity: uint256 = self._identities[receiver]
    assert (identity & _EXPIRY_MASK) > block.timestamp, "identity: receiver not verified"
    assert holding < _FULL_FREEZE, "compliance: receiver frozen"
    if rules >> _MODE_SHIFT != 0:
        self._admit_rules(pool, identity, holding, amount, rules)


@view
@internal
def _admit_rules(pool: address, identity: uint256, holding: uint256, amount: uint256, rules: uint256):
    """
    @dev The pool's rules (a jurisdiction list, a maximum balance) admit the holder of `identity`
         with `amount` more: its jurisdiction listed (ALLOW_LIST) or not (BLOCK_LIST), its balance
         within the maximum.
    """
    mode: uint256 = (rules >> _MODE_SHIFT) & 3
    if mode != 0:
        listed: bool = self._listed(pool, (identity >> _JURISDICTION_SHIFT) & _JURISDICTION_MASK)
        assert listed == (mode == ALLOW_LIST), "compliance: jurisdiction not admitted"
    cap: uint256 = rules >> _CAP_SHIFT
    assert cap == 0 or (holding & _BALANCE) + amount <= cap, "compliance: balance above maximum"


@view
@internal
def _listed(pool: address, code: uint256) -> bool:
    return (self._lists[pool][code >> 8] >> (code & 255)) & 1 != 0


@internal
@pure
def _bump(packed: uint256, identity: uint256) -> uint256:
    """
    @dev The slot holding `identity` (expiry | jurisdiction << 64) and the nonce of `packed`
         plus one.
    """
    # The nonce cannot reach 2**176 - 1 (each bump is a transaction): neither the addition
    # nor the shift back loses a bit.
    return identity | (unsafe_add(packed >> _NONCE_SHIFT, 1) << _NONCE_SHIFT)


@internal
@view
def _digest(
    account: address, jurisdiction: uint16, expires_at: uint64, nonce: uint256, deadline: uint256
) -> bytes32:
    """
    @dev The EIP-712 digest of `Verification(account, jurisdiction, expiresAt, nonce,
         deadline)`.
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(
            abi_encode(VERIFICATION_TYPEHASH, account, jurisdiction, expires_at, nonce, deadline)
        )
    )


@internal
@pure
def _recover(digest: bytes32, signature: Bytes[65]) -> address:
    """
    @dev The signer of a 65-byte (r, s, v) signature. The length, v and s are checked here so
         that each refusal is the registry's own; snekmate's ecdsa refuses one that recovers
         nothing.
    """
    assert len(signature) == 65, "identity: invalid signature"
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    assert v == 27 or v == 28, "identity: invalid signature"
    s: uint256 = extract32(signature, 32, output_type=uint256)
    assert s <= ecdsa._MALLEABILITY_THRESHOLD, "identity: malleable signature"
    return ecdsa._recover_vrs(digest, v, extract32(signature, 0, output_type=uint256), s)
