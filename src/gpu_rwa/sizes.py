"""Deployed code sizes against EIP-170, written as reports/sizes.json and reports/sizes.md.

The size is read from the chain (`eth_getCode`), so it counts the immutables Vyper appends to the
runtime code. Every deployable contract under contracts/ (a CamelCase file; snake_case files are
modules) must be measured and keep HEADROOM_MIN bytes under the limit.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from ape import chain

EIP170_LIMIT = 24_576
HEADROOM_MIN = 3 * 1_024
CONTRACTS_DIR = Path("contracts")


@dataclass(frozen=True)
class Size:
    name: str
    deployed: int

    @property
    def headroom(self) -> int:
        return EIP170_LIMIT - self.deployed


def deployable_names(directory: Path = CONTRACTS_DIR) -> list[str]:
    """The contracts a deployment can hold: CamelCase .vy files, mocks included."""
    return sorted(p.stem for p in directory.rglob("*.vy") if p.stem[:1].isupper())


def measure_sizes(addresses: dict[str, str]) -> list[Size]:
    return [
        Size(name, len(chain.provider.get_code(address))) for name, address in addresses.items()
    ]


def size_failures(sizes: list[Size], expected: list[str]) -> list[str]:
    measured = {size.name for size in sizes}
    failures = [f"{name}: not measured" for name in expected if name not in measured]
    failures += [
        f"{size.name}: {size.headroom:,} bytes under EIP-170 (at least {HEADROOM_MIN:,} needed)"
        for size in sizes
        if size.headroom < HEADROOM_MIN
    ]
    return failures


def write_sizes(sizes: list[Size], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    ordered = sorted(sizes, key=lambda size: size.name)
    figures = {s.name: {"deployed": s.deployed, "headroom": s.headroom} for s in ordered}
    (directory / "sizes.json").write_text(json.dumps(figures, indent=2) + "\n")
    lines = [
        "# Contract sizes",
        "",
        f"Deployed code (runtime and immutables) read from a fresh Anvil by `make bench`, against "
        f"the EIP-170 limit of {EIP170_LIMIT:,} bytes; each contract keeps at least "
        f"{HEADROOM_MIN:,} bytes of headroom.",
        "",
        "| contract | deployed bytes | headroom | |",
        "|---|---:|---:|---|",
    ]
    for size in ordered:
        verdict = "✓" if size.headroom >= HEADROOM_MIN else "✗"
        lines.append(f"| {size.name} | {size.deployed:,} | {size.headroom:,} | {verdict} |")
    (directory / "sizes.md").write_text("\n".join(lines) + "\n")
