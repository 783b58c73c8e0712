"Issue #14, one source for options: every setting is a config field with its help, the command line, the report's parameters, the recipes and the README's table are made from the fields."
import dataclasses, re
import pytest
from conftest import ROOT
from grpo_nb.cli import build_parser, main, options_table, run_config
from grpo_nb.options import METHODS, config_class, config_options, find_recipe, read_mapping, recipe_names

@pytest.fixture(autouse=True)
def at_root(monkeypatch): monkeypatch.chdir(ROOT)   # the configs' default dataset is relative to the checkout

def resolved(*argv):
    "The (method, config) a command line resolves to, without training."
    return run_config(build_parser().parse_args(list(argv)))

@pytest.mark.parametrize("name", recipe_names())
def test_every_bundled_recipe_loads_and_passes_its_checks(name):
    method = read_mapping(find_recipe(name))["method"]
    command = "train-reward" if method == "reward" else "train"
    got_method, config = resolved(command, "--config", f"recipes/{name}.yaml")
    assert got_method == method and config.problems() == [] and config.recipe == name

@pytest.mark.parametrize("argv, recipe", [(["train"], "tiny-dpo"), (["train", "--method", "grpo"], "tiny-grpo"),
                                          (["train-reward"], "tiny-reward")])
def test_the_tiny_recipe_is_the_default_run(argv, recipe):
    "`grpo-nb train --config recipes/tiny-dpo.yaml` is `grpo-nb train`: the same resolved config, field by field."
    assert resolved(*argv) == resolved(argv[0], "--config", f"recipes/{recipe}.yaml") == resolved(argv[0], "--config", recipe)

def test_every_config_field_is_a_setting_with_help_and_an_option():
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    for method in ("dpo", "grpo"):
        klass = config_class(method)
        settings = {o.name for o in config_options(klass)}
        assert {f.name for f in dataclasses.fields(klass)} - settings == {"validation", "recipe"}   # a mapping of thresholds, and provenance
        for name in settings: assert re.search(rf"--{name.replace('_', '-')}\b[^-].*?\(default: ", help_text), name

@pytest.mark.parametrize("option, value", [("lr_scheduler_type", "linear"), ("warmup_ratio", 0.2), ("logging_steps", 2),
                                           ("target_modules", ["q_proj", "v_proj"]), ("gradient_checkpointing", True),
                                           ("sample_prompts", ["Чингис хаан хэн бэ?"]), ("near_duplicate_ratio", 0.9)])
def test_the_settings_the_command_line_could_not_set(option, value):
    flag = f"--{option.replace('_', '-')}"
    argv = [flag] if value is True else [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    _, config = resolved("train", *argv)
    assert getattr(config.validation if option == "near_duplicate_ratio" else config, option) == value
    _, reward = resolved("train-reward", "--center-rewards-coefficient", "none")
    assert reward.center_rewards_coefficient is None

def test_grpo_options_reach_trl():
    from grpo_nb.grpo import grpo_arguments
    from grpo_nb.runs import RunFolders
    _, config = resolved("train", "--method", "grpo", "--grounded", "--loss-type", "dr_grpo", "--scale-rewards", "none", "--epsilon", "0.1",
                         "--epsilon-high", "0.28", "--mask-truncated-completions", "--num-generations-eval", "2",
                         "--multi-objective-aggregation", "normalize_then_sum", "--importance-sampling-level", "sequence")
    assert config.grounded is True
    args = grpo_arguments(config, RunFolders(ROOT / "outputs" / "never-written"))
    assert (args.loss_type, args.scale_rewards, args.epsilon, args.epsilon_high, args.mask_truncated_completions, args.num_generations_eval,
            args.multi_objective_aggregation, args.importance_sampling_level) == ("dr_grpo", "none", 0.1, 0.28, True, 2, "normalize_then_sum", "sequence")

@pytest.mark.parametrize("recipe, message", [("learning_rat: 1.0e-4\n", "unknown dpo setting 'learning_rat' (did you mean 'learning_rate'?)"),
                                             ("method: grpo\nbeta: 0.1\n", "a grpo recipe, not dpo"),
                                             ("num_generations: 4\n", "unknown dpo setting 'num_generations'"),
                                             ("lora_r: eight\n", "lora_r must be an integer, got 'eight'"),
                                             ("[1, 2]\n", "must be a YAML mapping")])
def test_a_bad_recipe_is_one_line(tmp_path, capsys, recipe, message):
    (path := tmp_path / "recipe.yaml").write_text(recipe)
    assert main(["train", "--method", "dpo", "--config", str(path)] if "grpo" in recipe else ["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err

def test_a_lone_none_empties_a_list_the_recipe_set(capsys):
    assert resolved("train")[1].modules_to_save == ["model.norm"]   # the tiny recipe's
    _, config = resolved("train", "--modules-to-save", "none", "--modules-to-save-lr-ratio", "1")
    assert (config.modules_to_save, config.modules_to_save_lr_ratio) == ([], 1)
    assert resolved("train", "--loss-type", "sigmoid", "sft", "--loss-weights", "1", "0.2")[1].loss_weights == [1.0, 0.2]
    assert main(["train", "--loss-weights", "1", "x"]) == 2
    err = capsys.readouterr().err
    assert "invalid float value in 1 x" in err

def test_options_given_override_the_recipe():
    _, config = resolved("train", "--config", "recipes/qwen2.5-0.5b-lora-dpo.yaml", "--learning-rate", "1e-5", "--lora-r", "8",
                         "--min-chosen-words", "3")
    assert (config.base, config.learning_rate, config.lora_r, config.lora_alpha, config.validation.min_chosen_words) == \
           ("Qwen/Qwen2.5-0.5B-Instruct", 1e-5, 8, 32, 3)

def test_report_parameters_are_the_settings_checked_by_type():
    from grpo_nb.report import ReportError, check_parameters, parameters_cell, training_notebook
    import nbformat
    assert check_parameters({"method": "grpo", "grounded": True})["grounded"] is True
    with pytest.raises(ReportError, match="grounded must be true or false"): check_parameters({"method": "grpo", "grounded": "yes"})
    cell = next(c for c in nbformat.read(str(training_notebook()), as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameters_cell(), "the parameters cell is made by grpo_nb.report.parameters_cell: paste its output"

def test_readme_option_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- options table: .*? -->\n(.*?)\n<!-- end of options table -->", readme, flags=re.S)
    assert table and table.group(1) == options_table(), "README's table is stale: paste the output of `grpo-nb options`"
    assert set(METHODS) == {"dpo", "grpo", "reward"}
