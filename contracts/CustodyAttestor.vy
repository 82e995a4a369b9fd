# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title CustodyAttestor
@custom:contract-name CustodyAttestor
@license AGPL-3.0-only
@notice Custodians' signed attestations of GPUs, one contract per GpuRegistry (it holds the
        registry's ATTESTER_ROLE, the only way in to `GpuRegistry.attest`). Custodians sign, off
        chain, the EIP-712 struct `Attestation(uint256[] tokenIds,uint256 attestedAt)` in the
        domain ("GPU RWA Custody", "1", chain id, this contract): "these units were seen in place
        and running at `attestedAt`". Anyone then submits the batch with its signatures and the
        units' holder: signers recovered in order must be strictly ascending addresses, each
        holding the registry's CUSTODIAN_ROLE when the batch is submitted, and at least
        `required(holder)` of them (an M-of-N quorum: the admin's `threshold`, raised for one
        pool by `pool_threshold`). The registry then checks the units (held by `holder`, not
        retired, the time not in the future and newer than their last attestation) and records it.
        The holder is not signed: custodians vouch for the hardware, not for who owns the token.
@custom:security
        - Each signed message is accepted once: its digest is recorded (`submitted`), so the same
          signatures cannot be replayed, in any encoding. The domain binds them to this chain and
          this contract; the time must be newer than the units' last attestation, so a message
          signed before a later attestation is dead too.
        - snekmate's ecdsa refuses high-s (malleable) signatures; only 65-byte signatures with v
          27 or 28 are read (no EIP-2098 compact form).
        - A custodian's role is read when the batch is submitted: revoking CUSTODIAN_ROLE voids
          every signature of that custodian not yet submitted.
        - Ascending signers rule out counting one custodian twice without storage.
        - The registry and the pools' collateral contracts it calls are trusted code; the digest
          is recorded before the call.
@custom:kill
        The registry's admin revokes ATTESTER_ROLE from this contract (no attestation at all), or
        CUSTODIAN_ROLE from a compromised custodian (its signatures stop counting at once). The
        pools' GPUs then go stale, which the vaults read as zero collateral.
"""


from contracts.interfaces import ICustodyAttestor
implements: ICustodyAttestor


from contracts.interfaces import IGpuRegistry


from snekmate.auth import access_control
initializes: access_control


from snekmate.utils import eip712_domain_separator
initializes: eip712_domain_separator


# Stateless: needs no `initializes`.
from snekmate.utils import ecdsa


exports: (
    # Roles: DEFAULT_ADMIN_ROLE sets the thresholds.
    access_control.__interface__,
    # ERC-5267: the EIP-712 domain custodians sign in.
    eip712_domain_separator.eip712Domain,
)


# @dev Most signatures a batch carries (the ABI bound of `signatures`), and the highest threshold.
MAX_SIGNERS: public(constant(uint256)) = 16


# @dev Most units a batch attests (the ABI bound of `token_ids`; the registry's MAX_ATTEST_BATCH).
MAX_IDS: public(constant(uint256)) = 1_024


# @dev The EIP-712 type custodians sign.
_ATTESTATION_TYPEHASH: constant(bytes32) = keccak256(
    "Attestation(uint256[] tokenIds,uint256 attestedAt)"
)


# @dev The registry's custodians (GpuRegistry.CUSTODIAN_ROLE): who may sign.
_CUSTODIAN_ROLE: constant(bytes32) = keccak256("CUSTODIAN_ROLE")


# @dev The registry whose units are attested; this contract holds its ATTESTER_ROLE.
GPU_REGISTRY: public(immutable(IGpuRegistry))


# @dev Signatures every attestation needs, 1 to MAX_SIGNERS.
threshold: public(uint256)


# @dev Signatures an attestation of a holder's units needs at least (0: `threshold` alone).
pool_threshold: public(HashMap[address, uint256])


# @dev Digests already submitted: each signed message is accepted once.
submitted: public(HashMap[bytes32, bool])


@deploy
def __init__(gpu_registry_: address, threshold_: uint256):
    """
    @notice Deploys the attestor of `gpu_registry_`; the deployer gets DEFAULT_ADMIN_ROLE. The
            registry's admin then grants this contract the registry's ATTESTER_ROLE.
    @param gpu_registry_ The GpuRegistry.
    @param threshold_ Signatures every attestation needs, 1 to MAX_SIGNERS.
    """
    assert gpu_registry_.is_contract, "attestor: registry is not a contract"
    GPU_REGISTRY = IGpuRegistry(gpu_registry_)
    access_control.__init__()
    eip712_domain_separator.__init__("GPU RWA Custody", "1")
    self._set_threshold(threshold_)


# ATTESTATION #


@external
def submit(
    holder: address,
    token_ids: DynArray[uint256, MAX_IDS],
    attested_at: uint256,
    signatures: DynArray[Bytes[65], MAX_SIGNERS],
) -> bytes32:
    """
    @notice Anyone: submits the custodians' signed attestation that `token_ids` were in place and
            running at `attested_at`, and records it on the registry for `holder`'s units.
    @dev Reverts "attestor: already submitted" for a digest seen before, "attestor: too few
         signatures" below `required(holder)`, "attestor: invalid signature" for a signature that
         is not 65 bytes or whose v is not 27 or 28 (snekmate's ecdsa: "ecdsa: invalid signature
         `s` value" for a high s, "ecdsa: invalid signature" if nothing is recovered), "attestor:
         signers not ascending" unless each signer's address is above the previous one's,
         "attestor: signer is not a custodian" for a signer without the registry's CUSTODIAN_ROLE;
         then whatever `GpuRegistry.attest` refuses. Logs AttestationSubmitted, then the
         registry's GpuAttested per unit.
    @param holder The owner of every unit (checked by the registry; not signed).
    @param token_ids The units signed for, in the signed order.
    @param attested_at The signed time: at most now, after each unit's last attestation.
    @param signatures 65-byte (r, s, v) signatures of `digest(token_ids, attested_at)`, ordered by
           signer address, ascending.
    @return bytes32 The digest, now submitted.
    """
    # The array hashed here, not by an internal function: that would copy it (32 KB of memory
    # with MAX_IDS) once more, ~22k gas a submission. At most MAX_IDS words: the product cannot
    # overflow.
    digest: bytes32 = self._digest(
        keccak256(
            slice(abi_encode(token_ids, ensure_tuple=False), 32, unsafe_mul(len(token_ids), 32))
        ),
        attested_at,
    )
    assert not self.submitted[digest], "attestor: already submitted"
    assert len(signatures) >= self._required(holder), "attestor: too few signatures"

    signers: DynArray[address, MAX_SIGNERS] = []
    previous: uint256 = 0
    for signature: Bytes[65] in signatures:
        signer: address = self._recover(digest, signature)
        assert convert(signer, uint256) > previous, "attestor: signers not ascending"
        assert staticcall GPU_REGISTRY.hasRole(
            _CUSTODIAN_ROLE, signer
        ), "attestor: signer is not a custodian"
        signers.append(signer)
        previous = convert(signer, uint256)

    self.submitted[digest] = True
    log ICustodyAttestor.AttestationSubmitted(
        digest=digest,
        holder=holder,
        attested_at=attested_at,
        gpus=len(token_ids),
        signers=signers,
        submitter=msg.sender,
    )
    extcall GPU_REGISTRY.attest(holder, token_ids, attested_at)
    return digest


# THRESHOLDS #


@external
def set_threshold(threshold_: uint256):
    """
    @notice DEFAULT_ADMIN_ROLE: the signatures every attestation needs.
    @dev Signatures collected for batches not yet submitted are counted against the new value.
    @param threshold_ 1 to MAX_SIGNERS.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self._set_threshold(threshold_)


@external
def set_pool_threshold(holder: address, threshold_: uint256):
    """
    @notice DEFAULT_ADMIN_ROLE: the signatures an attestation of `holder`'s units needs at least
            (a pool's collateral contract whose GPUs want a larger quorum).
    @param holder The units' owner, e.g. a pool's GpuCollateral.
    @param threshold_ 0 (the registry-wide `threshold` alone) to MAX_SIGNERS.
    """
    access_control._check_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    assert threshold_ <= MAX_SIGNERS, "attestor: threshold out of range"
    log ICustodyAttestor.UpdatePoolThreshold(
        holder=holder, previous=self.pool_threshold[holder], current=threshold_
    )
    self.pool_threshold[holder] = threshold_


# VIEWS #


@external
@view
def digest(token_ids: DynArray[uint256, MAX_IDS], attested_at: uint256) -> bytes32:
    """
    @notice The EIP-712 hash custodians sign: `Attestation(tokenIds, attestedAt)` in this
            contract's domain (see `eip712Domain`).
    @param token_ids The units, in the order they will be submitted.
    @param attested_at The time the units were seen.
    @return bytes32 The digest to sign (and `submitted`'s key).
    """
    # At most MAX_IDS words: the product cannot overflow.
    return self._digest(
        keccak256(
            slice(abi_encode(token_ids, ensure_tuple=False), 32, unsafe_mul(len(token_ids), 32))
        ),
        attested_at,
    )


@external
@view
def required(holder: address) -> uint256:
    """
    @notice Signatures an attestation of `holder`'s units needs.
    @param holder The units' owner.
    @return uint256 max(threshold, pool_threshold[holder]).
    """
    return self._required(holder)


# INTERNAL #


@internal
@view
def _digest(ids_hash: bytes32, attested_at: uint256) -> bytes32:
    """
    @dev The EIP-712 digest of `Attestation(tokenIds, attestedAt)`. `ids_hash` is the array as
         EIP-712 encodes it: the keccak256 of its elements' 32-byte words, packed (its ABI
         encoding without the length word; `submit` and `digest` compute it in place).
    """
    return eip712_domain_separator._hash_typed_data_v4(
        keccak256(abi_encode(_ATTESTATION_TYPEHASH, ids_hash, attested_at))
    )


@internal
def _set_threshold(threshold_: uint256):
    """
    @dev Reverts "attestor: threshold out of range" unless 1 <= `threshold_` <= MAX_SIGNERS;
         logs UpdateThreshold (from 0 at deployment).
    """
    assert threshold_ != 0 and threshold_ <= MAX_SIGNERS, "attestor: threshold out of range"
    log ICustodyAttestor.UpdateThreshold(previous=self.threshold, current=threshold_)
    self.threshold = threshold_


@internal
@view
def _required(holder: address) -> uint256:
    """
    @dev max(threshold, pool_threshold[holder]).
    """
    return max(self.threshold, self.pool_threshold[holder])


@internal
@pure
def _recover(digest: bytes32, signature: Bytes[65]) -> address:
    """
    @dev The signer of a 65-byte (r, s, v) signature; snekmate's ecdsa refuses a high s and a
         signature that recovers nothing.
    """
    assert len(signature) == 65, "attestor: invalid signature"
    v: uint256 = convert(slice(signature, 64, 1), uint256)
    assert v == 27 or v == 28, "attestor: invalid signature"
    return ecdsa._recover_vrs(
        digest,
        v,
        extract32(signature, 0, output_type=uint256),
        extract32(signature, 32, output_type=uint256),
    )
