"""A live task's training protocol handed to a method that trains networks itself (the task capability ``training``).

The ask/tell contract (``Task.evaluate(config, fidelity, seed)``) trains every configuration from scratch, so a
method whose candidates are *trained networks* (Bulk & Cut grows a parent's weights by network morphisms and
prunes them with knowledge distillation) cannot be expressed through it. Such a method gets a
``ModuleTraining`` from the task instead: the task's data split, its model of a configuration, its training
step for any given torch module (``tasks.live.cnn.fit``: the very loop ``evaluate`` trains with), its
validation-accuracy measurement and the mapping from (accuracy, parameters) to the task's objectives. The
method then never reimplements the protocol and never learns an objective's or a parameter's name; what it
measures with these tools is what a row of its run records (``suite.oneshot``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import nn

from tasks.live.cnn import BatchLoss, EpochRecord, accuracy, fit
from tasks.live.data import Dataset
from tasks.threads import torch_threads


class ModuleTraining:
    """The training protocol of one live task, for modules a method builds and changes itself.

    Args:
        data: the task's data split (train / validation / test).
        device: the torch device the task trains on.
        new_module: the task's network of a configuration with weights drawn from a seed.
        objectives: the task's objective values of a network from its validation accuracy (a fraction) and its
            trainable parameter count.
    """

    def __init__(self, data: Dataset, device: torch.device,
                 new_module: Callable[[Mapping[str, Any], int], nn.Module],
                 objectives: Callable[[float, int], dict[str, float]]) -> None:
        self.data = data
        self.device = device
        self._new_module = new_module
        self._objectives = objectives

    def new_module(self, config: Mapping[str, Any], seed: int) -> nn.Module:
        """The task's untrained network of ``config`` (its architecture part), on the task's device."""
        return self._new_module(config, seed).to(self.device)

    def train(self, module: nn.Module, epochs: int, lr: float, batch_size: int, seed: int,
              loss: BatchLoss | None = None) -> list[EpochRecord]:
        """Train ``module`` in place by the task's protocol (one torch thread, as every live evaluation);
        ``loss`` replaces the cross-entropy (see ``tasks.live.cnn.fit``)."""
        with torch_threads(1):
            return fit(module, self.data, epochs, lr, batch_size, seed, loss=loss, device=self.device)

    def validation_accuracy(self, module: nn.Module) -> float:
        """Top-1 accuracy on the task's validation split: the measurement ``evaluate`` reports."""
        with torch_threads(1):
            x = torch.from_numpy(self.data.x_val).to(self.device)
            y = torch.from_numpy(self.data.y_val).to(self.device)
            return accuracy(module, x, y)

    @staticmethod
    def parameter_count(module: nn.Module) -> int:
        """Trainable parameters, counted by torch."""
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    def objectives(self, val_accuracy: float, n_params: int) -> dict[str, float]:
        """The task's objective values of a network with this validation accuracy and parameter count."""
        return self._objectives(val_accuracy, n_params)
