"""The trained artefacts the tests share, each trained once per test run.

`make test` runs `python tests/artifacts.py` (the default model first, alone; then `dpo` and `grpo` beside pytest) with
`$GRPO_NB_TEST_ARTIFACTS` set, then `nbdev_test --flags slow`, whose slow cells read them from that folder; pytest's fixtures
(`conftest.py`) take them from there too, or train them into a temporary folder when the variable is unset. One lock per
artefact: whichever process asks first trains it, the other waits and reuses it. In the folder:

- `dpo/`: the adapter of `grpo-nb train` with its defaults (DPO, the embedded model, the bundled data);
- `grpo/`: the run folder of `grpo-nb report -p method grpo` (its reward model in `adapter-reward/`, GRPO in `adapter/`);
- `made-NAME.json`: how each was made: the command's exit status, wall seconds, stdout and the end of stderr.
"""
import fcntl, json, os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("grpo-nb")
VARIABLE = "GRPO_NB_TEST_ARTIFACTS"
COMMANDS = {"dpo": lambda root: ["train", "--output", root / "dpo", "--no-progress"],
            "grpo": lambda root: ["report", "-p", "method", "grpo", "--reports-dir", root / "grpo-reports"]}

def publish_report(root: Path, stdout: str):
    "Link `root/grpo` to the run folder the report printed (its name holds the time, so it is found here, once)."
    (root / "grpo").symlink_to(Path(re.search(r"report: (\S+)", stdout).group(1)).parent)

def artifact(name: str, root: Path) -> dict:
    "The record of artefact `name` in `root` (see the module's docstring), trained first unless it is there."
    root.mkdir(parents=True, exist_ok=True)
    record = root / f"made-{name}.json"   # not NAME.json or NAME.lock: grpo-nb keeps its own lock beside its output
    with open(root / f"made-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)   # released when the file closes, also when this process dies
        if not record.exists():
            start = time.time()
            out = subprocess.run([str(CLI), *map(str, COMMANDS[name](root))], cwd=ROOT, capture_output=True, text=True, timeout=1800,
                                 env={**os.environ, "GRPO_NB_DEBUG": ""})
            if out.returncode == 0 and name == "grpo": publish_report(root, out.stdout)
            record.write_text(json.dumps({"returncode": out.returncode, "seconds": time.time() - start, "stdout": out.stdout,
                                          "stderr": out.stderr[-3000:]}, ensure_ascii=False), encoding="utf-8")
    return {**json.loads(record.read_text(encoding="utf-8")), "folder": root / name}

def main(names):
    "Make each artefact of `names` in `$GRPO_NB_TEST_ARTIFACTS`; `model` builds the embedded default model into its cache."
    for name in names:
        start = time.time()
        if name == "model":
            from grpo_nb.model import default_model_path
            print(f"default model: {default_model_path()}")
            continue
        root = Path(os.environ[VARIABLE])
        made = artifact(name, root)
        if made["returncode"]: sys.exit(f"grpo-nb {' '.join(map(str, COMMANDS[name](root)))} failed:\n{made['stderr']}")
        print(f"{name}: {made['folder']} ({made['seconds']:.0f} s to train, {time.time() - start:.0f} s here)")

if __name__ == "__main__": main(sys.argv[1:] or ["model", *COMMANDS])
