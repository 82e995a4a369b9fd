"""A pool's vault: its state, and GPUs brought into it by the operator.

    ape run vault status
    ape run vault status --limit 20 --network ethereum:local:foundry
    ape run vault contribute 1 2 3                  # fractions minted to the operator at NAV
    ape run vault contribute 4 --receiver 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
    ape run vault buy-gpu 5 --price 20000           # paid from the vault's free cash

`status` is read-only. `contribute` and `buy-gpu` take GPUs the sender (OPERATOR_ROLE) owns.
"""

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa import collateral
from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    account_option,
    address_callback,
    console,
    manifest_option,
    require_manifest,
)
from gpu_rwa.errors import UserError
from gpu_rwa.pool import load_pool, vault_gpus_table, vault_table
from gpu_rwa.types import parse_units


@click.group(short_help="Vault status")
def cli():
    pass


@cli.command(cls=ConnectedProviderCommand, short_help="NAV, price, revenue and GPUs of the vault")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N GPUs.")
@manifest_option
def status(limit, manifest_file):
    pool = load_pool(require_manifest(manifest_file))
    console.print(vault_table(pool))
    console.print(vault_gpus_table(pool, limit))


@cli.command(cls=ConnectedProviderCommand, short_help="Contribute GPUs for fractions")
@click.argument("token_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option(
    "--receiver",
    default=None,
    callback=address_callback,
    help="Who receives the fractions [default: sender].",
)
@manifest_option
@account_option
def contribute(token_ids, receiver, manifest_file, account_alias):
    if len(set(token_ids)) != len(token_ids):
        raise UserError("a GPU is listed twice")
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    for token_id, value, shares in collateral.contribute(pool, sender, list(token_ids), receiver):
        console.print(
            f"GPU {token_id} entered at {pool.cash(value)}: {pool.fractions(shares)} minted"
        )


@cli.command("buy-gpu", cls=ConnectedProviderCommand, short_help="Buy a GPU with free cash")
@click.argument("token_id", type=click.IntRange(min=1))
@click.option("--price", required=True, help="Price in stablecoin units, at most its value.")
@manifest_option
@account_option
def buy_gpu(token_id, price, manifest_file, account_alias):
    pool = load_pool(require_manifest(manifest_file))
    try:
        amount = parse_units(price, pool.decimals)
    except ValueError as exc:
        raise UserError(f"--price: {exc}") from exc
    if amount == 0:
        raise UserError("--price: a GPU is not given away")
    sender = resolve_sender(account_alias, "operator")
    collateral.buy_gpu(pool, sender, token_id, amount)
    console.print(f"the vault bought GPU {token_id} for {pool.cash(amount)}")
