"""Faults (issue #16): a training run killed with SIGKILL at each phase is resumed to the same steps and losses as an
uninterrupted run; a second run on the same output is refused; bad input is one line and exit 2, before any work,
leaving nothing behind; pickled adapters are refused everywhere.

Every command runs `grpo_nb.cli.main` in a child forked from one "zygote" process (conftest's `grpo_nb_cli`), which can
make it die by SIGKILL at a precise point: `GRPO_NB_CRASH_AT` names a crash point of grpo_nb (`final-save`,
`publish-replaced`, `published`, `merge-save`), and the zygote adds two of the trainer's own moments, after logging
step N (during training) and while writing checkpoint N (its weights written, its `trainer_state.json` not yet)."""
import fcntl, json, os, shutil, signal, stat
from pathlib import Path
import pytest
from conftest import ROOT

SMALL_TRAINING = ["--epochs", "1", "--batch-size", "4", "--save-steps", "2", "--max-length", "128", "--lora-r", "4", "--lora-alpha", "8",
                  "--seed", "7", "--no-progress"]

@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    "24 bundled pairs (8 questions): 5 or 6 steps of 4 pairs, checkpoints every 2 steps and at the last."
    lines = (ROOT / "data/mgl_history_grpo.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("data") / "small.jsonl"
    path.write_text("\n".join([l for l in lines if json.loads(l)["kind"] != "mixed_language"][:24]) + "\n", encoding="utf-8")
    return path

def train(run, dataset, output, *extra, **kill):
    return run("train", "--dataset", dataset, "--output", output, *SMALL_TRAINING, *extra, **kill)

@pytest.fixture(scope="module")
def reference(grpo_nb_cli, small_dataset, tmp_path_factory):
    "The uninterrupted run every interrupted one must match."
    output = tmp_path_factory.mktemp("reference") / "adapter"
    out = train(grpo_nb_cli, small_dataset, output)
    assert out.returncode == 0, out
    return output

def stats(folder): return json.loads((folder / "training_stats.json").read_text(encoding="utf-8"))
def metrics(folder): return [json.loads(l) for l in (folder / "training_logs/metrics.jsonl").read_text(encoding="utf-8").splitlines()]
def siblings(output): return sorted(p.name for p in output.parent.iterdir() if p.name.startswith((output.name, f".{output.name}")))

def one_line_exit_2(out, *words):
    assert out.returncode == 2, out
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr, out.stderr
    for word in words: assert word in out.stderr, out.stderr

# --- item 1: kill -9 at every phase, then --resume -----------------------------------------------------------------

def test_resume_after_kill_9_at_every_phase_matches_the_uninterrupted_run(grpo_nb_cli, small_dataset, reference, tmp_path):
    "One run replacing an old output (--overwrite), killed in turn during training, while writing a checkpoint, during the final save and between the two renames that publish it; each --resume continues it."
    output, work = tmp_path / "adapter", tmp_path / "adapter.work"
    shutil.copytree(reference, output)   # the old output the run replaces
    (output / "training_stats.json").write_text(json.dumps({**stats(reference), "global_step": -1}))
    old = (output / "training_stats.json").read_text()
    run = lambda *extra, **kill: train(grpo_nb_cli, small_dataset, output, "--overwrite", *extra, **kill)

    died = run(kill_after_step=3)                                              # during training, after checkpoint-2
    assert died.returncode == -signal.SIGKILL, died
    assert (output / "training_stats.json").read_text() == old, "the old output is untouched until the new one is complete"
    assert [json.loads(l)["step"] for l in (work / "training_logs/metrics.jsonl").read_text().splitlines()][-1] == 3
    with (work / "training_logs/metrics.jsonl").open("a") as f: f.write('{"step": 4, "epoch": 0.6, "lo')   # torn by a power loss

    died = run("--resume", kill_in_checkpoint=4)                              # while writing checkpoint-4
    assert died.returncode == -signal.SIGKILL, died
    assert (work / "checkpoints/checkpoint-4").exists() and not (work / "checkpoints/checkpoint-4/trainer_state.json").exists()

    died = run("--resume", env={"GRPO_NB_CRASH_AT": "final-save"})            # during the final save (adapter written, tokenizer not)
    assert died.returncode == -signal.SIGKILL, died
    assert (work / "final/adapter_model.safetensors").exists() and not (work / "final/training_stats.json").exists()
    assert (output / "training_stats.json").read_text() == old

    died = run("--resume", env={"GRPO_NB_CRASH_AT": "publish-replaced"})      # between the renames: old output moved aside, new not in place
    assert died.returncode == -signal.SIGKILL, died
    assert not output.exists() and (work / "replaced").exists() and (work / "final/training_stats.json").exists()

    resumed = run("--resume")                                                 # finishes the publish
    assert resumed.returncode == 0, resumed
    assert "held-out reward accuracy" in resumed.stdout
    assert siblings(output) == ["adapter"], "no .old, .work or .lock is left"

    got, want = stats(output), stats(reference)
    assert got["global_step"] == want["global_step"] >= 5, "the phases above need checkpoints 2 and 4 before the last step"
    for key in ("first_train_loss", "last_train_loss", "eval_loss", "eval_reward_accuracy", "eval_reward_margin"):
        assert got[key] is not None and got[key] == pytest.approx(want[key], rel=1e-5, abs=1e-6), key
    train_losses = lambda folder: [(m["step"], m["loss"]) for m in metrics(folder) if "loss" in m]
    assert [s for s, _ in train_losses(output)] == list(range(1, want["global_step"] + 1))
    assert [l for _, l in train_losses(output)] == pytest.approx([l for _, l in train_losses(reference)], rel=1e-5)
    kinds = [(m["step"], "eval" if "eval_loss" in m else "summary" if "train_runtime" in m else "train") for m in metrics(output)]
    assert len(kinds) == len(set(kinds)) == len(metrics(reference)), "every record once: no duplicated final record"

def test_resume_finds_its_run_published_after_a_kill_before_cleanup(grpo_nb_cli, small_dataset, reference, tmp_path):
    "Killed after the publishing rename: the output is complete; --resume removes what is left and says so."
    output = tmp_path / "adapter"
    work = output.with_name("adapter.work")
    (work / "checkpoints").mkdir(parents=True)   # the state a kill after `rename(final, output)` leaves: output, work and its journal
    shutil.copytree(reference, output)
    (work / "publishing.json").write_text(json.dumps({"output": str(output)}))
    resumed = train(grpo_nb_cli, small_dataset, output, "--resume")
    assert resumed.returncode == 0, resumed
    assert resumed.seconds < 60 and stats(output) == stats(reference)
    assert not work.exists()

# --- item 8: one lock per output -------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--resume", "--overwrite"])
def test_a_second_run_on_the_same_output_is_refused(grpo_nb_cli, small_dataset, tmp_path, option):
    output = tmp_path / "adapter"
    (output.with_name("adapter.work") / "checkpoints").mkdir(parents=True)
    (output.with_name("adapter.work") / "live.txt").write_text("the first run's work")
    with open(output.with_name("adapter.lock"), "w") as lock:   # the first run holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        out = train(grpo_nb_cli, small_dataset, output, option)
    one_line_exit_2(out, "is in use by another run")
    assert (output.with_name("adapter.work") / "live.txt").read_text() == "the first run's work"
    assert out.seconds < 60

# --- items 5, 10, 11: numbers checked before any work; failures leave nothing ------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "1e308"], "learning_rate must be at most 1.0"),
    (["--learning-rate", "nan"], "learning_rate must be a finite number"),
    (["--beta", "nan"], "beta must be a finite number"),
    (["--beta", "1e308"], "beta must be at most 100.0"),
    (["--epochs", "inf"], "epochs must be a finite number"),
    (["--epochs", "1e308"], "epochs must be at most 10,000"),
    (["--seed", "-1"], "seed must not be negative"),
    (["--lora-r", "1e12"], "--lora-r"),
    (["--lora-r", "1000000000000"], "lora_r must be at most 65,536"),
    (["--method", "grpo", "--temperature", "inf"], "temperature must be a finite number"),
    (["--method", "grpo", "--max-steps", "3"], "raise --max-steps"),
])
def test_bad_numbers_are_refused_before_any_work(grpo_nb_cli, small_dataset, tmp_path, args, message):
    if "grpo" in args: out = grpo_nb_cli("train", "--dataset", small_dataset, "--output", tmp_path / "adapter", "--no-progress", *args)
    else: out = train(grpo_nb_cli, small_dataset, tmp_path / "adapter", *args)
    one_line_exit_2(out, message)
    assert list(tmp_path.iterdir()) == [], "no output, work folder or lock"

def test_max_length_shorter_than_every_prompt_leaves_nothing(grpo_nb_cli, small_dataset, tmp_path):
    output = tmp_path / "adapter"
    for attempt in range(2):   # the second attempt is not refused as "an interrupted run"
        out = train(grpo_nb_cli, small_dataset, output, "--max-length", "1")
        one_line_exit_2(out, "max_length 1 leaves no train pair", "raise --max-length")
        assert siblings(output) == []

def test_grpo_that_would_log_too_few_steps_is_refused_before_training(grpo_nb_cli, small_dataset, tmp_path):
    out = grpo_nb_cli("train", "--method", "grpo", "--preset", "none", "--dataset", small_dataset, "--output", tmp_path / "grpo",
                      "--epochs", "0.5", "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "8", "--torch-threads", "1",
                      "--no-progress")
    one_line_exit_2(out, "this GRPO run would log", "needs at least 4", "raise --epochs")
    assert siblings(tmp_path / "grpo") == []

def test_config_fields_of_the_wrong_type_are_one_line():
    from grpo_nb.dpo import make_config
    for settings, message in [(dict(lora_r="abc"), "lora_r must be an integer, got 'abc'"), (dict(beta="high"), "beta must be a number"),
                              (dict(base=["a"]), "base must be a string or None")]:
        with pytest.raises(ValueError) as e: make_config(**settings)
        assert message in str(e.value) and "\n" not in str(e.value)

def test_training_stats_are_strict_json():
    from grpo_nb.runs import TrainingStats
    import dataclasses, tempfile
    names = [f.name for f in dataclasses.fields(TrainingStats)]
    stats_ = TrainingStats(**{n: float("nan") for n in names})
    path = stats_.save(Path(tempfile.mkdtemp()) / "training_stats.json")
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))["eval_loss"] is None

# --- items 11, 12: outputs that cannot or must not be written -----------------------------------------------------------

def test_output_root_is_refused_without_advice_to_overwrite(grpo_nb_cli, small_dataset):
    out = train(grpo_nb_cli, small_dataset, "/")
    one_line_exit_2(out, "cannot be an output folder")
    assert "--overwrite" not in out.stderr

def test_overwrite_replaces_only_grpo_nb_outputs(grpo_nb_cli, small_dataset, tmp_path):
    (folder := tmp_path / "photos").mkdir(); (folder / "cat.jpg").write_text("meow")
    (a_file := tmp_path / "notes.txt").write_text("keep me")
    for target in (folder, a_file):
        one_line_exit_2(train(grpo_nb_cli, small_dataset, target, "--overwrite"), "is not a grpo-nb output")
    assert (folder / "cat.jpg").read_text() == "meow" and a_file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "photos"], "no .old, .work or .lock"

def test_unwritable_output_is_one_line(grpo_nb_cli, small_dataset, tmp_path):
    (blocker := tmp_path / "file").write_text("")
    one_line_exit_2(train(grpo_nb_cli, small_dataset, blocker / "adapter"), "cannot write to")
    if os.geteuid() != 0:   # root writes into a read-only folder anyway
        (locked := tmp_path / "read-only").mkdir(); locked.chmod(0o555)
        try: one_line_exit_2(train(grpo_nb_cli, small_dataset, locked / "adapter"), "cannot write to", "Permission denied")
        finally: locked.chmod(0o755)

def test_a_hub_id_without_network_fails_at_once(grpo_nb_cli):
    for env in ({"HF_HUB_OFFLINE": "1"}, {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9"}):   # nothing listens on port 9
        out = grpo_nb_cli("generate", "--base", "no-such-org/no-such-model", "Чингис хаан хэзээ төрсөн бэ?", env=env)
        one_line_exit_2(out, "cannot download no-such-org/no-such-model: no network", "pass a local path")
        assert out.seconds < 30, out.seconds

# --- items 2, 13, 14: adapters, merge, generate ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pickled(reference, tmp_path_factory):
    "A copy of the reference adapter whose weights are only a pickle (the same tensors, saved by torch.save)."
    import torch
    from safetensors.torch import load_file
    folder = tmp_path_factory.mktemp("pickled") / "adapter"
    shutil.copytree(reference, folder)
    torch.save(load_file(folder / "adapter_model.safetensors"), folder / "adapter_model.bin")
    (folder / "adapter_model.safetensors").unlink()
    return folder

def test_pickled_adapters_are_refused_everywhere(grpo_nb_cli, small_dataset, pickled, tmp_path_factory, tmp_path):
    pickled_reward = tmp_path_factory.mktemp("pickled-reward") / "reward"   # a reward model's adapter_config, pickled weights
    shutil.copytree(pickled, pickled_reward)
    config = json.loads((pickled_reward / "adapter_config.json").read_text())
    (pickled_reward / "adapter_config.json").write_text(json.dumps({**config, "task_type": "SEQ_CLS"}))
    for args in (["merge", "--adapter", pickled, "--output", tmp_path / "merged"],
                 ["evaluate", "--adapter", pickled],
                 ["generate", "--adapter", pickled, "Чингис хаан хэзээ төрсөн бэ?"],
                 ["ask", "--adapter", pickled, "Чингис хаан хэзээ төрсөн бэ?"],
                 ["evaluate", "--reward-model", pickled_reward],
                 ["train", "--method", "grpo", "--reward-model", pickled_reward, "--dataset", small_dataset, "--output", tmp_path / "grpo"]):
        one_line_exit_2(grpo_nb_cli(*args), "adapter_model.bin is a pickle", "--allow-pickle")
    assert list(tmp_path.iterdir()) == []
    trusted = grpo_nb_cli("generate", "--adapter", pickled, "--allow-pickle", "--max-new-tokens", "8", "Чингис хаан хэзээ төрсөн бэ?")
    assert trusted.returncode == 0 and trusted.stdout.strip(), trusted   # consent given: it loads

def test_merge_killed_leaves_nothing_hidden_and_the_next_merge_cleans_up(grpo_nb_cli, reference, tmp_path):
    merged = tmp_path / "merged"
    died = grpo_nb_cli("merge", "--adapter", reference, "--output", merged, env={"GRPO_NB_CRASH_AT": "merge-save"})
    assert died.returncode == -signal.SIGKILL, died
    assert not merged.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    out = grpo_nb_cli("merge", "--adapter", reference, "--output", merged)
    assert out.returncode == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]
    umask = os.umask(0); os.umask(umask)
    assert stat.S_IMODE(merged.stat().st_mode) == 0o777 & ~umask, "the usual permissions, not 0700"
    again = grpo_nb_cli("merge", "--adapter", reference, "--output", merged, "--overwrite")
    assert again.returncode == 0, again

def test_empty_question_is_refused(grpo_nb_cli, reference):
    one_line_exit_2(grpo_nb_cli("generate", "--adapter", reference, "  "), "is empty")

@pytest.mark.parametrize("question", ["Когда родился Чингисхан?", "When was Genghis Khan born?", "?!..."])
def test_a_question_the_corpus_has_nothing_for_is_one_line(grpo_nb_cli, question):
    out = grpo_nb_cli("ask", question)
    one_line_exit_2(out, "nothing relevant found")
    assert out.seconds < 30, "refused before a model loads"

def test_grpo_with_fewer_prompts_than_one_generation_batch_is_refused_before_training(grpo_nb_cli, small_dataset, tmp_path):
    "The tiny preset samples 8 prompts a step; the small data's train split has fewer: TRL would make 0 steps."
    out = grpo_nb_cli("train", "--method", "grpo", "--dataset", small_dataset, "--output", tmp_path / "grpo", "--no-progress")
    one_line_exit_2(out, "distinct prompts, fewer than one generation batch of 8", "lower --batch-size")
    assert siblings(tmp_path / "grpo") == []

# --- items 3, 11: report parameters are names, never code; YAML errors are one line --------------------------------------

INJECTION = '__import__("pathlib").Path("pwned").touch(); x'

def test_report_parameters_are_names_never_code(grpo_nb_cli, tmp_path):
    (params := tmp_path / "params.yaml").write_text(json.dumps({INJECTION: 1}))   # JSON is YAML
    for args in (["-p", INJECTION, "1"], ["-f", params]):
        one_line_exit_2(grpo_nb_cli("report", *args, "--reports-dir", tmp_path / "reports"), "is not a name")
    assert not (ROOT / "pwned").exists() and not (ROOT / "nbs/pwned").exists() and not (tmp_path / "reports").exists()

def test_unknown_report_parameter_is_named(grpo_nb_cli, tmp_path):
    out = grpo_nb_cli("report", "-p", "epoch", "1", "--reports-dir", tmp_path / "reports")
    one_line_exit_2(out, "unknown parameter 'epoch' (did you mean 'epochs'?)")
    assert not (tmp_path / "reports").exists()

def test_malformed_yaml_is_one_line_with_its_place(grpo_nb_cli, tmp_path):
    (params := tmp_path / "params.yaml").write_text("epochs: 1\nbeta: [0.1, 0.2\n")
    one_line_exit_2(grpo_nb_cli("report", "-f", params, "--reports-dir", tmp_path / "reports"), "params.yaml, line 3", "not valid YAML")
    one_line_exit_2(grpo_nb_cli("report", "-p", "beta", "[0.1", "--reports-dir", tmp_path / "reports"), "-p beta", "not valid YAML")
