"The done-when of DPO training: the embedded default on the bundled data, trained by `grpo-nb train` with its defaults."
import json, math

def test_trains_within_10_minutes_and_learns(trained):
    output, seconds, _ = trained
    stats = json.loads((output / "training_stats.json").read_text())
    assert seconds < 600, f"took {seconds:.0f} s"
    # DPO's loss starts at ln 2 (policy = reference); the first logged value averages the first steps, which may already learn
    assert stats["last_train_loss"] < math.log(2) and abs(stats["first_train_loss"] - math.log(2)) < 1e-3, stats["first_train_loss"]
    # TRL's figure, a mean over eval batches (0.694; per pair 0.725): the length-controlled views are asserted below
    assert stats["eval_reward_accuracy"] >= 0.65, stats["eval_reward_accuracy"]
    assert stats["dataset"]["accepted"] >= 480 and stats["dataset"]["test"] > 0
    for key in ("config", "trainable_parameters", "total_parameters", "eval_loss", "eval_reward_margin", "train_samples_per_second",
                "train_tokens_per_second", "peak_memory_bytes", "library_versions", "git_commit", "runtime_seconds"):
        assert stats[key] is not None, key

def test_artifacts_exist_and_metrics_are_logged(trained):
    output, _, _ = trained
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "training_stats.json", "README.md",
                 "sample_generations.jsonl", "training_logs/metrics.jsonl", "training_logs/training.log", "rejects.jsonl",
                 "heldout_pairs.jsonl"):
        assert (output / name).exists(), name
    metrics = [json.loads(l) for l in (output / "training_logs/metrics.jsonl").read_text().splitlines()]
    train = [m for m in metrics if "loss" in m]
    for key in ("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "learning_rate", "grad_norm"):
        assert all(key in m for m in train), key
    assert len({m["epoch"] for m in metrics if "eval_loss" in m}) >= 2, "evaluated each epoch"
    samples = [json.loads(l) for l in (output / "sample_generations.jsonl").read_text().splitlines()]
    assert samples and all(s["base"] and s["tuned"] for s in samples)

def test_adapter_reloads_with_peft_and_generates(trained):
    output, _, _ = trained
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    config = json.loads((output / "adapter_config.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(output)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(config["base_model_name_or_path"]), output)
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Чингис хаан хэзээ төрсөн бэ?"}], tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    generated = model.generate(**ids, max_new_tokens=12, do_sample=False)
    assert generated.shape[1] > ids["input_ids"].shape[1]

def test_the_final_norm_trains_in_full_at_its_own_rate(trained):
    "The tiny recipe trains `model.norm` whole at 200x the rate: it moves further than Adam can move a weight at LoRA's rate."
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    output, _, _ = trained
    stats = json.loads((output / "training_stats.json").read_text())
    assert stats["config"]["modules_to_save"] == ["model.norm"] and stats["config"]["modules_to_save_lr_ratio"] == 200
    tuned = next(w for name, w in load_file(output / "adapter_model.safetensors").items() if name.endswith("model.norm.weight"))
    base = AutoModelForCausalLM.from_pretrained(stats["base_model"]).model.norm.weight.detach()
    assert (tuned - base).abs().max() > stats["config"]["learning_rate"] * stats["global_step"]   # Adam: at most ~ the rate a step

def test_evaluate_cli_shows_what_the_adapter_learned_where_length_cannot_help(grpo_nb_cli, trained, tmp_path):
    output, _, _ = trained
    out = grpo_nb_cli("evaluate", "--adapter", output, "--output", tmp_path / "eval.json")
    assert out.returncode == 0, out.stderr[-3000:]
    evaluation = json.loads((tmp_path / "eval.json").read_text())
    views = evaluation["preference"]["views"]
    reversed_pairs = views["length_reversed"]   # the true answer is the shorter one: "prefer the longer answer" scores 0 here
    assert reversed_pairs["n"] >= 10 and reversed_pairs["length_baseline"]["value"] == 0
    assert reversed_pairs["implicit_reward"]["value"] >= 0.7, reversed_pairs   # measured 0.815 (22 of 27)
    edits = views["by_kind"]["minimal_edit"]   # one fact changed, same length: only the facts tell them apart
    assert edits["n"] >= 20 and edits["implicit_reward"]["value"] >= 0.7, edits   # measured 0.769 (20 of 26)
    assert not evaluation["preference"]["length_correlation"]["alarm"], evaluation["preference"]["length_correlation"]
    assert views["overall"]["n"] == evaluation["pairs"] and views["overall"]["length_baseline"]["low"] <= views["overall"]["length_baseline"]["value"]
    assert sum(view["n"] for view in views["by_kind"].values()) == evaluation["pairs"], "every held-out pair has a kind"
    for name in ("summed_base", "normalised_tuned", "normalised_difference", "implicit_reward"): assert name in views["overall"], name
    assert evaluation["preference"]["length_correlation"]["n"] == evaluation["pairs"]
    verbosity = evaluation["verbosity"]
    assert verbosity["sample_prompts"] == len(evaluation["generations"]) and 0 < verbosity["heldout_prompts"] <= 16
    assert "length-reversed" in out.stdout and "length correlation" in out.stdout and "verbosity drift" in out.stdout
    share = lambda who: sum(g[f"{who}_quality"]["mongolian_share"] for g in evaluation["generations"]) / len(evaluation["generations"])
    assert share("tuned") >= share("base") - 0.02, "tuned answers are at least as Mongolian as the base's"

def test_evaluate_cli_works_on_any_preference_file(grpo_nb_cli, trained, tmp_path):
    output, _, _ = trained
    out = grpo_nb_cli("evaluate", "--adapter", output, "--dataset", "data/demo_grpo_dataset.jsonl", "--output", tmp_path / "demo.json",
                      "--resamples", "200")
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads((tmp_path / "demo.json").read_text())["pairs"] == 8
    assert "normalised" in out.stdout and "tuned - base" in out.stdout
    as_json = grpo_nb_cli("evaluate", "--adapter", output, "--dataset", "data/demo_grpo_dataset.jsonl", "--json", "--resamples", "200",
                          "--verbosity-prompts", "0")
    assert as_json.returncode == 0, as_json.stderr[-3000:]
    printed = json.loads(as_json.stdout)
    assert printed["pairs"] == 8 and printed["verbosity"]["heldout_prompts"] == 0
    missing = grpo_nb_cli("evaluate", "--adapter", tmp_path / "nope")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
