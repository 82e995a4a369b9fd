"""Investor identities (KYC outcomes) on the shared IdentityRegistry.

    ape run kyc add 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --days 365 --jurisdiction 840
    ape run kyc add ADDR1 ADDR2 ADDR3 --days 180 --jurisdiction 276   # one batch call
    ape run kyc remove 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
    ape run kyc status 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955

`add` verifies (or renews) every address until now + --days under the ISO 3166-1 numeric
--jurisdiction; `remove` revokes. Both need COMPLIANCE_ROLE (TEST::4 on a local chain) and send
batches of up to 256 addresses. Every address is checked first; nothing is sent on a bad one.
"""

import click

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.identity import Accounts, Verification, identity_table, revoke, verify
from gpu_rwa.pool import load_pool

# `add` shows the identities it wrote, up to this many (a batch of hundreds is not read on screen).
SHOWN_AFTER_ADD = 20


@click.group(short_help="Verify and revoke investors")
def cli():
    """Investor identities on the shared IdentityRegistry (COMPLIANCE_ROLE, TEST::4 on a local
    chain): verify, revoke, show."""


@cli.command(cls=ConnectedProviderCommand, short_help="Verify (or renew) investors")
@click.argument("addresses", metavar="ADDRESS...", nargs=-1, required=True)
@click.option("--days", type=int, required=True, help="Valid for this many days from now.")
@click.option("--jurisdiction", type=int, required=True, help="ISO 3166-1 numeric, e.g. 840.")
@manifest_option
@account_option
def add(addresses, days, jurisdiction, manifest_file, account_alias):
    """Verify (or renew) each ADDRESS until now + --days under --jurisdiction, in batches of up
    to 256."""
    pool = load_pool(require_manifest(manifest_file))
    request = validated(
        Verification, dict(accounts=list(addresses), days=days, jurisdiction=jurisdiction)
    )
    sender = resolve_sender(account_alias, "compliance")
    _, receipts = verify(pool, sender, request)
    console.print(f"verified {len(request.accounts)} address(es) in {len(receipts)} transaction(s)")
    console.print(identity_table(pool, request.accounts, limit=SHOWN_AFTER_ADD))


@cli.command(cls=ConnectedProviderCommand, short_help="Revoke investors")
@click.argument("addresses", metavar="ADDRESS...", nargs=-1, required=True)
@manifest_option
@account_option
def remove(addresses, manifest_file, account_alias):
    """Revoke the verification of each ADDRESS, in batches of up to 256."""
    pool = load_pool(require_manifest(manifest_file))
    request = validated(Accounts, dict(accounts=list(addresses)))
    sender = resolve_sender(account_alias, "compliance")
    receipts = revoke(pool, sender, request)
    console.print(f"revoked {len(request.accounts)} address(es) in {len(receipts)} transaction(s)")


@cli.command(cls=ConnectedProviderCommand, short_help="Identity of addresses")
@click.argument("addresses", metavar="ADDRESS...", nargs=-1, required=True)
@manifest_option
def status(addresses, manifest_file):
    """Show the identity of each ADDRESS: verified or not, expiry and jurisdiction."""
    pool = load_pool(require_manifest(manifest_file))
    request = validated(Accounts, dict(accounts=list(addresses)))
    console.print(identity_table(pool, request.accounts))
