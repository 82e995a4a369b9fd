"""The deploy config: an unknown key, a bad address or a negative value is named in one line."""

from pathlib import Path

import pytest

from gpu_rwa.config import load_deploy_config
from gpu_rwa.errors import UserError

CUSTODIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


VALID = """\
stablecoin: {mock: true}
vault:
  name: Pool
  symbol: P
  advance_rate_bps: 8000
  fee_bps: 1000
  fee_recipient: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
  vesting_days: 30
"""


def test_local_config_is_valid():
    config = load_deploy_config(Path("config/local.yaml"))
    assert config.roles.custodians == [CUSTODIAN]
    assert config.stablecoin.mock
    assert (config.vault.advance_rate_bps, config.vault.fee_bps) == (8_000, 1_000)
    assert (config.vault.staleness_days, config.vault.unlock_days) == (30, 7)


def test_windows_default_to_30_and_7_days(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(VALID)
    vault = load_deploy_config(path).vault
    assert (vault.staleness_days, vault.unlock_days) == (30, 7)


@pytest.mark.parametrize(
    ("staleness", "unlock"), [(1, 1), (365, 365), (90, 14)], ids=["least", "most", "other"]
)
def test_windows_within_bounds(tmp_path, staleness, unlock):
    path = tmp_path / "c.yaml"
    path.write_text(VALID + f"  staleness_days: {staleness}\n  unlock_days: {unlock}\n")
    vault = load_deploy_config(path).vault
    assert (vault.staleness_days, vault.unlock_days) == (staleness, unlock)


def test_lowercase_address_is_checksummed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(VALID + f"roles:\n  custodians: ['{CUSTODIAN.lower()}']\n")
    assert load_deploy_config(path).roles.custodians == [CUSTODIAN]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (VALID + "confirmation: 1\n", "c.yaml: confirmation: unknown key"),
        (VALID + "roles:\n  custodian: []\n", "c.yaml: roles.custodian: unknown key"),
        (VALID + "confirmations: -1\n", "c.yaml: confirmations: Input should be greater than or"),
        (
            VALID + "roles:\n  custodians: ['0x1234']\n",
            "c.yaml: roles.custodians.0: not an address: '0x1234'",
        ),
        (
            VALID + f"roles:\n  custodians: ['{CUSTODIAN[:-1]}c']\n",
            "c.yaml: roles.custodians.0: bad checksum in address",
        ),
        (VALID.replace("8000", "0"), "vault.advance_rate_bps: Input should be greater than 0"),
        (VALID.replace("8000", "10001"), "vault.advance_rate_bps: Input should be less than or"),
        (VALID.replace("fee_bps: 1000", "fee_bps: 2001"), "vault.fee_bps: Input should be less"),
        (VALID.replace("fee_bps: 1000", "fee_bps: -1"), "vault.fee_bps: Input should be greater"),
        (VALID.replace("vesting_days: 30", "vesting_days: 0"), "vault.vesting_days: Input should"),
        (VALID.replace("symbol: P", "symbol: TOOLONG"), "vault.symbol: String should have at most"),
        (
            VALID + "  staleness_days: 0\n",
            "vault.staleness_days: Input should be greater than or equal to 1",
        ),
        (
            VALID + "  staleness_days: 366\n",
            "vault.staleness_days: Input should be less than or equal to 365",
        ),
        (VALID + "  staleness_days: soon\n", "vault.staleness_days: Input should be a valid int"),
        (VALID + "  unlock_days: 0\n", "vault.unlock_days: Input should be greater than or equal"),
        (VALID + "  unlock_days: 366\n", "vault.unlock_days: Input should be less than or equal"),
        (VALID + "  unlock_days: -7\n", "vault.unlock_days: Input should be greater than or equal"),
        (VALID + "  unlock_period: 7\n", "c.yaml: vault.unlock_period: unknown key"),
        (
            VALID.replace("{mock: true}", "{mock: true, address: '" + CUSTODIAN + "'}"),
            "stablecoin: give either `mock: true` or the token's `address`, not both",
        ),
        (VALID.replace("{mock: true}", "{}"), "stablecoin: give either `mock: true` or the"),
        ("roles: {}\n", "c.yaml: stablecoin: Field required (and 1 more problem)"),
        ("roles: [1, 2\n", "c.yaml: not valid YAML"),
        ("- a\n", "c.yaml: (top level): Input should be a valid dictionary"),
    ],
)
def test_bad_config_is_named_in_one_line(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        load_deploy_config(path)
    assert "\n" not in error.value.message
    assert message in error.value.message


def test_missing_config(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_deploy_config(tmp_path / "absent.yaml")
