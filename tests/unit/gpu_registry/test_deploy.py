"""Deployment: ERC-721 identity, roles, ERC-165, and what is deliberately not exported."""

import pytest
from eth_utils import keccak

from tests.utils.registry import (
    APPRAISER_ROLE,
    CUSTODIAN_ROLE,
    DEFAULT_ADMIN_ROLE,
    LEASE_MANAGER_ROLE,
    MAX_ATTEST_BATCH,
    MAX_BATCH,
    ROLE_HOLDER,
)


def test_erc721_identity(registry):
    assert registry.name() == "GPU-RWA Registry"
    assert registry.symbol() == "GPU"
    assert registry.totalSupply() == 0


def test_constants(registry):
    assert registry.CUSTODIAN_ROLE() == CUSTODIAN_ROLE
    assert registry.APPRAISER_ROLE() == APPRAISER_ROLE
    assert registry.LEASE_MANAGER_ROLE() == LEASE_MANAGER_ROLE
    assert registry.DEFAULT_ADMIN_ROLE() == DEFAULT_ADMIN_ROLE
    assert registry.MAX_BATCH() == MAX_BATCH
    assert registry.MAX_ATTEST_BATCH() == MAX_ATTEST_BATCH


def test_deployer_is_admin_and_roles_granted(registry, request, admin):
    assert registry.hasRole(DEFAULT_ADMIN_ROLE, admin)
    for role, holder in ROLE_HOLDER.items():
        assert registry.hasRole(role, request.getfixturevalue(holder))
        assert registry.getRoleAdmin(role) == DEFAULT_ADMIN_ROLE
        assert not registry.hasRole(role, admin)


def test_deploy_logs_admin_grant(project, admin, chain):
    contract = project.GpuRegistry.deploy(sender=admin)
    receipt = chain.provider.get_receipt(contract.txn_hash)
    logs = receipt.decode_logs(contract.RoleGranted)
    assert [(log.role, log.account, log.sender) for log in logs] == [
        (DEFAULT_ADMIN_ROLE, admin.address, admin.address)
    ]


@pytest.mark.parametrize(
    "interface_id, supported",
    [
        ("0x01ffc9a7", True),  # ERC-165
        ("0x80ac58cd", True),  # ERC-721
        ("0x5b5e139f", True),  # ERC-721 metadata
        ("0x780e9d63", True),  # ERC-721 enumerable
        ("0x589c5ce2", True),  # ERC-4494 permit
        ("0x7965db0b", True),  # IAccessControl
        ("0x49064906", False),  # ERC-4906: not claimed (book value changes every block)
        ("0xffffffff", False),  # ERC-165 requires false
        ("0x00000000", False),
    ],
)
def test_supports_interface(registry, interface_id, supported):
    assert registry.supportsInterface(interface_id) is supported


ERC721_FUNCTIONS = (
    "balanceOf(address)",
    "ownerOf(uint256)",
    "safeTransferFrom(address,address,uint256,bytes)",
    "safeTransferFrom(address,address,uint256)",
    "transferFrom(address,address,uint256)",
    "approve(address,uint256)",
    "setApprovalForAll(address,bool)",
    "getApproved(uint256)",
    "isApprovedForAll(address,address)",
)
ACCESS_CONTROL_FUNCTIONS = (
    "hasRole(bytes32,address)",
    "getRoleAdmin(bytes32)",
    "grantRole(bytes32,address)",
    "revokeRole(bytes32,address)",
    "renounceRole(bytes32,address)",
)
OTHER_CLAIMED_FUNCTIONS = (
    "name()",
    "symbol()",
    "tokenURI(uint256)",
    "totalSupply()",
    "tokenByIndex(uint256)",
    "tokenOfOwnerByIndex(address,uint256)",
    "permit(address,uint256,uint256,uint8,bytes32,bytes32)",
    "nonces(uint256)",
    "DOMAIN_SEPARATOR()",
    "eip712Domain()",
    "supportsInterface(bytes4)",
)


def _interface_id(signatures: tuple[str, ...]) -> str:
    value = 0
    for signature in signatures:
        value ^= int.from_bytes(keccak(text=signature)[:4], "big")
    return f"0x{value:08x}"


def test_claimed_interfaces_are_in_the_abi(registry):
    """Every function behind a claimed ERC-165 id is exposed, and the ids are the selector XORs."""
    exposed = {abi.selector for abi in registry.contract_type.methods}
    assert set(ERC721_FUNCTIONS + ACCESS_CONTROL_FUNCTIONS + OTHER_CLAIMED_FUNCTIONS) <= exposed
    assert _interface_id(ERC721_FUNCTIONS) == "0x80ac58cd"
    assert _interface_id(ACCESS_CONTROL_FUNCTIONS) == "0x7965db0b"


@pytest.mark.parametrize(
    "name",
    [
        "safe_mint",
        "set_minter",
        "is_minter",
        "burn",
        "transfer_ownership",
        "renounce_ownership",
        "owner",
    ],
)
def test_not_exported(registry, name):
    names = {abi.name for abi in registry.contract_type.methods}
    assert name not in names
