"""`ape run appraise settle`: the appraiser makes a GPU's write-down final where it stands, so its
marks hold no entries (GpuCollateral's `held_down`) and it is never marked up again in this pool;
every refusal one line with nothing sent; `mark` and `show` after a settlement."""

import ape
import pytest
from eth_utils import keccak

from gpu_rwa.appraise import WHILE_IMPAIRED
from tests.scripts.utils import (
    GPU_OUTSIDE,
    cash,
    impaired_reason,
    last_receipt,
    marked_down,
    refused,
    script,
)
from tests.utils.appraisals import end_of_life, marked_line
from tests.utils.collateral import PRECISION, Terms
from tests.utils.registry import DAY, USDC, GpuStatus

REPORT = "write-down final: sold for parts, report 2026-131"
ATTACKER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9
SETTLED_MARK_UP = "appraisals: mark settled; no mark-up"
ALREADY_SETTLED = (
    "GPU 1's marks are already settled: its write-down is final and no mark of it holds entries"
)


def settle(kit, *args: str):
    return script(kit, "appraise", "settle", *args, "--reason", REPORT)


def holds(kit) -> tuple[int, int, bool]:
    """(held_down, written_down, entries_open) of the collateral."""
    collateral = kit.collateral
    return collateral.held_down(), collateral.written_down(), collateral.entries_open()


def test_settle_ends_the_hold_of_a_mark_below_the_line(deployed_pool, appraiser, chain):
    """A mark-down holds entries; the settlement re-marks GPU 1 where it stands on the mark's line
    (not rising: at once), records the settlement and opens entries."""
    kit = deployed_pool
    marked_at = marked_down(kit, appraiser, 10_000 * USDC)
    assert holds(kit) == (1, 0, False)
    nonce = appraiser.nonce

    result = settle(kit, "1")

    assert result.exit_code == 0, result.output
    assert appraiser.nonce == nonce + 1
    receipt = last_receipt(chain)
    (settled,) = kit.appraisals.MarkSettled.from_receipt(receipt)
    (revalued,) = kit.collateral.GpuRevalued.from_receipt(receipt)
    terms = Terms.of(kit.registry, 1)
    stands = (
        marked_line(10_000 * USDC, marked_at, terms.salvage, end_of_life(terms), receipt.timestamp)
        // PRECISION
    )
    assert (settled.token_id, settled.book_value, settled.reason, settled.appraiser) == (
        1,
        stands,
        keccak(text=REPORT),
        appraiser.address,
    )
    assert (revalued.token_id, revalued.book_value, revalued.previous, revalued.ramp_end) == (
        1,
        stands,
        stands,
        0,
    )
    assert kit.appraisals.settled(1)
    assert kit.collateral.appraisal(1)[:3] == (stands, receipt.timestamp, False)
    assert holds(kit) == (0, 0, True)
    value = kit.collateral.value_of(1)
    assert result.output.strip().splitlines() == [
        f"GPU 1's marks settled at {cash(stands)} of book value (where it stood): final, never "
        f"marked up again in this pool; collateral value now {cash(value)}",
        "entries (buy, contribute): open",
    ]


def test_settle_cuts_a_return_where_it_has_reached(deployed_pool, appraiser, chain):
    """Two days into the return of a mark-up, the settlement makes where the GPU has come back to
    its mark, at once: no ramp, nothing written down or held down."""
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    target = kit.collateral.book_of(1) + 2_000 * USDC
    up = kit.appraisals.mark(1, target, keccak(text="up"), sender=appraiser)
    chain.mine(timestamp=up.timestamp + 2 * DAY)
    assert holds(kit) == (1, 1, False)

    result = settle(kit, "1")

    assert result.exit_code == 0, result.output
    (settled,) = kit.appraisals.MarkSettled.from_receipt(last_receipt(chain))
    assert kit.collateral.book_of(1) == settled.book_value < target
    assert kit.collateral.position(1)[2] == 0
    assert holds(kit) == (0, 0, True)
    assert result.output.strip().splitlines()[-1] == "entries (buy, contribute): open"


def test_a_settled_gpu_is_never_marked_up_and_a_mark_down_holds_nothing(
    deployed_pool, appraiser, chain
):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    kit.appraisals.settle(1, keccak(text="final"), sender=appraiser)
    up = kit.collateral.book_of(1) + USDC
    # What the pre-check spares the appraiser: the contract refuses the mark-up.
    with ape.reverts(SETTLED_MARK_UP):
        kit.appraisals.mark(1, up, keccak(text="up"), sender=appraiser)
    nonce = appraiser.nonce

    refused(
        script(kit, "appraise", "mark", "1", str(up // USDC), "--reason", REPORT),
        "GPU 1's marks are settled: its write-down is final, it is never marked up again in this "
        "pool (a mark at most where it stands applies at once)",
    )
    assert appraiser.nonce == nonce

    result = script(kit, "appraise", "mark", "1", "8000", "--reason", REPORT)

    assert result.exit_code == 0, result.output
    (log,) = kit.appraisals.GpuMarked.from_receipt(last_receipt(chain))
    value = kit.collateral.value_of(1)
    # Final at once: below the line, yet no hold.
    assert result.output.strip() == (
        f"GPU 1 marked to {cash(8_000 * USDC)} (it stood at {cash(log.previous)}): at once, "
        f"collateral value now {cash(value)}"
    )
    assert holds(kit) == (0, 0, True)


def test_settling_an_impaired_gpu_leaves_its_impairment_holding(deployed_pool, appraiser, chain):
    """GPU 1 marked down and then impaired holds entries twice; the settlement ends the mark's
    hold, the impairment's stays (until restored or retired) and the output says so."""
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    kit.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    assert holds(kit) == (2, 0, False)

    result = settle(kit, "1")

    assert result.exit_code == 0, result.output
    (settled,) = kit.appraisals.MarkSettled.from_receipt(last_receipt(chain))
    assert holds(kit) == (1, 0, False)
    assert result.output.strip().splitlines() == [
        f"GPU 1's marks settled at {cash(settled.book_value)} of book value (where it stood): "
        f"final, never marked up again in this pool; collateral value now {cash(0)}; "
        f"{WHILE_IMPAIRED}",
        f"entries (buy, contribute): closed: {impaired_reason(1)}",
    ]
    # Settled and impaired: nothing left to settle, and the refusal says what still holds.
    nonce = appraiser.nonce
    refused(settle(kit, "1"), f"{ALREADY_SETTLED}; {WHILE_IMPAIRED}")
    assert appraiser.nonce == nonce


def test_a_restore_holds_a_settled_gpu_again_until_it_is_settled_again(
    deployed_pool, appraiser, chain
):
    """Restored from IMPAIRED, a settled GPU returns to one step of its line, held below it
    whatever the settlement (the restore's step mark); settling again ends that hold and cuts the
    return."""
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    kit.appraisals.settle(1, keccak(text="final"), sender=appraiser)
    kit.registry.set_status(1, GpuStatus.IMPAIRED, sender=appraiser)
    kit.registry.set_status(1, GpuStatus.ACTIVE, sender=appraiser)
    assert holds(kit) == (1, 1, False)
    lines = script(kit, "appraise", "show", "1").output.strip().splitlines()
    assert lines[-2:] == [
        "  settled: yes (final: no mark-up in this pool)",
        "  holds entries: yes: marked below its straight-line book value, until its marks are "
        "settled, or it is sold or retired",
    ]

    result = settle(kit, "1")

    assert result.exit_code == 0, result.output
    assert holds(kit) == (0, 0, True)
    assert kit.collateral.position(1)[2] == 0
    lines = script(kit, "appraise", "show", "1").output.strip().splitlines()
    assert lines[-1] == "  holds entries: no"


def test_settling_twice_is_refused(deployed_pool, appraiser):
    kit = deployed_pool
    kit.appraisals.settle(1, keccak(text="final"), sender=appraiser)
    nonce = appraiser.nonce

    refused(settle(kit, "1"), ALREADY_SETTLED)

    assert appraiser.nonce == nonce


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([str(GPU_OUTSIDE)], f"GPU {GPU_OUTSIDE} is not held by the pool"),
        (["99"], "GPU 99 is not registered"),
        (["0"], "ID: Input should be greater than or equal to 1"),
        (["one"], "ID: Input should be a valid integer"),
        (
            ["1", "--account", "TEST::9"],
            f"{ATTACKER} is not an appraiser: it does not hold APPRAISER_ROLE on the GpuRegistry",
        ),
    ],
)
def test_settle_refusals_send_nothing(deployed_pool, appraiser, args, message):
    nonce = appraiser.nonce
    refused(settle(deployed_pool, *args), message)
    assert appraiser.nonce == nonce
    assert not deployed_pool.appraisals.settled(1)


@pytest.mark.parametrize("reason", ["", "x" * 1_001])
def test_settle_reason_is_a_line_of_text(deployed_pool, appraiser, reason):
    nonce = appraiser.nonce
    result = script(deployed_pool, "appraise", "settle", "1", "--reason", reason)
    refused(result, "--reason: String should have")
    assert appraiser.nonce == nonce


def test_show_an_impaired_gpu(deployed_pool, appraiser):
    kit = deployed_pool
    kit.registry.set_status(2, GpuStatus.IMPAIRED, sender=appraiser)

    lines = script(kit, "appraise", "show", "2").output.strip().splitlines()

    assert lines[-2:] == [
        "  settled: no",
        "  holds entries: yes: impaired, until restored and counted again, retired or sold",
    ]
