"""Every `ape run` script's --help says what each command does and what each option means."""

import re

import click
import pytest

from tests.utils.scripts import SCRIPTS, script_command

# Options ape adds to every connected command, described by ape itself.
APE_OPTIONS = {"network", "verbosity", "provider_settings", "help"}


def _commands(command: click.Command, path: str):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def help_problems(command: click.Command, path: str) -> list[str]:
    """What `path --help` leaves unsaid: the command's help and short help, each option's help,
    and each argument named in the command's help (click arguments have no help of their own)."""
    problems = []
    if not (command.help or "").strip():
        problems.append(f"{path}: no help")
    if not (command.short_help or "").strip():
        problems.append(f"{path}: no short help")
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in APE_OPTIONS and not param.help:
            problems.append(f"{path} {param.opts[0]}: no help")
        if isinstance(param, click.Argument):
            for word in re.findall(r"[A-Z][A-Z_]*", param.human_readable_name):
                if word not in (command.help or ""):
                    problems.append(f"{path}: argument {word} not described in its help")
    return problems


@pytest.mark.parametrize("script", sorted(path.stem for path in SCRIPTS.glob("*.py")))
def test_every_command_and_option_has_help(script):
    problems = [
        problem
        for path, command in _commands(script_command(script), script)
        for problem in help_problems(command, path)
    ]
    assert problems == []


def test_the_check_finds_what_is_missing():
    @click.command()
    @click.argument("token_id", metavar="ID")
    @click.option("--price")
    def bare(token_id, price):
        pass

    assert help_problems(bare, "bare") == [
        "bare: no help",
        "bare: no short help",
        "bare: argument ID not described in its help",
        "bare --price: no help",
    ]
