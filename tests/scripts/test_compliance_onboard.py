"""`ape run compliance onboard-sign|onboard-submit`: the compliance officer signs an investor's
verification (EIP-712, nothing sent), the investor submits it and pays the gas; every input and
every file is checked first against what the chain can answer, a bad one is one line and nothing
is written or sent."""

import json
from datetime import UTC, datetime

import ape
import pytest
from eth_account import Account

from gpu_rwa.onboarding import OnboardingFile, load_onboarding, write_onboarding
from gpu_rwa.types import format_moment
from tests.scripts.utils import OPERATOR_KEY, head_logs, one_line, refused, rewrite, script
from tests.utils.governance import govern
from tests.utils.identity import onboard_args
from tests.utils.vault import COMPLIANCE_ROLE, JURISDICTION

NEWCOMER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9, not verified by the fixture
INVESTOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # TEST::7
END_OF_2035 = int(datetime(2035, 12, 31, tzinfo=UTC).timestamp())
HOUR = 3_600


def sign(pool, *args):
    return script(pool, "compliance", "onboard-sign", *args)


def submit(pool, path, *args):
    return script(pool, "compliance", "onboard-submit", str(path), *args)


def signed(pool, tmp_path, *args, jurisdiction: int = 276, name: str = "onboard.json"):
    """The file `onboard-sign` writes for the newcomer (until the end of 2027)."""
    out = tmp_path / name
    result = sign(
        pool,
        NEWCOMER,
        "--jurisdiction",
        str(jurisdiction),
        "--expires",
        "2035-12-31",
        "--out",
        str(out),
        *args,
    )
    assert result.exit_code == 0, result.output
    return out


def crafted(identity, path, **fields) -> None:
    """A consistent file for the newcomer (the officer's valid signature of what it says), with
    `fields` as `tests.utils.identity.onboard_args` takes them: what `onboard-sign` would refuse
    to write."""
    account, jurisdiction, expires_at, nonce, deadline, signer, signature = onboard_args(
        identity, NEWCOMER, **fields
    )
    write_onboarding(
        OnboardingFile(
            chain_id=fields.get("chain_id") or ape.chain.chain_id,
            verifying_contract=fields.get("verifying_contract") or identity.address,
            account=account,
            jurisdiction=jurisdiction,
            expires_at=expires_at,
            nonce=nonce,
            deadline=deadline,
            signer=signer,
            signature="0x" + signature.hex(),
        ),
        path,
    )


# SIGN #


def test_sign_writes_the_file(deployed_pool, tmp_path, compliance, chain):
    out = tmp_path / "onboard.json"
    nonce = compliance.nonce
    before = chain.pending_timestamp

    result = sign(
        deployed_pool,
        NEWCOMER,
        "--jurisdiction",
        "276",
        "--expires",
        "2035-12-31",
        "--valid-hours",
        "48",
        "--out",
        str(out),
    )

    assert result.exit_code == 0, result.output
    assert compliance.nonce == nonce, "signing sent a transaction"
    data = json.loads(out.read_text())
    deadline = data.pop("deadline")
    assert before + 48 * HOUR <= deadline <= chain.pending_timestamp + 48 * HOUR
    signature = data.pop("signature")
    assert data == {
        "chain_id": chain.chain_id,
        "verifying_contract": deployed_pool.identity.address,
        "account": NEWCOMER,
        "jurisdiction": 276,
        "expires_at": END_OF_2035,
        "nonce": 0,
        "signer": compliance.address,
    }
    onboarding = load_onboarding(out)  # the signature recovers to the signer
    assert onboarding.signature == signature
    assert one_line(result) == (
        f"signed the verification of {NEWCOMER} (jurisdiction 276, until "
        f"{format_moment(END_OF_2035)}, nonce 0) as {compliance.address}; it can be submitted "
        f"until {format_moment(deadline)}: {out}"
    )


def test_sign_to_the_default_file(deployed_pool, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = sign(deployed_pool, NEWCOMER, "--jurisdiction", "276", "--expires", "2035-12-31")

    assert result.exit_code == 0, result.output
    assert load_onboarding(tmp_path / f"onboard-{NEWCOMER}.json").account == NEWCOMER


def test_sign_with_a_key_from_the_environment(deployed_pool, tmp_path, monkeypatch, admin):
    """$GPU_RWA_COMPLIANCE_KEY signs when no --account is given (here the operator's key,
    granted COMPLIANCE_ROLE)."""
    officer = Account.from_key(OPERATOR_KEY).address
    govern(deployed_pool, admin, "IdentityRegistry", "grantRole", COMPLIANCE_ROLE, officer)
    monkeypatch.setenv("GPU_RWA_COMPLIANCE_KEY", OPERATOR_KEY)

    assert load_onboarding(signed(deployed_pool, tmp_path)).signer == officer


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("0x12",), "ADDRESS: not an address: '0x12'"),
        (("0x" + "00" * 20,), "ADDRESS: the zero address cannot be verified"),
        ((NEWCOMER, "--jurisdiction", "0"), "--jurisdiction: Input should be greater than"),
        ((NEWCOMER, "--jurisdiction", "1000"), "--jurisdiction: Input should be less than"),
        ((NEWCOMER, "--jurisdiction", "DE"), "--jurisdiction: Input should be a valid integer"),
        ((NEWCOMER, "--expires", "soon"), "--expires: not a time: 'soon'"),
        ((NEWCOMER, "--valid-hours", "0"), "--valid-hours: Input should be greater than"),
        ((NEWCOMER, "--valid-hours", "721"), "--valid-hours: Input should be less than"),
        (
            (NEWCOMER, "--expires", "2020-01-01"),
            "--expires: 2020-01-01 00:00 UTC (unix 1577836800) is not after the chain's time",
        ),
        (
            (NEWCOMER, "--expires", "2040-01-01"),
            "--expires: 2040-01-01 00:00 UTC (unix 2208988800) is more than 3,650 days from now",
        ),
        (
            (NEWCOMER, "--account", "TEST::7"),
            f"{INVESTOR} does not hold COMPLIANCE_ROLE on the IdentityRegistry",
        ),
    ],
)  # fmt: skip
def test_bad_sign_input_writes_nothing(deployed_pool, tmp_path, compliance, args, message):
    out = tmp_path / "onboard.json"
    defaults = {"--jurisdiction": "276", "--expires": "2035-12-31"}
    given = dict(zip(args[1::2], args[2::2], strict=True))
    options = [item for key, value in (defaults | given).items() for item in (key, value)]
    nonce = compliance.nonce

    refused(sign(deployed_pool, args[0], *options, "--out", str(out)), message)

    assert not out.exists()
    assert compliance.nonce == nonce


def test_sign_refuses_an_expiry_before_the_deadline(deployed_pool, tmp_path, chain):
    """The investor could otherwise submit a verification that has already lapsed."""
    out = tmp_path / "onboard.json"
    expires = chain.pending_timestamp + 10 * HOUR

    result = sign(
        deployed_pool,
        NEWCOMER,
        "--jurisdiction",
        "276",
        "--expires",
        str(expires),
        "--out",
        str(out),
    )

    refused(result, f"--expires: {format_moment(expires)} is not after the signature's deadline")
    assert "give a later --expires or fewer --valid-hours" in result.output
    assert not out.exists()


def test_sign_refuses_what_the_account_already_has(deployed_pool, tmp_path):
    record = deployed_pool.identity.identity(INVESTOR)
    out = tmp_path / "onboard.json"

    result = sign(
        deployed_pool,
        INVESTOR,
        "--jurisdiction",
        str(record.jurisdiction),
        "--expires",
        str(record.expires_at),
        "--out",
        str(out),
    )

    refused(
        result,
        f"{INVESTOR} is already verified until {format_moment(record.expires_at)} under "
        f"jurisdiction {JURISDICTION}: nothing to sign",
    )
    assert not out.exists()


def test_sign_does_not_overwrite(deployed_pool, tmp_path):
    out = tmp_path / "onboard.json"
    out.write_text("keep me")

    refused(
        sign(deployed_pool, NEWCOMER, "--jurisdiction", "276", "--expires", "2035-12-31",
             "--out", str(out)),
        f"{out} exists: pick another --out (or remove it)",
    )  # fmt: skip
    assert out.read_text() == "keep me"


def test_bad_key_in_the_environment(deployed_pool, tmp_path, monkeypatch):
    monkeypatch.setenv("GPU_RWA_COMPLIANCE_KEY", "0x1234")
    out = tmp_path / "onboard.json"

    refused(
        sign(deployed_pool, NEWCOMER, "--jurisdiction", "276", "--expires", "2035-12-31",
             "--out", str(out)),
        "$GPU_RWA_COMPLIANCE_KEY: not a private key",
    )  # fmt: skip
    assert not out.exists()


# SUBMIT #


def test_the_investor_submits_and_pays(deployed_pool, tmp_path, attacker, compliance, chain):
    out = signed(deployed_pool, tmp_path)
    nonces = attacker.nonce, compliance.nonce
    identity = deployed_pool.identity

    result = submit(deployed_pool, out, "--account", "TEST::9")

    assert result.exit_code == 0, result.output
    assert (attacker.nonce, compliance.nonce) == (nonces[0] + 1, nonces[1])
    assert identity.is_verified(NEWCOMER)
    assert identity.identity(NEWCOMER) == (END_OF_2035, 276)
    assert identity.nonces(NEWCOMER) == 1
    [verified] = head_logs(chain, identity.IdentityVerified)
    assert (verified.account, verified.sender) == (NEWCOMER, compliance.address)
    [onboarded] = head_logs(chain, identity.SelfOnboarded)
    assert (onboarded.account, onboarded.signer, onboarded.nonce) == (
        NEWCOMER,
        compliance.address,
        0,
    )
    receipt = chain.provider.get_receipt(chain.blocks.head.transactions[0].txn_hash.hex())
    assert one_line(result) == (
        f"onboarded {NEWCOMER}: verified until {format_moment(END_OF_2035)} under jurisdiction "
        f"276, signed by {compliance.address} (nonce 0); {receipt.gas_used:,} gas paid by "
        f"{NEWCOMER}"
    )


def test_anyone_submits(deployed_pool, tmp_path, investor, chain):
    """By default on a local chain the investor TEST::7 sends (here for the newcomer)."""
    out = signed(deployed_pool, tmp_path)
    nonce = investor.nonce

    result = submit(deployed_pool, out)

    assert result.exit_code == 0, result.output
    assert investor.nonce == nonce + 1
    assert deployed_pool.identity.is_verified(NEWCOMER)


# BAD FILES: NOTHING SENT #


@pytest.fixture
def untouched(deployed_pool, investor, attacker):
    """Asserts, after the test, that no transaction was sent from the submitters and that the
    newcomer's identity did not change."""
    identity = deployed_pool.identity
    before = investor.nonce, attacker.nonce, identity.identity(NEWCOMER)
    yield
    assert (investor.nonce, attacker.nonce, identity.identity(NEWCOMER)) == before


def test_unreadable_files(deployed_pool, tmp_path, untouched):
    refused(submit(deployed_pool, tmp_path / "none.json"), "none.json: no such file")
    (tmp_path / "broken.json").write_text("{")
    refused(submit(deployed_pool, tmp_path / "broken.json"), "broken.json: not valid JSON")

    out = signed(deployed_pool, tmp_path)
    rewrite(out, lambda d: d.update(note="hello"))
    refused(submit(deployed_pool, out), f"{out}: note: unknown key")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", INVESTOR),
        ("jurisdiction", 840),
        ("expires_at", END_OF_2035 + 1),
        ("nonce", 1),
        ("deadline", 2**40),
        ("chain_id", 1),
    ],
)
def test_a_field_changed_by_hand(deployed_pool, tmp_path, compliance, untouched, field, value):
    out = signed(deployed_pool, tmp_path)
    rewrite(out, lambda d: d.update({field: value}))

    result = submit(deployed_pool, out, "--account", "TEST::9")

    refused(result, f"{out}: the signature recovers to ")
    assert f"not the signer {compliance.address} (a field was changed after signing?)" in (
        result.output
    )


def test_a_signature_changed_by_hand(deployed_pool, tmp_path, untouched):
    out = signed(deployed_pool, tmp_path)
    rewrite(out, lambda d: d.update(signature=d["signature"][:-2] + "1d"))
    refused(submit(deployed_pool, out), f"{out}: signature: v is not 27 or 28")


def test_another_chain_or_registry(project, deployed_pool, tmp_path, admin, chain, untouched):
    out = tmp_path / "onboard.json"
    crafted(deployed_pool.identity, out, chain_id=chain.chain_id + 1)
    refused(
        submit(deployed_pool, out),
        f"{out} is signed for chain id {chain.chain_id + 1}, not this chain ({chain.chain_id})",
    )

    other = project.IdentityRegistry.deploy(sender=admin)
    crafted(deployed_pool.identity, out, verifying_contract=other.address)
    refused(
        submit(deployed_pool, out),
        f"{out} is signed for the IdentityRegistry {other.address}, not this deployment's "
        f"({deployed_pool.identity.address})",
    )


def test_the_deadline_passed(deployed_pool, tmp_path, chain, untouched):
    out = signed(deployed_pool, tmp_path, "--valid-hours", "1")
    deadline = load_onboarding(out).deadline
    chain.mine(timestamp=deadline + 1)

    refused(
        submit(deployed_pool, out),
        f"{out}: the signature expired at {format_moment(deadline)}: ask the compliance officer "
        "for a new one",
    )


def test_the_verification_lapsed(deployed_pool, tmp_path, chain, untouched):
    out = tmp_path / "onboard.json"
    expires_at = chain.pending_timestamp + 60
    crafted(deployed_pool.identity, out, expires_at=expires_at)
    chain.mine(timestamp=expires_at)

    refused(
        submit(deployed_pool, out),
        f"{out}: the verification lapsed at {format_moment(expires_at)}: ask the compliance "
        "officer for a new one",
    )


@pytest.mark.parametrize("change", ["invalidate", "verify", "onboarded"])
def test_the_nonce_is_used_up(deployed_pool, tmp_path, compliance, chain, change, investor):
    """Voided since signing: by `invalidate`, by the officer's `verify` (other values), or by
    another onboarding signed at the same nonce."""
    out = signed(deployed_pool, tmp_path)
    identity = deployed_pool.identity
    if change == "invalidate":
        identity.invalidate(NEWCOMER, sender=compliance)
    elif change == "verify":
        identity.verify(NEWCOMER, END_OF_2035, 840, sender=compliance)
    else:
        other = signed(deployed_pool, tmp_path, jurisdiction=840, name="other.json")
        assert submit(deployed_pool, other).exit_code == 0
    nonce = investor.nonce

    refused(
        submit(deployed_pool, out),
        f"{out}: nonce 0 is used up (the account's is 1: it was onboarded, or the compliance "
        "officer verified, revoked or invalidated it since signing): ask for a new signature",
    )
    assert investor.nonce == nonce


def test_a_nonce_ahead(deployed_pool, tmp_path, untouched):
    out = tmp_path / "onboard.json"
    crafted(deployed_pool.identity, out, nonce=5)

    refused(
        submit(deployed_pool, out),
        f"{out}: nonce 5 is ahead of the account's (0): ask for a new signature",
    )


def test_the_signer_lost_its_role(deployed_pool, tmp_path, admin, compliance, untouched):
    out = signed(deployed_pool, tmp_path)
    govern(deployed_pool, admin, "IdentityRegistry", "revokeRole", COMPLIANCE_ROLE, compliance)

    refused(
        submit(deployed_pool, out),
        f"{out}: the signer {compliance.address} does not hold COMPLIANCE_ROLE on the "
        "IdentityRegistry now: ask a compliance officer for a new signature",
    )


def test_already_verified_so(deployed_pool, tmp_path, compliance, investor):
    """The officer verified the account with the very values signed: nothing to submit (checked
    before the nonce, which that verification used up)."""
    out = signed(deployed_pool, tmp_path)
    deployed_pool.identity.verify(NEWCOMER, END_OF_2035, 276, sender=compliance)
    nonce = investor.nonce

    refused(
        submit(deployed_pool, out),
        f"{NEWCOMER} is already verified until {format_moment(END_OF_2035)} under jurisdiction "
        "276: nothing to submit",
    )
    assert investor.nonce == nonce


def test_an_unknown_sender(deployed_pool, tmp_path, untouched):
    out = signed(deployed_pool, tmp_path)

    refused(
        submit(deployed_pool, out, "--account", "nobody"),
        "--account nobody: no ape account with that alias",
    )
