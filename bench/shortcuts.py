"""Shortcut baselines of a preference file: can length, sentence count or digits alone tell chosen from rejected?

Prints, for the accepted pairs as a whole, for each side of the default train/test split (the one training uses:
grouped by question, `--test-size`, `--seed`) and for each `kind`, the accuracy of the rules "prefer the longer answer",
"prefer more sentences" and "prefer more digits" (ties count half), and flags any value outside 0.35-0.65. Then the
largest share of a held-out prompt's words found in one training prompt (leakage through near-identical questions).
Run: .venv/bin/python bench/shortcuts.py [DATA.jsonl] [--test-size 0.1] [--seed 42]
"""
import argparse
from collections import defaultdict

from grpo_nb.data import SHORTCUTS, content_words, data_dir, shortcut_baselines, split_by_question, validate

def row(label: str, records: list[dict]) -> str:
    baselines = shortcut_baselines(records)
    flag = "" if all(0.35 <= v <= 0.65 for v in baselines.values()) else "   <- outside 0.35-0.65"
    return f"{label:<24}{len(records):>6}" + "".join(f"{baselines[name]:>22.3f}" for name in SHORTCUTS) + flag

def held_out_overlap(train: list[dict], test: list[dict]) -> tuple[float, str, str]:
    "The largest share of a test prompt's distinct words that one train prompt holds, and the two prompts."
    train_sets = [(set(content_words(r["prompt"])), r["prompt"]) for r in train]
    best = (0.0, "", "")
    for record in test:
        words = set(content_words(record["prompt"]))
        for train_words, prompt in train_sets:
            share = len(words & train_words) / len(words)
            if share > best[0]: best = (share, record["prompt"], prompt)
    return best

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(data_dir() / "mgl_history_grpo.jsonl"))
    parser.add_argument("--test-size", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    report = validate(args.data)
    records = report.accepted
    split = split_by_question(records, args.test_size, args.seed)
    print(f"{args.data}: {report.total} records, {len(records)} accepted, {len({r['prompt'] for r in records})} prompts")
    print(f"{'pairs':<24}{'n':>6}" + "".join(f"{'prefer ' + name:>22}" for name in SHORTCUTS))
    print(row("all accepted", records))
    for side in ("train", "test"): print(row(f"{side} split", split[side].to_list()))
    by_kind = defaultdict(list)
    for record in records: by_kind[record.get("kind", "(no kind)")].append(record)
    for kind, kind_records in sorted(by_kind.items()): print(row(f"kind {kind}", kind_records))
    share, test_prompt, train_prompt = held_out_overlap(split["train"].to_list(), split["test"].to_list())
    print(f"largest share of a held-out prompt's words in one training prompt: {share:.2f}\n  held out: {test_prompt}\n  training: {train_prompt}")

if __name__ == "__main__":
    main()
