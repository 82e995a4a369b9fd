"""A pool with more maturities due than a flow brings current (16): the flows refuse and name
`ape run vault process-maturities`, which catches up in steps; `vault sync` applies a return the
registry's hook deferred meanwhile; `registry attest` says when a return waits for them.

The module deploys a pool of its own (staleness window 365 days, so time can run 34 days without
any GPU going stale), built once for the module (ape reverts to it after each test): 33 GPUs whose
ends of life fall on the 33 UTC midnights ahead, GPU 34 (five years of life) counted too, GPU 35
the operator's, offered to the pool, and 10,000 USDC bought by the investor. Then the clock runs
34 days: 33 maturities are due.
"""

from pathlib import Path

import pytest

from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool
from gpu_rwa.types import format_time
from tests.scripts.utils import PoolKit, head_logs, refused, script, send_many, table_cells
from tests.utils.registry import DAY, USDC, GpuStatus, make_spec
from tests.utils.scripts import run_script
from tests.utils.vault import JURISDICTION, YEAR, fund

ENDING = 33
RETURNING = 34  # counted; impaired and restored by the tests
OFFERED = 35  # the operator's; offered to the pool
PENDING = (
    "the pool's collateral has more than 16 maturities due: run "
    "`ape run vault process-maturities` first"
)


@pytest.fixture(scope="module")
def backlog(
    tmp_path_factory,
    chain,
    operator,
    custodian,
    appraiser,  # every role the module uses, before the module's snapshot (no rebase)
    compliance,
    investor,
    other_investor,
) -> PoolKit:
    folder = tmp_path_factory.mktemp("backlog")
    config = folder / "config.yaml"
    config.write_text(
        Path("config/local.yaml").read_text().replace("staleness_days: 30", "staleness_days: 365")
    )
    manifest = folder / "local.json"
    result = run_script("deploy", "--manifest", str(manifest), "--config", str(config))
    assert result.exit_code == 0, result.output
    kit = PoolKit(pool=load_pool(read_manifest(manifest)), manifest=str(manifest))
    assert kit.collateral.STALENESS_WINDOW() == 365 * DAY

    now = chain.pending_timestamp
    today, acquired_at = now // DAY * DAY, now - 30 * DAY
    specs = [
        make_spec(acquired_at=acquired_at, useful_life=today + k * DAY + 3_600 - acquired_at)
        for k in range(1, ENDING + 1)
    ]
    specs += [make_spec(acquired_at=acquired_at) for _ in (RETURNING, OFFERED)]
    kit.registry.register(operator, specs, sender=custodian)
    kit.identity.verify_batch(
        [operator, investor, other_investor], now + 10 * YEAR, JURISDICTION, sender=compliance
    )
    kit.registry.setApprovalForAll(kit.collateral, True, sender=operator)
    contributions = [(token_id, operator.address, 0) for token_id in range(1, RETURNING + 1)]
    send_many(chain, operator, kit.collateral.contribute, contributions)
    fund(kit.stablecoin, investor, 10_000 * USDC)
    kit.stablecoin.approve(kit.vault, 10_000 * USDC, sender=investor)
    kit.vault.deposit(10_000 * USDC, investor, sender=investor)
    kit.market.offer_gpu(OFFERED, 1_000 * USDC, now + 60 * DAY, sender=operator)

    chain.mine(timestamp=today + (ENDING + 1) * DAY + 1)
    assert kit.collateral.pending() == 17  # the view counts to 17: "more than 16"
    return kit


def impaired_and_restored(kit, appraiser) -> None:
    """GPU 34 impaired (out at once) and restored: the hook matures 16 of the 33 due changes
    and, with 17 still due, defers the return."""
    kit.registry.set_status(RETURNING, GpuStatus.IMPAIRED, sender=appraiser)
    kit.registry.set_status(RETURNING, GpuStatus.ACTIVE, sender=appraiser)
    assert kit.collateral.position(RETURNING)[0] == 2
    assert kit.collateral.pending() == 17


def test_status_names_the_catching_up_call(backlog):
    result = script(backlog, "vault", "status", "--limit", "0")

    assert result.exit_code == 0, result.output
    rows = {cells[0]: cells[1] for cells in map(table_cells, result.output.splitlines()) if cells}
    assert rows["maturities due"] == "more than 16: run `ape run vault process-maturities`"
    assert rows["GPUs counted (stale incl.) / held"] == f"{RETURNING} / {RETURNING}"


@pytest.mark.parametrize(
    "args",
    [
        ("vault", "contribute", str(OFFERED)),
        ("vault", "accept-offer", str(OFFERED)),
        ("invest", "buy", "10"),
        ("invest", "redeem", "1"),
    ],
)
def test_flows_refuse_until_maturities_are_processed(backlog, operator, investor, args):
    nonces = operator.nonce, investor.nonce
    refused(script(backlog, *args), PENDING)
    assert (operator.nonce, investor.nonce) == nonces


def test_process_maturities_in_steps(backlog, operator, chain):
    today = chain.blocks.head.timestamp // DAY * DAY - (ENDING + 1) * DAY
    nonce = operator.nonce

    result = script(backlog, "vault", "process-maturities", "--max", "5")

    assert result.exit_code == 0, result.output
    assert [log.at for log in head_logs(chain, backlog.collateral.ScheduleMatured)] == [
        today + k * DAY for k in range(1, 6)
    ]
    assert "matured 5 due change(s) of the collateral's value; more than 16 still due" in (
        result.output
    )

    result = script(backlog, "vault", "process-maturities")

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 2
    assert [log.at for log in head_logs(chain, backlog.collateral.ScheduleMatured)] == [
        today + k * DAY for k in range(6, ENDING + 1)
    ]
    assert "matured 28 due change(s) of the collateral's value; 0 still due" in result.output
    assert backlog.collateral.pending() == 0
    assert backlog.collateral.schedule_state()[0] > chain.blocks.head.timestamp


def test_sync_applies_a_return_the_registry_deferred(backlog, operator, appraiser, chain):
    impaired_and_restored(backlog, appraiser)
    nonce = operator.nonce
    refused(script(backlog, "vault", "sync", str(RETURNING)), PENDING)
    assert operator.nonce == nonce
    assert script(backlog, "vault", "process-maturities").exit_code == 0

    result = script(backlog, "vault", "sync", str(RETURNING))

    assert result.exit_code == 0, result.output
    assert operator.nonce == nonce + 2
    now = chain.blocks.head.timestamp
    (log,) = head_logs(chain, backlog.collateral.GpuCounted)
    ramp_end = -(-(now + 7 * DAY) // DAY) * DAY
    stale_at = (backlog.registry.terms(RETURNING).last_attested_at + 365 * DAY) // DAY * DAY
    assert (log.token_id, log.since, log.ramp_end, log.stale_at, log.value) == (
        RETURNING,
        now,
        ramp_end,
        stale_at,
        0,  # the ramp starts at nothing: "up gradually"
    )
    assert tuple(backlog.collateral.position(RETURNING)) == (1, now, ramp_end, stale_at)
    assert (
        f"GPU {RETURNING} counts again at 0.000000 USDC now: full value on "
        f"{format_time(ramp_end)} UTC, stale from {format_time(stale_at)} UTC"
    ) in " ".join(result.output.split())


def test_buy_names_a_restore_that_waits_for_sync(backlog, investor, appraiser):
    """Maturities processed, GPU 34's deferred return still waits for `sync`: it holds entries
    (impaired until it counts again), and the refusal names the call."""
    impaired_and_restored(backlog, appraiser)
    assert script(backlog, "vault", "process-maturities").exit_code == 0
    nonce = investor.nonce

    refused(
        script(backlog, "invest", "buy", "10"),
        f"buying waits while the pool's GPUs are written down (GPU {RETURNING} restored, not "
        f"counted yet: anyone runs `ape run vault sync {RETURNING}`); redemptions stay open",
    )
    assert investor.nonce == nonce


def test_settle_refuses_until_maturities_are_processed(backlog, appraiser):
    """Settling a counted GPU changes its curve, which needs the schedule current."""
    nonce = appraiser.nonce
    refused(script(backlog, "appraise", "settle", "1", "--reason", "final"), PENDING)
    assert appraiser.nonce == nonce
    assert not backlog.appraisals.settled(1)


def test_attest_says_when_a_return_waits_for_maturities(backlog, appraiser, custodian):
    impaired_and_restored(backlog, appraiser)
    nonce = custodian.nonce

    result = script(backlog, "registry", "attest", str(RETURNING))

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 1
    # The attestation's hook matured 16 more and, one still due, deferred the return again.
    assert backlog.collateral.pending() == 1
    assert backlog.collateral.position(RETURNING)[0] == 2
    assert (
        f"GPU {RETURNING} counts again once maturities are processed: run `ape run vault "
        f"process-maturities`, then `ape run vault sync {RETURNING}`"
    ) in " ".join(result.output.split())
