"""Custodians' signed attestations in tests: the registry records an attestation only from the
CustodyAttestor, so a test attests by signing with the custodians' test keys (EIP-712 digest
computed in Python by `gpu_rwa.custody`, no call to the attestor's `digest` view; a unit test
proves them equal) and submitting the signatures.
"""

from __future__ import annotations

from collections.abc import Sequence

from ape import accounts, chain, project
from ape.api import AccountAPI, ReceiptAPI

from gpu_rwa.chain import LOCAL_ROLE_ACCOUNTS
from gpu_rwa.custody import attestation_message, sign_all
from gpu_rwa.registry import read_terms
from tests.utils.exploits import on_anvil

MAX_SIGNERS = 16
MAX_IDS = 1_024
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def custodian_account() -> AccountAPI:
    """The `custodian` fixture's test account (its key signs by default)."""
    return accounts.test_accounts[LOCAL_ROLE_ACCOUNTS["custodian"]]


def signatures(
    attestor, token_ids: Sequence[int], attested_at: int, signers: Sequence[AccountAPI]
) -> list[bytes]:
    """Each signer's 65-byte signature of (token_ids, attested_at), in ascending signer order."""
    message = attestation_message(chain.chain_id, attestor.address, token_ids, attested_at)
    return sign_all(signers, message)


def submit_args(
    attestor,
    token_ids: Sequence[int],
    holder,
    attested_at: int,
    signers: Sequence[AccountAPI] | None = None,
) -> tuple:
    """The arguments of `attestor.submit`, signed by `signers` (the custodian by default)."""
    signed = signatures(attestor, token_ids, attested_at, signers or [custodian_account()])
    return (holder, list(token_ids), attested_at, signed)


def attestation_time(attestor, token_ids: Sequence[int]) -> int:
    """Now for the next block, and later than the GPUs' last attestations (read in one JSON-RPC
    batch). On Anvil the next block is pinned to it, so the receipt's timestamp is exactly it.
    Ganache's pending block is its head: an empty block reads its clock, moved on if the GPUs
    were attested in that very second."""
    return _next_time(read_terms(_registry_of(attestor), list(token_ids)))


def _next_time(terms) -> int:
    after = max((t.last_attested_at + 1 for t in terms), default=0)
    if on_anvil(chain):
        at = max(chain.pending_timestamp, after)
        chain.pending_timestamp = at
        return at
    chain.mine()
    at = max(chain.blocks.head.timestamp, after)
    if at > chain.blocks.head.timestamp:
        chain.pending_timestamp = at
    return at


def _registry_of(attestor):
    return project.GpuRegistry.at(attestor.GPU_REGISTRY())


def attest(
    attestor,
    token_ids: Sequence[int],
    *,
    holder=None,
    at: int | None = None,
    signers: Sequence[AccountAPI] | None = None,
    sender: AccountAPI | None = None,
) -> ReceiptAPI:
    """The custodians' attestation of `token_ids` (all owned by `holder`, by default the owner of
    the first) at `at` (by default now, see `attestation_time`), signed by `signers` (the
    custodian by default) and submitted by `sender` (the custodian by default)."""
    signers = list(signers or [custodian_account()])
    if holder is None or at is None:
        terms = read_terms(_registry_of(attestor), list(token_ids))
        holder = holder or terms[0].owner
        if at is None:
            at = _next_time(terms)
    args = submit_args(attestor, token_ids, holder, at, signers)
    return attestor.submit(*args, sender=sender or custodian_account())


def high_s_twin(signature: bytes) -> bytes:
    """The same signature with s flipped to n - s and v to the other parity: valid for ecrecover
    (EIP-2 malleability), refused by snekmate's ecdsa."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
