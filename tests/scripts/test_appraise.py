"""`ape run appraise mark|recovery|show`: the appraiser's marks and recovery values through the
pool's GpuAppraisals, the reason hashed, every refusal one line with nothing sent (the largest
mark allowed and the end of a return named), a mark below the straight-line book value saying
entries wait, and `show`'s figures to the wei (`appraise settle`: test_appraise_settle.py)."""

import pytest
from eth_utils import keccak

from gpu_rwa.appraise import MARK_CHECK_MARGIN, UNTIL_SETTLED
from gpu_rwa.types import format_time, format_units
from tests.scripts.utils import GPU_OUTSIDE, cash, last_receipt, marked_down, refused, script
from tests.utils.appraisals import end_of_life, marked_line
from tests.utils.collateral import PRECISION, Terms
from tests.utils.registry import DAY, USDC
from tests.utils.vault import UNLOCK_PERIOD

REPORT = "Q4 2026 appraisal, report 2026-117"
ATTACKER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9


def test_mark_down(deployed_pool, appraiser, chain):
    kit = deployed_pool
    nonce = appraiser.nonce
    stood = kit.collateral.book_of(1)

    result = script(kit, "appraise", "mark", "1", "12000.5", "--reason", REPORT)

    assert result.exit_code == 0, result.output
    assert appraiser.nonce == nonce + 1
    receipt = last_receipt(chain)
    (log,) = kit.appraisals.GpuMarked.from_receipt(receipt)
    at = receipt.timestamp
    previous = log.previous
    assert stood - previous < USDC  # a second or two of depreciation
    assert (log.token_id, log.book_value, log.rising, log.reason, log.appraiser) == (
        1,
        12_000_500_000,
        False,
        keccak(text=REPORT),
        appraiser.address,
    )
    assert kit.collateral.appraisal(1) == (12_000_500_000, at, False, previous)
    value = kit.collateral.value_of(1)
    assert value == 9_600_400_000
    # Below its straight-line book value the mark holds entries (until marked up or settled).
    assert (kit.collateral.held_down(), kit.collateral.entries_open()) == (1, False)
    assert result.output.strip() == (
        f"GPU 1 marked to {cash(12_000_500_000)} (it stood at {cash(previous)}): at once, "
        f"collateral value now {cash(value)}; entries wait until its marks are settled, or it "
        "is sold or retired"
    )


def test_mark_up_within_the_step(deployed_pool, appraiser, chain):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    up = kit.collateral.book_of(1) + 1_000 * USDC

    result = script(
        kit, "appraise", "mark", "1", format_units(up, 6).replace(",", ""), "--reason", REPORT
    )

    assert result.exit_code == 0, result.output
    receipt = last_receipt(chain)
    (log,) = kit.appraisals.GpuMarked.from_receipt(receipt)
    assert (log.book_value, log.rising) == (up, True)
    ramp_end = -(-(receipt.timestamp + UNLOCK_PERIOD) // DAY) * DAY
    assert kit.collateral.position(1)[2] == ramp_end
    assert not kit.collateral.entries_open()
    # Still below its straight-line book value: held after the return too.
    assert kit.collateral.held_down() == 1
    assert result.output.strip() == (
        f"GPU 1 marked to {cash(up)} (it stood at {cash(log.previous)}): it returns by "
        f"{format_time(ramp_end)} UTC; entries wait until then, then {UNTIL_SETTLED}"
    )


@pytest.mark.anvil_only("the pending block's second pinned: the figure is the one for it")
def test_mark_up_above_the_step_names_the_largest_mark(deployed_pool, appraiser, chain):
    """The largest mark allowed for any block in the next ten minutes: where the GPU stands then
    (its mark's line) plus a quarter of its book value then, to the wei."""
    kit = deployed_pool
    at = marked_down(kit, appraiser, 10_000 * USDC)
    pending = chain.blocks.head.timestamp + 100
    chain.pending_timestamp = pending
    later = pending + MARK_CHECK_MARGIN
    terms = Terms.of(kit.registry, 1)
    stands = marked_line(10_000 * USDC, at, terms.salvage, end_of_life(terms), later) // PRECISION
    largest = stands + terms.book_value(later) * 2_500 // 10_000
    nonce = appraiser.nonce

    result = script(kit, "appraise", "mark", "1", "25000", "--reason", REPORT)

    refused(
        result,
        f"VALUE {cash(25_000 * USDC)}: above the step: GPU 1 may be marked up to at most "
        f"{cash(largest)} in the next 10 minutes (where it stands plus 25% of its book value; "
        "above that book value the mark is the book value)",
    )
    assert appraiser.nonce == nonce
    # That largest mark goes through.
    result = script(
        kit, "appraise", "mark", "1", format_units(largest, 6).replace(",", ""), "--reason", REPORT
    )
    assert result.exit_code == 0, result.output
    assert kit.collateral.appraisal(1)[0] == largest


def test_mark_above_the_book_value_puts_the_gpu_back_on_its_line(deployed_pool, appraiser, chain):
    """Marked 100 USDC below its line (entries held), GPU 1 is marked back up with a round value
    above its book value: the mark is the line in its block, and entries are no longer held."""
    kit = deployed_pool
    marked_down(kit, appraiser, kit.collateral.book_of(1) - 100 * USDC)
    assert kit.collateral.held_down() == 1
    nonce = appraiser.nonce

    result = script(kit, "appraise", "mark", "1", "30000", "--reason", REPORT)

    assert result.exit_code == 0, result.output
    assert appraiser.nonce == nonce + 1
    receipt = last_receipt(chain)
    [marked] = kit.appraisals.GpuMarked.from_receipt(receipt)
    book = kit.registry.book_value_at(1, receipt.timestamp)
    assert (marked.book_value, marked.rising) == (book, True)
    assert kit.collateral.appraisal(1)[:2] == (book, receipt.timestamp)
    assert kit.collateral.held_down() == 0


def test_mark_up_while_returning(deployed_pool, appraiser, chain):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    tx = kit.appraisals.mark(
        1, kit.collateral.book_of(1) + USDC, keccak(text="up"), sender=appraiser
    )
    ramp_end = kit.collateral.position(1)[2]
    assert ramp_end == -(-(tx.timestamp + UNLOCK_PERIOD) // DAY) * DAY
    nonce = appraiser.nonce
    result = script(kit, "appraise", "mark", "1", "11500", "--reason", REPORT)
    refused(
        result,
        f"GPU 1 is returning until {format_time(ramp_end)} UTC (an earlier mark up or a "
        "restore): a mark up waits until then",
    )
    assert appraiser.nonce == nonce
    # Down is still allowed, at once.
    result = script(kit, "appraise", "mark", "1", "5000", "--reason", REPORT)
    assert result.exit_code == 0, result.output
    assert kit.collateral.position(1)[2] == 0


def test_mark_up_while_stale(deployed_pool, appraiser, chain):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    stale = kit.collateral.position(1)[3]
    chain.mine(timestamp=stale + DAY)
    nonce = appraiser.nonce
    result = script(kit, "appraise", "mark", "1", "10500", "--reason", REPORT)
    refused(
        result,
        f"GPU 1 went stale on {format_time(stale)} UTC: a mark up waits until the custodian "
        "attests it (`ape run registry attest 1`)",
    )
    assert appraiser.nonce == nonce


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mark", str(GPU_OUTSIDE), "100"], f"GPU {GPU_OUTSIDE} is not held by the pool"),
        (["mark", "99", "100"], "GPU 99 is not registered"),
        (["mark", "0", "100"], "ID: Input should be greater than or equal to 1"),
        (["mark", "one", "100"], "ID: Input should be a valid integer"),
        (["mark", "1", "+5"], "VALUE: not a non-negative decimal amount: '+5'"),
        (["mark", "1", "12,000"], "VALUE: not a non-negative decimal amount: '12,000'"),
        (["mark", "1", "1e4"], "VALUE: not a non-negative decimal amount: '1e4'"),
        (["mark", "1", "0.0000001"], "VALUE: '0.0000001' has more than 6 decimal places"),
        (
            ["mark", "1", "100000000000000000000000"],
            "VALUE: '100000000000000000000000' is absurdly",
        ),
        (["recovery", "1", "100000000000000000000000"], "VALUE: '100000000000000000000000' is"),
        (["recovery", str(GPU_OUTSIDE), "100"], f"GPU {GPU_OUTSIDE} is not held by the pool"),
        (
            ["mark", "1", "100", "--account", "TEST::9"],
            f"{ATTACKER} is not an appraiser: it does not hold APPRAISER_ROLE on the GpuRegistry",
        ),
        (
            ["recovery", "1", "100", "--account", "TEST::9"],
            f"{ATTACKER} is not an appraiser: it does not hold APPRAISER_ROLE on the GpuRegistry",
        ),
    ],
)
def test_refusals_send_nothing(deployed_pool, appraiser, args, message):
    nonce = appraiser.nonce
    result = script(deployed_pool, "appraise", *args, "--reason", REPORT)
    refused(result, message)
    assert appraiser.nonce == nonce


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1_001])
def test_reason_is_a_line_of_text(deployed_pool, appraiser, reason):
    nonce = appraiser.nonce
    result = script(deployed_pool, "appraise", "mark", "1", "100", "--reason", reason)
    refused(result, "--reason: String should have")
    assert appraiser.nonce == nonce


def test_reason_is_required(deployed_pool):
    result = script(deployed_pool, "appraise", "mark", "1", "100")
    assert result.exit_code == 2
    assert "Missing option '--reason'" in result.output


def test_recovery(deployed_pool, appraiser, chain):
    kit = deployed_pool
    assert kit.appraisals.recovery_value(1) == (3_000 * USDC, False)

    result = script(kit, "appraise", "recovery", "1", "4500", "--reason", REPORT)

    assert result.exit_code == 0, result.output
    assert kit.appraisals.recovery_value(1) == (4_500 * USDC, True)
    (log,) = kit.appraisals.RecoveryValueSet.from_receipt(last_receipt(chain))
    assert (log.token_id, log.value, log.reason, log.appraiser) == (
        1,
        4_500 * USDC,
        keccak(text=REPORT),
        appraiser.address,
    )
    assert result.output.strip() == f"GPU 1's recovery value set to {cash(4_500 * USDC)}"


def test_show(deployed_pool, appraiser, chain):
    kit = deployed_pool
    marked_down(kit, appraiser, 10_000 * USDC)
    kit.appraisals.set_recovery_value(1, 4_500 * USDC, keccak(text="quote"), sender=appraiser)
    up = kit.appraisals.mark(
        1, kit.collateral.book_of(1) + USDC, keccak(text="up"), sender=appraiser
    )
    mark = kit.collateral.appraisal(1)[0]
    ramp_end = kit.collateral.position(1)[2]
    stale = kit.collateral.position(1)[3]
    chain.mine(timestamp=up.timestamp + DAY)

    result = script(kit, "appraise", "show", "1")

    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "GPU 1",
        f"  straight-line book value: {cash(kit.registry.book_value(1))}",
        f"  mark: {cash(mark)} on {format_time(up.timestamp)} UTC",
        f"  stands at: {cash(kit.collateral.book_of(1))}",
        f"  collateral value: {cash(kit.collateral.value_of(1))}",
        f"  recovery value: {cash(4_500 * USDC)}",
        "  defaulted: no",
        f"  counted: yes, stale from {format_time(stale)} UTC unless attested",
        f"  ramp end: {format_time(ramp_end)} UTC",
        "  settled: no",
        "  holds entries: yes: marked below its straight-line book value, until its marks are "
        "settled, or it is sold or retired",
    ]
    # The twin: never marked, no recovery value (salvage stands in), no ramp.
    result = script(kit, "appraise", "show", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[2] == "  mark: none (the registry's cost line)"
    assert lines[5] == f"  recovery value: {cash(3_000 * USDC)} (salvage: none set)"
    assert lines[8:] == ["  ramp end: -", "  settled: no", "  holds entries: no"]
    refused(script(kit, "appraise", "show", str(GPU_OUTSIDE)), f"GPU {GPU_OUTSIDE} is not held")
