"""Deploy the suite (or finish an interrupted deployment) and write deployments/<network>.json.

    ape run deploy --network ethereum:local:foundry
    ape run deploy --network ethereum:sepolia:node --config config/sepolia.yaml --account deployer

Run again, it reuses what the manifest already holds and only does what is missing.
"""

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    account_option,
    config_option,
    console,
    manifest_file_or_default,
    manifest_option,
)
from gpu_rwa.deployment import deploy_suite


@click.command(cls=ConnectedProviderCommand, short_help="Deploy and wire the contracts")
@config_option
@manifest_option
@account_option
def cli(deploy_config, manifest_file, account_alias):
    """Deploy and wire the contracts of the --config and write the manifest; run again, it
    reuses what the manifest holds and only does what is missing."""
    sender = resolve_sender(account_alias, "admin")
    path = manifest_file_or_default(manifest_file)
    console.print(f"deploying from {sender.address}")
    manifest = deploy_suite(deploy_config, sender, path, console)
    console.print(f"manifest written to {path} (chain id {manifest.chain_id})")
