"""digest(token_ids, attested_at): the EIP-712 hash custodians sign. The Python digest the tests and
the scripts sign (gpu_rwa.custody) equals the contract's view, and both equal what eth_account's
own EIP-712 encoder makes of the typed data: three independent computations of one hash."""

import pytest
from eth_account.messages import encode_typed_data

from gpu_rwa.custody import attestation_message, domain_separator, message_digest
from tests.utils.custody import MAX_IDS
from tests.utils.vault import EIP712_DOMAIN_TYPE

TYPED_DATA_TYPES = {
    "EIP712Domain": EIP712_DOMAIN_TYPE,
    "Attestation": [
        {"name": "tokenIds", "type": "uint256[]"},
        {"name": "attestedAt", "type": "uint256"},
    ],
}


def typed_data_digest(chain_id: int, attestor: str, token_ids: list[int], attested_at: int):
    """The digest as eth_account encodes the typed data (its EIP-712 implementation)."""
    signable = encode_typed_data(
        full_message={
            "types": TYPED_DATA_TYPES,
            "primaryType": "Attestation",
            "domain": {
                "name": "GPU RWA Custody",
                "version": "1",
                "chainId": chain_id,
                "verifyingContract": attestor,
            },
            "message": {"tokenIds": token_ids, "attestedAt": attested_at},
        }
    )
    return message_digest(signable)


@pytest.mark.parametrize(
    ("token_ids", "attested_at"),
    [
        ([1], 1_700_000_000),
        ([3, 1, 2], 1),
        ([2**256 - 1, 7], 2**40 - 1),
        (list(range(1, MAX_IDS + 1)), 1_800_000_000),
    ],
    ids=["one", "unordered", "extremes", "max batch"],
)
def test_python_digest_is_the_contracts(attestor, chain, token_ids, attested_at):
    message = attestation_message(chain.chain_id, attestor.address, token_ids, attested_at)
    expected = message_digest(message)

    assert bytes(attestor.digest(token_ids, attested_at)) == expected
    assert typed_data_digest(chain.chain_id, attestor.address, token_ids, attested_at) == expected


def test_empty_list_digest(attestor, chain):
    """An empty list hashes too (the registry refuses the batch, not the digest)."""
    message = attestation_message(chain.chain_id, attestor.address, [], 5)
    assert bytes(attestor.digest([], 5)) == message_digest(message)


def test_domain_separator(attestor, chain):
    _, name, version, chain_id, verifying, _, _ = attestor.eip712Domain()
    assert (name, version) == ("GPU RWA Custody", "1")
    message = attestation_message(chain_id, verifying, [1], 1)
    assert message.header == domain_separator(chain.chain_id, attestor.address)


def test_digest_binds_order_time_and_contract(project, attestor, registry, admin, chain):
    base = bytes(attestor.digest([1, 2], 100))
    other = project.CustodyAttestor.deploy(registry, 1, sender=admin)

    assert bytes(attestor.digest([2, 1], 100)) != base
    assert bytes(attestor.digest([1, 2], 101)) != base
    assert bytes(attestor.digest([1, 2, 3], 100)) != base
    assert bytes(other.digest([1, 2], 100)) != base
    # Another chain id: a different domain, so a different digest.
    elsewhere = attestation_message(chain.chain_id + 1, attestor.address, [1, 2], 100)
    assert message_digest(elsewhere) != base
