"""Helpers of the script tests over the `pool` fixture (tests/scripts/conftest.py)."""

from dataclasses import dataclass

from click.testing import Result

from gpu_rwa.pool import Pool
from tests.utils.registry import USDC
from tests.utils.scripts import run_script

# What the `pool` fixture sets up.
INVESTOR_FUNDS = 100_000 * USDC
GPU_COST = 30_000 * USDC
GPUS_IN_VAULT = (1, 2)
GPU_OUTSIDE = 3


@dataclass
class PoolKit:
    """The deployed pool (its attributes read through) and the manifest the scripts read."""

    pool: Pool
    manifest: str

    def __getattr__(self, name):
        return getattr(self.pool, name)


def script(kit: PoolKit, name: str, *args: str) -> Result:
    """`ape run <name> <args> --manifest <the pool's manifest>`."""
    return run_script(name, *args, "--manifest", kit.manifest)


def refused(result: Result, message: str) -> None:
    """A user mistake: exit 1, the message on one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


def table_cells(line: str) -> list[str]:
    """The cells of one row of a rich table as printed (empty for borders and titles)."""
    if not line.startswith("│"):
        return []
    return [cell.strip() for cell in line.split("│")[1:-1]]
