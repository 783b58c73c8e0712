"""DPO against length: which DPO loss keeps its accuracy when length cannot help? Trained and measured side by side in one run.

Trains one LoRA adapter per setting on the same data, split, seed and hyperparameters (the `tiny` preset on the embedded
model by default) and prints, per setting, the held-out DPO implicit-reward accuracy (with 95% bootstrap intervals)
overall, on the length-matched pairs (answers within 10% of each other's words), on the length-reversed pairs (chosen
shorter) and on the minimal-edit pairs (one fact changed), the per-token preference accuracy of the tuned model, the
correlation of the implicit-reward margin with the length difference, and the training time.
Settings: TRL's `sigmoid` (the default), `sigmoid_norm` (length-normalised), LD-DPO (`ld_alpha` 0.5) and
`sigmoid` + `sft` (weights 1, 1). Run it alone: two training processes on two cores slow each other 5-10x.
Run: .venv/bin/python bench/dpo_length.py [--dataset D] [--base B] [--recipe R] [--seed N] [--out DIR] [--settings NAME ...]
"""
import argparse, json, tempfile, time
from pathlib import Path

from grpo_nb.dpo import make_config, train_dpo
from grpo_nb.evaluate import EvaluationConfig, accuracy_text, evaluate_adapter

SETTINGS = {
    "sigmoid": {},
    "sigmoid_norm": dict(loss_type=["sigmoid_norm"]),
    "ld_alpha=0.5": dict(ld_alpha=0.5),
    "sigmoid+sft": dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 1.0]),
}
VIEWS = (("overall", lambda v: v["overall"]), ("length-matched", lambda v: v["length_matched"]),
         ("length-reversed", lambda v: v["length_reversed"]), ("minimal_edit", lambda v: v["by_kind"].get("minimal_edit")))

def measure(name: str, overrides: dict, args, out: Path) -> dict:
    config = make_config(recipe=args.recipe, base=args.base, dataset=args.dataset, seed=args.seed, output=str(out / name.replace("=", "-")), **overrides)
    start = time.perf_counter()
    train_dpo(config, overwrite=True, progress=False)
    seconds = time.perf_counter() - start
    evaluation = evaluate_adapter(config.output, config=EvaluationConfig(verbosity_prompts=0)).to_dict()
    views = evaluation["preference"]["views"]
    return {"setting": name, "seconds": round(seconds, 1), "views": {label: pick(views) for label, pick in VIEWS},
            "normalised_tuned": evaluation["preference"]["normalised"]["tuned"],
            "length_correlation": evaluation["preference"]["length_correlation"]["pearson"]}

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None, help="preference data (default: the bundled pairs)")
    parser.add_argument("--base", default=None, help="base model (default: the embedded model, tiny preset)")
    parser.add_argument("--recipe", default="auto", help="recipe (default auto: tiny for the embedded model, none with --base; "
                                                         "tiny for another model built by grpo_nb, such as the reading variant)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the split, initialisation and order (default: the config's, 42)")
    parser.add_argument("--out", default=None, help="folder for the adapters (default: a temporary folder)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if args.dataset is None: args.dataset = make_config().dataset
    out = Path(args.out or tempfile.mkdtemp(prefix="dpo-length-"))
    results = [measure(name, SETTINGS[name], args, out) for name in args.settings]
    print(f"held-out DPO implicit-reward accuracy, 95% bootstrap interval (n per view in brackets); data {args.dataset}, seed {42 if args.seed is None else args.seed}")
    first = results[0]["views"]
    print(f"{'setting':<14}" + "".join(f"{label + ' (' + str((first[label] or {}).get('n', 0)) + ')':>26}" for label, _ in VIEWS)
          + f"{'per-token tuned':>26}{'length r':>10}{'train s':>9}")
    for r in results:
        cells = "".join(f"{accuracy_text((r['views'][label] or {}).get('implicit_reward')):>26}" for label, _ in VIEWS)
        print(f"{r['setting']:<14}{cells}{accuracy_text(r['normalised_tuned']):>26}{r['length_correlation']:>+10.3f}{r['seconds']:>9.0f}")
    if args.json: Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
