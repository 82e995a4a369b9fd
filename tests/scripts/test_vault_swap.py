"""`ape run vault swap-gpu LEASE FAILED REPLACEMENT`: the operator's RMA swap of a leased GPU,
its pre-checks (each a line, nothing sent) and the value comparison computed as the contract
makes it (a mark on the failed GPU included)."""

import pytest
from eth_utils import keccak

from tests.scripts.utils import GPU_OUTSIDE, refused, script
from tests.utils.custody import attest
from tests.utils.registry import DAY, USDC, GpuStatus, make_spec
from tests.utils.vault import STALENESS_WINDOW

LEASE = 1
FAILED = 1


def test_swap_gpu(leased, operator, chain):
    pool = leased
    registry, collateral, leases = pool.registry, pool.collateral, pool.leases
    value_out = collateral.value_of(FAILED)
    nonce = operator.nonce

    result = script(pool, "vault", "swap-gpu", str(LEASE), str(FAILED), str(GPU_OUTSIDE))

    assert result.exit_code == 0, result.output
    # The approval of the replacement to the collateral, then the swap.
    assert operator.nonce == nonce + 2
    assert list(leases.lease_gpus(LEASE)) == [GPU_OUTSIDE, 2]
    assert registry.ownerOf(FAILED) == operator
    assert registry.ownerOf(GPU_OUTSIDE) == collateral
    assert registry.gpu(FAILED).status == GpuStatus.ACTIVE
    assert registry.gpu(GPU_OUTSIDE).status == GpuStatus.LEASED
    assert (leases.lease_of_gpu(FAILED), leases.lease_of_gpu(GPU_OUTSIDE)) == (0, LEASE)
    [log] = leases.GpuReplaced.range(chain.blocks.head.number, chain.blocks.head.number + 1)
    assert (log.failed, log.replacement) == (FAILED, GPU_OUTSIDE)
    # Same terms, same day: equal values, less a second of depreciation for the failed one.
    assert log.value_in >= log.value_out and value_out - log.value_out < USDC
    assert (
        f"GPU {GPU_OUTSIDE} replaces GPU {FAILED} in lease {LEASE}: "
        f"{pool.cash(log.value_in)} of collateral came in" in result.output
    )


def test_a_marked_down_gpu_takes_a_cheaper_replacement(
    leased, custodian, operator, appraiser, chain
):
    """The failed GPU's value is its mark's line, not its cost line: marked down to 5,000 USDC of
    book value, a 10,000 USDC GPU replaces it (refused before the mark)."""
    pool = leased
    spec = make_spec(acquired_at=chain.pending_timestamp - DAY, acquisition_cost=10_000 * USDC)
    tx = pool.registry.register(operator, [spec], sender=custodian)
    cheap = tx.decode_logs(pool.registry.GpuRegistered)[0].token_id
    args = ("vault", "swap-gpu", str(LEASE), str(FAILED), str(cheap))
    nonce = operator.nonce

    refused(script(pool, *args), f"GPU {cheap} is worth")
    assert operator.nonce == nonce
    pool.appraisals.mark(FAILED, 5_000 * USDC, keccak(text="RMA"), sender=appraiser)

    result = script(pool, *args)

    assert result.exit_code == 0, result.output
    assert pool.leases.lease_of_gpu(cheap) == LEASE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("9", "1", "3"), "no lease 9 (lease ids run from 1 to 1)"),
        (("1", "3", "1"), "GPU 3 is not in lease 1 (its GPUs: 1, 2)"),
        (("1", "1", "1"), "GPU 1 cannot replace itself"),
        (("1", "1", "2"), "GPU 2 is already leased (lease 1)"),
        (("1", "1", "99"), "GPU 99 is not registered"),
        (("1", "1", "x"), "REPLACEMENT: Input should be a valid integer"),
        (("0", "1", "3"), "LEASE: Input should be greater than or equal to 1"),
        (
            ("1", "1", "3", "--account", "TEST::7"),
            "does not hold OPERATOR_ROLE on the LeaseManager",
        ),
    ],
)
def test_swap_refused(leased, operator, investor, args, message):
    nonces = operator.nonce, investor.nonce

    refused(script(leased, "vault", "swap-gpu", *args), message)

    assert (operator.nonce, investor.nonce) == nonces


def test_swap_refused_for_a_replacement_that_cannot_come_in(
    leased, operator, custodian, investor, chain
):
    """Not the operator's, not ACTIVE, stale: one line each, nothing sent."""
    pool = leased
    registry = pool.registry

    def refused_unsent(message: str) -> None:
        nonce = operator.nonce
        refused(
            script(pool, "vault", "swap-gpu", str(LEASE), str(FAILED), str(GPU_OUTSIDE)), message
        )
        assert operator.nonce == nonce

    registry.transferFrom(operator, investor, GPU_OUTSIDE, sender=operator)
    refused_unsent(
        f"GPU {GPU_OUTSIDE} belongs to {investor.address}, not to the sender {operator.address}"
    )
    registry.transferFrom(investor, operator, GPU_OUTSIDE, sender=investor)
    registry.set_status(GPU_OUTSIDE, GpuStatus.OFFLINE, sender=custodian)
    refused_unsent(f"GPU {GPU_OUTSIDE} is OFFLINE; only ACTIVE GPUs can replace a leased GPU")
    registry.set_status(GPU_OUTSIDE, GpuStatus.ACTIVE, sender=custodian)
    stale = (registry.terms(GPU_OUTSIDE).last_attested_at + STALENESS_WINDOW) // DAY * DAY
    chain.pending_timestamp = stale - DAY
    attest(pool.attestor, [1, 2], holder=pool.collateral.address)
    chain.mine(timestamp=stale + 1)
    refused_unsent(f"GPU {GPU_OUTSIDE} was last attested on")
