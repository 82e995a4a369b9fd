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


def _keep_connected() -> click.Context:
    """A parent context as `ape run --interactive` leaves: the script uses the suite's provider
    and does not disconnect it on exit (disconnecting costs more than the command itself). A new
    one each run: click shares a parent's `meta` with its children."""
    context = click.Context(click.Command("ape"))
    context.params["interactive"] = True
    return context


@cache
def _network_choice() -> str:
    # The suite stays on one network; ape recomputes the choice from its config on each read.
    return networks.provider.network_choice


def run_script(name: str, *args: str) -> Result:
    """`ape run <name> <args> --network <the suite's network>`; check `.exit_code`, `.output`."""
    return CliRunner().invoke(
        script_command(name), [*args, "--network", _network_choice()], parent=_keep_connected()
    )
