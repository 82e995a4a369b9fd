"""The deploy config: an unknown key, a bad address or a negative value is named in one line."""

from pathlib import Path

import pytest

from gpu_rwa.config import load_deploy_config
from gpu_rwa.errors import UserError

CUSTODIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_local_config_is_valid():
    config = load_deploy_config(Path("config/local.yaml"))
    assert config.roles.custodians == [CUSTODIAN]
    assert config.stablecoin_decimals == 6


def test_lowercase_address_is_checksummed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"roles:\n  custodians: ['{CUSTODIAN.lower()}']\n")
    assert load_deploy_config(path).roles.custodians == [CUSTODIAN]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("confirmation: 1\n", "c.yaml: confirmation: unknown key"),
        ("roles:\n  custodian: []\n", "c.yaml: roles.custodian: unknown key"),
        (
            "confirmations: -1\n",
            "c.yaml: confirmations: Input should be greater than or equal to 0",
        ),
        ("stablecoin_decimals: 19\n", "c.yaml: stablecoin_decimals: Input should be less than"),
        (
            "roles:\n  custodians: ['0x1234']\n",
            "c.yaml: roles.custodians.0: not an address: '0x1234'",
        ),
        (
            f"roles:\n  custodians: ['{CUSTODIAN[:-1]}c']\n",
            "c.yaml: roles.custodians.0: bad checksum in address",
        ),
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
