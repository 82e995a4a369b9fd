"""Appraise the pool's GPUs (the appraiser: APPRAISER_ROLE on the GpuRegistry, TEST::3 locally).

    ape run appraise show 1
    ape run appraise mark 1 12000 --reason "Q4 2026 appraisal, report 2026-117"
    ape run appraise recovery 1 4500 --reason "resale quote, broker X, 2026-11-30"
    ape run appraise settle 1 --reason "write-down final: sold for parts, report 2026-131"

`mark` sets a GPU's book value (before the advance rate). At or below where the GPU stands it
applies at once: NAV falls in that transaction. Above it, the GPU must count (not stale, not
returning from an earlier rise) and the rise is at most 25% of its straight-line book value, never
above that book value (a value above it is that book value); the value comes back over the pool's
unlock period, and entries (deposits, mints, contributions) wait until then. From a mark on, the
value falls straight to the salvage value at the end of the GPU's life. A mark below the GPU's
straight-line book value (a lease default's too) holds entries until the appraiser settles the GPU's
marks, the GPU is sold or retired, or a mark reaches that value (a value above it is taken as it;
the step still bounds the value asked). `settle` is for a write-down that will not come back: the
GPU's marks are final where it stands now (a return under way is cut where it has reached), it is
never marked up again in this pool, and a later mark-down applies at once without holding entries.
An impaired GPU holds entries until it is restored and counts again (then a restore's step mark
holds them below its line until settled), retired or sold; settling its marks does not end that.
`recovery` sets what a lease default marks the GPU down to (its salvage value if none is set), also
the sale floor of an impaired, retired or defaulted GPU. `show` prints where a GPU stands: straight-
line book value, mark, where it stands now, collateral value, recovery value, default, the end of a
return, whether its marks are settled and whether it holds entries.

VALUE is in stablecoin units ("12000.50"); the reason is stored as its keccak256 hash. Every
input is checked before anything is sent (GPU held, caller an appraiser, the book value, the
step with the largest mark allowed, a return under way with its end, a mark-up of a settled GPU,
a settlement that would change nothing): one line, nothing sent.
"""

import click

from gpu_rwa.appraise import (
    Appraisal,
    GpuToShow,
    Settlement,
    mark_summary,
    set_recovery,
    settle_summary,
    standing,
    standing_lines,
)
from gpu_rwa.appraise import mark as mark_gpu
from gpu_rwa.appraise import settle as settle_marks
from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.pool import entries_cell, load_pool

reason_option = click.option(
    "--reason", required=True, help="Why (a report's name or reference); hashed on chain."
)


@click.group(
    short_help="Mark GPUs' book values, settle marks, set recovery values, show a GPU's standing"
)
def cli():
    """Appraise the pool's GPUs (APPRAISER_ROLE, TEST::3 on a local chain): mark a book value,
    settle a write-down, set a recovery value, show where a GPU stands."""


@cli.command(cls=ConnectedProviderCommand, short_help="Mark a GPU's book value (appraiser)")
@click.argument("token_id", metavar="ID")
@click.argument("value", metavar="VALUE")
@reason_option
@manifest_option
@account_option
def mark(token_id, value, reason, manifest_file, account_alias):
    """Mark GPU ID's book value to VALUE (stablecoin units, before the advance rate). At or
    below where it stands it applies at once; above, the rise is at most 25% of its straight-
    line book value and comes back over the unlock period. A mark below the straight-line book
    value holds entries until settled."""
    pool = load_pool(require_manifest(manifest_file))
    appraisal = validated(
        Appraisal, dict(token_id=token_id, value=value, reason=reason), pool.context
    )
    sender = resolve_sender(account_alias, "appraiser")
    console.print(mark_summary(pool, mark_gpu(pool, sender, appraisal)), soft_wrap=True)


@cli.command(cls=ConnectedProviderCommand, short_help="Set a GPU's recovery value (appraiser)")
@click.argument("token_id", metavar="ID")
@click.argument("value", metavar="VALUE")
@reason_option
@manifest_option
@account_option
def recovery(token_id, value, reason, manifest_file, account_alias):
    """Set GPU ID's recovery value to VALUE (stablecoin units): what a lease default marks it
    down to, and the sale floor of an impaired, retired or defaulted GPU."""
    pool = load_pool(require_manifest(manifest_file))
    appraisal = validated(
        Appraisal, dict(token_id=token_id, value=value, reason=reason), pool.context
    )
    sender = resolve_sender(account_alias, "appraiser")
    set_recovery(pool, sender, appraisal)
    console.print(f"GPU {appraisal.token_id}'s recovery value set to {pool.cash(appraisal.value)}")


@cli.command(
    cls=ConnectedProviderCommand, short_help="Make a GPU's write-down final: no mark-up (appraiser)"
)
@click.argument("token_id", metavar="ID")
@reason_option
@manifest_option
@account_option
def settle(token_id, reason, manifest_file, account_alias):
    """Make GPU ID's write-down final where it stands now: it is never marked up again in this
    pool and stops holding entries."""
    pool = load_pool(require_manifest(manifest_file))
    settlement = validated(Settlement, dict(token_id=token_id, reason=reason))
    sender = resolve_sender(account_alias, "appraiser")
    console.print(settle_summary(pool, settle_marks(pool, sender, settlement)), soft_wrap=True)
    console.print(f"entries (buy, contribute): {entries_cell(pool)}", soft_wrap=True)


@cli.command(cls=ConnectedProviderCommand, short_help="Where a GPU the pool holds stands")
@click.argument("token_id", metavar="ID")
@manifest_option
def show(token_id, manifest_file):
    """Show where GPU ID stands: straight-line book value, mark, value now, collateral value,
    recovery value, default, return, settlement and whether it holds entries."""
    pool = load_pool(require_manifest(manifest_file))
    request = validated(GpuToShow, dict(token_id=token_id))
    for line in standing_lines(pool, standing(pool, request.token_id)):
        console.print(line, soft_wrap=True)
