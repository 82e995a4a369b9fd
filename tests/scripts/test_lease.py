"""`ape run lease open|pay|cure|default|close|recover|status`: leases over the pool's GPUs,
instalments, cures and recoveries to the wei, defaults, pre-checks."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, refused, script, table_cells
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import STALENESS_WINDOW

LESSEE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # TEST::6
ARREAR = "1,000.000000 USDC"
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
        (open_args(1, grace_days="365"), "--grace-days: Input should be less than or equal to 364"),
        (
            open_args(1, grace_days="60"),
            "--grace-days 60: must be below the pool's default_after of 60 days",
        ),
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
        ["1", LESSEE, "1, 2", "1,000.000000 USDC", "0/12", rows[0][5], ARREAR, "5", "in arrears"],
    ]
    assert (
        "lease 1: 1 instalment(s) (1,000.000000 USDC) in arrears, 5 day(s) late; it may be "
        f"declared in default after {format_time(start + 90 * DAY)} UTC unless cured "
        "(`ape run lease cure 1`)"
    ) in result.output


def test_status_of_an_unknown_lease(deployed_pool):
    refused(script(deployed_pool, "lease", "status", "1"), "no lease 1 (no lease is open yet)")


def _defaulted(kit, chain, attacker) -> int:
    """Lease 1 declared in default 91 days in (instalments 1 and 2 in arrears, the first 61 days
    late); returns its start."""
    start = kit.leases.lease(1).start
    chain.mine(timestamp=start + 91 * DAY)
    kit.leases.declare_default(1, sender=attacker)
    return start


def test_cure(leased, lessee, chain):
    start = leased.leases.lease(1).start
    # Instalments 1 and 2 (due on days 30 and 60) are past their 5 days' grace.
    chain.mine(timestamp=start + 65 * DAY + 1)
    token, vault = leased.stablecoin, leased.vault
    cash, fees, nonce = token.balanceOf(lessee), vault.accrued_fees(), lessee.nonce

    result = script(leased, "lease", "cure", "1")

    assert result.exit_code == 0, result.output
    assert lessee.nonce == nonce + 2  # approve, cure
    assert token.balanceOf(lessee) == cash - 2_000 * USDC
    assert vault.accrued_fees() == fees + 200 * USDC
    assert leased.leases.lease(1).paid == 2
    assert not leased.leases.in_arrears(1)
    assert token.allowance(lessee, vault) == 0
    assert (
        "cured lease 1: paid 2 instalment(s) in arrears, 2,000.000000 USDC (fee 200.000000 USDC)"
    ) in result.output


def test_bad_cure_sends_nothing(leased, lessee, attacker, chain):
    start = leased.leases.lease(1).start
    nonces = lessee.nonce, attacker.nonce
    refused(
        script(leased, "lease", "cure", "1"),
        f"lease 1 has nothing in arrears (next instalment due {format_time(start + 30 * DAY)} "
        "UTC); pay ahead with `ape run lease pay 1`",
    )
    refused(script(leased, "lease", "cure", "2"), "no lease 2 (lease ids run from 1 to 1)")
    chain.mine(timestamp=start + 35 * DAY + 1)
    refused(
        script(leased, "lease", "cure", "1", "--account", "TEST::9"),
        "holds 0.000000 USDC, less than the 1,000.000000 USDC to pay",
    )
    assert (lessee.nonce, attacker.nonce) == nonces
    assert leased.leases.lease(1).paid == 0


def test_default(leased, operator, chain):
    start = leased.leases.lease(1).start
    chain.mine(timestamp=start + 91 * DAY)
    collateral = leased.collateral
    before, nonce = collateral.value(), operator.nonce

    result = script(leased, "lease", "default", "1")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    lease = leased.leases.lease(1)
    assert lease.status == 4  # DEFAULTED
    for token_id in GPUS_IN_VAULT:
        assert leased.registry.gpu(token_id).status == GpuStatus.LEASED
    assert (
        "lease 1 declared in default: 2 instalment(s) (2,000.000000 USDC) in arrears, 61 day(s) "
        f"late; GPUs 1, 2 marked down: the pool's collateral value went from "
        f"{leased.cash(before)} to {leased.cash(collateral.value())}"
    ) in result.output


def test_default_refused_before_its_time(leased, operator, attacker, chain):
    start = leased.leases.lease(1).start
    nonce = operator.nonce
    refused(
        script(leased, "lease", "default", "1"),
        f"lease 1 cannot be declared in default before {format_time(start + 90 * DAY + 1)} UTC: "
        f"nothing is in arrears (next instalment due {format_time(start + 30 * DAY)} UTC), and "
        "its default_after is 60 days",
    )
    chain.mine(timestamp=start + 35 * DAY + 1)
    refused(
        script(leased, "lease", "default", "1"),
        f"lease 1 cannot be declared in default before {format_time(start + 90 * DAY + 1)} UTC: "
        f"its oldest unpaid instalment, due {format_time(start + 30 * DAY)} UTC, is 5 day(s) "
        "late, and its default_after is 60 days",
    )
    assert operator.nonce == nonce
    _defaulted(leased, chain, attacker)
    refused(
        script(leased, "lease", "default", "1"),
        f"lease 1 is defaulted (declared in default on {format_time(start + 91 * DAY)} UTC): "
        "recoveries go through `ape run lease recover 1 AMOUNT`",
    )
    assert operator.nonce == nonce


def test_status_of_a_defaulted_lease(leased, attacker, chain):
    start = _defaulted(leased, chain, attacker)

    result = script(leased, "lease", "status", "1")

    assert result.exit_code == 0, result.output
    rows = [cells for cells in map(table_cells, result.output.splitlines()) if cells]
    assert rows == [
        ["1", LESSEE, "1, 2", ARREAR, "0/12", "-", "2,000.000000 USDC", "61", "defaulted"],
    ]
    assert (
        f"lease 1 defaulted on {format_time(start + 91 * DAY)} UTC with 2 instalment(s) "
        "(2,000.000000 USDC) in arrears, 61 day(s) late; recovered 0.000000 USDC; the operator "
        "closes it with `ape run lease close 1`"
    ) in result.output


def test_status_of_a_defaultable_lease(leased, chain):
    start = leased.leases.lease(1).start
    chain.mine(timestamp=start + 90 * DAY + 1)

    result = script(leased, "lease", "status")

    assert result.exit_code == 0, result.output
    rows = [cells for cells in map(table_cells, result.output.splitlines()) if cells]
    assert rows[0][6:] == ["2,000.000000 USDC", "60", "defaultable"]
    assert (
        "lease 1: 2 instalment(s) (2,000.000000 USDC) in arrears, 60 day(s) late; anyone may "
        "declare it in default (`ape run lease default 1`) unless it is cured first "
        "(`ape run lease cure 1`)"
    ) in result.output


def test_pay_after_default_is_refused(leased, lessee, attacker, chain):
    start = _defaulted(leased, chain, attacker)
    nonce = lessee.nonce
    for command in ("pay", "cure"):
        refused(
            script(leased, "lease", command, "1"),
            f"lease 1 is defaulted (declared in default on {format_time(start + 91 * DAY)} UTC)",
        )
    assert lessee.nonce == nonce


def test_close(leased, operator, attacker, chain):
    _defaulted(leased, chain, attacker)
    nonce = operator.nonce

    result = script(leased, "lease", "close", "1")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    assert leased.leases.lease(1).status == 8  # CLOSED
    for token_id in GPUS_IN_VAULT:
        assert leased.leases.lease_of_gpu(token_id) == 0
        assert leased.registry.gpu(token_id).status == GpuStatus.ACTIVE
    assert "closed lease 1: its GPUs are free (1 ACTIVE, 2 ACTIVE)" in result.output
    status = script(leased, "lease", "status", "1")
    rows = [cells for cells in map(table_cells, status.output.splitlines()) if cells]
    assert rows[0][6:] == ["2,000.000000 USDC", "61", "closed"]
    assert "recovered 0.000000 USDC; its GPUs are free" in status.output
    refused(
        script(leased, "lease", "close", "1"),
        "lease 1: only a defaulted lease can be closed; it is closed already",
    )


def test_bad_close_sends_nothing(leased, operator, attacker):
    nonces = operator.nonce, attacker.nonce
    refused(
        script(leased, "lease", "close", "1"),
        "lease 1: only a defaulted lease can be closed; it is active (`ape run lease default 1` "
        "once it may be)",
    )
    refused(
        script(leased, "lease", "close", "1", "--account", "TEST::9"),
        "does not hold OPERATOR_ROLE on the LeaseManager",
    )
    refused(script(leased, "lease", "close", "5"), "no lease 5 (lease ids run from 1 to 1)")
    assert (operator.nonce, attacker.nonce) == nonces


def test_recover(leased, lessee, attacker, chain):
    _defaulted(leased, chain, attacker)
    token, vault = leased.stablecoin, leased.vault
    cash, fees, received, nonce = (
        token.balanceOf(lessee),
        vault.accrued_fees(),
        vault.received(),
        lessee.nonce,
    )

    result = script(leased, "lease", "recover", "1", "2500")

    assert result.exit_code == 0, result.output
    assert lessee.nonce == nonce + 2  # approve, pay_recovery
    assert token.balanceOf(lessee) == cash - 2_500 * USDC
    assert vault.accrued_fees() == fees + 250 * USDC
    assert vault.received() == received + 2_250 * USDC
    assert leased.leases.lease(1).recovered == 2_500 * USDC
    assert (
        "recovered 2,500.000000 USDC on lease 1 (fee 250.000000 USDC); recovered in all: "
        "2,500.000000 USDC"
    ) in result.output
    assert "recovered 2,500.000000 USDC; the operator closes it" in (
        script(leased, "lease", "status").output
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "AMOUNT: must be more than 0"),
        ("1e3", "AMOUNT: not a non-negative decimal amount: '1e3'"),
        ("1.0000001", "AMOUNT: '1.0000001' has more than 6"),
        ("20000.000001", "less than the 20,000.000001 USDC to pay"),
    ],
)
def test_bad_recovery_sends_nothing(leased, lessee, attacker, chain, amount, message):
    _defaulted(leased, chain, attacker)
    nonce = lessee.nonce
    refused(script(leased, "lease", "recover", "1", amount), message)
    assert lessee.nonce == nonce
    assert leased.leases.lease(1).recovered == 0


def test_recovery_needs_a_default(leased, lessee):
    nonce = lessee.nonce
    refused(
        script(leased, "lease", "recover", "1", "100"),
        "lease 1 is active: recoveries are for a defaulted lease (instalments go through "
        "`ape run lease pay 1`)",
    )
    assert lessee.nonce == nonce
