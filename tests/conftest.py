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


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    "An adapter trained by `grpo-nb train` with its defaults (the embedded model, the bundled data): (folder, seconds, stdout)."
    import time
    output = tmp_path_factory.mktemp("e2e") / "adapter"
    start = time.time()
    out = subprocess.run([str(CLI), "train", "--output", str(output), "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    return output, time.time() - start, out.stdout
