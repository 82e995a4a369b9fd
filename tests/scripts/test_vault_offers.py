"""`ape run vault offer-gpu|cancel-offer|accept-offer`: the pool buys a GPU with free cash (the
GpuMarket's offers) only when its owner accepts the operator's offer, for at most the GPU's own
collateral value; each side pre-checked, nothing sent on bad input."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import (
    GPU_OUTSIDE,
    head_logs,
    line_value,
    refused,
    script,
)
from tests.utils.governance import govern
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import STALENESS_WINDOW

GPU = str(GPU_OUTSIDE)
STRANGER = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture
def held_by_other(invested, operator, other_investor):
    """`invested` (10,000 USDC free) with GPU 3 sold off-chain to the other investor (verified)."""
    invested.registry.transferFrom(operator, other_investor, GPU_OUTSIDE, sender=operator)
    return invested


@pytest.fixture
def offered(held_by_other, operator, chain):
    """`held_by_other` with the operator's offer of 5,000 USDC for GPU 3, open for 7 days."""
    expires_at = chain.pending_timestamp + 7 * DAY
    held_by_other.market.offer_gpu(GPU_OUTSIDE, 5_000 * USDC, expires_at, sender=operator)
    return held_by_other


def direct_offer(kit, operator, chain, price: int, days: int = 7) -> int:
    """An offer sent to the contract directly (it checks the price only at the sale)."""
    expires_at = chain.pending_timestamp + days * DAY
    kit.market.offer_gpu(GPU_OUTSIDE, price, expires_at, sender=operator)
    return expires_at


# OFFER #


def test_offer_gpu(held_by_other, operator, chain):
    market = held_by_other.market
    now, nonce = chain.pending_timestamp, operator.nonce

    result = script(
        held_by_other, "vault", "offer-gpu", GPU, "--price", "5000.5", "--expires-days", "3"
    )

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    (log,) = head_logs(chain, market.GpuOffered)
    assert (log.token_id, log.price, log.operator) == (GPU_OUTSIDE, 5_000_500_000, operator)
    # Three days from the chain time the script read (the pending block's).
    assert now <= log.expires_at - 3 * DAY <= chain.blocks.head.timestamp
    assert market.offer(GPU_OUTSIDE) == (5_000_500_000, log.expires_at)
    assert (
        f"offered 5,000.500000 USDC for GPU 3, open until {format_time(log.expires_at)} UTC: its "
        "owner runs `ape run vault accept-offer 3`" in " ".join(result.output.split())
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1", "--price", "100"), "GPU 1 is already held by the pool"),
        (("99", "--price", "100"), "GPU 99 is not registered"),
        (("0", "--price", "100"), "TOKEN: Input should be greater than or equal to 1"),
        (("x", "--price", "100"), "TOKEN: Input should be a valid integer"),
        ((GPU, "--price", "0"), "--price: must be more than 0"),
        ((GPU, "--price", "-1"), "--price: not a non-negative decimal amount: '-1'"),
        ((GPU, "--price", "1.0000001"), "--price: '1.0000001' has more than 6 decimal places"),
        ((GPU, "--price", "29000"), "--price 29,000.000000 USDC: GPU 3 is worth at most"),
        (
            (GPU, "--price", "10000.000001"),
            "--price 10,000.000001 USDC: the vault has 10,000.000000 USDC free",
        ),
        ((GPU, "--price", "100", "--expires-days", "0"), "--expires-days: Input should be greater"),
        ((GPU, "--price", "100", "--expires-days", "366"), "--expires-days: Input should be less"),
        (
            (GPU, "--price", "100", "--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold OPERATOR_ROLE on the "
            "GpuMarket",
        ),
    ],
)
def test_bad_offer_sends_nothing(held_by_other, operator, investor, args, message):
    nonces = operator.nonce, investor.nonce
    refused(script(held_by_other, "vault", "offer-gpu", *args), message)
    assert (operator.nonce, investor.nonce) == nonces
    assert held_by_other.market.offer(GPU_OUTSIDE) == (0, 0)


def test_offer_price_is_bounded_by_the_value_at_expiry(held_by_other, operator, chain):
    """The ceiling named is the GPU's own collateral value at the offer's expiry (what the
    collateral's `admit` caps the price at)."""
    expires_at = chain.pending_timestamp + 7 * DAY
    nonce = operator.nonce
    result = script(held_by_other, "vault", "offer-gpu", GPU, "--price", "29000")
    # The chain time the script read may be a few seconds later than this test's.
    ceilings = {
        held_by_other.cash(line_value(held_by_other.registry, GPU_OUTSIDE, expires_at + s))
        for s in range(6)
    }
    shown = result.output.split("is worth at most ")[1].split(" of collateral")[0]
    assert shown in ceilings, (shown, ceilings)
    assert "by the offer's expiry" in result.output
    assert operator.nonce == nonce


def test_offer_in_wind_down(held_by_other, operator, admin):
    govern(held_by_other, admin, "GpuCollateral", "wind_down")
    nonce = operator.nonce
    refused(
        script(held_by_other, "vault", "offer-gpu", GPU, "--price", "100"),
        "the pool is winding down: it buys no more GPUs (it sells them)",
    )
    assert operator.nonce == nonce


def test_offer_for_a_gpu_not_active(held_by_other, operator, custodian):
    held_by_other.registry.set_status(GPU_OUTSIDE, GpuStatus.OFFLINE, sender=custodian)
    nonce = operator.nonce
    refused(
        script(held_by_other, "vault", "offer-gpu", GPU, "--price", "100"),
        "GPU 3 is OFFLINE; only ACTIVE GPUs can be sold to the pool",
    )
    assert operator.nonce == nonce


def test_offer_for_a_stale_gpu(held_by_other, operator, chain):
    stale = (held_by_other.registry.terms(GPU_OUTSIDE).last_attested_at + STALENESS_WINDOW) // DAY
    chain.mine(timestamp=stale * DAY + 1)
    nonce = operator.nonce
    refused(
        script(held_by_other, "vault", "offer-gpu", GPU, "--price", "100"),
        "the custodian must attest it first (`ape run registry attest 3`)",
    )
    assert operator.nonce == nonce


def test_offer_to_an_unverified_owner(held_by_other, operator, other_investor, attacker):
    held_by_other.registry.transferFrom(
        other_investor, attacker, GPU_OUTSIDE, sender=other_investor
    )
    nonce = operator.nonce
    refused(
        script(held_by_other, "vault", "offer-gpu", GPU, "--price", "100"),
        f"owner {attacker.address}: it is not a verified investor",
    )
    assert operator.nonce == nonce


# CANCEL #


def test_cancel_offer(offered, operator, chain):
    nonce = operator.nonce

    result = script(offered, "vault", "cancel-offer", GPU)

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    (log,) = head_logs(chain, offered.market.GpuOfferCancelled)
    assert (log.token_id, log.operator) == (GPU_OUTSIDE, operator)
    assert offered.market.offer(GPU_OUTSIDE) == (0, 0)
    assert "the offer for GPU 3 is cancelled" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "there is no offer for GPU 1: nothing to cancel"),
        (("0",), "TOKEN: Input should be greater than or equal to 1"),
        (
            (GPU, "--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold OPERATOR_ROLE",
        ),
    ],
)
def test_bad_cancel_sends_nothing(offered, operator, investor, args, message):
    nonces = operator.nonce, investor.nonce
    refused(script(offered, "vault", "cancel-offer", *args), message)
    assert (operator.nonce, investor.nonce) == nonces
    assert offered.market.offer(GPU_OUTSIDE)[0] == 5_000 * USDC


# ACCEPT #


def test_accept_offer_sells_the_gpu_to_the_pool(offered, other_investor, chain):
    vault, collateral, token = offered.vault, offered.collateral, offered.stablecoin
    market = offered.market
    free_cash, cash, supply = (
        vault.free_cash(),
        token.balanceOf(other_investor),
        vault.totalSupply(),
    )
    nonce = other_investor.nonce

    # On a local chain the seller is the test account that owns the GPU (TEST::8).
    result = script(offered, "vault", "accept-offer", GPU)

    assert result.exit_code == 0, result.output
    assert other_investor.nonce == nonce + 2  # approve the GPU, sell_gpu
    head = chain.blocks.head
    (log,) = head_logs(chain, market.GpuPurchased)
    assert (log.token_id, log.seller, log.price) == (GPU_OUTSIDE, other_investor, 5_000 * USDC)
    assert log.value == line_value(offered.registry, GPU_OUTSIDE, head.timestamp)
    assert token.balanceOf(other_investor) == cash + 5_000 * USDC
    assert vault.free_cash() == free_cash - 5_000 * USDC
    assert vault.totalSupply() == supply  # paid in cash, no fractions minted
    assert offered.registry.ownerOf(GPU_OUTSIDE) == collateral.address
    assert collateral.position(GPU_OUTSIDE)[0] == 1
    assert market.offer(GPU_OUTSIDE) == (0, 0)
    assert (
        f"{other_investor.address} sold GPU 3 to the pool for 5,000.000000 USDC; it counts "
        f"{offered.cash(log.value)} of collateral" in " ".join(result.output.split())
    )


def test_accept_without_an_offer(held_by_other, other_investor):
    nonce = other_investor.nonce
    refused(
        script(held_by_other, "vault", "accept-offer", GPU),
        "there is no offer for GPU 3 (the operator runs `ape run vault offer-gpu 3 --price PRICE`)",
    )
    assert other_investor.nonce == nonce


def test_accept_an_expired_offer(offered, other_investor, chain):
    expires_at = offered.market.offer(GPU_OUTSIDE)[1]
    chain.mine(timestamp=expires_at + 1)
    nonce = other_investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU),
        f"the offer for GPU 3 expired on {format_time(expires_at)} UTC",
    )
    assert other_investor.nonce == nonce


@pytest.mark.parametrize(
    ("token", "message"),
    [("x", "TOKEN: Input should be a valid integer"), ("0", "TOKEN: Input should be greater")],
)
def test_accept_a_bad_token_id(offered, other_investor, token, message):
    nonce = other_investor.nonce
    refused(script(offered, "vault", "accept-offer", token), message)
    assert other_investor.nonce == nonce


def test_accept_by_someone_else_than_the_owner(offered, other_investor, investor):
    nonces = other_investor.nonce, investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU, "--account", "TEST::7"),
        f"GPU 3 belongs to {other_investor.address}, not to the sender {investor.address}",
    )
    assert (other_investor.nonce, investor.nonce) == nonces


def test_accept_for_an_owner_that_is_no_test_account(offered, other_investor):
    offered.registry.transferFrom(other_investor, STRANGER, GPU_OUTSIDE, sender=other_investor)
    refused(
        script(offered, "vault", "accept-offer", GPU),
        f"the owner of GPU 3 {STRANGER} is not a test account of this chain: pass --account",
    )


def test_accept_by_an_unverified_seller(offered, other_investor, compliance):
    offered.identity.revoke(other_investor, sender=compliance)
    nonce = other_investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU),
        f"seller {other_investor.address}: it is not a verified investor",
    )
    assert other_investor.nonce == nonce


def test_accept_a_stale_gpu(held_by_other, operator, other_investor, chain):
    direct_offer(held_by_other, operator, chain, 5_000 * USDC, days=60)
    stale = (held_by_other.registry.terms(GPU_OUTSIDE).last_attested_at + STALENESS_WINDOW) // DAY
    chain.mine(timestamp=stale * DAY + 1)
    nonce = other_investor.nonce
    refused(
        script(held_by_other, "vault", "accept-offer", GPU),
        "the custodian must attest it first (`ape run registry attest 3`)",
    )
    assert other_investor.nonce == nonce


def test_accept_for_a_gpu_not_active(offered, other_investor, custodian):
    offered.registry.set_status(GPU_OUTSIDE, GpuStatus.OFFLINE, sender=custodian)
    nonce = other_investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU),
        "GPU 3 is OFFLINE; only ACTIVE GPUs can be sold to the pool",
    )
    assert other_investor.nonce == nonce


def test_accept_while_paused(offered, other_investor, pauser):
    offered.vault.pause(sender=pauser)
    nonce = other_investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU),
        "the vault is paused: selling GPUs to the pool is stopped until the admin unpauses it",
    )
    assert other_investor.nonce == nonce


def test_accept_in_wind_down(offered, other_investor, admin):
    govern(offered, admin, "GpuCollateral", "wind_down")
    nonce = other_investor.nonce
    refused(
        script(offered, "vault", "accept-offer", GPU),
        "the pool is winding down: it buys no more GPUs (it sells them)",
    )
    assert other_investor.nonce == nonce


def test_accept_a_price_above_the_value(held_by_other, operator, other_investor, chain):
    direct_offer(held_by_other, operator, chain, 25_000 * USDC)
    nonce = other_investor.nonce
    result = script(held_by_other, "vault", "accept-offer", GPU)
    refused(result, "the offer's price 25,000.000000 USDC is above the ")
    assert "of collateral GPU 3 is worth now: the operator must offer again" in result.output
    assert other_investor.nonce == nonce


def test_accept_a_price_above_free_cash(held_by_other, operator, other_investor, chain):
    direct_offer(held_by_other, operator, chain, 10_000 * USDC + 1)
    nonce = other_investor.nonce
    refused(
        script(held_by_other, "vault", "accept-offer", GPU),
        "the offer's price 10,000.000001 USDC is above the vault's free cash 10,000.000000 USDC",
    )
    assert other_investor.nonce == nonce
