"""Issue #14: TRL's private names go through `grpo_nb.compat` only, are read only when the option that needs them is on,
and a TRL without one costs one warning, never the run; the answers-only LM head really scores fewer positions; every
error grpo_nb raises derives from `GrpoNbError`, which the CLI catches, and which imports no torch."""
import importlib, inspect, json, math, pkgutil, subprocess, sys, warnings
import pytest
from conftest import ROOT

DEMO = ROOT / "data/demo_grpo_dataset.jsonl"

def test_every_error_of_the_package_derives_from_grpo_nb_error():
    import grpo_nb
    from grpo_nb.errors import GrpoNbError
    errors = {name: cls for info in pkgutil.iter_modules(grpo_nb.__path__) if not info.name.startswith("_")
              for name, cls in inspect.getmembers(importlib.import_module(f"grpo_nb.{info.name}"), inspect.isclass)
              if issubclass(cls, Exception) and not issubclass(cls, Warning) and cls.__module__.startswith("grpo_nb.")}
    assert {"UsageError", "DataError", "RecordError", "ModelError", "InferenceError", "RAGError", "NothingRelevant", "ReportError",
            "RewardError", "TrainingError", "DivergedError"} <= set(errors)
    assert [name for name, cls in errors.items() if not issubclass(cls, GrpoNbError)] == []

def test_errors_and_compat_import_no_torch_and_no_trl():
    code = "import sys, grpo_nb.errors, grpo_nb.compat; print(sorted(m for m in ('torch', 'trl', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

def test_cli_answers_any_grpo_nb_error_in_one_line_with_exit_2(monkeypatch, capsys):
    import grpo_nb.cli as cli
    from grpo_nb.errors import GrpoNbError
    class SomeModuleError(GrpoNbError): "An error the CLI has never heard of."
    def fail(error): raise error
    monkeypatch.setenv("GRPO_NB_DEBUG", "")
    monkeypatch.setattr(cli, "cmd_validate", lambda args: fail(SomeModuleError("corpus.jsonl: no passages")))
    assert cli.main(["validate", str(DEMO)]) == 2
    assert capsys.readouterr().err == "grpo-nb: error: corpus.jsonl: no passages\n"
    monkeypatch.setattr(cli, "cmd_validate", lambda args: fail(KeyError("a bug")))
    assert cli.main(["validate", str(DEMO)]) == 1
    assert capsys.readouterr().err.startswith("grpo-nb: error: KeyError: 'a bug' (GRPO_NB_DEBUG=1")

@pytest.fixture(scope="module")
def tiny():
    "(tokenizer, settings) of a random one-layer Llama over a 600-token vocabulary trained on the demo pairs."
    from grpo_nb.model import TinyModelSettings, train_tokenizer
    pairs = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    tokenizer = train_tokenizer([p[k] for p in pairs for k in ("prompt", "chosen", "rejected")], vocab_size=600)
    return tokenizer, TinyModelSettings(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)

@pytest.fixture(scope="module")
def tiny_base(tiny, tmp_path_factory):
    "A folder holding the tiny random Llama and its tokenizer: a base model any run can load."
    import torch
    from grpo_nb.model import tiny_llama
    tokenizer, settings = tiny
    folder = tmp_path_factory.mktemp("tiny-base")
    torch.manual_seed(0)
    tiny_llama(tokenizer, settings).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

@pytest.fixture
def fresh_warnings(monkeypatch):
    "`grpo_nb.compat` as if it had warned about nothing yet in this process."
    import grpo_nb.compat as compat
    monkeypatch.setattr(compat, "_warned", set())
    return compat

def changed_trl_warnings(caught) -> list[str]:
    from grpo_nb.compat import TRLChangedWarning
    return [str(w.message) for w in caught if issubclass(w.category, TRLChangedWarning)]

def lm_head_rows(trainer, batch, weight) -> tuple[float, float]:
    "(the loss of `batch`, the positions the LM head projected onto the vocabulary while computing it), whichever matmul did it."
    import torch
    from torch.overrides import TorchFunctionMode
    matmuls = {torch.mm, torch.matmul, torch.nn.functional.linear, torch.Tensor.mm, torch.Tensor.matmul, torch.Tensor.__matmul__}
    head, vocabulary = weight.untyped_storage().data_ptr(), weight.shape[0]

    class HeadCells(TorchFunctionMode):
        "Adds up rows × vocabulary columns of every product with (a chunk of) the LM head's weight."
        cells = 0
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func in matmuls and isinstance(args[1], torch.Tensor) and args[1].untyped_storage().data_ptr() == head:
                hidden, projection = args[0], args[1]
                columns = projection.shape[0] if func is torch.nn.functional.linear else projection.shape[-1]
                HeadCells.cells += hidden.numel() // hidden.shape[-1] * columns
            return func(*args, **(kwargs or {}))

    with torch.no_grad(), HeadCells(): loss = trainer.compute_loss(trainer.model, batch).item()
    return loss, HeadCells.cells / vocabulary

def test_answers_only_lm_head_projects_the_answer_positions_alone(tiny, tmp_path):
    "The speed-up is real: with the option on, the LM head gets the answer tokens only; off, every position; the loss is the same."
    import torch
    from datasets import Dataset
    from trl import DPOTrainer
    from grpo_nb.compat import answers_only_lm_head
    from grpo_nb.dpo import dpo_arguments, make_config
    from grpo_nb.model import lora_config, tiny_llama
    from grpo_nb.runs import RunFolders, to_conversational
    tokenizer, settings = tiny
    torch.manual_seed(0)
    model = tiny_llama(tokenizer, settings)
    config = make_config(output=str(tmp_path / "dpo"), batch_size=4, max_length=128, precompute_ref_log_probs=False)
    pairs = Dataset.from_list([to_conversational(json.loads(line)) for line in DEMO.read_text(encoding="utf-8").splitlines()])
    trainer = DPOTrainer(model=model, args=dpo_arguments(config, RunFolders(tmp_path / "dpo"), progress=False), train_dataset=pairs, eval_dataset=pairs,
                         processing_class=tokenizer, peft_config=lora_config(model, r=4, alpha=8, dropout=0.0))
    with torch.no_grad():   # move the adapter off zero, where the policy is the reference and the loss ln 2 whatever is scored
        for name, parameter in trainer.model.named_parameters():
            if "lora_B" in name: parameter.normal_(0, 0.5)
    batch = next(iter(trainer.get_train_dataloader()))
    weight = trainer.model.get_output_embeddings().weight
    with answers_only_lm_head(): loss_on, rows_on = lm_head_rows(trainer, batch, weight)
    with answers_only_lm_head(enabled=False): loss_off, rows_off = lm_head_rows(trainer, batch, weight)
    answers, positions = int(batch["completion_mask"][:, 1:].sum()), batch["input_ids"][:, 1:].numel()
    passes = 2   # the policy, then the reference (the same model with its adapter off)
    assert (rows_on, rows_off) == (passes * answers, passes * positions)
    assert rows_on < 0.8 * rows_off, "most positions of a batch are prompt or padding"
    assert loss_on == pytest.approx(loss_off, abs=1e-6) and abs(loss_on - math.log(2)) > 1e-3

def test_dpo_run_without_use_triton_warns_once_and_trains(tiny_base, tmp_path, monkeypatch, fresh_warnings):
    import builtins, trl.trainer.utils
    from grpo_nb.dpo import make_config, train_dpo
    # a TRL that renamed or moved it: gone from the module grpo_nb patches, while TRL's own code still finds its device test
    # (a function's global lookup falls back to builtins), as it would find the renamed one
    monkeypatch.setattr(builtins, "_use_triton", trl.trainer.utils._use_triton, raising=False)
    monkeypatch.delattr(trl.trainer.utils, "_use_triton")
    config = make_config(base=str(tiny_base), dataset=str(DEMO), output=str(tmp_path / "adapter"), epochs=1.0, batch_size=8,
                         gradient_accumulation=1, max_length=256, learning_rate=1e-3, torch_threads=1, sample_prompts=["Чингис хаан хэн бэ?"],
                         max_new_tokens=4)
    assert config.score_answers_only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = train_dpo(config, progress=False)
        with fresh_warnings.answers_only_lm_head(): pass   # a second run in the same process says nothing more
    assert stats.global_step >= 1 and stats.last_train_loss is not None
    assert (tmp_path / "adapter/adapter_model.safetensors").exists()
    (message,) = changed_trl_warnings(caught)
    assert "`trl.trainer.utils._use_triton`" in message
    assert "the answers-only scoring speed-up (score_answers_only) is unavailable with this TRL; runs go on at full cost" in message

def test_option_off_reads_nothing_of_trl(monkeypatch, fresh_warnings):
    import trl.trainer.utils
    monkeypatch.delattr(trl.trainer.utils, "_use_triton")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fresh_warnings.answers_only_lm_head(enabled=False): pass
    assert changed_trl_warnings(caught) == []

def test_reward_base_without_suppress_seqcls_warning_warns_once_and_loads(tiny_base, monkeypatch, fresh_warnings):
    import trl.trainer.reward_trainer
    from grpo_nb.reward import load_reward_base
    monkeypatch.delattr(trl.trainer.reward_trainer, "suppress_seqcls_warning")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2): model, _tokenizer = load_reward_base(tiny_base)
    assert model.config.num_labels == 1
    (message,) = changed_trl_warnings(caught)
    assert "`trl.trainer.reward_trainer.suppress_seqcls_warning`" in message
