"""GpuMetadata.token_uri(token_id, gpu, book_value): the JSON data URI, rendered from what it is
given (the registry's record and book value), checked against tests.utils.registry's mirror.

Every call is a pure eth_call: no registry, no transaction.
"""

import base64

import pytest
from web3.exceptions import ContractLogicError, Web3RPCError

from tests.utils.registry import (
    MAX_UINT64,
    MAX_UINT128,
    TOKEN_DESCRIPTION,
    URI_BOUND,
    URI_PREFIX,
    USDC,
    YEAR,
    GpuStatus,
    decode_token_uri,
    make_gpu,
    serial_hash,
    token_document,
    token_json,
)


def assert_reverts_without_reason(chain, metadata, *args) -> None:
    """token_uri(*args) reverts with no reason (an ABI decoding or `convert` bound).

    A raw eth_call: ape's `reverts` traces a failed call to enrich the error, and the trace of
    the renderer's loops takes seconds a call."""
    data = metadata.token_uri.encode_input(*args)
    with pytest.raises((ContractLogicError, Web3RPCError)) as error:
        chain.provider.web3.eth.call({"to": metadata.address, "data": data})
    # No reason string: Anvil returns empty revert data, Ganache a bare "revert".
    if isinstance(error.value, ContractLogicError):
        assert error.value.data in ("0x", None)
    else:
        message = error.value.rpc_response["error"]["message"]
        assert message == "VM Exception while processing transaction: revert"


def render(metadata, token_id: int, gpu: dict, book_value: int) -> dict:
    """token_uri decoded; asserts it is the mirror's document and within URI_BOUND."""
    uri = metadata.token_uri(token_id, gpu, book_value)
    assert len(uri) <= URI_BOUND
    document = decode_token_uri(uri)
    assert document == token_document(token_id, gpu, book_value)
    # Byte for byte: no whitespace, keys and traits in this order.
    assert raw_json(uri) == token_json(token_id, gpu, book_value)
    return document


def raw_json(uri: str) -> bytes:
    return base64.b64decode(uri[len(URI_PREFIX) :])


def test_uri_bound(metadata):
    assert metadata.URI_BOUND() == URI_BOUND


def test_every_trait(metadata):
    serial = serial_hash("SN-METADATA-1")
    gpu = make_gpu(
        model="B200 NVL",
        serial=serial,
        data_centre="Ashburn IAD-3",
        acquisition_cost=41_000 * USDC,
        acquired_at=1_704_067_200,
        useful_life=6 * YEAR,
        salvage_value=2_500 * USDC,
        status=GpuStatus.LEASED,
        last_attested_at=1_717_200_000,
    )

    uri = metadata.token_uri(7, gpu, 33_123_456_789)

    assert uri.startswith(URI_PREFIX)
    assert decode_token_uri(uri) == {
        "name": "GPU #7",
        "description": TOKEN_DESCRIPTION,
        "attributes": [
            {"trait_type": "model", "value": "B200 NVL"},
            {"trait_type": "serial_hash", "value": "0x" + serial.hex()},
            {"trait_type": "data_centre", "value": "Ashburn IAD-3"},
            {"trait_type": "acquisition_cost", "value": 41_000_000_000},
            {"trait_type": "acquired_at", "value": 1_704_067_200},
            {"trait_type": "useful_life", "value": 189_216_000},
            {"trait_type": "salvage_value", "value": 2_500_000_000},
            {"trait_type": "book_value", "value": 33_123_456_789},
            {"trait_type": "status", "value": "LEASED"},
            {"trait_type": "last_attested_at", "value": 1_717_200_000},
        ],
    }
    # Numbers are JSON numbers, strings JSON strings, in this exact order and spelling.
    assert b'{"trait_type":"acquisition_cost","value":41000000000}' in raw_json(uri)
    assert raw_json(uri).startswith(b'{"name":"GPU #7","description":"')
    assert raw_json(uri).endswith(b'{"trait_type":"last_attested_at","value":1717200000}]}')


@pytest.mark.parametrize("status", list(GpuStatus), ids=lambda s: s.name)
def test_status_name(metadata, status):
    document = render(metadata, 1, make_gpu(status=status), 1)

    assert document["attributes"][8] == {"trait_type": "status", "value": status.name}


def test_status_outside_the_flag_cannot_be_decoded(chain, metadata):
    assert_reverts_without_reason(chain, metadata, 1, make_gpu(status=32), 1)


@pytest.mark.parametrize(
    "book_value", [0, 1, 30_000 * USDC + 1, MAX_UINT128], ids=["zero", "one", "above-cost", "max"]
)
def test_book_value_is_rendered_as_given(metadata, book_value):
    """The renderer computes nothing: the registry passes the book value now."""
    document = render(metadata, 1, make_gpu(), book_value)

    assert document["attributes"][7] == {"trait_type": "book_value", "value": book_value}


@pytest.mark.parametrize(
    "word",
    [b"\x00" * 32, b"\xff" * 32, bytes(range(32)), b"\x00" * 31 + b"\x01", b"\xab" + b"\x00" * 31],
    ids=["zero", "all-ones", "ascending", "low-byte", "high-byte"],
)
def test_serial_hash_is_0x_and_64_lower_case_digits(metadata, word):
    document = render(metadata, 1, make_gpu(serial=word), 1)

    assert document["attributes"][1] == {"trait_type": "serial_hash", "value": "0x" + word.hex()}
    assert len(document["attributes"][1]["value"]) == 66


def test_smallest_numbers(metadata):
    gpu = make_gpu(
        acquisition_cost=0, acquired_at=0, useful_life=0, salvage_value=0, last_attested_at=0
    )

    document = render(metadata, 0, gpu, 0)

    assert document["name"] == "GPU #0"
    assert [a["value"] for a in document["attributes"][3:8]] == [0, 0, 0, 0, 0]


def test_longest_document_fits(metadata):
    """32-character strings and every number at the widest the renderer takes (uint64 times and
    ids, uint128 amounts): the registry's own bounds (uint40, uint128) are inside these."""
    gpu = make_gpu(
        model="M" * 32,
        data_centre="D" * 32,
        serial=b"\xff" * 32,
        acquisition_cost=MAX_UINT128,
        acquired_at=MAX_UINT64,
        useful_life=MAX_UINT64,
        salvage_value=MAX_UINT128,
        status=GpuStatus.IMPAIRED,
        last_attested_at=MAX_UINT64,
    )

    uri = metadata.token_uri(MAX_UINT64, gpu, MAX_UINT128)

    assert decode_token_uri(uri) == token_document(MAX_UINT64, gpu, MAX_UINT128)
    assert len(uri) == len(URI_PREFIX) + 4 * -(-len(raw_json(uri)) // 3)
    assert len(uri) <= URI_BOUND


@pytest.mark.parametrize(
    "token_id, fields, book_value",
    [
        (MAX_UINT64 + 1, {}, 1),
        (1, {"acquired_at": MAX_UINT64 + 1}, 1),
        (1, {"useful_life": MAX_UINT64 + 1}, 1),
        (1, {"last_attested_at": MAX_UINT64 + 1}, 1),
        (1, {"acquisition_cost": MAX_UINT128 + 1}, 1),
        (1, {"salvage_value": MAX_UINT128 + 1}, 1),
        (1, {}, MAX_UINT128 + 1),
    ],
    ids=[
        "token_id",
        "acquired_at",
        "useful_life",
        "last_attested_at",
        "acquisition_cost",
        "salvage_value",
        "book_value",
    ],
)
def test_number_beyond_its_width_reverts(chain, metadata, token_id, fields, book_value):
    """Beyond the widths above the renderer refuses rather than print a wrong number; one below
    is rendered."""
    assert_reverts_without_reason(chain, metadata, token_id, make_gpu(**fields), book_value)

    def below(value: int) -> int:
        return value - 1 if value > MAX_UINT64 else value

    fitting = {name: below(value) for name, value in fields.items()}
    render(metadata, below(token_id), make_gpu(**fitting), below(book_value))


def test_json_punctuation_in_strings(metadata):
    gpu = make_gpu(model="B200 {x:[1,2]} 'a' /b/", data_centre="Ashburn, VA <DC#3> ~%&")

    document = render(metadata, 3, gpu, 5)

    assert document["attributes"][0]["value"] == "B200 {x:[1,2]} 'a' /b/"
    assert document["attributes"][2]["value"] == "Ashburn, VA <DC#3> ~%&"


@pytest.mark.parametrize("remainder, pad", [(0, ""), (1, "=="), (2, "=")])
def test_base64_padding(metadata, remainder, pad):
    """A JSON length of each remainder mod 3 (a model of 1, 2 or 3 characters: which one gives
    which remainder is read from the mirror's bytes) ends in "", "==" or "=" respectively."""
    [gpu] = [
        gpu
        for gpu in (make_gpu(model="A" * size, serial=b"\x00" * 32) for size in (1, 2, 3))
        if len(token_json(1, gpu, 1)) % 3 == remainder
    ]

    uri = metadata.token_uri(1, gpu, 1)

    encoded = uri[len(URI_PREFIX) :]
    assert len(raw_json(uri)) % 3 == remainder
    assert len(encoded) % 4 == 0
    assert encoded.endswith(pad)
    assert not encoded[: len(encoded) - len(pad)].endswith("=")
    assert encoded == base64.b64encode(token_json(1, gpu, 1)).decode()
    assert decode_token_uri(uri) == token_document(1, gpu, 1)


def test_base64_every_length_across_group_boundaries(metadata):
    """The encoder works 24 input bytes at a time: 63 consecutive JSON lengths (model 1-32
    characters with a 1- and a 32-character data centre) cover every remainder mod 24 and mod 3."""
    lengths = set()
    for data_centre in ("D", "D" * 32):
        for size in range(1, 33):
            gpu = make_gpu(model="m" * size, data_centre=data_centre, serial=b"\x11" * 32)
            uri = metadata.token_uri(1, gpu, 1)
            assert uri == URI_PREFIX + base64.b64encode(token_json(1, gpu, 1)).decode()
            lengths.add(len(raw_json(uri)))

    assert len(lengths) == 63
    assert {length % 24 for length in lengths} == set(range(24))
