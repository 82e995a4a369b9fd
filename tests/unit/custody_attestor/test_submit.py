"""submit(): signed attestations recorded on the registry, once, with enough custodians' signatures
for the holder (threshold and per-pool threshold), and what the registry then checks of the GPUs."""

import ape
import pytest

from tests.utils.custody import MAX_IDS, MAX_SIGNERS, attest, attestation_time, submit_args
from tests.utils.registry import DAY, MAX_BATCH, GpuStatus


def test_submit(registry, attestor, gpus, investor, custodian, attacker, chain):
    """Anyone submits (here the attacker): the registry records the signed time for each GPU, and
    `submit` returns the digest."""
    first, second, third = gpus
    registered_at = registry.gpu(second).last_attested_at
    # The head block's time: `submit.call` runs at the head block, where it is not in the future.
    at = chain.blocks.head.timestamp
    args = submit_args(attestor, [third, first], investor, at)
    digest = bytes(attestor.digest([third, first], at))
    assert not attestor.submitted(digest)
    assert bytes(attestor.submit.call(*args, sender=attacker)) == digest

    tx = attestor.submit(*args, sender=attacker)

    assert attestor.submitted(digest)
    assert [registry.gpu(i).last_attested_at for i in gpus] == [at, registered_at, at]
    [submitted] = tx.decode_logs(attestor.AttestationSubmitted)
    assert (
        bytes(submitted.digest),
        submitted.holder,
        submitted.attested_at,
        submitted.gpus,
        list(submitted.signers),
        submitted.submitter,
    ) == (digest, investor.address, at, 2, [custodian.address], attacker.address)
    attested = tx.decode_logs(registry.GpuAttested)
    assert [(log.token_id, log.attested_at, log.custodian) for log in attested] == [
        (third, at, attestor.address),
        (first, at, attestor.address),
    ]
    assert submitted.log_index < attested[0].log_index


def test_a_time_in_the_past_is_recorded_as_signed(registry, attestor, gpus, investor, chain):
    at = chain.blocks.head.timestamp - DAY // 2

    tx = attest(attestor, gpus, at=at)

    assert tx.timestamp > at
    assert all(registry.terms(i).last_attested_at == at for i in gpus)


def test_replay_of_the_same_signatures(attestor, gpus, investor, attacker):
    at = attestation_time(attestor, gpus)
    args = submit_args(attestor, gpus, investor, at)
    attestor.submit(*args, sender=attacker)

    with ape.reverts("attestor: already submitted"):
        attestor.submit(*args, sender=attacker)


def test_a_time_in_the_future(attestor, gpus, investor, chain):
    at = chain.pending_timestamp + DAY
    chain.pending_timestamp = at - DAY // 2

    with ape.reverts("registry: attestation in the future"):
        attest(attestor, gpus, holder=investor, at=at)


@pytest.mark.parametrize("offset", [0, -1], ids=["same time", "earlier"])
def test_a_time_not_newer_than_the_last(attestor, registry, gpus, investor, chain, offset):
    """A message signed for a time at or before a GPU's last attestation is dead."""
    last = chain.blocks.head.timestamp - DAY // 2
    attest(attestor, gpus[:1], at=last)

    with ape.reverts("registry: attestation not newer"):
        attest(attestor, gpus, at=last + offset)

    assert registry.terms(gpus[1]).last_attested_at < last


def test_ids_not_owned_by_the_holder(registry, attestor, gpus, investor, other_investor):
    at = attestation_time(attestor, gpus)
    args = submit_args(attestor, gpus, other_investor, at)

    with ape.reverts("registry: gpu not held by holder"):
        attestor.submit(*args, sender=other_investor)

    assert not attestor.submitted(attestor.digest(gpus, at))


def test_unknown_and_retired_gpus(attestor, gpus, set_status, investor):
    with ape.reverts("registry: unknown GPU"):
        attest(attestor, [gpus[0], 99], holder=investor, at=attestation_time(attestor, gpus))
    set_status(gpus[1], GpuStatus.RETIRED)
    with ape.reverts("registry: GPU retired"):
        attest(attestor, gpus, holder=investor)


def test_empty_batch(attestor, investor):
    with ape.reverts("registry: empty batch"):
        attest(attestor, [], holder=investor)


def test_no_signature(attestor, gpus, investor, custodian):
    holder, ids, at, _ = submit_args(attestor, gpus, investor, attestation_time(attestor, gpus))

    with ape.reverts("attestor: too few signatures"):
        attestor.submit(holder, ids, at, [], sender=custodian)


def test_bounds_cannot_be_decoded(attestor, gpus, investor, custodian):
    holder, ids, at, [signature] = submit_args(
        attestor, gpus, investor, attestation_time(attestor, gpus)
    )

    with ape.reverts():
        attestor.submit(holder, ids, at, [signature] * (MAX_SIGNERS + 1), sender=custodian)
    with ape.reverts():
        attestor.submit(holder, [1] * (MAX_IDS + 1), at, [signature], sender=custodian)


# M-OF-N #


def test_two_of_three(registry, attestor, admin, gpus, investor, custodians, chain):
    attestor.set_threshold(2, sender=admin)
    at = attestation_time(attestor, gpus)
    holder, ids, _, [first, second, third] = submit_args(attestor, gpus, investor, at, custodians)

    with ape.reverts("attestor: too few signatures"):
        attestor.submit(holder, ids, at, [second], sender=admin)

    tx = attestor.submit(holder, ids, at, [first, third], sender=admin)

    [submitted] = tx.decode_logs(attestor.AttestationSubmitted)
    assert list(submitted.signers) == [custodians[0].address, custodians[2].address]
    assert all(registry.terms(i).last_attested_at == at for i in ids)


def test_all_three_of_a_two_of_three(attestor, admin, gpus, investor, custodians):
    attestor.set_threshold(2, sender=admin)

    tx = attest(attestor, gpus, signers=custodians, sender=admin)

    [submitted] = tx.decode_logs(attestor.AttestationSubmitted)
    assert list(submitted.signers) == [c.address for c in custodians]


def test_threshold_counts_at_submission(attestor, admin, gpus, investor, custodians):
    """Signatures collected before the admin raised the threshold are counted against the new
    one."""
    at = attestation_time(attestor, gpus)
    args = submit_args(attestor, gpus, investor, at, custodians[:2])
    attestor.set_threshold(3, sender=admin)

    with ape.reverts("attestor: too few signatures"):
        attestor.submit(*args, sender=admin)

    attestor.set_threshold(2, sender=admin)
    attestor.submit(*args, sender=admin)


def test_pool_threshold_applies_to_that_holder_only(
    registry, attestor, admin, register_gpus, investor, other_investor, custodians, chain
):
    mine = register_gpus(2).token_ids
    theirs = register_gpus(2, owner=other_investor).token_ids
    chain.mine(timestamp=chain.pending_timestamp + DAY)
    attestor.set_pool_threshold(investor, 2, sender=admin)
    assert (attestor.required(investor), attestor.required(other_investor)) == (2, 1)

    with ape.reverts("attestor: too few signatures"):
        attest(attestor, mine, holder=investor)
    attest(attestor, theirs, holder=other_investor)
    tx = attest(attestor, mine, holder=investor, signers=custodians[1:])

    [submitted] = tx.decode_logs(attestor.AttestationSubmitted)
    assert len(submitted.signers) == 2
    assert registry.terms(mine[0]).last_attested_at == submitted.attested_at


def test_required_is_the_larger_of_the_two(attestor, admin, investor, other_investor):
    attestor.set_pool_threshold(investor, 2, sender=admin)
    attestor.set_threshold(3, sender=admin)
    assert (attestor.required(investor), attestor.required(other_investor)) == (3, 3)

    attestor.set_pool_threshold(investor, 5, sender=admin)
    assert (attestor.required(investor), attestor.required(other_investor)) == (5, 3)

    attestor.set_pool_threshold(investor, 0, sender=admin)
    assert attestor.required(investor) == 3


# A LARGE BATCH #


@pytest.mark.anvil_only("about 11M gas in one transaction and 21 registrations: slow on Ganache")
def test_a_batch_of_1024_ids_in_one_call(registry, attestor, register_gpus, investor, chain):
    token_ids = register_gpus(MAX_IDS, batch_size=MAX_BATCH).token_ids
    chain.mine(timestamp=chain.pending_timestamp + DAY)

    tx = attest(attestor, token_ids, holder=investor)

    at = tx.decode_logs(attestor.AttestationSubmitted)[0].attested_at
    attested = tx.decode_logs(registry.GpuAttested)
    assert [log.token_id for log in attested] == token_ids
    assert registry.terms(token_ids[0]).last_attested_at == at
    assert registry.terms(token_ids[-1]).last_attested_at == at
