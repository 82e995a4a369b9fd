"""`ape run invest buy|redeem|claim|portfolio|faucet`: exact amounts; nothing sent on bad input."""

import ape
import pytest
from ape.types import MessageSignature
from eth_utils import to_checksum_address

from gpu_rwa.permit import SECP256K1_N, signature_parts
from gpu_rwa.types import format_time
from tests.scripts.utils import (
    INVESTOR_FUNDS,
    balances,
    head_logs,
    refused,
    script,
    stale_day,
    stale_reason,
    table_cells,
    written_down_refusal,
)
from tests.utils.custody import attest
from tests.utils.registry import DAY, USDC
from tests.utils.vault import ENTRIES_WAIT, JURISDICTION, to_assets, to_shares

# BUY #


def price_paid_checks(kit, assets: int, shares: int) -> None:
    """`shares` is what `assets` bought at NAV in the block of the buy (previewDeposit there):
    the reference conversion over the totals just before it, at that block's time."""
    before_assets = kit.vault.totalAssets() - assets
    before_supply = kit.vault.totalSupply() - shares
    assert shares == to_shares(assets, before_assets, before_supply)


def nav_before_redeem(kit, assets: int, shares: int) -> tuple[int, int]:
    """NAV and supply in the block of a redemption, just before it (what previewRedeem read)."""
    return kit.vault.totalAssets() + assets, kit.vault.totalSupply() + shares


def redeem_100(kit, investor) -> int:
    """`ape run invest redeem 100` by the investor goes through: 100 fractions leave, and what it
    paid is their worth at the NAV and supply of its block, to the wei. Returns what it paid."""
    vault = kit.vault
    shares = 100 * 10**kit.fraction_decimals
    held, cash = vault.balanceOf(investor), kit.stablecoin.balanceOf(investor)

    result = script(kit, "invest", "redeem", "100")

    assert result.exit_code == 0, result.output
    assert vault.balanceOf(investor) == held - shares
    paid = kit.stablecoin.balanceOf(investor) - cash
    assert paid == to_assets(shares, *nav_before_redeem(kit, paid, shares))
    return paid


def test_buy_approves_then_buys(deployed_pool, investor):
    assets = 1_000_500_000  # 1000.50 USDC
    nonce = investor.nonce

    result = script(deployed_pool, "invest", "buy", "1000.50")

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 2  # approve, buy
    expected = deployed_pool.vault.balanceOf(investor)
    price_paid_checks(deployed_pool, assets, expected)
    assert deployed_pool.stablecoin.balanceOf(investor) == INVESTOR_FUNDS - assets
    assert deployed_pool.vault.free_cash() == assets
    assert deployed_pool.stablecoin.allowance(investor, deployed_pool.vault) == 0
    assert f"bought {deployed_pool.fractions(expected)} for 1,000.500000 USDC" in result.output
    assert f"{deployed_pool.price(assets, expected)} per fraction" in result.output


def test_buy_with_permit_is_one_transaction(deployed_pool, investor):
    nonce = investor.nonce

    result = script(deployed_pool, "invest", "buy", "250", "--permit")

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1
    assert deployed_pool.stablecoin.nonces(investor) == 1  # the permit was used
    price_paid_checks(deployed_pool, 250 * USDC, deployed_pool.vault.balanceOf(investor))
    assert deployed_pool.stablecoin.allowance(investor, deployed_pool.vault) == 0
    assert deployed_pool.stablecoin.balanceOf(investor) == INVESTOR_FUNDS - 250 * USDC
    assert "(1 transaction(s))" in result.output


def test_buy_with_permit_shows_what_the_investor_signs(deployed_pool, investor, chain):
    token, vault = deployed_pool.stablecoin, deployed_pool.vault
    deadline = 1_938_081_600  # 2031-06-01 12:00 UTC

    result = script(
        deployed_pool, "invest", "buy", "250.5", "--permit", "--deadline", "2031-06-01T12:00"
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:7] == [
        f"signing an EIP-2612 permit for {investor.address}: until its deadline, the spender may "
        "take up to the amount from this account",
        f"  spender   {vault.address} (the pool's CollateralVault)",
        "  amount    250.500000 USDC (250500000 base units)",
        f"  deadline  2031-06-01 12:00 UTC (unix {deadline})",
        "  nonce     0",
        f"  token     USDC at {token.address} (EIP-712 domain: name {token.name()!r}, version '2')",
        f"  chain     {chain.chain_id}",
    ]
    assert lines[7].startswith("bought ")
    assert token.nonces(investor) == 1
    # The permit's approval, then the buy spending it, in one transaction.
    approvals = [(log.owner, log.spender, log.value) for log in head_logs(chain, token.Approval)]
    assert approvals == [(investor, vault, 250_500_000), (investor, vault, 0)]


def test_buy_uses_an_existing_allowance_and_pays_to_a_receiver(
    deployed_pool, investor, other_investor
):
    deployed_pool.stablecoin.approve(deployed_pool.vault, 100 * USDC, sender=investor)
    nonce = investor.nonce

    result = script(deployed_pool, "invest", "buy", "100", "--receiver", other_investor.address)

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1  # no second approve
    price_paid_checks(deployed_pool, 100 * USDC, deployed_pool.vault.balanceOf(other_investor))
    assert deployed_pool.stablecoin.balanceOf(investor) == INVESTOR_FUNDS - 100 * USDC
    assert deployed_pool.vault.balanceOf(investor) == 0
    assert f"the fractions went to {other_investor.address}" in result.output


def test_explicit_min_fractions_at_the_quote_is_accepted(deployed_pool, investor):
    # NAV per fraction only falls as the GPUs depreciate: the quote now is a floor a block later.
    quote = deployed_pool.vault.previewDeposit(10 * USDC)
    text = deployed_pool.fractions(quote).split()[0].replace(",", "")

    result = script(deployed_pool, "invest", "buy", "10", "--min-fractions", text)

    assert result.exit_code == 0, result.output
    assert deployed_pool.vault.balanceOf(investor) >= quote
    price_paid_checks(deployed_pool, 10 * USDC, deployed_pool.vault.balanceOf(investor))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("10", "--min-fractions", "-5"), "--min-fractions: not a non-negative decimal amount"),
        (("1.0000001",), "AMOUNT: '1.0000001' has more than 6 decimal places"),
        (("0",), "AMOUNT: must be more than 0"),
        (("1" + "0" * 40,), "is absurdly large"),
        (("100000.000001",), "less than the 100,000.000001 USDC to pay"),
        (("10", "--receiver", "0x12"), "--receiver: not an address: '0x12'"),
        (("10", "--deadline", "2020-01-01"), "--deadline 2020-01-01 00:00 UTC has passed"),
        (("10", "--deadline", "soon"), "--deadline: Input should be a valid datetime"),
        (("10", "--deadline-minutes", "0"), "--deadline-minutes: Input should be greater than"),
        (("10", "--slippage-bps", "10001"), "--slippage-bps: Input should be less than or equal"),
        (("10", "--min-fractions", "11"), "--min-fractions 11.000000000000 GPU1: 10.000000 USDC"),
        (("10", "--account", "TEST::99"), "--account TEST::99: no such test account"),
    ],
)
def test_bad_buy_sends_nothing(deployed_pool, investor, args, message):
    before = balances(deployed_pool, investor)
    refused(script(deployed_pool, "invest", "buy", *args), message)
    assert balances(deployed_pool, investor) == before


def test_unverified_buyer_and_receiver_are_refused(deployed_pool, investor, attacker):
    """Fractions reach only verified investors: an unverified address buys for no one, itself
    included, and no one buys for it."""
    before = balances(deployed_pool, investor, attacker)
    deployed_pool.stablecoin.faucet(10 * USDC, sender=attacker)
    attacker_before = balances(deployed_pool, attacker)

    refused(
        script(deployed_pool, "invest", "buy", "10", "--account", "TEST::9"),
        f"buyer {attacker.address}: it is not a verified investor (compliance runs "
        f"`ape run kyc add {attacker.address}`)",
    )
    refused(
        script(deployed_pool, "invest", "buy", "10", "--receiver", attacker.address),
        f"receiver {attacker.address}: it is not a verified investor",
    )
    assert balances(deployed_pool, investor) == before[:1]
    assert balances(deployed_pool, attacker) == attacker_before


def test_an_unverified_payer_buys_for_a_verified_receiver(deployed_pool, investor, attacker, chain):
    """The vault checks who receives fractions, not who pays: neither does the script."""
    deployed_pool.stablecoin.faucet(100 * USDC, sender=attacker)
    assert not deployed_pool.identity.is_verified(attacker)
    nonce = attacker.nonce

    result = script(
        deployed_pool,
        "invest",
        "buy",
        "100",
        "--receiver",
        investor.address,
        "--account",
        "TEST::9",
    )

    assert result.exit_code == 0, result.output
    assert attacker.nonce == nonce + 2  # approve, buy
    shares = deployed_pool.vault.balanceOf(investor)
    price_paid_checks(deployed_pool, 100 * USDC, shares)
    (log,) = head_logs(chain, deployed_pool.vault.Deposit)
    assert (log.sender, log.owner, log.assets, log.shares) == (
        attacker,
        investor,
        100 * USDC,
        shares,
    )
    assert deployed_pool.vault.balanceOf(attacker) == 0
    assert deployed_pool.stablecoin.balanceOf(attacker) == 0
    assert f"the fractions went to {investor.address}" in result.output


def test_expired_buyer_is_refused(deployed_pool, investor, compliance, chain):
    expiry = chain.pending_timestamp + DAY
    deployed_pool.identity.verify(investor, expiry, JURISDICTION, sender=compliance)
    chain.mine(timestamp=expiry + 1)
    before = balances(deployed_pool, investor)

    result = script(deployed_pool, "invest", "buy", "10")

    refused(result, f"buyer {investor.address}: its verification expired on")
    assert balances(deployed_pool, investor) == before


def test_buy_while_paused_is_refused(deployed_pool, investor, pauser):
    deployed_pool.vault.pause(sender=pauser)
    before = balances(deployed_pool, investor)
    refused(
        script(deployed_pool, "invest", "buy", "10"),
        "the vault is paused: buying is stopped until the admin unpauses it",
    )
    assert balances(deployed_pool, investor) == before


# THE ENTRY GATE: buys wait while GPUs are written down; exits do not #


def test_buy_waits_while_gpus_are_stale(deployed_pool, investor, other_investor, chain):
    """Past the stale day GPUs 1 and 2 count for nothing: a buy now would pay the written-down
    price and keep the value when they come back. Every form of buy is refused before anything
    is sent, naming the custodian's command."""
    chain.mine(timestamp=stale_day(deployed_pool.registry, 1))
    before = balances(deployed_pool, investor, other_investor)
    message = written_down_refusal("buying", stale_reason("1 2"))

    for args in (("10",), ("10", "--permit"), ("10", "--receiver", other_investor.address)):
        refused(script(deployed_pool, "invest", "buy", *args), message)

    assert balances(deployed_pool, investor, other_investor) == before
    assert deployed_pool.stablecoin.nonces(investor) == 0  # no permit signed away either
    assert deployed_pool.stablecoin.allowance(investor, deployed_pool.vault) == 0
    # What the check spares the buyer: the vault refuses the same entry.
    assert (deployed_pool.collateral.written_down(), deployed_pool.collateral.entries_open()) == (
        2,
        False,
    )
    assert deployed_pool.vault.maxDeposit(investor) == deployed_pool.vault.maxMint(investor) == 0
    deployed_pool.stablecoin.approve(deployed_pool.vault, 10 * USDC, sender=investor)
    with ape.reverts(ENTRIES_WAIT):
        deployed_pool.vault.deposit(10 * USDC, investor, sender=investor)


@pytest.mark.anvil_only(
    "the next block must fall at an exact second; Ganache's clock runs on between blocks"
)
def test_buy_foresees_a_stale_day_before_its_block(deployed_pool, investor, chain):
    """The views read the head block; the buy lands in the next one. A stale day in between
    closes entries for the buy, and the check says so first."""
    stale = stale_day(deployed_pool.registry, 1)
    chain.mine(timestamp=stale - 60)
    assert deployed_pool.collateral.entries_open()
    chain.pending_timestamp = stale
    before = balances(deployed_pool, investor)

    refused(
        script(deployed_pool, "invest", "buy", "10"),
        written_down_refusal("buying", stale_reason("1 2")),
    )

    assert balances(deployed_pool, investor) == before


def test_buy_waits_for_the_last_ramp_to_end(deployed_pool, investor, custodian, chain):
    """GPU 1 attested after going stale returns over the unlock period while GPU 2 is still stale;
    then both return, GPU 2 later. The refusal names what is left to fix, and the day the
    last ramp ends; from that day the buy goes through."""
    registry, collateral = deployed_pool.registry, deployed_pool.collateral
    chain.mine(timestamp=stale_day(registry, 1) + DAY)
    attest(deployed_pool.attestor, [1])
    first_end = collateral.position(1)[2]
    before = balances(deployed_pool, investor)

    refused(
        script(deployed_pool, "invest", "buy", "10"),
        written_down_refusal(
            "buying",
            f"{stale_reason('2')}; GPU 1 returning: the last ramp ends on "
            f"{format_time(first_end)} UTC",
        ),
    )

    chain.pending_timestamp += DAY
    attest(deployed_pool.attestor, [2])
    last_end = collateral.position(2)[2]
    assert last_end > first_end
    refused(
        script(deployed_pool, "invest", "buy", "10"),
        written_down_refusal(
            "buying", f"GPUs 1, 2 returning: the last ramp ends on {format_time(last_end)} UTC"
        ),
    )
    chain.mine(timestamp=last_end - 60)
    refused(
        script(deployed_pool, "invest", "buy", "10"),
        written_down_refusal(
            "buying", f"GPU 2 returning: the last ramp ends on {format_time(last_end)} UTC"
        ),
    )
    assert balances(deployed_pool, investor) == before

    chain.mine(timestamp=last_end)
    result = script(deployed_pool, "invest", "buy", "10")

    assert result.exit_code == 0, result.output
    assert collateral.entries_open()
    price_paid_checks(deployed_pool, 10 * USDC, deployed_pool.vault.balanceOf(investor))


def test_redeem_and_portfolio_while_entries_are_closed(invested, investor, chain):
    """Exits stay open at the written-down price (down at once): with both GPUs stale NAV is the
    free cash alone, and the sale is priced from it."""
    vault = invested.vault
    chain.mine(timestamp=stale_day(invested.registry, 1))
    assert not invested.collateral.entries_open()
    assert vault.totalAssets() == vault.free_cash() == 10_000 * USDC
    held, shares = vault.balanceOf(investor), 100 * 10**invested.fraction_decimals
    paid = redeem_100(invested, investor)
    assert nav_before_redeem(invested, paid, shares)[0] == 10_000 * USDC

    result = script(invested, "invest", "portfolio", investor.address)

    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells[1] for cells in map(table_cells, result.output.splitlines()) if cells}
    assert rows["fractions held"] == invested.fractions(held - shares)
    assert rows["redeemable now"] == invested.fractions(vault.maxRedeem(investor))
    assert vault.maxRedeem(investor) == held - shares


def test_short_r_and_s_are_left_padded():
    # Ape strips leading zero bytes: r = 0x00ab..., s high (must flip to N - s, v 27 <-> 28).
    r = bytes.fromhex("ab" * 31)
    high_s = SECP256K1_N - 5
    v, r32, s32 = signature_parts(MessageSignature(v=27, r=r, s=high_s.to_bytes(32, "big")))
    assert r32 == b"\x00" + r
    assert (v, s32) == (28, (5).to_bytes(32, "big"))


# REDEEM #


def sell_input(kit, chain) -> dict:
    """The arguments of the head block's transaction, decoded as `vault.sell`."""
    tx = chain.blocks.head.transactions[0]
    selector, args = kit.vault.sell.decode_input(tx.data)
    assert selector == "sell(uint256,address,uint256,uint256)"
    return args


def test_redeem_fractions_sends_a_bounded_sell(invested, investor, chain):
    vault = invested.vault
    shares = 100 * 10**invested.fraction_decimals
    held, cash = vault.balanceOf(investor), invested.stablecoin.balanceOf(investor)
    quote, now, nonce = vault.previewRedeem(shares), chain.pending_timestamp, investor.nonce

    result = script(invested, "invest", "redeem", "100")

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1
    args = sell_input(invested, chain)
    assert (args["shares"], args["receiver"]) == (shares, investor.address)
    assert args["min_assets"] == quote * 9_950 // 10_000  # default slippage: 50 bps
    assert now <= args["deadline"] - 20 * 60 <= chain.blocks.head.timestamp
    assert vault.balanceOf(investor) == held - shares
    paid = invested.stablecoin.balanceOf(investor) - cash
    assert paid == to_assets(shares, *nav_before_redeem(invested, paid, shares))
    (log,) = head_logs(chain, vault.Withdraw)
    assert (log.sender, log.receiver, log.owner, log.assets, log.shares) == (
        investor,
        investor,
        investor,
        paid,
        shares,
    )
    assert f"redeemed {invested.fractions(shares)} for {invested.cash(paid)}" in result.output


def test_redeem_with_explicit_bounds(invested, investor, chain):
    shares = 100 * 10**invested.fraction_decimals
    quote, now = invested.vault.previewRedeem(shares), chain.pending_timestamp

    result = script(
        invested, "invest", "redeem", "100", "--slippage-bps", "100", "--deadline-minutes", "5"
    )

    assert result.exit_code == 0, result.output
    args = sell_input(invested, chain)
    assert args["min_assets"] == quote * 9_900 // 10_000
    assert now <= args["deadline"] - 5 * 60 <= chain.blocks.head.timestamp

    result = script(
        invested, "invest", "redeem", "1", "--min-assets", "0.5", "--deadline", "2099-01-01"
    )

    assert result.exit_code == 0, result.output
    args = sell_input(invested, chain)
    assert (args["min_assets"], args["deadline"]) == (500_000, 4_070_908_800)


def test_redeem_all(invested, investor):
    vault = invested.vault
    held, cash = vault.balanceOf(investor), invested.stablecoin.balanceOf(investor)

    result = script(invested, "invest", "redeem", "--all")

    assert result.exit_code == 0, result.output
    assert vault.balanceOf(investor) == 0
    paid = invested.stablecoin.balanceOf(investor) - cash
    assert paid == to_assets(held, *nav_before_redeem(invested, paid, held))
    assert paid > 9_999 * USDC


def test_redeem_an_amount_of_stablecoin(invested, investor):
    """`--assets` becomes the fractions that pay it (previewWithdraw, rounded up), sold with
    `sell`: at least that much is paid unless the price fell in between."""
    vault = invested.vault
    held, cash = vault.balanceOf(investor), invested.stablecoin.balanceOf(investor)
    shares = vault.previewWithdraw(500 * USDC)  # no block in between: what the script reads

    result = script(invested, "invest", "redeem", "--assets", "500")

    assert result.exit_code == 0, result.output
    assert vault.balanceOf(investor) == held - shares
    paid = invested.stablecoin.balanceOf(investor) - cash
    assert paid == to_assets(shares, *nav_before_redeem(invested, paid, shares))
    assert 500 * USDC * 9_950 // 10_000 <= paid <= 500 * USDC + 1


def test_redeem_beyond_free_cash_says_what_can_leave(invested, operator):
    """And how to queue the rest (tests/scripts/test_invest_queue.py runs the commands)."""
    vault = invested.vault
    before = balances(invested, operator)
    can, held = vault.maxRedeem(operator), vault.balanceOf(operator)
    line = (
        f"only {invested.fractions(can)} ({invested.cash(vault.maxWithdraw(operator))}) can be "
        "redeemed now: the vault's free cash is 10,000.000000 USDC; redeem that with "
        f"`ape run invest redeem {invested.fractions_arg(can)}` and queue the rest with "
        "`ape run invest request-redeem"
    )

    refused(script(invested, "invest", "redeem", "--all", "--account", "TEST::1"), f"{line} --all`")
    refused(
        script(invested, "invest", "redeem", invested.fractions_arg(held), "--account", "TEST::1"),
        f"{line} {invested.fractions_arg(held - can)}`",
    )
    assert balances(invested, operator) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of FRACTIONS, --all or --assets AMOUNT"),
        (("1", "--all"), "give exactly one of FRACTIONS, --all or --assets AMOUNT"),
        (("1.0000000000001",), "FRACTIONS: '1.0000000000001' has more than 12 decimal places"),
        (("20000",), "fewer than 20,000.000000000000 GPU1"),
        (("--assets", "20000"), "--assets 20,000.000000 USDC: "),
        (("--assets", "-1"), "--assets: not a non-negative decimal amount: '-1'"),
        (("100", "--min-assets", "101"), "--min-assets 101.000000 USDC: 100.000000000000 GPU1"),
        (("100", "--slippage-bps", "10001"), "--slippage-bps: Input should be less than or equal"),
        (("100", "--deadline-minutes", "0"), "--deadline-minutes: Input should be greater than"),
        (("100", "--deadline-minutes", "x"), "--deadline-minutes: Input should be a valid integer"),
        (("100", "--deadline", "2020-01-01"), "--deadline 2020-01-01 00:00 UTC has passed"),
        (
            ("100", "--receiver", "0x" + "ab" * 20),
            f"receiver {to_checksum_address('0x' + 'ab' * 20)}: it is not a verified investor",
        ),
    ],
)
def test_bad_redeem_sends_nothing(invested, investor, args, message):
    before = balances(invested, investor)
    refused(script(invested, "invest", "redeem", *args), message)
    assert balances(invested, investor) == before


def test_redeem_without_fractions_or_while_paused(invested, other_investor, investor, pauser):
    refused(
        script(invested, "invest", "redeem", "--all", "--account", "TEST::8"),
        f"{other_investor.address} holds no GPU1 fractions",
    )
    invested.vault.pause(sender=pauser)
    before = balances(invested, investor)
    refused(
        script(invested, "invest", "redeem", "1"),
        "the vault is paused: redeeming is stopped until the admin unpauses it",
    )
    assert balances(invested, investor) == before


def test_a_revoked_holder_redeems_to_itself(invested, investor, compliance):
    """Exit rights: no verification is needed to exit to one's own address."""
    invested.identity.revoke(investor, sender=compliance)
    redeem_100(invested, investor)


def test_a_revoked_holder_redeems_to_no_one_else(invested, investor, other_investor, compliance):
    invested.identity.revoke(investor, sender=compliance)
    before = balances(invested, investor, other_investor)
    refused(
        script(invested, "invest", "redeem", "100", "--receiver", other_investor.address),
        f"holder {investor.address}: it is not a verified investor",
    )
    assert balances(invested, investor, other_investor) == before


def test_redeem_to_a_verified_receiver(invested, investor, other_investor):
    vault, token = invested.vault, invested.stablecoin
    shares = 100 * 10**invested.fraction_decimals
    cash = token.balanceOf(other_investor)

    result = script(invested, "invest", "redeem", "100", "--receiver", other_investor.address)

    assert result.exit_code == 0, result.output
    paid = token.balanceOf(other_investor) - cash
    assert paid == to_assets(shares, *nav_before_redeem(invested, paid, shares))
    assert vault.balanceOf(other_investor) == 0
    assert f"the USDC went to {other_investor.address}" in result.output


# CLAIM #


@pytest.fixture
def vested(leased, lessee, chain):
    """`leased` after one instalment paid and fully vested (the investor has revenue to claim)."""
    leased.stablecoin.approve(leased.vault, 1_000 * USDC, sender=lessee)
    leased.leases.pay_instalment(1, sender=lessee)
    chain.mine(timestamp=chain.pending_timestamp + 31 * DAY)
    return leased


def test_claim_vested_revenue(vested, investor, other_investor, chain):
    claimable = vested.vault.claimable(investor)
    assert claimable > 0
    cash = vested.stablecoin.balanceOf(other_investor)

    result = script(vested, "invest", "claim", "--receiver", other_investor.address)

    assert result.exit_code == 0, result.output
    assert vested.stablecoin.balanceOf(other_investor) == cash + claimable
    assert vested.vault.claimable(investor) == 0
    (log,) = head_logs(chain, vested.vault.RevenueClaimed)
    assert (log.account, log.receiver, log.amount) == (investor, other_investor, claimable)
    assert f"claimed {vested.cash(claimable)} to {other_investor.address}" in result.output


def test_a_revoked_holder_claims_to_itself(vested, investor, compliance):
    vested.identity.revoke(investor, sender=compliance)
    claimable = vested.vault.claimable(investor)
    cash = vested.stablecoin.balanceOf(investor)

    result = script(vested, "invest", "claim")

    assert result.exit_code == 0, result.output
    assert vested.stablecoin.balanceOf(investor) == cash + claimable
    assert f"claimed {vested.cash(claimable)} to {investor.address}" in result.output


def test_a_revoked_holder_claims_to_no_one_else(vested, investor, other_investor, compliance):
    vested.identity.revoke(investor, sender=compliance)
    before = balances(vested, investor, other_investor)
    refused(
        script(vested, "invest", "claim", "--receiver", other_investor.address),
        f"sender {investor.address}: it is not a verified investor",
    )
    assert balances(vested, investor, other_investor) == before


def test_claim_to_an_unverified_receiver(vested, investor, attacker):
    before = balances(vested, investor, attacker)
    refused(
        script(vested, "invest", "claim", "--receiver", attacker.address),
        f"receiver {attacker.address}: it is not a verified investor",
    )
    assert balances(vested, investor, attacker) == before


def test_nothing_to_claim_sends_nothing(invested, investor):
    before = balances(invested, investor)
    refused(
        script(invested, "invest", "claim"),
        f"{investor.address} has no revenue to claim yet (lease revenue vests over 30 days)",
    )
    assert balances(invested, investor) == before


# PORTFOLIO AND FAUCET #


def test_portfolio(invested, investor):
    vault = invested.vault
    held = vault.balanceOf(investor)

    result = script(invested, "invest", "portfolio", investor.address)

    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells[1] for cells in map(table_cells, result.output.splitlines()) if cells}
    assert rows["fractions held"] == invested.fractions(held)
    assert rows["value at NAV"] == invested.cash(vault.convertToAssets(held))
    assert rows["claimable revenue"] == "0.000000 USDC"
    assert rows["USDC balance"] == invested.cash(INVESTOR_FUNDS - 10_000 * USDC)
    assert rows["identity"].startswith("verified until")
    assert f"(jurisdiction {JURISDICTION})" in rows["identity"]


def test_portfolio_of_a_bad_address(deployed_pool):
    refused(script(deployed_pool, "invest", "portfolio", "0xZZ"), "ADDRESS: not an address: '0xZZ'")


def test_faucet(deployed_pool, investor):
    result = script(deployed_pool, "invest", "faucet", "10000")

    assert result.exit_code == 0, result.output
    assert deployed_pool.stablecoin.balanceOf(investor) == INVESTOR_FUNDS + 10_000 * USDC


def test_faucet_above_its_cap_sends_nothing(deployed_pool, investor):
    before = balances(deployed_pool, investor)
    refused(
        script(deployed_pool, "invest", "faucet", "1000000.000001"),
        "the faucet gives at most 1,000,000.000000 USDC a call",
    )
    assert balances(deployed_pool, investor) == before
