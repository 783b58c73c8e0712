"`grpo-nb train`: real DPO + LoRA training of the embedded model, resume after kill -9, data-parallel, and bad input."
import json, math, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import ROOT, CLI

SMALL = ["--max-length", "128", "--lora-r", "4", "--lora-alpha", "8", "--no-progress"]

@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    "36 bundled pairs (12 questions): enough for a split, quick to train on."
    lines = (ROOT / "data/mgl_history_grpo.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [l for l in lines if json.loads(l)["kind"] != "mixed_language"][:36]
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path

@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "-1"], "must be positive"),
    (["--dataset", "no/such.jsonl"], "no such file"),
    (["--loss-type", "nonsense"], "unknown loss_type"),
    (["--lora-dropout", "1.5"], "lora_dropout"),
    (["--epochs", "x"], "invalid"),
    (["--loss-type", "sigmoid", "sft", "--loss-weights", "1"], "1 weights for 2 losses"),
    (["--loss-weights", "-1"], "non-negative"),
    (["--ld-alpha", "1.5"], "ld_alpha must be in [0, 1]"),
    (["--near-duplicate-ratio", "2"], "near_duplicate_ratio must be in [0, 1]"),
])
def test_bad_values_are_one_line_exit_2(grpo_nb_cli, tmp_path, args, message):
    out = grpo_nb_cli("train", "--output", tmp_path / "out", *args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr

def test_help_documents_every_option(run_cli):
    out = run_cli("train", "--help")
    for option in ["--base", "--dataset", "--output", "--batch-size", "--gradient-accumulation", "--learning-rate", "--epochs",
                   "--max-length", "--lora-r", "--lora-alpha", "--lora-dropout", "--beta", "--loss-type", "--seed", "--test-size",
                   "--use-wandb", "--report-to", "--resume", "--overwrite", "--loss-weights", "--ld-alpha",
                   "--near-duplicate-ratio"]:
        assert option in out.stdout

def test_existing_output_needs_overwrite(grpo_nb_cli, tmp_path, small_dataset):
    (tmp_path / "out").mkdir()
    out = grpo_nb_cli("train", "--dataset", small_dataset, "--output", tmp_path / "out", *SMALL)
    assert out.returncode == 2 and "--overwrite" in out.stderr

def train_command(dataset, output, *extra):
    return [str(CLI), "train", "--dataset", str(dataset), "--output", str(output), "--epochs", "2", "--batch-size", "2",
            "--save-steps", "4", "--seed", "7", *SMALL, *extra]

@pytest.fixture(scope="module")
def small_run(tmp_path_factory, small_dataset):
    "An uninterrupted small run with `--use-wandb` (W&B offline, which changes no step): (output, CompletedProcess)."
    output = tmp_path_factory.mktemp("small") / "wb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    return output, subprocess.run(train_command(small_dataset, output, "--use-wandb"), capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)

def test_use_wandb_works_offline(small_run):
    output, out = small_run
    assert out.returncode == 0, out.stderr[-3000:]
    assert list((output.parent / "wandb").glob("offline-run-*")), "an offline W&B run was recorded beside the output"

def test_resume_after_kill_9_ends_at_the_same_step(tmp_path, small_dataset, small_run):
    reference, out = small_run
    assert out.returncode == 0, out.stderr[-2000:]
    expected = json.loads((reference / "training_stats.json").read_text())["global_step"]

    output = tmp_path / "killed"
    proc = subprocess.Popen(train_command(small_dataset, output), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = output.with_name("killed.work") / "checkpoints" / "checkpoint-8"
    deadline = time.time() + 300
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline: time.sleep(0.2)
    assert proc.poll() is None, "training finished before it could be killed"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()
    assert not output.exists(), "a killed run must leave no half-written output"

    resumed = subprocess.run(train_command(small_dataset, output, "--resume"), capture_output=True, text=True, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    stats = json.loads((output / "training_stats.json").read_text())
    assert stats["global_step"] == expected
    steps = [json.loads(l)["step"] for l in (output / "training_logs/metrics.jsonl").read_text().splitlines() if "loss" in json.loads(l)]
    assert steps == sorted(set(steps)), "each step is logged once"
    assert not output.with_name("killed.work").exists()

@pytest.mark.train
def test_accelerate_launch_trains_data_parallel_on_2_processes(tmp_path, small_dataset):
    accelerate = Path(sys.executable).with_name("accelerate")
    # `--multi_gpu` makes accelerate start the processes with torchrun; with no GPU they join a gloo group on the CPU
    out = subprocess.run([str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
                          "--dynamo_backend", "no", "-m", "grpo_nb.cli", *train_command(small_dataset, tmp_path / "ddp")[1:]],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    stats = json.loads((tmp_path / "ddp/training_stats.json").read_text())
    assert stats["global_step"] == 2 * math.ceil(stats["dataset"]["train"] / (2 * 2)), "each step takes a batch of 2 on each of 2 processes"
    assert out.stdout.count("adapter:") == 1, "only the main process reports"
    assert (tmp_path / "ddp/adapter_model.safetensors").exists()
