"""`ape run lease open|pay|status`: leases over the pool's GPUs, instalments to the wei,
pre-checks."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, refused, script, table_cells
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import STALENESS_WINDOW

LESSEE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # TEST::6
TERMS = (
    "--lessee", LESSEE, "--instalment", "10000", "--period-days", "30", "--instalments", "12",
    "--grace-days", "5",
)  # fmt: skip


def open_args(*gpus: int, **changes: str) -> list[str]:
    args = list(TERMS)
    for option, value in changes.items():
        args[args.index(f"--{option.replace('_', '-')}") + 1] = value
    for gpu in gpus:
        args += ["--gpu", str(gpu)]
    return args


def test_open_lease(deployed_pool, operator, chain):
    nonce = operator.nonce

    result = script(deployed_pool, "lease", "open", *open_args(*GPUS_IN_VAULT))

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    leases = deployed_pool.leases
    lease = leases.lease(1)
    assert (lease.lessee, lease.instalment, lease.period, lease.instalments, lease.grace) == (
        LESSEE,
        10_000 * USDC,
        30 * DAY,
        12,
        5 * DAY,
    )
    assert lease.start == chain.blocks.head.timestamp
    assert list(leases.lease_gpus(1)) == list(GPUS_IN_VAULT)
    for token_id in GPUS_IN_VAULT:
        assert leases.lease_of_gpu(token_id) == 1
        assert deployed_pool.registry.gpu(token_id).status == GpuStatus.LEASED
    assert "opened lease 1 to " + LESSEE in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            open_args(GPU_OUTSIDE),
            f"GPU {GPU_OUTSIDE} is not in the pool (contribute it or sell it to the pool first)",
        ),
        (open_args(99), "GPU 99 is not registered"),
        (open_args(1, 1), "--gpu: a GPU is listed twice"),
        (open_args(0), "--gpu: GPU ids start at 1"),
        (open_args(), "--gpu: List should have at least 1 item"),
        (open_args(1, lessee="0x123"), "--lessee: not an address: '0x123'"),
        (open_args(1, lessee="0x" + "00" * 20), "--lessee: the zero address cannot be a lessee"),
        (open_args(1, instalment="-1"), "--instalment: not a non-negative decimal amount"),
        (open_args(1, instalment="0"), "--instalment: must be more than 0"),
        (open_args(1, instalment="0.0000001"), "--instalment: '0.0000001' has more than 6"),
        (
            open_args(1, period_days="0"),
            "--period-days: Input should be greater than or equal to 1",
        ),
        (open_args(1, instalments="1201"), "--instalments: Input should be less than or equal to"),
        (open_args(1, grace_days="366"), "--grace-days: Input should be less than or equal to 365"),
        (
            [*open_args(1), "--account", "TEST::9"],
            "does not hold OPERATOR_ROLE on the LeaseManager",
        ),
    ],
)
def test_bad_lease_sends_nothing(deployed_pool, operator, attacker, args, message):
    nonces = operator.nonce, attacker.nonce
    refused(script(deployed_pool, "lease", "open", *args), message)
    assert (operator.nonce, attacker.nonce) == nonces
    assert deployed_pool.leases.lease_count() == 0


def test_leased_or_impaired_gpus_are_refused(leased, appraiser, operator):
    nonce = operator.nonce
    refused(script(leased, "lease", "open", *open_args(1)), "GPU 1 is already leased (lease 1)")
    # Impairing a leased GPU on the registry stops it counting at once, the first reason given.
    leased.registry.set_status(2, GpuStatus.IMPAIRED, sender=appraiser)
    refused(
        script(leased, "lease", "open", *open_args(2)),
        "GPU 2 no longer counts in the pool (impaired or retired)",
    )
    assert operator.nonce == nonce


def test_impaired_gpu_is_refused(deployed_pool, appraiser, operator):
    deployed_pool.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    nonce = operator.nonce
    refused(
        script(deployed_pool, "lease", "open", *open_args(1)),
        "GPU 1 no longer counts in the pool (impaired or retired)",
    )
    assert operator.nonce == nonce


def test_stale_gpu_is_refused(deployed_pool, operator, chain):
    stale = (deployed_pool.registry.terms(1).last_attested_at + STALENESS_WINDOW) // DAY * DAY
    chain.mine(timestamp=stale)
    nonce = operator.nonce
    refused(
        script(deployed_pool, "lease", "open", *open_args(1)),
        f"GPU 1's attestation went stale on {format_time(stale)} UTC: the custodian must attest "
        "it first (`ape run registry attest 1`)",
    )
    assert operator.nonce == nonce


def test_pay_instalments(leased, lessee):
    token, vault = leased.stablecoin, leased.vault
    cash, received, fees = token.balanceOf(lessee), vault.received(), vault.accrued_fees()
    nonce = lessee.nonce

    result = script(leased, "lease", "pay", "1", "--times", "2")

    assert result.exit_code == 0, result.output
    assert lessee.nonce == nonce + 3  # approve, two payments
    assert token.balanceOf(lessee) == cash - 2_000 * USDC
    assert vault.accrued_fees() == fees + 200 * USDC
    assert vault.received() == received + 1_800 * USDC
    assert token.allowance(lessee, vault) == 0
    assert leased.leases.lease(1).paid == 2
    assert "paid instalment 2 of 12 of lease 1: 1,000.000000 USDC (fee 100.000000 USDC)" in (
        result.output
    )


def test_pay_to_completion_frees_the_gpus(leased, lessee):
    result = script(leased, "lease", "pay", "1", "--times", "12")

    assert result.exit_code == 0, result.output
    assert leased.leases.lease(1).status == 2  # COMPLETED
    for token_id in GPUS_IN_VAULT:
        assert leased.leases.lease_of_gpu(token_id) == 0
        assert leased.registry.gpu(token_id).status == GpuStatus.ACTIVE
    refused(script(leased, "lease", "pay", "1"), "lease 1 is completed: all 12 instalments paid")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2",), "no lease 2 (lease ids run from 1 to 1)"),
        (("1", "--times", "13"), "--times 13: lease 1 has only 12 instalment(s) left to pay"),
        (("1", "--account", "TEST::9"), "less than the 1,000.000000 USDC to pay"),
    ],
)
def test_bad_payment_sends_nothing(leased, lessee, attacker, args, message):
    before = leased.stablecoin.balanceOf(lessee), lessee.nonce, attacker.nonce
    refused(script(leased, "lease", "pay", *args), message)
    assert (leased.stablecoin.balanceOf(lessee), lessee.nonce, attacker.nonce) == before
    assert leased.leases.lease(1).paid == 0


def test_status_shows_arrears(leased, chain):
    start = leased.leases.lease(1).start
    # Instalment 1 falls due at start + 30 days; past 5 days' grace it is in arrears.
    chain.mine(timestamp=start + 35 * DAY + 1)

    result = script(leased, "lease", "status")

    assert result.exit_code == 0, result.output
    rows = [cells for cells in map(table_cells, result.output.splitlines()) if cells]
    assert rows == [
        ["1", LESSEE, "1, 2", "1,000.000000 USDC", "0/12", rows[0][5], "1", "yes", "active"],
    ]


def test_status_of_an_unknown_lease(deployed_pool):
    refused(script(deployed_pool, "lease", "status", "1"), "no lease 1 (no lease is open yet)")
