# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title IdentityRegistry
@license GNU Affero General Public License v3.0 only
@notice Which addresses are verified investors (KYC done off-chain by the compliance officer),
        until when, and under which jurisdiction (ISO 3166-1 numeric code). An address is verified
        while `block.timestamp < expires_at`; expiry needs no transaction. One registry is shared
        by every vault and read on every fraction movement, so an identity is one packed slot and
        `are_verified` answers both sides of a transfer in one call.
@custom:security Only COMPLIANCE_ROLE changes identities; DEFAULT_ADMIN_ROLE (governance, later a
                 timelock) grants and revokes that role. The zero address is never verified, so a
                 vault can never mint to or transfer to it through a verification gap.
@custom:kill Revoke COMPLIANCE_ROLE from every holder: identities then only expire, and every vault
             that reads this registry stops accepting fraction movements to expired accounts.
"""


from snekmate.auth import access_control
initializes: access_control


from .interfaces import IIdentityRegistry
implements: IIdentityRegistry


exports: access_control.__interface__


# keccak256("COMPLIANCE_ROLE"): verifies and revokes investors.
COMPLIANCE_ROLE: public(constant(bytes32)) = keccak256("COMPLIANCE_ROLE")
# Largest batch `verify_batch` / `revoke_batch` accept (bounds a transaction's gas).
MAX_BATCH: public(constant(uint256)) = 256
# Low 64 bits of a packed identity: its expiry.
_EXPIRY_MASK: constant(uint256) = 2**64 - 1


# account -> expires_at (bits 0..63) | jurisdiction (bits 64..79): one SLOAD per check.
_identities: HashMap[address, uint256]


@deploy
def __init__():
    """
    @notice The deployer becomes DEFAULT_ADMIN_ROLE; the deploy script grants COMPLIANCE_ROLE.
    """
    access_control.__init__()


# IDENTITY MANAGEMENT #


@external
def verify(account: address, expires_at: uint64, jurisdiction: uint16):
    """
    @notice Verify `account` until `expires_at` under `jurisdiction` (also renews or re-files it).
    @param account The investor.
    @param expires_at Unix time at which the verification lapses; must be in the future.
    @param jurisdiction ISO 3166-1 numeric country code, non-zero.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    self._verify(account, expires_at, jurisdiction)


@external
def verify_batch(accounts: DynArray[address, MAX_BATCH], expires_at: uint64, jurisdiction: uint16):
    """
    @notice `verify` for many accounts with the same expiry and jurisdiction.
    @param accounts The investors (at most MAX_BATCH).
    @param expires_at Unix time at which the verifications lapse; must be in the future.
    @param jurisdiction ISO 3166-1 numeric country code, non-zero.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert len(accounts) != 0, "identity: empty batch"
    for account: address in accounts:
        self._verify(account, expires_at, jurisdiction)


@external
def revoke(account: address):
    """
    @notice End `account`'s verification now.
    @param account A currently verified investor.
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    self._revoke(account)


@external
def revoke_batch(accounts: DynArray[address, MAX_BATCH]):
    """
    @notice `revoke` for many accounts; every one must currently be verified.
    @param accounts The investors (at most MAX_BATCH).
    """
    access_control._check_role(COMPLIANCE_ROLE, msg.sender)
    assert len(accounts) != 0, "identity: empty batch"
    for account: address in accounts:
        self._revoke(account)


# VIEWS #


@view
@external
def is_verified(account: address) -> bool:
    """
    @notice Whether `account` is verified right now.
    @param account Any address.
    @return bool True while the verification has not expired or been revoked.
    """
    return self._is_verified(account)


@view
@external
def are_verified(first: address, second: address) -> (bool, bool):
    """
    @notice `is_verified` for two accounts in one call (sender and receiver of a transfer).
    @param first Any address.
    @param second Any address.
    @return (bool, bool) Whether each is verified right now.
    """
    # `_is_verified` written out (~115 gas less than two calls): vaults ask this on every transfer.
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
        jurisdiction=convert(packed >> 64, uint16),
    )


# INTERNAL #


@internal
def _verify(account: address, expires_at: uint64, jurisdiction: uint16):
    assert account != empty(address), "identity: zero address"
    assert convert(expires_at, uint256) > block.timestamp, "identity: expiry not in the future"
    assert jurisdiction != 0, "identity: zero jurisdiction"
    self._identities[account] = convert(expires_at, uint256) | (convert(jurisdiction, uint256) << 64)
    log IIdentityRegistry.IdentityVerified(
        account=account, expires_at=expires_at, jurisdiction=jurisdiction, sender=msg.sender
    )


@internal
def _revoke(account: address):
    assert self._is_verified(account), "identity: not verified"
    self._identities[account] = 0
    log IIdentityRegistry.IdentityRevoked(account=account, sender=msg.sender)


@view
@internal
def _is_verified(account: address) -> bool:
    return (self._identities[account] & _EXPIRY_MASK) > block.timestamp
