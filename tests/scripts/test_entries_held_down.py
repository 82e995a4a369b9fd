"""The entry gate of `invest buy` and `vault contribute` while GPUs are held down: impaired, or
below their straight-line book value by a mark not settled (GpuCollateral's `held_down`). Each
refusal names the GPUs and what ends the hold, and sends nothing; the collateral refuses the same
entry; once the hold ends the entry goes through."""

import ape

from gpu_rwa.pool import HeldDown, _held_down_reasons
from gpu_rwa.types import format_time
from tests.scripts.utils import (
    GPU_OUTSIDE,
    below_line_reason,
    impaired_reason,
    marked_down,
    refused,
    script,
    stale_day,
    stale_reason,
    written_down_refusal,
)
from tests.utils.custody import attest
from tests.utils.registry import DAY, USDC, GpuStatus
from tests.utils.vault import ENTRIES_WAIT

REPORT = "write-down final"


def returning_reason(ids: str, ramp_end: int) -> str:
    listed = ids.replace(" ", ", ")
    gpus = f"GPUs {listed}" if " " in ids else f"GPU {ids}"
    return f"{gpus} returning: the last ramp ends on {format_time(ramp_end)} UTC"


def test_buy_waits_while_a_gpu_is_marked_below_its_line(deployed_pool, investor, appraiser):
    """A buyer at the marked-down price would keep a later mark-up: refused before anything is
    sent, naming the settlement and the mark-up; settled, the buy goes through."""
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    before = kit.stablecoin.balanceOf(investor), investor.nonce

    refused(
        script(kit, "invest", "buy", "10"),
        written_down_refusal("buying", below_line_reason("1")),
    )

    assert (kit.stablecoin.balanceOf(investor), investor.nonce) == before
    assert kit.vault.maxDeposit(investor) == kit.vault.maxMint(investor) == 0
    kit.stablecoin.approve(kit.vault, 10 * USDC, sender=investor)
    with ape.reverts(ENTRIES_WAIT):
        kit.vault.deposit(10 * USDC, investor, sender=investor)

    assert script(kit, "appraise", "settle", "1", "--reason", REPORT).exit_code == 0
    result = script(kit, "invest", "buy", "10")

    assert result.exit_code == 0, result.output
    assert kit.vault.balanceOf(investor) > 0


def test_contribute_waits_while_a_gpu_is_impaired_then_restored_below_its_line(
    deployed_pool, operator, appraiser, chain
):
    """Impaired, GPU 1 holds entries until restored; restored, it returns to one step of its line
    over the unlock period and holds them below that line after its return too, until the
    appraiser settles its mark; then the contribution enters."""
    kit = deployed_pool
    kit.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    with ape.reverts(ENTRIES_WAIT):
        kit.collateral.contribute(GPU_OUTSIDE, operator, 0, sender=operator)
    nonce = operator.nonce

    refused(
        script(kit, "vault", "contribute", str(GPU_OUTSIDE)),
        written_down_refusal("contributing", impaired_reason(1)),
    )

    kit.registry.set_status(1, GpuStatus.ACTIVE, sender=appraiser)
    ramp_end = kit.collateral.position(1)[2]
    refused(
        script(kit, "vault", "contribute", str(GPU_OUTSIDE)),
        written_down_refusal(
            "contributing", f"{returning_reason('1', ramp_end)}; {below_line_reason('1')}"
        ),
    )
    chain.mine(timestamp=ramp_end)
    refused(
        script(kit, "vault", "contribute", str(GPU_OUTSIDE)),
        written_down_refusal("contributing", below_line_reason("1")),
    )
    assert operator.nonce == nonce

    assert script(kit, "appraise", "settle", "1", "--reason", REPORT).exit_code == 0
    result = script(kit, "vault", "contribute", str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    assert kit.registry.ownerOf(GPU_OUTSIDE) == kit.collateral.address


def test_gate_names_a_restore_that_waits_for_an_attestation(
    deployed_pool, investor, appraiser, chain
):
    """Restored after its stale day, GPU 1 stays out (and holds entries) until the custodian
    attests it; attested with GPU 2 (stale, counted), both return, GPU 1 below its line."""
    kit = deployed_pool
    kit.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    chain.mine(timestamp=stale_day(kit.registry, 1) + DAY)
    kit.registry.set_status(1, GpuStatus.ACTIVE, sender=appraiser)
    assert kit.collateral.position(1)[0] == 2  # not counted: its attestation is stale
    before = investor.nonce

    refused(
        script(kit, "invest", "buy", "10"),
        written_down_refusal(
            "buying",
            f"{stale_reason('2')}; GPU 1 restored but stale: the custodian runs "
            "`ape run registry attest 1`",
        ),
    )

    attest(kit.attestor, [1, 2])
    ramp_end = kit.collateral.position(1)[2]
    refused(
        script(kit, "invest", "buy", "10"),
        written_down_refusal(
            "buying", f"{returning_reason('1 2', ramp_end)}; {below_line_reason('1')}"
        ),
    )
    assert investor.nonce == before


def test_held_down_reasons_name_several_gpus_and_what_ends_each_hold():
    """The gate's words for several GPUs of each kind, and for holds the views cannot name."""
    held = HeldDown(
        count=7, below_line=[1, 2], impaired=[3, 4], restored_stale=[5], restored_fresh=[6, 7]
    )

    assert _held_down_reasons(held) == [
        "GPUs 3, 4 impaired: the appraiser restores them on the registry, or they are retired or "
        "sold",
        "GPU 5 restored but stale: the custodian runs `ape run registry attest 5`",
        "GPUs 6, 7 restored, not counted yet: anyone runs `ape run vault sync ID` for each",
        below_line_reason("1 2"),
    ]
    assert _held_down_reasons(HeldDown(count=3, restored_fresh=[6])) == [
        "GPU 6 restored, not counted yet: anyone runs `ape run vault sync 6`",
        "2 more hold(s) counted by the collateral (`held_down`)",
    ]
