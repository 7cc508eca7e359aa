"""The toy's rule across its parameters (META "check"), read by the registry: no torch."""


def steady(p: dict, device: str) -> None:
    if p["lr"] * p["num_epochs"] > 100:
        raise ValueError(f"lr {p['lr']:g} for {p['num_epochs']} epochs diverges: keep "
                         f"lr x num_epochs at most 100")
