"""Measure gas per operation from receipts and write reports/gas.json, reports/gas.md and
reports/speed.json.

    make bench
    ape run bench --network ethereum:local:foundry

Run it on a fresh local chain: it deploys its own contracts and uses the test accounts.
"""

import json
import tempfile
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa.bench import bench_registry, bench_vault
from gpu_rwa.chain import is_local
from gpu_rwa.cli import console
from gpu_rwa.errors import UserError
from gpu_rwa.gas import GasReport

REPORTS = Path("reports")


@click.command(cls=ConnectedProviderCommand, short_help="Gas and speed benchmark")
def cli():
    if not is_local():
        raise UserError("the benchmark spends test accounts' gas; pick a local network")
    report = GasReport()
    speed = bench_registry(report, console)
    with tempfile.TemporaryDirectory() as workdir:
        speed |= bench_vault(report, console, Path(workdir))
    report.write(REPORTS)
    (REPORTS / "speed.json").write_text(json.dumps(speed, indent=2) + "\n")
    console.print(
        f"wrote {REPORTS}/gas.json, gas.md and speed.json ({len(report.figures)} figures)"
    )
    if failures := report.failures():
        raise UserError("over target: " + "; ".join(failures))
