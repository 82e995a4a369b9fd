"""`ape run registry register|list`: bulk registration from an inventory, resumable, validated.

The suite is deployed once for the module (ape reverts the chain to it after each test); a test
that edits the manifest works on its own copy.
"""

import json
import re
from pathlib import Path

import pytest
from ape import project
from click.testing import Result

from gpu_rwa.inventory import load_inventory
from gpu_rwa.manifest import read_manifest
from gpu_rwa.registry import STATUS_CODES
from tests.scripts.utils import one_line, refused
from tests.utils.registry import DAY, make_spec
from tests.utils.scripts import run_script

SAMPLE = Path("inventory/sample.csv")
HEADER = "serial,model,data_centre,acquisition_cost,acquired_at,useful_life_years,salvage_value\n"


@pytest.fixture(scope="module")
def registry_manifest(tmp_path_factory, custodian, attacker) -> Path:
    """The manifest of a fresh deployment (the role fixtures come first: no rebase later)."""
    path = tmp_path_factory.mktemp("registry") / "local.json"
    result = run_script("deploy", "--manifest", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def manifest_file(registry_manifest) -> Path:
    return registry_manifest


@pytest.fixture
def deployed_registry(registry_manifest):
    return project.GpuRegistry.at(read_manifest(registry_manifest).address_of("GpuRegistry"))


def register(manifest_file, inventory, *args):
    return run_script(
        "registry", "register", str(inventory), "--manifest", str(manifest_file), *args
    )


def test_register_sample_inventory(deployed_registry, manifest_file, custodian):
    entries = load_inventory(SAMPLE)

    result = register(manifest_file, SAMPLE, "--batch-size", "4")

    assert result.exit_code == 0, result.output
    assert f"registered {len(entries)} GPU(s) in 3 transaction(s)" in result.output
    assert deployed_registry.totalSupply() == len(entries)
    for token_id, entry in enumerate(entries, start=1):
        assert deployed_registry.token_of_serial(entry.row.serial_hash) == token_id
        assert deployed_registry.ownerOf(token_id) == custodian
        gpu = deployed_registry.gpu(token_id)
        spec = entry.row.to_spec(6)
        assert (gpu.model, gpu.data_centre) == (spec["model"], spec["data_centre"])
        assert (gpu.acquisition_cost, gpu.salvage_value) == (
            spec["acquisition_cost"],
            spec["salvage_value"],
        )
        assert (gpu.acquired_at, gpu.useful_life) == (spec["acquired_at"], spec["useful_life"])


def test_rerun_registers_nothing_twice(deployed_registry, manifest_file, custodian):
    assert register(manifest_file, SAMPLE).exit_code == 0
    nonce = custodian.nonce

    result = register(manifest_file, SAMPLE)

    assert result.exit_code == 0, result.output
    assert "10 of 10 GPU(s) already registered" in result.output
    assert custodian.nonce == nonce
    assert deployed_registry.totalSupply() == 10


def test_interrupted_run_resumes_where_it_stopped(deployed_registry, manifest_file, custodian):
    entries = load_inventory(SAMPLE)
    deployed_registry.register(custodian, [e.row.to_spec(6) for e in entries[:3]], sender=custodian)

    result = register(manifest_file, SAMPLE)

    assert result.exit_code == 0, result.output
    assert "3 of 10 GPU(s) already registered" in result.output
    assert deployed_registry.totalSupply() == 10
    assert [deployed_registry.token_of_serial(e.row.serial_hash) for e in entries] == list(
        range(1, 11)
    )


def test_bad_row_sends_nothing(deployed_registry, manifest_file, custodian, tmp_path):
    inventory = tmp_path / "inv.csv"
    inventory.write_text(SAMPLE.read_text() + "SN-X,H100,DC1,-1,2025-01-01,5,0\n")
    nonce = custodian.nonce

    result = register(manifest_file, inventory)

    assert result.exit_code == 1
    assert f"{inventory}:12: acquisition_cost: not a plain non-negative number" in result.output
    assert custodian.nonce == nonce
    assert deployed_registry.totalSupply() == 0


def test_future_acquisition_sends_nothing(deployed_registry, manifest_file, custodian, tmp_path):
    inventory = tmp_path / "inv.csv"
    inventory.write_text(HEADER + "SN-F,H100,DC1,100,2999-01-01,5,0\n")
    nonce = custodian.nonce

    result = register(manifest_file, inventory)

    assert result.exit_code == 1
    assert f"{inventory}:2: acquired_at 2999-01-01 00:00 is after the chain's time" in result.output
    assert custodian.nonce == nonce


def test_sender_without_custodian_role_is_refused(deployed_registry, manifest_file, attacker):
    nonce = attacker.nonce
    result = register(manifest_file, SAMPLE, "--account", "TEST::9")
    assert result.exit_code == 1
    assert f"{attacker.address} does not hold CUSTODIAN_ROLE" in result.output
    assert attacker.nonce == nonce


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--owner", "0x12"), "--owner: not an address: '0x12'"),
        (("--batch-size", "51"), "51 is not in the range 1<=x<=50"),
        (("--account", "TEST::99"), "--account TEST::99: no such test account"),
    ],
)
def test_bad_option_is_refused(deployed_registry, manifest_file, args, message):
    result = register(manifest_file, SAMPLE, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert deployed_registry.totalSupply() == 0


def test_register_without_deployment(tmp_path):
    result = register(tmp_path / "local.json", SAMPLE)
    assert result.exit_code == 1
    assert "no deployment manifest; run `ape run deploy` first" in result.output


def listed(manifest_file, *args) -> tuple[list[int], Result]:
    """`registry list ARGS`: the GPU ids of its table's rows, and the result."""
    result = run_script("registry", "list", "--manifest", str(manifest_file), *args)
    assert result.exit_code == 0, result.output
    rows = re.findall(r"^│\s*(\d+)\s*│", result.output, flags=re.MULTILINE)
    return [int(token_id) for token_id in rows], result


@pytest.fixture
def listed_fleet(deployed_registry, manifest_file, custodian, chain):
    """The sample inventory (GPUs 1-10, the custodian's), GPU 3 OFFLINE, GPUs 2 and 5 sent to
    the pool's GpuCollateral, GPUs 11-51 registered to the custodian too."""
    assert register(manifest_file, SAMPLE).exit_code == 0
    collateral = read_manifest(manifest_file).address_of("GpuCollateral")
    deployed_registry.set_status(3, STATUS_CODES["OFFLINE"], sender=custodian)
    for token_id in (2, 5):
        deployed_registry.transferFrom(custodian, collateral, token_id, sender=custodian)
    specs = [make_spec(acquired_at=chain.pending_timestamp - DAY) for _ in range(41)]
    deployed_registry.register(custodian, specs, sender=custodian)
    return deployed_registry


def test_list_shows_the_first_50_by_default(listed_fleet, manifest_file):
    token_ids, result = listed(manifest_file)

    assert token_ids == list(range(1, 51))
    assert f"GpuRegistry {listed_fleet.address}: 51 GPU(s)" in one_line(result)
    assert "showing 1-50 of 51; --limit and --offset page through the rest" in one_line(result)


def test_list_pages_with_limit_and_offset(listed_fleet, manifest_file):
    token_ids, result = listed(manifest_file, "--limit", "3", "--offset", "3")

    assert token_ids == [4, 5, 6]
    assert "showing 4-6 of 51" in one_line(result)
    assert listed(manifest_file, "--offset", "50")[0] == [51]
    assert listed(manifest_file, "--offset", "51")[0] == []


def test_list_filters_by_status(listed_fleet, manifest_file):
    token_ids, result = listed(manifest_file, "--status", "offline")

    assert token_ids == [3]
    assert "51 GPU(s), 1 matching --status OFFLINE" in one_line(result)
    assert "OFFLINE" in result.output
    assert "showing" not in result.output


def test_list_filters_the_pools_gpus(listed_fleet, manifest_file):
    assert listed(manifest_file, "--pool")[0] == [2, 5]
    assert listed(manifest_file, "--pool", "--status", "OFFLINE")[0] == []


def test_list_filters_by_owner(listed_fleet, manifest_file, custodian):
    token_ids, result = listed(
        manifest_file, "--owner", custodian.address.lower(), "--status", "ACTIVE", "--limit", "5"
    )

    assert token_ids == [1, 4, 6, 7, 8]
    assert f"48 matching --status ACTIVE --owner {custodian.address}" in one_line(result)
    assert "showing 1-5 of 48" in one_line(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--status", "BROKEN"), "--status: not a status: 'BROKEN' (one of ACTIVE, LEASED, "),
        (("--pool", "--owner", "0x" + "11" * 20), "give --owner or --pool, not both"),
        (("--limit", "0"), "--limit: Input should be greater than or equal to 1"),
        (("--offset", "-1"), "--offset: Input should be greater than or equal to 0"),
        (("--owner", "0x12"), "--owner: not an address: '0x12'"),
    ],
)
def test_list_refuses_a_bad_filter(manifest_file, args, message):
    result = run_script("registry", "list", "--manifest", str(manifest_file), *args)

    refused(result, message)


def test_manifest_of_another_chain_is_refused(manifest_file, tmp_path):
    data = json.loads(manifest_file.read_text())
    data["contracts"]["GpuRegistry"]["address"] = "0x" + "22" * 20  # no code there
    copy = tmp_path / "local.json"
    copy.write_text(json.dumps(data))

    result = run_script("registry", "list", "--manifest", str(copy))

    assert result.exit_code == 1
    assert "describes another chain than the one connected" in result.output
