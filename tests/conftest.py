import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("grpo-nb")

@pytest.fixture
def run_cli():
    "Run the installed `grpo-nb` console script; returns the CompletedProcess (text mode)."
    def run(*args, cwd=ROOT):
        return subprocess.run([str(CLI), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                              env={**os.environ, "GRPO_NB_DEBUG": ""}, timeout=600)
    return run
