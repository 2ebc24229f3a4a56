"""Health monitor: watches a run at every stats tick and says what went wrong in words a learner can act on.

Detectors (each returns events; the trainer prints them and appends them to health.jsonl):
- non-finite: NaN or Inf in a logged loss or in any weight. The run stops, or rolls back to its last good
  checkpoint with lower learning rates (train.on_nan=rollback).
- D overpowers G: D(x) near 1 and D(G(z)) near 0 for `window` ticks in a row (the generator gets no signal).
- collapse: the fixed-noise samples lose their diversity (mean pairwise distance falls below a fraction of
  its best), or on digit data the classifier sees too few classes in the cheap evaluation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class Event:
    kind: str          # non-finite | d-overpowers | collapse
    step: int
    message: str
    advice: str
    fatal: bool = False

    def to_dict(self) -> dict:
        return {"kind": self.kind, "step": self.step, "message": self.message, "advice": self.advice,
                "fatal": self.fatal}

    def __str__(self) -> str:
        return f"[health] step {self.step}: {self.message} -> {self.advice}"


def nonfinite_names(record: dict, nets: dict[str, torch.nn.Module]) -> list[str]:
    """Names of the logged values and networks that hold NaN or Inf."""
    bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
    for name, net in nets.items():
        if any(not torch.isfinite(p).all() for p in net.parameters()):
            bad.append(f"weights of {name}")
    return bad


def diversity(samples: torch.Tensor) -> float:
    """Mean pairwise L2 distance between samples (images or points), in the samples' own units; for token
    sequences (integers), the share of distinct ones."""
    if not samples.dtype.is_floating_point and samples.dtype != torch.uint8:
        return len(torch.unique(samples.flatten(1), dim=0)) / max(len(samples), 1)
    x = samples.float().flatten(1)
    return torch.pdist(x).mean().item() if len(x) > 1 else 0.0


class HealthMonitor:
    def __init__(self, window: int = 5, d_high: float = 0.99, d_low: float = 0.01, diversity_drop: float = 0.3,
                 min_classes: int = 5):
        self.window, self.d_high, self.d_low = window, d_high, d_low
        self.diversity_drop, self.min_classes = diversity_drop, min_classes
        self.overpowered_ticks = 0
        self.best_diversity = 0.0
        self.reported: set[str] = set()

    def _once(self, event: Event) -> list[Event]:
        """Warnings are reported once per kind (fatal events always)."""
        if event.fatal or event.kind not in self.reported:
            self.reported.add(event.kind)
            return [event]
        return []

    def check(self, step: int, record: dict, nets: dict[str, torch.nn.Module]) -> list[Event]:
        events: list[Event] = []
        bad = nonfinite_names(record, nets)
        if bad:
            events.append(Event("non-finite", step, f"NaN/Inf in {', '.join(bad)}",
                                "lower the learning rates (optim.G.lr, optim.D.lr), or use precision fp32; "
                                "with train.on_nan=rollback gankit restarts from the last good checkpoint "
                                "at half the learning rate", fatal=True))
        if "D(x)" in record and "D(G(z))" in record:
            overpowered = record["D(x)"] > self.d_high and record["D(G(z))"] < self.d_low
            self.overpowered_ticks = self.overpowered_ticks + 1 if overpowered else 0
            if self.overpowered_ticks >= self.window:
                events += self._once(Event(
                    "d-overpowers", step,
                    f"D(x) > {self.d_high} and D(G(z)) < {self.d_low} for {self.overpowered_ticks} ticks: D wins outright",
                    "G gets almost no gradient: lower optim.D.lr, use the non-saturating loss, add a penalty "
                    "(loss.r1_gamma) or augmentation (loss.augment=color,translation,cutout)"))
        if "classes_covered" in record and record["classes_covered"] < self.min_classes:
            events += self._once(Event("collapse", step, f"samples cover only {record['classes_covered']} classes",
                                       "mode collapse: lower the learning rates, try loss.name=hinge with "
                                       "spectral normalisation in D (e.g. dcgan.d_spectral_norm=true), or gan.pack=2"))
        return events

    def check_samples(self, step: int, samples: torch.Tensor) -> list[Event]:
        """Diversity of the fixed-noise samples against the best seen so far."""
        value = diversity(samples)
        self.best_diversity = max(self.best_diversity, value)
        if self.best_diversity > 0 and value < self.diversity_drop * self.best_diversity:
            return self._once(Event("collapse", step,
                                    f"fixed-noise samples lost diversity ({value:.3g}, best {self.best_diversity:.3g})",
                                    "mode collapse: different noise gives the same output; lower the learning "
                                    "rates, add gan.r1_gamma or gan.pack=2, or resume an earlier checkpoint"))
        return []
