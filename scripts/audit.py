"""Rebuild a pool's books from its events alone and check every invariant against the chain.

    ape run audit --network ethereum:local:foundry
    ape run audit --manifest deployments/demo.json --report reports/audit.json

Prints the pool's GPUs as rebuilt from events (beside what the GpuCollateral says) and each
invariant of ../shared/DOMAIN.md with the figures compared, optionally writes them as JSON, and
exits 1 if any fails.
"""

import json
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa.audit import (
    check_invariants,
    failures,
    gpu_table,
    invariants_table,
    read_chain,
    rebuild_books,
    summary_line,
)
from gpu_rwa.cli import console, manifest_option, require_manifest
from gpu_rwa.errors import UserError
from gpu_rwa.pool import load_pool


@click.command(cls=ConnectedProviderCommand, short_help="Rebuild the books and check invariants")
@manifest_option
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the checks to this JSON file.")  # fmt: skip
def cli(manifest_file, report):
    """Rebuild the pool's books from its events alone, compare them with the contracts and check
    every invariant, printing the figures compared; exit 1 if one fails."""
    pool = load_pool(require_manifest(manifest_file))
    books = rebuild_books(pool)
    state = read_chain(pool, books)
    checks = check_invariants(pool, books, state)
    console.print(gpu_table(pool, books, state))
    console.print(invariants_table(checks))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps([c.model_dump() for c in checks], indent=2) + "\n")
        console.print(f"wrote {report}")
    if failures(checks):
        raise UserError(summary_line(checks))
    console.print(summary_line(checks))
