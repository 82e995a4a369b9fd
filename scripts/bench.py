"""Measure gas per operation from receipts and every contract's deployed size, and write
reports/gas.json, reports/gas.md, reports/sizes.json, reports/sizes.md and reports/speed.json
(seconds, which vary from run to run: registering 1,000 GPUs, adding holders, and the audit of
a pool of 100 and of 1,000 holders x 60 monthly instalments, cold and from its cache).

    make bench
    ape run bench --network ethereum:local:foundry

Run it on a fresh Anvil: it deploys its own contracts, uses the test accounts and sets the
chain's clock (the gas figures are the same in every run; speed.json holds wall-clock seconds,
a measurement of this machine that changes from run to run).
"""

import json
import tempfile
from pathlib import Path

import click
from ape import chain, project
from ape_foundry.provider import FoundryProvider

from gpu_rwa.bench import bench_registry, bench_vault, pin_chain_time
from gpu_rwa.chain import is_local, local_account
from gpu_rwa.cli import FreshChainCommand, console
from gpu_rwa.errors import UserError
from gpu_rwa.gas import GasReport
from gpu_rwa.scale import bench_audit
from gpu_rwa.sizes import deployable_names, measure_sizes, size_failures, write_sizes

REPORTS = Path("reports")


@click.command(
    cls=FreshChainCommand,
    advice="the benchmark would deploy over its chain and move its time; run `make bench`, which "
    "starts an Anvil of its own",
    short_help="Gas and speed benchmark",
)
def cli():
    """Measure the gas of every state-changing call on a fresh Anvil (the same figures in every
    run) and each contract's deployed size; write them to reports/ and fail on a missed gas
    target or a contract with less than 3 KB of headroom under EIP-170."""
    if not is_local():
        raise UserError("the benchmark spends test accounts' gas; pick a local network")
    if not isinstance(chain.provider, FoundryProvider):
        raise UserError(
            "the benchmark sets the chain's clock as only Anvil can: use --network "
            "ethereum:local:foundry"
        )
    pin_chain_time()
    report = GasReport()
    speed = bench_registry(report, console)
    with tempfile.TemporaryDirectory() as workdir:
        vault_speed, contracts = bench_vault(report, console, Path(workdir))
    speed |= vault_speed
    with tempfile.TemporaryDirectory() as workdir:
        speed |= bench_audit(console, Path(workdir))
    # The suite deploys every contract but the USDT-like test token; measure it too.
    contracts["MockNoBoolToken"] = project.MockNoBoolToken.deploy(sender=local_account("admin"))
    sizes = measure_sizes({name: contract.address for name, contract in contracts.items()})
    report.write(REPORTS)
    write_sizes(sizes, REPORTS)
    (REPORTS / "speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    console.print(
        f"wrote {REPORTS}/gas.json, gas.md, sizes.json, sizes.md and speed.json "
        f"({len(report.figures)} gas figures, {len(sizes)} contract sizes)"
    )
    failures = report.failures() + size_failures(sizes, deployable_names())
    if failures:
        raise UserError("over target: " + "; ".join(failures))
