"""EIP-712 signatures made off chain by a role's key (custodians' attestations, compliance
officers' verifications): the domain separator, signing with an ape account or a key from the
environment, recovery as the contracts read it.

The contracts take 65-byte (r, s, v) signatures with v 27 or 28 and s in the low half (snekmate's
ecdsa refuses the high-s twin); `sign` produces them and `recover` refuses anything else, so a
signature a file carries is checked before it is written and when it is read.
"""

import os
from typing import Annotated

from ape.api import AccountAPI
from ape.exceptions import ApeException
from ape.types import MessageSignature
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from pydantic import BeforeValidator

from gpu_rwa.chain import is_local, local_account, network_name, resolve_sender
from gpu_rwa.errors import UserError
from gpu_rwa.permit import SECP256K1_N, signature_parts

Signer = AccountAPI | LocalAccount
"""Who signs: an ape account (alias or test account) or a key from the environment."""

_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str) -> bytes:
    """The EIP-712 domain separator of (name, version, chain id, contract): what snekmate's
    eip712_domain_separator builds and `eip712Domain` describes."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                _DOMAIN_TYPEHASH,
                keccak(text=name),
                keccak(text=version),
                chain_id,
                verifying_contract,
            ],
        )
    )


def message_digest(message: SignableMessage) -> bytes:
    """The hash a signature covers: keccak256(0x19 || 0x01 || domain separator || struct hash)."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def sign(signer: Signer, message: SignableMessage) -> bytes:
    """`signer`'s 65-byte (r, s, v) signature of `message`, s in the low half (EIP-2)."""
    if isinstance(signer, LocalAccount):
        signed = signer.sign_message(message)
        parts = MessageSignature(
            v=signed.v, r=signed.r.to_bytes(32, "big"), s=signed.s.to_bytes(32, "big")
        )
    else:
        try:
            parts = signer.sign_message(message)
        except ApeException as exc:
            raise UserError(f"signing failed: {exc}") from exc
        if parts is None:
            raise UserError(f"{signer.address} did not sign; nothing written")
    v, r, s = signature_parts(parts)
    return r + s + bytes([v])


def recover(message: SignableMessage, signature: bytes) -> str:
    """The signer of a 65-byte (r, s, v) signature as the contracts read it, or ValueError for
    one they refuse (not 65 bytes, v not 27 or 28, a high s)."""
    if len(signature) != 65:
        raise ValueError("not a 65-byte signature")
    r, s, v = (int.from_bytes(signature[i:j], "big") for i, j in ((0, 32), (32, 64), (64, 65)))
    if v not in (27, 28):
        raise ValueError("v is not 27 or 28")
    if not 0 < s <= SECP256K1_N // 2:
        raise ValueError("s is not in the low half (EIP-2)")
    return Account.recover_message(message, vrs=(v, r, s))


def _hex_signature(value: object) -> str:
    if not isinstance(value, str) or len(value) != 132 or not value.startswith("0x"):
        raise ValueError("not a 65-byte signature (0x and 130 hex digits)")
    try:
        bytes.fromhex(value[2:])
    except ValueError as exc:
        raise ValueError("not a 65-byte signature (0x and 130 hex digits)") from exc
    return value.lower()


HexSignature = Annotated[str, BeforeValidator(_hex_signature)]
"""A 65-byte signature as a file holds it: 0x and 130 hex digits, lower case."""


def resolve_signer(alias: str | None, role: str, key_env: str) -> Signer:
    """`--account` if given; else the private key in $`key_env`; else, on a local chain, the
    test account that plays `role`."""
    if alias is not None:
        return resolve_sender(alias, role)
    if (key := os.environ.get(key_env)) is not None:
        try:
            return Account.from_key(key.strip())
        except (ValueError, TypeError) as exc:
            raise UserError(f"${key_env}: not a private key (32 bytes in hex)") from exc
    if not is_local():
        raise UserError(
            f"give --account (an ape account alias) or set ${key_env} on {network_name()}"
        )
    return local_account(role)
