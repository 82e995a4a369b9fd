"""Deployment: the metadata renderer, ERC-721 identity, roles (COLLATERAL_ROLE among them), ERC-165,
and what is deliberately not exported."""

import ape
import pytest
from eth_utils import keccak

from tests.utils.registry import (
    APPRAISER_ROLE,
    COLLATERAL_ROLE,
    CUSTODIAN_ROLE,
    DEFAULT_ADMIN_ROLE,
    LEASE_MANAGER_ROLE,
    MAX_ATTEST_BATCH,
    MAX_BATCH,
    MISSING_ROLE,
    ROLE_FIXTURES,
    ROLE_HOLDER,
)

ZERO_ADDRESS = "0x" + "00" * 20


def _selector(signature: str) -> int:
    return int.from_bytes(keccak(text=signature)[:4], "big")


# What the registry calls on COLLATERAL_ROLE holders; it does not implement it, nor claim it.
IGPU_HOLDER_ID = "0x{:08x}".format(
    _selector("on_gpu_status(uint256,uint256)") ^ _selector("on_gpu_attested(uint256,uint256)")
)


def test_erc721_identity(registry):
    assert registry.name() == "GPU-RWA Registry"
    assert registry.symbol() == "GPU"
    assert registry.totalSupply() == 0


def test_constants(registry):
    assert registry.CUSTODIAN_ROLE() == CUSTODIAN_ROLE
    assert registry.APPRAISER_ROLE() == APPRAISER_ROLE
    assert registry.LEASE_MANAGER_ROLE() == LEASE_MANAGER_ROLE
    assert registry.COLLATERAL_ROLE() == COLLATERAL_ROLE == keccak(text="COLLATERAL_ROLE")
    assert registry.DEFAULT_ADMIN_ROLE() == DEFAULT_ADMIN_ROLE
    assert registry.MAX_BATCH() == MAX_BATCH
    assert registry.MAX_ATTEST_BATCH() == MAX_ATTEST_BATCH


def test_deployer_is_admin_and_roles_granted(registry, request, admin):
    assert registry.hasRole(DEFAULT_ADMIN_ROLE, admin)
    for role, holder in ROLE_HOLDER.items():
        assert registry.hasRole(role, request.getfixturevalue(holder))
        assert registry.getRoleAdmin(role) == DEFAULT_ADMIN_ROLE
        assert not registry.hasRole(role, admin)
    # COLLATERAL_ROLE is granted per pool, by the deploy script: nobody holds it at deployment.
    assert registry.getRoleAdmin(COLLATERAL_ROLE) == DEFAULT_ADMIN_ROLE
    for name in ROLE_FIXTURES:
        assert not registry.hasRole(COLLATERAL_ROLE, request.getfixturevalue(name))


def test_metadata_renderer(registry, metadata):
    assert registry.METADATA() == metadata.address


def test_deploy_logs_admin_grant(project, admin, metadata, chain):
    contract = project.GpuRegistry.deploy(metadata, sender=admin)
    receipt = chain.provider.get_receipt(contract.txn_hash)
    logs = receipt.decode_logs(contract.RoleGranted)
    assert [(log.role, log.account, log.sender) for log in logs] == [
        (DEFAULT_ADMIN_ROLE, admin.address, admin.address)
    ]


@pytest.mark.parametrize("renderer", ["admin", "zero"])
def test_deploy_refuses_a_metadata_that_is_not_a_contract(project, admin, renderer):
    with ape.reverts("registry: metadata is not a contract"):
        project.GpuRegistry.deploy(admin if renderer == "admin" else ZERO_ADDRESS, sender=admin)


def test_collateral_role_granted_by_admin_only(registry, request, admin, attacker, lessee):
    """The registry calls the hooks of COLLATERAL_ROLE holders: only the admin names them."""
    # The holders of the registry's other roles, and anyone else.
    for name in ("custodian", "appraiser", "operator", "attacker"):
        caller = request.getfixturevalue(name)
        with ape.reverts(MISSING_ROLE):
            registry.grantRole(COLLATERAL_ROLE, caller, sender=caller)

    tx = registry.grantRole(COLLATERAL_ROLE, attacker, sender=admin)

    assert registry.hasRole(COLLATERAL_ROLE, attacker)
    [log] = tx.decode_logs(registry.RoleGranted)
    assert (log.role, log.account, log.sender) == (COLLATERAL_ROLE, attacker.address, admin.address)
    # Holding the role gives no power over it.
    with ape.reverts(MISSING_ROLE):
        registry.grantRole(COLLATERAL_ROLE, lessee, sender=attacker)
    tx = registry.revokeRole(COLLATERAL_ROLE, attacker, sender=admin)
    assert not registry.hasRole(COLLATERAL_ROLE, attacker)
    [log] = tx.decode_logs(registry.RoleRevoked)
    assert (log.role, log.account, log.sender) == (COLLATERAL_ROLE, attacker.address, admin.address)


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
        (IGPU_HOLDER_ID, False),  # the hooks' interface: the pools', not the registry's
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
        value ^= _selector(signature)
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
