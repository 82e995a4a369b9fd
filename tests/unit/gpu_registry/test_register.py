"""register(): minting, stored metadata, events, validation and access."""

import ape
import pytest

from tests.utils.registry import (
    DAY,
    MAX_BATCH,
    MAX_UINT40,
    MAX_UINT128,
    MISSING_ROLE,
    ROLE_FIXTURES,
    GpuStatus,
    make_spec,
    serial_hash,
)

ZERO_ADDRESS = "0x" + "00" * 20


@pytest.fixture
def acquired_at(chain):
    return chain.pending_timestamp - 90 * DAY


def assert_registered(registry, token_id, spec, owner, tx):
    gpu = registry.gpu(token_id)
    assert gpu.model == spec["model"]
    assert gpu.serial_hash == spec["serial_hash"]
    assert gpu.data_centre == spec["data_centre"]
    assert gpu.acquisition_cost == spec["acquisition_cost"]
    assert gpu.acquired_at == spec["acquired_at"]
    assert gpu.useful_life == spec["useful_life"]
    assert gpu.salvage_value == spec["salvage_value"]
    assert gpu.status == GpuStatus.ACTIVE
    # Registration is the custodian's first attestation.
    assert gpu.last_attested_at == tx.timestamp
    assert registry.ownerOf(token_id) == owner
    assert registry.token_of_serial(spec["serial_hash"]) == token_id


def test_register_one(registry, custodian, investor, acquired_at):
    spec = make_spec(acquired_at=acquired_at)

    assert registry.register.call(investor, [spec], sender=custodian) == 1
    tx = registry.register(investor, [spec], sender=custodian)

    assert_registered(registry, 1, spec, investor, tx)
    assert registry.totalSupply() == 1
    assert registry.balanceOf(investor) == 1
    assert registry.tokenByIndex(0) == 1
    assert registry.tokenOfOwnerByIndex(investor, 0) == 1
    [registered] = tx.decode_logs(registry.GpuRegistered)
    assert registered.token_id == 1
    assert registered.serial_hash == spec["serial_hash"]
    assert registered.owner == investor
    assert registered.model == spec["model"]
    assert registered.data_centre == spec["data_centre"]
    assert registered.acquisition_cost == spec["acquisition_cost"]
    assert registered.acquired_at == spec["acquired_at"]
    assert registered.useful_life == spec["useful_life"]
    assert registered.salvage_value == spec["salvage_value"]
    [transfer] = tx.decode_logs(registry.Transfer)
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (ZERO_ADDRESS, investor, 1)
    # No status change or attestation event: GpuRegistered implies ACTIVE, attested at its block.
    assert tx.decode_logs(registry.GpuStatusChanged) == []
    assert tx.decode_logs(registry.GpuAttested) == []


def test_register_batch_ids_are_sequential_across_batches(
    registry, custodian, investor, other_investor, acquired_at
):
    first = [make_spec(acquired_at=acquired_at, model=f"H100 #{i}") for i in range(3)]
    second = [make_spec(acquired_at=acquired_at, model=f"B200 #{i}") for i in range(2)]

    tx1 = registry.register(investor, first, sender=custodian)
    assert registry.register.call(other_investor, second, sender=custodian) == 4
    tx2 = registry.register(other_investor, second, sender=custodian)

    for token_id, spec in enumerate(first, start=1):
        assert_registered(registry, token_id, spec, investor, tx1)
    for token_id, spec in enumerate(second, start=4):
        assert_registered(registry, token_id, spec, other_investor, tx2)
    assert [log.token_id for log in tx1.decode_logs(registry.GpuRegistered)] == [1, 2, 3]
    assert [log.token_id for log in tx2.decode_logs(registry.Transfer)] == [4, 5]
    assert registry.totalSupply() == 5
    assert (registry.balanceOf(investor), registry.balanceOf(other_investor)) == (3, 2)
    assert [registry.tokenByIndex(i) for i in range(5)] == [1, 2, 3, 4, 5]
    assert [registry.tokenOfOwnerByIndex(other_investor, i) for i in range(2)] == [4, 5]


def test_register_max_batch(registry, register_gpus):
    registered = register_gpus(MAX_BATCH)

    assert registered.token_ids == list(range(1, MAX_BATCH + 1))
    assert len(registered.receipts) == 1
    assert registry.totalSupply() == MAX_BATCH


def test_register_batch_over_bound_cannot_be_decoded(registry, custodian, investor, acquired_at):
    specs = [make_spec(acquired_at=acquired_at) for _ in range(MAX_BATCH + 1)]

    # DynArray[GpuSpec, 50]: the ABI decoder refuses 51 elements before any code runs.
    with ape.reverts():
        registry.register(investor, specs, sender=custodian)


@pytest.mark.parametrize(
    "fields",
    [
        {"model": "X" * 32, "data_centre": "Y" * 32},  # both at their String[32] bound
        {"model": "A"},
        {"model": " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"[:32]},  # printable ASCII but `"` and `\`
        {
            "acquisition_cost": MAX_UINT128,
            "salvage_value": MAX_UINT128,
        },  # packed bound, no depreciation
        {"acquisition_cost": 1, "salvage_value": 0},
        {"useful_life": MAX_UINT40},
        {"useful_life": 1},
        {"acquired_at": 0},
    ],
)
def test_register_edge_values(registry, custodian, investor, acquired_at, fields):
    spec = make_spec(**{"acquired_at": acquired_at, **fields})

    tx = registry.register(investor, [spec], sender=custodian)

    assert_registered(registry, 1, spec, investor, tx)


def test_register_acquired_now(registry, custodian, investor, chain):
    timestamp = chain.pending_timestamp + 100
    chain.mine(timestamp=timestamp - 1)
    # The next block is mined at `timestamp`.
    chain.pending_timestamp = timestamp
    spec = make_spec(acquired_at=timestamp)

    tx = registry.register(investor, [spec], sender=custodian)

    assert tx.timestamp == timestamp
    assert_registered(registry, 1, spec, investor, tx)


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"serial": b"\x00" * 32}, "registry: zero serial hash"),
        ({"model": ""}, "registry: empty model"),
        ({"data_centre": ""}, "registry: empty data centre"),
        ({"acquisition_cost": 0, "salvage_value": 0}, "registry: zero acquisition cost"),
        ({"acquisition_cost": MAX_UINT128 + 1}, "registry: acquisition cost too large"),
        ({"acquisition_cost": 100, "salvage_value": 101}, "registry: salvage exceeds cost"),
        ({"useful_life": 0}, "registry: zero useful life"),
        ({"useful_life": MAX_UINT40 + 1}, "registry: useful life too long"),
    ],
)
def test_register_invalid_spec(registry, custodian, investor, acquired_at, fields, reason):
    spec = make_spec(**{"acquired_at": acquired_at, **fields})

    with ape.reverts(reason):
        registry.register(investor, [spec], sender=custodian)


def test_register_acquired_in_the_future(registry, custodian, investor, chain):
    spec = make_spec(acquired_at=chain.pending_timestamp + DAY)

    with ape.reverts("registry: acquired in the future"):
        registry.register(investor, [spec], sender=custodian)


@pytest.mark.parametrize("field", ["model", "data_centre"])
@pytest.mark.parametrize(
    "bad",
    ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "é"],
    ids=["quote", "backslash", "newline", "tab", "nul", "unit-sep", "del", "non-ascii"],
)
def test_register_character_that_would_break_json(
    registry, custodian, investor, acquired_at, field, bad
):
    spec = make_spec(acquired_at=acquired_at, **{field: f"H100{bad}SXM"})
    reason = {
        "model": "registry: invalid character in model",
        "data_centre": "registry: invalid character in data centre",
    }[field]

    with ape.reverts(reason):
        registry.register(investor, [spec], sender=custodian)


def test_register_invalid_spec_reverts_the_whole_batch(registry, custodian, investor, acquired_at):
    specs = [make_spec(acquired_at=acquired_at) for _ in range(3)]
    specs[2]["useful_life"] = 0

    with ape.reverts("registry: zero useful life"):
        registry.register(investor, specs, sender=custodian)

    assert registry.totalSupply() == 0
    assert registry.token_of_serial(specs[0]["serial_hash"]) == 0


def test_register_duplicate_serial_within_batch(registry, custodian, investor, acquired_at):
    serial = serial_hash("SN-DUPLICATE")
    specs = [
        make_spec(acquired_at=acquired_at),
        make_spec(acquired_at=acquired_at, serial=serial),
        make_spec(acquired_at=acquired_at, serial=serial),
    ]

    with ape.reverts("registry: serial already registered"):
        registry.register(investor, specs, sender=custodian)

    assert registry.totalSupply() == 0
    assert registry.token_of_serial(serial) == 0


def test_register_duplicate_serial_across_batches(register_gpus, registry, custodian, investor):
    registered = register_gpus(2)
    duplicate = dict(registered.specs[1], model="B200")

    with ape.reverts("registry: serial already registered"):
        registry.register(investor, [duplicate], sender=custodian)

    assert registry.token_of_serial(duplicate["serial_hash"]) == registered.token_ids[1]
    assert registry.gpu(registered.token_ids[1]).model == "H100 SXM"


def test_register_to_zero_owner(registry, custodian, acquired_at):
    with ape.reverts("registry: zero owner"):
        registry.register(ZERO_ADDRESS, [make_spec(acquired_at=acquired_at)], sender=custodian)


def test_register_empty_batch(registry, custodian, investor):
    with ape.reverts("registry: empty batch"):
        registry.register(investor, [], sender=custodian)


@pytest.mark.parametrize("caller", [name for name in ROLE_FIXTURES if name != "custodian"])
def test_register_refused_without_custodian_role(registry, request, investor, acquired_at, caller):
    with ape.reverts(MISSING_ROLE):
        registry.register(
            investor, [make_spec(acquired_at=acquired_at)], sender=request.getfixturevalue(caller)
        )


def test_register_after_custodian_role_revoked(registry, admin, custodian, investor, acquired_at):
    """The kill switch: without CUSTODIAN_ROLE nobody can register."""
    registry.revokeRole(registry.CUSTODIAN_ROLE(), custodian, sender=admin)

    with ape.reverts(MISSING_ROLE):
        registry.register(investor, [make_spec(acquired_at=acquired_at)], sender=custodian)


@pytest.mark.parametrize("caller", ["custodian", "attacker"])
def test_unknown_gpu_views_revert(registry, request, caller):
    sender = request.getfixturevalue(caller)
    with ape.reverts("registry: unknown GPU"):
        registry.gpu(1, sender=sender)
    with ape.reverts("erc721: invalid token ID"):
        registry.ownerOf(1)
