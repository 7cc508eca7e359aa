from __future__ import annotations

from pathlib import Path

import pytest

from dlprep.registry import ParamError, RegistryError, scan

DEMO = '''"""A demo."""
import torch  # never imported by the registry

META = {
    "name": "toy",
    "claim": "Toys are fun.",
    "claim_ko": "장난감은 재미있다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "params": {
        "depth": {"default": 10, "help": "hidden layers", "min": 2, "max": 40},
        "lr": {"default": 0.1, "help": "learning rate", "min": 0},
        "activation": {"default": "relu", "choices": ["relu", "tanh"]},
        "clip": {"default": True},
    },
}
'''


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_scan_reads_meta_without_importing(tmp_path: Path) -> None:
    write(tmp_path, "toy.py", DEMO)
    write(tmp_path, "_kit.py", "import torch\nMETA = {'name': 'helper'}\n")
    demos = scan(tmp_path)
    assert list(demos) == ["toy"]
    info = demos["toy"]
    assert info.cpu_seconds == 1.5 and info.claim_ko.startswith("장난감")
    assert info.defaults() == {"depth": 10, "lr": 0.1, "activation": "relu", "clip": True}


def test_resolve_coerces_cli_strings(tmp_path: Path) -> None:
    info = scan(write(tmp_path, "toy.py", DEMO).parent)["toy"]
    values = info.resolve({"depth": "12", "lr": "0.5", "activation": "tanh", "clip": "no"})
    assert values == {"depth": 12, "lr": 0.5, "activation": "tanh", "clip": False}
    assert info.resolve({"depth": 1e1})["depth"] == 10


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"width": 3}, "has no parameter 'width' \\(known: depth, lr, activation, clip\\)"),
        ({"depth": "ten"}, "depth: expected int"),
        ({"depth": 2.5}, "depth: expected int"),
        ({"depth": 1}, "below the minimum 2"),
        ({"depth": 41}, "above the maximum 40"),
        ({"lr": "nan"}, "finite"),
        ({"activation": "gelu"}, "'gelu' is not one of relu, tanh"),
        ({"clip": "perhaps"}, "clip: expected bool"),
        ({"activation": 3}, "activation: expected str"),
    ],
)
def test_bad_overrides_are_clear(tmp_path: Path, overrides: dict, message: str) -> None:
    info = scan(write(tmp_path, "toy.py", DEMO).parent)["toy"]
    with pytest.raises(ParamError, match=message):
        info.resolve(overrides)


def test_malformed_meta(tmp_path: Path) -> None:
    write(tmp_path, "bad.py", "META = {'name': 'x', 'claim': open('f')}\n")
    with pytest.raises(RegistryError, match="literal"):
        scan(tmp_path)


def test_shipped_registry_has_the_required_demos() -> None:
    from dlprep.registry import registry

    required = {
        "vanishing-gradient", "exploding-gradient", "dying-relu", "weight-init", "activations",
        "linear-collapse", "optimizers", "learning-rate", "batch-size", "overfitting",
        "vectorization", "gpu-speedup",
    }
    demos = registry()
    assert required <= set(demos)
    for info in demos.values():
        assert info.claim and info.claim_ko != info.claim and info.cpu_seconds > 0
        assert info.resolve({}) == info.defaults()


def test_layers_may_mark_their_first_record_as_the_one_the_verdict_uses(tmp_path: Path
                                                                        ) -> None:
    text = DEMO.replace('"metric": "loss",', '"metric": "loss", "layers": {"prefix": '
                        '"grad_norm/", "verdict": "init"},')
    write(tmp_path, "toy.py", text)
    assert scan(tmp_path)["toy"].layers["verdict"] == "init"
    write(tmp_path, "toy.py", text.replace('"init"}', '"end"}'))  # only init can be marked
    with pytest.raises(RegistryError, match="layers: verdict must be 'init'"):
        scan(tmp_path)


def test_control_and_layers_are_read_and_checked(tmp_path: Path) -> None:
    text = DEMO.replace('"metric": "loss",', '"metric": "loss", "control": {"depth": 2, '
                        '"activation": "tanh"}, "layers": {"prefix": "grad_norm/"},')
    write(tmp_path, "toy.py", text)
    info = scan(tmp_path)["toy"]
    assert info.control == {"depth": 2, "activation": "tanh"}
    assert info.layers == {"prefix": "grad_norm/"}
    write(tmp_path, "toy.py", text.replace('"depth": 2', '"depth": 1'))
    with pytest.raises(RegistryError, match="control: depth: 1 is below the minimum 2"):
        scan(tmp_path)
    write(tmp_path, "toy.py", text.replace('"depth": 2', '"width": 2'))
    with pytest.raises(RegistryError, match="control: toy has no parameter 'width'"):
        scan(tmp_path)


RULE = '''"""A torch-free rule across the toy's parameters."""
def fits(p, device):
    if p["depth"] * p["lr"] > (40 if device == "cuda" else 4):
        raise ValueError(f"depth {p['depth']} x lr {p['lr']} is too much on {device}")
'''


def test_a_meta_check_refuses_a_combination_of_values_each_in_range(tmp_path: Path) -> None:
    write(tmp_path, "toy.py", DEMO.replace('"metric": "loss",',
                                           '"metric": "loss", "check": "_rules.fits",'))
    write(tmp_path, "_rules.py", RULE)
    info = scan(tmp_path)["toy"]
    assert info.resolve({"depth": 40, "lr": 0.1})["depth"] == 40
    with pytest.raises(ParamError, match=r"^toy: depth 40 x lr 0.5 is too much on cpu$") as err:
        info.resolve({"depth": 40, "lr": 0.5})
    assert err.value.param == ""  # a rule across parameters names none of them
    assert info.resolve({"depth": 40, "lr": 0.5}, "cuda")["lr"] == 0.5
    with pytest.raises(ParamError) as err:
        info.resolve({"depth": 1})
    assert err.value.param == "depth"  # a range names its parameter (a card's line)


@pytest.mark.parametrize(("check", "message"), [
    ("rules.fits", "must name a function in a demos/_"),  # not a helper
    ("_missing.fits", "must name a function in a demos/_"),  # no such file
    ("_rules", "must name a function in a demos/_"),  # no function
    ("_rules.nothing", "META check '_rules.nothing'"),  # no such function
])
def test_a_malformed_meta_check_is_a_registry_error(tmp_path: Path, check: str, message: str
                                                   ) -> None:
    write(tmp_path, "toy.py", DEMO.replace('"metric": "loss",',
                                           f'"metric": "loss", "check": "{check}",'))
    write(tmp_path, "_rules.py", RULE)
    with pytest.raises(RegistryError, match=message):
        scan(tmp_path)


@pytest.mark.parametrize("value", ["0", "1.5", "True", "'2'"])
def test_min_steps_must_be_a_whole_number_of_at_least_one(tmp_path: Path, value: str) -> None:
    write(tmp_path, "toy.py", f'META = {{"name": "toy", "claim": "c", "min_steps": {value}}}\n')
    with pytest.raises(RegistryError, match="toy.py: META min_steps"):
        scan(tmp_path)
