"environment.yml must not drift from settings.ini, the one place requirements are declared."
import shlex
from configparser import ConfigParser
import yaml
from conftest import ROOT

def test_environment_yml_matches_settings_ini():
    cfg = ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    declared = shlex.split(cfg["DEFAULT"]["requirements"]) + cfg["DEFAULT"]["dev_requirements"].split()
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert sorted(pip_section) == sorted(declared)
    assert "python=3.11" in env["dependencies"]

def test_nbdev_pins_that_import():
    cfg = ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini", encoding="utf-8")
    dev = cfg["DEFAULT"]["dev_requirements"].split()
    assert {"nbdev==2.4.14", "execnb==0.1.16", "fastcore==1.14.5", "ghapi<2"} <= set(dev)
    assert "tags" in cfg["DEFAULT"]["allowed_cell_metadata_keys"].split()
