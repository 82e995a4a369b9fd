"""Invariant 6 from the events (`gpu_rwa.audit._match_moves`): a GPU leaves the pool only in a
transaction whose flow accounts for its value, and comes in for cash only at the market's
purchase. Each transaction's moves are built here as the replay records them."""

import pytest

from gpu_rwa.audit import Books, Moves, PoolParameters, _match_moves

BUYER = "0x" + "b1" * 20
OPERATOR = "0x" + "0e" * 20
VALUE = 23_000
GPU, REPLACEMENT = 3, 11


def books_of(*moves: Moves) -> Books:
    books = Books(parameters=PoolParameters(8_000, 30 * 86_400, 7 * 86_400, 10**12), vault="v")
    books.moves = {f"0x{i:064x}": m for i, m in enumerate(moves)}
    return books


def sale(price: int = VALUE + 1_000, floor: int = VALUE, **changes) -> Moves:
    """GPU 3 sold to BUYER at `price`: the exit, the collateral's release, the market's sale and
    the skim of the gain, as one transaction logs them."""
    to_cash = min(price, VALUE)
    moves = Moves(
        block=7,
        exits=[(GPU, BUYER)],
        released={GPU: (BUYER, price, VALUE, to_cash, to_cash)},
        sold={GPU: (BUYER, price, VALUE, floor)},
        skimmed=price - to_cash,
    )
    for name, value in changes.items():
        setattr(moves, name, value)
    return moves


def rma(value_in: int = VALUE + 5) -> Moves:
    """GPU 3 handed back to the operator against GPU 11, admitted in the same transaction."""
    return Moves(
        block=9,
        exits=[(GPU, OPERATOR)],
        released={GPU: (OPERATOR, 0, VALUE, 0, 0)},
        admitted={REPLACEMENT: (0, value_in)},
        replaced={GPU: (REPLACEMENT, VALUE, value_in)},
    )


def matched(*moves: Moves) -> tuple[list[str], set[int]]:
    books = books_of(*moves)
    _match_moves(books)
    return books.move_anomalies, books.released


def test_a_sale_at_or_above_its_floor_is_accounted_for():
    assert matched(sale()) == ([], {GPU})
    assert matched(sale(price=VALUE)) == ([], {GPU})


def test_an_rma_against_a_replacement_worth_as_much_is_accounted_for():
    assert matched(rma()) == ([], {GPU})
    assert matched(rma(value_in=VALUE)) == ([], {GPU})


@pytest.mark.parametrize(
    ("moves", "why"),
    [
        (sale(released={}), "GPU 3 left the pool with no GpuReleased (block 7)"),
        (sale(sold={}), "GPU 3 left the pool with neither a sale nor an RMA (block 7)"),
        (sale(price=VALUE - 1, floor=VALUE), "sold for 22999, below its floor of 23000"),
        (sale(exits=[(GPU, OPERATOR)]), f"to {OPERATOR}, GpuReleased named {BUYER}"),
        (
            sale(sold={GPU: (BUYER, VALUE + 1_000, VALUE - 1, VALUE)}),
            "sold as ",
        ),
        (
            sale(released={GPU: (BUYER, VALUE + 1_000, VALUE, VALUE - 1, VALUE)}),
            "sold for 24000: 22999 into free cash, 23000 expected",
        ),
        (sale(skimmed=0), "a sale's gain of 1000 was not streamed to holders (block 7)"),
        (rma(value_in=VALUE - 1), "in an RMA for GPU 11, admitted as (0, 22999), worth 22999"),
    ],
)
def test_an_exit_not_accounted_for_is_named(moves, why):
    anomalies, _ = matched(moves)
    assert any(why in a for a in anomalies), anomalies


def test_a_purchase_must_be_the_markets():
    bought = Moves(block=5, admitted={GPU: (20_000, VALUE)}, purchased={GPU: (20_000, VALUE)})
    assert matched(bought) == ([], set())
    unmatched = Moves(block=5, admitted={GPU: (20_000, VALUE)})
    anomalies, _ = matched(unmatched)
    assert anomalies == [
        "GPU 3 came in for 20000 with no purchase of the market to match (it logged None) (block 5)"
    ]
    # Admitted for nothing outside an RMA: no flow accounts for it either.
    anomalies, _ = matched(Moves(block=5, admitted={GPU: (0, VALUE)}))
    assert len(anomalies) == 1
