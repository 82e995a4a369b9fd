"""`ape run registry attest`: one custodian's visit in one step, signed (EIP-712) and submitted
through the CustodyAttestor, a batch per holder; every id checked first (known, not RETIRED,
last attested before now); a GPU the pool holds keeps counting, or counts again over the unlock
period if it had gone stale. Where a holder's GPUs take more than one signature it refers to
`ape run custody`."""

import pytest

from gpu_rwa.types import format_time
from tests.scripts.utils import GPU_OUTSIDE, GPUS_IN_VAULT, head_logs, refused, script
from tests.utils.governance import govern
from tests.utils.registry import DAY, GpuStatus, make_spec
from tests.utils.vault import STALENESS_WINDOW


def stale_day(attested_at: int) -> int:
    return (attested_at + STALENESS_WINDOW) // DAY * DAY


@pytest.fixture
def a_minute_later(deployed_pool, chain):
    """`deployed_pool` with a block mined a minute after the set-up's: an attestation must be
    newer than the registration, the GPUs' first attestation."""
    chain.mine(timestamp=chain.pending_timestamp + 60)
    return deployed_pool


def test_attest_a_gpu_outside_the_pool(a_minute_later, custodian, chain):
    pool = a_minute_later
    nonce = custodian.nonce

    result = script(pool, "registry", "attest", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 1
    (submitted,) = head_logs(chain, pool.attestor.AttestationSubmitted)
    at = submitted.attested_at
    # The chain's time when the command signed: at most its block's, not before the one before.
    assert chain.blocks[-2].timestamp <= at <= chain.blocks.head.timestamp
    assert (submitted.holder, list(submitted.signers)) == (
        pool.registry.ownerOf(GPU_OUTSIDE),
        [custodian.address],
    )
    (log,) = head_logs(chain, pool.registry.GpuAttested)
    assert (log.token_id, log.attested_at, log.custodian) == (GPU_OUTSIDE, at, pool.attestor)
    assert pool.registry.terms(GPU_OUTSIDE).last_attested_at == at
    assert head_logs(chain, pool.collateral.GpuCounted) == []
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


def test_attest_one_batch_per_holder(a_minute_later, custodian, operator, chain):
    """GPUs of the pool and of the operator in one command: one signed batch (a transaction)
    each, in the order their holders first appear."""
    pool = a_minute_later
    specs = [make_spec(acquired_at=chain.pending_timestamp - DAY) for _ in range(50)]
    pool.registry.register(operator, specs, sender=custodian)
    chain.mine(timestamp=chain.pending_timestamp + 60)
    nonce = custodian.nonce
    ids = [3, 1, *range(4, 54), 2]

    result = script(pool, "registry", "attest", *map(str, ids))

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 2
    head = chain.blocks.head.number
    submitted = list(pool.attestor.AttestationSubmitted.range(head - 1, head + 1))
    assert [(log.holder, log.gpus) for log in submitted] == [
        (operator.address, 51),
        (pool.collateral.address, 2),
    ]
    logs = list(pool.registry.GpuAttested.range(head - 1, head + 1))
    assert [log.token_id for log in logs] == [3, *range(4, 54), 1, 2]
    assert "attested 53 GPU(s) in 2 transaction(s)" in result.output


def test_attest_refers_to_custody_where_a_holder_takes_more(
    a_minute_later, admin, custodian, chain
):
    pool = a_minute_later
    govern(pool, admin, "CustodyAttestor", "set_pool_threshold", pool.collateral, 2)
    nonce = custodian.nonce

    refused(
        script(pool, "registry", "attest", "1", str(GPU_OUTSIDE)),
        f"attesting the GPUs of {pool.collateral.address} takes 2 custodians' signatures: use "
        "`ape run custody sign` (and `--add`), then `ape run custody submit`",
    )
    assert custodian.nonce == nonce


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
def test_bad_attest_sends_nothing(a_minute_later, custodian, investor, args, message):
    nonces = custodian.nonce, investor.nonce
    refused(script(a_minute_later, "registry", "attest", *args), message)
    assert (custodian.nonce, investor.nonce) == nonces


@pytest.mark.anvil_only("a block at an exact second: the same second as the last attestation")
def test_an_attestation_not_newer_sends_nothing(deployed_pool, custodian, chain):
    """Attested at this very second already (here by the test's own attestation): the next one
    would not be newer; nothing is sent."""
    chain.pending_timestamp += 60
    assert script(deployed_pool, "registry", "attest", "1").exit_code == 0
    at = deployed_pool.registry.terms(1).last_attested_at
    chain.pending_timestamp = at
    nonce = custodian.nonce

    refused(
        script(deployed_pool, "registry", "attest", "1"),
        f"GPU 1 was last attested at {format_time(at)} UTC (unix {at}): an attestation at "
        f"{format_time(at)} UTC (unix {at}) is not newer",
    )
    assert custodian.nonce == nonce


def test_a_retired_gpu_is_not_attested(a_minute_later, custodian):
    a_minute_later.registry.set_status(GPU_OUTSIDE, GpuStatus.RETIRED, sender=custodian)
    nonce = custodian.nonce
    refused(
        script(a_minute_later, "registry", "attest", "1", str(GPU_OUTSIDE)),
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
