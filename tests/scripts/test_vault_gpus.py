"""`ape run vault contribute|process-maturities|sync`: GPUs into the pool's GpuCollateral, and the
collateral kept current; every pre-check refuses before anything is sent."""

import ape
import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import (
    GPU_OUTSIDE,
    head_logs,
    line_value,
    refused,
    script,
    stale_reason,
    value_came_in,
    written_down_refusal,
)
from tests.utils.custody import attest
from tests.utils.registry import DAY, GpuStatus, make_spec
from tests.utils.vault import ENTRIES_WAIT, STALENESS_WINDOW, to_shares

NEWCOMER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9, not verified


def stale_day(registry, token_id: int) -> int:
    return (registry.terms(token_id).last_attested_at + STALENESS_WINDOW) // DAY * DAY


# CONTRIBUTE #


def test_contribute_mints_fractions_at_nav(deployed_pool, operator, chain):
    vault, collateral = deployed_pool.vault, deployed_pool.collateral
    free_cash, supply = vault.free_cash(), vault.totalSupply()
    fractions, nonce = vault.balanceOf(operator), operator.nonce

    result = script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 2  # approval for all, contribute
    assert deployed_pool.registry.ownerOf(GPU_OUTSIDE) == collateral.address
    assert deployed_pool.registry.isApprovedForAll(operator, collateral)
    head = chain.blocks.head
    (log,) = head_logs(chain, collateral.GpuContributed)
    assert log.value == value_came_in(
        collateral, deployed_pool.registry, GPU_OUTSIDE, head.timestamp
    )
    assert collateral.value_of(GPU_OUTSIDE) == line_value(
        deployed_pool.registry, GPU_OUTSIDE, head.timestamp
    )
    before = collateral.value() - log.value  # views read the head block: after the contribution
    assert log.shares == to_shares(log.value, free_cash + before, supply)
    assert (log.token_id, log.contributor, log.receiver) == (GPU_OUTSIDE, operator, operator)
    assert vault.balanceOf(operator) == fractions + log.shares
    assert collateral.position(GPU_OUTSIDE)[0] == 1
    assert collateral.schedule_state()[1] == 3
    assert (
        f"GPU {GPU_OUTSIDE} entered at {deployed_pool.cash(log.value)}: "
        f"{deployed_pool.fractions(log.shares)} minted" in result.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("1",), "GPU 1 is already held by the pool"),
        (("99",), "GPU 99 is not registered"),
        (("0",), "TOKEN: GPU ids start at 1"),
        (("x",), "TOKEN: Input should be a valid integer"),
        ((), "TOKEN: List should have at least 1 item"),
        ((str(GPU_OUTSIDE), str(GPU_OUTSIDE)), "TOKEN: a GPU is listed twice"),
        (
            (str(GPU_OUTSIDE), "--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold OPERATOR_ROLE on the "
            "GpuCollateral",
        ),
        (
            (str(GPU_OUTSIDE), "--receiver", NEWCOMER),
            f"receiver {NEWCOMER}: it is not a verified investor",
        ),
        ((str(GPU_OUTSIDE), "--receiver", "0x123"), "--receiver: not an address: '0x123'"),
    ],
)
def test_contribute_refuses_bad_input(deployed_pool, operator, args, message):
    nonce = operator.nonce
    refused(script(deployed_pool, "vault", "contribute", *args), message)
    assert operator.nonce == nonce
    assert deployed_pool.registry.ownerOf(GPU_OUTSIDE) == operator.address


def test_contribute_refuses_a_gpu_of_someone_else(deployed_pool, operator, other_investor):
    deployed_pool.registry.transferFrom(operator, other_investor, GPU_OUTSIDE, sender=operator)
    nonce = operator.nonce
    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        f"GPU {GPU_OUTSIDE} belongs to {other_investor.address}, not to the sender "
        f"{operator.address}",
    )
    assert operator.nonce == nonce


def test_contribute_refuses_a_gpu_not_active(deployed_pool, operator, custodian):
    deployed_pool.registry.set_status(GPU_OUTSIDE, GpuStatus.OFFLINE, sender=custodian)
    nonce = operator.nonce
    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        f"GPU {GPU_OUTSIDE} is OFFLINE; only ACTIVE GPUs can enter the pool",
    )
    assert operator.nonce == nonce


def test_contribute_refuses_a_stale_gpu(deployed_pool, operator, chain):
    stale = stale_day(deployed_pool.registry, GPU_OUTSIDE)
    chain.mine(timestamp=stale)
    nonce = operator.nonce
    attested = deployed_pool.registry.terms(GPU_OUTSIDE).last_attested_at
    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        f"GPU {GPU_OUTSIDE} was last attested on {format_time(attested)} UTC and went stale on "
        f"{format_time(stale)} UTC: the custodian must attest it first "
        f"(`ape run registry attest {GPU_OUTSIDE}`)",
    )
    assert operator.nonce == nonce


def test_contribute_waits_while_the_pools_gpus_are_written_down(
    deployed_pool, operator, custodian, chain
):
    """GPU 3 is fresh, but GPUs 1 and 2 in the pool went stale: fractions minted now would be
    priced at the written-down NAV. Refused, naming the attestation; then, attested, they return
    over the unlock period and the refusal names the day the ramp ends; from then on it enters."""
    registry, collateral = deployed_pool.registry, deployed_pool.collateral
    chain.mine(timestamp=stale_day(registry, 1) + DAY)
    attest(deployed_pool.attestor, [GPU_OUTSIDE])  # not held: fresh, no ramp
    # What the check spares the operator: the collateral refuses the same entry.
    with ape.reverts(ENTRIES_WAIT):
        collateral.contribute(GPU_OUTSIDE, operator, 0, sender=operator)
    nonce = operator.nonce

    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        written_down_refusal("contributing", stale_reason("1 2")),
    )

    attest(deployed_pool.attestor, [1, 2])
    ramp_end = collateral.position(1)[2]
    assert collateral.position(2)[2] == ramp_end
    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        written_down_refusal(
            "contributing",
            f"GPUs 1, 2 returning: the last ramp ends on {format_time(ramp_end)} UTC",
        ),
    )
    assert operator.nonce == nonce
    assert registry.ownerOf(GPU_OUTSIDE) == operator.address

    chain.mine(timestamp=ramp_end)
    result = script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert registry.ownerOf(GPU_OUTSIDE) == collateral.address
    (log,) = head_logs(chain, collateral.GpuContributed)
    assert log.value == value_came_in(
        collateral, registry, GPU_OUTSIDE, chain.blocks.head.timestamp
    )


def test_contribute_refuses_a_cost_above_what_a_pool_counts(
    deployed_pool, operator, custodian, chain
):
    spec = make_spec(acquired_at=chain.pending_timestamp - DAY, acquisition_cost=2**96 + 1)
    deployed_pool.registry.register(operator, [spec], sender=custodian)
    token_id = deployed_pool.registry.totalSupply()
    nonce = operator.nonce
    refused(
        script(deployed_pool, "vault", "contribute", str(token_id)),
        f"GPU {token_id} cost {2**96 + 1} base units, more than the 2**96 a pool counts",
    )
    assert operator.nonce == nonce


def test_contribute_while_paused(deployed_pool, operator, pauser):
    deployed_pool.vault.pause(sender=pauser)
    nonce = operator.nonce
    refused(
        script(deployed_pool, "vault", "contribute", str(GPU_OUTSIDE)),
        "the vault is paused: contributing is stopped until the admin unpauses it",
    )
    assert operator.nonce == nonce


# PROCESS-MATURITIES AND SYNC (their backlog paths: tests/scripts/test_vault_maturities.py) #


def test_process_maturities_with_nothing_due(deployed_pool, operator):
    nonce = operator.nonce
    refused(
        script(deployed_pool, "vault", "process-maturities"),
        "no maturities are due: nothing to process",
    )
    assert operator.nonce == nonce


def test_process_maturities_after_a_gpu_went_stale(deployed_pool, operator, chain):
    """The stale day of GPUs 1 and 2 is one node: due once the day has passed."""
    stale = stale_day(deployed_pool.registry, 1)
    chain.mine(timestamp=stale + 1)
    assert deployed_pool.collateral.pending() == 1
    nonce = operator.nonce

    result = script(deployed_pool, "vault", "process-maturities", "--max", "3")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 1
    (log,) = head_logs(chain, deployed_pool.collateral.ScheduleMatured)
    assert log.at == stale
    assert deployed_pool.collateral.pending() == 0
    assert deployed_pool.collateral.value() == 0
    assert "matured 1 due change(s) of the collateral's value; 0 still due" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max", "0"), "--max: Input should be greater than or equal to 1"),
        (("--max", "1025"), "--max: Input should be less than or equal to 1024"),
        (("--max", "many"), "--max: Input should be a valid integer"),
    ],
)
def test_process_maturities_refuses_bad_input(deployed_pool, operator, args, message):
    nonce = operator.nonce
    refused(script(deployed_pool, "vault", "process-maturities", *args), message)
    assert operator.nonce == nonce


@pytest.mark.parametrize(
    ("token_id", "message"),
    [
        (GPU_OUTSIDE, f"GPU {GPU_OUTSIDE} is not held by the pool"),
        (1, "GPU 1 is in line with the registry: nothing to sync"),
        (99, "GPU 99 is not registered"),
        ("0", "TOKEN: Input should be greater than or equal to 1"),
        ("one", "TOKEN: Input should be a valid integer"),
    ],
)
def test_sync_refuses_when_nothing_differs(deployed_pool, operator, token_id, message):
    nonce = operator.nonce
    refused(script(deployed_pool, "vault", "sync", str(token_id)), message)
    assert operator.nonce == nonce


def test_sync_refuses_an_impaired_gpu_already_out(deployed_pool, operator, appraiser):
    # The registry's hook took it out at once: the position already says so.
    deployed_pool.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    assert deployed_pool.collateral.position(1)[0] == 2
    nonce = operator.nonce
    refused(script(deployed_pool, "vault", "sync", "1"), "GPU 1 is in line with the registry")
    assert operator.nonce == nonce
