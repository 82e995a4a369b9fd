"""`ape run registry attest`: the custodian's attestations, in batches of up to 256, checked
first (known ids, not RETIRED); a GPU the pool holds keeps counting, or counts again over the
unlock period if it had gone stale."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, head_logs, refused, script
from tests.utils.registry import DAY, GpuStatus, make_spec
from tests.utils.vault import STALENESS_WINDOW


def stale_day(attested_at: int) -> int:
    return (attested_at + STALENESS_WINDOW) // DAY * DAY


def test_attest_a_gpu_outside_the_pool(deployed_pool, custodian, chain):
    nonce = custodian.nonce

    result = script(deployed_pool, "registry", "attest", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 1
    now = chain.blocks.head.timestamp
    (log,) = head_logs(chain, deployed_pool.registry.GpuAttested)
    assert (log.token_id, log.attested_at, log.custodian) == (GPU_OUTSIDE, now, custodian)
    assert deployed_pool.registry.terms(GPU_OUTSIDE).last_attested_at == now
    assert head_logs(chain, deployed_pool.collateral.GpuCounted) == []
    assert result.output.strip() == "attested 1 GPU(s) in 1 transaction(s)"


def test_attest_all_held_brings_stale_gpus_back(deployed_pool, custodian, chain):
    registry, collateral = deployed_pool.registry, deployed_pool.collateral
    chain.mine(timestamp=stale_day(registry.terms(1).last_attested_at) + DAY)
    assert not collateral.counts(1)

    result = script(deployed_pool, "registry", "attest", "--all-held")

    assert result.exit_code == 0, result.output
    now = chain.blocks.head.timestamp
    ramp_end, stale = -(-(now + 7 * DAY) // DAY) * DAY, stale_day(now)
    logs = head_logs(chain, collateral.GpuCounted)
    assert [(log.token_id, log.since, log.ramp_end, log.stale_at, log.value) for log in logs] == [
        (token_id, now, ramp_end, stale, 0) for token_id in GPUS_IN_VAULT
    ]
    assert all(collateral.counts(token_id) for token_id in GPUS_IN_VAULT)
    assert registry.terms(GPU_OUTSIDE).last_attested_at < now  # not the pool's: not attested
    text = " ".join(result.output.split())
    assert "attested 2 GPU(s) in 1 transaction(s)" in text
    for token_id in GPUS_IN_VAULT:
        assert (
            f"GPU {token_id} counts again: full value on {format_time(ramp_end)} UTC, stale from "
            f"{format_time(stale)} UTC"
        ) in text


def test_attest_a_fresh_held_gpu_moves_its_stale_day(deployed_pool, custodian, chain):
    chain.mine(timestamp=chain.pending_timestamp + 2 * DAY)

    result = script(deployed_pool, "registry", "attest", "1")

    assert result.exit_code == 0, result.output
    now = chain.blocks.head.timestamp
    (log,) = head_logs(chain, deployed_pool.collateral.GpuCounted)
    assert (log.token_id, log.ramp_end, log.stale_at) == (1, 0, stale_day(now))
    assert deployed_pool.collateral.position(1)[3] == stale_day(now)
    assert f"GPU 1 counts on, stale from {format_time(stale_day(now))} UTC" in result.output


def test_attest_in_batches_of_256(deployed_pool, custodian, operator, chain):
    acquired_at = chain.pending_timestamp - DAY
    for size in (50, 50, 50, 50, 50, 4):
        specs = [make_spec(acquired_at=acquired_at) for _ in range(size)]
        deployed_pool.registry.register(operator, specs, sender=custodian)
    assert deployed_pool.registry.totalSupply() == 257
    nonce = custodian.nonce

    result = script(deployed_pool, "registry", "attest", *map(str, range(1, 258)))

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 2
    head = chain.blocks.head.number
    logs = list(deployed_pool.registry.GpuAttested.range(head - 1, head + 1))
    assert [(log.block_number, log.token_id) for log in logs] == [
        *((head - 1, token_id) for token_id in range(1, 257)),
        (head, 257),
    ]
    assert "attested 257 GPU(s) in 2 transaction(s)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("99",), "GPU 99 is not registered (ids run from 1 to 3)"),
        (("0",), "IDS: GPU ids start at 1"),
        (("x",), "IDS: Input should be a valid integer"),
        (("1", "1"), "IDS: a GPU is listed twice"),
        ((), "give GPU ids or --all-held (one of the two)"),
        (("1", "--all-held"), "give GPU ids or --all-held (one of the two)"),
        (
            ("1", "--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold CUSTODIAN_ROLE on the "
            "registry",
        ),
    ],
)
def test_bad_attest_sends_nothing(deployed_pool, custodian, investor, args, message):
    nonces = custodian.nonce, investor.nonce
    refused(script(deployed_pool, "registry", "attest", *args), message)
    assert (custodian.nonce, investor.nonce) == nonces


def test_a_retired_gpu_is_not_attested(deployed_pool, custodian):
    deployed_pool.registry.set_status(GPU_OUTSIDE, GpuStatus.RETIRED, sender=custodian)
    nonce = custodian.nonce
    refused(
        script(deployed_pool, "registry", "attest", "1", str(GPU_OUTSIDE)),
        f"GPU {GPU_OUTSIDE} is RETIRED: a retired GPU is not attested",
    )
    assert custodian.nonce == nonce


def test_all_held_skips_retired_gpus(deployed_pool, custodian):
    for token_id in GPUS_IN_VAULT:
        deployed_pool.registry.set_status(token_id, GpuStatus.RETIRED, sender=custodian)
    nonce = custodian.nonce
    refused(
        script(deployed_pool, "registry", "attest", "--all-held"),
        "the pool holds no GPU to attest (none, or only RETIRED ones)",
    )
    assert custodian.nonce == nonce
