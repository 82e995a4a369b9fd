# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GpuRegistry
@custom:contract-name GpuRegistry
@license AGPL-3.0-only
@notice The registry of physical GPUs (cards or servers): one ERC-721 token per unit, minted only by
        the custodian through `register`, with the unit's metadata on-chain (model, hash of the serial
        number, data centre, acquisition cost and date, useful life, salvage value, status and last
        attestation). A serial hash can be registered once. `book_value` depreciates each unit straight
        line from its acquisition cost to its salvage value over its useful life. `tokenURI` returns the
        JSON description the GpuMetadata renderer builds on-chain: no off-chain service is needed.

        Roles (snekmate access_control, `DEFAULT_ADMIN_ROLE` to the deployer):
        - CUSTODIAN_ROLE registers units, takes them offline and back, retires them, and signs
          attestations (off chain);
        - ATTESTER_ROLE (the CustodyAttestor) records an attestation once enough custodians have
          signed it: the units were seen in place and running at the signed time;
        - APPRAISER_ROLE impairs units and restores repaired ones;
        - LEASE_MANAGER_ROLE (granted to lease managers) moves units between ACTIVE and LEASED;
        - COLLATERAL_ROLE marks the pools' collateral contracts: a status change or an attestation
          of a unit such a contract holds is passed to it in the same transaction
          (`IGpuHolder.on_gpu_status` / `on_gpu_attested`), so no pool prices a unit from a status
          or an attestation the registry has already changed.
        The transition table is in IGpuRegistry.vyi and `_transition_role` below.

        Storage, per unit: five slots. Cold numbers are packed: acquisition cost and salvage value
        (uint128 each) share one slot; acquired_at, useful_life, last_attested_at (uint40 each), the
        status and the byte lengths of model and data centre share another. Model and data centre
        are kept left-aligned in one bytes32 each rather than as String[32] (two slots each).
@custom:security
        - Registration is the custodian's first attestation: `last_attested_at` starts at the block
          of `register`, and no separate GpuAttested is logged for it (GpuRegistered's block says it).
          The initial status ACTIVE likewise has no GpuStatusChanged.
        - Model and data centre accept printable ASCII without `"` and `\` only, so the JSON built by
          `tokenURI` cannot be broken or injected into.
        - Minting goes through `erc721._mint` (no receiver callback), so `register` makes no external
          call and cannot be re-entered. `safeTransferFrom` calls the receiver after every state change.
        - ERC-721 transfers are not restricted by status: who holds a unit (investor, vault) is the
          holder's business; what a unit is worth is the registry's.
        - A holder with COLLATERAL_ROLE is trusted code: if its hook reverts, so does the status
          change or attestation. Revoking the role from a contract that holds units cuts its
          notifications: the admin does it only once the contract holds none.
        - An attestation's time is the custodians' signed time, not the block's: at most now and
          after the unit's last attestation, so attestations of a unit only move forward and a
          replayed or stale message is refused.
        - Token ids are sequential from 1 and never burnt, so the "all tokens" enumeration is
          `tokenByIndex(i) = i + 1` without storage (snekmate's keeps two slots a unit for it).
@custom:kill
        In an emergency the admin revokes CUSTODIAN_ROLE, APPRAISER_ROLE, LEASE_MANAGER_ROLE and
        ATTESTER_ROLE from every holder (`revokeRole`): no unit can then be registered, attested or
        change status, and attestations go stale, which the vaults read as zero collateral.
        Transfers of existing tokens stay with their holders.
"""


from ethereum.ercs import IERC165
implements: IERC165


from ethereum.ercs import IERC721
implements: IERC721


from contracts.interfaces import IGpuRegistry
implements: IGpuRegistry


from contracts.interfaces import IGpuHolder
from contracts.interfaces import IGpuMetadata


from snekmate.auth.interfaces import IAccessControl
implements: IAccessControl


from snekmate.auth import ownable
initializes: ownable


from snekmate.tokens import erc721
initializes: erc721[ownable := ownable]


from snekmate.auth import access_control
initializes: access_control


# erc721 initialises it (for permit); this contract only re-exports its ERC-5267 getter.
from snekmate.utils import eip712_domain_separator
uses: eip712_domain_separator


exports: (
    # ERC-721, enumerable, metadata (name, symbol; tokenURI is this contract's), EIP-4494 permit
    # and its ERC-5267 domain.
    erc721.balanceOf,
    erc721.ownerOf,
    erc721.approve,
    erc721.getApproved,
    erc721.setApprovalForAll,
    erc721.isApprovedForAll,
    erc721.transferFrom,
    erc721.safeTransferFrom,
    erc721.tokenOfOwnerByIndex,
    erc721.name,
    erc721.symbol,
    erc721.permit,
    erc721.nonces,
    erc721.DOMAIN_SEPARATOR,
    eip712_domain_separator.eip712Domain,
    # Roles.
    access_control.DEFAULT_ADMIN_ROLE,
    access_control.hasRole,
    access_control.getRoleAdmin,
    access_control.grantRole,
    access_control.revokeRole,
    access_control.renounceRole,
    access_control.set_role_admin,
    # Left out on purpose:
    # - erc721.safe_mint, erc721.set_minter, erc721.is_minter: a unit is minted only by `register`,
    #   with its metadata and a unique serial, by CUSTODIAN_ROLE; snekmate's minter list would be a
    #   second, unchecked way in.
    # - erc721.burn: a unit that leaves the books is RETIRED, its history kept; burning would erase
    #   the token an auditor rebuilds the books from and free nothing.
    # - erc721.tokenURI: snekmate's joins a stored base URI; this contract builds the JSON on-chain.
    # - erc721.totalSupply, erc721.tokenByIndex: they read snekmate's all-tokens array, which
    #   `_mint_next` does not fill (ids are sequential); this contract's own replace them.
    # - erc721.supportsInterface, access_control.supportsInterface: replaced by one list covering both.
    # - erc721.transfer_ownership, erc721.renounce_ownership, ownable.owner: ownable is initialised
    #   only because snekmate's erc721 `uses` it (for its minter list). Powers here come from roles;
    #   an `owner` that can never change hands and can do nothing would only mislead.
)


# @dev The custodian: registers units, takes them offline and back, retires them, and signs the
# attestations the CustodyAttestor submits.
CUSTODIAN_ROLE: public(constant(bytes32)) = keccak256("CUSTODIAN_ROLE")


# @dev The CustodyAttestor: records attestations once enough custodians have signed them.
ATTESTER_ROLE: public(constant(bytes32)) = keccak256("ATTESTER_ROLE")


# @dev The appraiser: impairs units and restores repaired ones.
APPRAISER_ROLE: public(constant(bytes32)) = keccak256("APPRAISER_ROLE")


# @dev Lease managers: move units between ACTIVE and LEASED.
LEASE_MANAGER_ROLE: public(constant(bytes32)) = keccak256("LEASE_MANAGER_ROLE")


# @dev Pools' collateral contracts: told of every status change and attestation of their units.
COLLATERAL_ROLE: public(constant(bytes32)) = keccak256("COLLATERAL_ROLE")


# @dev Most units `register` takes in one call (the ABI bound of `specs`).
MAX_BATCH: public(constant(uint256)) = 50


# @dev Most units `attest` takes in one call (the ABI bound of `token_ids`; the CustodyAttestor's
# MAX_IDS).
MAX_ATTEST_BATCH: public(constant(uint256)) = 1_024


# @dev ERC-165 ids: ERC-165, ERC-721, ERC-721 metadata, ERC-721 enumerable, ERC-4494 (permit),
# IAccessControl. ERC-4906 is not claimed: the metadata holds the book value, which changes with
# every block, so no MetadataUpdate event could keep a cache right.
_SUPPORTED_INTERFACES: constant(bytes4[6]) = [
    0x01FFC9A7,
    0x80AC58CD,
    0x5B5E139F,
    0x780E9D63,
    0x589C5CE2,
    0x7965DB0B,
]


# @dev IGpuRegistry.GpuStatus values as numbers: Vyper 0.4 cannot name a flag member of an
# interface, so statuses are handled as their uint256 codes and converted at the ABI boundary.
_ACTIVE: constant(uint256) = 1
_LEASED: constant(uint256) = 2
_OFFLINE: constant(uint256) = 4
_IMPAIRED: constant(uint256) = 8
_RETIRED: constant(uint256) = 16


# @dev Packed widths. 2**40 seconds is ~34,800 years: every timestamp and life fits.
_MAX_UINT40: constant(uint256) = 2**40 - 1


# @dev Bit offsets inside `_Record.meta`.
_USEFUL_LIFE_SHIFT: constant(uint256) = 40
_ATTESTED_SHIFT: constant(uint256) = 80
_STATUS_SHIFT: constant(uint256) = 120
_MODEL_LEN_SHIFT: constant(uint256) = 128
_DATA_CENTRE_LEN_SHIFT: constant(uint256) = 136


# @dev Longest data URI GpuMetadata returns (its URI_BOUND).
_URI_BOUND: constant(uint256) = 1_405


# @dev The renderer of `tokenURI` (a contract of its own: the JSON and Base64 code would take a
# quarter of this contract's EIP-170 budget).
METADATA: public(immutable(IGpuMetadata))


# @dev One unit as stored: five slots, see `_pack_values` and `_pack_meta` for the packed two.
struct _Record:
    values: uint256
    meta: uint256
    model: bytes32
    data_centre: bytes32
    serial_hash: bytes32


# @dev Token id of each registered serial hash (0: not registered).
token_of_serial: public(HashMap[bytes32, uint256])


# @dev Metadata of each unit by token id.
_records: HashMap[uint256, _Record]


# @dev Last token id minted; ids are sequential from 1.
_last_token_id: uint256


@deploy
def __init__(metadata_: address):
    """
    @notice Deploys the registry; the deployer gets DEFAULT_ADMIN_ROLE and grants the other roles.
    @param metadata_ The GpuMetadata renderer of `tokenURI`.
    """
    assert metadata_.is_contract, "registry: metadata is not a contract"
    METADATA = IGpuMetadata(metadata_)
    ownable.__init__()
    erc721.__init__("GPU-RWA Registry", "GPU", "", "GPU-RWA Registry", "1")
    access_control.__init__()


# ERC-165 #


@external
@view
def supportsInterface(interface_id: bytes4) -> bool:
    """
    @notice Whether this contract implements `interface_id` (ERC-165).
    @param interface_id The 4-byte interface identifier.
    @return bool True for ERC-165, ERC-721 (+ metadata, enumerable), ERC-4494 and IAccessControl.
    """
    return interface_id in _SUPPORTED_INTERFACES


# REGISTRATION #


@external
def register(owner: address, specs: DynArray[IGpuRegistry.GpuSpec, MAX_BATCH]) -> uint256:
    """
    @notice Registers one unit per spec and mints its token to `owner`, status ACTIVE, attested now.
    @dev CUSTODIAN_ROLE only. Each serial hash can be registered once, across and within batches.
         Logs GpuRegistered and the ERC-721 Transfer for each unit. No receiver callback is made.
    @param owner Receiver of every token of the batch.
    @param specs The units, 1 to MAX_BATCH; see `_check_spec` for what each must satisfy.
    @return uint256 The token id of the first unit; the others follow sequentially.
    """
    access_control._check_role(CUSTODIAN_ROLE, msg.sender)
    assert owner != empty(address), "registry: zero owner"
    assert len(specs) != 0, "registry: empty batch"

    first: uint256 = self._last_token_id + 1
    token_id: uint256 = first
    for spec: IGpuRegistry.GpuSpec in specs:
        self._check_spec(spec)
        assert self.token_of_serial[spec.serial_hash] == 0, "registry: serial already registered"

        self.token_of_serial[spec.serial_hash] = token_id
        self._records[token_id] = _Record(
            values=self._pack_values(spec.acquisition_cost, spec.salvage_value),
            meta=self._pack_meta(
                spec.acquired_at,
                spec.useful_life,
                block.timestamp,
                _ACTIVE,
                len(spec.model),
                len(spec.data_centre),
            ),
            model=self._to_word(spec.model),
            data_centre=self._to_word(spec.data_centre),
            serial_hash=spec.serial_hash,
        )
        self._mint_next(owner, token_id)
        log IGpuRegistry.GpuRegistered(
            token_id=token_id,
            serial_hash=spec.serial_hash,
            owner=owner,
            model=spec.model,
            data_centre=spec.data_centre,
            acquisition_cost=spec.acquisition_cost,
            acquired_at=spec.acquired_at,
            useful_life=spec.useful_life,
            salvage_value=spec.salvage_value,
        )
        # At most 50 per call and 2**256 calls are out of reach.
        token_id = unsafe_add(token_id, 1)

    # `token_id` is one past the last minted and at least 2 (one spec at least).
    self._last_token_id = unsafe_sub(token_id, 1)
    return first


@external
def attest(holder: address, token_ids: DynArray[uint256, MAX_ATTEST_BATCH], attested_at: uint256):
    """
    @notice Records the custodians' attestation that each unit was seen in place and running at
            `attested_at`.
    @dev ATTESTER_ROLE only: the CustodyAttestor, once it has checked the custodians' signatures.
         Each unit must exist, be owned by `holder`, not be RETIRED and have been attested last
         before `attested_at` (so a unit listed twice reverts); `attested_at` is at most now (a
         time in the past is fine: a pool reckons staleness from it). Logs GpuAttested per unit;
         if `holder` holds COLLATERAL_ROLE, calls its `on_gpu_attested` per unit.
    @param holder The owner of every unit.
    @param token_ids The units, 1 to MAX_ATTEST_BATCH.
    @param attested_at When the custodians saw them.
    """
    access_control._check_role(ATTESTER_ROLE, msg.sender)
    assert len(token_ids) != 0, "registry: empty batch"
    assert attested_at <= block.timestamp, "registry: attestation in the future"
    # Checked once for the batch: every unit has this one owner.
    notify: bool = access_control.hasRole[COLLATERAL_ROLE][holder]
    # At most block.timestamp, checked above: fits in 40 bits until the year ~36,800.
    packed_at: uint256 = self._to_uint40(attested_at) << _ATTESTED_SHIFT

    for token_id: uint256 in token_ids:
        meta: uint256 = self._records[token_id].meta
        assert meta != 0, "registry: unknown GPU"
        assert erc721._owners[token_id] == holder, "registry: gpu not held by holder"
        assert self._meta_status(meta) != _RETIRED, "registry: GPU retired"
        assert attested_at > self._meta_attested_at(meta), "registry: attestation not newer"
        # Clear the 40 bits of last_attested_at, then write the attestation time there.
        self._records[token_id].meta = (meta & ~(_MAX_UINT40 << _ATTESTED_SHIFT)) | packed_at
        log IGpuRegistry.GpuAttested(
            token_id=token_id, attested_at=attested_at, custodian=msg.sender
        )
        if notify:
            extcall IGpuHolder(holder).on_gpu_attested(token_id, attested_at)


# STATUS #


@external
def set_status(token_id: uint256, status: IGpuRegistry.GpuStatus):
    """
    @notice Moves a unit along its lifecycle; each transition needs its own role.
    @dev The table (IGpuRegistry.vyi): ACTIVE<->LEASED by LEASE_MANAGER_ROLE; ACTIVE<->OFFLINE by
         CUSTODIAN_ROLE; ACTIVE, LEASED, OFFLINE -> IMPAIRED and IMPAIRED -> ACTIVE by
         APPRAISER_ROLE; ACTIVE, OFFLINE, IMPAIRED -> RETIRED by CUSTODIAN_ROLE (terminal).
         Reverts "registry: status unchanged" for the current status, "registry: transition not
         allowed" for any other pair (whatever the caller's roles), then the access control message
         if the caller lacks the role. Logs GpuStatusChanged.
    @param token_id The unit.
    @param status The new status (exactly one flag).
    """
    meta: uint256 = self._records[token_id].meta
    assert meta != 0, "registry: unknown GPU"
    previous: uint256 = self._meta_status(meta)
    current: uint256 = convert(status, uint256)
    assert current != previous, "registry: status unchanged"
    access_control._check_role(self._transition_role(previous, current), msg.sender)

    meta = (meta & ~(convert(255, uint256) << _STATUS_SHIFT)) | (current << _STATUS_SHIFT)
    self._records[token_id].meta = meta
    log IGpuRegistry.GpuStatusChanged(
        token_id=token_id,
        previous=convert(previous, IGpuRegistry.GpuStatus),
        current=status,
        sender=msg.sender,
    )
    holder: address = self._collateral_holder(token_id)
    if holder != empty(address):
        extcall IGpuHolder(holder).on_gpu_status(token_id, current)


# VIEWS #


@external
@view
def gpu(token_id: uint256) -> IGpuRegistry.Gpu:
    """
    @notice Everything recorded about a unit.
    @param token_id The unit.
    @return Gpu Its metadata, status and last attestation time.
    """
    return self._gpu(self._record(token_id))


@external
@view
def terms(token_id: uint256) -> IGpuRegistry.GpuTerms:
    """
    @notice What a pool needs to value a unit, in one call and without the strings of `gpu`.
    @param token_id The unit.
    @return GpuTerms Owner, cost, salvage, acquisition time, useful life, status code and last
            attestation time.
    """
    record: _Record = self._record(token_id)
    return IGpuRegistry.GpuTerms(
        owner=erc721._owners[token_id],
        cost=self._values_cost(record.values),
        salvage=self._values_salvage(record.values),
        acquired_at=self._meta_acquired_at(record.meta),
        useful_life=self._meta_useful_life(record.meta),
        status=self._meta_status(record.meta),
        last_attested_at=self._meta_attested_at(record.meta),
    )


@external
@view
def totalSupply() -> uint256:
    """
    @notice Units ever registered (none is ever burnt).
    @return uint256 The number of tokens.
    """
    return self._last_token_id


@external
@view
def tokenByIndex(index: uint256) -> uint256:
    """
    @notice The token at `index` of all tokens (ERC-721 enumerable): ids are sequential from 1.
    @param index Below `totalSupply()`.
    @return uint256 The token id, `index + 1`.
    """
    assert index < self._last_token_id, "erc721: global index out of bounds"
    # index < _last_token_id, checked above.
    return unsafe_add(index, 1)


@external
@view
def book_value(token_id: uint256) -> uint256:
    """
    @notice The unit's book value now: `book_value_at(token_id, block.timestamp)`.
    @param token_id The unit.
    @return uint256 Book value in the units of its acquisition cost.
    """
    return self._book_value(self._record(token_id), block.timestamp)


@external
@view
def book_value_at(token_id: uint256, timestamp: uint256) -> uint256:
    """
    @notice The unit's straight-line book value at `timestamp`.
    @dev Acquisition cost up to `acquired_at`; then cost - ceil((cost - salvage) * elapsed / life),
         i.e. depreciation rounded up and book value rounded down (conservative for collateral);
         salvage value from `acquired_at + useful_life` on. A RETIRED unit is worth 0: it was sold
         or scrapped, and its proceeds, not the chip, now carry its value. An IMPAIRED unit still
         returns the straight-line figure: the vault decides what an impaired unit counts for.
    @param token_id The unit.
    @param timestamp Any time, past or future.
    @return uint256 Book value in the units of its acquisition cost.
    """
    return self._book_value(self._record(token_id), timestamp)


@external
@view
def tokenURI(token_id: uint256) -> String[_URI_BOUND]:
    """
    @notice The unit described as JSON (name, description, attributes), built on-chain by the
            GpuMetadata renderer from the stored record and the current book value.
    @dev See GpuMetadata.token_uri for the document. Reverts "registry: unknown GPU".
    @param token_id The unit.
    @return String The data URI.
    """
    record: _Record = self._record(token_id)
    return staticcall METADATA.token_uri(
        token_id, self._gpu(record), self._book_value(record, block.timestamp)
    )


# INTERNAL: TOKENS AND HOLDERS #


@internal
def _mint_next(owner: address, token_id: uint256):
    """
    @dev snekmate's `_mint` without its all-tokens enumeration (ids are sequential: see
         `tokenByIndex`); the owner enumeration is kept. `register` checked `owner` is not zero
         and `token_id` is one past the last id, so it does not exist.
    """
    erc721._add_token_to_owner_enumeration(owner, token_id)
    # A balance cannot reach 2**256: at most one token per id.
    erc721._balances[owner] = unsafe_add(erc721._balances[owner], 1)
    erc721._owners[token_id] = owner
    log IERC721.Transfer(sender=empty(address), receiver=owner, token_id=token_id)


@internal
@view
def _gpu(record: _Record) -> IGpuRegistry.Gpu:
    """
    @dev A stored record as the `gpu` view returns it.
    """
    return IGpuRegistry.Gpu(
        model=self._to_string(record.model, self._meta_model_len(record.meta)),
        serial_hash=record.serial_hash,
        data_centre=self._to_string(record.data_centre, self._meta_data_centre_len(record.meta)),
        acquisition_cost=self._values_cost(record.values),
        acquired_at=self._meta_acquired_at(record.meta),
        useful_life=self._meta_useful_life(record.meta),
        salvage_value=self._values_salvage(record.values),
        status=convert(self._meta_status(record.meta), IGpuRegistry.GpuStatus),
        last_attested_at=self._meta_attested_at(record.meta),
    )


@internal
@view
def _collateral_holder(token_id: uint256) -> address:
    """
    @dev The unit's owner if it holds COLLATERAL_ROLE (a pool's collateral contract), else zero.
    """
    owner: address = erc721._owners[token_id]
    if access_control.hasRole[COLLATERAL_ROLE][owner]:
        return owner
    return empty(address)


# INTERNAL: VALIDATION AND TRANSITIONS #


@internal
@view
def _check_spec(spec: IGpuRegistry.GpuSpec):
    """
    @dev Reverts with a "registry: " reason for any spec that cannot be stored or described.
    @param spec The unit to check.
    """
    assert spec.serial_hash != empty(bytes32), "registry: zero serial hash"
    assert len(spec.model) != 0, "registry: empty model"
    assert len(spec.data_centre) != 0, "registry: empty data centre"
    assert self._is_json_safe(spec.model), "registry: invalid character in model"
    assert self._is_json_safe(spec.data_centre), "registry: invalid character in data centre"
    assert spec.acquisition_cost != 0, "registry: zero acquisition cost"
    assert spec.acquisition_cost <= convert(max_value(uint128), uint256), "registry: acquisition cost too large"
    assert spec.salvage_value <= spec.acquisition_cost, "registry: salvage exceeds cost"
    assert spec.useful_life != 0, "registry: zero useful life"
    assert spec.useful_life <= _MAX_UINT40, "registry: useful life too long"
    assert spec.acquired_at <= block.timestamp, "registry: acquired in the future"


@internal
@pure
def _is_json_safe(text: String[32]) -> bool:
    """
    @dev Whether every character is printable ASCII (0x20-0x7E) other than `"` and `\`, so that
         `text` can sit between JSON quotes as is.
    @param text At most 32 characters.
    @return bool True if safe.
    """
    word: uint256 = convert(self._to_word(text), uint256)
    for i: uint256 in range(len(text), bound=32):
        # i < 32, so the shift is at most 248.
        char: uint256 = (word >> unsafe_sub(248, unsafe_mul(i, 8))) & 255
        if char < 32 or char > 126 or char == 34 or char == 92:
            return False
    return True


@internal
@pure
def _transition_role(previous: uint256, current: uint256) -> bytes32:
    """
    @dev The role a transition needs; reverts "registry: transition not allowed" for any pair not in
         the table (including combined flags).
    @param previous The current status code.
    @param current The requested status code (any 5-bit combination the ABI lets through).
    @return bytes32 The role.
    """
    # `previous` is always a single status (only single statuses are ever stored).
    if current == _LEASED and previous == _ACTIVE:
        return LEASE_MANAGER_ROLE
    if current == _ACTIVE:
        if previous == _LEASED:
            return LEASE_MANAGER_ROLE
        if previous == _OFFLINE:
            return CUSTODIAN_ROLE
        if previous == _IMPAIRED:
            return APPRAISER_ROLE
    if current == _OFFLINE and previous == _ACTIVE:
        return CUSTODIAN_ROLE
    if current == _IMPAIRED and previous & (_ACTIVE | _LEASED | _OFFLINE) != 0:
        return APPRAISER_ROLE
    if current == _RETIRED and previous & (_ACTIVE | _OFFLINE | _IMPAIRED) != 0:
        return CUSTODIAN_ROLE
    raise "registry: transition not allowed"


# INTERNAL: STORAGE PACKING #


@internal
@view
def _record(token_id: uint256) -> _Record:
    """
    @dev The stored record of a unit; reverts "registry: unknown GPU" if it was never registered
         (a registered unit's `meta` is never 0: its status is).
    @param token_id The unit.
    @return _Record The five stored words.
    """
    record: _Record = self._records[token_id]
    assert record.meta != 0, "registry: unknown GPU"
    return record


@internal
@pure
def _pack_values(acquisition_cost: uint256, salvage_value: uint256) -> uint256:
    """
    @dev cost in bits 0-127, salvage in bits 128-255; `convert` reverts beyond 128 bits.
    @param acquisition_cost At most 2**128 - 1.
    @param salvage_value At most 2**128 - 1.
    @return uint256 The packed slot.
    """
    return convert(convert(acquisition_cost, uint128), uint256) | (
        convert(convert(salvage_value, uint128), uint256) << 128
    )


@internal
@pure
def _values_cost(values: uint256) -> uint256:
    """
    @dev Acquisition cost out of the packed values slot.
    """
    return values & convert(max_value(uint128), uint256)


@internal
@pure
def _values_salvage(values: uint256) -> uint256:
    """
    @dev Salvage value out of the packed values slot.
    """
    return values >> 128


@internal
@pure
def _pack_meta(
    acquired_at: uint256,
    useful_life: uint256,
    attested_at: uint256,
    status: uint256,
    model_len: uint256,
    data_centre_len: uint256,
) -> uint256:
    """
    @dev acquired_at bits 0-39, useful_life 40-79, last_attested_at 80-119, status 120-127,
         model length 128-135, data centre length 136-143. Each field is bounded (`_to_uint40`
         reverts beyond 40 bits; a flag of 5 members and a length of at most 32 fit in 8 bits).
    @return uint256 The packed slot.
    """
    return (
        self._to_uint40(acquired_at)
        | (self._to_uint40(useful_life) << _USEFUL_LIFE_SHIFT)
        | (self._to_uint40(attested_at) << _ATTESTED_SHIFT)
        | (status << _STATUS_SHIFT)
        | (model_len << _MODEL_LEN_SHIFT)
        | (data_centre_len << _DATA_CENTRE_LEN_SHIFT)
    )


@internal
@pure
def _to_uint40(number: uint256) -> uint256:
    """
    @dev `number`, reverting if it does not fit in 40 bits.
    """
    return convert(convert(number, uint40), uint256)


@internal
@pure
def _meta_acquired_at(meta: uint256) -> uint256:
    """
    @dev acquired_at out of the packed meta slot.
    """
    return meta & _MAX_UINT40


@internal
@pure
def _meta_useful_life(meta: uint256) -> uint256:
    """
    @dev useful_life out of the packed meta slot.
    """
    return (meta >> _USEFUL_LIFE_SHIFT) & _MAX_UINT40


@internal
@pure
def _meta_attested_at(meta: uint256) -> uint256:
    """
    @dev last_attested_at out of the packed meta slot.
    """
    return (meta >> _ATTESTED_SHIFT) & _MAX_UINT40


@internal
@pure
def _meta_status(meta: uint256) -> uint256:
    """
    @dev Status code out of the packed meta slot (always a single status: `register` writes
         _ACTIVE and `set_status` only codes `_transition_role` accepts).
    """
    return (meta >> _STATUS_SHIFT) & 255


@internal
@pure
def _meta_model_len(meta: uint256) -> uint256:
    """
    @dev Model length out of the packed meta slot.
    """
    return (meta >> _MODEL_LEN_SHIFT) & 255


@internal
@pure
def _meta_data_centre_len(meta: uint256) -> uint256:
    """
    @dev Data centre length out of the packed meta slot.
    """
    return (meta >> _DATA_CENTRE_LEN_SHIFT) & 255


@internal
@pure
def _to_word(text: String[32]) -> bytes32:
    """
    @dev `text` left-aligned in a word, zero-padded on the right (its length is stored apart).
    """
    return convert(convert(text, Bytes[32]), bytes32)


@internal
@pure
def _to_string(word: bytes32, length: uint256) -> String[32]:
    """
    @dev The first `length` characters of `word` (the inverse of `_to_word`).
    """
    return convert(slice(word, 0, length), String[32])


# INTERNAL: VALUATION #


@internal
@pure
def _book_value(record: _Record, timestamp: uint256) -> uint256:
    """
    @dev Straight-line book value at `timestamp`, see `book_value_at`.
    @param record The unit.
    @param timestamp Any time.
    @return uint256 The book value, rounded down.
    """
    if self._meta_status(record.meta) == _RETIRED:
        return 0
    cost: uint256 = self._values_cost(record.values)
    acquired_at: uint256 = self._meta_acquired_at(record.meta)
    if timestamp <= acquired_at:
        return cost
    life: uint256 = self._meta_useful_life(record.meta)
    # timestamp > acquired_at, checked above.
    elapsed: uint256 = unsafe_sub(timestamp, acquired_at)
    salvage: uint256 = self._values_salvage(record.values)
    if elapsed >= life:
        return salvage
    # salvage <= cost (checked at registration) and both < 2**128; elapsed < life < 2**40: the
    # product is below 2**168 and the rounded-up quotient at most depreciable <= cost.
    depreciable: uint256 = unsafe_sub(cost, salvage)
    depreciation: uint256 = unsafe_div(unsafe_add(unsafe_mul(depreciable, elapsed), unsafe_sub(life, 1)), life)
    return unsafe_sub(cost, depreciation)
