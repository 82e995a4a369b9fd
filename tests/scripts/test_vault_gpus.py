"""`ape run vault contribute|buy-gpu`: GPUs into the vault, pre-checked before anything is sent."""

import pytest

from tests.scripts.utils import GPU_OUTSIDE, refused, script
from tests.utils.registry import USDC


def test_contribute_mints_fractions_for_the_gpu(pool, operator, chain):
    fractions, counted = pool.vault.balanceOf(operator), pool.vault.counted()

    result = script(pool, "vault", "contribute", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert pool.registry.ownerOf(GPU_OUTSIDE) == pool.vault.address
    assert pool.vault.counted() == counted + 1
    (log,) = list(
        pool.vault.GpuContributed.range(chain.blocks.head.number, chain.blocks.head.number + 1)
    )
    assert log.token_id == GPU_OUTSIDE
    assert pool.vault.balanceOf(operator) == fractions + log.shares
    assert f"GPU {GPU_OUTSIDE} entered at" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "GPU 1 is already in the vault"),
        (("99",), "GPU 99 is not registered"),
        ((str(GPU_OUTSIDE), str(GPU_OUTSIDE)), "a GPU is listed twice"),
        ((str(GPU_OUTSIDE), "--account", "TEST::7"), "does not hold OPERATOR_ROLE on the vault"),
        (
            (str(GPU_OUTSIDE), "--receiver", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"),
            "it is not a verified investor",
        ),
        ((str(GPU_OUTSIDE), "--receiver", "0x123"), "--receiver: not an address: '0x123'"),
    ],
)
def test_contribute_refuses_bad_input(pool, operator, args, message):
    nonce = operator.nonce
    refused(script(pool, "vault", "contribute", *args), message)
    assert operator.nonce == nonce
    assert pool.registry.ownerOf(GPU_OUTSIDE) == operator.address


def test_buy_gpu_pays_from_free_cash(invested, operator):
    free_cash, cash = invested.vault.free_cash(), invested.stablecoin.balanceOf(operator)

    result = script(invested, "vault", "buy-gpu", str(GPU_OUTSIDE), "--price", "1000")

    assert result.exit_code == 0, result.output
    assert invested.registry.ownerOf(GPU_OUTSIDE) == invested.vault.address
    assert invested.vault.free_cash() == free_cash - 1_000 * USDC
    assert invested.stablecoin.balanceOf(operator) == cash + 1_000 * USDC


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("29000", "USDC of collateral"),
        ("0", "--price: a GPU is not given away"),
        ("-1", "--price: not a non-negative decimal amount: '-1'"),
        ("1.0000001", "--price: '1.0000001' has more than 6 decimal places"),
    ],
)
def test_buy_gpu_refuses_bad_price(invested, operator, price, message):
    nonce = operator.nonce
    refused(script(invested, "vault", "buy-gpu", str(GPU_OUTSIDE), "--price", price), message)
    assert operator.nonce == nonce


def test_buy_gpu_beyond_free_cash(pool, operator):
    nonce = operator.nonce
    refused(
        script(pool, "vault", "buy-gpu", str(GPU_OUTSIDE), "--price", "100"),
        "--price 100.000000 USDC: the vault has 0.000000 USDC free",
    )
    assert operator.nonce == nonce
