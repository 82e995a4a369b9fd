"""`ape run invest request-redeem|cancel|claim-redeem`, the queue in `invest portfolio`, and the
way `invest redeem` points to the queue when free cash is short: exact amounts and events; one
line and nothing sent on bad input."""

import pytest
from eth_utils import to_checksum_address

from tests.scripts.utils import head_logs, refused, script, table_cells
from tests.utils.registry import USDC
from tests.utils.vault import MIN_REQUEST

F = 10**12  # one whole fraction of the script pool (6-decimal USDC, offset 6)
UNVERIFIED = to_checksum_address("0x" + "ab" * 20)


def books(kit, *accounts) -> list:
    """What a refused command must not change: each account's stablecoin, fractions and nonce,
    and the queue's state."""
    queue = kit.queue
    return [
        *((kit.stablecoin.balanceOf(a), kit.vault.balanceOf(a), a.nonce) for a in accounts),
        (queue.last_id(), queue.pending_shares(), queue.cancelled_shares(), queue.reserved()),
    ]


def rows_of(output: str) -> dict[str, str]:
    return {cells[0]: cells[1] for cells in map(table_cells, output.splitlines()) if cells}


@pytest.fixture
def script_requests(invested, investor, operator, chain):
    """`invested` with three requests sent to the queue directly: 1 (investor, 100 fractions),
    2 (operator, 20,000: more than the free cash left) and 3 (investor, 30)."""
    queue = invested.queue
    queue.requestRedeem(100 * F, investor, investor, sender=investor)
    queue.requestRedeem(20_000 * F, operator, operator, sender=operator)
    queue.requestRedeem(30 * F, investor, investor, sender=investor)
    return invested


# REQUEST #


def test_request_redeem_escrows_and_the_portfolio_shows_it(
    invested, investor, other_investor, chain
):
    vault, queue = invested.vault, invested.queue
    held = vault.balanceOf(investor)

    result = script(invested, "invest", "request-redeem", "100")

    assert result.exit_code == 0, result.output
    (log,) = head_logs(chain, queue.RedeemRequest)
    assert (log.controller, log.owner, log.requestId, log.sender, log.shares) == (
        investor,
        investor,
        1,
        investor,
        100 * F,
    )
    assert vault.balanceOf(investor) == held - 100 * F
    assert queue.pendingRedeemRequest(1, investor) == 100 * F
    worth = vault.convertToAssets(100 * F)
    assert (
        f"request 1: 100.000000000000 GPU1 queued for redemption, worth {invested.cash(worth)} "
        "now (paid at the NAV of the block that fulfils it)"
    ) in result.output
    assert (
        "cancel it with `ape run invest cancel 1` while it is pending; once the operator runs "
        "`ape run vault fulfil`, claim it with `ape run invest claim-redeem`"
    ) in result.output

    # Everything else, for another (verified) controller: the claim passes to it.
    result = script(
        invested, "invest", "request-redeem", "--all", "--controller", other_investor.address
    )

    assert result.exit_code == 0, result.output
    rest = held - 100 * F
    (log,) = head_logs(chain, queue.RedeemRequest)
    assert (log.controller, log.owner, log.requestId, log.shares) == (
        other_investor,
        investor,
        2,
        rest,
    )
    assert vault.balanceOf(investor) == 0
    assert queue.controller_state(other_investor) == (rest, 1, 0, 0, 0)
    assert f"{other_investor.address} claims it with `ape run invest claim-redeem`" in result.output

    result = script(invested, "invest", "portfolio", other_investor.address)

    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    value = invested.cash(vault.convertToAssets(rest))
    assert rows["queued for redemption"] == (
        f"{invested.fractions(rest)} in 1 request(s), worth {value} now"
    )
    assert rows["request 2"] == (
        f"{invested.fractions(rest)}, worth {value} now; 100.000000000000 GPU1 ahead of it"
    )
    assert rows["fulfilled, to claim"] == "0.000000 USDC"
    assert rows["cancelled, to claim back"] == "0.000000000000 GPU1"
    assert "claim-redeem" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of FRACTIONS or --all"),
        (("100", "--all"), "give exactly one of FRACTIONS or --all"),
        (("1e3",), "FRACTIONS: not a non-negative decimal amount: '1e3'"),
        (("0",), "FRACTIONS: must be more than 0"),
        (("1.0000000000001",), "FRACTIONS: '1.0000000000001' has more than 12 decimal places"),
        (("20000",), "fewer than 20,000.000000000000 GPU1"),
        (
            ("9.5",),
            "9.500000000000 GPU1 is below the queue's minimum request of 10.000000000000 GPU1; "
            "redeem it now with `ape run invest redeem 9.5`",
        ),
        (("100", "--controller", "0x12"), "--controller: not an address: '0x12'"),
        (
            ("100", "--controller", UNVERIFIED),
            f"controller {UNVERIFIED}: it is not a verified investor (compliance runs "
            f"`ape run kyc add {UNVERIFIED}`)",
        ),
        (("--all", "--account", "TEST::9"), "holds no GPU1 fractions"),
    ],
)
def test_bad_request_sends_nothing(invested, investor, args, message):
    before = books(invested, investor)
    refused(script(invested, "invest", "request-redeem", *args), message)
    assert books(invested, investor) == before


def test_request_refused_at_the_cap_and_while_paused(invested, investor, pauser):
    queue = invested.queue
    most = queue.MAX_OPEN_PER_CONTROLLER()
    for _ in range(most):
        queue.requestRedeem(MIN_REQUEST, investor, investor, sender=investor)
    before = books(invested, investor)

    refused(
        script(invested, "invest", "request-redeem", "10"),
        f"{investor.address} already has {most} pending requests, the most one controller may "
        "have: cancel one (`ape run invest cancel REQUEST_ID`) or wait for `ape run vault fulfil`",
    )
    invested.vault.pause(sender=pauser)
    refused(
        script(invested, "invest", "request-redeem", "10", "--account", "TEST::1"),
        "the vault is paused: requesting a redemption is stopped until the admin unpauses it",
    )

    assert books(invested, investor) == before


def test_a_revoked_holder_requests_for_itself_only(
    invested, investor, other_investor, compliance, chain
):
    """Exit rights: no verification to queue one's own exit; naming another controller needs
    both verified."""
    invested.identity.revoke(investor, sender=compliance)
    before = books(invested, investor)
    refused(
        script(invested, "invest", "request-redeem", "50", "--controller", other_investor.address),
        f"owner {investor.address}: it is not a verified investor",
    )
    assert books(invested, investor) == before

    result = script(invested, "invest", "request-redeem", "50")

    assert result.exit_code == 0, result.output
    (log,) = head_logs(chain, invested.queue.RedeemRequest)
    assert (log.controller, log.owner, log.shares) == (investor, investor, 50 * F)


# CANCEL #


def test_cancel_a_pending_request(script_requests, investor, chain):
    queue = script_requests.queue

    result = script(script_requests, "invest", "cancel", "3")

    assert result.exit_code == 0, result.output
    (log,) = head_logs(chain, queue.CancelRedeemRequest)
    assert (log.controller, log.requestId, log.sender) == (investor, 3, investor)
    assert queue.controller_state(investor) == (100 * F, 1, 0, 0, 30 * F)
    assert queue.request(3)[1] == 0
    assert (
        "cancelled request 3: 30.000000000000 GPU1 to claim back with `ape run invest claim-redeem`"
    ) in result.output

    # Once is enough.
    before = books(script_requests, investor)
    refused(
        script(script_requests, "invest", "cancel", "3"),
        "request 3 is no longer pending: it was already cancelled",
    )
    assert books(script_requests, investor) == before


def test_an_approved_operator_cancels_for_its_controller(
    script_requests, investor, other_investor, chain
):
    script_requests.queue.setOperator(other_investor, True, sender=investor)

    result = script(script_requests, "invest", "cancel", "1", "--account", "TEST::8")

    assert result.exit_code == 0, result.output
    (log,) = head_logs(chain, script_requests.queue.CancelRedeemRequest)
    assert (log.controller, log.requestId, log.sender) == (investor, 1, other_investor)
    assert f"cancelled request 1 ({investor.address}'s): 100.000000000000 GPU1" in result.output


def test_bad_cancel_sends_nothing(script_requests, investor, operator):
    """Unknown, foreign, fulfilled or malformed ids: one line each, nothing sent."""
    script_requests.queue.fulfil(1, sender=operator)  # request 1, in full
    before = books(script_requests, investor)

    for args, message in [
        (("9",), "request 9 does not exist (the last request is 3)"),
        (("0",), "REQUEST_ID: Input should be greater than or equal to 1"),
        (("x",), "REQUEST_ID: Input should be a valid integer"),
        (
            ("2",),
            f"request 2 is not {investor.address}'s: only its controller {operator.address} (or "
            "an operator it approved) can cancel it",
        ),
        (
            ("1",),
            "request 1 is no longer pending: it was fulfilled: its controller claims the "
            "stablecoin with `ape run invest claim-redeem`",
        ),
    ]:
        refused(script(script_requests, "invest", "cancel", *args), message)

    assert books(script_requests, investor) == before


# CLAIM #


@pytest.fixture
def script_claimable(script_requests, investor, operator):
    """`script_requests` after the investor cancelled request 3 and the operator fulfilled request
    1: the investor has 100 fractions' stablecoin and 30 cancelled fractions to claim."""
    script_requests.queue.cancelRedeemRequest(3, investor, sender=investor)
    script_requests.queue.fulfil(1, sender=operator)
    return script_requests


def test_claim_redeem_takes_the_stablecoin_and_the_cancelled_fractions(
    script_claimable, investor, chain
):
    kit = script_claimable
    queue, vault, token = kit.queue, kit.vault, kit.stablecoin
    _, _, shares, assets, cancelled = queue.controller_state(investor)
    assert (shares, cancelled) == (100 * F, 30 * F)
    assert queue.maxWithdraw(investor) == assets
    cash, held = token.balanceOf(investor), vault.balanceOf(investor)

    result = script(script_claimable, "invest", "claim-redeem")

    assert result.exit_code == 0, result.output
    assert token.balanceOf(investor) == cash + assets
    assert vault.balanceOf(investor) == held + 30 * F
    assert queue.controller_state(investor) == (0, 0, 0, 0, 0)
    assert queue.reserved() == 0
    (paid,) = queue.Withdraw.range(chain.blocks.head.number - 1, chain.blocks.head.number)
    assert (paid.receiver, paid.owner, paid.assets, paid.shares) == (
        investor,
        investor,
        assets,
        100 * F,
    )
    (back,) = head_logs(chain, queue.CancelRedeemClaim)
    assert (back.controller, back.receiver, back.requestId, back.shares) == (
        investor,
        investor,
        3,
        30 * F,
    )
    assert (
        f"claimed {script_claimable.cash(assets)} for 100.000000000000 GPU1 of fulfilled "
        f"requests, to {investor.address}"
    ) in result.output
    assert (
        f"claimed back 30.000000000000 GPU1 of cancelled requests, to {investor.address}"
    ) in result.output

    refused(
        script(script_claimable, "invest", "claim-redeem"),
        f"{investor.address} has nothing to claim from the redemption queue: request one with "
        "`ape run invest request-redeem FRACTIONS`",
    )


def test_portfolio_shows_what_can_be_claimed(script_claimable, investor):
    assets = script_claimable.queue.maxWithdraw(investor)

    result = script(script_claimable, "invest", "portfolio", investor.address)

    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert rows["queued for redemption"] == "none"
    assert rows["fulfilled, to claim"] == (
        f"{script_claimable.cash(assets)} for 100.000000000000 GPU1"
    )
    assert rows["cancelled, to claim back"] == "30.000000000000 GPU1"
    assert "claim what the redemption queue holds with `ape run invest claim-redeem`" in (
        result.output
    )


def test_claim_redeem_to_another_verified_receiver(script_claimable, investor, other_investor):
    token, vault = script_claimable.stablecoin, script_claimable.vault
    assets = script_claimable.queue.maxWithdraw(investor)

    result = script(
        script_claimable, "invest", "claim-redeem", "--receiver", other_investor.address
    )

    assert result.exit_code == 0, result.output
    assert token.balanceOf(other_investor) == assets
    assert vault.balanceOf(other_investor) == 30 * F
    assert f"of cancelled requests, to {other_investor.address}" in result.output


def test_a_revoked_controller_claims_its_stablecoin_and_its_fractions_back(
    script_claimable, investor, compliance
):
    """Exit rights: a controller whose verification was revoked still takes both to itself, the
    stablecoin of its fulfilled requests and its cancelled fractions."""
    queue, token, vault = (
        script_claimable.queue,
        script_claimable.stablecoin,
        script_claimable.vault,
    )
    script_claimable.identity.revoke(investor, sender=compliance)
    assets, cash = queue.maxWithdraw(investor), token.balanceOf(investor)
    fractions = vault.balanceOf(investor)

    result = script(script_claimable, "invest", "claim-redeem")

    assert result.exit_code == 0, result.output
    assert token.balanceOf(investor) == cash + assets
    assert vault.balanceOf(investor) == fractions + 30 * F
    assert queue.controller_state(investor) == (0, 0, 0, 0, 0)
    assert f"claimed back 30.000000000000 GPU1 of cancelled requests, to {investor.address}" in (
        result.output
    )


def test_bad_claim_redeem_sends_nothing(script_claimable, investor, operator, pauser):
    before = books(script_claimable, investor, operator)
    refused(
        script(script_claimable, "invest", "claim-redeem", "--receiver", UNVERIFIED),
        f"receiver {UNVERIFIED}: it is not a verified investor",
    )
    refused(
        script(script_claimable, "invest", "claim-redeem", "--receiver", "0x12"),
        "--receiver: not an address: '0x12'",
    )
    refused(
        script(script_claimable, "invest", "claim-redeem", "--account", "TEST::1"),
        f"{operator.address} has nothing to claim from the redemption queue: its 1 pending "
        "request(s) for 20,000.000000000000 GPU1 wait for the operator's `ape run vault fulfil`",
    )
    script_claimable.vault.pause(sender=pauser)
    refused(
        script(script_claimable, "invest", "claim-redeem"),
        "the vault is paused: claiming redemptions is stopped until the admin unpauses it",
    )
    assert books(script_claimable, investor, operator) == before


# REDEEM POINTS TO THE QUEUE #


def test_redeem_hint_works_as_written(invested, operator, chain):
    """The operator holds more than free cash pays: `redeem --all` names the two commands that
    take what can leave now and queue the rest; run as written, they leave it holding nothing
    and one request pending for the rest."""
    vault = invested.vault
    held, now = vault.balanceOf(operator), vault.maxRedeem(operator)
    sell_now = f"ape run invest redeem {invested.fractions_arg(now)}"
    before = books(invested, operator)

    result = script(invested, "invest", "redeem", "--all", "--account", "TEST::1")

    refused(
        result,
        f"the vault's free cash is 10,000.000000 USDC; redeem that with `{sell_now}` and queue "
        "the rest with `ape run invest request-redeem --all`",
    )
    assert books(invested, operator) == before

    for command in (sell_now, "ape run invest request-redeem --all"):
        result = script(invested, *command.split()[2:], "--account", "TEST::1")
        assert result.exit_code == 0, result.output

    assert vault.balanceOf(operator) == 0
    assert invested.queue.controller_state(operator)[:2] == (held - now, 1)


def test_redeem_hints_to_queue_all_or_nothing(deployed_pool, investor, operator):
    """With no free cash everything is to queue, unless it is below the queue's minimum request;
    a rest below the minimum is queued with what could leave now."""
    kit = deployed_pool
    short = (
        "only 0.000000000000 GPU1 (0.000000 USDC) can be redeemed now: the vault's free cash is "
        "0.000000 USDC"
    )
    before = books(kit, operator)
    refused(
        script(kit, "invest", "redeem", "100", "--account", "TEST::1"),
        f"{short}; queue it with `ape run invest request-redeem 100`",
    )
    refused(
        script(kit, "invest", "redeem", "5", "--account", "TEST::1"),
        f"{short}; a queued request takes at least 10.000000000000 GPU1",
    )
    assert books(kit, operator) == before

    kit.stablecoin.approve(kit.vault, 10 * USDC, sender=investor)
    kit.vault.deposit(10 * USDC, investor, sender=investor)
    wanted = kit.fractions_arg(kit.vault.maxRedeem(operator) + 5 * F)
    before = books(kit, operator)
    refused(
        script(kit, "invest", "redeem", wanted, "--account", "TEST::1"),
        f"the vault's free cash is 10.000000 USDC; queue it all with `ape run invest "
        f"request-redeem {wanted}` (the rest alone is below the queue's minimum request of "
        "10.000000000000 GPU1)",
    )
    assert books(kit, operator) == before
