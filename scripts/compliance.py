"""The compliance officer's operations: investors' self-onboarding on the shared IdentityRegistry,
and freezes, forced transfers and wallet recovery on the pool's PoolCompliance.

    ape run compliance freeze 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --reason "order 2026-17"
    ape run compliance freeze 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 \\
        --fractions 100 --reason "pledge 88"                        # part of its fractions
    ape run compliance unfreeze 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --reason "lifted"
    ape run compliance force-transfer 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 \\
        0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f 50 --reason "court order 2026-113"
    ape run compliance recover 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 \\
        0xa0Ee7A142d267C1f36714E4a8F75612F20a79720 --reason "lost key, ticket 4411"
    ape run compliance status 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
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

`freeze` (COMPLIANCE_ROLE on the PoolCompliance, TEST::4 on a local chain) freezes an address
entirely (it can neither send, receive, redeem, request nor claim), or with --fractions exactly that
many of its fractions (the rest moves normally); `unfreeze` lifts both. `force-transfer FROM TO
FRACTIONS` moves fractions whatever FROM's freezes or verification (frozen ones are unfrozen as far
as needed) to a TO that may hold them; `recover LOST NEW` moves everything LOST holds (balance,
freezes, unclaimed revenue, pending redemption requests) to the investor's verified NEW wallet and
freezes LOST. Each records the keccak-256 hash of --reason in its event (the text itself stays
off-chain: keep it with the order). Forced transfers and recoveries wait while the vault is
paused; freezes do not. `status` shows each address's freezes and whether it may send and receive.
"""

from pathlib import Path

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
from gpu_rwa.enforcement import (
    ForceOrder,
    FreezeOrder,
    RecoveryOrder,
    UnfreezeOrder,
    compliance_table,
    force_transfer,
    freeze,
    recover,
    unfreeze,
)
from gpu_rwa.errors import UserError
from gpu_rwa.identity import Accounts
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


@click.group(short_help="Compliance: onboarding, freezes, forced transfers, recovery")
def cli():
    """The compliance officer's operations: investors' self-onboarding on the IdentityRegistry,
    and freezes, forced transfers and wallet recovery on the pool's PoolCompliance
    (COMPLIANCE_ROLE, TEST::4 on a local chain)."""


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
    """Sign the verification of investor ADDRESS (EIP-712, under --jurisdiction until --expires)
    and write it to --out for the investor to submit; nothing is sent."""
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
    """Submit the signed verification in FILE (written by onboard-sign) after checking it
    against the chain; anyone may send it, normally the investor."""
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


# ENFORCEMENT (the pool's PoolCompliance) #

reason_option = click.option(
    "--reason",
    required=True,
    help="Why (the order, the ticket): its keccak-256 hash is recorded in the event.",
)


@cli.command(
    "freeze", cls=ConnectedProviderCommand, short_help="Freeze an address or some fractions"
)
@click.argument("address")
@click.option(
    "--fractions",
    metavar="AMOUNT",
    default=None,
    help="Freeze exactly this many of its fractions (the rest moves) [default: the address "
    "entirely].",
)
@reason_option
@manifest_option
@account_option
def freeze_command(address, fractions, reason, manifest_file, account_alias):
    """Freeze ADDRESS entirely (it can neither send, receive, redeem, request nor claim), or
    with --fractions exactly that many of its fractions."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        FreezeOrder, dict(account=address, fractions=fractions, reason=reason), pool.context
    )
    receipt = freeze(pool, resolve_sender(account_alias, "compliance"), order)
    what = "entirely" if order.fractions is None else pool.fractions(order.fractions)
    console.print(
        f"froze {order.account} {what} (reason hash 0x{order.digest.hex()}, tx {receipt.txn_hash})"
    )


@cli.command("unfreeze", cls=ConnectedProviderCommand, short_help="Lift an address's freezes")
@click.argument("address")
@reason_option
@manifest_option
@account_option
def unfreeze_command(address, reason, manifest_file, account_alias):
    """Lift every freeze of ADDRESS, whole or partial."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(UnfreezeOrder, dict(account=address, reason=reason))
    unfreeze(pool, resolve_sender(account_alias, "compliance"), order)
    console.print(f"unfroze {order.account} (reason hash 0x{order.digest.hex()})")


@cli.command("force-transfer", cls=ConnectedProviderCommand, short_help="Move fractions by order")
@click.argument("owner", metavar="FROM")
@click.argument("to", metavar="TO")
@click.argument("amount", metavar="FRACTIONS")
@reason_option
@manifest_option
@account_option
def force_transfer_command(owner, to, amount, reason, manifest_file, account_alias):
    """Move FRACTIONS fractions (whole fractions, decimals allowed) from FROM to TO by order,
    whatever FROM's freezes or verification; TO must be allowed to hold them."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        ForceOrder, dict(owner=owner, to=to, amount=amount, reason=reason), pool.context
    )
    force_transfer(pool, resolve_sender(account_alias, "compliance"), order)
    console.print(
        f"moved {pool.fractions(order.amount)} from {order.owner} to {order.to} "
        f"(reason hash 0x{order.digest.hex()}); {order.owner} now holds "
        f"{pool.fractions(pool.vault.balanceOf(order.owner))}"
    )


@cli.command("recover", cls=ConnectedProviderCommand, short_help="Recover a lost wallet")
@click.argument("lost", metavar="LOST")
@click.argument("new", metavar="NEW")
@reason_option
@manifest_option
@account_option
def recover_command(lost, new, reason, manifest_file, account_alias):
    """Move everything wallet LOST holds (balance, freezes, unclaimed revenue, pending
    redemption requests) to the investor's verified wallet NEW, and freeze LOST."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(RecoveryOrder, dict(lost=lost, new=new, reason=reason))
    receipt = recover(pool, resolve_sender(account_alias, "compliance"), order)
    [log] = pool.compliance.WalletRecovered.from_receipt(receipt)
    console.print(
        f"recovered {order.lost} into {order.new}: {pool.fractions(log.amount)} "
        f"({pool.fractions(log.frozen)} frozen{', frozen entirely' if log.full else ''}), "
        f"{log.requests} pending request(s), unclaimed revenue "
        f"{pool.cash(pool.vault.claimable(order.new))} now claimable by the new wallet; "
        f"{order.lost} is frozen (reason hash 0x{order.digest.hex()})"
    )


@cli.command("status", cls=ConnectedProviderCommand, short_help="Freezes and rules of addresses")
@click.argument("addresses", metavar="ADDRESS...", nargs=-1, required=True)
@manifest_option
def status_command(addresses, manifest_file):
    """Show each ADDRESS's freezes and whether it may send and receive fractions now."""
    pool = load_pool(require_manifest(manifest_file))
    request = validated(Accounts, dict(accounts=list(addresses)))
    console.print(compliance_table(pool, request.accounts))
