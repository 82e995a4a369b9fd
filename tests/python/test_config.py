"""The deploy config: an unknown key, a bad address or a negative value is named in one line."""

from pathlib import Path

import pytest

from gpu_rwa.config import load_deploy_config
from gpu_rwa.errors import UserError

CUSTODIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PAUSER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"

VALID = f"""\
stablecoin: {{mock: true}}
governance: {{delay_seconds: 60, proposers: ['{ADMIN}'], executors: ['{ADMIN}']}}
vault:
  name: Pool
  symbol: P
  advance_rate_bps: 8000
  fee_bps: 1000
  fee_recipient: "{ADMIN}"
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
        ("roles: {}\n", "c.yaml: stablecoin: Field required (and 2 more problems)"),
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


def test_governance_of_the_local_config():
    """A minute's delay (a session on the persistent chain works in real time); TEST::0 proposes,
    cancels and executes; the emergency keys are others."""
    config = load_deploy_config(Path("config/local.yaml"))
    governance = config.governance
    assert (governance.delay_seconds, governance.proposers, governance.executors) == (
        60,
        [ADMIN],
        [ADMIN],
    )
    assert config.roles.pausers == [PAUSER]


def _governance(delay: object = 60, proposers: str = f"['{ADMIN}']", executors: str = "") -> str:
    executors = executors or proposers
    return VALID.replace(
        f"governance: {{delay_seconds: 60, proposers: ['{ADMIN}'], executors: ['{ADMIN}']}}",
        f"governance: {{delay_seconds: {delay}, proposers: {proposers}, executors: {executors}}}",
    )


@pytest.mark.parametrize("delay", [60, 2 * 86_400, 30 * 86_400], ids=["least", "days", "most"])
def test_governance_delay_within_bounds(tmp_path, delay):
    path = tmp_path / "c.yaml"
    path.write_text(_governance(delay))
    assert load_deploy_config(path).governance.delay_seconds == delay


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _governance(59),
            "c.yaml: governance.delay_seconds: Input should be greater than or equal to 60",
        ),
        (
            _governance(30 * 86_400 + 1),
            "c.yaml: governance.delay_seconds: Input should be less than or equal to 2592000",
        ),
        (_governance("soon"), "governance.delay_seconds: Input should be a valid integer"),
        (_governance(proposers="[]"), "c.yaml: governance.proposers: List should have at least 1"),
        (
            _governance(executors="[]"),
            "c.yaml: governance.executors: List should have at least 1 item",
        ),
        (
            _governance(proposers=f"['{ADMIN}', '{ADMIN.lower()}']", executors=f"['{ADMIN}']"),
            f"c.yaml: governance.proposers: {ADMIN} is listed twice",
        ),
        (
            _governance(proposers="['0x1234']"),
            "c.yaml: governance.proposers.0: not an address: '0x1234'",
        ),
        (
            VALID.replace("delay_seconds: 60", "delay: 60"),
            "c.yaml: governance.delay: unknown key",
        ),
        (
            VALID.replace(
                f"governance: {{delay_seconds: 60, proposers: ['{ADMIN}'], "
                f"executors: ['{ADMIN}']}}\n",
                "",
            ),
            "c.yaml: governance: Field required",
        ),
        (
            VALID + f"roles:\n  pausers: ['{ADMIN}']\n",
            f"c.yaml: roles.pausers: {ADMIN} is also a governance proposer or executor; "
            "emergency keys stay apart from governance",
        ),
        (
            _governance(executors=f"['{PAUSER}']") + f"roles:\n  compliance: ['{PAUSER}']\n",
            f"c.yaml: roles.compliance: {PAUSER} is also a governance proposer or executor",
        ),
    ],
)
def test_bad_governance_is_named_in_one_line(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        load_deploy_config(path)
    assert "\n" not in error.value.message
    assert message in error.value.message


def test_missing_config(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load_deploy_config(tmp_path / "absent.yaml")
