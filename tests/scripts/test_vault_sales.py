"""`ape run vault sell-gpu|cancel-sale|take-gpu`: the operator lists a GPU the pool holds at no
less than its floor, a buyer takes it paying in the same transaction; each side pre-checked, a
one-line error and nothing sent on bad input."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import head_logs, line_value, one_line, refused, script, stale_day
from tests.utils.governance import govern
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import fund

GPU = 2
PRICE = 25_000 * USDC
OPERATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
INVESTOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # TEST::7
REASON = b"\x01" * 32


@pytest.fixture
def listed(invested, operator, chain):
    """`invested` with GPU 2 listed by the operator at 25,000 USDC for a day (above its
    collateral value, ~23,600 USDC: a premium to stream)."""
    invested.market.list_gpu(GPU, PRICE, chain.pending_timestamp + DAY, sender=operator)
    return invested


# SELL-GPU #


def test_sell_gpu_lists_a_gpu_the_pool_holds(invested, operator, chain):
    market = invested.market
    now, nonce = chain.pending_timestamp, operator.nonce

    result = script(invested, "vault", "sell-gpu", str(GPU), "25000", "--expires-in", "48")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    (log,) = head_logs(chain, market.GpuListed)
    assert (log.token_id, log.price, log.operator) == (GPU, PRICE, operator)
    # 48 hours from the chain time the script read (the pending block's).
    assert now <= log.expires_at - 48 * 3_600 <= chain.blocks.head.timestamp
    assert market.listing(GPU) == (PRICE, log.expires_at)
    floor = line_value(invested.registry, GPU, chain.pending_timestamp)
    assert floor < PRICE
    shown = one_line(result)
    assert shown.startswith("listed GPU 2 for 25,000.000000 USDC (floor now ")
    assert (
        f"open until {format_time(log.expires_at)} UTC: a buyer runs "
        "`ape run vault take-gpu 2 --account BUYER`" in shown
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("3", "25000"), f"GPU 3 is not held by the pool (its owner is {OPERATOR})"),
        (("99", "25000"), "GPU 99 is not registered"),
        (("0", "25000"), "TOKEN: Input should be greater than or equal to 1"),
        (("x", "25000"), "TOKEN: Input should be a valid integer"),
        ((str(GPU), "0"), "PRICE: must be more than 0"),
        ((str(GPU), "1e3"), "PRICE: not a non-negative decimal amount: '1e3'"),
        ((str(GPU), "1.0000001"), "PRICE: '1.0000001' has more than 6 decimal places"),
        ((str(GPU), "100"), "PRICE 100.000000 USDC is below GPU 2's floor of "),
        ((str(GPU), "25000", "--expires-in", "0"), "--expires-in: Input should be greater"),
        ((str(GPU), "25000", "--expires-in", "8761"), "--expires-in: Input should be less"),
        (
            (str(GPU), "25000", "--account", "TEST::7"),
            f"{INVESTOR} does not hold OPERATOR_ROLE on the GpuMarket",
        ),
    ],
)
def test_bad_listing_sends_nothing(invested, operator, investor, args, message):
    nonces = operator.nonce, investor.nonce
    refused(script(invested, "vault", "sell-gpu", *args), message)
    assert (operator.nonce, investor.nonce) == nonces
    assert invested.market.listing(GPU) == (0, 0)


def test_listing_below_the_floor_names_it(invested, operator):
    result = script(invested, "vault", "sell-gpu", str(GPU), "100")
    refused(result, "(its collateral value now)")


def test_sell_a_leased_gpu(leased, operator):
    nonce = operator.nonce
    refused(
        script(leased, "vault", "sell-gpu", "1", "25000"),
        "GPU 1 is under lease 1: close the lease first",
    )
    assert operator.nonce == nonce


def test_sell_a_gpu_sent_by_plain_transfer(invested, operator):
    invested.registry.transferFrom(operator, invested.collateral, 3, sender=operator)
    nonce = operator.nonce
    refused(
        script(invested, "vault", "sell-gpu", "3", "25000"),
        "GPU 3 was sent to the pool's collateral by a plain transfer and never counted: it "
        "cannot be sold",
    )
    assert operator.nonce == nonce


def test_sell_a_stale_gpu(invested, operator, chain):
    stale = stale_day(invested.registry, GPU)
    chain.mine(timestamp=stale + 1)
    nonce = operator.nonce
    refused(
        script(invested, "vault", "sell-gpu", str(GPU), "25000"),
        f"GPU 2 went stale on {format_time(stale)} UTC: it has no floor and cannot be sold until "
        "the custodian attests it",
    )
    assert operator.nonce == nonce


def test_sell_an_impaired_gpu_at_its_recovery_value(invested, operator, appraiser, chain):
    """No recovery value: no floor, said how to set one; below it refused; at it listed."""
    invested.registry.set_status(GPU, GpuStatus.IMPAIRED, sender=appraiser)
    nonce = operator.nonce
    refused(
        script(invested, "vault", "sell-gpu", str(GPU), "5000"),
        "GPU 2 is IMPAIRED and no longer counts: its floor is the appraiser's recovery value, and "
        "none is set (`ape run appraise recovery 2 VALUE --reason TEXT`)",
    )
    invested.appraisals.set_recovery_value(GPU, 5_000 * USDC, REASON, sender=appraiser)
    refused(
        script(invested, "vault", "sell-gpu", str(GPU), "4999.999999"),
        "PRICE 4,999.999999 USDC is below GPU 2's floor of 5,000.000000 USDC (its recovery value)",
    )
    assert operator.nonce == nonce
    result = script(invested, "vault", "sell-gpu", str(GPU), "5000")
    assert result.exit_code == 0, result.output
    assert invested.market.listing(GPU)[0] == 5_000 * USDC
    assert "(floor now 5,000.000000 USDC)" in one_line(result)


def test_sell_a_returning_gpu(invested, operator, appraiser):
    """Restored from IMPAIRED, the GPU returns over the unlock period: its floor (the value now)
    is below what it returns to, so the script refuses until the ramp ends."""
    registry = invested.registry
    registry.set_status(GPU, GpuStatus.IMPAIRED, sender=appraiser)
    registry.set_status(GPU, GpuStatus.ACTIVE, sender=appraiser)
    ramp_end = invested.collateral.position(GPU)[2]
    nonce = operator.nonce
    refused(
        script(invested, "vault", "sell-gpu", str(GPU), "25000"),
        f"GPU 2 is returning to its value until {format_time(ramp_end)} UTC: a sale now, at its "
        "floor, would sell it below what it returns to; list it after that",
    )
    assert operator.nonce == nonce


# CANCEL-SALE #


def test_cancel_sale(listed, operator, chain):
    nonce = operator.nonce
    result = script(listed, "vault", "cancel-sale", str(GPU))
    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    (log,) = head_logs(chain, listed.market.GpuListingCancelled)
    assert (log.token_id, log.operator) == (GPU, operator)
    assert listed.market.listing(GPU) == (0, 0)
    assert "GPU 2 is no longer listed" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "GPU 1 is not listed: nothing to cancel"),
        (("0",), "TOKEN: Input should be greater than or equal to 1"),
        ((str(GPU), "--account", "TEST::7"), f"{INVESTOR} does not hold OPERATOR_ROLE"),
    ],
)
def test_bad_cancel_sale_sends_nothing(listed, operator, investor, args, message):
    nonces = operator.nonce, investor.nonce
    refused(script(listed, "vault", "cancel-sale", *args), message)
    assert (operator.nonce, investor.nonce) == nonces
    assert listed.market.listing(GPU)[0] == PRICE


# TAKE-GPU #


def test_take_gpu_buys_it_at_the_listed_price(listed, investor, chain):
    """The investor (TEST::7, the default buyer locally) approves the vault and buys: the GPU
    token is its, its collateral value enters free cash, the premium is streamed to holders."""
    vault, collateral, token = listed.vault, listed.collateral, listed.stablecoin
    free_cash, cash, nonce = vault.free_cash(), token.balanceOf(investor), investor.nonce

    result = script(listed, "vault", "take-gpu", str(GPU))

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 2  # approve the vault, buy_gpu
    (sold,) = head_logs(chain, listed.market.GpuSold)
    (released,) = head_logs(chain, collateral.GpuReleased)
    value = line_value(listed.registry, GPU, chain.blocks.head.timestamp)
    assert (sold.token_id, sold.buyer, sold.price, sold.value) == (GPU, investor, PRICE, value)
    assert (released.to_cash, released.value) == (value, value)
    (skimmed,) = head_logs(chain, vault.Skimmed)
    assert skimmed.donation == PRICE - value
    assert listed.registry.ownerOf(GPU) == investor.address
    assert token.balanceOf(investor) == cash - PRICE
    assert vault.free_cash() == free_cash + value
    assert collateral.position(GPU)[0] == 0
    assert (
        f"{investor.address} bought GPU 2 for 25,000.000000 USDC: {listed.cash(value)} of "
        f"collateral left NAV, {listed.cash(value)} entered free cash, "
        f"{listed.cash(PRICE - value)} streamed to holders" in one_line(result)
    )


def test_take_with_an_allowance_sends_one_transaction(listed, investor):
    listed.stablecoin.approve(listed.vault, PRICE, sender=investor)
    nonce = investor.nonce
    result = script(listed, "vault", "take-gpu", str(GPU), "--account", "TEST::7")
    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1
    assert listed.registry.ownerOf(GPU) == investor.address


def test_take_in_wind_down_puts_the_whole_price_in_free_cash(listed, investor, admin, chain):
    govern(listed, admin, "GpuCollateral", "wind_down")
    free_cash = listed.vault.free_cash()
    result = script(listed, "vault", "take-gpu", str(GPU))
    assert result.exit_code == 0, result.output
    (released,) = head_logs(chain, listed.collateral.GpuReleased)
    assert released.to_cash == PRICE
    assert listed.vault.free_cash() == free_cash + PRICE
    assert "25,000.000000 USDC entered free cash, 0.000000 USDC streamed" in one_line(result)


def test_take_without_a_listing(invested, investor):
    nonce = investor.nonce
    refused(
        script(invested, "vault", "take-gpu", str(GPU)),
        "GPU 2 is not listed (the operator runs `ape run vault sell-gpu 2 PRICE`)",
    )
    assert investor.nonce == nonce


def test_take_an_expired_listing(listed, investor, chain):
    expires_at = listed.market.listing(GPU)[1]
    chain.mine(timestamp=expires_at + 1)
    nonce = investor.nonce
    refused(
        script(listed, "vault", "take-gpu", str(GPU)),
        f"the listing of GPU 2 expired on {format_time(expires_at)} UTC",
    )
    assert investor.nonce == nonce


def test_take_while_paused(listed, investor, pauser):
    listed.vault.pause(sender=pauser)
    nonce = investor.nonce
    refused(
        script(listed, "vault", "take-gpu", str(GPU)),
        "the vault is paused: buying GPUs from the pool is stopped until the admin unpauses it",
    )
    assert investor.nonce == nonce


def test_take_a_listing_below_the_floor(invested, operator, investor, chain):
    """A listing sent to the contract directly at a price it checks only at the sale."""
    invested.market.list_gpu(GPU, 100 * USDC, chain.pending_timestamp + DAY, sender=operator)
    nonce = investor.nonce
    result = script(invested, "vault", "take-gpu", str(GPU))
    refused(result, "the listing's price 100.000000 USDC is below GPU 2's floor of ")
    assert "now: the operator must list it again" in result.output
    assert investor.nonce == nonce


def test_take_a_gpu_leased_since_its_listing(listed, operator, lessee, investor):
    listed.leases.open_lease(lessee, 1_000 * USDC, 30 * DAY, 12, 5 * DAY, [GPU], sender=operator)
    nonce = investor.nonce
    refused(
        script(listed, "vault", "take-gpu", str(GPU)),
        "GPU 2 is under lease 1: close the lease first",
    )
    assert investor.nonce == nonce


def test_take_without_the_cash(listed, other_investor):
    fund(listed.stablecoin, other_investor, PRICE - 1)
    nonce = other_investor.nonce
    refused(
        script(listed, "vault", "take-gpu", str(GPU), "--account", "TEST::8"),
        f"{other_investor.address} holds 24,999.999999 USDC, less than the 25,000.000000 USDC to "
        "pay",
    )
    assert other_investor.nonce == nonce


@pytest.mark.parametrize(
    ("token", "message"),
    [("x", "TOKEN: Input should be a valid integer"), ("0", "TOKEN: Input should be greater")],
)
def test_take_a_bad_token_id(listed, investor, token, message):
    nonce = investor.nonce
    refused(script(listed, "vault", "take-gpu", token), message)
    assert investor.nonce == nonce
