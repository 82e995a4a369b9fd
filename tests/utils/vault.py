"""CollateralVault mirrors for tests: roles, constants, reference conversions and reusable checks.

The reference functions restate the contract's rules in Python (rounding included) so tests compare
the contract against an independent model.
"""

from __future__ import annotations

from eth_utils import keccak

DAY = 86_400
YEAR = 365 * DAY
BPS = 10_000
MAX_FEE_BPS = 2_000
DECIMALS_OFFSET = 6
VIRTUAL_SHARES = 10**DECIMALS_OFFSET
ACC_SCALE = 10**36
PRECISION = 10**18

# Vault defaults used by the fixtures.
ADVANCE_RATE_BPS = 8_000
FEE_BPS = 1_000
VESTING_PERIOD = 30 * DAY
STALENESS_WINDOW = 30 * DAY
UNLOCK_PERIOD = 7 * DAY
JURISDICTION = 276  # Germany, ISO 3166-1 numeric


def role(name: str) -> bytes:
    return keccak(text=name)


OPERATOR_ROLE = role("OPERATOR_ROLE")
PAUSER_ROLE = role("PAUSER_ROLE")
LEASE_MANAGER_ROLE = role("LEASE_MANAGER_ROLE")
COMPLIANCE_ROLE = role("COMPLIANCE_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32

MISSING_ROLE = "access_control: account is missing role"
PAUSED = "pausable: contract is paused"
RECEIVER_NOT_VERIFIED = "identity: receiver not verified"
SENDER_NOT_VERIFIED = "identity: sender not verified"
OWNER_NOT_VERIFIED = "identity: owner not verified"


def mul_div(x: int, y: int, d: int, roundup: bool) -> int:
    q, r = divmod(x * y, d)
    return q + 1 if roundup and r else q


def to_shares(assets: int, total_assets: int, supply: int, roundup: bool = False) -> int:
    return mul_div(assets, supply + VIRTUAL_SHARES, total_assets + 1, roundup)


def to_assets(shares: int, total_assets: int, supply: int, roundup: bool = False) -> int:
    return mul_div(shares, total_assets + 1, supply + VIRTUAL_SHARES, roundup)


def fund(token, account, amount: int) -> None:
    """Faucet `amount` of `token` to `account` (several calls past the per-call cap)."""
    cap = token.faucet_cap() if hasattr(token, "faucet_cap") else token.FAUCET_CAP()
    while amount > 0:
        step = min(cap, amount)
        token.faucet(step, sender=account)
        amount -= step


def buy(vault, token, account, assets: int, receiver=None):
    """Fund, approve and deposit `assets`; returns the receipt."""
    fund(token, account, assets)
    token.approve(vault, assets, sender=account)
    return vault.deposit(assets, receiver or account, sender=account)


def contribute(collateral, registry, operator, token_id: int, receiver=None, min_shares: int = 0):
    """Approve the collateral on the registry and contribute `token_id` from the operator."""
    registry.approve(collateral, token_id, sender=operator)
    return collateral.contribute(token_id, receiver or operator, min_shares, sender=operator)


def accounted_cash(vault) -> int:
    """What the books say the vault holds: free cash + revenue held + accrued fees."""
    return vault.free_cash() + vault.held() + vault.accrued_fees()


def check_conservation(vault, holders, claimed: int) -> int:
    """Invariant 3: received = claimed + claimable + unvested + dust, 0 <= dust <= holders + 2.

    Fees are accounted apart (`accrued_fees`). Returns the dust in wei.
    """
    received = vault.received()
    claimable = sum(vault.claimable(h) for h in holders)
    unvested = vault.unvested()
    assert vault.held() == received - claimed
    dust = received - claimed - claimable - unvested
    assert 0 <= dust <= len(holders) + 2, f"dust {dust} out of bounds"
    return dust


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def permit_signature(token, owner, spender, value: int, deadline: int, version: str = "2"):
    """An EIP-2612 permit signed by `owner` (an ape test account): returns (v, r, s)."""
    import ape
    from eth_abi import encode
    from eth_utils import to_checksum_address

    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text=token.name()),
                keccak(text=version),
                ape.chain.chain_id,
                to_checksum_address(token.address),
            ],
        )
    )
    permit_type = keccak(
        text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    )
    spender_address = spender.address if hasattr(spender, "address") else spender
    struct = keccak(
        encode(
            ["bytes32", "address", "address", "uint256", "uint256", "uint256"],
            [permit_type, owner.address, spender_address, value, token.nonces(owner), deadline],
        )
    )
    digest = keccak(b"\x19\x01" + domain + struct)
    sig = owner.sign_raw_msghash(digest)
    # r and s come as big-endian bytes with leading zeros stripped: left-pad them to 32 bytes
    # (ape would right-pad a short bytes32, a 1-in-256 invalid signature).
    v, r, s = sig.v, int.from_bytes(sig.r, "big").to_bytes(32, "big"), int.from_bytes(sig.s, "big")
    # snekmate's ecdsa rejects the high-s twin of a signature (EIP-2 malleability): use low s.
    if s > SECP256K1_N // 2:
        s, v = SECP256K1_N - s, 55 - v
    return v, r, s.to_bytes(32, "big")


def claimed_in(tx, vault) -> int:
    """Revenue paid by a claim, from its RevenueClaimed event (no traces needed, so Ganache too)."""
    return sum(log.amount for log in logs_of(tx, vault, "RevenueClaimed"))


def logs_of(tx, contract, event: str) -> list:
    """Logs of `event` emitted by `contract` itself (the stablecoin and the ERC-721 registry share
    the Transfer/Approval signatures, so decode only this contract's logs)."""
    return list(getattr(contract, event).from_receipt(tx))
