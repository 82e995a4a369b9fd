"""`ape run vault wind-down` (through the timelock, once, nothing sent on a refusal) and what `ape
run vault status` shows of a pool through arrears, marks, a default and its wind-down."""

from eth_utils import keccak

from gpu_rwa.types import format_time
from tests.scripts.utils import GPUS_IN_VAULT, refused, script, table_cells
from tests.utils.custody import attest
from tests.utils.governance import after_delay, govern
from tests.utils.registry import DAY, USDC

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # TEST::0
LEASE = 1
# The `leased` fixture's lease: 1,000 USDC every 30 days, 5 days' grace.
INSTALMENT = 1_000 * USDC
PERIOD = 30 * DAY
GRACE = 5 * DAY


def rows_of(output: str) -> dict[str, list[str]]:
    return {cells[0]: cells for cells in map(table_cells, output.splitlines()) if cells}


def test_wind_down_through_governance(deployed_pool, admin, operator, chain):
    """`vault wind-down` says in one line how to go through the timelock (the GpuCollateral's
    admin), whoever sends it; scheduled, waited for and executed, the pool winds down and `vault
    status` says so; a second wind-down is refused."""
    collateral = deployed_pool.collateral
    nonces = admin.nonce, operator.nonce

    for account, sender in (("TEST::0", ADMIN), ("TEST::1", operator.address)):
        refused(
            script(deployed_pool, "vault", "wind-down", "--account", account),
            f"the GpuCollateral's admin is the GovernanceTimelock, not {sender}: `ape run "
            "governance schedule GpuCollateral wind_down`, then `ape run governance execute ID` "
            "once the timelock's delay has passed",
        )
    assert (admin.nonce, operator.nonce) == nonces

    scheduled = script(deployed_pool, "governance", "schedule", "GpuCollateral", "wind_down")
    assert scheduled.exit_code == 0, scheduled.output
    operation = scheduled.output.split("as operation ")[1][:66]
    after_delay(chain)
    result = script(deployed_pool, "governance", "execute", operation)

    assert result.exit_code == 0, result.output
    assert f"executed operation {operation}: GpuCollateral.wind_down()" in result.output
    assert collateral.winding_down()
    status = script(deployed_pool, "vault", "status")
    assert status.exit_code == 0, status.output
    rows = rows_of(status.output)
    assert rows["winding down"][1].startswith("yes: no deposits or new leases")
    assert rows["entries (buy, contribute)"][1] == "closed for good: the pool is winding down"
    nonces = admin.nonce, operator.nonce
    refused(script(deployed_pool, "vault", "wind-down"), "the pool is already winding down")
    assert (admin.nonce, operator.nonce) == nonces


def test_buy_and_contribute_refused_in_wind_down(deployed_pool, admin, investor, operator):
    """The scripts' own pre-checks say so before anything is sent."""
    govern(deployed_pool, admin, "GpuCollateral", "wind_down")
    nonces = investor.nonce, operator.nonce

    bought = script(deployed_pool, "invest", "buy", "100", "--account", "TEST::7")
    contributed = script(deployed_pool, "vault", "contribute", "3")

    refused(bought, "the pool is winding down: buying is closed for good; redemptions stay open")
    refused(
        contributed,
        "the pool is winding down: contributing is closed for good; redemptions stay open",
    )
    assert (investor.nonce, operator.nonce) == nonces


def test_status_through_arrears_a_mark_and_a_default(leased, appraiser, lessee, attacker, chain):
    """Each GPU's mark (book value, when, default), its value and attestation, and the lease
    book: arrears (amount, days late) and the default."""
    pool = leased
    collateral, leases = pool.collateral, pool.leases
    start = leases.lease(LEASE).start
    mark = 20_000 * USDC
    marked = pool.appraisals.mark(1, mark, keccak(text="report 7"), sender=appraiser).timestamp

    def attest_at(day: int) -> None:
        # Both GPUs attested within the 30-day window keep counting.
        chain.pending_timestamp = start + day * DAY
        attest(pool.attestor, list(GPUS_IN_VAULT), holder=collateral.address)

    attest_at(20)
    chain.mine(timestamp=start + PERIOD + GRACE + 2 * DAY)

    result = script(pool, "vault", "status")

    assert result.exit_code == 0, result.output
    gpus = gpu_rows(result.output)
    assert gpus[1]["collateral value"] == pool.cash(collateral.value_of(1))
    assert gpus[1]["mark (book value, UTC)"] == f"{pool.cash(mark)} on {format_time(marked)}"
    assert gpus[2]["mark (book value, UTC)"] == "-"
    rows = rows_of(result.output)
    assert rows[str(LEASE)][6:] == [pool.cash(INSTALMENT), "7", "in arrears"]
    assert f"lease {LEASE}: 1 instalment(s) ({pool.cash(INSTALMENT)}) in arrears, 7 day(s)" in (
        result.output
    )

    for day in (40, 60, 85):
        attest_at(day)
    chain.pending_timestamp = start + PERIOD + leases.default_after() + 1
    defaulted = leases.declare_default(LEASE, sender=attacker).timestamp
    result = script(pool, "vault", "status")

    assert result.exit_code == 0, result.output
    gpus = gpu_rows(result.output)
    salvage = pool.registry.terms(2).salvage
    assert gpus[2]["mark (book value, UTC)"] == (
        f"{pool.cash(salvage)} on {format_time(defaulted)}, default"
    )
    assert rows_of(result.output)[str(LEASE)][-1] == "defaulted"
    assert f"lease {LEASE} defaulted on {format_time(defaulted)} UTC" in result.output


def gpu_rows(output: str) -> dict[int, dict[str, str]]:
    """The rows of the GPU table by id, each cell's wrapped lines joined, keyed by column."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "GPUs held by the pool" in line)
    body = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        body.append(line)
    divider = next(i for i, line in enumerate(body) if line.startswith("┡"))
    header = [table_cells(line.replace("┃", "│")) for line in body[:divider]]
    columns = [" ".join(filter(None, parts)) for parts in zip(*filter(None, header), strict=True)]
    rows: dict[int, list[list[str]]] = {}
    for line in body[divider + 1 :]:
        cells = table_cells(line)
        if not cells:
            continue
        if cells[0]:
            rows[int(cells[0])] = [[cell] for cell in cells]
        else:
            for parts, cell in zip(rows[max(rows)], cells, strict=True):
                parts.append(cell)
    return {
        token_id: {
            column: " ".join(p for p in parts if p)
            for column, parts in zip(columns, cells, strict=True)
        }
        for token_id, cells in rows.items()
    }
