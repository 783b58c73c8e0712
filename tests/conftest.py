import json, os, subprocess, sys, time
from pathlib import Path
import pytest
from artifacts import VARIABLE, artifact

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("grpo-nb")

# the fixtures that train a model; a test that uses one, or is marked itself, is marked `train` (`make test-quick` leaves them out)
TRAINING_FIXTURES = {"trained", "grpo_report", "report", "tiny_reward", "cli_grpo", "small_run", "reference", "pickled"}
# the fixtures of `tests/artifacts.py`: their tests run last, so that pytest does its other work while `make test` trains them beside it
SHARED_FIXTURES = {"trained", "grpo_report"}

def pytest_collection_modifyitems(items):
    for item in items:
        if TRAINING_FIXTURES & set(item.fixturenames): item.add_marker(pytest.mark.train)
    items.sort(key=lambda item: bool(SHARED_FIXTURES & set(item.fixturenames)))   # stable: file order otherwise

@pytest.fixture
def run_cli():
    "Run the installed `grpo-nb` console script; returns the CompletedProcess (text mode)."
    def run(*args, cwd=ROOT):
        return subprocess.run([str(CLI), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                              env={**os.environ, "GRPO_NB_DEBUG": ""}, timeout=600)
    return run

# `grpo_nb.cli.main` run in a child forked from one "zygote" process that imported torch, transformers, TRL and grpo_nb
# once (no torch operation runs in it, so forking is safe): each command then costs its work, not 5-15 s of imports.
# The zygote can kill a child at a trainer's moment (tests/test_faults.py).
ZYGOTE = r'''
import json, os, signal, sys
from pathlib import Path
import grpo_nb.cli, grpo_nb.dpo, grpo_nb.grpo, grpo_nb.inference, grpo_nb.runs
from trl import DPOTrainer, GRPOTrainer
from transformers.trainer_callback import TrainerState

def die(): os.kill(os.getpid(), signal.SIGKILL)

def child(job):
    os.environ.update(job["env"])
    for name, path in (("stdout", job["stdout"]), ("stderr", job["stderr"])):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1 if name == "stdout" else 2); os.close(fd)
    if (last_step := job.get("kill_after_step")) is not None:   # during training: just after step N's loss is logged
        logged = grpo_nb.runs.MetricsLogger.on_log
        def on_log(self, args, state, control, logs=None, **kwargs):
            logged(self, args, state, control, logs=logs, **kwargs)
            if state.global_step >= last_step and logs and "loss" in logs: die()
        grpo_nb.runs.MetricsLogger.on_log = on_log
    if (torn := job.get("kill_in_checkpoint")) is not None:   # weights, optimizer and RNG of checkpoint N written, its state not
        save = TrainerState.save_to_json
        def save_to_json(self, path):
            if Path(path).parent.name == f"checkpoint-{torn}": die()
            save(self, path)
        TrainerState.save_to_json = save_to_json
    try: code = grpo_nb.cli.main(job["argv"])
    except SystemExit as e: code = e.code if isinstance(e.code, int) else 1
    sys.stdout.flush(); sys.stderr.flush()
    os._exit(code)

print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0: child(job)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"rc": os.waitstatus_to_exitcode(status)}), flush=True)
'''

class Result:
    def __init__(self, rc, stdout, stderr, seconds): self.returncode, self.stdout, self.stderr, self.seconds = rc, stdout, stderr, seconds
    def __repr__(self): return f"rc={self.returncode} stderr={self.stderr[-2000:]!r}"

@pytest.fixture(scope="session")
def grpo_nb_cli(tmp_path_factory):
    "run(*args, env={}, kill_after_step=None, kill_in_checkpoint=None) -> Result: `grpo-nb ARGS` in a child of the zygote."
    logs = tmp_path_factory.mktemp("zygote")
    env = {**os.environ, "GRPO_NB_DEBUG": "", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("GRPO_NB_CRASH_AT", None)
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert json.loads(zygote.stdout.readline()) == {"ready": True}
    count = 0

    def run(*args, env=None, **kill):
        nonlocal count
        count += 1
        out, err = logs / f"{count}.out", logs / f"{count}.err"
        start = time.time()
        zygote.stdin.write(json.dumps({"argv": [str(a) for a in args], "env": env or {}, "stdout": str(out), "stderr": str(err), **kill}) + "\n")
        zygote.stdin.flush()
        rc = json.loads(zygote.stdout.readline())["rc"]
        return Result(rc, out.read_text(), err.read_text(), time.time() - start)
    yield run
    zygote.stdin.close(); zygote.wait(timeout=60)

@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    "The folder of the shared artefacts (`tests/artifacts.py`): `$GRPO_NB_TEST_ARTIFACTS`, else a temporary one."
    return Path(os.environ[VARIABLE]) if os.environ.get(VARIABLE) else tmp_path_factory.mktemp("artifacts")

def made(name, root):
    record = artifact(name, root)
    assert record["returncode"] == 0, record["stderr"]
    return record

@pytest.fixture(scope="session")
def trained(artifacts):
    "An adapter trained by `grpo-nb train` with its defaults (the embedded model, the bundled data): (folder, seconds, stdout)."
    record = made("dpo", artifacts)
    return record["folder"], record["seconds"], record["stdout"]

@pytest.fixture(scope="session")
def grpo_report(artifacts):
    "The run folder of `grpo-nb report -p method grpo` (reward model in `adapter-reward/`, GRPO in `adapter/`) and its wall seconds."
    record = made("grpo", artifacts)
    return record["folder"].resolve(), record["seconds"]
