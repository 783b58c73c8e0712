"`grpo-nb generate` and `grpo-nb merge` on a freshly trained adapter."
import shutil

QUESTION = "Монгол Улс хэзээ тусгаар тогтнолоо зарласан бэ?"

def test_generate_answers_with_the_adapter(run_cli, trained):
    out = run_cli("generate", "--adapter", trained[0], QUESTION, "--max-new-tokens", "24")
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(out.stdout.split()) >= 3

def test_merged_model_gives_the_same_greedy_answer(run_cli, trained, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM
    from grpo_nb.inference import load_tuned, generate_response
    out = run_cli("merge", "--adapter", trained[0], "--output", tmp_path / "merged")
    assert out.returncode == 0, out.stderr[-2000:]
    model, tokenizer = load_tuned(adapter=trained[0])
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert generate_response(merged, tokenizer, QUESTION, max_new_tokens=24) == generate_response(model, tokenizer, QUESTION, max_new_tokens=24)
    ids = tokenizer(QUESTION, return_tensors="pt").input_ids   # the LoRA updates and the final norm trained in full, both merged
    with torch.no_grad(): assert torch.allclose(merged(ids).logits, model(ids).logits, atol=1e-4)
    again = run_cli("merge", "--adapter", trained[0], "--output", tmp_path / "merged")
    assert again.returncode == 2 and "--overwrite" in again.stderr

def test_pickled_adapter_is_refused(grpo_nb_cli, trained, tmp_path):
    pickled = tmp_path / "pickled"
    shutil.copytree(trained[0], pickled)
    (pickled / "adapter_model.safetensors").rename(pickled / "adapter_model.bin")
    out = grpo_nb_cli("generate", "--adapter", pickled, QUESTION)
    assert out.returncode == 2 and "pickle" in out.stderr and len(out.stderr.strip().splitlines()) == 1
