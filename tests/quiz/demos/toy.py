"""A registry entry for the quiz tests: only META is read (by ast); nothing here runs."""

META = {
    "name": "toy",
    "claim": "A higher learning rate lowers the loss faster on this toy problem.",
    "claim_ko": "이 장난감 문제에서는 학습률이 높을수록 손실이 빨리 준다.",
    "cpu_seconds": 1,
    "metric": "loss",
    "control": {"lr": 0.1},
    "check": "_toyrule.steady",
    "layers": {"prefix": "grad_norm/", "label": "gradient norm per layer",
               "label_ko": "층별 기울기 노름"},
    "params": {
        "lr": {"default": 0.1, "help": "learning rate", "min": 0.0001, "max": 10.0},
        "num_epochs": {"default": 3, "help": "epochs", "min": 1, "max": 50},
    },
}
