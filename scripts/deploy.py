"""Deploy the suite (or finish an interrupted deployment) and write deployments/<network>.json.

    ape run deploy --network ethereum:local:foundry
    ape run deploy --network ethereum:sepolia:node --config config/sepolia.yaml --account deployer

Run again, it reuses what the manifest already holds and only does what is missing. A manifest
of another chain (another chain id or genesis hash: a local node started afresh) stops it,
nothing sent, unless --replace.
"""

import click

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
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
@click.option(
    "--replace",
    is_flag=True,
    help="Deploy afresh when the manifest describes another chain (another chain id or genesis "
    "hash), overwriting it; without it such a manifest stops the deploy.",
)
def cli(deploy_config, manifest_file, account_alias, replace):
    """Deploy and wire the contracts of the --config and write the manifest; run again, it
    reuses what the manifest holds and only does what is missing (--replace: deploy afresh over
    a manifest of another chain)."""
    sender = resolve_sender(account_alias, "admin")
    path = manifest_file_or_default(manifest_file)
    manifest = deploy_suite(deploy_config, sender, path, console, replace)
    console.print(f"manifest written to {path} (chain id {manifest.chain_id})")
