"""Deployment: the registry it attests for, the threshold, roles, the EIP-712 domain (ERC-5267)."""

import ape
import pytest

from tests.utils.custody import MAX_IDS, MAX_SIGNERS
from tests.utils.registry import ATTESTER_ROLE, DEFAULT_ADMIN_ROLE, ROLE_FIXTURES

ZERO_ADDRESS = "0x" + "00" * 20
ERC165_ID = "0x01ffc9a7"
IACCESS_CONTROL_ID = "0x7965db0b"


def test_constants_and_wiring(attestor, registry, admin, chain):
    assert attestor.GPU_REGISTRY() == registry.address
    assert (attestor.MAX_SIGNERS(), attestor.MAX_IDS()) == (MAX_SIGNERS, MAX_IDS)
    assert attestor.threshold() == 1
    assert attestor.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert registry.hasRole(ATTESTER_ROLE, attestor)


def test_eip712_domain(attestor, chain):
    fields, name, version, chain_id, verifying, salt, extensions = attestor.eip712Domain()
    assert bytes(fields) == b"\x0f"
    assert (name, version, chain_id, verifying) == (
        "GPU RWA Custody",
        "1",
        chain.chain_id,
        attestor.address,
    )
    assert bytes(salt) == b"\x00" * 32
    assert list(extensions) == []


def test_supports_interface(attestor):
    assert attestor.supportsInterface(ERC165_ID)
    assert attestor.supportsInterface(IACCESS_CONTROL_ID)
    assert not attestor.supportsInterface("0xffffffff")


def test_deploy_logs_threshold_and_admin(project, registry, admin, chain):
    contract = project.CustodyAttestor.deploy(registry, 3, sender=admin)
    receipt = chain.provider.get_receipt(contract.txn_hash)

    assert contract.threshold() == 3
    [granted] = receipt.decode_logs(contract.RoleGranted)
    assert (granted.role, granted.account, granted.sender) == (
        DEFAULT_ADMIN_ROLE,
        admin.address,
        admin.address,
    )
    [threshold] = receipt.decode_logs(contract.UpdateThreshold)
    assert (threshold.previous, threshold.current) == (0, 3)


@pytest.mark.parametrize("threshold", [1, MAX_SIGNERS])
def test_deploy_threshold_bounds(project, registry, admin, threshold):
    assert (
        project.CustodyAttestor.deploy(registry, threshold, sender=admin).threshold() == threshold
    )


@pytest.mark.parametrize("threshold", [0, MAX_SIGNERS + 1])
def test_deploy_refuses_a_threshold_out_of_range(project, registry, admin, threshold):
    with ape.reverts("attestor: threshold out of range"):
        project.CustodyAttestor.deploy(registry, threshold, sender=admin)


@pytest.mark.parametrize("target", ["admin", "zero"])
def test_deploy_refuses_a_registry_that_is_not_a_contract(project, admin, target):
    with ape.reverts("attestor: registry is not a contract"):
        project.CustodyAttestor.deploy(
            admin if target == "admin" else ZERO_ADDRESS, 1, sender=admin
        )


def test_nobody_else_is_admin(attestor, request):
    for name in ROLE_FIXTURES:
        if name != "admin":
            assert not attestor.hasRole(DEFAULT_ADMIN_ROLE, request.getfixturevalue(name))
