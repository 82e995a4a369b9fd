"""`ape run deploy`: config validation, manifest, idempotent re-runs and crash recovery.

The suite is deployed once for the module (ape reverts the chain to it after each test); each test
that needs a deployment starts from its own copy of that manifest.
"""

import json
from pathlib import Path

import pytest
from ape import chain, project
from eth_utils import to_hex

from gpu_rwa.deployment import create_address
from gpu_rwa.manifest import ContractRecord, PendingDeployment, read_manifest
from tests.scripts.utils import refused, rewrite
from tests.utils.governance import after_delay
from tests.utils.registry import DAY
from tests.utils.scripts import run_script

DEFAULT_ADMIN = b"\x00" * 32
# Init code deploying a 10-byte contract that returns 42: code that is not GpuRegistry.
RETURN_42 = "0x600a600c600039600a6000f3602a60005260206000f3"


def deploy_raw(sender, init_code: str) -> str:
    web3 = chain.provider.web3
    tx_hash = web3.eth.send_transaction({"from": sender.address, "data": init_code})
    return web3.eth.wait_for_transaction_receipt(tx_hash).contractAddress


def deploy(manifest_file, *args):
    return run_script("deploy", "--manifest", str(manifest_file), *args)


@pytest.fixture(scope="module")
def first_deploy(tmp_path_factory, admin, custodian, appraiser, operator, compliance, pauser):
    """(manifest, the admin's nonce before, the script's output) of the module's deployment."""
    path = tmp_path_factory.mktemp("deploy") / "local.json"
    nonce = admin.nonce
    result = deploy(path)
    assert result.exit_code == 0, result.output
    return path, nonce, result.output


@pytest.fixture
def deployed(first_deploy, manifest_file):
    """This test's manifest: a copy of the module's deployment."""
    manifest_file.parent.mkdir(parents=True, exist_ok=True)
    manifest_file.write_text(first_deploy[0].read_text())
    return manifest_file


NAMES = [
    "GovernanceTimelock",
    "GpuMetadata",
    "GpuRegistry",
    "IdentityRegistry",
    "CustodyAttestor",
    "MockUSDC",
    "GpuCollateral",
    "CollateralVault",
    "GpuAppraisals",
    "LeaseManager",
    "RedemptionQueue",
    "GpuMarket",
    "PoolCompliance",
]


def test_deploy_writes_manifest_and_wires_roles(
    first_deploy, admin, custodian, appraiser, operator, compliance, pauser
):
    path, nonce, output = first_deploy
    assert "manifest written to" in output

    manifest = read_manifest(path)
    assert manifest.chain_id == chain.chain_id
    assert manifest.genesis_hash == to_hex(chain.blocks[0].hash)
    assert manifest.node == chain.provider.http_uri
    assert (manifest.compiler.version, manifest.compiler.evm_version) == ("0.4.3", "shanghai")
    assert list(manifest.contracts) == NAMES
    for offset, name in enumerate(NAMES):
        record = manifest.contracts[name]
        assert record.address == create_address(admin.address, nonce + offset)
        assert record.deployer == admin.address
    assert manifest.deploy_block == manifest.contracts["GovernanceTimelock"].block
    assert manifest.pending is None
    assert manifest.stablecoin == manifest.contracts["MockUSDC"].address
    assert manifest.stablecoin_decimals == 6

    (
        timelock,
        metadata,
        registry,
        identity,
        attestor,
        usdc,
        collateral,
        vault,
        appraisals,
        leases,
        queue,
        market,
        desk,
    ) = (getattr(project, name).at(manifest.contracts[name].address) for name in NAMES)
    assert registry.METADATA() == metadata.address
    assert (attestor.GPU_REGISTRY(), attestor.threshold()) == (registry.address, 1)
    assert attestor.pool_threshold(collateral) == 0
    assert (vault.asset(), vault.name(), vault.symbol()) == (usdc.address, "GPU Pool One", "GPU1")
    assert (vault.COLLATERAL(), vault.IDENTITY_REGISTRY()) == (collateral.address, identity.address)
    assert (vault.fee_bps(), vault.fee_recipient(), vault.vesting_period()) == (
        1_000,
        admin.address,
        30 * DAY,
    )
    assert (collateral.VAULT(), collateral.GPU_REGISTRY()) == (vault.address, registry.address)
    assert (
        collateral.ADVANCE_RATE_BPS(),
        collateral.STALENESS_WINDOW(),
        collateral.UNLOCK_PERIOD(),
    ) == (8_000, 30 * DAY, 7 * DAY)
    assert (leases.VAULT(), leases.COLLATERAL(), leases.GPU_REGISTRY()) == (
        vault.address,
        collateral.address,
        registry.address,
    )
    assert (leases.APPRAISALS(), leases.default_after()) == (appraisals.address, 60 * DAY)
    assert appraisals.COLLATERAL() == collateral.address
    assert (market.COLLATERAL(), market.APPRAISALS()) == (collateral.address, appraisals.address)
    assert (queue.share(), queue.asset(), queue.IDENTITY_REGISTRY()) == (
        vault.address,
        usdc.address,
        identity.address,
    )
    assert queue.min_request() == 10 * 10**12
    assert (desk.VAULT(), desk.QUEUE(), desk.IDENTITY_REGISTRY()) == (
        vault.address,
        queue.address,
        identity.address,
    )
    expected_roles = [
        (collateral, "APPRAISALS_ROLE", appraisals),
        (collateral, "MOVER_ROLE", market),
        (collateral, "MOVER_ROLE", leases),
        (appraisals, "LEASE_MANAGER_ROLE", leases),
        (market, "OPERATOR_ROLE", operator),
        (registry, "CUSTODIAN_ROLE", custodian),
        (registry, "APPRAISER_ROLE", appraiser),
        (registry, "LEASE_MANAGER_ROLE", leases),
        (registry, "COLLATERAL_ROLE", collateral),
        (registry, "ATTESTER_ROLE", attestor),
        (identity, "COMPLIANCE_ROLE", compliance),
        (desk, "COMPLIANCE_ROLE", compliance),
        (collateral, "OPERATOR_ROLE", operator),
        (vault, "PAUSER_ROLE", pauser),
        (vault, "LEASE_MANAGER_ROLE", leases),
        (leases, "OPERATOR_ROLE", operator),
        (vault, "REDEMPTION_QUEUE_ROLE", queue),
        (vault, "ENFORCER_ROLE", desk),
        (queue, "FULFILLER_ROLE", operator),
        (queue, "ENFORCER_ROLE", desk),
    ]
    for contract, role, account in expected_roles:
        assert contract.hasRole(getattr(contract, role)(), account), (contract, role)
    administered = [registry, identity, attestor, collateral, vault, appraisals, leases, queue]
    administered += [market, desk]
    # Each grant of the config and the wiring, and DEFAULT_ADMIN_ROLE of each contract handed to
    # the timelock.
    assert len(manifest.wiring) == len(expected_roles) + len(administered)
    assert not registry.hasRole(registry.LEASE_MANAGER_ROLE(), operator)
    assert not registry.hasRole(registry.COLLATERAL_ROLE(), vault)
    # Emergency powers stay with their own keys, not the timelock.
    assert not vault.hasRole(vault.PAUSER_ROLE(), timelock)
    assert not identity.hasRole(identity.COMPLIANCE_ROLE(), timelock)


def test_the_timelock_is_the_only_admin(first_deploy, admin):
    """DEFAULT_ADMIN_ROLE of every contract that has one, the timelock's own included, is held by
    the timelock and by nobody else: the holders are rebuilt from every RoleGranted and
    RoleRevoked since the deploy, so an account granted and never revoked would show."""
    path, _, output = first_deploy
    manifest = read_manifest(path)
    timelock = manifest.contracts["GovernanceTimelock"].address
    with_admin = [
        name
        for name in manifest.contracts
        if "DEFAULT_ADMIN_ROLE"
        in {abi.name for abi in getattr(project, name).contract_type.view_methods}
    ]
    assert set(with_admin) == set(NAMES) - {"GpuMetadata", "MockUSDC"}
    for name in with_admin:
        contract = getattr(project, name).at(manifest.contracts[name].address)
        assert admin_holders(contract, manifest.deploy_block) == {timelock}, name
        if name != "GovernanceTimelock":
            assert f"{name}.DEFAULT_ADMIN_ROLE:{timelock} granted" in output
            assert f"{name}.DEFAULT_ADMIN_ROLE renounced by the deployer" in output


def admin_holders(contract, start: int) -> set[str]:
    """Who holds DEFAULT_ADMIN_ROLE of `contract`, replayed from its role events."""
    holders: set[str] = set()
    stop = chain.blocks.head.number
    for log in contract.RoleGranted.range(start, stop + 1, search_topics={"role": DEFAULT_ADMIN}):
        holders.add(log.account)
    for log in contract.RoleRevoked.range(start, stop + 1, search_topics={"role": DEFAULT_ADMIN}):
        holders.discard(log.account)
    return holders


def test_the_timelock_as_configured(first_deploy, admin):
    """config/local.yaml's governance: a minute's delay; TEST::0 proposes, cancels and executes;
    the deployer keeps no role of the timelock's own (it is self-administered)."""
    manifest = read_manifest(first_deploy[0])
    timelock = project.GovernanceTimelock.at(manifest.contracts["GovernanceTimelock"].address)
    assert timelock.get_minimum_delay() == 60
    assert timelock.pending_admin() == "0x" + "00" * 20
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        assert timelock.hasRole(getattr(timelock, role)(), admin), role
    assert timelock.hasRole(DEFAULT_ADMIN, timelock)
    assert not timelock.hasRole(DEFAULT_ADMIN, admin)


def _manifest_without_the_pool(manifest_file):
    """The manifest as a run interrupted before the pool left it: GpuCollateral, CollateralVault
    and LeaseManager forgotten (the wiring is checked on chain again anyway)."""
    manifest = read_manifest(manifest_file)
    for name in ("GpuCollateral", "CollateralVault", "LeaseManager"):
        manifest.contracts.pop(name)
    return manifest


def _record_collateral(manifest, manifest_file, admin) -> str:
    """Deploy a GpuCollateral naming the vault address of the deployer's next nonce, as the
    deploy script does, and record it: a run interrupted between the two deployments."""
    registry = manifest.contracts["GpuRegistry"].address
    named = create_address(admin.address, admin.nonce + 1)
    collateral = project.GpuCollateral.deploy(
        named, registry, 8_000, 30 * DAY, 7 * DAY, sender=admin
    )
    receipt = collateral.creation_metadata.receipt
    manifest.contracts["GpuCollateral"] = ContractRecord(
        address=collateral.address,
        deployer=admin.address,
        tx_hash=receipt.txn_hash,
        block=receipt.block_number,
    )
    manifest_file.write_text(manifest.model_dump_json())
    return collateral.address


def test_collateral_without_its_vault_gets_the_vault_it_names(deployed, admin):
    manifest = _manifest_without_the_pool(deployed)
    collateral = _record_collateral(manifest, deployed, admin)

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    assert f"GpuCollateral    reused   {collateral}" in result.output
    contracts = read_manifest(deployed).contracts
    vault = project.CollateralVault.at(contracts["CollateralVault"].address)
    assert contracts["GpuCollateral"].address == collateral
    assert project.GpuCollateral.at(collateral).VAULT() == vault.address
    assert vault.COLLATERAL() == collateral


def test_collateral_naming_a_lost_vault_address_is_replaced(deployed, admin):
    manifest = _manifest_without_the_pool(deployed)
    stale = _record_collateral(manifest, deployed, admin)
    admin.transfer(admin, 0)  # the deployer's nonce moves on: the named address is lost

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())  # rich wraps the long line
    assert f"GpuCollateral at {stale} names the vault address" in words
    assert "which the deployer can no longer deploy to: deploying a new GpuCollateral" in words
    contracts = read_manifest(deployed).contracts
    collateral = project.GpuCollateral.at(contracts["GpuCollateral"].address)
    assert collateral.address != stale
    assert collateral.VAULT() == contracts["CollateralVault"].address


def test_rerun_reuses_everything(deployed, admin):
    before = deployed.read_text()
    nonce = admin.nonce

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    assert "reused" in result.output
    assert admin.nonce == nonce, "a re-run sent a transaction"
    assert json.loads(deployed.read_text()) == json.loads(before)


def test_interrupted_deployment_is_adopted_not_repeated(deployed, admin):
    # A crash after sending the deployment but before recording it: the manifest holds only the
    # pending entry with the address predicted from the nonce, and the contract is on chain.
    manifest = read_manifest(deployed)
    registry = manifest.contracts.pop("GpuRegistry")
    manifest.pending = PendingDeployment(
        name="GpuRegistry", address=registry.address, deployer=admin.address, nonce=0
    )
    deployed.write_text(manifest.model_dump_json())
    nonce = admin.nonce

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    assert "found the deployment an interrupted run sent" in result.output
    assert admin.nonce == nonce
    assert read_manifest(deployed).contracts["GpuRegistry"].address == registry.address


def test_pending_that_never_landed_is_deployed(deployed, admin):
    manifest = read_manifest(deployed)
    manifest.contracts.pop("GpuRegistry")
    unused = create_address(admin.address, admin.nonce + 100)
    manifest.pending = PendingDeployment(
        name="GpuRegistry", address=unused, deployer=admin.address, nonce=admin.nonce + 100
    )
    deployed.write_text(manifest.model_dump_json())

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    assert "deployed" in result.output
    assert read_manifest(deployed).contracts["GpuRegistry"].address != unused


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
        (
            "custody: {threshold: 17}\n",
            "custody.threshold: Input should be less than or equal to 16",
        ),
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


def test_pool_attestation_threshold_from_the_config(tmp_path, manifest_file, admin):
    """`vault.attestation_threshold` becomes the attestor's pool threshold of the collateral
    (set by the deployer before the handover); a re-run finds it set and sends nothing."""
    path = tmp_path / "quorum.yaml"
    config = Path("config/local.yaml").read_text()
    path.write_text(config.replace("attestation_threshold: 0", "attestation_threshold: 2"))

    result = deploy(manifest_file, "--config", str(path))

    assert result.exit_code == 0, result.output
    contracts = read_manifest(manifest_file).contracts
    attestor = project.CustodyAttestor.at(contracts["CustodyAttestor"].address)
    collateral = contracts["GpuCollateral"].address
    assert (attestor.pool_threshold(collateral), attestor.required(collateral)) == (2, 2)
    assert f"CustodyAttestor.pool_threshold:{collateral} 2 set" in result.output
    nonce = admin.nonce
    result = deploy(manifest_file, "--config", str(path))
    assert result.exit_code == 0, result.output
    assert admin.nonce == nonce
    assert f"CustodyAttestor.pool_threshold:{collateral} 2 held" in result.output


OTHER_GENESIS = "0x" + "ab" * 32


def test_manifest_of_another_chain_id_is_refused(deployed, admin):
    rewrite(deployed, lambda data: data.update(chain_id=1))
    before, nonce = deployed.read_text(), admin.nonce

    result = deploy(deployed)

    refused(
        result,
        f"{deployed} describes another chain (chain id 1 in the manifest, {chain.chain_id} on the "
        "node); nothing sent: `ape run deploy --replace` deploys here afresh and overwrites it",
    )
    assert (admin.nonce, deployed.read_text()) == (nonce, before)


def test_manifest_of_another_genesis_is_refused_then_replaced_on_request(deployed, admin):
    """A local node started afresh: same chain id, another block 0. Its manifest is someone's
    work elsewhere: refused, nothing sent, the file untouched; `--replace` deploys afresh."""
    rewrite(deployed, lambda data: data.update(genesis_hash=OTHER_GENESIS))
    before, nonce = deployed.read_text(), admin.nonce
    genesis = to_hex(chain.blocks[0].hash)
    difference = f"genesis hash {OTHER_GENESIS} in the manifest, {genesis} on the node"

    result = deploy(deployed)

    refused(result, f"{deployed} describes another chain ({difference}); nothing sent")
    assert (admin.nonce, deployed.read_text()) == (nonce, before)

    result = deploy(deployed, "--replace")

    assert result.exit_code == 0, result.output
    assert (
        f"{deployed} described another chain ({difference}): replaced by a fresh deployment "
        "(--replace)"
    ) in " ".join(result.output.split())
    manifest = read_manifest(deployed)
    assert manifest.genesis_hash == genesis
    assert manifest.contracts["GpuRegistry"].address == create_address(admin.address, nonce + 2)
    assert all(len(chain.provider.get_code(r.address)) > 0 for r in manifest.contracts.values())


def test_manifest_from_before_genesis_hashes_gains_them(deployed, admin):
    """A manifest written before chains were told apart by block 0, on this chain (code at every
    address): the re-run records the genesis hash and the node, and sends nothing."""

    def before_genesis_hashes(data):
        del data["genesis_hash"], data["node"]

    rewrite(deployed, before_genesis_hashes)
    nonce = admin.nonce

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    assert admin.nonce == nonce
    manifest = read_manifest(deployed)
    assert (manifest.genesis_hash, manifest.node) == (
        to_hex(chain.blocks[0].hash),
        chain.provider.http_uri,
    )


def test_manifest_from_before_genesis_hashes_without_code_is_another_chain(deployed, admin):
    def older_chain(data):
        data.pop("genesis_hash")
        data["contracts"]["GpuRegistry"]["address"] = create_address(admin.address, 10_000)

    rewrite(deployed, older_chain)
    nonce = admin.nonce

    result = deploy(deployed)

    refused(
        result,
        f"{deployed} describes another chain (no code at the address of GpuRegistry); nothing sent",
    )
    assert admin.nonce == nonce


def test_manifest_pointing_at_other_code_is_refused(deployed, admin):
    data = json.loads(deployed.read_text())
    data["contracts"]["GpuRegistry"]["address"] = deploy_raw(admin, RETURN_42)
    deployed.write_text(json.dumps(data))

    result = deploy(deployed)

    assert result.exit_code == 1
    assert "is not the code contracts/GpuRegistry.vy compiles to now" in result.output


def test_unknown_account_alias(manifest_file):
    result = deploy(manifest_file, "--account", "nobody-by-this-name")
    assert result.exit_code == 1
    assert "--account nobody-by-this-name: no ape account with that alias" in result.output


def _config_with(tmp_path, *replacements: tuple[str, str]) -> Path:
    text = Path("config/local.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "changed.yaml"
    path.write_text(text)
    return path


def test_rerun_after_the_handover_lists_what_needs_the_timelock(deployed, tmp_path, admin):
    """The config asks for a grant, a pool threshold and a delay the chain lacks: the deployer is
    no longer the admin, so the re-run sends nothing and names each operation to schedule."""
    newcomer = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
    path = _config_with(
        tmp_path,
        ("custodians: [", f'custodians: ["{newcomer}", '),
        ("attestation_threshold: 0", "attestation_threshold: 2"),
        ("delay_seconds: 60", "delay_seconds: 120"),
    )
    nonce = admin.nonce

    result = deploy(deployed, "--config", str(path))

    assert result.exit_code == 0, result.output
    assert admin.nonce == nonce
    words = " ".join(result.output.split())
    contracts = read_manifest(deployed).contracts
    collateral = contracts["GpuCollateral"].address
    for step, command in (
        ("GovernanceTimelock.delay 60 s (config: 120 s)", "GovernanceTimelock update_delay 120"),
        (
            f"GpuRegistry.CUSTODIAN_ROLE:{newcomer}",
            f"GpuRegistry grantRole CUSTODIAN_ROLE {newcomer}",
        ),
        (
            f"CustodyAttestor.pool_threshold:{collateral} 2",
            f"CustodyAttestor set_pool_threshold {collateral} 2",
        ),
    ):
        assert f"{step} needs a scheduled operation: ape run governance schedule {command}" in (
            words
        )
    assert "3 change(s) above wait for the timelock (the admin of the suite)" in words
    assert f"GpuRegistry.CUSTODIAN_ROLE:{newcomer}" not in read_manifest(deployed).wiring


def test_a_contract_added_after_the_handover_is_handed_over_too(deployed, admin, chain):
    """A contract new to the manifest (here a GpuMarket forgotten by the manifest; PoolCompliance
    later) is deployed, granted its roles by the deployer and handed to the timelock; a grant on
    a contract the timelock already administers is named as an operation, which the governance
    script then schedules and executes."""
    manifest = read_manifest(deployed)
    old_market = manifest.contracts.pop("GpuMarket").address
    deployed.write_text(manifest.model_dump_json())

    result = deploy(deployed)

    assert result.exit_code == 0, result.output
    contracts = read_manifest(deployed).contracts
    market = project.GpuMarket.at(contracts["GpuMarket"].address)
    timelock = contracts["GovernanceTimelock"].address
    assert market.address != old_market
    assert market.hasRole(market.OPERATOR_ROLE(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    assert admin_holders(market, contracts["GpuMarket"].block) == {timelock}
    command = f"GpuCollateral grantRole MOVER_ROLE {market.address}"
    assert f"needs a scheduled operation: ape run governance schedule {command}" in " ".join(
        result.output.split()
    )

    scheduled = run_script("governance", "schedule", *command.split(), "--manifest", str(deployed))
    assert scheduled.exit_code == 0, scheduled.output
    after_delay(chain)
    operation = scheduled.output.split("as operation ")[1][:66]
    executed = run_script("governance", "execute", operation, "--manifest", str(deployed))
    assert executed.exit_code == 0, executed.output
    collateral = project.GpuCollateral.at(contracts["GpuCollateral"].address)
    assert collateral.hasRole(collateral.MOVER_ROLE(), market)
    nonce = admin.nonce
    rerun = deploy(deployed)
    assert rerun.exit_code == 0, rerun.output
    assert "needs a scheduled operation" not in rerun.output
    assert admin.nonce == nonce
