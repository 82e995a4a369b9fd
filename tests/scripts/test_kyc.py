"""`ape run kyc add|remove|status`: identities in batches, checked first, nothing sent on error."""

import pytest
from eth_utils import to_checksum_address

from tests.scripts.utils import refused, script, table_cells
from tests.utils.registry import DAY

NEWCOMER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9, the attacker fixture


def test_add_verifies_in_one_batch(deployed_pool, compliance, attacker, chain):
    other = to_checksum_address("0x" + "12" * 20)
    nonce = compliance.nonce
    now = chain.pending_timestamp

    result = script(
        deployed_pool, "kyc", "add", NEWCOMER, other, "--days", "365", "--jurisdiction", "840"
    )

    assert result.exit_code == 0, result.output
    assert compliance.nonce == nonce + 1
    assert "verified 2 address(es) in 1 transaction(s)" in result.output
    block_time = chain.blocks.head.timestamp
    for account in (attacker.address, other):
        assert deployed_pool.identity.is_verified(account)
        identity = deployed_pool.identity.identity(account)
        assert identity.jurisdiction == 840
        # Expiry is 365 days from the chain time the script read (the pending block's).
        assert now <= identity.expires_at - 365 * DAY <= block_time


def test_add_more_than_one_batch(deployed_pool, compliance):
    accounts = [to_checksum_address(f"0x{n:040x}") for n in range(1, 258)]
    nonce = compliance.nonce

    result = script(deployed_pool, "kyc", "add", *accounts, "--days", "30", "--jurisdiction", "276")

    assert result.exit_code == 0, result.output
    assert compliance.nonce == nonce + 2
    assert "verified 257 address(es) in 2 transaction(s)" in result.output
    assert all(
        deployed_pool.identity.is_verified(a) for a in (accounts[0], accounts[255], accounts[256])
    )
    rows = [cells for cells in map(table_cells, result.output.splitlines()) if cells]
    assert [row[0] for row in rows] == accounts[:20]
    assert "first 20 of 257; `ape run kyc status` for others" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("0x12", "--days", "1", "--jurisdiction", "840"), "ADDRESS: not an address: '0x12'"),
        (
            ("0xa0ee7a142d267c1f36714e4a8f75612f20a79720", NEWCOMER, "--days", "1",
             "--jurisdiction", "840"),
            f"ADDRESS: {NEWCOMER} is listed twice",
        ),
        (
            ("0x" + "00" * 20, "--days", "1", "--jurisdiction", "840"),
            "ADDRESS: the zero address cannot be verified",
        ),
        ((NEWCOMER, "--days", "0", "--jurisdiction", "840"), "--days: Input should be greater"),
        ((NEWCOMER, "--days", "99999", "--jurisdiction", "840"), "--days: Input should be less"),
        ((NEWCOMER, "--days", "1", "--jurisdiction", "0"), "--jurisdiction: Input should be"),
        ((NEWCOMER, "--days", "1", "--jurisdiction", "1000"), "--jurisdiction: Input should be"),
        (
            (NEWCOMER, "--days", "1", "--jurisdiction", "840", "--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold COMPLIANCE_ROLE on the "
            "IdentityRegistry",
        ),
    ],
)  # fmt: skip
def test_bad_add_sends_nothing(deployed_pool, compliance, investor, args, message):
    nonces = compliance.nonce, investor.nonce
    refused(script(deployed_pool, "kyc", "add", *args), message)
    assert (compliance.nonce, investor.nonce) == nonces
    assert not deployed_pool.identity.is_verified(NEWCOMER)


def test_remove(deployed_pool, compliance, investor, other_investor):
    nonce = compliance.nonce

    result = script(deployed_pool, "kyc", "remove", investor.address, other_investor.address)

    assert result.exit_code == 0, result.output
    assert compliance.nonce == nonce + 1
    assert not deployed_pool.identity.is_verified(investor)
    assert not deployed_pool.identity.is_verified(other_investor)
    assert deployed_pool.identity.identity(investor).expires_at == 0


def test_remove_of_an_unverified_address_sends_nothing(deployed_pool, compliance, investor):
    nonce = compliance.nonce
    refused(
        script(deployed_pool, "kyc", "remove", investor.address, NEWCOMER),
        f"{NEWCOMER} is not verified: nothing to revoke",
    )
    assert compliance.nonce == nonce
    assert deployed_pool.identity.is_verified(investor)


def test_status(deployed_pool, investor):
    result = script(deployed_pool, "kyc", "status", investor.address, NEWCOMER)

    assert result.exit_code == 0, result.output
    rows = [cells for cells in map(table_cells, result.output.splitlines()) if cells]
    assert [row[:2] for row in rows] == [[investor.address, "yes"], [NEWCOMER, "no"]]
    assert rows[0][3] == "276"
    assert rows[1][2:] == ["-", "-"]
