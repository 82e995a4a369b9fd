"""tokenURI(): a data URI whose base64 JSON describes the unit, built entirely on-chain."""

import base64

import ape
import pytest

from tests.utils.custody import attest
from tests.utils.registry import (
    DAY,
    MAX_UINT40,
    MAX_UINT128,
    TOKEN_DESCRIPTION,
    URI_PREFIX,
    YEAR,
    GpuStatus,
    book_value,
    decode_token_uri,
    token_document,
)


def expected_document(token_id: int, gpu, now: int) -> dict:
    spec = {
        "acquisition_cost": gpu.acquisition_cost,
        "salvage_value": gpu.salvage_value,
        "acquired_at": gpu.acquired_at,
        "useful_life": gpu.useful_life,
    }
    return token_document(token_id, gpu, book_value(spec, now, gpu.status))


def test_token_uri(registry, register_gpus, chain):
    registered = register_gpus(1, acquired_at=chain.pending_timestamp - YEAR)
    spec = registered.spec

    document = decode_token_uri(registry.tokenURI(registered.token_id))

    now = chain.blocks.head.timestamp
    assert document == {
        "name": "GPU #1",
        "description": TOKEN_DESCRIPTION,
        "attributes": [
            {"trait_type": "model", "value": "H100 SXM"},
            {"trait_type": "serial_hash", "value": "0x" + spec["serial_hash"].hex()},
            {"trait_type": "data_centre", "value": "FRA-1 Hall B"},
            {"trait_type": "acquisition_cost", "value": 30_000_000_000},
            {"trait_type": "acquired_at", "value": spec["acquired_at"]},
            {"trait_type": "useful_life", "value": 5 * YEAR},
            {"trait_type": "salvage_value", "value": 3_000_000_000},
            {"trait_type": "book_value", "value": book_value(spec, now)},
            {"trait_type": "status", "value": "ACTIVE"},
            {"trait_type": "last_attested_at", "value": registered.receipts[0].timestamp},
        ],
    }
    assert document["attributes"][7]["value"] == registry.book_value(registered.token_id)


@pytest.mark.parametrize("status", list(GpuStatus), ids=lambda s: s.name)
def test_token_uri_status_and_book_value(registry, register_gpus, set_status, chain, status):
    registered = register_gpus(2)
    if status != GpuStatus.ACTIVE:
        set_status(2, status)
    chain.mine(timestamp=chain.blocks.head.timestamp + 90 * DAY)

    document = decode_token_uri(registry.tokenURI(2))

    assert document == expected_document(2, registry.gpu(2), chain.blocks.head.timestamp)
    assert document["attributes"][8]["value"] == status.name
    if status == GpuStatus.RETIRED:
        assert document["attributes"][7]["value"] == 0
    assert registered.token_ids == [1, 2]


def test_token_uri_follows_attestation(registry, attestor, register_gpus, chain):
    register_gpus(1)
    chain.mine(timestamp=chain.blocks.head.timestamp + DAY)
    tx = attest(attestor, [1])

    document = decode_token_uri(registry.tokenURI(1))

    assert document["attributes"][9] == {"trait_type": "last_attested_at", "value": tx.timestamp}


@pytest.mark.parametrize(
    "fields",
    [
        # The longest document: 32-character strings and the widest numbers.
        {
            "model": "M" * 32,
            "data_centre": "D" * 32,
            "acquisition_cost": MAX_UINT128,
            "salvage_value": MAX_UINT128 - 1,
            "useful_life": MAX_UINT40,
        },
        # Characters that are legal in a JSON string without escaping.
        {"model": "B200 {x:[1,2]} 'a' /b/", "data_centre": "Ashburn, VA <DC#3> ~%&"},
        # Model lengths 1, 2, 3 shift the document length through all three base64 paddings.
        {"model": "A"},
        {"model": "AB"},
        {"model": "ABC"},
        {"acquired_at": 0, "acquisition_cost": 1, "salvage_value": 0, "useful_life": 1},
    ],
    ids=["longest", "json-punctuation", "pad-1", "pad-2", "pad-3", "smallest"],
)
def test_token_uri_edge_documents(registry, register_gpus, chain, fields):
    registered = register_gpus(1, **fields)

    uri = registry.tokenURI(registered.token_id)

    document = decode_token_uri(uri)
    assert document == expected_document(1, registry.gpu(1), chain.blocks.head.timestamp)
    assert document["attributes"][0]["value"] == registered.spec["model"]


def test_token_uri_paddings_all_occur(registry, register_gpus):
    """The three model lengths above do produce the three remainders of len(json) % 3."""
    register_gpus(1, model="A")
    register_gpus(1, model="AB")
    register_gpus(1, model="ABC")

    remainders = set()
    for token_id in (1, 2, 3):
        raw = base64.b64decode(registry.tokenURI(token_id)[len(URI_PREFIX) :])
        remainders.add(len(raw) % 3)
    assert remainders == {0, 1, 2}


def test_token_uri_of_later_token_ids(registry, register_gpus):
    register_gpus(12)

    for token_id in (9, 10, 12):
        assert decode_token_uri(registry.tokenURI(token_id))["name"] == f"GPU #{token_id}"


def test_token_uri_unknown_gpu(registry, register_gpus):
    register_gpus(1)

    with ape.reverts("registry: unknown GPU"):
        registry.tokenURI(2)
    with ape.reverts("registry: unknown GPU"):
        registry.tokenURI(0)


def test_token_uri_is_the_renderers_output(registry, metadata, register_gpus, set_status, chain):
    """tokenURI forwards the stored record and the book value now to METADATA, unchanged."""
    registered = register_gpus(2, acquired_at=chain.pending_timestamp - 2 * YEAR)
    set_status(2, GpuStatus.LEASED)
    chain.mine(timestamp=chain.blocks.head.timestamp + 45 * DAY)

    assert registry.METADATA() == metadata.address
    for token_id in registered.token_ids:
        gpu = registry.gpu(token_id)
        assert registry.tokenURI(token_id) == metadata.token_uri(
            token_id, gpu, registry.book_value(token_id)
        )
