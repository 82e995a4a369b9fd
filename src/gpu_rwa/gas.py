"""Gas figures from receipts, written as reports/gas.json (name -> gas) and reports/gas.md."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from ape.api import ReceiptAPI


@dataclass(frozen=True)
class Target:
    """An upper bound on an operation's gas, from an issue."""

    limit: int
    note: str = ""


@dataclass
class GasReport:
    figures: dict[str, int] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)

    def record(self, name: str, receipt: ReceiptAPI) -> ReceiptAPI:
        self.figures[name] = receipt.gas_used
        return receipt

    # Groups of figures that must stay within a tolerance of each other, e.g. a cost that must not
    # grow with the number of holders: (names, tolerance in bps of the smallest).
    flat: list[tuple[tuple[str, ...], int]] = field(default_factory=list)

    def failures(self) -> list[str]:
        over = [
            f"{name}: {self.figures[name]:,} > {target.limit:,}"
            for name, target in self.targets.items()
            if name in self.figures and self.figures[name] > target.limit
        ]
        for names, tolerance_bps in self.flat:
            values = [self.figures[name] for name in names]
            if (max(values) - min(values)) * 10_000 > min(values) * tolerance_bps:
                over.append(f"not flat within {tolerance_bps / 100}%: {', '.join(names)}")
        return over

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ordered = dict(sorted(self.figures.items()))
        (directory / "gas.json").write_text(json.dumps(ordered, indent=2) + "\n")
        lines = [
            "# Gas per operation",
            "",
            "Measured by `make bench` from transaction receipts on a fresh Anvil.",
            "",
            "| operation | gas | target |",
            "|---|---:|---|",
        ]
        for name, gas in ordered.items():
            target = self.targets.get(name)
            verdict = ""
            if target is not None:
                verdict = f"≤ {target.limit:,} {'✓' if gas <= target.limit else '✗'}"
                verdict += f" {target.note}" if target.note else ""
            lines.append(f"| {name} | {gas:,} | {verdict} |")
        (directory / "gas.md").write_text("\n".join(lines) + "\n")
