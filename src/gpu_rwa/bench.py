"""The benchmark: every state-changing call measured from receipts on a fresh deployment.

Each scenario deploys what it needs, records gas into a GasReport and returns timing figures;
scripts/bench.py runs them all and writes reports/.

Every gas figure is the same from run to run (reports/gas.json is committed and its diff read):
`pin_chain_time` starts the chain at BENCH_EPOCH and moves it one second a block, so no figure
depends on the day or the second the bench runs (where a stale day or the end of a life falls on
the collateral's grid of UTC midnights, how many zero bytes a signature or a timestamp has in
calldata), nor on how long the machine takes between two blocks; the accounts it makes up are
derived from their names (`made_up_address`), not drawn at random.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ape import accounts, chain, project
from ape.api import ReceiptAPI
from eth_utils import keccak, to_checksum_address
from rich.console import Console

from gpu_rwa.chain import local_account
from gpu_rwa.config import load_deploy_config
from gpu_rwa.custody import attestation_message, sign_all
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.gas import GasReport, Target
from gpu_rwa.governance import encode_call, govern_now, load_governance
from gpu_rwa.inventory import InventoryEntry, InventoryRow
from gpu_rwa.manifest import read_manifest
from gpu_rwa.onboarding import (
    DEFAULT_VALID_HOURS,
    OnboardSignRequest,
    check_onboarding,
    sign_onboarding,
    submit_onboarding,
)
from gpu_rwa.permit import sign_permit
from gpu_rwa.registry import MAX_BATCH, STATUS_CODES, register_entries

DECIMALS = 6
LOCAL_CONFIG = Path("config/local.yaml")
# The chain time the benchmark starts at: 2030-01-01 12:00 UTC (midday: no step of a scenario
# lands exactly on a UTC midnight unless it means to).
BENCH_EPOCH = 1_893_499_200


def pin_chain_time() -> None:
    """Start the chain's clock at BENCH_EPOCH and advance it one second a block, whatever the wall
    clock does (Anvil: `evm_setTime` may go back, `anvil_setBlockTimestampInterval` fixes the
    step); `chain.pending_timestamp` jumps still move it on from there."""
    chain.provider.make_request("evm_setTime", [BENCH_EPOCH])
    chain.provider.make_request("anvil_setBlockTimestampInterval", [1])
    chain.mine()


def made_up_address(label: str) -> str:
    """An address no key is known for, the same in every run (a holder or controller the
    benchmark only needs as a destination): its zero bytes, and so the calldata's gas, fixed."""
    return to_checksum_address(keccak(text=f"gpu-rwa bench: {label}")[-20:])


def synthetic_inventory(count: int, prefix: str) -> list[InventoryEntry]:
    """`count` distinct GPUs acquired a year before the chain's current time."""
    acquired = datetime.fromtimestamp(chain.pending_timestamp, UTC) - timedelta(days=365)
    return [
        InventoryEntry(
            line=i + 2,
            row=InventoryRow(
                serial=f"{prefix}-{i:06d}",
                model="NVIDIA H100 SXM5 80GB",
                data_centre="Equinix DC11 Ashburn",
                acquisition_cost=Decimal("30000.00"),
                acquired_at=acquired,
                useful_life_years=Decimal(5),
                salvage_value=Decimal("3000.00"),
            ),
        )
        for i in range(count)
    ]


def bench_registry(report: GasReport, console: Console) -> dict[str, float]:
    admin, operator, custodian, appraiser = map(
        local_account, ("admin", "operator", "custodian", "appraiser")
    )
    holder = accounts.test_accounts[7]
    metadata = admin.deploy(project.GpuMetadata)
    registry = admin.deploy(project.GpuRegistry, metadata)
    report.figures["registry: deploy"] = registry.creation_metadata.receipt.gas_used
    report.record(
        "registry: grantRole",
        registry.grantRole(registry.CUSTODIAN_ROLE(), custodian, sender=admin),
    )
    registry.grantRole(registry.APPRAISER_ROLE(), appraiser, sender=admin)
    registry.grantRole(registry.LEASE_MANAGER_ROLE(), operator, sender=admin)

    for size in (1, 25, MAX_BATCH):
        specs = [e.row.to_spec(DECIMALS) for e in synthetic_inventory(size, f"B{size}")]
        receipt = registry.register(custodian, specs, sender=custodian)
        report.record(f"registry: register ({size} GPU{'s' if size > 1 else ''})", receipt)
        report.figures[f"registry: register, per GPU in a batch of {size}"] = (
            receipt.gas_used // size
        )

    attestor = _attestor(registry, admin)
    token = 1
    chain.pending_timestamp += 60
    report.record(
        "custody: submit (1 GPU, 1 signature)",
        submit_attestation(attestor, custodian.address, [token], [custodian]),
    )
    transitions = (
        ("ACTIVE", "OFFLINE", custodian),
        ("OFFLINE", "ACTIVE", custodian),
        ("ACTIVE", "LEASED", operator),
        ("LEASED", "ACTIVE", operator),
        ("ACTIVE", "IMPAIRED", appraiser),
        ("IMPAIRED", "ACTIVE", appraiser),
        ("ACTIVE", "RETIRED", custodian),
    )
    for previous, current, sender in transitions:
        report.record(
            f"registry: set_status {previous} -> {current}",
            registry.set_status(token, STATUS_CODES[current], sender=sender),
        )

    moved = 2
    report.record("registry: approve", registry.approve(holder, moved, sender=custodian))
    report.record(
        "registry: transferFrom", registry.transferFrom(custodian, holder, moved, sender=custodian)
    )
    report.record(
        "registry: safeTransferFrom",
        registry.safeTransferFrom(holder, custodian, moved, sender=holder),
    )
    report.record(
        "registry: setApprovalForAll", registry.setApprovalForAll(holder, True, sender=custodian)
    )
    report.record(
        "registry: revokeRole",
        registry.revokeRole(registry.APPRAISER_ROLE(), appraiser, sender=admin),
    )

    thousand = synthetic_inventory(1_000, "K")
    started = time.perf_counter()
    register_entries(
        registry, thousand, custodian.address, custodian, decimals=DECIMALS, console=console
    )
    seconds = time.perf_counter() - started
    console.print(f"registered 1,000 GPUs in {seconds:.1f} s (batches of {MAX_BATCH})")
    _bench_attestations(report, registry, attestor, admin, custodian.address)
    return {"register 1,000 GPUs, seconds": round(seconds, 2)}


def _attestor(registry, admin):
    """A CustodyAttestor for `registry` (one signature), holding its ATTESTER_ROLE."""
    attestor = admin.deploy(project.CustodyAttestor, registry, 1)
    registry.grantRole(registry.ATTESTER_ROLE(), attestor, sender=admin)
    return attestor


def submit_attestation(attestor, holder: str, token_ids: list[int], signers) -> ReceiptAPI:
    """`signers` attest `token_ids` of `holder` at the chain's time; the first one submits."""
    attested_at = chain.pending_timestamp
    message = attestation_message(chain.chain_id, attestor.address, token_ids, attested_at)
    signatures = sign_all(signers, message)
    return attestor.submit(holder, token_ids, attested_at, signatures, sender=signers[0])


# GPUs a custody batch of the benchmark attests; 2 of 3 custodians sign the quorum batch.
CUSTODY_BATCH = 100


def _bench_attestations(report: GasReport, registry, attestor, admin, holder: str) -> None:
    """A batch of CUSTODY_BATCH GPUs (none held by a pool) attested with 1 signature of 1, then,
    after the admin raised the threshold to 2 with 3 custodians, with 2 signatures of 3."""
    custodians = [local_account(role) for role in ("custodian", "operator", "appraiser")]
    for account in custodians[1:]:
        registry.grantRole(registry.CUSTODIAN_ROLE(), account, sender=admin)
    batches = {
        "1 of 1 signature": (custodians[:1], range(101, 101 + CUSTODY_BATCH)),
        "2 of 3 custodians": (custodians[:2], range(201, 201 + CUSTODY_BATCH)),
    }
    for quorum, (signers, token_ids) in batches.items():
        if len(signers) > 1:
            attestor.set_threshold(len(signers), sender=admin)
        chain.pending_timestamp += 60
        receipt = submit_attestation(attestor, holder, list(token_ids), signers)
        report.record(f"custody: submit ({CUSTODY_BATCH} GPUs, {quorum})", receipt)
        report.figures[f"custody: submit, per GPU in a batch of {CUSTODY_BATCH} ({quorum})"] = (
            receipt.gas_used // CUSTODY_BATCH
        )


# The issues' targets for the pool's hot paths (gas from receipts).
VAULT_TARGETS = {
    "vault: transfer after a payout": Target(60_000),
    "vault: claim": Target(60_000),
    "vault: buy (deposit, existing holder)": Target(100_000),
    "lease: pay instalment (1 holder)": Target(120_000),
    "lease: pay instalment (100 holders)": Target(120_000),
    "lease: pay instalment (1,000 holders)": Target(120_000),
    "collateral: contribute GPU": Target(200_000),
    "market: buy a GPU in (owner accepts the offer)": Target(200_000),
}
# The marginal cost of a request fulfilled must not grow along a batch: each request of 2-25 and
# of 26-50 within this tolerance of the other (bps).
FULFIL_FLAT_BPS = 500
FULFIL_BATCH = 50
HOLDER_STEPS = (1, 100, 1_000)
VERIFY_BATCH = 256
DAY = 86_400
# Due end-of-life days a flow matures itself (GpuCollateral's MAX_MATURE_STEPS).
MATURE_STEPS = 16


def _deploy_pool(console: Console, manifest_path: Path) -> dict:
    admin = local_account("admin")
    manifest = deploy_suite(load_deploy_config(LOCAL_CONFIG), admin, manifest_path, console)
    return {
        name: getattr(project, name).at(record.address)
        for name, record in manifest.contracts.items()
    }


def bench_vault(
    report: GasReport, console: Console, workdir: Path
) -> tuple[dict[str, float], dict]:
    """Every state-changing pool call, in steady state unless the name says otherwise, and
    pay_instalment at 1, 100 and 1,000 holders. Returns the timings and the deployed contracts."""
    report.targets.update(VAULT_TARGETS)

    def measure(name: str, send) -> None:
        # A later block for every figure: vesting and schedule state is rewritten once per block,
        # so a call sharing a block with the one before it would look cheaper than it is.
        chain.pending_timestamp += 60
        report.record(name, send())

    report.flat.append((tuple(f"lease: pay instalment ({_holders(n)})" for n in HOLDER_STEPS), 100))
    operator, custodian, appraiser, compliance, lessee = map(
        local_account, ("operator", "custodian", "appraiser", "compliance", "lessee")
    )
    investor, other = accounts.test_accounts[7], accounts.test_accounts[8]
    contracts = _deploy_pool(console, workdir / "bench.json")
    registry, identity, usdc = (
        contracts[n] for n in ("GpuRegistry", "IdentityRegistry", "MockUSDC")
    )
    vault, leases = contracts["CollateralVault"], contracts["LeaseManager"]
    collateral = contracts["GpuCollateral"]
    unit = 10**DECIMALS
    horizon = chain.pending_timestamp + 10 * 365 * DAY

    measure("identity: verify", lambda: identity.verify(operator, horizon, 840, sender=compliance))
    measure(
        "identity: self-onboarding (investor submits a signed verification)",
        lambda: _self_onboard(identity, compliance, investor),
    )
    identity.verify_batch([investor, other], horizon, 840, sender=compliance)
    for account in (investor, other, operator, lessee):
        usdc.faucet(1_000_000 * unit, sender=account)
        usdc.approve(vault, 2**256 - 1, sender=account)

    # The operator's contributions make it the pool's only holder. The GPUs of one batch share
    # their end-of-life and attestation days: a contribution after the first finds those
    # schedule days already in use (the steady state of a fleet brought in batch by batch).
    specs = [e.row.to_spec(DECIMALS) for e in synthetic_inventory(4, "V")]
    registry.register(operator, specs, sender=custodian)
    registry.setApprovalForAll(collateral, True, sender=operator)
    measure(
        "collateral: contribute GPU (first of the pool)",
        lambda: collateral.contribute(1, operator, 0, sender=operator),
    )
    measure(
        "collateral: contribute GPU", lambda: collateral.contribute(2, operator, 0, sender=operator)
    )
    measure(
        "lease: open (2 GPUs)",
        lambda: leases.open_lease(
            lessee, 10_000 * unit, 30 * DAY, 120, 5 * DAY, [1, 2], sender=operator
        ),
    )
    lease_id = 1
    measure(
        "lease: pay instalment (first ever)", lambda: leases.pay_instalment(lease_id, sender=lessee)
    )

    seconds: dict[str, float] = {}
    holders = 1
    for step in HOLDER_STEPS:
        if step > holders:
            started = time.perf_counter()
            _add_holders(vault, identity, compliance, other, holders, step - holders, horizon)
            seconds[f"add {step - holders} holders, seconds"] = round(
                time.perf_counter() - started, 2
            )
            holders = step
        chain.pending_timestamp += DAY
        measure(
            f"lease: pay instalment ({_holders(step)})",
            lambda: leases.pay_instalment(lease_id, sender=lessee),
        )

    measure(
        "vault: buy (deposit, first-time holder)",
        lambda: vault.deposit(100_000 * unit, investor, sender=investor),
    )
    measure(
        "vault: buy (deposit, existing holder)",
        lambda: vault.deposit(100_000 * unit, investor, sender=investor),
    )
    measure(
        "vault: buy (min out + deadline)",
        lambda: vault.buy(
            1_000 * unit, investor, 1, chain.pending_timestamp + 3_600, sender=investor
        ),
    )
    deadline = chain.pending_timestamp + 3_600
    v, r, s = sign_permit(usdc, other, vault.address, 1_000 * unit, deadline)
    measure(
        "vault: buy with permit (first-time holder)",
        lambda: vault.buy_with_permit(1_000 * unit, other, 1, deadline, v, r, s, sender=other),
    )
    _bench_gpu_purchase(measure, contracts, operator)
    _bench_gpu_sale(measure, contracts, operator, other)

    chain.pending_timestamp += 7 * DAY
    leases.pay_instalment(lease_id, sender=lessee)
    chain.pending_timestamp += 7 * DAY
    measure(
        "vault: transfer after a payout", lambda: vault.transfer(other, 10 * unit, sender=investor)
    )
    vault.approve(operator, 2**256 - 1, sender=investor)
    measure(
        "vault: transferFrom",
        lambda: vault.transferFrom(investor, other, 10 * unit, sender=operator),
    )
    measure("vault: claim", lambda: vault.claim(sender=investor))
    _bench_compliance(measure, contracts, workdir / "bench.json", compliance, investor, other, unit)
    measure(
        "vault: redeem", lambda: vault.redeem(1_000 * unit, investor, investor, sender=investor)
    )
    measure(
        "vault: sell (min out + deadline)",
        lambda: vault.sell(
            1_000 * unit, investor, 1, chain.pending_timestamp + 3_600, sender=investor
        ),
    )
    usdc.transfer(vault, 100 * unit, sender=other)
    measure("vault: skim a donation", lambda: vault.skim(sender=other))
    _bench_queue(measure, report, contracts, investor, horizon, console)
    _bench_registry_hooks(
        measure, registry, contracts["CustodyAttestor"], collateral, custodian, appraiser
    )
    _bench_appraisals(measure, contracts, appraiser)
    _bench_maturities(measure, contracts, operator, custodian, investor)
    _bench_default_sale_and_swap(measure, contracts, operator, custodian, lessee, investor)
    _bench_governance(measure, contracts)
    return seconds, contracts


def _bench_compliance(
    measure, contracts, manifest_path: Path, officer, investor, other, unit: int
) -> None:
    """The compliance desk: freezes, a transfer beside a partial freeze, a forced transfer, and a
    transfer in a pool that keeps a jurisdiction list (one more slot read: the list word)."""
    desk, vault = contracts["PoolCompliance"], contracts["CollateralVault"]
    reason = b"\x01" * 32
    measure("compliance: freeze an account", lambda: desk.freeze(other, reason, sender=officer))
    measure("compliance: unfreeze an account", lambda: desk.unfreeze(other, reason, sender=officer))
    measure(
        "compliance: freeze part of a holding",
        lambda: desk.set_frozen_tokens(investor, 100 * unit, reason, sender=officer),
    )
    measure(
        "vault: transfer beside a partial freeze",
        lambda: vault.transfer(other, 10 * unit, sender=investor),
    )
    measure(
        "compliance: forced transfer (frozen fractions)",
        lambda: desk.force_transfer(investor, other, 150 * unit, reason, sender=officer),
    )
    # The rules are the admin's: the timelock's (a block list keeping out one jurisdiction).
    # TEST::0 proposes and executes in config/local.yaml.
    gov, admin = load_governance(read_manifest(manifest_path)), local_account("admin")

    def govern(function: str, *args) -> None:
        govern_now(gov, admin, admin, encode_call(gov, "PoolCompliance", function, *args))

    govern("set_jurisdiction_mode", 2)
    govern("set_jurisdictions", [408], True)
    measure(
        "vault: transfer in a pool with a jurisdiction list",
        lambda: vault.transfer(other, 10 * unit, sender=investor),
    )
    govern("set_jurisdiction_mode", 0)


def _bench_gpu_purchase(measure, contracts, operator) -> None:
    """The pool buys GPU 3 from its owner through its GpuMarket: the operator offers, the owner
    accepts (here the owner is the operator itself; a third-party seller costs the same)."""
    market, registry = contracts["GpuMarket"], contracts["GpuRegistry"]
    rate = contracts["GpuCollateral"].ADVANCE_RATE_BPS()
    # Below the GPU's collateral value at any later block: book value only falls.
    price = registry.book_value(3) * rate // 10_000 * 9 // 10
    measure(
        "market: offer to buy a GPU",
        lambda: market.offer_gpu(3, price, chain.pending_timestamp + DAY, sender=operator),
    )
    measure(
        "market: buy a GPU in (owner accepts the offer)",
        lambda: market.sell_gpu(3, price, sender=operator),
    )


# What a buyer pays above the GPU's collateral value in the sale benchmarked (streamed to holders).
SALE_PREMIUM = 1_000 * 10**DECIMALS


def _bench_gpu_sale(measure, contracts, operator, buyer) -> None:
    """The pool sells GPU 4 (contributed first) through its GpuMarket: the operator lists it
    above its floor, a buyer (who approved the vault) takes it, paying in the same transaction;
    the premium is skimmed to holders in that transaction too."""
    market, collateral = contracts["GpuMarket"], contracts["GpuCollateral"]
    collateral.contribute(4, operator, 0, sender=operator)
    chain.pending_timestamp += 60
    price = market.floor(4) + SALE_PREMIUM
    contracts["MockUSDC"].approve(contracts["CollateralVault"], price, sender=buyer)
    measure(
        "market: list a GPU for sale",
        lambda: market.list_gpu(4, price, chain.pending_timestamp + DAY, sender=operator),
    )
    measure(
        "market: sell a GPU out (buyer pays; premium above its value streamed)",
        lambda: market.buy_gpu(4, price, sender=buyer),
    )


def _bench_queue(measure, report: GasReport, contracts, investor, horizon: int, console) -> None:
    """The RedemptionQueue: request, cancel, the claims, and fulfilment of 1 request and of
    FULFIL_BATCH, each a distinct controller (the investor requests for verified controllers),
    from the same queue of FULFIL_BATCH + 1 requests, restored between measures. A request costs
    the same wherever it sits in a batch: the marginal costs of requests 2-25 and 26-50 must agree
    within FULFIL_FLAT_BPS."""
    queue, identity = contracts["RedemptionQueue"], contracts["IdentityRegistry"]
    operator, compliance = local_account("operator"), local_account("compliance")
    shares = 100 * queue.min_request()

    def request(controller: str) -> ReceiptAPI:
        return queue.requestRedeem(shares, controller, investor, sender=investor)

    measure("queue: requestRedeem (empty queue)", lambda: request(investor.address))
    measure(
        "queue: requestRedeem (queue not empty, controller's second)",
        lambda: request(investor.address),
    )
    measure(
        "queue: cancelRedeemRequest",
        lambda: queue.cancelRedeemRequest(2, investor, sender=investor),
    )
    measure(
        "queue: claimCancelRedeemRequest",
        lambda: queue.claimCancelRedeemRequest(2, investor, investor, sender=investor),
    )
    measure("queue: fulfil (1 request, the only one)", lambda: queue.fulfil(1, sender=operator))
    measure(
        "queue: redeem (claim all)",
        lambda: queue.redeem(queue.maxRedeem(investor), investor, investor, sender=investor),
    )

    controllers = [made_up_address(f"controller {i}") for i in range(FULFIL_BATCH + 1)]
    identity.verify_batch(controllers, horizon, 840, sender=compliance)
    for controller in controllers[:-1]:
        request(controller)
    measure(
        "queue: requestRedeem (new controller, queue not empty)", lambda: request(controllers[-1])
    )
    queued = len(controllers)
    sizes = (1, FULFIL_BATCH // 2, FULFIL_BATCH)
    names = {size: f"queue: fulfil ({_requests(size)} of {queued} queued)" for size in sizes}
    for size, name in names.items():
        with chain.isolate():
            measure(name, lambda size=size: queue.fulfil(size, sender=operator))
    fulfil = {size: report.figures[name] for size, name in names.items()}
    half = FULFIL_BATCH // 2
    first = f"queue: fulfil, each request 2-{half} of a batch"
    second = f"queue: fulfil, each request {half + 1}-{FULFIL_BATCH} of a batch"
    report.figures[first] = (fulfil[half] - fulfil[1]) // (half - 1)
    report.figures[second] = (fulfil[FULFIL_BATCH] - fulfil[half]) // (FULFIL_BATCH - half)
    report.figures[f"queue: fulfil, per request in a batch of {FULFIL_BATCH}"] = (
        fulfil[FULFIL_BATCH] // FULFIL_BATCH
    )
    report.flat.append(((first, second), FULFIL_FLAT_BPS))
    low, high = sorted((report.figures[first], report.figures[second]))
    console.print(
        f"fulfil: 1 request {fulfil[1]:,} gas, {FULFIL_BATCH} requests {fulfil[FULFIL_BATCH]:,} "
        f"({fulfil[FULFIL_BATCH] // FULFIL_BATCH:,} a request); each request after the first "
        f"{report.figures[first]:,} (2-{half}) and {report.figures[second]:,} "
        f"({half + 1}-{FULFIL_BATCH}): {(high - low) * 100 / low:.2f}% apart "
        f"(at most {FULFIL_FLAT_BPS / 100:g}%)"
    )


def _requests(count: int) -> str:
    return f"{count} request{'s' if count > 1 else ''}"


def _bench_registry_hooks(measure, registry, attestor, collateral, custodian, appraiser) -> None:
    """What the registry's calls into a pool cost: attestations and status changes of held GPUs."""
    measure(
        "custody: submit (1 GPU held by a pool, 1 signature)",
        lambda: submit_attestation(attestor, collateral.address, [1], [custodian]),
    )
    measure(
        "custody: submit (3 GPUs held by a pool, 1 signature)",
        lambda: submit_attestation(attestor, collateral.address, [1, 2, 3], [custodian]),
    )
    measure(
        "registry: set_status IMPAIRED of a GPU held by a pool",
        lambda: registry.set_status(3, STATUS_CODES["IMPAIRED"], sender=appraiser),
    )
    measure(
        "registry: set_status ACTIVE of an impaired GPU held by a pool (returns gradually)",
        lambda: registry.set_status(3, STATUS_CODES["ACTIVE"], sender=appraiser),
    )


# The reason a benchmark mark records (a report's hash).
MARK_REASON = b"\x01" * 32


def _bench_appraisals(measure, contracts, appraiser) -> None:
    """The appraiser marks a counted GPU (GPU 2, leased) down to half where it stands (at once:
    its curve restarts from the mark), then up by half a step (it returns over the unlock
    period; the whole step would be refused a block later, where it stands having fallen), then
    settles it, and GPU 3 (restored from IMPAIRED to one step): entries reopen."""
    appraisals, collateral = contracts["GpuAppraisals"], contracts["GpuCollateral"]
    registry = contracts["GpuRegistry"]
    measure(
        "appraisals: mark down (a counted GPU)",
        lambda: appraisals.mark(2, collateral.book_of(2) // 2, MARK_REASON, sender=appraiser),
    )
    half_step = registry.book_value(2) * appraisals.MAX_MARK_STEP_BPS() // 10_000 // 2
    measure(
        "appraisals: mark up (a counted GPU, returns over the unlock period)",
        lambda: appraisals.mark(
            2, collateral.book_of(2) + half_step, MARK_REASON, sender=appraiser
        ),
    )
    measure(
        "appraisals: settle a mark (its write-down final, entries no longer held)",
        lambda: appraisals.settle(2, MARK_REASON, sender=appraiser),
    )
    appraisals.settle(3, MARK_REASON, sender=appraiser)


def _bench_maturities(measure, contracts, operator, custodian, investor) -> None:
    """A deposit that first matures MATURE_STEPS due end-of-life days (the most a flow does
    itself), and process_maturities per day: GPUs whose useful lives end on consecutive days."""
    registry, collateral = contracts["GpuRegistry"], contracts["GpuCollateral"]
    vault = contracts["CollateralVault"]
    unit = 10**DECIMALS
    # Only the end-of-life days below fall due: past GPU 3's return ramp, with every node so far
    # matured and the pool's earlier GPUs freshly attested.
    chain.pending_timestamp += collateral.UNLOCK_PERIOD() + DAY
    collateral.process_maturities(1_024, sender=investor)
    submit_attestation(contracts["CustodyAttestor"], collateral.address, [1, 2, 3], [custodian])
    now = chain.pending_timestamp
    first = registry.totalSupply() + 1
    lives = 2 * MATURE_STEPS
    specs = []
    for i in range(lives):
        spec = synthetic_inventory(1, f"EOL{i}")[0].row.to_spec(DECIMALS)
        # End of life on day i + 1 from now: acquired (life - (i + 1) days) ago.
        spec["acquired_at"] = now - spec["useful_life"] + (i + 1) * DAY
        specs.append(spec)
    registry.register(operator, specs, sender=custodian)
    for token_id in range(first, first + lives):
        collateral.contribute(token_id, operator, 0, sender=operator)
    # Just past the MATURE_STEPS-th end-of-life day (days fall at UTC midnights).
    chain.pending_timestamp = now // DAY * DAY + MATURE_STEPS * DAY
    chain.mine()
    assert collateral.pending() == MATURE_STEPS, collateral.pending()
    measure(
        f"vault: buy (deposit, {MATURE_STEPS} end-of-life days due)",
        lambda: vault.deposit(1_000 * unit, investor, sender=investor),
    )
    chain.pending_timestamp = now + (lives + 1) * DAY
    measure(
        f"collateral: process_maturities ({MATURE_STEPS} days)",
        lambda: collateral.process_maturities(MATURE_STEPS, sender=investor),
    )


def _self_onboard(identity, officer, investor) -> ReceiptAPI:
    """The officer signs the investor's verification (a year, under 840) and the investor, not
    verified before (as for `identity: verify`), submits it."""
    request = OnboardSignRequest.model_validate(
        {
            "ADDRESS": investor.address,
            "--jurisdiction": 840,
            "--expires": chain.pending_timestamp + 365 * DAY,
            "--valid-hours": DEFAULT_VALID_HOURS,
        }
    )
    onboarding = sign_onboarding(identity, officer, request)
    check_onboarding(identity, onboarding, Path("bench"))
    return submit_onboarding(identity, onboarding, investor)


def _holders(count: int) -> str:
    return f"{count:,} holder{'s' if count > 1 else ''}"


def _add_holders(vault, identity, compliance, funder, first: int, count: int, horizon: int) -> None:
    """`count` fresh verified holders (numbered from `first`), each bought in with one unit of
    stablecoin by `funder`."""
    holders = [made_up_address(f"holder {i}") for i in range(first, first + count)]
    for start in range(0, count, VERIFY_BATCH):
        identity.verify_batch(
            holders[start : start + VERIFY_BATCH], horizon, 840, sender=compliance
        )
    for holder in holders:
        vault.deposit(10**DECIMALS, holder, sender=funder)


# GPUs of the lease the benchmark declares in default.
DEFAULTED_GPUS = 4


def _bench_default_sale_and_swap(measure, contracts, operator, custodian, lessee, anyone) -> None:
    """A lease of DEFAULTED_GPUS fresh GPUs: one exchanged for a replacement of equal value (RMA:
    the failed one released, the replacement admitted), then the lease declared in default by
    anyone once it is default_after late (its GPUs, freshly attested, marked down at once); and a
    GPU in no lease listed at its floor and bought (GpuMarket.buy_gpu)."""
    registry, collateral = contracts["GpuRegistry"], contracts["GpuCollateral"]
    leases, market = contracts["LeaseManager"], contracts["GpuMarket"]
    # What the end-of-life scenario left due: no measure below matures it itself.
    collateral.process_maturities(1_024, sender=anyone)
    first = registry.totalSupply() + 1
    specs = [e.row.to_spec(DECIMALS) for e in synthetic_inventory(DEFAULTED_GPUS + 2, "D")]
    registry.register(operator, specs, sender=custodian)
    *leased, replacement, sold = range(first, first + len(specs))
    # Bought in for a unit of cash each (a purchase is not an entry: it does not wait for the
    # earlier scenarios' stale and returning GPUs, as a contribution would).
    for token_id in (*leased, sold):
        market.offer_gpu(token_id, 1, chain.pending_timestamp + DAY, sender=operator)
        market.sell_gpu(token_id, 1, sender=operator)
    receipt = leases.open_lease(
        lessee, 1_000 * 10**DECIMALS, 30 * DAY, 12, 5 * DAY, leased, sender=operator
    )
    lease_id = receipt.decode_logs(leases.LeaseOpened)[0].lease_id
    measure(
        "lease: swap GPU (RMA, a replacement of equal value)",
        lambda: leases.swap_gpu(lease_id, leased[0], replacement, sender=operator),
    )
    price = market.floor(sold)
    market.list_gpu(sold, price, chain.pending_timestamp + DAY, sender=operator)
    measure(
        "market: buy GPU (a listed GPU, at its floor)",
        lambda: market.buy_gpu(sold, price, sender=lessee),
    )
    lease = leases.lease(lease_id)
    chain.pending_timestamp = lease.start + lease.period + lease.default_after + 1
    submit_attestation(
        contracts["CustodyAttestor"],
        collateral.address,
        list(leases.lease_gpus(lease_id)),
        [custodian],
    )
    if collateral.pending():
        collateral.process_maturities(1_024, sender=anyone)
    measure(
        f"lease: declare default ({DEFAULTED_GPUS} GPUs, marked down)",
        lambda: leases.declare_default(lease_id, sender=anyone),
    )


def _bench_governance(measure, contracts) -> None:
    """An economic parameter changed through the GovernanceTimelock (the suite's admin): the fee
    scheduled by a proposer, then executed by an executor after the delay (TEST::0 is both in
    config/local.yaml)."""
    admin = local_account("admin")
    timelock, vault = contracts["GovernanceTimelock"], contracts["CollateralVault"]
    zero = b"\x00" * 32
    call = (vault.address, 0, vault.set_fee_bps.encode_input(500), zero, zero)
    delay = timelock.get_minimum_delay()
    measure(
        "governance: schedule (CollateralVault.set_fee_bps)",
        lambda: timelock.schedule(*call, delay, sender=admin),
    )
    chain.pending_timestamp += delay
    measure(
        "governance: execute (CollateralVault.set_fee_bps)",
        lambda: timelock.execute(*call, sender=admin),
    )
