"""DPO against length: which DPO setting keeps its accuracy when length cannot help? Trained and measured side by side in one run.

Trains one LoRA adapter per setting and split seed on the same data and hyperparameters (the `tiny` preset on the
embedded model by default) and prints, per setting and seed, the held-out DPO implicit-reward accuracy (with 95%
bootstrap intervals) overall, on the length-matched pairs (answers within 10% of each other's words), on the
length-reversed pairs (chosen shorter) and on the minimal-edit pairs (one fact changed), the per-token preference
accuracy of the tuned model, the correlation of the implicit-reward margin with the length difference, and the
training time; with several seeds, also each setting's pooled row: every held-out pair of every split counted once
(the splits differ, so the pooled pairs are distinct questions' pairs, as many as the seeds times a split's).
Settings: the recipe's (`sigmoid`; the tiny recipe also trains the final norm at 200x the rate, see nbs/04_dpo.ipynb),
`LoRA only` (the same without the norm), `sigmoid_norm` (length-normalised), LD-DPO (`ld_alpha` 0.5), `sigmoid` +
`sft` (weights 1, 1), and `reward model`: the reward model of `grpo-nb train-reward` (its recipe, the same split),
whose pairwise accuracy fills the same columns. Run it alone: two training processes on two cores slow each other 5-10x.
Run: .venv/bin/python bench/dpo_length.py [--dataset D] [--base B] [--recipe R] [--seeds N ...] [--out DIR] [--settings NAME ...]
"""
import argparse, json, tempfile, time
from pathlib import Path

import numpy as np

from grpo_nb.dpo import make_config, train_dpo
from grpo_nb.evaluate import EvaluationConfig, accuracy, accuracy_text, evaluate_adapter
from grpo_nb.reward import make_reward_config, train_reward_model

SETTINGS = {
    "sigmoid": {},
    "LoRA only": dict(modules_to_save=[], modules_to_save_lr_ratio=1.0),
    "sigmoid_norm": dict(loss_type=["sigmoid_norm"]),
    "ld_alpha=0.5": dict(ld_alpha=0.5),
    "sigmoid+sft": dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 1.0]),
    "reward model": None,   # not DPO: the reward model's recipe
}
VIEWS = (("overall", lambda v: v["overall"]), ("length-matched", lambda v: v["length_matched"]),
         ("length-reversed", lambda v: v["length_reversed"]), ("minimal_edit", lambda v: v["by_kind"].get("minimal_edit")))

def measure(name: str, overrides: dict | None, seed: int | None, args, out: Path) -> dict:
    "Train one setting on one split; its held-out accuracy per view (`accuracy`: the implicit reward's, or the reward model's)."
    given = dict(recipe=args.recipe, base=args.base, dataset=args.dataset, seed=seed,
                 output=str(out / f"{name.replace('=', '-').replace(' ', '-')}-seed{seed}"))
    reward_model = overrides is None
    config = make_reward_config(**given) if reward_model else make_config(**given, **overrides)
    start = time.perf_counter()
    stats = (train_reward_model if reward_model else train_dpo)(config, overwrite=True, progress=False)
    seconds = time.perf_counter() - start
    # a reward model's run measures its held-out pairs itself; a DPO adapter is measured by the evaluation of `grpo-nb evaluate`
    evaluation = (stats.heldout_evaluation if reward_model else
                  evaluate_adapter(config.output, config=EvaluationConfig(verbosity_prompts=0, seen_questions=0)).to_dict()["preference"])
    score = "reward_model" if reward_model else "implicit_reward"
    views = {label: pick(evaluation["views"]) for label, pick in VIEWS}
    return {"setting": name, "seed": config.seed, "seconds": round(seconds, 1),
            "normalised_tuned": None if reward_model else evaluation["normalised"]["tuned"],
            "length_correlation": evaluation["length_correlation"]["pearson"],
            "views": {label: view and {"n": view["n"], "accuracy": view[score]} for label, view in views.items()}}

def pooled(results: list[dict], label: str) -> dict:
    "The accuracy of one view over every split's held-out pairs: the hits of each split, counted from its accuracy and n."
    hits = []
    for r in results:
        view = r["views"][label] or {}
        n = view.get("n", 0)
        right = round(view["accuracy"]["value"] * n) if n else 0
        hits += [1.0] * right + [0.0] * (n - right)
    return {"n": len(hits), "accuracy": accuracy(hits).__dict__ if hits else None}

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None, help="preference data (default: the bundled pairs)")
    parser.add_argument("--base", default=None, help="base model (default: the embedded model, tiny preset)")
    parser.add_argument("--recipe", default="auto", help="recipe (default auto: tiny for the embedded model, none with --base; "
                                                         "tiny for another model built by grpo_nb, such as the reading variant)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[None], help="seeds of the split, initialisation and order, one run each "
                                                                           "(default: the config's, 42)")
    parser.add_argument("--out", default=None, help="folder for the adapters (default: a temporary folder)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.dataset is None: args.dataset = make_config().dataset
    out = Path(args.out or tempfile.mkdtemp(prefix="dpo-length-"))
    results = [measure(name, SETTINGS[name], seed, args, out) for name in args.settings for seed in args.seeds]
    print(f"held-out accuracy (DPO: implicit reward; reward model: its scores), 95% bootstrap interval (n in brackets); data {args.dataset}")
    print(f"{'setting':<14}{'seed':>6}" + "".join(f"{label:>30}" for label, _ in VIEWS) + f"{'per-token tuned':>26}{'length r':>10}{'train s':>9}")
    cell = lambda view: f"{accuracy_text((view or {}).get('accuracy'))} ({(view or {}).get('n', 0)})"
    for r in results:
        print(f"{r['setting']:<14}{r['seed']:>6}" + "".join(f"{cell(r['views'][label]):>30}" for label, _ in VIEWS)
              + f"{accuracy_text(r['normalised_tuned']):>26}{r['length_correlation']:>+10.3f}{r['seconds']:>9.0f}")
    if len(args.seeds) > 1:
        for name in args.settings:
            mine = [r for r in results if r["setting"] == name]
            print(f"{name:<14}{'all':>6}" + "".join(f"{cell(pooled(mine, label)):>30}" for label, _ in VIEWS))
    if args.json: Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
