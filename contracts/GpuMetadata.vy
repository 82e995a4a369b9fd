# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title GpuMetadata
@custom:contract-name GpuMetadata
@license AGPL-3.0-only
@notice The on-chain description of a registered GPU: `token_uri` turns a GpuRegistry record and
        its book value into `data:application/json;base64,...` with every stored field, so no
        off-chain service is needed to read an asset. Pure: it holds nothing and trusts nothing;
        the registry's `tokenURI` calls it with its own record. A contract of its own because the
        JSON and Base64 code would take a quarter of the registry's EIP-170 budget.
@custom:security Model and data centre are printable ASCII without `"` and `\` (the registry
        refuses anything else at registration), so the JSON needs no escaping.
@custom:kill Nothing to stop: it has no state and no privileges.
"""


from contracts.interfaces import IGpuMetadata
implements: IGpuMetadata


from contracts.interfaces import IGpuRegistry


# Longest data URI: the prefix and the Base64 of the longest document.
URI_BOUND: public(constant(uint256)) = 1_405
_URI_PREFIX: constant(String[29]) = "data:application/json;base64,"
_DESCRIPTION: constant(String[112]) = "One physical GPU (card or server) held by a custodian. Only the hash of its serial number is recorded on-chain."
# Bound of the JSON document (checked by the compiler at `_json`).
_JSON_BOUND: constant(uint256) = 1_024
# 24 input bytes become one 32-character output word; 43 words cover 1,032 input bytes.
_BASE64_WORDS: constant(uint256) = 43
_BASE64_BOUND: constant(uint256) = 1_376
# IGpuRegistry.GpuStatus values as numbers.
_ACTIVE: constant(uint256) = 1
_LEASED: constant(uint256) = 2
_OFFLINE: constant(uint256) = 4
_IMPAIRED: constant(uint256) = 8


@external
@pure
def token_uri(token_id: uint256, gpu: IGpuRegistry.Gpu, book_value: uint256) -> String[URI_BOUND]:
    """
    @notice The unit described as a JSON data URI.
    @dev `data:application/json;base64,` + base64 of {"name":"GPU #<id>","description":...,
         "attributes":[{"trait_type":"model","value":...}, ... ]} with traits model, serial_hash
         (0x + 64 hex), data_centre, acquisition_cost, acquired_at, useful_life, salvage_value,
         book_value, status (name) and last_attested_at; numbers are JSON numbers.
    @param token_id The unit's token id.
    @param gpu The registry's record of it (`GpuRegistry.gpu`).
    @param book_value Its book value now.
    @return String The data URI.
    """
    return concat(_URI_PREFIX, self._base64(convert(self._json(token_id, gpu, book_value), Bytes[_JSON_BOUND])))


# INTERNAL #


@internal
@pure
def _json(token_id: uint256, gpu: IGpuRegistry.Gpu, book_value: uint256) -> String[_JSON_BOUND]:
    """
    @dev The JSON document of `token_uri` (model and data centre are JSON-safe: the registry
         accepts nothing else).
    """
    head: String[423] = concat(
        '{"name":"GPU #',
        uint2str(convert(token_id, uint64)),
        '","description":"',
        _DESCRIPTION,
        '","attributes":[{"trait_type":"model","value":"',
        gpu.model,
        '"},{"trait_type":"serial_hash","value":"',
        self._to_hex(gpu.serial_hash),
        '"},{"trait_type":"data_centre","value":"',
        gpu.data_centre,
        '"},',
    )
    numbers: String[460] = concat(
        '{"trait_type":"acquisition_cost","value":',
        uint2str(convert(gpu.acquisition_cost, uint128)),
        '},{"trait_type":"acquired_at","value":',
        uint2str(convert(gpu.acquired_at, uint64)),
        '},{"trait_type":"useful_life","value":',
        uint2str(convert(gpu.useful_life, uint64)),
        '},{"trait_type":"salvage_value","value":',
        uint2str(convert(gpu.salvage_value, uint128)),
        '},{"trait_type":"book_value","value":',
        uint2str(convert(book_value, uint128)),
        '},{"trait_type":"status","value":"',
        self._status_name(convert(gpu.status, uint256)),
        '"},{"trait_type":"last_attested_at","value":',
        uint2str(convert(gpu.last_attested_at, uint64)),
        "}]}",
    )
    return concat(head, numbers)


@internal
@pure
def _status_name(status: uint256) -> String[8]:
    """
    @dev The status's name as in IGpuRegistry.vyi.
    """
    if status == _ACTIVE:
        return "ACTIVE"
    if status == _LEASED:
        return "LEASED"
    if status == _OFFLINE:
        return "OFFLINE"
    if status == _IMPAIRED:
        return "IMPAIRED"
    return "RETIRED"


@internal
@pure
def _to_hex(word: bytes32) -> String[66]:
    """
    @dev `word` as "0x" and 64 lower-case hex digits.
    """
    number: uint256 = convert(word, uint256)
    return concat("0x", self._hex_half(number >> 128), self._hex_half(number))


@internal
@pure
def _hex_half(number: uint256) -> String[32]:
    """
    @dev The low 16 bytes of `number` as 32 hex digits.
    """
    out: uint256 = 0
    for i: uint256 in range(32):
        # i < 32: the shift is at most 124.
        nibble: uint256 = (number >> unsafe_sub(124, unsafe_mul(i, 4))) & 15
        # nibble < 16: the character is '0'-'9' (48-57) or 'a'-'f' (97-102).
        char: uint256 = unsafe_add(nibble, 48)
        if nibble > 9:
            char = unsafe_add(nibble, 87)
        # 32 characters of 8 bits fill the word exactly; the top byte shifted out is zero.
        out = (out << 8) | char
    return convert(slice(convert(out, bytes32), 0, 32), String[32])


@internal
@pure
def _base64(data: Bytes[_JSON_BOUND]) -> String[_BASE64_BOUND]:
    """
    @dev Standard Base64 (RFC 4648, with `=` padding) of `data`.
         snekmate's base64._encode returns an array of 4-character strings, which Vyper cannot join
         into one string in a loop (a concat result is always longer than its input bound) without
         a second packing pass over ~90 KB of memory; this encoder turns each 24 input bytes into one
         32-character output word and lays the words out with one `abi_encode` of a static array.
    @param data At most _JSON_BOUND bytes.
    @return String The encoding, 4 * ceil(len / 3) characters.
    """
    length: uint256 = len(data)
    # Zero padding so that `extract32` can always read a full word past the end of `data`.
    padded: Bytes[_JSON_BOUND + 32] = concat(data, empty(bytes32))
    words: bytes32[_BASE64_WORDS] = empty(bytes32[_BASE64_WORDS])
    # ceil(length / 24) groups; length <= 1,024, so no overflow.
    groups: uint256 = unsafe_div(unsafe_add(length, 23), 24)
    for g: uint256 in range(groups, bound=_BASE64_WORDS):
        # g < 43: the offset is at most 1,008 and 1,008 + 32 <= len(padded).
        chunk: uint256 = convert(extract32(padded, unsafe_mul(g, 24)), uint256) >> 64
        out: uint256 = 0
        for j: uint256 in range(32):
            # j < 32: the shift is at most 186.
            sextet: uint256 = (chunk >> unsafe_sub(186, unsafe_mul(j, 6))) & 63
            out = (out << 8) | self._base64_char(sextet)
        words[g] = convert(out, bytes32)

    # 4 characters per 3 bytes, rounded up; no overflow for length <= 1,024.
    encoded_length: uint256 = unsafe_mul(unsafe_div(unsafe_add(length, 2), 3), 4)
    encoded: Bytes[_BASE64_BOUND] = slice(abi_encode(words), 0, encoded_length)
    remainder: uint256 = length % 3
    if remainder == 0:
        return convert(encoded, String[_BASE64_BOUND])
    # The last 3 - remainder characters encode padding zeros: they become "=".
    padding: uint256 = unsafe_sub(3, remainder)
    kept: Bytes[_BASE64_BOUND] = slice(encoded, 0, unsafe_sub(encoded_length, padding))
    if padding == 1:
        return convert(slice(concat(kept, b"="), 0, encoded_length), String[_BASE64_BOUND])
    return convert(slice(concat(kept, b"=="), 0, encoded_length), String[_BASE64_BOUND])


@internal
@pure
def _base64_char(sextet: uint256) -> uint256:
    """
    @dev The ASCII code of a 6-bit value in the standard Base64 alphabet (A-Z, a-z, 0-9, +, /).
    """
    # Each branch's range keeps the arithmetic within 0-127.
    if sextet < 26:
        return unsafe_add(sextet, 65)
    if sextet < 52:
        return unsafe_add(sextet, 71)
    if sextet < 62:
        return unsafe_sub(sextet, 4)
    if sextet == 62:
        return 43
    return 47
