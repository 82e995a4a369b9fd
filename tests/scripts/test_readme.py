"""README.md's examples, run as written: the session of "A persistent local chain" in order on a
fresh deploy, then every example of the other sections, each section on that deploy with the
state its examples assume (SETUP and BEFORE below), and the table of the local accounts. The
README itself is parsed, so an edited or a new example runs too.

A ```sh block's lines are read as a shell would (`\\` continuations joined, `# comments` dropped,
`&&` splitting commands) and each command is run here:
- `ape run SCRIPT ARGS`: in-process (tests/utils/scripts.py) on the suite's chain, `--network`
  dropped, `--manifest` the walk's own; `[optional parts]` are run, or left out when they hold a
  placeholder (`ADDRESS`, `0x...`); `0x<operation id>` is the one operation ready now. Each
  command runs a second after the one before, as a user types them (two attestations need two
  seconds). It must exit 0, or, where REFUSED or the section's prose ("`ape run X` answers
  `MESSAGE`") says it is refused, exit 1 with that one line.
- `sleep N`: the chain's clock moves N seconds on.
- `printf FORMAT > FILE`: the file is written, in the walk's folder.
- Skipped by kind, the kinds met asserted so nothing is skipped unnoticed: `make` and `export`
  (the suite itself tests the make targets), `ape run demo` and `bench` (stories of their own:
  tests/e2e/test_demo*.py, `make demo`, `make bench`) and a public network's examples (their
  deploy config is validated instead).
"""

import re
import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from ape import accounts, chain

from gpu_rwa.chain import LOCAL_ROLE_ACCOUNTS
from gpu_rwa.config import load_deploy_config
from gpu_rwa.governance import load_governance, operations
from gpu_rwa.manifest import read_manifest
from tests.utils.exploits import set_time
from tests.utils.registry import DAY
from tests.utils.scripts import run_script, script_command

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
SESSION = "A persistent local chain"
# Folders the examples read from, linked into the walk's own folder.
INPUTS = ("inventory", "config")

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OPERATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
INVESTOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
LESSEE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"

# The state most sections' examples assume, in the README's own commands: the sample GPUs the
# operator's, the operator and the investor verified, a pool holding the two DGX servers (GPUs 9
# and 10, which no example names) and the investor's first buy.
STAGE = (
    f"ape run registry register inventory/sample.csv --owner {OPERATOR}",
    f"ape run kyc add {OPERATOR} {INVESTOR} --days 365 --jurisdiction 840",
    "ape run vault contribute 9 10",
    "ape run invest faucet 50000 && ape run invest buy 50000",
)
LEASE_OF_1_AND_2 = (
    f"ape run lease open --lessee {LESSEE} --instalment 1000 --period-days 30 --instalments 12 "
    "--gpu 1 --gpu 2"
)
FIRST_INSTALMENT = "ape run invest faucet 1000 --account TEST::6 && ape run lease pay 1"
# What runs before a section's first example, by the first word of its title; a section not
# named here (a new script's) starts from STAGE.
SETUP: dict[str, tuple[str, ...]] = {
    "deploy": (),
    "registry": (),
    "custody": STAGE[:1],
    "vault": (*STAGE, f"ape run registry register inventory/fleet.yaml --owner {OPERATOR}"),
    "kyc": (),
    # A day of lease revenue vested: something to claim.
    "invest": (
        *STAGE,
        "ape run vault contribute 1 2",
        LEASE_OF_1_AND_2,
        FIRST_INSTALMENT,
        f"sleep {DAY}",
    ),
    "lease": (*STAGE, "ape run vault contribute 1 2"),
    "appraise": (*STAGE, "ape run vault contribute 3"),
}
# What runs before an example (its command as the README writes it, comment dropped): the state it
# assumes that the examples before it do not make.
BEFORE: dict[str, tuple[str, ...]] = {
    "ape run registry attest --all-held": (
        f"ape run kyc add {OPERATOR} --days 365 --jurisdiction 840",
        "ape run vault contribute 11 12",
    ),
    "ape run vault take-gpu 4 --account TEST::8": (
        "ape run invest faucet 25000 --account TEST::8",
    ),
    "ape run vault fulfil [--max 50]": ("ape run invest request-redeem 500",),
    "ape run vault swap-gpu 1 2 11": (LEASE_OF_1_AND_2,),
    "ape run vault claim-fees": (FIRST_INSTALMENT,),
    # Lease 1 (12 x 10,000 USDC every 30 days, 5 days' grace) paid three times: on day 130 its
    # fourth instalment is in arrears; cured, its fifth (due on day 150) is more than the 60 days
    # of default_after late on day 215.
    "ape run lease cure 1": (f"sleep {130 * DAY}", "ape run invest faucet 10000 --account TEST::6"),
    "ape run lease default 1": (f"sleep {85 * DAY}",),
    "ape run lease recover 1 2500": ("ape run invest faucet 2500 --account TEST::6",),
}
# Examples that answer with a refusal (exit 1), and their one line.
REFUSED = {
    "ape run vault process-maturities [--max 100]": "no maturities are due: nothing to process",
    "ape run vault sync 5": "GPU 5 is in line with the registry: nothing to sync",
    "ape run vault wind-down": (
        f"the GpuCollateral's admin is the GovernanceTimelock, not {ADMIN}: `ape run governance "
        "schedule GpuCollateral wind_down`, then `ape run governance execute ID` once the "
        "timelock's delay has passed"
    ),
    "ape run vault unpause": (
        f"{ADMIN} does not hold DEFAULT_ADMIN_ROLE on the CollateralVault: unpausing is the "
        "admin's; through the timelock it is `ape run governance schedule CollateralVault "
        "unpause`, then, once the delay has passed, `ape run governance execute CollateralVault "
        "unpause`"
    ),
}
# What each test skips (see the module's docstring).
SESSION_SKIPS = {"make", "export"}
EXAMPLE_SKIPS = {"make", "export", "public network", "a story of its own"}


# READING THE README #


@dataclass(frozen=True)
class Command:
    """One command of a ```sh block (`line` 0 for the test's own setup) in words."""

    line: int
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass
class Section:
    title: str
    commands: list[Command] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.title.split()[0].rstrip(":")

    def answers(self) -> dict[str, str]:
        """The prose's "`ape run X` answers `MESSAGE`", by command."""
        return dict(re.findall(r"`(ape run [^`]+)` answers `([^`]+)`", " ".join(self.prose)))


def split_line(line: int, text: str) -> list[Command]:
    """A shell line's commands (`&&` between them), comment dropped; `0x<operation id>` one word."""
    text = re.sub(r"<([^<>]+)>", lambda m: "<" + m.group(1).replace(" ", "_") + ">", text)
    words = shlex.split(text, comments=True)
    commands = []
    while words:
        end = words.index("&&") if "&&" in words else len(words)
        commands.append(Command(line, tuple(words[:end])))
        words = words[end + 1 :]
    return commands


def read_sections(text: str) -> list[Section]:
    """The README's sections (by heading) that have ```sh commands."""
    # `fence`: the language of the fenced block the line is in, None outside one.
    sections, fence, pending, first = [Section("")], None, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fence = line.strip()[3:] if fence is None else None
        elif fence is None and line.startswith("#"):
            sections.append(Section(line.lstrip("#").strip()))
        elif fence != "sh":
            sections[-1].prose.append(line)
        elif line.rstrip().endswith("\\"):
            pending, first = pending + line.rstrip()[:-1] + " ", first or number
        else:
            sections[-1].commands += split_line(first or number, pending + line)
            pending, first = "", 0
    return [section for section in sections if section.commands]


def setup_commands(texts: tuple[str, ...]) -> list[Command]:
    return [command for text in texts for command in split_line(0, text)]


# RUNNING THEM #


def _is_placeholder(word: str) -> bool:
    return "..." in word or re.fullmatch(r"[A-Z_]{2,}", word) is not None


def _optional_parts(words: list[str]) -> list[str]:
    """`[--times 3]` run as `--times 3`; `[ADDRESS]`, `[--receiver 0x...]` left out."""
    kept, group = [], None
    for word in words:
        if group is None and word.startswith("["):
            group = []
        if group is None:
            kept.append(word)
            continue
        group.append(word.strip("[]"))
        if word.endswith("]"):
            kept += [] if any(_is_placeholder(w) for w in group) else group
            group = None
    assert group is None, f"an unclosed [ in {words}"
    return kept


def _takes_manifest(args: list[str]) -> bool:
    command, rest = script_command(args[0]), args[1:]
    while isinstance(command, click.Group) and rest and rest[0] in command.commands:
        command, rest = command.commands[rest[0]], rest[1:]
    return any(param.name == "manifest_file" for param in command.params)


def skip_kind(command: Command) -> str | None:
    """Why `command` is not run here, or None."""
    match command.words:
        case ["make" | "export" as kind, *_]:
            return kind
        case ["ape", "run", "demo" | "bench", *_]:
            return "a story of its own"
        case ["ape", "run", *args] if "--network" in args:
            network = args[args.index("--network") + 1]
            return None if ":local:" in network else "public network"
    return None


@dataclass
class Walk:
    """Runs README commands against one manifest from the walk's folder, noting each failure."""

    manifest: Path
    skipped: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    placeholders: dict[str, Callable[[], str]] = field(init=False)

    def __post_init__(self):
        self.placeholders = {"0x<operation_id>": self._ready_operation}

    def _ready_operation(self) -> str:
        gov = load_governance(read_manifest(self.manifest))
        now = chain.pending_timestamp
        ready = [op.id for op in operations(gov).values() if op.state(now) == "ready"]
        assert len(ready) == 1, f"0x<operation id>: {len(ready)} operations are ready"
        return ready[0]

    def run(self, command: Command, refusal: str | None = None) -> None:
        where = f"README.md:{command.line} `{command.text}`" if command.line else command.text
        if (kind := skip_kind(command)) is not None:
            self.skipped.add(kind)
            if kind == "public network":
                self._validate_config(command, where)
            return
        match command.words:
            case ["sleep", seconds]:
                set_time(chain, chain.pending_timestamp + int(seconds))
            case ["printf", text, ">", path]:
                Path(path).write_text(text.replace("\\n", "\n"))
            case ["ape", "run", *args]:
                self._script(args, where, refusal)
            case _:
                pytest.fail(f"{where}: no way to run this command here")

    def _script(self, args: list[str], where: str, refusal: str | None) -> None:
        if "--network" in args:
            del args[args.index("--network") : args.index("--network") + 2]
        args = [
            self.placeholders[word]() if word in self.placeholders else word
            for word in _optional_parts(args)
        ]
        unknown = [word for word in args if re.search(r"<[^<>]+>", word)]
        assert not unknown, f"{where}: no value for the placeholder {unknown[0]}"
        if "--manifest" in args:
            args[args.index("--manifest") + 1] = str(self.manifest)
        elif _takes_manifest(args):
            args += ["--manifest", str(self.manifest)]
        set_time(chain, chain.blocks.head.timestamp + 1)
        result = run_script(*args)
        if refusal is None and result.exit_code != 0:
            self.failures.append(f"{where} failed:\n{result.output}")
        elif refusal is not None and (result.exit_code, result.output.strip()) != (
            1,
            f"error: {refusal}",
        ):
            self.failures.append(
                f"{where} was to answer `{refusal}` (exit 1), exit {result.exit_code}:\n"
                f"{result.output}"
            )

    @staticmethod
    def _validate_config(command: Command, where: str) -> None:
        words = list(command.words)
        assert "--config" in words, f"{where}: a public network's deploy names its config"
        config = load_deploy_config(Path(words[words.index("--config") + 1]))
        assert config.stablecoin.address is not None, f"{where}: a mock stablecoin"

    def check(self, skipped: set[str]) -> None:
        assert not self.failures, f"{len(self.failures)} example(s) failed:\n" + "\n".join(
            self.failures
        )
        assert self.skipped == skipped


@contextmanager
def isolated() -> Iterator[None]:
    """The chain as it was before, whatever happened (ape's `chain.isolate` swallows errors)."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.restore(snapshot)


@pytest.fixture(scope="module")
def readme() -> list[Section]:
    return read_sections(README.read_text())


@pytest.fixture
def walk(tmp_path, monkeypatch) -> Walk:
    """A walk in a folder of its own (its files, its manifest) holding the examples' inputs."""
    for name in INPUTS:
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return Walk(tmp_path / "deployments" / "local.json")


def test_persistent_chain_session(readme, walk):
    (session,) = [section for section in readme if section.title == SESSION]
    scripts = [command.text for command in session.commands if command.words[:2] == ("ape", "run")]
    assert scripts[0] == "ape run deploy", "the session deploys first"
    for command in session.commands:
        walk.run(command)
    assert walk.manifest.exists()
    replies = session.answers()
    assert len(replies) >= 2, "the session's prose names the refusals of its pool"
    for text, reply in replies.items():
        (command,) = split_line(0, text)
        walk.run(command, refusal=reply)
    walk.check(SESSION_SKIPS)


def test_script_examples(readme, walk):
    examples = [section for section in readme if section.title != SESSION]
    texts = {command.text for section in examples for command in section.commands}
    assert set(BEFORE) <= texts, f"BEFORE names no example: {set(BEFORE) - texts}"
    assert set(REFUSED) <= texts, f"REFUSED names no example: {set(REFUSED) - texts}"
    walk.run(Command(0, ("ape", "run", "deploy")))
    for section in examples:
        runs = [command for command in section.commands if skip_kind(command) is None]
        with isolated():
            for command in setup_commands(SETUP.get(section.key, STAGE) if runs else ()):
                walk.run(command)
            for command in section.commands:
                for before in setup_commands(BEFORE.get(command.text, ())):
                    walk.run(before)
                walk.run(command, refusal=REFUSED.get(command.text))
    walk.check(EXAMPLE_SKIPS)


# THE ACCOUNTS #

# | role | `TEST::n` | `0x...` | what it sends |
ROW = re.compile(
    r"^\| (?P<role>[^|]+?) \| `TEST::(?P<index>\d+)` \| `(?P<address>0x[0-9a-fA-F]{40})` \|"
)


def test_role_table_names_each_local_account():
    rows = [match.groupdict() for match in map(ROW.match, README.read_text().splitlines()) if match]
    roles = {row["role"]: int(row["index"]) for row in rows}
    # Every role a script defaults to, at its index; every row the account's own address.
    assert {role: roles.get(role) for role in LOCAL_ROLE_ACCOUNTS} == LOCAL_ROLE_ACCOUNTS
    for row in rows:
        assert row["address"] == accounts.test_accounts[int(row["index"])].address, row
    # Every test account an example names has its row.
    named = {int(n) for n in re.findall(r"TEST::(\d+)", README.read_text())}
    assert named <= set(roles.values())
    # config/local.yaml grants the roles to the accounts of the table.
    address = {row["role"]: row["address"] for row in rows}
    config = load_deploy_config(ROOT / "config" / "local.yaml")
    grants = config.roles
    assert (grants.operators, grants.custodians, grants.appraisers) == (
        [address["operator"]],
        [address["custodian"]],
        [address["appraiser"]],
    )
    assert (grants.compliance, grants.pausers) == ([address["compliance"]], [address["pauser"]])
    assert config.governance.proposers == config.governance.executors == [address["admin"]]
    assert config.vault.fee_recipient == address["admin"]
