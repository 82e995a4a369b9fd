"""Deploy and wire the suite from a DeployConfig, resumable through the manifest.

Each step is idempotent: a contract already in the manifest (with matching code on chain) is
reused, a role already held is not granted again. Before a deployment is sent, its address is
predicted from the sender's nonce and written down as `pending`, so a crash between sending and
recording still finds the contract on the next run instead of deploying a second one. The
manifest names its chain (chain id and block 0's hash) and its node's address; a manifest of
another chain stops the run, nothing sent, unless the caller asks to replace it.

Governance: the GovernanceTimelock is deployed first; the deployer grants every role while it is
the admin; the last step hands DEFAULT_ADMIN_ROLE of every contract that has one to the timelock,
the deployer renouncing its own. A run after that handover sends no admin call: a grant or a
parameter the config asks for and the chain lacks is listed as an operation to schedule
(`ape run governance schedule ...`), and the run still succeeds.
"""

from pathlib import Path

import rlp
import vyper
from ape import Contract, chain, config, project
from ape.api import AccountAPI
from ape.contracts import ContractInstance
from eth_utils import keccak, to_checksum_address
from rich.console import Console

from gpu_rwa.chain import (
    chain_differences,
    connected_node,
    genesis_hash,
    has_code,
    network_name,
    send,
)
from gpu_rwa.config import DeployConfig
from gpu_rwa.errors import UserError
from gpu_rwa.governance import TIMELOCK, administered_contracts
from gpu_rwa.manifest import (
    Compiler,
    ContractRecord,
    Manifest,
    PendingDeployment,
    read_manifest,
    write_manifest,
)
from gpu_rwa.types import SECONDS_PER_DAY


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` yields: keccak(rlp([sender, nonce]))[12:]."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


class Deployment:
    def __init__(
        self,
        manifest_path: Path,
        sender: AccountAPI,
        console: Console,
        confirmations: int = 0,
        replace: bool = False,
    ):
        self.path = manifest_path
        self.sender = sender
        self.confirmations = confirmations
        self.console = console
        self.manifest = self._load_or_start(replace)
        # Admin calls the deployer could not make (the timelock is the admin): the `ape run
        # governance schedule` arguments of each.
        self.needs_governance: list[str] = []

    def _load_or_start(self, replace: bool) -> Manifest:
        """The manifest to continue, or a new one. A manifest of another chain (another chain
        id or genesis hash) is someone's deployment elsewhere: replaced only when asked."""
        existing = read_manifest(self.path)
        if existing is not None:
            differences = chain_differences(existing)
            if not differences:
                if existing.genesis_hash is None:
                    # Written before chains were told apart by block 0: record it from now on.
                    existing.genesis_hash, existing.node = genesis_hash(), connected_node()
                    write_manifest(existing, self.path)
                return existing
            if not replace:
                raise UserError(
                    f"{self.path} describes another chain ({'; '.join(differences)}); nothing "
                    "sent: `ape run deploy --replace` deploys here afresh and overwrites it"
                )
            self.console.print(
                f"[yellow]{self.path} described another chain ({'; '.join(differences)}): "
                "replaced by a fresh deployment (--replace)[/]",
                soft_wrap=True,
            )
        return Manifest(
            network=network_name(),
            chain_id=chain.chain_id,
            genesis_hash=genesis_hash(),
            node=connected_node(),
            compiler=Compiler(
                version=vyper.__version__.split("+")[0],
                evm_version=config.get_config("vyper").evm_version or "default",
            ),
        )

    def _save(self) -> None:
        write_manifest(self.manifest, self.path)

    def _matches_source(self, name: str, address: str) -> bool:
        runtime = getattr(project, name).contract_type.runtime_bytecode.bytecode
        deployed = chain.provider.get_code(address).hex().removeprefix("0x")
        # Vyper appends immutables after the runtime code, so the deployed code starts with it.
        return bool(deployed) and deployed.startswith(runtime.removeprefix("0x"))

    def contract(self, name: str, *args) -> ContractInstance:
        """The deployed `name`, deploying it now if the manifest does not hold it yet."""
        container = getattr(project, name)
        self._adopt_pending(name)
        if (record := self.manifest.contracts.get(name)) is not None:
            if not self._matches_source(name, record.address):
                raise UserError(
                    f"{self.path}: {name} at {record.address} is not the code contracts/{name}.vy "
                    "compiles to now; delete its entry to deploy it again"
                )
            self.console.print(f"  {name:<16} reused   {record.address}")
            return container.at(record.address)

        nonce = self.sender.nonce
        self.manifest.pending = PendingDeployment(
            name=name,
            address=create_address(self.sender.address, nonce),
            deployer=self.sender.address,
            nonce=nonce,
        )
        self._save()
        instance = send(
            f"deploying {name}",
            self.sender.deploy,
            container,
            *args,
            required_confirmations=self.confirmations,
        )
        receipt = instance.creation_metadata.receipt
        self._record(name, instance.address, receipt.txn_hash, receipt.block_number)
        self.console.print(f"  {name:<16} deployed {instance.address}")
        return instance

    def _adopt_pending(self, name: str) -> None:
        pending = self.manifest.pending
        if pending is None or pending.name != name:
            return
        if self._matches_source(name, pending.address):
            self.console.print(f"  {name:<16} found the deployment an interrupted run sent")
            self._record(
                name, pending.address, "unknown (interrupted run)", chain.blocks.head.number
            )
        else:
            self.manifest.pending = None
            self._save()

    def _record(self, name: str, address: str, tx_hash: str, block: int) -> None:
        self.manifest.contracts[name] = ContractRecord(
            address=address, deployer=self.sender.address, tx_hash=tx_hash, block=block
        )
        if self.manifest.deploy_block is None or block < self.manifest.deploy_block:
            self.manifest.deploy_block = block
        self.manifest.pending = None
        self._save()

    def is_admin(self, contract: ContractInstance, role: str = "DEFAULT_ADMIN_ROLE") -> bool:
        """Whether the deployer may grant `role` on `contract` (holds the role's admin)."""
        admin_role = contract.getRoleAdmin(getattr(contract, role)())
        return contract.hasRole(admin_role, self.sender.address)

    def needs_operation(self, step: str, arguments: str) -> None:
        """`step` is the admin's and the admin is the timelock: list it, send nothing."""
        self.needs_governance.append(arguments)
        self.console.print(
            f"  [yellow]{step} needs a scheduled operation: ape run governance schedule "
            f"{arguments}[/]",
            soft_wrap=True,
        )

    def grant_role(self, contract_name: str, contract: ContractInstance, role: str, account: str):
        step = f"{contract_name}.{role}:{account}"
        role_id = getattr(contract, role)()
        if contract.hasRole(role_id, account):
            self.console.print(f"  {step} held")
        elif not self.is_admin(contract, role):
            self.needs_operation(step, f"{contract_name} grantRole {role} {account}")
            return
        else:
            send(
                f"granting {role} to {account}",
                contract.grantRole,
                role_id,
                account,
                sender=self.sender,
                required_confirmations=self.confirmations,
            )
            self.console.print(f"  {step} granted")
        if step not in self.manifest.wiring:
            self.manifest.wiring.append(step)
            self._save()


def _stablecoin(deployment: Deployment, config_: DeployConfig) -> ContractInstance:
    if config_.stablecoin.mock:
        return deployment.contract("MockUSDC", "USD Coin", "USDC", 6)
    address = config_.stablecoin.address
    if not has_code(address):
        raise UserError(f"stablecoin.address {address}: no contract there on {network_name()}")
    return Contract(address, contract_type=project.MockUSDC.contract_type)


def _collateral_and_vault(
    deployment: Deployment,
    stablecoin: ContractInstance,
    registry: ContractInstance,
    identity: ContractInstance,
    config_: DeployConfig,
) -> tuple[ContractInstance, ContractInstance]:
    """The pool's GpuCollateral and CollateralVault. The collateral names the vault's address,
    predicted from the deployer's nonce, and the vault checks it: they are deployed back to back.
    A collateral left by an interrupted run is reused only if the vault can still be deployed at
    the address it names (the deployer sent nothing in between); otherwise a new one is deployed."""
    sender, records = deployment.sender, deployment.manifest.contracts
    for name in ("GpuCollateral", "CollateralVault"):
        deployment._adopt_pending(name)
    if "CollateralVault" in records:
        vault_address = records["CollateralVault"].address
    elif "GpuCollateral" in records:
        vault_address = create_address(sender.address, sender.nonce)
        named = project.GpuCollateral.at(records["GpuCollateral"].address).VAULT()
        if named != vault_address:
            deployment.console.print(
                f"[yellow]  GpuCollateral at {records['GpuCollateral'].address} names the vault "
                f"address {named}, which the deployer can no longer deploy to: deploying a new "
                "GpuCollateral[/]"
            )
            del records["GpuCollateral"]
            deployment._save()
            vault_address = create_address(sender.address, sender.nonce + 1)
    else:
        vault_address = create_address(sender.address, sender.nonce + 1)
    vault_config = config_.vault
    collateral = deployment.contract(
        "GpuCollateral",
        vault_address,
        registry,
        vault_config.advance_rate_bps,
        vault_config.staleness_days * SECONDS_PER_DAY,
        vault_config.unlock_days * SECONDS_PER_DAY,
    )
    vault = deployment.contract(
        "CollateralVault",
        stablecoin,
        collateral,
        identity,
        vault_config.name,
        vault_config.symbol,
        vault_config.fee_bps,
        vault_config.fee_recipient,
        vault_config.vesting_days * SECONDS_PER_DAY,
    )
    return collateral, vault


def _pool_contract(
    deployment: Deployment, name: str, collateral: ContractInstance, *args
) -> ContractInstance:
    """A contract bound to the pool's GpuCollateral (`COLLATERAL()`). One recorded by an
    interrupted run for a collateral since replaced is deployed again, for the new one."""
    deployment._adopt_pending(name)
    record = deployment.manifest.contracts.get(name)
    if (
        record is not None
        and getattr(project, name).at(record.address).COLLATERAL() != collateral.address
    ):
        deployment.console.print(
            f"[yellow]  {name} at {record.address} is another pool's: deploying a new one[/]"
        )
        del deployment.manifest.contracts[name]
        deployment._save()
    return deployment.contract(name, collateral, *args)


# CUSTODY ATTESTOR (issue 8): custodians' signed attestations reach the registry through it. #


def _custody_attestor(
    deployment: Deployment, registry: ContractInstance, config_: DeployConfig
) -> ContractInstance:
    """The registry's CustodyAttestor (`custody.threshold` signatures an attestation). The
    grants below give it the registry's ATTESTER_ROLE: the only way an attestation is recorded."""
    return deployment.contract("CustodyAttestor", registry, config_.custody.threshold)


def _pool_attestation_threshold(
    deployment: Deployment,
    attestor: ContractInstance,
    collateral: ContractInstance,
    config_: DeployConfig,
) -> None:
    """The pool's own quorum for its GPUs' attestations (`vault.attestation_threshold`)."""
    threshold = config_.vault.attestation_threshold
    step = f"CustodyAttestor.pool_threshold:{collateral.address}"
    if attestor.pool_threshold(collateral) == threshold:
        deployment.console.print(f"  {step} {threshold} held")
        return
    if not deployment.is_admin(attestor):
        deployment.needs_operation(
            f"{step} {threshold}",
            f"CustodyAttestor set_pool_threshold {collateral.address} {threshold}",
        )
        return
    send(
        f"setting the pool's attestation threshold to {threshold}",
        attestor.set_pool_threshold,
        collateral,
        threshold,
        sender=deployment.sender,
        required_confirmations=deployment.confirmations,
    )
    deployment.console.print(f"  {step} {threshold} set")


# END CUSTODY ATTESTOR #


# GOVERNANCE (issue 9): the timelock first, the admin handed to it last. #


def _timelock(deployment: Deployment, config_: DeployConfig) -> ContractInstance:
    """The GovernanceTimelock (self-administered), as the config's `governance` section says.
    One reused from an earlier run is checked against the config: a delay or a role that differs
    is changed only by an operation on the timelock itself, so it is listed, not sent."""
    governance = config_.governance
    timelock = deployment.contract(
        TIMELOCK, governance.delay_seconds, governance.proposers, governance.executors
    )
    delay = timelock.get_minimum_delay()
    if delay != governance.delay_seconds:
        deployment.needs_operation(
            f"{TIMELOCK}.delay {delay} s (config: {governance.delay_seconds} s)",
            f"{TIMELOCK} update_delay {governance.delay_seconds}",
        )
    wanted = [
        *(("PROPOSER_ROLE", account) for account in governance.proposers),
        *(("CANCELLER_ROLE", account) for account in governance.proposers),
        *(("EXECUTOR_ROLE", account) for account in governance.executors),
    ]
    for role, account in wanted:
        if not timelock.hasRole(getattr(timelock, role)(), account):
            deployment.needs_operation(
                f"{TIMELOCK}.{role}:{account}", f"{TIMELOCK} grantRole {role} {account}"
            )
    return timelock


def _hand_over_admin(deployment: Deployment, timelock: ContractInstance) -> None:
    """The last step: DEFAULT_ADMIN_ROLE of every administered contract granted to the timelock,
    then renounced by the deployer (never before the timelock holds it)."""
    deployer = deployment.sender.address
    for name in administered_contracts(deployment.manifest):
        contract = getattr(project, name).at(deployment.manifest.contracts[name].address)
        role = contract.DEFAULT_ADMIN_ROLE()
        if not contract.hasRole(role, timelock.address):
            if not contract.hasRole(role, deployer):
                deployment.console.print(
                    f"  [yellow]{name}: neither the deployer nor the timelock holds "
                    "DEFAULT_ADMIN_ROLE (handed over to another admin?); left as it is[/]",
                    soft_wrap=True,
                )
                continue
            deployment.grant_role(name, contract, "DEFAULT_ADMIN_ROLE", timelock.address)
        if contract.hasRole(role, deployer):
            send(
                f"renouncing DEFAULT_ADMIN_ROLE of {name}",
                contract.renounceRole,
                role,
                deployer,
                sender=deployment.sender,
                required_confirmations=deployment.confirmations,
            )
            deployment.console.print(f"  {name}.DEFAULT_ADMIN_ROLE renounced by the deployer")


# END GOVERNANCE #


def deploy_suite(
    config_: DeployConfig,
    sender: AccountAPI,
    manifest_path: Path,
    console: Console,
    replace: bool = False,
) -> Manifest:
    """Deploy (or finish deploying) every contract and grant every role; returns the manifest.
    A manifest at `manifest_path` of another chain stops it (UserError) unless `replace`.

    Wiring, besides the roles the config names: the registry tells the GpuCollateral of every
    status change and attestation of its GPUs (COLLATERAL_ROLE); the LeaseManager moves GPUs
    between ACTIVE and LEASED on the registry and pulls instalments through the vault; the
    RedemptionQueue escrows and settles requests on the vault (REDEMPTION_QUEUE_ROLE) and the
    operators fulfil them (FULFILLER_ROLE); the CustodyAttestor records custodians' signed
    attestations on the registry (ATTESTER_ROLE); the GpuAppraisals restarts GPUs' curves on the
    collateral (APPRAISALS_ROLE) and the LeaseManager asks it for default marks (its
    LEASE_MANAGER_ROLE); the GpuMarket and the LeaseManager (RMA) move GPUs in and out of the
    collateral (MOVER_ROLE); the PoolCompliance applies freezes, forced transfers, recoveries and
    the jurisdiction rules on the vault and moves a recovered wallet's requests on the queue
    (ENFORCER_ROLE on both), the compliance officers acting through it (COMPLIANCE_ROLE). The
    GovernanceTimelock comes first and takes DEFAULT_ADMIN_ROLE of every contract last;
    PAUSER_ROLE and COMPLIANCE_ROLE stay with the config's own keys.
    """
    deployment = Deployment(manifest_path, sender, console, config_.confirmations, replace)
    console.print(f"deploying from {sender.address}")
    timelock = _timelock(deployment, config_)
    metadata = deployment.contract("GpuMetadata")
    registry = deployment.contract("GpuRegistry", metadata)
    identity = deployment.contract("IdentityRegistry")
    attestor = _custody_attestor(deployment, registry, config_)
    stablecoin = _stablecoin(deployment, config_)
    collateral, vault = _collateral_and_vault(deployment, stablecoin, registry, identity, config_)
    appraisals = _pool_contract(deployment, "GpuAppraisals", collateral)
    default_after = config_.vault.default_after_days * SECONDS_PER_DAY
    leases = deployment.contract("LeaseManager", vault, registry, appraisals, default_after)
    queue = deployment.contract(
        "RedemptionQueue",
        vault,
        int(config_.vault.min_redeem_request.scaleb(vault.decimals())),
    )
    market = _pool_contract(deployment, "GpuMarket", collateral, appraisals)
    compliance = deployment.contract("PoolCompliance", vault, queue)
    deployment.manifest.stablecoin = stablecoin.address
    deployment.manifest.stablecoin_decimals = stablecoin.decimals()

    roles = config_.roles
    grants = [
        ("GpuRegistry", registry, "CUSTODIAN_ROLE", roles.custodians),
        ("GpuRegistry", registry, "APPRAISER_ROLE", roles.appraisers),
        ("GpuRegistry", registry, "LEASE_MANAGER_ROLE", [leases.address]),
        ("GpuRegistry", registry, "COLLATERAL_ROLE", [collateral.address]),
        ("GpuRegistry", registry, "ATTESTER_ROLE", [attestor.address]),
        ("IdentityRegistry", identity, "COMPLIANCE_ROLE", roles.compliance),
        ("PoolCompliance", compliance, "COMPLIANCE_ROLE", roles.compliance),
        ("GpuCollateral", collateral, "OPERATOR_ROLE", roles.operators),
        ("GpuCollateral", collateral, "APPRAISALS_ROLE", [appraisals.address]),
        ("GpuCollateral", collateral, "MOVER_ROLE", [market.address, leases.address]),
        ("GpuAppraisals", appraisals, "LEASE_MANAGER_ROLE", [leases.address]),
        ("GpuMarket", market, "OPERATOR_ROLE", roles.operators),
        ("CollateralVault", vault, "PAUSER_ROLE", roles.pausers),
        ("CollateralVault", vault, "LEASE_MANAGER_ROLE", [leases.address]),
        ("CollateralVault", vault, "REDEMPTION_QUEUE_ROLE", [queue.address]),
        ("CollateralVault", vault, "ENFORCER_ROLE", [compliance.address]),
        ("RedemptionQueue", queue, "FULFILLER_ROLE", roles.operators),
        ("RedemptionQueue", queue, "ENFORCER_ROLE", [compliance.address]),
        ("LeaseManager", leases, "OPERATOR_ROLE", roles.operators),
    ]
    for name, contract, role, accounts_ in grants:
        for account in accounts_:
            deployment.grant_role(name, contract, role, account)
    _pool_attestation_threshold(deployment, attestor, collateral, config_)
    _hand_over_admin(deployment, timelock)
    if deployment.needs_governance:
        console.print(
            f"[yellow]{len(deployment.needs_governance)} change(s) above wait for the timelock "
            "(the admin of the suite): schedule each, then `ape run governance execute ID` "
            f"once ready ({timelock.get_minimum_delay()} s)[/]",
            soft_wrap=True,
        )
    return deployment.manifest
