"""`make demo`'s lifecycle, and the auditor that checks it: it passes on an honest pool and
fails, naming the invariant, when the books and the chain disagree."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gpu_rwa.audit import check_invariants, rebuild_books
from gpu_rwa.cli import console
from gpu_rwa.config import load_deploy_config
from gpu_rwa.demo import INSTALMENT, INSTALMENTS, run_lifecycle
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool
from tests.utils.scripts import run_script

SAMPLE = Path("inventory/sample.csv")
FEE_BPS = 1_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # Run once; ape's snapshot isolation hands every test the chain as the demo left it.
    manifest = tmp_path_factory.mktemp("demo") / "demo.json"
    report = run_lifecycle(load_deploy_config(Path("config/local.yaml")), SAMPLE, manifest, console)
    return report, load_pool(read_manifest(manifest)), manifest


def test_lifecycle_passes_every_invariant(demo):
    report, pool, _ = demo
    assert report.passed, [c for c in report.invariants if not c.passed]
    assert [c.number for c in report.invariants] == list(range(1, 10))
    assert report.gpus_in_vault == 10
    gross = INSTALMENTS * int(INSTALMENT) * 10**6
    fees = gross * FEE_BPS // 10_000
    assert pool.vault.received() == gross - fees
    assert report.fees_accrued == fees
    revenue = report.invariants[2].compared
    assert revenue["claimable"] == revenue["unvested"] == 0
    assert revenue["claimed"] + revenue["dust"] == gross - fees
    assert sum(report.claims.values()) == revenue["claimed"]
    assert sum(p["fractions"] for p in report.positions.values()) == pool.vault.totalSupply()
    assert len(report.refused) == 2
    assert "it is not a verified investor" in report.refused[0]
    assert "the vault is paused" in report.refused[1]
    assert len(report.months) == INSTALMENTS
    assert report.redeemed["paid"] > 0


def test_donation_is_reported_not_counted(demo, accounts):
    _, pool, _ = demo
    donor = accounts[9]
    pool.stablecoin.faucet(1_000, sender=donor)
    pool.stablecoin.transfer(pool.vault, 1_000, sender=donor)

    books = rebuild_books(pool)
    cash = check_invariants(pool, books)[3]

    assert cash.passed
    assert cash.compared["donations"] == 1_000
    assert pool.vault.totalAssets() == check_invariants(pool, books)[1].compared["total_assets"]


@pytest.mark.parametrize(
    ("tamper", "failing"),
    [
        ({"free_cash": 1}, {4, 8}),
        ({"supply": 1}, {1, 8}),
        ({"unverified_receipts": [(1, "0x" + "ab" * 20)]}, {5}),
        ({"transfers_while_paused": 1}, {9}),
        ({"gpus_counted": set()}, {6}),
    ],
)
def test_auditor_names_what_disagrees(demo, tamper, failing):
    _, pool, _ = demo
    books = rebuild_books(pool)
    tampered = replace(books, **{k: (getattr(books, k) + v if isinstance(v, int) else v)
                                 for k, v in tamper.items()})  # fmt: skip

    failed = {c.number for c in check_invariants(pool, tampered) if not c.passed}

    assert failed == failing


def test_audit_script_reports_the_demo_pool(demo, tmp_path):
    _, _, manifest = demo
    report = tmp_path / "audit.json"

    result = run_script("audit", "--manifest", str(manifest), "--report", str(report))

    assert result.exit_code == 0, result.output
    assert "all 9 invariants pass" in result.output
    checks = json.loads(report.read_text())
    assert [c["number"] for c in checks] == list(range(1, 10))
    assert all(c["passed"] for c in checks)


def test_audit_script_fails_on_a_broken_invariant(demo, monkeypatch):
    _, _, manifest = demo
    # A holder the books never saw: the auditor's rebuilt supply no longer matches the chain.
    monkeypatch.setattr("gpu_rwa.audit.ZERO_ADDRESS", "0x" + "00" * 19 + "01")

    result = run_script("audit", "--manifest", str(manifest))

    assert result.exit_code == 1
    assert "invariant(s) failed: fraction balances sum to total supply" in result.output
