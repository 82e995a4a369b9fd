"""The deployment manifest, deployments/<network>.json: what is deployed where, and how far a
deployment got, so that a re-run (or a run after a crash) continues instead of starting over."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpu_rwa.errors import UserError
from gpu_rwa.models import describe_validation_error, write_json_model
from gpu_rwa.types import Address

MANIFEST_DIR = Path("deployments")


class ContractRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Address
    deployer: Address
    tx_hash: str
    block: int


class PendingDeployment(BaseModel):
    """A deployment sent but not yet confirmed: its address is known from the sender's nonce."""

    model_config = ConfigDict(extra="forbid")

    name: str
    address: Address
    deployer: Address
    nonce: int


class Compiler(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "vyper"
    version: str
    evm_version: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: str
    chain_id: int
    # Which chain: block 0's hash tells a chain from another of the same id (a local node started
    # afresh). Where its node was: scheme, host and port only, so a key in an RPC URL's path or
    # user part never lands in the file. Manifests written before these were recorded lack them.
    genesis_hash: str | None = None
    node: str | None = None
    deploy_block: int | None = None
    compiler: Compiler
    # The token the pool is priced in (deployed MockUSDC or an existing ERC-20) and its decimals,
    # the unit of every amount the contracts hold.
    stablecoin: Address | None = None
    stablecoin_decimals: int = 6
    contracts: dict[str, ContractRecord] = Field(default_factory=dict)
    pending: PendingDeployment | None = None
    # Wiring steps already done (role grants), named as `<contract>.<ROLE>:<address>`.
    wiring: list[str] = Field(default_factory=list)

    def differences(self, chain_id: int, genesis_hash: str) -> list[str]:
        """What tells this manifest's chain from a chain of `chain_id` and `genesis_hash`, in
        words (empty when nothing does)."""
        found = []
        if self.chain_id != chain_id:
            found.append(f"chain id {self.chain_id} in the manifest, {chain_id} on the node")
        if self.genesis_hash is not None and self.genesis_hash != genesis_hash:
            found.append(
                f"genesis hash {self.genesis_hash} in the manifest, {genesis_hash} on the node"
            )
        return found

    def address_of(self, name: str) -> str:
        if name not in self.contracts:
            raise UserError(f"{name} is not deployed on {self.network}; run `ape run deploy` first")
        return self.contracts[name].address


def manifest_path(network: str, directory: Path = MANIFEST_DIR) -> Path:
    """deployments/local.json for `ethereum:local:foundry`, deployments/sepolia.json, ..."""
    return directory / f"{network}.json"


def read_manifest(path: Path) -> Manifest | None:
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise UserError(describe_validation_error(str(path), exc)) from exc


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Atomic: a crash leaves either the old or the new manifest, never half of one."""
    write_json_model(manifest, path)
