"""A pool's vault and the GPUs its GpuCollateral holds: their state, GPUs brought in, the schedule
of their value kept current, an RMA swap of a leased GPU, the wind-down.

    ape run vault status [--limit 20]              # NAV, cash, revenue, entries, GPUs, leases
    ape run vault contribute 1 2 3                 # operator: fractions minted at NAV
    ape run vault contribute 4 --receiver 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
    ape run vault offer-gpu 5 --price 20000        # operator: offer free cash for a GPU
    ape run vault offer-gpu 5 --price 20000 --expires-days 3
    ape run vault cancel-offer 5                   # operator
    ape run vault accept-offer 5                   # the GPU's owner sells at the offer's price
    ape run vault sell-gpu 2 25000                 # operator: list a GPU the pool holds
    ape run vault sell-gpu 2 25000 --expires-in 48
    ape run vault cancel-sale 2                    # operator
    ape run vault take-gpu 2 --account TEST::6     # a buyer pays the listed price, gets the GPU
    ape run vault process-maturities [--max 100]   # anyone: mature due changes of the schedule
    ape run vault sync 5                           # anyone: apply a return the registry deferred
    ape run vault fulfil [--max 50]                # operator: pay queued redemptions from cash
    ape run vault swap-gpu 1 4 11                  # operator: GPU 11 replaces GPU 4 in lease 1
    ape run vault wind-down                        # admin (the timelock): says how to schedule it
    ape run vault pause                            # pauser: no fraction moves, no cash leaves
    ape run vault unpause                          # admin (the timelock, through governance)
    ape run vault claim-fees                       # anyone: accrued fees to the fee recipient

`status` is read-only. `contribute` is the operator's (OPERATOR_ROLE on the GpuCollateral, TEST::1
on a local chain); so are `offer-gpu`, `cancel-offer`, `sell-gpu` and `cancel-sale` (OPERATOR_ROLE
on the GpuMarket). `accept-offer` is sent by the GPU's owner: on a local chain the test account
that owns it, elsewhere --account. `sell-gpu TOKEN PRICE` lists a GPU the pool holds (not leased,
not returning over the unlock period) at PRICE, at least its floor now (its collateral value, or
the appraiser's recovery value for a GPU impaired, retired or marked down by a default), for
--expires-in hours (a week by default); `take-gpu TOKEN` is the buyer's (--account; the investor,
TEST::7, by default on a local chain): it approves the vault for the price if needed and buys, the
GPU token and the payment changing hands in one transaction. Up to the GPU's collateral value the
price enters free cash; the rest is streamed to holders (all of it is free cash in wind-down).
Anyone may send
`process-maturities` and `sync` (TEST::1 by default on a local chain). Every check the chain can
answer is made first; nothing is sent when one fails. A contribution is an entry: it waits, like
a buy, while a GPU the pool counts is written down (stale, or returning over the unlock period)
or one it holds is held down (impaired, or below its straight-line book value by a mark the
appraiser has not settled: `ape run appraise settle`); `status` counts both and says whether
entries are open and, if not, what opens them. `fulfil` is the operator's
(FULFILLER_ROLE on the RedemptionQueue): it pays queued redemption requests from the head of the
queue at the NAV of its block, as far as free cash goes (the last one maybe in part), and reserves
their stablecoin for their controllers to claim (`ape run invest claim-redeem`).

`status` shows whether the pool is winding down, each GPU's collateral value, the appraiser's mark
(book value, when, and whether a lease default set it), the age of its last attestation and the
day it goes stale, then the lease book (arrears: instalments, amount, days late; default state).
`swap-gpu LEASE FAILED REPLACEMENT` is the operator's RMA: the replacement, a GPU the operator
owns (ACTIVE, freshly attested, in no lease), takes the failed GPU's place in an active lease and
must be worth at least the failed one's collateral value now (computed as the contract will, its
mark and ramp included); the script approves the GpuCollateral for it on the registry first.
`wind-down` is the admin's (DEFAULT_ADMIN_ROLE on the GpuCollateral), once and for good: no deposit,
mint, contribution, purchase of a GPU or new lease from then on. After the deploy the admin is the
GovernanceTimelock: the command then says in one line to `ape run governance schedule
GpuCollateral wind_down` and execute it once ready, and sends nothing; it sends the call itself
only for an account holding the role (an admin after a handover).

`pause` is the pauser's (PAUSER_ROLE on the CollateralVault, TEST::5 locally): no fraction moves
and no cash leaves the vault until it is unpaused (lease instalments are still taken in).
`unpause` is the admin's: the timelock holds that role after the deploy, so a sender without it
is told the way through it (`ape run governance schedule CollateralVault unpause`, then
`execute`). `claim-fees` (anyone; TEST::1 by default locally) pays every fee accrued on lease
payments to the vault's fee recipient. Each is refused in one line, nothing sent, when it would
change nothing (already paused, not paused, no fees accrued), the sender lacks the role, or (for
`claim-fees`) the vault is paused.
"""

import click
from ape import chain

from gpu_rwa import collateral, market, queue, vault_ops
from gpu_rwa.chain import resolve_account_of, resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    address_callback,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.leases import lease_notes, lease_table
from gpu_rwa.pool import MAX_MATURE_STEPS, load_pool, vault_table
from gpu_rwa.types import SECONDS_PER_DAY, format_time

SECONDS_PER_HOUR = 3_600


@click.group(short_help="Vault status, GPUs in and out, the collateral kept current")
def cli():
    """The pool's vault and the GPUs its GpuCollateral holds: status, GPUs in and out, offers
    and sales, the collateral's schedule, queued redemptions, pause, wind-down and fees."""


token_argument = click.argument("token_id", metavar="TOKEN")


def _token_id(value: str) -> int:
    return validated(collateral.GpuId, dict(token_id=value)).token_id


@cli.command(cls=ConnectedProviderCommand, short_help="NAV, price, revenue and the pool's GPUs")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N GPUs.")
@manifest_option
def status(limit, manifest_file):
    """Show the pool: NAV, price per fraction, cash, revenue, maturities due, its GPUs and
    leases."""
    pool = load_pool(require_manifest(manifest_file))
    console.print(vault_table(pool))
    console.print(collateral.collateral_gpus_table(pool, limit))
    lease_ids = list(range(1, pool.leases.lease_count() + 1))
    if lease_ids:
        console.print(lease_table(pool, lease_ids))
        for note in lease_notes(pool, lease_ids):
            console.print(note, soft_wrap=True)


@cli.command(cls=ConnectedProviderCommand, short_help="Contribute GPUs for fractions")
@click.argument("token_ids", metavar="TOKEN...", nargs=-1)
@click.option(
    "--receiver",
    default=None,
    callback=address_callback,
    help="Who receives the fractions [default: sender].",
)
@manifest_option
@account_option
def contribute(token_ids, receiver, manifest_file, account_alias):
    """Contribute GPUs TOKEN... (owned by the sender, ACTIVE, freshly attested) to the pool for
    fractions minted at NAV."""
    ids = validated(collateral.GpuIds, dict(token_ids=list(token_ids))).token_ids
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    for token_id, value, shares in collateral.contribute(pool, sender, ids, receiver):
        console.print(
            f"GPU {token_id} entered at {pool.cash(value)}: {pool.fractions(shares)} minted"
        )


@cli.command(
    "offer-gpu", cls=ConnectedProviderCommand, short_help="Offer free cash for a GPU (operator)"
)
@click.argument("token_id", metavar="TOKEN")
@click.option("--price", required=True, help="Stablecoin units, at most its collateral value.")
@click.option(
    "--expires-days",
    default=str(market.DEFAULT_OFFER_DAYS),
    show_default=True,
    help="The owner may accept for this many days.",
)
@manifest_option
@account_option
def offer_gpu(token_id, price, expires_days, manifest_file, account_alias):
    """Offer the pool's free cash (--price) for GPU TOKEN (operator), open for --expires-days
    days."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        market.OfferOrder,
        dict(token_id=token_id, price=price, expires_days=expires_days),
        pool.context,
    )
    sender = resolve_sender(account_alias, "operator")
    expires_at = chain.pending_timestamp + order.expires_days * SECONDS_PER_DAY
    market.offer_gpu(pool, sender, order.token_id, order.price, expires_at)
    console.print(
        f"offered {pool.cash(order.price)} for GPU {order.token_id}, open until "
        f"{format_time(expires_at)} UTC: its owner runs `ape run vault accept-offer "
        f"{order.token_id}`"
    )


@cli.command("cancel-offer", cls=ConnectedProviderCommand, short_help="Withdraw an offer")
@token_argument
@manifest_option
@account_option
def cancel_offer(token_id, manifest_file, account_alias):
    """Withdraw the offer for GPU TOKEN (operator)."""
    token_id = _token_id(token_id)
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    market.cancel_offer(pool, sender, token_id)
    console.print(f"the offer for GPU {token_id} is cancelled")


@cli.command(
    "accept-offer", cls=ConnectedProviderCommand, short_help="Sell a GPU at the offer (its owner)"
)
@token_argument
@manifest_option
@account_option
def accept_offer(token_id, manifest_file, account_alias):
    """Sell GPU TOKEN to the pool at its offer's price (the GPU's owner)."""
    token_id = _token_id(token_id)
    pool = load_pool(require_manifest(manifest_file))
    market.open_offer(pool, token_id)
    owner = collateral.terms_of(pool, token_id).owner
    seller = resolve_account_of(account_alias, owner, f"the owner of GPU {token_id}")
    price, value, _ = market.accept_offer(pool, seller, token_id)
    console.print(
        f"{seller.address} sold GPU {token_id} to the pool for {pool.cash(price)}; it counts "
        f"{pool.cash(value)} of collateral"
    )


@cli.command(
    "sell-gpu", cls=ConnectedProviderCommand, short_help="List a GPU the pool holds (operator)"
)
@token_argument
@click.argument("price", metavar="PRICE")
@click.option(
    "--expires-in",
    default=str(market.DEFAULT_LISTING_HOURS),
    show_default=True,
    help="A buyer may take it for this many hours.",
)
@manifest_option
@account_option
def sell_gpu(token_id, price, expires_in, manifest_file, account_alias):
    """List GPU TOKEN, held by the pool, for sale at PRICE (stablecoin units, at least its
    floor) for --expires-in hours (operator)."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        market.ListingOrder,
        dict(token_id=token_id, price=price, expires_in=expires_in),
        pool.context,
    )
    sender = resolve_sender(account_alias, "operator")
    expires_at = chain.pending_timestamp + order.expires_in * SECONDS_PER_HOUR
    floor, _ = market.list_gpu(pool, sender, order.token_id, order.price, expires_at)
    console.print(
        f"listed GPU {order.token_id} for {pool.cash(order.price)} (floor now "
        f"{pool.cash(floor)}), open until {format_time(expires_at)} UTC: a buyer runs "
        f"`ape run vault take-gpu {order.token_id} --account BUYER`",
        soft_wrap=True,
    )


@cli.command("cancel-sale", cls=ConnectedProviderCommand, short_help="Withdraw a listing")
@token_argument
@manifest_option
@account_option
def cancel_sale(token_id, manifest_file, account_alias):
    """Withdraw the listing of GPU TOKEN (operator)."""
    token_id = _token_id(token_id)
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    market.cancel_listing(pool, sender, token_id)
    console.print(f"GPU {token_id} is no longer listed")


@cli.command(
    "take-gpu", cls=ConnectedProviderCommand, short_help="Buy a listed GPU at its price (anyone)"
)
@token_argument
@manifest_option
@account_option
def take_gpu(token_id, manifest_file, account_alias):
    """Buy listed GPU TOKEN at its price (anyone): pay and receive the GPU in one transaction."""
    token_id = _token_id(token_id)
    pool = load_pool(require_manifest(manifest_file))
    market.open_listing(pool, token_id)
    buyer = resolve_sender(account_alias, "investor")
    sale = market.take_gpu(pool, buyer, token_id)
    streamed = sale.price - sale.to_cash
    console.print(
        f"{buyer.address} bought GPU {token_id} for {pool.cash(sale.price)}: "
        f"{pool.cash(sale.value)} of collateral left NAV, {pool.cash(sale.to_cash)} entered "
        f"free cash, {pool.cash(streamed)} streamed to holders",
        soft_wrap=True,
    )


@cli.command(
    "process-maturities",
    cls=ConnectedProviderCommand,
    short_help="Mature due changes of the collateral's value (anyone)",
)
@click.option(
    "--max",
    "max_steps",
    default=str(collateral.MAX_PROCESS_STEPS),
    show_default=True,
    help="At most this many changes in this transaction.",
)
@manifest_option
@account_option
def process_maturities(max_steps, manifest_file, account_alias):
    """Mature the due changes of the collateral's value (end of life, stale days, ends of
    returns), up to --max (anyone)."""
    pool = load_pool(require_manifest(manifest_file))
    steps = validated(collateral.MaturitySteps, dict(max_steps=max_steps)).max_steps
    sender = resolve_sender(account_alias, "operator")
    matured, _ = collateral.process_maturities(pool, sender, steps)
    left = pool.collateral.pending()
    still = "more than 16" if left > MAX_MATURE_STEPS else str(left)
    console.print(f"matured {matured} due change(s) of the collateral's value; {still} still due")


@cli.command(cls=ConnectedProviderCommand, short_help="Apply a GPU's deferred return (anyone)")
@token_argument
@manifest_option
@account_option
def sync(token_id, manifest_file, account_alias):
    """Apply the return of GPU TOKEN that the registry deferred (anyone)."""
    token_id = _token_id(token_id)
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    receipt = collateral.sync(pool, sender, token_id)
    for log in pool.collateral.GpuUncounted.from_receipt(receipt):
        console.print(f"GPU {token_id} no longer counts: {pool.cash(log.value)} left NAV")
    for log in pool.collateral.GpuCounted.from_receipt(receipt):
        full = f"full value on {format_time(log.ramp_end)} UTC, " if log.ramp_end else ""
        console.print(
            f"GPU {token_id} counts again at {pool.cash(log.value)} now: {full}stale from "
            f"{format_time(log.stale_at)} UTC"
        )


@cli.command(
    cls=ConnectedProviderCommand, short_help="Pay queued redemptions from free cash (operator)"
)
@click.option(
    "--max",
    "max_requests",
    default=str(queue.DEFAULT_FULFIL),
    show_default=True,
    help=f"At most this many requests in this transaction (1 to {queue.MAX_FULFIL_BATCH}).",
)
@manifest_option
@account_option
def fulfil(max_requests, manifest_file, account_alias):
    """Pay queued redemption requests from free cash, oldest first, up to --max (operator)."""
    pool = load_pool(require_manifest(manifest_file))
    count = validated(queue.FulfilOrder, dict(max_requests=max_requests)).max_requests
    sender = resolve_sender(account_alias, "operator")
    done = queue.fulfil(pool, sender, count)
    parts = []
    if done.settled:
        first, last = done.settled[0], done.settled[-1]
        ids = ", ".join(map(str, done.settled)) if len(done.settled) <= 3 else f"{first} to {last}"
        parts.append(f"{len(done.settled)} request(s) in full ({ids})")
    if done.partial is not None:
        parts.append(f"request {done.partial} in part")
    console.print(
        f"fulfilled {' and '.join(parts)}: {pool.fractions(done.shares)} burnt, "
        f"{pool.cash(done.assets)} reserved for their controllers to claim "
        f"({queue.CLAIM_HINT})",
        soft_wrap=True,
    )
    if done.pending_requests:
        worth = pool.vault.convertToAssets(done.pending_shares)
        console.print(
            f"still pending: {done.pending_requests} request(s) for "
            f"{pool.fractions(done.pending_shares)}, worth {pool.cash(worth)} now",
            soft_wrap=True,
        )
    else:
        console.print("no request is pending")


@cli.command(
    "swap-gpu", cls=ConnectedProviderCommand, short_help="RMA: replace a leased GPU (operator)"
)
@click.argument("lease_id", metavar="LEASE")
@click.argument("failed", metavar="FAILED")
@click.argument("replacement", metavar="REPLACEMENT")
@manifest_option
@account_option
def swap_gpu(lease_id, failed, replacement, manifest_file, account_alias):
    """RMA: GPU REPLACEMENT replaces GPU FAILED in lease LEASE (operator); the replacement must
    be worth at least as much."""
    order = validated(
        collateral.SwapOrder,
        dict(lease_id=lease_id, failed=failed, replacement=replacement),
    )
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    swap = collateral.swap_gpu(pool, sender, order.lease_id, order.failed, order.replacement)
    console.print(
        f"GPU {order.replacement} replaces GPU {order.failed} in lease {order.lease_id}: "
        f"{pool.cash(swap.value_in)} of collateral came in, {pool.cash(swap.value_out)} left with "
        f"GPU {order.failed} (back to {sender.address})"
    )


@cli.command(
    "wind-down", cls=ConnectedProviderCommand, short_help="Put the pool in wind-down (the admin)"
)
@manifest_option
@account_option
def wind_down(manifest_file, account_alias):
    """Put the pool in wind-down for good (the admin; once the timelock holds the role, it says
    how to schedule the call): no entry or new lease from then on, its GPUs are sold and holders
    leave through the queue."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "admin")
    collateral.wind_down(pool, sender)
    console.print(
        "the pool is winding down: no deposit, mint, contribution, purchase of a GPU or new "
        "lease from now on; list its GPUs for sale, and holders leave through the queue "
        "(`ape run invest request-redeem --all`, then the operator's `ape run vault fulfil`)",
        soft_wrap=True,
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Pause the vault (pauser)")
@manifest_option
@account_option
def pause(manifest_file, account_alias):
    """Pause the vault (PAUSER_ROLE): no fraction moves and no cash leaves until unpaused."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "pauser")
    receipt = vault_ops.pause(pool, sender)
    (log,) = pool.vault.Paused.from_receipt(receipt)
    console.print(
        f"the vault is paused (by {log.account}): no fraction moves and no cash leaves until the "
        "admin unpauses it; lease instalments are still taken in",
        soft_wrap=True,
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Lift the pause (admin)")
@manifest_option
@account_option
def unpause(manifest_file, account_alias):
    """Lift the pause (DEFAULT_ADMIN_ROLE; through the timelock once governance holds it)."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "admin")
    receipt = vault_ops.unpause(pool, sender)
    (log,) = pool.vault.Unpaused.from_receipt(receipt)
    console.print(f"the vault is unpaused (by {log.account}): fractions and cash move again")


@cli.command(
    "claim-fees",
    cls=ConnectedProviderCommand,
    short_help="Pay accrued fees to the fee recipient (anyone)",
)
@manifest_option
@account_option
def claim_fees(manifest_file, account_alias):
    """Pay the fees accrued on lease payments to the vault's fee recipient (anyone sends it)."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    paid = vault_ops.claim_fees(pool, sender)
    console.print(
        f"paid {pool.cash(paid.amount)} ({paid.amount} base units) of accrued fees to the fee "
        f"recipient {paid.recipient}",
        soft_wrap=True,
    )
