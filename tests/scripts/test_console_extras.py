"""`ape console`'s extras (ape_console_extras.py): the pool's contracts bound by name."""

import importlib.util
from pathlib import Path

import pytest

from gpu_rwa.namespace import MANIFEST_ENV, SHORT_NAMES

EXTRAS = Path(__file__).parents[2] / "ape_console_extras.py"


@pytest.fixture(scope="module")
def extras():
    spec = importlib.util.spec_from_file_location("ape_console_extras", EXTRAS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_pools_contracts_are_bound_by_name(extras, deployed_pool, monkeypatch, capsys, chain):
    monkeypatch.setenv(MANIFEST_ENV, deployed_pool.manifest)
    contracts = deployed_pool.pool.manifest.contracts

    namespace = extras.ape_init_extras()

    for name, record in contracts.items():
        assert namespace[name].address == record.address
        assert namespace[name].contract_type.name == name
    for alias, name in SHORT_NAMES.items():
        assert namespace[alias].address == contracts[name].address
    assert namespace["vault"].totalAssets() == deployed_pool.vault.totalAssets()
    assert namespace["stablecoin"].address == deployed_pool.stablecoin.address
    assert namespace["pool"].cash(1_500_000) == "1.500000 USDC"
    assert capsys.readouterr().out == (
        "gpu-rwa: bound vault, collateral, registry, identity, leases, queue, market, "
        f"appraisals, compliance, attestor, timelock, metadata, stablecoin, pool and each "
        f"contract by its name ({', '.join(contracts)}) from {deployed_pool.manifest} "
        f"(chain {chain.chain_id})\n"
    )


def test_without_a_manifest_one_line_and_nothing_bound(extras, monkeypatch, capsys, tmp_path):
    missing = tmp_path / "local.json"
    monkeypatch.setenv(MANIFEST_ENV, str(missing))

    assert extras.ape_init_extras() == {}
    assert capsys.readouterr().out == (
        f"gpu-rwa: no contract bound ({missing}: no deployment manifest; run `ape run deploy` "
        "first)\n"
    )


def test_a_manifest_of_another_chain_binds_nothing(extras, deployed_pool, monkeypatch, capsys):
    other = (
        Path(deployed_pool.manifest)
        .read_text()
        .replace(f'"chain_id": {deployed_pool.pool.manifest.chain_id}', '"chain_id": 1')
    )
    copy = Path(deployed_pool.manifest).with_name("other-chain.json")
    copy.write_text(other)
    monkeypatch.setenv(MANIFEST_ENV, str(copy))

    assert extras.ape_init_extras() == {}
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith(f"gpu-rwa: no contract bound ({copy} describes another chain")
