"""The deploy configuration: one YAML file per network, validated before anything is sent.

```yaml
confirmations: 0               # blocks to wait after each transaction (0 on local chains)
stablecoin:
  mock: true                   # local chains: deploy MockUSDC (6 decimals, permit, faucet)
  # address: "0xA0b8..."       # elsewhere: the existing ERC-20 the pool is priced in
vault:
  name: GPU Pool One           # the fraction token's name (at most 25 characters)
  symbol: GPU1                 # at most 5 characters
  advance_rate_bps: 8000       # collateral value = book value x 80 %
  fee_bps: 1000                # servicing fee on lease revenue (at most 2000)
  fee_recipient: "0x7099..."
  vesting_days: 30             # each instalment vests to holders within this window
  staleness_days: 30           # a GPU stops counting once its last attestation is this old
  unlock_days: 7               # a GPU that comes back regains its value over this period
  min_redeem_request: 10       # smallest queued redemption, in whole fractions
  default_after_days: 60       # a lease this late may be declared in default by anyone
  attestation_threshold: 0     # signatures this pool's GPUs need at least (0: custody.threshold)
custody:
  threshold: 1                 # custodians' signatures every attestation needs (1 to 16)
governance:                    # the GovernanceTimelock: DEFAULT_ADMIN_ROLE of every contract
  delay_seconds: 172800        # an operation waits at least this long (60 s to 30 days)
  proposers: ["0xf39F..."]     # schedule and cancel operations
  executors: ["0xf39F..."]     # execute them once ready
roles:
  custodians: ["0x3C44..."]
  ...
```
The bounds mirror the contracts' constructor checks, so a bad value is refused here, in one line,
before any transaction.
"""

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, NonNegativeInt, model_validator

from gpu_rwa.models import StrictModel, load_yaml_model
from gpu_rwa.types import Address

# CollateralVault.MAX_FEE_BPS and its vesting bounds; GpuCollateral's window bounds (in days).
MAX_FEE_BPS = 2_000
MAX_VESTING_DAYS = 365
MAX_WINDOW_DAYS = 365
# CustodyAttestor.MAX_SIGNERS: the highest threshold.
MAX_CUSTODY_THRESHOLD = 16
# The timelock's delay: at least a minute (a delay of seconds gives holders no notice; a local
# chain's session still works in real time), at most 30 days (an urgent fix must stay possible).
MIN_GOVERNANCE_DELAY = 60
MAX_GOVERNANCE_DELAY = 30 * 24 * 3600
# timelock_controller's bound on its proposer and executor lists.
MAX_GOVERNORS = 255


class StablecoinConfig(StrictModel):
    """Either a mock deployed with the suite (local chains) or an existing token."""

    mock: bool = False
    address: Address | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "StablecoinConfig":
        if self.mock == (self.address is not None):
            raise ValueError("give either `mock: true` or the token's `address`, not both")
        return self


class VaultConfig(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=25)]
    symbol: Annotated[str, Field(min_length=1, max_length=5)]
    advance_rate_bps: Annotated[int, Field(gt=0, le=10_000)]
    fee_bps: Annotated[int, Field(ge=0, le=MAX_FEE_BPS)]
    fee_recipient: Address
    vesting_days: Annotated[int, Field(ge=1, le=MAX_VESTING_DAYS)]
    staleness_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] = 30
    unlock_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] = 7
    # Whole fractions; the RedemptionQueue takes it in fraction units.
    min_redeem_request: Annotated[Decimal, Field(gt=0, le=10**12, decimal_places=6)] = Decimal(10)
    # A lease this many days past due may be declared in default (LeaseManager.default_after).
    default_after_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] = 60
    # CustodyAttestor.pool_threshold of the pool's GpuCollateral (0: custody.threshold alone).
    attestation_threshold: Annotated[int, Field(ge=0, le=MAX_CUSTODY_THRESHOLD)] = 0


class CustodyConfig(StrictModel):
    """The registry's CustodyAttestor: custodians' signatures every attestation needs."""

    threshold: Annotated[int, Field(ge=1, le=MAX_CUSTODY_THRESHOLD)] = 1


def _unique(accounts: list[str]) -> list[str]:
    seen: set[str] = set()
    for account in accounts:
        if account in seen:
            raise ValueError(f"{account} is listed twice")
        seen.add(account)
    return accounts


Governors = Annotated[
    list[Address], Field(min_length=1, max_length=MAX_GOVERNORS), AfterValidator(_unique)
]


class GovernanceConfig(StrictModel):
    """The GovernanceTimelock that ends up holding DEFAULT_ADMIN_ROLE of every contract: every
    parameter and role change is scheduled by a proposer, waits `delay_seconds`, and is executed
    by an executor. Proposers are also its cancellers."""

    delay_seconds: Annotated[int, Field(ge=MIN_GOVERNANCE_DELAY, le=MAX_GOVERNANCE_DELAY)]
    proposers: Governors
    executors: Governors


class RoleGrants(StrictModel):
    """Who holds each role. The deployer grants them while it is the admin; the timelock takes
    DEFAULT_ADMIN_ROLE of every contract at the end of the deploy."""

    custodians: list[Address] = Field(default_factory=list)
    appraisers: list[Address] = Field(default_factory=list)
    operators: list[Address] = Field(default_factory=list)
    compliance: list[Address] = Field(default_factory=list)
    pausers: list[Address] = Field(default_factory=list)


class DeployConfig(StrictModel):
    confirmations: NonNegativeInt = 0
    stablecoin: StablecoinConfig
    vault: VaultConfig
    custody: CustodyConfig = Field(default_factory=CustodyConfig)
    governance: GovernanceConfig
    roles: RoleGrants = Field(default_factory=RoleGrants)

    @model_validator(mode="after")
    def _emergency_keys_apart(self) -> "DeployConfig":
        # Pause and compliance act at once; a key that can also schedule and execute parameter
        # changes would hold both kinds of power.
        governors = set(self.governance.proposers) | set(self.governance.executors)
        for role in ("pausers", "compliance"):
            for account in getattr(self.roles, role):
                if account in governors:
                    raise ValueError(
                        f"roles.{role}: {account} is also a governance proposer or executor; "
                        "emergency keys stay apart from governance"
                    )
        return self


def load_deploy_config(path: Path) -> DeployConfig:
    return load_yaml_model(DeployConfig, path)
