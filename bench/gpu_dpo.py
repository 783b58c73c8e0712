"""DPO + LoRA on a GPU at real model shapes: tokens/s, model FLOPs utilisation and peak GPU memory.

The models are built from their configurations (Qwen2.5-0.5B and Mistral-7B-v0.1, written out below) with random
weights: nothing is downloaded, and random weights cost the same time as trained ones. One step does what TRL's
DPOTrainer does for a batch of B pairs of sequence length L: the reference forward (the same network with the
adapter disabled) and the policy's forward and backward over the 2·B sequences (chosen, then rejected), per-token
log-probabilities from TRL's chunked LM-head kernel (no [tokens, vocabulary] logits, as in the trainer), the sigmoid
DPO loss and an AdamW step. The data are random token ids (a quarter prompt, the rest answer, no padding). As
grpo_nb does on a GPU: bf16 weights, gradient checkpointing on; QLoRA loads the model in 4 bits with grpo_nb's
`qlora_config` (NF4, double quantisation), from a copy saved to a temporary folder.

Model FLOPs utilisation = (6·N·T + 2·N·T) per step / seconds per step / the peak FLOP/s given by --peak-tflops
(default: H100 SXM bf16 dense, 989 TFLOP/s), where T = 2·B·L tokens per step and N = the parameters in the
per-token matrix multiplies (all but the input embedding table; a tied LM head counts once). 6·N·T is the
trained pass and 2·N·T the reference pass. By this convention neither the recomputation of gradient checkpointing
nor attention's own FLOPs are counted, while the weight-gradient multiplies that LoRA skips are: it is the usual
model-FLOPs figure, not the hardware's work. With --precomputed-reference every measurement is repeated without the
reference pass (its log-probabilities arriving with the batch, as with `precompute_ref_log_probs`), counting 6·N·T.

Run: python bench/gpu_dpo.py [--models qwen2.5-0.5b mistral-7b] [--modes lora qlora] [--batch-sizes 1 4]
     [--seq-len 1024] [--liger] [--precomputed-reference] [--peak-tflops 989];  --cpu-smoke runs a tiny shape on the CPU to exercise the code.
"""
import argparse, gc, importlib.util, sys, tempfile, time

MODEL_CONFIGS = {
    "qwen2.5-0.5b": dict(model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768, rope_theta=1000000.0,
                         rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False),
    "mistral-7b": dict(model_type="mistral", vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768, rope_theta=10000.0,
                       rms_norm_eps=1e-5, hidden_act="silu", tie_word_embeddings=False, sliding_window=4096),
    # --cpu-smoke only: the Qwen2 architecture at a size two CPU cores step through in seconds
    "tiny-qwen2": dict(model_type="qwen2", vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rope_theta=10000.0,
                       rms_norm_eps=1e-6, hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False),
}
CHUNK_SIZE = 32768   # vocabulary columns per tile of TRL's chunked log-probability kernel, as its DPOTrainer uses
BETA = 0.1


class BenchError(Exception):
    "A measurement that cannot run here; the message is one line."


def build_model(name: str, dtype, device):
    "A randomly initialised causal LM of `name`'s configuration, built directly on `device`."
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.for_model(**MODEL_CONFIGS[name])
    torch.manual_seed(0)
    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")


def matmul_parameters(model) -> int:
    "N: the parameters a token meets in matrix multiplies: all but the input embedding table (a tied LM head counts once)."
    embedding, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    return sum(p.numel() for p in model.parameters()) - (0 if head is embedding else embedding.numel())


def load_in_4bit(model, dtype):
    "`model` saved to a temporary folder and loaded back in 4 bits the way grpo_nb loads a QLoRA base."
    import torch
    from transformers import AutoModelForCausalLM
    from grpo_nb.model import qlora_config
    quantization = qlora_config(dtype)   # one-line ModelError without CUDA or bitsandbytes
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, quantization_config=quantization,
                                                    device_map={"": torch.cuda.current_device()})


def with_lora(model, checkpointing: bool):
    "`model` prepared as grpo_nb prepares it (4-bit: `prepare_for_lora`) with a fresh LoRA adapter on its projections."
    from peft import get_peft_model
    from grpo_nb.model import lora_config, prepare_for_lora
    model = prepare_for_lora(model, checkpointing)
    if checkpointing and not getattr(model, "is_loaded_in_4bit", False):
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    # dropout 0: TRL's DPOTrainer turns dropout off (`disable_dropout`)
    return get_peft_model(model, lora_config(model, r=16, alpha=32, dropout=0.0))


def random_batch(vocab_size: int, batch_size: int, seq_len: int, device):
    "Token ids of B chosen then B rejected sequences, and the mask of their answers (all but the first quarter)."
    import torch
    generator = torch.Generator().manual_seed(batch_size)
    ids = torch.randint(0, vocab_size, (2 * batch_size, seq_len), generator=generator)
    answer = torch.zeros_like(ids)
    answer[:, seq_len // 4:] = 1
    return ids.to(device), answer.to(device)


def answer_logps(causal_lm, ids, answer):
    "Summed log-probability of each sequence's answer tokens, through TRL's chunked LM-head kernel."
    import torch
    from trl.kernels import ChunkedLogProbFunction
    hidden = causal_lm.base_model(input_ids=ids, use_cache=False).last_hidden_state[:, :-1]
    targets, mask = ids[:, 1:], answer[:, 1:].bool()
    head = causal_lm.get_output_embeddings()
    logps = ChunkedLogProbFunction.apply(hidden[mask], head.weight, head.bias, targets[mask], 1.0, CHUNK_SIZE, None, 1.0, ("log_probs",))[0]
    return torch.zeros(mask.shape, dtype=logps.dtype, device=logps.device).masked_scatter(mask, logps).sum(-1)


def dpo_step(peft_model, batch, optimizer, precomputed_reference=None) -> float:
    "One DPO step: reference forward (adapter off) unless its log-probabilities are given, policy forward and backward, sigmoid loss, optimizer step."
    import torch
    causal_lm = peft_model.get_base_model()
    # on a GPU the Trainer runs the forward passes under bf16 autocast (`bf16=True`); so do we
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=batch[0].is_cuda)
    with autocast:
        reference = precomputed_reference
        if reference is None:
            with torch.no_grad(), peft_model.disable_adapter(): reference = answer_logps(causal_lm, *batch)
        chosen, rejected = (answer_logps(causal_lm, *batch) - reference).chunk(2)
        loss = -torch.nn.functional.logsigmoid(BETA * (chosen - rejected)).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def measure(peft_model, n_params: int, batch_size: int, seq_len: int, steps: int, warmup: int, peak_flops, device,
            precomputed: bool = False) -> dict:
    "Time `steps` DPO steps after `warmup` ones; tokens/s, achieved FLOP/s, MFU and peak GPU memory."
    import torch
    batch = random_batch(peft_model.config.vocab_size, batch_size, seq_len, device)
    # as with `precompute_ref_log_probs`: the reference log-probabilities arrive with the batch, computed once before training
    reference = torch.zeros(2 * batch_size, device=device) if precomputed else None
    optimizer = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-5)
    cuda = device == "cuda"
    peft_model.train()
    if cuda: torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    for _ in range(warmup): dpo_step(peft_model, batch, optimizer, reference)
    if cuda: torch.cuda.synchronize()
    start = time.perf_counter()
    losses = [dpo_step(peft_model, batch, optimizer, reference) for _ in range(steps)]   # .item() waits for each step's kernels
    seconds = (time.perf_counter() - start) / steps
    tokens = 2 * batch_size * seq_len
    flops = (6 + (0 if precomputed else 2)) * n_params * tokens / seconds
    del optimizer
    return dict(seconds_per_step=seconds, tokens_per_s=tokens / seconds, tflops=flops / 1e12,
                mfu=flops / peak_flops if peak_flops else None, peak_gib=torch.cuda.max_memory_allocated() / 2**30 if cuda else None,
                loss=losses[-1])


def release_memory():
    import torch
    gc.collect()
    if torch.cuda.is_available(): torch.cuda.empty_cache()


def run(args) -> list[dict]:
    "Every (model, mode, batch size) measurement asked for; a mode that cannot run here gives a row saying why."
    import torch
    device = "cpu" if args.cpu_smoke else "cuda"
    dtype = torch.float32 if args.cpu_smoke else torch.bfloat16
    peak = args.peak_tflops * 1e12 if args.peak_tflops else None
    rows = []
    for name in args.models:
        base = build_model(name, dtype, device)
        n_params = matmul_parameters(base)
        print(f"{name}: N = {n_params / 1e6:,.1f} M parameters in matrix multiplies", flush=True)
        # QLoRA first, from the untouched base; Liger patches the model in place, so it comes last
        modes = [m for m in ("qlora", "lora") if m in args.modes] + (["lora+liger"] if args.liger and "lora" in args.modes else [])
        for mode in modes:
            try:
                if mode == "qlora":
                    if args.cpu_smoke: raise BenchError("QLoRA needs a CUDA GPU")
                    base.to("cpu")   # off the GPU while the 4-bit copy is measured, so that its peak is its own
                    release_memory()
                    model = with_lora(load_in_4bit(base, dtype), checkpointing=True)
                else:
                    model = with_lora(base, checkpointing=not args.cpu_smoke)
                    if mode == "lora+liger": apply_liger(model)
            except Exception as e:   # a mode missing its package is reported, the others still run
                rows += [dict(model=name, mode=mode, batch=b, skipped=str(e).splitlines()[0]) for b in args.batch_sizes]
                base.to(device)
                continue
            for batch_size in args.batch_sizes:
                for precomputed in (False, True) if args.precomputed_reference else (False,):
                    row = dict(model=name, mode=mode + (", ref precomputed" if precomputed else ""), batch=batch_size, seq_len=args.seq_len,
                               **measure(model, n_params, batch_size, args.seq_len, args.steps, args.warmup, peak, device, precomputed))
                    rows.append(row)
                    print(format_row(row), flush=True)
            if mode == "qlora": del model
            else: base = model.unload()   # the plain base again, without the adapter
            release_memory()
            base.to(device)
        del base
        release_memory()
    return rows


def apply_liger(peft_model):
    "Liger's layer kernels, as TRL's DPOTrainer applies them (`use_liger_kernel`): without its fused cross-entropy."
    import torch
    if not torch.cuda.is_available() or importlib.util.find_spec("liger_kernel") is None:
        raise BenchError("Liger kernels need a CUDA GPU and the liger-kernel package")
    from transformers.integrations.liger import apply_liger_kernel
    apply_liger_kernel(peft_model, {"fused_linear_cross_entropy": False})


HEADER = f"{'model':<14} {'mode':<29} {'batch':>5} {'seq':>5} {'s/step':>8} {'tokens/s':>10} {'TFLOP/s':>8} {'MFU':>6} {'peak GiB':>9}"


def format_row(row: dict) -> str:
    if "skipped" in row: return f"{row['model']:<14} {row['mode']:<29} {row['batch']:>5}  skipped: {row['skipped']}"
    mfu = f"{100 * row['mfu']:5.1f}%" if row["mfu"] is not None else "   n/a"
    peak = f"{row['peak_gib']:9.2f}" if row["peak_gib"] is not None else "      n/a"
    return (f"{row['model']:<14} {row['mode']:<29} {row['batch']:>5} {row['seq_len']:>5} {row['seconds_per_step']:>8.3f} "
            f"{row['tokens_per_s']:>10,.0f} {row['tflops']:>8.1f} {mfu} {peak}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=[m for m in MODEL_CONFIGS if not m.startswith("tiny")], default=["qwen2.5-0.5b", "mistral-7b"])
    parser.add_argument("--modes", nargs="+", choices=["lora", "qlora"], default=["lora", "qlora"], help="LoRA on bf16 weights, QLoRA on 4-bit ones")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4], help="pairs per step (default 1 4)")
    parser.add_argument("--seq-len", type=int, default=1024, help="tokens per sequence (default 1024)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--liger", action="store_true", help="also measure LoRA with Liger's kernels (needs liger-kernel)")
    parser.add_argument("--precomputed-reference", action="store_true",
                        help="also measure each step without the reference pass, as with precompute_ref_log_probs (MFU then counts 6·N·T)")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="the GPU's peak dense bf16 TFLOP/s that MFU divides by (default 989: H100 SXM)")
    parser.add_argument("--cpu-smoke", action="store_true", help="run a tiny Qwen2 shape on the CPU (fp32, LoRA only) to exercise the code; no MFU")
    args = parser.parse_args()
    import torch
    if args.cpu_smoke:
        args.models, args.seq_len, args.steps, args.warmup, args.peak_tflops = ["tiny-qwen2"], 64, 2, 1, None
        args.batch_sizes = [b for b in args.batch_sizes if b <= 4]
    elif not torch.cuda.is_available():
        sys.exit("gpu_dpo.py: no CUDA GPU here (use --cpu-smoke to run a tiny shape on the CPU)")
    if min(args.batch_sizes) < 1 or args.seq_len < 8 or args.steps < 1: parser.error("batch sizes and steps must be positive, --seq-len at least 8")
    where = "CPU (smoke test, fp32)" if args.cpu_smoke else f"{torch.cuda.get_device_name()}, bf16, peak assumed {args.peak_tflops:g} TFLOP/s"
    print(f"DPO + LoRA step throughput on {where}; sequence length {args.seq_len}, {args.steps} timed steps after {args.warmup}")
    print(HEADER, flush=True)
    rows = run(args)
    print("\n" + HEADER)
    print("\n".join(format_row(r) for r in rows))


if __name__ == "__main__":
    main()
