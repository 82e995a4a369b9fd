"""`ape run custody sign|submit`: custodians sign what they saw (EIP-712, one batch per holder of up
to 500 ids), co-signers add their signatures (M-of-N), anyone submits; resumable; every input
checked first, a bad one is one line and nothing is sent or written."""

import json

import pytest
from eth_account import Account

from gpu_rwa import custody
from gpu_rwa.custody import (
    CustodianSignature,
    SignaturesFile,
    SignedBatch,
    attestation_message,
    load_signatures,
    message_digest,
    write_signatures,
)
from gpu_rwa.types import format_time
from tests.scripts.utils import (
    GPU_OUTSIDE,
    OPERATOR_KEY,
    head_logs,
    one_line,
    refused,
    rewrite,
    script,
)
from tests.utils.governance import govern
from tests.utils.registry import CUSTODIAN_ROLE, DAY, make_spec
from tests.utils.scripts import run_script


@pytest.fixture
def pool(deployed_pool, chain):
    """`deployed_pool` with a block mined a minute after the set-up's: an attestation must be
    newer than the registration (the GPUs' first attestation)."""
    chain.mine(timestamp=chain.pending_timestamp + 60)
    return deployed_pool


@pytest.fixture
def ids_file(tmp_path):
    """`ids_file(text, name="seen.txt")`: an ids file in the test's directory."""

    def _write(text: str, name: str = "seen.txt"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


def sign(pool, ids, out, *args):
    return script(pool, "custody", "sign", "--ids", str(ids), "--out", str(out), *args)


def submit(pool, signed, *args):
    return script(pool, "custody", "submit", str(signed), *args)


# SIGN #


def test_sign_writes_one_batch_per_holder(pool, ids_file, tmp_path, custodian, chain):
    out = tmp_path / "visit.json"
    nonce = custodian.nonce
    before = chain.pending_timestamp

    result = sign(pool, ids_file("1 3\n2  # the pool's second\n"), out)

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce, "signing sent a transaction"
    data = json.loads(out.read_text())
    at = data["attested_at"]
    assert before <= at <= chain.pending_timestamp  # the chain's time
    assert (data["chain_id"], data["attestor"]) == (chain.chain_id, pool.attestor.address)
    holders = [(b["holder"], b["token_ids"]) for b in data["batches"]]
    assert holders == [(pool.collateral.address, [1, 2]), (pool.registry.ownerOf(3), [3])]
    signed = load_signatures(out)
    for batch in signed.batches:
        assert bytes.fromhex(batch.digest[2:]) == bytes(pool.attestor.digest(batch.token_ids, at))
        assert batch.signers == [custodian.address]
    assert one_line(result) == (
        f"signed 3 GPU(s) in 2 batch(es) as {custodian.address}, attested at "
        f"{format_time(at)} UTC (unix {at}); {out} holds 1 signature(s) a batch"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("seen.csv", "token_id,note\n1,rack 4\n\n2,rack 5\n"),
        ("seen.json", "[1, 2]"),
        ("seen.txt", "1,2"),
    ],
)
def test_ids_file_formats(pool, ids_file, tmp_path, name, text):
    out = tmp_path / "visit.json"

    result = sign(pool, ids_file(text, name), out)

    assert result.exit_code == 0, result.output
    assert load_signatures(out).token_ids == [1, 2]


def test_sign_in_batches(pool, ids_file, tmp_path, custodian, operator, chain):
    specs = [make_spec(acquired_at=chain.pending_timestamp - DAY) for _ in range(4)]
    pool.registry.register(operator, specs, sender=custodian)
    chain.mine(timestamp=chain.pending_timestamp + 60)
    out = tmp_path / "visit.json"

    result = sign(pool, ids_file("3 4 5 6 7"), out, "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert [b.token_ids for b in load_signatures(out).batches] == [[3, 4], [5, 6], [7]]


@pytest.mark.parametrize("form", ["unix", "iso"])
def test_sign_at_a_given_time(pool, ids_file, tmp_path, chain, form):
    at = chain.blocks.head.timestamp - 30
    given = (
        str(at) if form == "unix" else format_time(at).replace(" ", "T") + ":" + f"{at % 60:02d}"
    )
    out = tmp_path / "visit.json"

    result = sign(pool, ids_file(str(GPU_OUTSIDE)), out, "--at", given)

    assert result.exit_code == 0, result.output
    assert load_signatures(out).attested_at == at


def test_sign_with_a_key_from_the_environment(pool, ids_file, tmp_path, monkeypatch, admin):
    """$GPU_RWA_CUSTODIAN_KEY signs when no --account is given (here the operator's key, granted
    CUSTODIAN_ROLE)."""
    signer = Account.from_key(OPERATOR_KEY).address
    govern(pool, admin, "GpuRegistry", "grantRole", CUSTODIAN_ROLE, signer)
    monkeypatch.setenv("GPU_RWA_CUSTODIAN_KEY", OPERATOR_KEY)
    out = tmp_path / "visit.json"

    result = sign(pool, ids_file("1"), out)

    assert result.exit_code == 0, result.output
    assert load_signatures(out).batches[0].signers == [signer]


# SUBMIT #


def test_submit(pool, ids_file, tmp_path, custodian, chain):
    out = tmp_path / "visit.json"
    assert sign(pool, ids_file("1 2 3"), out).exit_code == 0
    at = load_signatures(out).attested_at
    nonce = custodian.nonce

    result = submit(pool, out)

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 2
    assert all(pool.registry.terms(i).last_attested_at == at for i in (1, 2, 3))
    head = chain.blocks.head.number
    submitted = list(pool.attestor.AttestationSubmitted.range(head - 1, head + 1))
    assert [(log.holder, log.gpus, log.attested_at) for log in submitted] == [
        (pool.collateral.address, 2, at),
        (pool.registry.ownerOf(GPU_OUTSIDE), 1, at),
    ]
    assert "submitting" in result.output
    assert f"submitted 2 batch(es), 3 GPU(s) attested at {format_time(at)} UTC" in result.output


def test_submit_resumes(pool, ids_file, tmp_path, custodian, attacker):
    """A batch already submitted (by anyone) is skipped: the rest is sent; a second run sends
    nothing."""
    out = tmp_path / "visit.json"
    assert sign(pool, ids_file("1 2 3"), out).exit_code == 0
    signed = load_signatures(out)
    first = signed.batches[0]
    pool.attestor.submit(
        first.holder,
        first.token_ids,
        signed.attested_at,
        [s.signature for s in first.signatures],
        sender=attacker,
    )
    nonce = custodian.nonce

    result = submit(pool, out)

    assert result.exit_code == 0, result.output
    assert custodian.nonce == nonce + 1
    assert "1 of 2 batch(es) already submitted; skipping them" in result.output
    assert "submitted 1 batch(es), 1 GPU(s)" in result.output

    again = submit(pool, out)
    assert again.exit_code == 0, again.output
    assert custodian.nonce == nonce + 1
    assert "2 of 2 batch(es) already submitted" in again.output
    assert "nothing left to submit" in again.output


def test_submit_by_another_sender(pool, ids_file, tmp_path, custodian, attacker, chain):
    out = tmp_path / "visit.json"
    assert sign(pool, ids_file("3"), out).exit_code == 0
    nonce = attacker.nonce

    result = submit(pool, out, "--account", "TEST::9")

    assert result.exit_code == 0, result.output
    assert attacker.nonce == nonce + 1
    (log,) = head_logs(chain, pool.attestor.AttestationSubmitted)
    assert (log.submitter, list(log.signers)) == (attacker.address, [custodian.address])


# M-OF-N #


def test_two_custodians_sign_a_pool_that_takes_two(
    pool, ids_file, tmp_path, admin, custodian, operator, chain
):
    govern(pool, admin, "CustodyAttestor", "set_pool_threshold", pool.collateral, 2)
    govern(pool, admin, "GpuRegistry", "grantRole", CUSTODIAN_ROLE, operator)
    ids, out = ids_file("1 2"), tmp_path / "visit.json"
    assert sign(pool, ids, out).exit_code == 0
    nonces = custodian.nonce, operator.nonce

    refused(
        submit(pool, out),
        f"batch 1 (GPUs 1, 2): 1 signature(s); attesting the GPUs of {pool.collateral.address} "
        "takes 2: add them with `ape run custody sign --add`",
    )

    added = sign(pool, ids, out, "--add", "--account", "TEST::1")
    assert added.exit_code == 0, added.output
    assert "holds 2 signature(s) a batch" in one_line(added)
    signers = load_signatures(out).batches[0].signers
    assert signers == sorted([custodian.address, operator.address], key=lambda a: int(a, 16))
    assert (custodian.nonce, operator.nonce) == nonces

    result = submit(pool, out)

    assert result.exit_code == 0, result.output
    (log,) = head_logs(chain, pool.attestor.AttestationSubmitted)
    assert list(log.signers) == signers


# BAD INPUT: NOTHING WRITTEN, NOTHING SENT #


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("seen.txt", "1\n2 x\n", "seen.txt:2: not a GPU id: 'x' (ids are whole numbers from 1)"),
        ("seen.txt", "1\n0\n", "seen.txt:2: not a GPU id: '0'"),
        ("seen.txt", "1 2\n1\n", "seen.txt:2: GPU 1 is listed twice (first at"),
        ("seen.txt", "# nothing\n", "seen.txt: no GPU id in the file"),
        ("seen.csv", "id\n1\n", "seen.csv:1: no `token_id` column in the header"),
        ("seen.csv", "token_id\n1\n1.5\n", "seen.csv:3: not a GPU id: '1.5'"),
        ("seen.json", '{"ids": [1]}', "a JSON ids file is a list of GPU ids, e.g. [1, 2, 3]"),
        ("seen.json", "[1, true]", "seen.json: item 2: not a GPU id: True"),
        ("seen.json", "[1,", "seen.json: not valid JSON"),
    ],
)
def test_bad_ids_file(pool, ids_file, tmp_path, custodian, name, text, message):
    out = tmp_path / "visit.json"
    refused(sign(pool, ids_file(text, name), out), message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--batch-size", "0"), "--batch-size: Input should be greater than or equal to 1"),
        (("--batch-size", "501"), "--batch-size: Input should be less than or equal to 500"),
        (("--at", "yesterday"), "--at: not a time: 'yesterday'"),
        (("--at", "0"), "--at: Input should be greater than 0"),
        (
            ("--account", "TEST::7"),
            "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 does not hold CUSTODIAN_ROLE on the "
            "registry",
        ),
    ],
)
def test_bad_sign_options(pool, ids_file, tmp_path, args, message):
    out = tmp_path / "visit.json"
    refused(sign(pool, ids_file("1"), out, *args), message)
    assert not out.exists()


def test_sign_refuses_what_the_registry_would(pool, ids_file, tmp_path, custodian, chain):
    out = tmp_path / "visit.json"
    now = chain.pending_timestamp
    registered = pool.registry.terms(1).last_attested_at
    refused(sign(pool, ids_file("1 99"), out), "GPU 99 is not registered (ids run from 1 to 3)")
    refused(
        sign(pool, ids_file("1"), out, "--at", str(now + DAY)),
        f"the attestation time {format_time(now + DAY)} UTC (unix {now + DAY}) is after the "
        "chain's time",
    )
    refused(
        sign(pool, ids_file("1"), out, "--at", str(registered)),
        f"GPU 1 was last attested at {format_time(registered)} UTC (unix {registered}): an "
        f"attestation at {format_time(registered)} UTC (unix {registered}) is not newer",
    )
    assert not out.exists()


def test_sign_does_not_overwrite(pool, ids_file, tmp_path):
    out = tmp_path / "visit.json"
    out.write_text("keep me")
    refused(
        sign(pool, ids_file("1"), out),
        f"{out} exists: pass --add to add a signature to it, or pick another --out",
    )
    assert out.read_text() == "keep me"


def test_bad_add(pool, ids_file, tmp_path, admin, operator, chain):
    out = tmp_path / "visit.json"
    refused(
        sign(pool, ids_file("1"), out, "--add"),
        f"{out}: no such file",
    )
    assert sign(pool, ids_file("1 2"), out).exit_code == 0
    before = out.read_text()
    at = load_signatures(out).attested_at
    refused(
        sign(pool, ids_file("1 2"), out, "--add"),
        f"{out} is already signed by 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    )
    refused(
        sign(pool, ids_file("1 2 3"), out, "--add", "--account", "TEST::1"),
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8 does not hold CUSTODIAN_ROLE on the registry",
    )
    govern(pool, admin, "GpuRegistry", "grantRole", CUSTODIAN_ROLE, operator)
    refused(
        sign(pool, ids_file("1 2 3"), out, "--add", "--account", "TEST::1"),
        f"the ids differ from those signed in {out}: GPU 3 is in the ids file but not signed",
    )
    refused(
        sign(pool, ids_file("1"), out, "--add", "--account", "TEST::1"),
        f"the ids differ from those signed in {out}: GPU 2 is signed in {out} but not in the ids",
    )
    refused(
        sign(pool, ids_file("1 2"), out, "--add", "--account", "TEST::1", "--at", str(at - 1)),
        f"--at {format_time(at - 1)} UTC (unix {at - 1}) differs from the time signed in {out}",
    )
    assert out.read_text() == before


def test_bad_key_in_the_environment(pool, ids_file, tmp_path, monkeypatch):
    monkeypatch.setenv("GPU_RWA_CUSTODIAN_KEY", "0x1234")
    out = tmp_path / "visit.json"
    refused(sign(pool, ids_file("1"), out), "$GPU_RWA_CUSTODIAN_KEY: not a private key")
    assert not out.exists()


@pytest.fixture
def signed_file(pool, ids_file, tmp_path):
    out = tmp_path / "visit.json"
    assert sign(pool, ids_file("1 2 3"), out).exit_code == 0
    return out


def test_bad_signatures_file(pool, signed_file, tmp_path, custodian):
    nonce = custodian.nonce
    refused(submit(pool, tmp_path / "none.json"), "none.json: no such file")
    (tmp_path / "broken.json").write_text("{")
    refused(submit(pool, tmp_path / "broken.json"), "broken.json: not valid JSON")

    rewrite(signed_file, lambda d: d["batches"][0]["token_ids"].reverse())
    refused(submit(pool, signed_file), "batch 1: digest is not that of its ids and time")
    rewrite(signed_file, lambda d: d["batches"][0]["token_ids"].reverse())

    other = signed_file.with_name("other.json")
    other.write_text(signed_file.read_text())
    rewrite(other, lambda d: d["batches"][1].update(signatures=d["batches"][0]["signatures"]))
    refused(submit(pool, other), f"batch 2: the signature of {custodian.address} recovers to")

    rewrite(other, lambda d: d.update(attested_at=d["attested_at"] + 1))
    refused(submit(pool, other), "batch 1: digest is not that of its ids and time")
    assert custodian.nonce == nonce


def signed_elsewhere(pool, custodian, chain, path, chain_id: int, attestor: str) -> None:
    """A consistent signatures file of GPUs 1 and 2 bound to `chain_id` and `attestor`."""
    at = chain.pending_timestamp
    message = attestation_message(chain_id, attestor, [1, 2], at)
    batch = SignedBatch(
        holder=pool.collateral.address,
        token_ids=[1, 2],
        digest="0x" + message_digest(message).hex(),
        signatures=[
            CustodianSignature(
                signer=custodian.address, signature="0x" + custody.sign(custodian, message).hex()
            )
        ],
    )
    write_signatures(
        SignaturesFile(chain_id=chain_id, attestor=attestor, attested_at=at, batches=[batch]),
        path,
    )


def test_submit_refuses_another_chain_or_attestor(project, pool, tmp_path, admin, custodian, chain):
    out = tmp_path / "visit.json"
    signed_elsewhere(pool, custodian, chain, out, chain.chain_id + 1, pool.attestor.address)
    refused(
        submit(pool, out),
        f"{out} is signed for chain id {chain.chain_id + 1}, not this chain ({chain.chain_id})",
    )

    other = project.CustodyAttestor.deploy(pool.registry, 1, sender=admin)
    signed_elsewhere(pool, custodian, chain, out, chain.chain_id, other.address)
    nonce = custodian.nonce
    refused(
        submit(pool, out),
        f"{out} is signed for the attestor {other.address}, not this deployment's "
        f"({pool.attestor.address})",
    )
    assert custodian.nonce == nonce


def test_submit_refuses_a_revoked_signer(pool, signed_file, admin, custodian):
    govern(pool, admin, "GpuRegistry", "revokeRole", CUSTODIAN_ROLE, custodian)
    nonce = custodian.nonce
    refused(
        submit(pool, signed_file),
        f"batch 1 (GPUs 1, 2): the signer {custodian.address} does not hold CUSTODIAN_ROLE on "
        "the registry",
    )
    assert custodian.nonce == nonce


def test_submit_refuses_a_gpu_that_changed_hands(pool, signed_file, operator, investor, custodian):
    pool.registry.transferFrom(operator, investor, GPU_OUTSIDE, sender=operator)
    nonce = custodian.nonce
    refused(
        submit(pool, signed_file),
        f"GPU {GPU_OUTSIDE} is held by {investor.address} now, not {operator.address} as when "
        "signed: sign it again",
    )
    assert custodian.nonce == nonce


def test_submit_refuses_a_time_still_to_come(pool, ids_file, tmp_path, custodian, chain):
    """Signed on a branch where the clock ran ahead; the chain here is behind that time."""
    out = tmp_path / "visit.json"
    with chain.isolate():
        chain.mine(timestamp=chain.pending_timestamp + DAY)
        assert sign(pool, ids_file("1"), out).exit_code == 0
    chain.mine()  # a block on this branch: Ganache's pending block is its head
    at = load_signatures(out).attested_at
    nonce = custodian.nonce

    refused(
        submit(pool, out),
        f"the attestation time {format_time(at)} UTC (unix {at}) is after the chain's time",
    )
    assert custodian.nonce == nonce


def test_submit_refuses_an_attestation_overtaken(pool, signed_file, custodian, chain):
    """The GPUs were attested after the file's time (another visit): the file is dead."""
    chain.mine(timestamp=load_signatures(signed_file).attested_at + 60)
    assert script(pool, "registry", "attest", str(GPU_OUTSIDE)).exit_code == 0
    last = pool.registry.terms(GPU_OUTSIDE).last_attested_at
    nonce = custodian.nonce
    refused(
        submit(pool, signed_file),
        f"GPU {GPU_OUTSIDE} was last attested at {format_time(last)} UTC (unix {last})",
    )
    assert custodian.nonce == nonce


# HELP #


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("sign", ["--ids", "--out", "--at", "--add", "--batch-size", "--account", "--manifest"]),
        ("submit", ["--account", "--manifest"]),
    ],
)
def test_help_for_every_option(command, options):
    result = run_script("custody", command, "--help")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for option in options:
        [line] = [line for line in lines if line.startswith(f"  {option} ")]
        assert len(line.split(maxsplit=2)) > 1, f"{option} has no help"
