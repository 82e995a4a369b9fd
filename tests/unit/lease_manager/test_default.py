"""LeaseManager.declare_default, close_lease, pay_recovery: the default boundary to the second, the
GPUs marked down at once through the pool's GpuAppraisals (recovery value, salvage by default,
never up), arrears frozen, the GPUs freed by the operator's close, recoveries to holders. A GPU
marked below its straight line by a default holds entries (`held_down`) until it is sold, settled
or marked back to its line."""

import ape
import pytest
from eth_utils import keccak

from tests.unit.lease_manager.conftest import GRACE, INSTALMENT, INSTALMENTS
from tests.utils.market import buy_gpu
from tests.utils.registry import USDC, YEAR, GpuStatus
from tests.utils.vault import (
    DAY,
    DEFAULT_AFTER,
    ENTRIES_WAIT,
    FEE_BPS,
    RevenueModel,
    fund,
    logs_of,
)

NOT_YET = "lease: not past default_after"
NOT_DEFAULTED = "lease: not defaulted"
DEFAULT_REASON = keccak(text="lease default")
SALVAGE = 3_000 * USDC  # make_spec's salvage value
ADVANCE = 8_000  # the pools' advance rate (bps)


def collateral_value(book: int) -> int:
    return book * ADVANCE // 10_000


@pytest.mark.anvil_only("a transaction at an exact second")
def test_declare_default_to_the_second(lease_book, registry, attacker, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    boundary = lease_book.due(1) + DEFAULT_AFTER
    chain.pending_timestamp = boundary
    with ape.reverts(NOT_YET):
        leases.declare_default(lease_id, sender=attacker)
    chain.pending_timestamp = boundary + 1

    tx = leases.declare_default(lease_id, sender=attacker)

    assert tx.timestamp == boundary + 1
    [log] = tx.decode_logs(leases.LeaseDefaulted)
    assert (log.lease_id, log.arrears_amount, log.instalments, log.days_late, log.caller) == (
        lease_id,
        2 * INSTALMENT,
        2,
        60,
        attacker,
    )
    lease = leases.lease(lease_id)
    assert (lease.status, lease.defaulted_at, lease.paid) == (4, boundary + 1, 0)
    for token_id in lease_book.gpu_ids:
        assert registry.gpu(token_id).status == GpuStatus.LEASED
        assert leases.lease_of_gpu(token_id) == lease_id


def test_arrears_freeze_at_the_default(defaulted, lessee, chain):
    kit, lease_id = defaulted.kit, defaulted.lease_id
    leases = kit.leases
    frozen = (2, 2 * INSTALMENT, defaulted.due(1), 60)
    assert tuple(leases.arrears(lease_id)) == frozen
    chain.mine(timestamp=defaulted.due(INSTALMENTS) + 300 * DAY)
    assert tuple(leases.arrears(lease_id)) == frozen
    assert leases.in_arrears(lease_id)
    assert leases.instalments_overdue(lease_id) == 2
    assert not leases.defaultable(lease_id)
    assert leases.next_due(lease_id) == 0
    for paying in (leases.pay_instalment, leases.cure):
        with ape.reverts("lease: not active"):
            paying(lease_id, sender=lessee)
    with ape.reverts("lease: not active"):
        leases.declare_default(lease_id, sender=lessee)


def test_default_marks_gpus_down_at_once(lease_book, registry, appraiser, attacker, chain):
    """To the appraiser's recovery value where one is set (never up: a recovery value above the
    book value leaves it where it is), to salvage otherwise; NAV falls in the same transaction.
    Every GPU now stands below its straight line and holds entries: the one left where it stood
    too, the collateral's line running a hair below the registry's (its day grid)."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    collateral, appraisals, vault = kit.collateral, kit.appraisals, kit.vault
    appraised, above, *plain = lease_book.gpu_ids
    appraisals.set_recovery_value(appraised, 5_000 * USDC, b"\x01" * 32, sender=appraiser)
    appraisals.set_recovery_value(above, 40_000 * USDC, b"\x02" * 32, sender=appraiser)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    books = {token_id: collateral.book_of(token_id) for token_id in lease_book.gpu_ids}
    nav = vault.totalAssets()

    tx = kit.leases.declare_default(lease_id, sender=attacker)

    marks = {log.token_id: log for log in logs_of(tx, appraisals, "GpuMarked")}
    assert sorted(marks) == sorted(lease_book.gpu_ids)
    # Where each stood in the default's block: what the views said a block earlier, less the
    # seconds of depreciation between (the node may put the default a second or two later).
    stood = {token_id: log.previous for token_id, log in marks.items()}
    elapsed = tx.timestamp - chain.blocks[tx.block_number - 1].timestamp
    for token_id, previous in stood.items():
        assert books[token_id] - elapsed * books[token_id] // YEAR <= previous <= books[token_id]
    targets = {appraised: 5_000 * USDC, above: stood[above], **{i: SALVAGE for i in plain}}
    for token_id, log in marks.items():
        assert (log.book_value, log.rising, log.reason, log.appraiser) == (
            targets[token_id],
            False,
            DEFAULT_REASON,
            kit.leases.address,
        )
        assert collateral.book_of(token_id) == targets[token_id]
        assert collateral.value_of(token_id) == collateral_value(targets[token_id])
    assert targets[above] < 40_000 * USDC
    # The aggregate drops by the marks in this block (one wei a counted GPU below the sum).
    values = sum(collateral_value(book) for book in targets.values())
    assert collateral.value() == values - len(targets)
    assert vault.totalAssets() == vault.free_cash() + values - len(targets) < nav
    assert books[above] < registry.book_value(above)
    assert (collateral.written_down(), collateral.held_down()) == (0, len(targets))
    assert not collateral.entries_open()


def test_defaulted_gpus_sold_in_wind_down_lift_their_holds(
    defaulted, registry, admin, operator, investor, attacker
):
    """The default holds entries, one hold a GPU (each marked down to salvage, below its line): a
    deposit is refused with the collateral's reason. The operator closes the lease, the admin
    winds the pool down and the GPUs are sold at their floors one by one: each sale takes its
    hold with it, the last leaves none (entries stay closed: the pool is winding down)."""
    kit, lease_id = defaulted.kit, defaulted.lease_id
    collateral = kit.collateral
    assert (collateral.written_down(), collateral.held_down()) == (0, len(defaulted.gpu_ids))
    fund(kit.token, investor, USDC)
    kit.token.approve(kit.vault, USDC, sender=investor)
    with ape.reverts(ENTRIES_WAIT):
        kit.vault.deposit(USDC, investor, sender=investor)
    kit.leases.close_lease(lease_id, sender=operator)
    collateral.wind_down(sender=admin)

    for sold, token_id in enumerate(defaulted.gpu_ids, start=1):
        buy_gpu(kit, operator, token_id, kit.market.floor(token_id), attacker)
        assert registry.ownerOf(token_id) == attacker.address
        assert collateral.held_down() == len(defaulted.gpu_ids) - sold

    assert (collateral.written_down(), collateral.held_down()) == (0, 0)
    assert collateral.winding_down() and not collateral.entries_open()


def test_default_while_paused(lease_book, pauser, attacker, chain):
    kit = lease_book.kit
    kit.vault.pause(sender=pauser)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    tx = kit.leases.declare_default(lease_book.lease_id, sender=attacker)
    assert tx.decode_logs(kit.leases.LeaseDefaulted)[0].instalments == 2


def test_declare_default_refused(lease_book, lessee, attacker, chain):
    """Before its time (an hour early, within grace, paid up), for an unknown or completed lease."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    with ape.reverts(NOT_YET):
        leases.declare_default(lease_id, sender=attacker)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER - 3_600)
    assert leases.in_arrears(lease_id)
    with ape.reverts(NOT_YET):
        leases.declare_default(lease_id, sender=attacker)
    for unknown in (0, lease_id + 1):
        with ape.reverts("lease: not active"):
            leases.declare_default(unknown, sender=attacker)
    for _ in range(INSTALMENTS):
        leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(INSTALMENTS) + DEFAULT_AFTER + 1)
    with ape.reverts("lease: not active"):
        leases.declare_default(lease_id, sender=attacker)


def test_default_of_a_lease_with_an_impaired_gpu(lease_book, registry, appraiser, attacker, chain):
    """An impaired GPU (uncounted) is marked too: its book value falls to salvage, its collateral
    value stays 0 until the appraiser restores it, and it stays IMPAIRED."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    impaired = lease_book.gpu_ids[0]
    registry.set_status(impaired, GpuStatus.IMPAIRED, sender=appraiser)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    tx = kit.leases.declare_default(lease_id, sender=attacker)
    assert len(logs_of(tx, kit.appraisals, "GpuMarked")) == len(lease_book.gpu_ids)
    assert kit.collateral.value_of(impaired) == 0
    assert registry.gpu(impaired).status == GpuStatus.IMPAIRED


def test_a_gpu_sold_from_the_lease_does_not_block_its_default(
    lease_book, registry, appraiser, operator, other_investor, attacker, chain
):
    """An impaired GPU of a lease can be sold meanwhile (it is not LEASED any more): the default
    marks the GPUs the pool still holds, and closing the lease leaves the sold one alone."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    sold, *held = lease_book.gpu_ids
    registry.set_status(sold, GpuStatus.IMPAIRED, sender=appraiser)
    kit.appraisals.set_recovery_value(sold, 1_000 * USDC, b"\x03" * 32, sender=appraiser)
    kit.market.list_gpu(sold, 1_000 * USDC, chain.pending_timestamp + DAY, sender=operator)
    fund(kit.token, other_investor, 1_000 * USDC)
    kit.token.approve(kit.vault, 1_000 * USDC, sender=other_investor)
    kit.market.buy_gpu(sold, 1_000 * USDC, sender=other_investor)
    assert registry.ownerOf(sold) == other_investor
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)

    tx = kit.leases.declare_default(lease_id, sender=attacker)

    assert sorted(log.token_id for log in logs_of(tx, kit.appraisals, "GpuMarked")) == held
    kit.leases.close_lease(lease_id, sender=operator)
    assert registry.gpu(sold).status == GpuStatus.IMPAIRED
    assert registry.ownerOf(sold) == other_investor
    for token_id in held:
        assert registry.gpu(token_id).status == GpuStatus.ACTIVE
    assert kit.leases.lease_of_gpu(sold) == 0


def test_close_lease_frees_the_gpus(defaulted, registry, operator, lessee, chain):
    kit, lease_id = defaulted.kit, defaulted.lease_id
    leases = kit.leases
    arrears = tuple(leases.arrears(lease_id))

    tx = leases.close_lease(lease_id, sender=operator)

    [log] = tx.decode_logs(leases.LeaseClosed)
    assert (log.lease_id, log.operator) == (lease_id, operator)
    changes = logs_of(tx, registry, "GpuStatusChanged")
    assert [(c.token_id, c.previous, c.current) for c in changes] == [
        (token_id, GpuStatus.LEASED, GpuStatus.ACTIVE) for token_id in defaulted.gpu_ids
    ]
    assert leases.lease(lease_id).status == 8  # CLOSED
    assert tuple(leases.arrears(lease_id)) == arrears
    for token_id in defaulted.gpu_ids:
        assert leases.lease_of_gpu(token_id) == 0
        assert registry.gpu(token_id).status == GpuStatus.ACTIVE
        # Marked down to salvage, still counted and fresh: leasable (or saleable) again.
        assert kit.collateral.counts(token_id)
    tx = leases.open_lease(
        lessee, INSTALMENT, 30 * DAY, 6, GRACE, defaulted.gpu_ids, sender=operator
    )
    assert tx.decode_logs(leases.LeaseOpened)[0].gpu_ids == defaulted.gpu_ids


def test_close_keeps_an_impaired_gpu_impaired(defaulted, registry, appraiser, operator):
    impaired, *rest = defaulted.gpu_ids
    registry.set_status(impaired, GpuStatus.IMPAIRED, sender=appraiser)
    defaulted.kit.leases.close_lease(defaulted.lease_id, sender=operator)
    assert registry.gpu(impaired).status == GpuStatus.IMPAIRED
    assert [registry.gpu(token_id).status for token_id in rest] == [GpuStatus.ACTIVE] * len(rest)


def test_close_lease_refused(lease_book, operator, lessee, attacker, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    for unknown in (0, lease_id + 1):
        with ape.reverts(NOT_DEFAULTED):
            leases.close_lease(unknown, sender=operator)
    with ape.reverts(NOT_DEFAULTED):
        leases.close_lease(lease_id, sender=operator)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    leases.declare_default(lease_id, sender=attacker)
    leases.close_lease(lease_id, sender=operator)
    with ape.reverts(NOT_DEFAULTED):
        leases.close_lease(lease_id, sender=operator)


def test_close_refused_for_a_completed_lease(lease_book, operator, lessee):
    leases = lease_book.kit.leases
    for _ in range(INSTALMENTS):
        leases.pay_instalment(lease_book.lease_id, sender=lessee)
    with ape.reverts(NOT_DEFAULTED):
        leases.close_lease(lease_book.lease_id, sender=operator)


@pytest.mark.parametrize("closed", [False, True], ids=["defaulted", "closed"])
def test_pay_recovery(defaulted, operator, lessee, closed):
    kit, lease_id = defaulted.kit, defaulted.lease_id
    vault, leases, token = kit.vault, kit.leases, kit.token
    if closed:
        leases.close_lease(lease_id, sender=operator)
    amount = 2_500 * USDC
    fee = amount * FEE_BPS // 10_000
    cash, paid_by, received = token.balanceOf(vault), token.balanceOf(lessee), vault.received()
    model = RevenueModel.read(vault)
    supply = vault.totalSupply()

    tx = leases.pay_recovery(lease_id, amount, sender=lessee)

    [log] = tx.decode_logs(leases.RecoveryPaid)
    assert (log.lease_id, log.payer, log.amount, log.fee) == (lease_id, lessee, amount, fee)
    [dist] = logs_of(tx, vault, "RevenueDistributed")
    rate, end, _ = model.distribute(
        amount - fee, supply, vault, vault.balanceOf(vault), tx.timestamp
    )
    assert (dist.lease_id, dist.payer, dist.amount, dist.fee) == (lease_id, lessee, amount, fee)
    assert (dist.rate, dist.vesting_end) == (rate, end)
    model.assert_matches(vault)
    assert token.balanceOf(vault) == cash + amount
    assert token.balanceOf(lessee) == paid_by - amount
    assert vault.received() == received + amount - fee
    leases.pay_recovery(lease_id, 1, sender=lessee)
    assert leases.lease(lease_id).recovered == amount + 1
    assert leases.lease(lease_id).status == (8 if closed else 4)


def test_pay_recovery_while_paused(defaulted, pauser, lessee):
    kit = defaulted.kit
    kit.vault.pause(sender=pauser)
    tx = kit.leases.pay_recovery(defaulted.lease_id, USDC, sender=lessee)
    assert logs_of(tx, kit.vault, "RevenueDistributed")[0].amount == USDC


def test_pay_recovery_refused(lease_book, lessee, attacker, chain):
    kit, lease_id = lease_book.kit, lease_book.lease_id
    leases = kit.leases
    for unknown in (0, lease_id + 1):
        with ape.reverts(NOT_DEFAULTED):
            leases.pay_recovery(unknown, USDC, sender=lessee)
    with ape.reverts(NOT_DEFAULTED):
        leases.pay_recovery(lease_id, USDC, sender=lessee)
    chain.mine(timestamp=lease_book.due(1) + DEFAULT_AFTER + DAY)
    leases.declare_default(lease_id, sender=attacker)
    with ape.reverts("revenue: zero amount"):
        leases.pay_recovery(lease_id, 0, sender=lessee)
    with ape.reverts("erc20: insufficient allowance"):
        leases.pay_recovery(lease_id, USDC, sender=attacker)
    assert leases.lease(lease_id).recovered == 0


def test_no_lease_opens_in_wind_down(lease_kit, admin, operator, lessee, free_gpu):
    gpus = [free_gpu()]
    lease_kit.collateral.wind_down(sender=admin)
    with ape.reverts("lease: pool winding down"):
        lease_kit.leases.open_lease(lessee, INSTALMENT, 30 * DAY, 12, GRACE, gpus, sender=operator)
    assert lease_kit.leases.lease_of_gpu(gpus[0]) == 0


def test_a_running_lease_goes_on_in_wind_down(lease_book, admin, lessee, attacker, chain):
    """Payments, cures and a default still go through while the pool winds down."""
    kit, lease_id = lease_book.kit, lease_book.lease_id
    kit.collateral.wind_down(sender=admin)
    kit.leases.pay_instalment(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(3) + GRACE + 1)
    kit.leases.cure(lease_id, sender=lessee)
    chain.mine(timestamp=lease_book.due(4) + DEFAULT_AFTER + 1)
    kit.leases.declare_default(lease_id, sender=attacker)
    assert kit.leases.lease(lease_id).status == 4
