"""EIP-2612 permits signed by an ape account, for `buy_with_permit` (one transaction, no approve).

The EIP-712 domain comes from the token itself (ERC-5267 `eip712Domain`, else name and version
"1"/"2") and is checked against its DOMAIN_SEPARATOR, and the signature is checked to recover to
the owner before anything is sent: a token without permit, or a signer that signed something else,
is a one-line error instead of a reverted transaction. What the owner signs is shown first
(`permit_lines`): a permit is a blank cheque up to its amount until its deadline, and a signer
(a hardware wallet showing only a hash) should see who may spend how much until when.
"""

from ape import chain
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from ape.exceptions import ApeException
from ape.types import MessageSignature
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from rich.console import Console

from gpu_rwa.errors import UserError
from gpu_rwa.types import format_moment, format_units

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

_DOMAIN_FIELDS = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
)
_PERMIT_TYPE = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def _no_permit(token: ContractInstance) -> UserError:
    return UserError(f"the stablecoin {token.address} has no EIP-2612 permit; buy with --no-permit")


def _domain_separator(domain: dict, types: list[dict]) -> bytes:
    message = {
        "types": {"EIP712Domain": types, "Permit": _PERMIT_TYPE},
        "primaryType": "Permit",
        "domain": domain,
        "message": dict.fromkeys(("owner", "spender"), "0x" + "00" * 20)
        | dict.fromkeys(("value", "nonce", "deadline"), 0),
    }
    return encode_typed_data(full_message=message).header


def permit_domain(token: ContractInstance) -> tuple[dict, list[dict]]:
    """The token's EIP-712 domain and its type, matching its DOMAIN_SEPARATOR."""
    try:
        separator = bytes(token.DOMAIN_SEPARATOR())
        token.nonces(token.address)
    except (ApeException, ValueError) as exc:
        raise _no_permit(token) from exc
    candidates = []
    try:
        fields, name, version, chain_id, verifying, salt, _ = token.eip712Domain()
        values = (name, version, chain_id, verifying, bytes(salt))
        flags = bytes(fields)[0] if isinstance(fields, bytes) else int(fields)
        chosen = [i for i in range(len(_DOMAIN_FIELDS)) if flags >> i & 1]
        candidates.append(
            (
                {_DOMAIN_FIELDS[i][0]: values[i] for i in chosen},
                [{"name": _DOMAIN_FIELDS[i][0], "type": _DOMAIN_FIELDS[i][1]} for i in chosen],
            )
        )
    except (ApeException, ValueError):
        pass
    name = token.name()
    for version in ("1", "2"):
        domain = {
            "name": name,
            "version": version,
            "chainId": chain.chain_id,
            "verifyingContract": to_checksum_address(token.address),
        }
        candidates.append((domain, [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS[:4]]))
    for domain, types in candidates:
        if _domain_separator(domain, types) == separator:
            return domain, types
    raise UserError(
        f"the stablecoin {token.address}: cannot rebuild its EIP-712 domain; buy with --no-permit"
    )


def signature_parts(signature: MessageSignature) -> tuple[int, bytes, bytes]:
    """(v, r, s) for the contract: r and s left-padded to 32 bytes, s in the low half.

    Ape hands r and s over as big-endian bytes with leading zeros stripped, and would right-pad a
    short value into a bytes32 (about 1 signature in 128 would then be invalid); snekmate's ecdsa
    rejects the high-s twin of a signature (EIP-2).
    """
    v = signature.v if signature.v >= 27 else signature.v + 27
    r = int.from_bytes(bytes(signature.r), "big")
    s = int.from_bytes(bytes(signature.s), "big")
    if s > SECP256K1_N // 2:
        s, v = SECP256K1_N - s, 55 - v
    return v, r.to_bytes(32, "big"), s.to_bytes(32, "big")


def permit_lines(
    token: ContractInstance, domain: dict, permit: dict, spender_name: str
) -> list[str]:
    """What a permit lets happen, one field a line: spender, amount (human and base units),
    deadline (UTC and unix), nonce, token and chain (from the EIP-712 domain signed)."""
    symbol, decimals = token.symbol(), token.decimals()
    value, deadline = permit["value"], permit["deadline"]
    named = f" ({spender_name})" if spender_name else ""
    # The domain's chain id and contract are the chain and token lines (its separator matched).
    signed_as = ", ".join(
        f"{key} {value!r}"
        for key, value in domain.items()
        if key not in ("chainId", "verifyingContract")
    )
    return [
        f"signing an EIP-2612 permit for {permit['owner']}: until its deadline, the spender may "
        f"take up to the amount from this account",
        f"  spender   {permit['spender']}{named}",
        f"  amount    {format_units(value, decimals)} {symbol} ({value} base units)",
        f"  deadline  {format_moment(deadline)}",
        f"  nonce     {permit['nonce']}",
        f"  token     {symbol} at {token.address} (EIP-712 domain: {signed_as})",
        f"  chain     {domain.get('chainId', chain.chain_id)}",
    ]


def sign_permit(
    token: ContractInstance,
    owner: AccountAPI,
    spender: str,
    value: int,
    deadline: int,
    *,
    console: Console | None = None,
    spender_name: str = "",
) -> tuple[int, bytes, bytes]:
    """Have `owner` sign a permit of `value` to `spender` until `deadline`; returns (v, r, s).
    With a `console`, what is signed is printed there first (`permit_lines`)."""
    domain, domain_type = permit_domain(token)
    permit = {
        "owner": owner.address,
        "spender": to_checksum_address(spender),
        "value": value,
        "nonce": token.nonces(owner.address),
        "deadline": deadline,
    }
    if console is not None:
        for line in permit_lines(token, domain, permit, spender_name):
            console.print(line, soft_wrap=True)
    message = {
        "types": {"EIP712Domain": domain_type, "Permit": _PERMIT_TYPE},
        "primaryType": "Permit",
        "domain": domain,
        "message": permit,
    }
    signable = encode_typed_data(full_message=message)
    try:
        signature = owner.sign_message(signable)
    except ApeException as exc:
        raise UserError(f"signing the permit failed: {exc}") from exc
    if signature is None:
        raise UserError(f"{owner.address} did not sign the permit")
    v, r, s = signature_parts(signature)
    recovered = Account.recover_message(
        signable, vrs=(v, int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    )
    if recovered != owner.address:
        raise UserError(f"the permit signature recovers to {recovered}, not {owner.address}")
    return v, r, s
