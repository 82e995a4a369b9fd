"""No library warning on every `ape` command: ape-vyper's config model is completed when ape
imports the project's plugin (plugins/ape-ganache-local), before any configuration is read."""

import os
import subprocess
import sys


def test_reading_ape_vypers_config_prints_no_warning():
    # What every `ape` command does first: import the plugins, then read their configuration.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    code = "from ape import config; print(config.get_config('vyper').evm_version)"

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "shanghai\n", "")
