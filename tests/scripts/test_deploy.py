"""`ape run deploy`: config validation, manifest, idempotent re-runs and crash recovery."""

import json
from pathlib import Path

import pytest
from ape import chain, project

from gpu_rwa.deployment import create_address
from gpu_rwa.manifest import PendingDeployment, read_manifest
from tests.utils.scripts import run_script

# Init code deploying a 10-byte contract that returns 42: code that is not GpuRegistry.
RETURN_42 = "0x600a600c600039600a6000f3602a60005260206000f3"


def deploy_raw(sender, init_code: str) -> str:
    web3 = chain.provider.web3
    tx_hash = web3.eth.send_transaction({"from": sender.address, "data": init_code})
    return web3.eth.wait_for_transaction_receipt(tx_hash).contractAddress


def deploy(manifest_file, *args):
    return run_script("deploy", "--manifest", str(manifest_file), *args)


def test_deploy_writes_manifest_and_wires_roles(
    manifest_file, admin, custodian, appraiser, operator, compliance, pauser
):
    nonce = admin.nonce
    result = deploy(manifest_file)
    assert result.exit_code == 0, result.output

    manifest = read_manifest(manifest_file)
    assert manifest.chain_id == chain.chain_id
    assert (manifest.compiler.version, manifest.compiler.evm_version) == ("0.4.3", "shanghai")
    names = ["GpuRegistry", "IdentityRegistry", "MockUSDC", "CollateralVault", "LeaseManager"]
    assert list(manifest.contracts) == names
    for offset, name in enumerate(names):
        record = manifest.contracts[name]
        assert record.address == create_address(admin.address, nonce + offset)
        assert record.deployer == admin.address
    assert manifest.deploy_block == manifest.contracts["GpuRegistry"].block
    assert manifest.pending is None
    assert manifest.stablecoin == manifest.contracts["MockUSDC"].address
    assert manifest.stablecoin_decimals == 6

    registry, identity, usdc, vault, leases = (
        getattr(project, name).at(manifest.contracts[name].address) for name in names
    )
    assert (vault.asset(), vault.name(), vault.symbol()) == (usdc.address, "GPU Pool One", "GPU1")
    assert (vault.ADVANCE_RATE_BPS(), vault.fee_bps(), vault.vesting_period()) == (
        8_000,
        1_000,
        30 * 86_400,
    )
    expected_roles = [
        (registry, "CUSTODIAN_ROLE", custodian),
        (registry, "APPRAISER_ROLE", appraiser),
        (registry, "APPRAISER_ROLE", vault),
        (registry, "LEASE_MANAGER_ROLE", leases),
        (identity, "COMPLIANCE_ROLE", compliance),
        (vault, "OPERATOR_ROLE", operator),
        (vault, "APPRAISER_ROLE", appraiser),
        (vault, "PAUSER_ROLE", pauser),
        (vault, "LEASE_MANAGER_ROLE", leases),
        (leases, "OPERATOR_ROLE", operator),
    ]
    for contract, role, account in expected_roles:
        assert contract.hasRole(getattr(contract, role)(), account), (contract, role)
    assert len(manifest.wiring) == len(expected_roles)
    assert not registry.hasRole(registry.LEASE_MANAGER_ROLE(), operator)


def test_rerun_reuses_everything(manifest_file, admin):
    assert deploy(manifest_file).exit_code == 0
    before = manifest_file.read_text()
    nonce = admin.nonce

    result = deploy(manifest_file)

    assert result.exit_code == 0, result.output
    assert "reused" in result.output
    assert admin.nonce == nonce, "a re-run sent a transaction"
    assert json.loads(manifest_file.read_text()) == json.loads(before)


def test_interrupted_deployment_is_adopted_not_repeated(manifest_file, admin):
    # A crash after sending the deployment but before recording it: the manifest holds only the
    # pending entry with the address predicted from the nonce, and the contract is on chain.
    assert deploy(manifest_file).exit_code == 0
    manifest = read_manifest(manifest_file)
    registry = manifest.contracts.pop("GpuRegistry")
    manifest.pending = PendingDeployment(
        name="GpuRegistry", address=registry.address, deployer=admin.address, nonce=0
    )
    manifest_file.write_text(manifest.model_dump_json())
    nonce = admin.nonce

    result = deploy(manifest_file)

    assert result.exit_code == 0, result.output
    assert "found the deployment an interrupted run sent" in result.output
    assert admin.nonce == nonce
    assert read_manifest(manifest_file).contracts["GpuRegistry"].address == registry.address


def test_pending_that_never_landed_is_deployed(manifest_file, admin):
    assert deploy(manifest_file).exit_code == 0
    manifest = read_manifest(manifest_file)
    manifest.contracts.pop("GpuRegistry")
    unused = create_address(admin.address, admin.nonce + 100)
    manifest.pending = PendingDeployment(
        name="GpuRegistry", address=unused, deployer=admin.address, nonce=admin.nonce + 100
    )
    manifest_file.write_text(manifest.model_dump_json())

    result = deploy(manifest_file)

    assert result.exit_code == 0, result.output
    assert "deployed" in result.output
    assert read_manifest(manifest_file).contracts["GpuRegistry"].address != unused


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("role: {}\n", "role: unknown key"),
        (
            "vault: {name: P, symbol: P, advance_rate_bps: 8000, fee_bps: 1000, vesting_days: 30, "
            "fee_recipient: '0xnot-an-address'}\n",
            "vault.fee_recipient: not an address",
        ),
        ("confirmations: -2\n", "confirmations: Input should be greater than or equal to 0"),
    ],
)
def test_bad_config_deploys_nothing(tmp_path, manifest_file, admin, config, message):
    path = tmp_path / "bad.yaml"
    path.write_text(Path("config/local.yaml").read_text() + config)
    nonce = admin.nonce

    result = deploy(manifest_file, "--config", str(path))

    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert admin.nonce == nonce
    assert not manifest_file.exists()


def test_manifest_of_another_chain_is_refused(manifest_file, admin):
    assert deploy(manifest_file).exit_code == 0
    data = json.loads(manifest_file.read_text())
    data["chain_id"] = 1
    manifest_file.write_text(json.dumps(data))
    nonce = admin.nonce

    result = deploy(manifest_file)

    assert result.exit_code == 1
    assert "is for chain id 1 but the node is chain id" in result.output
    assert admin.nonce == nonce


def test_manifest_of_an_earlier_local_chain_is_replaced(manifest_file, admin):
    assert deploy(manifest_file).exit_code == 0
    data = json.loads(manifest_file.read_text())
    stale = create_address(admin.address, admin.nonce + 1_000)  # nothing there on this chain
    data["contracts"]["GpuRegistry"]["address"] = stale
    manifest_file.write_text(json.dumps(data))

    result = deploy(manifest_file)

    assert result.exit_code == 0, result.output
    assert "belongs to an earlier local chain" in result.output
    registry = read_manifest(manifest_file).contracts["GpuRegistry"].address
    assert registry != stale
    assert len(chain.provider.get_code(registry)) > 0


def test_manifest_pointing_at_other_code_is_refused(manifest_file, admin):
    assert deploy(manifest_file).exit_code == 0
    data = json.loads(manifest_file.read_text())
    data["contracts"]["GpuRegistry"]["address"] = deploy_raw(admin, RETURN_42)
    manifest_file.write_text(json.dumps(data))

    result = deploy(manifest_file)

    assert result.exit_code == 1
    assert "is not the code contracts/GpuRegistry.vy compiles to now" in result.output


def test_unknown_account_alias(manifest_file):
    result = deploy(manifest_file, "--account", "nobody-by-this-name")
    assert result.exit_code == 1
    assert "--account nobody-by-this-name: no ape account with that alias" in result.output
