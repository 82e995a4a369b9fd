"""Custodians' signed attestations: sign what a custodian saw, gather co-signers, submit.

    ape run custody sign --ids seen.txt --out visit.json                  # TEST::2 on a local chain
    ape run custody sign --ids seen.txt --out visit.json --add --account TEST::1
    ape run custody submit visit.json

`sign` reads GPU ids from a text, CSV (`token_id` column) or JSON file, checks each (registered, not
RETIRED, last attested before the attestation time) and writes the custodian's EIP-712 signature of
each batch (one holder, up to 500 ids) to --out. The time is --at (unix seconds or ISO 8601, UTC)
or the chain's time now. The signer is --account (an ape account alias or TEST::<n>), else the
private key in $GPU_RWA_CUSTODIAN_KEY, else on a local chain the custodian TEST::2. Where a pool
takes M-of-N, each further custodian runs `sign --add` with the same ids file: its signature joins
the file, in signer order.

`submit` (anyone; --account pays the gas) sends every batch the attestor has not seen yet, so an
interrupted run resumes where it stopped. Every batch is checked first (signers still custodians,
enough of them for the holder, the GPUs as signed): a bad file is one line and nothing is sent.
"""

from pathlib import Path

import click
from ape import chain

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.custody import (
    KEY_ENV,
    MAX_SIGN_BATCH,
    SignRequest,
    add_signature,
    check_submittable,
    load_ids,
    load_signatures,
    pending_batches,
    plan_attestation,
    resolve_signer,
    sign_batches,
    submit_batches,
    write_signatures,
)
from gpu_rwa.errors import UserError
from gpu_rwa.pool import load_pool
from gpu_rwa.types import format_time


@click.group(short_help="Sign and submit custody attestations")
def cli():
    """Custodians' signed attestations (EIP-712): sign what a custodian saw, gather co-signers
    for M-of-N, submit."""


def _ids(ctx: click.Context, param: click.Parameter, value: Path):
    # Read before ape connects: a bad file costs no node start-up.
    return load_ids(value)


@cli.command(cls=ConnectedProviderCommand, short_help="Sign an attestation of GPU ids")
@click.option(
    "--ids",
    "token_ids",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    callback=_ids,
    help="The GPU ids seen: a text file (ids separated by spaces, commas or new lines; # starts a "
    "comment), a CSV file with a token_id column, or a JSON list.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The signatures file to write (JSON); with --add, the file to add a signature to.",
)
@click.option(
    "--at",
    default=None,
    help="When the GPUs were seen: unix seconds or ISO 8601 (UTC unless a zone is given) "
    "[default: the chain's time now; with --add: the file's time].",
)
@click.option(
    "--add",
    is_flag=True,
    help="Add this custodian's signature to the existing --out file (M-of-N).",
)
@click.option(
    "--batch-size",
    type=int,
    default=MAX_SIGN_BATCH,
    show_default=True,
    help=f"Ids per signed batch, 1 to {MAX_SIGN_BATCH} (each batch is one transaction); with "
    "--add, the file's batches are kept.",
)
@click.option(
    "--account",
    "account_alias",
    default=None,
    help=f"Signing custodian: an ape account alias or TEST::<n> [default: the key in ${KEY_ENV}; "
    "on local chains TEST::2].",
)
@manifest_option
def sign(token_ids, out, at, add, batch_size, account_alias, manifest_file):
    """Sign an attestation of the GPU ids in --ids at --at (default: the chain's time now) and
    write it to --out; nothing is sent. With --add, add this custodian's signature to the
    existing file."""
    request = validated(SignRequest, dict(attested_at=at, batch_size=batch_size))
    pool = load_pool(require_manifest(manifest_file))
    signer = resolve_signer(account_alias)
    if add:
        signed = add_signature(
            pool.registry,
            pool.attestor,
            load_signatures(out),
            out,
            signer,
            token_ids,
            request.attested_at,
        )
    else:
        if out.exists():
            raise UserError(
                f"{out} exists: pass --add to add a signature to it, or pick another --out"
            )
        attested_at = request.attested_at or chain.pending_timestamp
        planned = plan_attestation(
            pool.registry, signer.address, token_ids, attested_at, request.batch_size
        )
        signed = sign_batches(pool.attestor.address, attested_at, planned, signer)
    write_signatures(signed, out)
    signatures = len(signed.batches[0].signatures)
    console.print(
        f"signed {len(signed.token_ids)} GPU(s) in {len(signed.batches)} batch(es) as "
        f"{signer.address}, attested at {format_time(signed.attested_at)} UTC "
        f"(unix {signed.attested_at}); {out} holds {signatures} signature(s) a batch"
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Submit a signatures file")
@click.argument("signatures", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--account",
    "account_alias",
    default=None,
    help="Sender (pays the gas; anyone may submit): an ape account alias or TEST::<n> "
    "[default on local chains: the custodian, TEST::2].",
)
@manifest_option
def submit(signatures, account_alias, manifest_file):
    """Submit the batches of the SIGNATURES file (written by `custody sign`) the attestor has
    not recorded yet; an interrupted run resumes."""
    signed = load_signatures(signatures)
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "custodian")
    indexes = pending_batches(pool.attestor, signed)
    done = len(signed.batches) - len(indexes)
    if done:
        console.print(f"{done} of {len(signed.batches)} batch(es) already submitted; skipping them")
    if not indexes:
        console.print("nothing left to submit")
        return
    check_submittable(pool.registry, pool.attestor, signed, signatures, indexes)
    with click.progressbar(indexes, label="submitting") as progress:
        receipts = submit_batches(pool.attestor, signed, progress, sender)
    gpus = sum(len(signed.batches[index - 1].token_ids) for index in indexes)
    console.print(
        f"submitted {len(receipts)} batch(es), {gpus} GPU(s) attested at "
        f"{format_time(signed.attested_at)} UTC"
    )
