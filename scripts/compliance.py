"""The compliance officer's operations on the shared IdentityRegistry.

    ape run compliance onboard-sign 0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 \\
        --jurisdiction 276 --expires 2027-12-31                     # TEST::4 on a local chain
    ape run compliance onboard-submit onboard-0xa0Ee7A142d267C1f36714E4a8F75612F20a79720.json \\
        --account TEST::9                                           # the investor pays the gas

Self-onboarding: `onboard-sign` writes the officer's EIP-712 signature of an investor's
verification (the address, ISO 3166-1 numeric --jurisdiction, --expires as a date, ISO 8601 time
or unix seconds, read as UTC; the account's current nonce; usable for --valid-hours) to --out
(default onboard-<ADDRESS>.json), sending nothing. The signer is --account (an ape account alias
or TEST::<n>), else the private key in $GPU_RWA_COMPLIANCE_KEY, else on a local chain the
compliance officer TEST::4. `onboard-submit` (anyone; normally the investor, --account pays the
gas) checks the file against the chain first (this chain and registry, deadline, expiry, nonce
still current, the signer still an officer, not already verified so) and sends it: a bad file is
one line and nothing is sent.
"""

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import console, manifest_option, require_manifest, validated
from gpu_rwa.errors import UserError
from gpu_rwa.onboarding import (
    DEFAULT_VALID_HOURS,
    KEY_ENV,
    MAX_VALID_HOURS,
    OnboardSignRequest,
    check_onboarding,
    default_out,
    load_onboarding,
    resolve_signer,
    sign_onboarding,
    submit_onboarding,
    write_onboarding,
)
from gpu_rwa.pool import load_pool
from gpu_rwa.types import format_moment


@click.group(short_help="Compliance: investors' onboarding")
def cli():
    pass


# SELF-ONBOARDING #


@cli.command("onboard-sign", cls=ConnectedProviderCommand, short_help="Sign a verification")
@click.argument("address")
@click.option("--jurisdiction", metavar="CODE", required=True, help="ISO 3166-1 numeric, e.g. 276.")
@click.option(
    "--expires",
    metavar="WHEN",
    required=True,
    help="When the verification lapses: a date (its 00:00 UTC), an ISO 8601 time (UTC unless a "
    "zone is given) or unix seconds.",
)
@click.option(
    "--valid-hours",
    metavar="HOURS",
    default=str(DEFAULT_VALID_HOURS),
    show_default=True,
    help=f"How long the investor may submit the signature, 1 to {MAX_VALID_HOURS} hours.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The onboarding file to write (JSON) [default: onboard-<ADDRESS>.json].",
)
@click.option(
    "--account",
    "account_alias",
    default=None,
    help=f"Signing compliance officer: an ape account alias or TEST::<n> [default: the key in "
    f"${KEY_ENV}; on local chains TEST::4].",
)
@manifest_option
def onboard_sign(address, jurisdiction, expires, valid_hours, out, account_alias, manifest_file):
    request = validated(
        OnboardSignRequest,
        dict(
            account=address, jurisdiction=jurisdiction, expires_at=expires, valid_hours=valid_hours
        ),
    )
    out = out or default_out(request.account)
    if out.exists():
        raise UserError(f"{out} exists: pick another --out (or remove it)")
    pool = load_pool(require_manifest(manifest_file))
    signer = resolve_signer(account_alias)
    onboarding = sign_onboarding(pool.identity, signer, request)
    write_onboarding(onboarding, out)
    console.print(
        f"signed the verification of {onboarding.account} (jurisdiction "
        f"{onboarding.jurisdiction}, until {format_moment(onboarding.expires_at)}, nonce "
        f"{onboarding.nonce}) as {onboarding.signer}; it can be submitted until "
        f"{format_moment(onboarding.deadline)}: {out}"
    )


@cli.command("onboard-submit", cls=ConnectedProviderCommand, short_help="Submit a verification")
@click.argument("onboarding_file", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--account",
    "account_alias",
    default=None,
    help="Sender (pays the gas; anyone may submit, normally the investor): an ape account alias "
    "or TEST::<n> [default on local chains: the investor, TEST::7].",
)
@manifest_option
def onboard_submit(onboarding_file, account_alias, manifest_file):
    onboarding = load_onboarding(onboarding_file)
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "investor")
    check_onboarding(pool.identity, onboarding, onboarding_file)
    receipt = submit_onboarding(pool.identity, onboarding, sender)
    console.print(
        f"onboarded {onboarding.account}: verified until {format_moment(onboarding.expires_at)} "
        f"under jurisdiction {onboarding.jurisdiction}, signed by {onboarding.signer} "
        f"(nonce {onboarding.nonce}); {receipt.gas_used:,} gas paid by {sender.address}"
    )
