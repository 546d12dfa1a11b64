r"""A model-kind plugin: Rosenblatt's perceptron as a readout.

One layer ``z = W x + b`` on the input; the modulator is the difference between the target and
the network's own winner-take-all answer,

    m = y − onehot(argmax z),         ΔW = ⟨m xᵀ⟩   (the ``delta`` rule with this modulator)

so a correctly classified sample changes nothing and a mistake moves the target's row towards
``x`` and the wrong winner's row away from it (Rosenblatt 1958, Psychol. Rev. 65:386).  Training
with ``--rule delta --model perceptron`` swaps the delta rule's softmax error for this one: the
rule is the same, the model gives it another signal.
"""

from __future__ import annotations

import numpy as np

from bioplast.core import Local
from bioplast.data import one_hot
from bioplast.dynamics.feedforward import forward
from bioplast.models import MLP, mlp_builder


class PerceptronReadout(MLP):
    """One layer learning from ``y − onehot(argmax z)``; the logged loss is the training error rate."""

    def signals(self, x, target, read):
        k = self.k
        inputs, out = forward(k, self.network(), x, self.activation, read)
        winner = k.to_numpy(out).argmax(1)
        error = target - k.asarray(one_hot(winner, int(out.shape[1])))
        error_rate = float(np.mean(winner != k.to_numpy(target).argmax(1)))
        return [Local(pre=inputs[0], post=out, mod=error)], [k.batch_mean(error)], error_rate

    def directions(self, x, target):
        return None  # the perceptron's step follows no differentiable loss's gradient


perceptron = mlp_builder(PerceptronReadout, readout=True)
