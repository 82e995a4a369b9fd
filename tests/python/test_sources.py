"""The contract-source check of `make lint`: any byte outside printable ASCII and newline."""

from pathlib import Path

import pytest

from gpu_rwa.sources import check_tree, foreign_bytes, main


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"x: uint256 = 1\n", []),
        (b"\xef\xbb\xbfx = 1\n", [(1, 1, 0xEF), (1, 2, 0xBB), (1, 3, 0xBF)]),  # byte-order mark
        (b"a\n\x0cb\n", [(2, 1, 0x0C)]),  # form feed
        (b"s = 'a\xe2\x80\xa8b'\n", [(1, 7, 0xE2), (1, 8, 0x80), (1, 9, 0xA8)]),  # U+2028
        (b"\tx = 1\r\n", [(1, 1, 0x09), (1, 7, 0x0D)]),  # tab, carriage return
        (b"caf\xc3\xa9\n", [(1, 4, 0xC3), (1, 5, 0xA9)]),  # a non-ASCII letter
    ],
)
def test_foreign_bytes(text, expected):
    assert foreign_bytes(text) == expected


def test_check_tree_names_file_line_and_byte(tmp_path):
    (tmp_path / "ok.vy").write_bytes(b"x: uint256\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.vyi").write_bytes(b"ok\n\xc2\xa0\n")
    assert check_tree(tmp_path) == [
        f"{tmp_path}/sub/bad.vyi:2:1: byte 0xC2 is not printable ASCII",
        f"{tmp_path}/sub/bad.vyi:2:2: byte 0xA0 is not printable ASCII",
    ]
    assert main([str(tmp_path)]) == 1
    (tmp_path / "sub" / "bad.vyi").write_bytes(b"ok\n")
    assert main([str(tmp_path)]) == 0


def test_contracts_are_printable_ascii():
    assert check_tree(Path("contracts")) == []
