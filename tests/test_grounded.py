"Grounded GRPO and the task metric (#13) through the CLI: `grpo-nb train --method grpo --grounded` trains on RAG prompts with the fact and grounding rewards, and `grpo-nb evaluate --adapter` reports the fact accuracy of base and tuned greedy answers, closed-book and with the gold passage, each with its paired interval, on the held-out questions and on questions the run trained on."
import json, os, subprocess
from conftest import ROOT, CLI

DATA = str(ROOT / "data/mgl_history_grpo.jsonl")

def cli(*args, timeout=1200):
    return subprocess.run([str(CLI), *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "GRPO_NB_DEBUG": ""})

def test_grounded_grpo_then_fact_accuracy(tmp_path):
    out = cli("train", "--method", "grpo", "--grounded", "--dataset", DATA, "--output", tmp_path / "grounded", "--max-steps", "4",
              "--batch-size", "8", "--num-generations", "4", "--max-completion-length", "16", "--no-progress",
              "--importance-sampling-level", "sequence")   # GSPO's ratio, run for real
    assert out.returncode == 0, out.stderr[-3000:]
    stats = json.loads((tmp_path / "grounded/training_stats.json").read_text(encoding="utf-8"))
    assert stats["config"]["grounded"] is True and stats["global_step"] == 4 and stats["config"]["importance_sampling_level"] == "sequence"
    assert set(stats["rewards"]) == {"total", "fact_reward", "grounding_reward", "repetition_penalty"}
    metrics = [json.loads(l) for l in (tmp_path / "grounded/training_logs/metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all("frac_reward_zero_std" in m and "rewards/fact_reward/mean" in m for m in metrics if "reward" in m)

    out = cli("evaluate", "--adapter", tmp_path / "grounded", "--output", tmp_path / "eval.json")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fact accuracy of answers" in out.stdout and "gold passage" in out.stdout
    facts = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))["facts"]
    heldout = {json.loads(l)["question_id"] for l in (tmp_path / "grounded/heldout_pairs.jsonl").read_text(encoding="utf-8").splitlines()}
    assert set(facts) == {"closed-book", "gold passage"}
    for comparison in facts.values():
        assert comparison["questions"] == len(heldout) == len(comparison["answers"])
        for who in ("base", "tuned", "difference"):
            value = comparison[who]
            assert value["low"] <= value["value"] <= value["high"], (who, value)
        scores = [(a["base_score"], a["tuned_score"]) for a in comparison["answers"]]
        assert abs(comparison["difference"]["value"] - sum(t - b for b, t in scores) / len(scores)) < 1e-9

    # the same questions' measure on questions the run trained on: its train split, made again from the run's config
    evaluated = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))
    seen = evaluated["seen_facts"]
    assert set(seen) == {"closed-book", "gold passage"} and "fact accuracy, questions trained on" in out.stdout
    trained = {a["question"] for a in seen["gold passage"]["answers"]}
    assert len(trained) == seen["gold passage"]["questions"] == evaluated["config"]["seen_questions"] == 32
    assert not trained & {a["question"] for a in facts["gold passage"]["answers"]}
