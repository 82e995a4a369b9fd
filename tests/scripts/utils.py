"""Helpers of the script tests over the `deployed_pool` fixture (tests/scripts/conftest.py)."""

import json
from dataclasses import dataclass

from click.testing import Result
from eth_utils import keccak

from gpu_rwa.pool import Pool
from gpu_rwa.types import format_units
from tests.utils.registry import DAY, USDC
from tests.utils.scripts import run_script
from tests.utils.vault import ADVANCE_RATE_BPS, BPS, PRECISION, STALENESS_WINDOW

# What the `deployed_pool` fixture sets up.
INVESTOR_FUNDS = 100_000 * USDC
GPU_COST = 30_000 * USDC
GPUS_IN_VAULT = (1, 2)
GPU_OUTSIDE = 3
# TEST::1's private key: the signer a test puts in the environment ($GPU_RWA_CUSTODIAN_KEY,
# $GPU_RWA_COMPLIANCE_KEY) after granting it the role.
OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


@dataclass
class PoolKit:
    """The deployed pool (its attributes read through) and the manifest the scripts read."""

    pool: Pool
    manifest: str

    def __getattr__(self, name):
        return getattr(self.pool, name)


def script(kit: PoolKit, name: str, *args: str) -> Result:
    """`ape run <name> <args> --manifest <the pool's manifest>`."""
    return run_script(name, *args, "--manifest", kit.manifest)


def cash(amount: int) -> str:
    """Stablecoin base units as the scripts print them: `12,000.500000 USDC`."""
    return f"{format_units(amount, 6)} USDC"


def last_receipt(chain):
    """The receipt of the head block's (only) transaction."""
    (tx,) = chain.blocks.head.transactions
    return chain.provider.get_receipt(tx.txn_hash.hex())


def marked_down(kit: PoolKit, appraiser, value: int, token_id: int = 1) -> int:
    """GPU `token_id` marked down to `value` straight on the contract; returns the mark's time."""
    tx = kit.appraisals.mark(token_id, value, keccak(text="setup"), sender=appraiser)
    return tx.timestamp


def balances(kit: PoolKit, *accounts) -> list[tuple[int, int, int]]:
    """(stablecoin, fractions, nonce) of each account: what a refused command must not change."""
    return [(kit.stablecoin.balanceOf(a), kit.vault.balanceOf(a), a.nonce) for a in accounts]


def refused(result: Result, message: str) -> None:
    """A user mistake: exit 1, the message on one line, no traceback."""
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


def one_line(result: Result) -> str:
    """A command's output with rich's wrapping undone: its words joined by single spaces."""
    return " ".join(result.output.split())


def rewrite(path, change) -> None:
    """Edit a JSON file in place: `change(data)` mutates its parsed content."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def table_cells(line: str) -> list[str]:
    """The cells of one row of a rich table as printed (empty for borders and titles)."""
    if not line.startswith("│"):
        return []
    return [cell.strip() for cell in line.split("│")[1:-1]]


def stale_day(registry, token_id: int) -> int:
    """The UTC midnight from which `token_id` stops counting unless attested again."""
    return (registry.terms(token_id).last_attested_at + STALENESS_WINDOW) // DAY * DAY


def written_down_refusal(doing: str, reason: str) -> str:
    """The one line `invest buy` and `vault contribute` refuse with while GPUs are written down."""
    return f"{doing} waits while the pool's GPUs are written down ({reason}); redemptions stay open"


def stale_reason(ids: str) -> str:
    """The part of that line for stale GPUs `ids` ("1 2"), as the custodian's command takes them."""
    listed = ids.replace(" ", ", ")
    if " " in ids:
        return (
            f"GPUs {listed} stale: the custodian runs `ape run registry attest {ids}`, then they "
            "return over the 7-day unlock period"
        )
    return (
        f"GPU {ids} stale: the custodian runs `ape run registry attest {ids}`, then it returns "
        "over the 7-day unlock period"
    )


def below_line_reason(ids: str) -> str:
    """The entry gate's part for GPUs `ids` ("1 2") marked below their straight-line book value."""
    listed = ids.replace(" ", ", ")
    if " " in ids:
        return (
            f"GPUs {listed} marked below their straight-line book value: the appraiser settles "
            "their marks (`ape run appraise settle ID --reason TEXT` for each), or they are sold"
        )
    return (
        f"GPU {ids} marked below its straight-line book value: the appraiser settles its marks "
        f"(`ape run appraise settle {ids} --reason TEXT`), or it is sold"
    )


def impaired_reason(token_id: int) -> str:
    """The entry gate's part for an impaired GPU."""
    return (
        f"GPU {token_id} impaired: the appraiser restores it on the registry, or it is retired or "
        "sold"
    )


def scaled_line(registry, token_id: int, at: int) -> int:
    """Reference book value (in 1e18 units) of a GPU counted at full value at time `at`: the
    straight line from cost at acquisition to salvage at the end of its life rounded down to a
    UTC midnight, its slope rounded up; salvage from then on."""
    terms = registry.terms(token_id)
    end = (terms.acquired_at + terms.useful_life) // DAY * DAY
    if at >= end:
        return terms.salvage * PRECISION
    fall = -(-(terms.cost - terms.salvage) * PRECISION // (end - terms.acquired_at))
    return terms.cost * PRECISION - fall * (at - terms.acquired_at)


def line_value(registry, token_id: int, at: int, rate_bps: int = ADVANCE_RATE_BPS) -> int:
    """Reference collateral value of one GPU (`value_of`): its scaled line times the rate."""
    return scaled_line(registry, token_id, at) * rate_bps // (BPS * PRECISION)


def value_came_in(collateral, registry, token_id: int, at: int) -> int:
    """Reference collateral value a GPU that entered at `at` (the head block) added: the
    aggregate after it (its sums now, less a wei per counted GPU) minus the aggregate before."""
    scaled_after = collateral.intercept_sum() - collateral.slope_sum() * at
    scaled_before = scaled_after - scaled_line(registry, token_id, at)
    counted = collateral.schedule_state()[1]
    rate = collateral.ADVANCE_RATE_BPS()

    def aggregate(scaled: int, n: int) -> int:
        return max(scaled * rate // (BPS * PRECISION) - n, 0)

    return aggregate(scaled_after, counted) - aggregate(scaled_before, counted - 1)


def head_logs(chain, event) -> list:
    """The logs of `event` in the head block (what the script just sent)."""
    head = chain.blocks.head.number
    return list(event.range(head, head + 1))


def send_many(chain, sender, method, calls: list[tuple], gas: int = 2_000_000) -> None:
    """`method(*args, sender=sender)` for each args of `calls`, sent to the node directly (the
    test accounts are the node's own): a setup of dozens of transactions without ape's per-call
    round trips. Each must succeed."""
    web3 = chain.provider.web3
    to = method.contract.address
    hashes = [
        web3.eth.send_transaction(
            {"from": sender.address, "to": to, "data": method.encode_input(*args), "gas": gas}
        )
        for args in calls
    ]
    # Anvil mines each just after answering for it: on a busy machine a receipt can lag.
    for args, tx_hash in zip(calls, hashes, strict=True):
        assert web3.eth.wait_for_transaction_receipt(tx_hash).status == 1, args
