"""One rule for every amount of money typed or read from a file (`types.bounded_units`): the
stablecoin's decimals at most, and nothing above 2**96 base units (the contracts' bound on a GPU's
value), refused in one line with the same wording, nothing sent."""

import pytest

from gpu_rwa.types import MAX_MONEY, bounded_units, format_units
from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, balances, refused, script
from tests.utils.registry import USDC

# 1e30 stablecoin units: 1e36 base units of a 6-decimal stablecoin, above 2**96.
ABSURD = "1" + "0" * 30
TOO_PRECISE = "1000.1234567"
LARGEST = format_units(MAX_MONEY, 6).replace(",", "")
LESSEE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
LEASE_TERMS = ("--period-days", "30", "--instalments", "12", "--gpu", str(GPUS_IN_VAULT[0]))


def absurd(label: str) -> str:
    return f"{label}: '{ABSURD}' is absurdly large (at most {format_units(MAX_MONEY, 6)})"


def too_precise(label: str) -> str:
    return f"{label}: '{TOO_PRECISE}' has more than 6 decimal places"


# Each money input: the command with the amount in place of AMOUNT, and the option it names.
MONEY_INPUTS = {
    "invest buy": (("invest", "buy", "AMOUNT"), "AMOUNT"),
    "invest redeem --assets": (("invest", "redeem", "--assets", "AMOUNT"), "--assets"),
    "invest redeem --min-assets": (
        ("invest", "redeem", "1", "--min-assets", "AMOUNT"),
        "--min-assets",
    ),
    "invest faucet": (("invest", "faucet", "AMOUNT"), "AMOUNT"),
    "lease open --instalment": (
        ("lease", "open", "--lessee", LESSEE, "--instalment", "AMOUNT", *LEASE_TERMS),
        "--instalment",
    ),
    "lease recover": (("lease", "recover", "1", "AMOUNT"), "AMOUNT"),
    "vault offer-gpu --price": (
        ("vault", "offer-gpu", str(GPU_OUTSIDE), "--price", "AMOUNT"),
        "--price",
    ),
    "vault sell-gpu": (("vault", "sell-gpu", str(GPUS_IN_VAULT[0]), "AMOUNT"), "PRICE"),
    "appraise mark": (("appraise", "mark", "1", "AMOUNT", "--reason", "report 1"), "VALUE"),
    "appraise recovery": (("appraise", "recovery", "1", "AMOUNT", "--reason", "quote"), "VALUE"),
}


@pytest.mark.parametrize("amount", [ABSURD, TOO_PRECISE])
@pytest.mark.parametrize("command", sorted(MONEY_INPUTS))
def test_every_money_input_takes_the_same_bounds(
    deployed_pool, investor, operator, command, amount
):
    args, label = MONEY_INPUTS[command]
    before = balances(deployed_pool, investor, operator)

    result = script(deployed_pool, *(amount if arg == "AMOUNT" else arg for arg in args))

    refused(result, absurd(label) if amount == ABSURD else too_precise(label))
    assert balances(deployed_pool, investor, operator) == before


@pytest.mark.parametrize(
    ("cost", "message"),
    [(ABSURD, absurd("acquisition_cost")), (TOO_PRECISE, too_precise("acquisition_cost"))],
)
def test_an_inventory_cost_takes_the_same_bounds(deployed_pool, custodian, tmp_path, cost, message):
    inventory = tmp_path / "fleet.csv"
    inventory.write_text(
        "serial,model,data_centre,acquisition_cost,acquired_at,useful_life_years,salvage_value\n"
        "SN-OK,H100,DC1,30000,2025-01-01,5,0\n"
        f"SN-BIG,H100,DC1,{cost},2025-01-01,5,0\n"
    )
    supply, nonce = deployed_pool.registry.totalSupply(), custodian.nonce

    result = script(deployed_pool, "registry", "register", str(inventory))

    refused(result, f"{inventory}:3: {message} (nothing sent)")
    assert (deployed_pool.registry.totalSupply(), custodian.nonce) == (supply, nonce)


def test_the_largest_amount_is_taken_and_one_base_unit_more_is_not():
    assert bounded_units(LARGEST, 6) == MAX_MONEY
    assert bounded_units("0", 6, allow_zero=True) == 0
    with pytest.raises(ValueError, match=r"is absurdly large \(at most 79,228,162,514,264,"):
        bounded_units(LARGEST[:-1] + "7", 6)
    with pytest.raises(ValueError, match="must be more than 0"):
        bounded_units("0", 6)
    assert bounded_units("1.5", 6) == 3 * USDC // 2
