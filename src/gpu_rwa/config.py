"""The deploy configuration: one YAML file per network, validated before anything is sent.

```yaml
confirmations: 0          # blocks to wait after each transaction (0 on local chains)
stablecoin_decimals: 6    # the unit of GPU costs and book values
roles:
  custodians: ["0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
  appraisers: ["0x90F79bf6EB2c4f870365E785982E1f101E93b906"]
```
"""

from pathlib import Path

from pydantic import Field, NonNegativeInt

from gpu_rwa.models import StrictModel, load_yaml_model
from gpu_rwa.types import Address


class RoleGrants(StrictModel):
    """Who holds each registry role besides the deployer (who holds DEFAULT_ADMIN_ROLE)."""

    custodians: list[Address] = Field(default_factory=list)
    appraisers: list[Address] = Field(default_factory=list)
    lease_managers: list[Address] = Field(default_factory=list)


class DeployConfig(StrictModel):
    confirmations: NonNegativeInt = 0
    stablecoin_decimals: int = Field(default=6, ge=0, le=18)
    roles: RoleGrants = Field(default_factory=RoleGrants)


def load_deploy_config(path: Path) -> DeployConfig:
    return load_yaml_model(DeployConfig, path)
