"""Run an `ape run` script's click command in-process, on the chain the suite is connected to."""

import importlib.util
from functools import cache
from pathlib import Path

import click
from ape import networks
from click.testing import CliRunner, Result

SCRIPTS = Path(__file__).parents[2] / "scripts"


@cache
def script_command(name: str) -> click.Command:
    spec = importlib.util.spec_from_file_location(f"scripts.{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


def run_script(name: str, *args: str) -> Result:
    """`ape run <name> <args> --network <the suite's network>`; check `.exit_code`, `.output`."""
    choice = networks.provider.network_choice
    return CliRunner().invoke(script_command(name), [*args, "--network", choice])
