"""The embedded model against its reading variant: does either answer from a passage, and does grounded GRPO teach it to?

Builds (or takes from the cache) the default model and the reading variant (`grpo_nb.model.READING_SETTINGS`: twice the
window steps, 300 steps of reading chats, bfloat16 autocast), trains a grounded GRPO adapter on each with the same
`tiny` recipe, split and seed, and prints side by side, for each model: its build time, the fact accuracy of the greedy
answers of base and tuned (closed-book and with the gold passage) on the held-out questions and on questions the run
trained on, each with its paired 95% interval, and the run's own fact reward over its first and last 10% of steps.
A rise of the reward and of the trained-on questions with none on the held-out ones is GRPO learning answers, not
answering. `--speed` instead prints the pretraining speed of the tiny model in float32 and in bfloat16 autocast, side by
side. Run it alone (two training processes on two cores slow each other 5-10x):
.venv/bin/python bench/reading_model.py [--test-size 0.25] [--learning-rate 3e-4] [--temperature 0.7] [--json FILE]
.venv/bin/python bench/reading_model.py --speed
"""
import argparse, json, tempfile, time
from pathlib import Path

import torch

from grpo_nb.evaluate import EvaluationConfig, evaluate_adapter, facts_text, SEEN_TITLE
from grpo_nb.grpo import make_grpo_config, train_grpo
from grpo_nb.model import READING_SETTINGS, TinyModelSettings, default_model_path, pretrain, pretraining_tokens, read_corpus, tiny_llama, train_tokenizer

MODELS = {"default": TinyModelSettings(), "reading variant": READING_SETTINGS}

def measure(name: str, settings: TinyModelSettings, args, out: Path) -> dict:
    started = time.perf_counter()
    base = default_model_path(settings=settings)
    build = json.loads((base / "build.json").read_text(encoding="utf-8"))
    config = make_grpo_config(recipe="tiny", base=str(base), grounded=True, output=str(out / name.replace(" ", "-")),
                              test_size=args.test_size, learning_rate=args.learning_rate, temperature=args.temperature)
    stats = train_grpo(config, overwrite=True, progress=False)
    evaluation = evaluate_adapter(config.output, config=EvaluationConfig(verbosity_prompts=0)).to_dict()
    return {"model": name, "base": str(base), "build_seconds": build["seconds"], "final_pretraining_loss": build["losses"][-1],
            "fact_reward": stats.rewards["fact_reward"], "heldout": evaluation["facts"], "seen": evaluation["seen_facts"],
            "seconds": round(time.perf_counter() - started, 1)}

def pretraining_speed(autocast_bf16: bool, steps: int = 40, settings: TinyModelSettings = TinyModelSettings()) -> float:
    "Tokens per second of `steps` pretraining steps of the default model's shape on the bundled passages (after 2 warm-up steps)."
    passages = read_corpus()
    tokenizer = train_tokenizer([p["text"] for p in passages] + [p["title"] for p in passages], settings.vocab_size)
    tokens = pretraining_tokens(passages, tokenizer)   # the default build's stream
    torch.manual_seed(0)
    model = tiny_llama(tokenizer, settings)
    pretrain(model, tokens, 2, settings.batch_size, settings.block_size, settings.learning_rate, autocast_bf16=autocast_bf16)
    started = time.perf_counter()
    pretrain(model, tokens, steps, settings.batch_size, settings.block_size, settings.learning_rate, autocast_bf16=autocast_bf16)
    return steps * settings.batch_size * settings.block_size / (time.perf_counter() - started)

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-size", type=float, default=0.25, help="held-out share (0.25: about 30 held-out questions)")
    parser.add_argument("--learning-rate", type=float, default=None, help="GRPO learning rate (default: the tiny recipe's)")
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: the tiny recipe's)")
    parser.add_argument("--out", default=None, help="folder for the adapters (default: a temporary folder)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--speed", action="store_true", help="only print the pretraining speed in float32 and bfloat16 autocast")
    args = parser.parse_args()
    if args.speed:
        fp32, bf16 = pretraining_speed(False), pretraining_speed(True)
        print(f"pretraining, batch 8 x 256 tokens, {torch.get_num_threads()} threads: float32 {fp32:,.0f} tokens/s, "
              f"bfloat16 autocast {bf16:,.0f} tokens/s, ratio {bf16 / fp32:.2f}")
        return
    out = Path(args.out or tempfile.mkdtemp(prefix="reading-model-"))
    results = [measure(name, settings, args, out) for name, settings in MODELS.items()]
    for r in results:
        reward = r["fact_reward"]
        print(f"\n== {r['model']}: built in {r['build_seconds']} s (final pretraining loss {r['final_pretraining_loss']:.2f}); "
              f"GRPO fact reward {reward['first_mean']:+.3f} -> {reward['last_mean']:+.3f} "
              f"({reward['difference']:+.3f} ± {reward['standard_error']:.3f} SE); {r['seconds']:.0f} s in all")
        print(facts_text(r["heldout"]))
        print(facts_text(r["seen"], SEEN_TITLE))
    if args.json: Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")

if __name__ == "__main__":
    main()
