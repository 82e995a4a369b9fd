"""An investor's side of a pool: buy fractions, transfer them to another verified investor,
redeem them (instantly, or queued), claim lease revenue, see a portfolio.

    ape run invest faucet 10000                      # local chains: test USDC from MockUSDC
    ape run invest buy 1000.50                       # approve (if needed), then buy at NAV
    ape run invest buy 1000.50 --permit              # one transaction with an EIP-2612 permit
    ape run invest buy 250 --min-fractions 249 --deadline-minutes 5 --receiver 0x...
    ape run invest transfer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 100.5   # TO AMOUNT
    ape run invest redeem 100.5                      # fractions, instantly at NAV from free cash
    ape run invest redeem --all
    ape run invest redeem --assets 500               # an amount of stablecoin instead
    ape run invest redeem 100 --min-assets 99 --deadline-minutes 5
    ape run invest request-redeem 500                # queue it, paid when cash comes in
    ape run invest request-redeem --all --controller 0x...
    ape run invest cancel 3                          # a request still pending
    ape run invest claim-redeem [--receiver 0x...]   # what was fulfilled, or cancelled
    ape run invest claim
    ape run invest portfolio 0x70997970C51812dc3A010C7d01b50e0d17dc79C8

Amounts are in human units (stablecoin units for money, whole fractions for fractions) with at
most the token's decimals. `buy` and `redeem` send the vault's bounded calls (`buy`, `sell`): a
minimum out (--min-fractions / --min-assets, or the quote less --slippage-bps) and a deadline.
Every check the chain can answer (verified receiver, paused vault, balance, free cash, maturities
due, price bound, deadline) is made before anything is sent. A buy needs a verified receiver (the
buyer itself by default; who pays needs no verification) and waits while a GPU of the pool is
written down (stale, or returning over the unlock period) or held down (impaired, or below its
straight-line book value by a mark not settled): the refusal names the GPUs to attest, the day
the last return ends, and the GPUs to restore, mark up or settle. Redemptions never wait for
that. Exit rights: a holder whose
verification expired or was revoked still redeems and claims to itself; to another --receiver
both must be verified. On a local chain the investor is TEST::7; elsewhere pass --account.

`transfer TO AMOUNT` moves AMOUNT fractions to TO, both verified investors; it is refused, with
one line and nothing sent, while the vault is paused, when either side is not verified (named; a
holder no longer verified may only redeem and claim to itself), for more than the balance, and to
the sender itself. The fractions' revenue earned so far stays the sender's to claim.

When free cash cannot pay a redemption now, `redeem` says how much can leave and how to queue the
rest: `request-redeem` moves the fractions into the pool's RedemptionQueue (ERC-7540) at once
(they stop earning revenue) and the operator's `ape run vault fulfil` pays them at the NAV of its
block; `claim-redeem` then takes the stablecoin. A request still pending can be cancelled and its
fractions claimed back (`claim-redeem` again; fractions go back only to a verified investor).
`portfolio` shows each pending request with its value now, and what can be claimed.
"""

import click

from gpu_rwa import queue
from gpu_rwa.chain import is_local, resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    address_callback,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.errors import UserError
from gpu_rwa.pool import (
    DEFAULT_SLIPPAGE_BPS,
    BuyOrder,
    FaucetRequest,
    RedeemOrder,
    claim,
    faucet,
    load_pool,
    portfolio_table,
)
from gpu_rwa.pool import buy as buy_fractions
from gpu_rwa.pool import redeem as redeem_fractions
from gpu_rwa.transfers import TransferOrder, transfer


@click.group(short_help="Buy, transfer, redeem, claim, portfolio")
def cli():
    """An investor's side of the pool: buy fractions, transfer, redeem (at once or queued),
    claim revenue, see a portfolio. Amounts are in human units (stablecoin units, whole
    fractions)."""


receiver_option = click.option(
    "--receiver",
    default=None,
    callback=address_callback,
    help="Who receives [default: the sender].",
)
slippage_option = click.option(
    "--slippage-bps",
    default=str(DEFAULT_SLIPPAGE_BPS),
    show_default=True,
    help="Tolerance below the quoted amount, in basis points.",
)


deadline_minutes_option = click.option(
    "--deadline-minutes", default="20", show_default=True, help="Valid for this long."
)
deadline_option = click.option(
    "--deadline", default=None, help="Or an absolute deadline (ISO date or unix time)."
)


@cli.command(cls=ConnectedProviderCommand, short_help="Buy fractions for stablecoin")
@click.argument("amount")
@click.option("--min-fractions", default=None, help="Fewest fractions to accept.")
@slippage_option
@deadline_minutes_option
@deadline_option
@click.option("--permit/--no-permit", default=False, help="One transaction with EIP-2612.")
@receiver_option
@manifest_option
@account_option
def buy(
    amount,
    min_fractions,
    slippage_bps,
    deadline_minutes,
    deadline,
    permit,
    receiver,
    manifest_file,
    account_alias,
):
    """Buy fractions for AMOUNT of stablecoin (e.g. 1000.50) at NAV, with a minimum out and a
    deadline; approves the vault first if needed, or with --permit signs an EIP-2612 permit
    (shown before signing) and buys in one transaction."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        BuyOrder,
        dict(
            assets=amount,
            min_shares=min_fractions,
            slippage_bps=slippage_bps,
            deadline_minutes=deadline_minutes,
            deadline=deadline,
            permit=permit,
            receiver=receiver,
        ),
        pool.context,
    )
    sender = resolve_sender(account_alias, "investor")
    trade = buy_fractions(pool, sender, order, console)
    console.print(
        f"bought {pool.fractions(trade.shares)} for {pool.cash(trade.assets)}: "
        f"{pool.price(trade.assets, trade.shares)} per fraction "
        f"({len(trade.receipts)} transaction(s))"
    )
    if order.receiver and order.receiver != sender.address:
        console.print(f"the fractions went to {order.receiver}")


@cli.command(
    "transfer", cls=ConnectedProviderCommand, short_help="Move fractions to a verified investor"
)
@click.argument("to", metavar="TO")
@click.argument("amount", metavar="AMOUNT")
@manifest_option
@account_option
def transfer_(to, amount, manifest_file, account_alias):
    """Move AMOUNT fractions (whole fractions, decimals allowed) to TO; both must be verified."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(TransferOrder, dict(to=to, shares=amount), pool.context)
    sender = resolve_sender(account_alias, "investor")
    moved = transfer(pool, sender, order)
    vault = pool.vault
    console.print(
        f"transferred {pool.fractions(moved.shares)} ({moved.shares} base units) from "
        f"{moved.sender} to {moved.receiver}",
        soft_wrap=True,
    )
    console.print(
        f"{moved.sender} now holds {pool.fractions(vault.balanceOf(moved.sender))}, "
        f"{moved.receiver} {pool.fractions(vault.balanceOf(moved.receiver))}",
        soft_wrap=True,
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Sell fractions back for stablecoin")
@click.argument("fractions", required=False)
@click.option("--all", "all_", is_flag=True, help="Redeem every fraction held.")
@click.option("--assets", default=None, help="Redeem what pays this much stablecoin instead.")
@click.option("--min-assets", default=None, help="Least stablecoin to accept.")
@slippage_option
@deadline_minutes_option
@deadline_option
@receiver_option
@manifest_option
@account_option
def redeem(
    fractions,
    all_,
    assets,
    min_assets,
    slippage_bps,
    deadline_minutes,
    deadline,
    receiver,
    manifest_file,
    account_alias,
):
    """Redeem FRACTIONS fractions (or --all, or what pays --assets of stablecoin) at NAV from
    the pool's free cash, with a minimum out and a deadline."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        RedeemOrder,
        dict(
            shares=fractions,
            all_=all_,
            assets=assets,
            min_assets=min_assets,
            slippage_bps=slippage_bps,
            deadline_minutes=deadline_minutes,
            deadline=deadline,
            receiver=receiver,
        ),
        pool.context,
    )
    sender = resolve_sender(account_alias, "investor")
    trade = redeem_fractions(pool, sender, order)
    console.print(
        f"redeemed {pool.fractions(trade.shares)} for {pool.cash(trade.assets)}: "
        f"{pool.price(trade.assets, trade.shares)} per fraction"
    )
    if order.receiver and order.receiver != sender.address:
        console.print(f"the {pool.symbol} went to {order.receiver}")


@cli.command(
    "request-redeem",
    cls=ConnectedProviderCommand,
    short_help="Queue a redemption, paid when cash comes in",
)
@click.argument("fractions", required=False)
@click.option("--all", "all_", is_flag=True, help="Request every fraction held.")
@click.option(
    "--controller",
    default=None,
    callback=address_callback,
    help="Who cancels and claims the request [default: the sender].",
)
@manifest_option
@account_option
def request_redeem(fractions, all_, controller, manifest_file, account_alias):
    """Queue FRACTIONS fractions (or --all) for redemption in the pool's RedemptionQueue; they
    are paid at the NAV of the block that fulfils them."""
    pool = load_pool(require_manifest(manifest_file))
    order = validated(
        queue.RequestOrder,
        dict(shares=fractions, all_=all_, controller=controller),
        pool.context,
    )
    sender = resolve_sender(account_alias, "investor")
    request = queue.request_redeem(pool, sender, order)
    console.print(
        f"request {request.request_id}: {pool.fractions(request.shares)} queued for redemption, "
        f"worth {pool.cash(request.value)} now (paid at the NAV of the block that fulfils it)",
        soft_wrap=True,
    )
    claims = "claim it"
    if request.controller != sender.address:
        claims = f"{request.controller} claims it"
    console.print(
        f"cancel it with `ape run invest cancel {request.request_id}` while it is pending; once "
        f"the operator runs {queue.FULFIL_HINT}, {claims} with {queue.CLAIM_HINT}",
        soft_wrap=True,
    )


@cli.command("cancel", cls=ConnectedProviderCommand, short_help="Cancel a pending redemption")
@click.argument("request_id")
@manifest_option
@account_option
def cancel_(request_id, manifest_file, account_alias):
    """Cancel pending redemption request REQUEST_ID; its fractions are then claimed back with
    claim-redeem."""
    pool = load_pool(require_manifest(manifest_file))
    request_id = validated(queue.RequestId, dict(request_id=request_id)).request_id
    sender = resolve_sender(account_alias, "investor")
    controller, shares, _ = queue.cancel(pool, sender, request_id)
    who = "" if controller == sender.address else f" ({controller}'s)"
    paused = " once the admin unpauses the vault" if pool.vault.paused() else ""
    console.print(
        f"cancelled request {request_id}{who}: {pool.fractions(shares)} to claim back with "
        f"{queue.CLAIM_HINT}{paused}",
        soft_wrap=True,
    )


@cli.command(
    "claim-redeem",
    cls=ConnectedProviderCommand,
    short_help="Claim fulfilled redemptions and cancelled fractions",
)
@receiver_option
@manifest_option
@account_option
def claim_redeem(receiver, manifest_file, account_alias):
    """Claim the stablecoin of fulfilled redemption requests and the fractions of cancelled
    ones."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "investor")
    claimed = queue.claim_redeem(pool, sender, receiver)
    if claimed.shares:
        console.print(
            f"claimed {pool.cash(claimed.assets)} for {pool.fractions(claimed.shares)} of "
            f"fulfilled requests, to {claimed.receiver}",
            soft_wrap=True,
        )
    if claimed.returned:
        console.print(
            f"claimed back {pool.fractions(claimed.returned)} of cancelled requests, to "
            f"{claimed.receiver}",
            soft_wrap=True,
        )


@cli.command("claim", cls=ConnectedProviderCommand, short_help="Claim vested lease revenue")
@receiver_option
@manifest_option
@account_option
def claim_(receiver, manifest_file, account_alias):
    """Claim the lease revenue vested to the sender's fractions."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "investor")
    amount, _ = claim(pool, sender, receiver)
    console.print(f"claimed {pool.cash(amount)} to {receiver or sender.address}")


@cli.command(
    cls=ConnectedProviderCommand, short_help="Holdings, queued redemptions, revenue, identity"
)
@click.argument("address", required=False, callback=address_callback)
@manifest_option
@account_option
def portfolio(address, manifest_file, account_alias):
    """Show ADDRESS's holdings (the sender's if omitted): fractions and their value, queued
    redemptions, revenue to claim and identity."""
    pool = load_pool(require_manifest(manifest_file))
    if address is None:
        if account_alias is None and not is_local():
            raise UserError("give an ADDRESS or --account")
        address = resolve_sender(account_alias, "investor").address
    position = queue.position_of(pool, address)
    console.print(portfolio_table(pool, address, queue.portfolio_rows(pool, position)))
    if position.claimable:
        console.print(f"claim what the redemption queue holds with {queue.CLAIM_HINT}")


@cli.command("faucet", cls=ConnectedProviderCommand, short_help="Test stablecoin (local chains)")
@click.argument("amount")
@manifest_option
@account_option
def faucet_(amount, manifest_file, account_alias):
    """Mint AMOUNT of test stablecoin (MockUSDC, local chains) to the sender."""
    pool = load_pool(require_manifest(manifest_file))
    value = validated(FaucetRequest, dict(amount=amount), pool.context).amount
    sender = resolve_sender(account_alias, "investor")
    faucet(pool, sender, value)
    console.print(
        f"{sender.address} now holds {pool.cash(pool.stablecoin.balanceOf(sender.address))}"
    )
