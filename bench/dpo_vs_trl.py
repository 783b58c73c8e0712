"""grpo_nb's DPO training against a plain TRL script: the same model, data, hyperparameters and seed.

(a) `grpo_nb.dpo.train_dpo`: with every speed option off (TRL's own settings: the reference pass in every step, the
LM head over every position, gradient checkpointing on), with its defaults (the speed options that keep the results:
the reference pass once, the LM head over the answer tokens only, no gradient checkpointing on CPU), with each of those
turned off alone, and with the defaults plus length-grouped batches (which change the batches, hence the losses);
(b) a plain TRL script written the way TRL's documentation shows (model and tokenizer from transformers, a peft
`LoraConfig` passed as `peft_config`, `DPOConfig`, `trainer.train()`), given the same train split that grpo_nb's
validation and split produce, and the same hyperparameters and precision.

Every run is its own subprocess, so that its peak memory (resident set size from `wait4`, or torch's peak CUDA
allocation on a GPU) is its own. The runs alternate in rounds (TRL, grpo_nb defaults, grpo_nb speed options, ...,
then again), and every figure is the median over the rounds; a ratio is the median of the per-round ratios against
that round's TRL run. The timed span of both is the same: from building the `DPOTrainer` (tokenization and, with
`precompute_ref_log_probs`, the reference pass) to the end of `trainer.train()`; grpo_nb's evaluation after each
epoch and its checkpoints fall inside it, its sample generations and artifacts after it.

The workload of record: the bundled dataset, the embedded default model, 2 epochs, batch 4, gradient accumulation
1, max length 512, 2 CPU cores. Run: .venv/bin/python bench/dpo_vs_trl.py [--rounds 3] [--cores 2] [--json out.json]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOAD = dict(epochs=2.0, batch_size=4, gradient_accumulation=1, max_length=512)
LOSS_TOLERANCE = 0.01   # final losses within 1% of each other


# the speed options that keep the results, as TRL leaves them: grpo_nb turns each on by default
OPTIONS_OFF = {"precompute_ref_log_probs": False, "score_answers_only": False, "gradient_checkpointing": True}
OFF, DEFAULTS = "grpo_nb, speed options off", "grpo_nb defaults (speed options on)"


def variants() -> dict:
    "Name -> (runner, config overrides): plain TRL; grpo_nb with the options off, with its defaults, with each option off alone, and more."
    from grpo_nb.dpo import liger_available
    found = {"plain TRL": ("trl", {}), OFF: ("grpo_nb", OPTIONS_OFF), DEFAULTS: ("grpo_nb", {})}
    found.update({f"grpo_nb defaults, {name}={value}": ("grpo_nb", {name: value}) for name, value in OPTIONS_OFF.items()})
    found["grpo_nb defaults + group_by_length"] = ("grpo_nb", {"group_by_length": True})
    if liger_available(): found["grpo_nb defaults + use_liger_kernel"] = ("grpo_nb", {"use_liger_kernel": True})
    return found


# ---- the runs (each in its own process) --------------------------------------------------------------------------

def run_grpo_nb(spec: dict) -> dict:
    from grpo_nb.dpo import make_config, train_dpo
    config = make_config(**spec["config"])
    stats = train_dpo(config, overwrite=True, progress=False)
    logs = [json.loads(l) for l in (Path(config.output) / "training_logs/metrics.jsonl").read_text().splitlines()]
    losses = [l["loss"] for l in logs if "loss" in l]
    return dict(seconds=stats.runtime_seconds, steps=stats.global_step, train_pairs=stats.dataset["train"],
                epochs=config.epochs, tokens=max(l.get("num_tokens", 0) for l in logs), final_loss=losses[-1],
                mean_loss=sum(losses) / len(losses), eval_seconds=sum(l.get("eval_runtime", 0.0) for l in logs),
                peak_gpu_bytes=_peak_gpu_bytes())


def run_plain_trl(spec: dict) -> dict:
    "The way TRL's documentation trains DPO with LoRA; only the hyperparameters are the workload's."
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import DPOConfig, DPOTrainer
    c = spec["config"]
    set_seed(c["seed"])
    model = AutoModelForCausalLM.from_pretrained(spec["model"])
    tokenizer = AutoTokenizer.from_pretrained(spec["model"])
    train_dataset = load_dataset("json", data_files=spec["train_file"], split="train")
    peft_config = LoraConfig(r=c["lora_r"], lora_alpha=c["lora_alpha"], lora_dropout=c["lora_dropout"],
                             target_modules=spec["target_modules"], task_type="CAUSAL_LM")
    training_args = DPOConfig(output_dir=spec["output"], learning_rate=c["learning_rate"], lr_scheduler_type=c["lr_scheduler_type"],
                              warmup_steps=c["warmup_ratio"], beta=c["beta"], loss_type=[c["loss_type"]], num_train_epochs=c["epochs"],
                              per_device_train_batch_size=c["batch_size"], gradient_accumulation_steps=c["gradient_accumulation"],
                              max_length=c["max_length"], seed=c["seed"], bf16=spec["bf16"], logging_steps=1, report_to="none",
                              disable_tqdm=True, **spec.get("extra_args", {}))
    start = time.perf_counter()
    trainer = DPOTrainer(model=model, args=training_args, processing_class=tokenizer, train_dataset=train_dataset, peft_config=peft_config)
    result = trainer.train()
    seconds = time.perf_counter() - start
    logs = trainer.state.log_history
    losses = [l["loss"] for l in logs if "loss" in l]
    return dict(seconds=seconds, steps=trainer.state.global_step, train_pairs=len(train_dataset), epochs=c["epochs"],
                tokens=max(l.get("num_tokens", 0) for l in logs), final_loss=losses[-1], mean_loss=result.training_loss,
                eval_seconds=0.0, peak_gpu_bytes=_peak_gpu_bytes())


def _peak_gpu_bytes():
    import torch
    return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None


def child(runner: str, spec_path: str):
    cores = json.loads(os.environ.get("BENCH_CORES", "null"))
    if cores and hasattr(os, "sched_setaffinity"): os.sched_setaffinity(0, cores)
    from grpo_nb.runs import quiet_progress
    quiet_progress()
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = (run_grpo_nb if runner == "grpo_nb" else run_plain_trl)(spec)
    print("RESULT " + json.dumps(result), flush=True)


# ---- the parent: data, alternation, table -------------------------------------------------------------------------

def write_train_split(config, path: Path) -> int:
    "The train split grpo_nb's validation and split give for `config`, in TRL's conversational form, as JSON Lines."
    from grpo_nb.data import load_preference_data
    from grpo_nb.runs import to_conversational
    splits, _ = load_preference_data(config.dataset, config.validation, config.test_size, config.seed)
    path.write_text("".join(json.dumps(to_conversational(r), ensure_ascii=False) + "\n" for r in splits["train"].to_list()), encoding="utf-8")
    return len(splits["train"])


def launch(runner: str, spec: dict, work: Path, cores) -> dict:
    "Run one training in a child process; its result with wall-clock figures, peak RSS and CPU seconds from `wait4`."
    spec_path = work / f"spec-{time.monotonic_ns()}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "BENCH_CORES": json.dumps(cores), "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}
    if cores: env["OMP_NUM_THREADS"] = str(len(cores))
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, __file__, "--child", runner, str(spec_path)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    lines = [l for l in text.splitlines() if l.startswith("RESULT ")]
    if proc.returncode or not lines: raise SystemExit(f"{runner} run failed (exit {proc.returncode}):\n{text[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    pairs = result["train_pairs"] * result["epochs"]
    return {**result, "pairs_per_s": pairs / result["seconds"], "steps_per_s": result["steps"] / result["seconds"],
            "tokens_per_s": result["tokens"] / result["seconds"], "peak_rss_bytes": usage.ru_maxrss * 1024,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def median(values): return statistics.median(values)


def table(runs: dict) -> str:
    "The medians of every variant and its ratio to plain TRL (median of the per-round ratios)."
    trl = runs["plain TRL"]
    head = (f"{'variant':<50} {'pairs/s':>8} {'steps/s':>8} {'tokens/s':>9} {'peak MiB':>9} {'CPU s':>7} {'eval s':>7} {'final loss':>11} "
            f"{'mean loss':>10} {'ratio':>6}")
    rows = [head, "-" * len(head)]
    for name, results in runs.items():
        ratio = median([r["pairs_per_s"] / t["pairs_per_s"] for r, t in zip(results, trl)])
        peak = median([r["peak_gpu_bytes"] or r["peak_rss_bytes"] for r in results]) / 2**20
        rows.append(f"{name:<50} {median([r['pairs_per_s'] for r in results]):>8.3f} {median([r['steps_per_s'] for r in results]):>8.3f} "
                    f"{median([r['tokens_per_s'] for r in results]):>9.0f} {peak:>9.0f} {median([r['cpu_seconds'] for r in results]):>7.0f} "
                    f"{median([r['eval_seconds'] for r in results]):>7.1f} "
                    f"{median([r['final_loss'] for r in results]):>11.4g} {median([r['mean_loss'] for r in results]):>10.4g} {ratio:>6.3f}")
    return "\n".join(rows)


def verdict(runs: dict) -> list[str]:
    "The targets, checked on the measured medians: grpo_nb's defaults are its speed options that keep the results, so both targets are theirs."
    trl = runs["plain TRL"]
    lines = []
    for name, targets in ((DEFAULTS, (1.0, 1.2)), ("grpo_nb defaults + group_by_length", (1.2,)), (OFF, ())):
        ratio = median([r["pairs_per_s"] / t["pairs_per_s"] for r, t in zip(runs[name], trl)])
        gaps = {kind: abs(median([r[kind] for r in runs[name]]) / median([t[kind] for t in trl]) - 1) for kind in ("final_loss", "mean_loss")}
        met = lambda ok: "met" if ok else "NOT met"
        lines.append(f"{name}: pairs/s ratio {ratio:.3f} ({', '.join(f'target >= {t}: {met(ratio >= t)}' for t in targets) or 'TRL settings, no target'}); "
                     f"final loss differs by {100 * gaps['final_loss']:.3f}%, mean loss by {100 * gaps['mean_loss']:.3f}% "
                     f"(target <= {100 * LOSS_TOLERANCE:.0f}%: {met(gaps['final_loss'] <= LOSS_TOLERANCE)})")
    evaluation = median([r["eval_seconds"] / r["seconds"] for r in runs[OFF]])
    lines.append(f"  ({OFF}: {100 * evaluation:.1f}% of its time is the held-out evaluation after each epoch, which the plain TRL script does not do)")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds; every figure is a median over them (default 3)")
    parser.add_argument("--cores", type=int, default=2, help="pin every run to this many CPU cores (default 2; 0: no pinning)")
    parser.add_argument("--dataset", default=str(ROOT / "data/mgl_history_grpo.jsonl"), help="preference data (default: the bundled set)")
    parser.add_argument("--epochs", type=float, default=WORKLOAD["epochs"], help="passes over the train split (default 2)")
    parser.add_argument("--max-length", type=int, default=WORKLOAD["max_length"], help="longest prompt + answer in tokens (default 512)")
    parser.add_argument("--trl-no-checkpointing", action="store_true", help="also run plain TRL with gradient_checkpointing=False")
    parser.add_argument("--json", help="write every run's figures to this file")
    parser.add_argument("--child", nargs=2, metavar=("RUNNER", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child: return child(*args.child)
    if args.rounds < 1: parser.error("--rounds must be at least 1")

    import torch
    from grpo_nb.dpo import make_config
    from grpo_nb.model import default_model_path, default_target_modules, load_model_and_tokenizer, resolve_dtype
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cores = allowed[:args.cores] if args.cores and len(allowed) >= args.cores else None
    work = Path(tempfile.mkdtemp(prefix="dpo_vs_trl."))
    workload = {**WORKLOAD, "epochs": args.epochs, "max_length": args.max_length, "dataset": args.dataset}
    config = make_config(**workload, output=str(work / "grpo_nb"))
    train_pairs = write_train_split(config, work / "train.jsonl")
    model_path = str(default_model_path())
    target_modules = default_target_modules(load_model_and_tokenizer(None)[0])
    trl_spec = dict(config=asdict(config), model=model_path, train_file=str(work / "train.jsonl"),
                    target_modules=target_modules, output=str(work / "trl"), bf16=resolve_dtype(config.dtype) == torch.bfloat16)
    plan = variants()
    if args.trl_no_checkpointing: plan["plain TRL, gradient_checkpointing=False"] = ("trl", {"gradient_checkpointing": False})

    print(f"workload: {args.dataset} ({train_pairs} train pairs), embedded model, {args.epochs:g} epochs, batch 4, "
          f"accumulation 1, max length {args.max_length}, {len(cores) if cores else os.cpu_count()} CPU cores, "
          f"{'CUDA ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}; {args.rounds} alternated rounds")
    runs = {name: [] for name in plan}
    for round_ in range(args.rounds):
        for name, (runner, overrides) in plan.items():
            if runner == "trl": spec = {**trl_spec, "extra_args": overrides}
            else: spec = {"config": {**workload, **overrides, "output": str(work / "grpo_nb")}}
            result = launch(runner, spec, work, cores)
            runs[name].append(result)
            print(f"round {round_ + 1} {name:<50} {result['seconds']:7.1f} s  {result['pairs_per_s']:.3f} pairs/s  "
                  f"final loss {result['final_loss']:.6g}  peak RSS {result['peak_rss_bytes'] / 2**20:.0f} MiB", flush=True)
    for name, results in runs.items():
        if {r["train_pairs"] for r in results} != {train_pairs}: raise SystemExit(f"{name} trained on another split than plain TRL")
    print()
    print(table(runs))
    print()
    print("\n".join(verdict(runs)))
    if args.json: Path(args.json).write_text(json.dumps(runs, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
