"""Contract sources in printable ASCII only: Vyper 0.4.x has been reported to change literals
silently around byte-order marks, form feeds, Unicode line separators and non-ASCII letters, so
any byte outside 0x20-0x7E (newline aside) in contracts/ is refused.

    python -m gpu_rwa.sources contracts      # what `make lint` runs; exit 1 on any finding
"""

import sys
from pathlib import Path

ALLOWED = frozenset(range(0x20, 0x7F)) | {0x0A}


def foreign_bytes(data: bytes) -> list[tuple[int, int, int]]:
    """Every byte outside printable ASCII and newline, as (line, column, byte), 1-based."""
    found = []
    line, column = 1, 0
    for byte in data:
        column += 1
        if byte not in ALLOWED:
            found.append((line, column, byte))
        if byte == 0x0A:
            line, column = line + 1, 0
    return found


def check_tree(root: Path) -> list[str]:
    """One line per foreign byte in every file under `root`."""
    return [
        f"{path}:{line}:{column}: byte 0x{byte:02X} is not printable ASCII"
        for path in sorted(p for p in root.rglob("*") if p.is_file())
        for line, column, byte in foreign_bytes(path.read_bytes())
    ]


def main(argv: list[str]) -> int:
    findings = [line for root in argv for line in check_tree(Path(root))]
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
