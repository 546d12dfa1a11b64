"""Backpropagation baseline: the exact gradient, from torch autograd.

Backprop fits the contract as a delta rule whose modulator is not local:
for layer ``l`` with pre-activation ``a_l = W_l h_{l−1} + b_l``,
``−∂L/∂W_l = ⟨m_l h_{l−1}ᵀ⟩`` with ``m_l = −B ∂L/∂a_l`` (``L`` is the batch
mean loss).  :func:`backprop_errors` computes every ``m_l`` with autograd and
the rule turns them into directions with the same kernels as every other
rule, so comparisons differ only by where the error signal comes from.
Rumelhart, Hinton & Williams (1986) Nature 323:533–536.
"""
from __future__ import annotations

from bioplast.core import Rule, RuleSpec


def backprop() -> Rule:
    r"""Per-layer backprop update ``ΔW_l = −∂L/∂W_l = ⟨m_l h_{l−1}ᵀ⟩``, ``m_l = −B ∂L/∂a_l``.

    ``signals.mod`` must hold ``m_l`` as computed by :func:`backprop_errors`
    (autograd through the whole network: the one non-local signal in
    bioplast, used as the baseline for every comparison).
    """

    def init(k, w):
        return ()

    def update(k, s, state, w):
        return k.outer_mean(s.mod, s.pre), state

    return Rule(init, update, RuleSpec(
        "backprop", "gradient", frozenset({"pre", "mod"}), "network",
        "ΔW_l = ⟨m_l h_{l−1}ᵀ⟩,  m_l = −B ∂L/∂a_l (autograd; non-local)",
        "Rumelhart, Hinton & Williams (1986) Nature 323:533"))


class AutogradBridge:
    """Backend arrays in and out of CPU/CUDA torch autograd, for the backprop baselines.

    ``to_torch(a)`` gives a torch tensor (the same one on the torch backend,
    a CPU view of numpy's memory otherwise) and ``to_backend(t)`` brings a
    result back.  Used as a context manager: with numpy/numba arrays torch
    runs on one thread inside it, because torch's thread pool and numpy's
    OpenBLAS pool contend for the same cores batch after batch (on 2 cores
    that made a 784-128-10 step 25× slower); small autograd steps need no threads.
    """

    def __init__(self, k, x):
        import torch

        self.torch, self.k = torch, k
        self.on_torch = isinstance(x, torch.Tensor)

    def to_torch(self, a):
        t = self.torch
        return a if isinstance(a, t.Tensor) else t.from_numpy(self.k.to_numpy(a))

    def to_backend(self, t):
        return t.detach() if self.on_torch else self.k.asarray(t.detach().numpy())

    def __enter__(self):
        self._threads = self.torch.get_num_threads()
        if not self.on_torch:
            self.torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        self.torch.set_num_threads(self._threads)
        return False


def feedback_alignment() -> Rule:
    r"""Feedback alignment (Lillicrap et al. 2016): the backprop update with errors carried
    down by fixed random matrices ``B_l`` instead of ``W_lᵀ``:
    ``m_L = −B ∂L/∂a_L``, ``m_l = (m_{l+1} B_{l+1}) ⊙ φ'(a_l)``, ``ΔW_l = ⟨m_l h_{l−1}ᵀ⟩``.

    The trainer draws each ``B_l`` once (shape and scale of ``W_l``'s init, from the run's seed)
    and hands the errors in as ``signals.mod`` (:func:`backprop_errors` with ``feedback``).
    """
    rule = backprop()
    from dataclasses import replace

    return rule._replace(spec=replace(
        rule.spec, name="feedback_alignment", family="feedback alignment", params={"feedback": "random"},
        equation="ΔW_l = ⟨m_l h_{l−1}ᵀ⟩,  m_l = (m_{l+1} B_{l+1}) ⊙ φ'(a_l),  B fixed random",
        citation="Lillicrap, Cownden, Tweed & Akerman (2016) Nat. Commun. 7:13276"))


def backprop_errors(k, params, x, target, activation: str, loss: str, feedback=None, node_noise=None):
    """Return ``(inputs, errors, loss_value)`` of an MLP by torch autograd.

    ``inputs[l]`` is the input to layer ``l`` (``inputs[0] = x``) and
    ``errors[l] = −B ∂L/∂a_l``.  With ``feedback`` (one fixed matrix per layer, the shape of
    its weights; the first is unused) the errors below the output travel through those
    matrices instead of the transposed weights (feedback alignment).  ``node_noise`` adds noise to
    each layer's drive in the forward pass (as in :func:`~bioplast.dynamics.feedforward.forward`;
    device read noise), treated as a constant by the backward pass.  Works for every backend:
    numpy arrays go to CPU torch for the backward pass and come back as backend arrays.
    """
    import torch

    from bioplast.dynamics.feedforward import torch_activation, torch_loss

    act = torch_activation(activation)
    with AutogradBridge(k, x) as bridge, torch.enable_grad():
        to_t = bridge.to_torch
        h = to_t(x)
        inputs, pre_acts = [], []
        last = len(params.weights) - 1
        for i, (w, b) in enumerate(zip(params.weights, params.biases)):
            inputs.append(h)
            # leaf copies that require grad make every pre-activation part of the graph
            a = torch.nn.functional.linear(h, to_t(w).detach().requires_grad_(True), to_t(b).detach())
            if node_noise is not None:
                a = a + to_t(node_noise(i, bridge.to_backend(h), int(w.shape[0])))
            pre_acts.append(a)
            h = a if i == last else act(a)
        value = torch_loss(loss)(h, to_t(target))
        if feedback is None:
            grads = torch.autograd.grad(value, pre_acts)
        else:
            grads = [torch.autograd.grad(value, pre_acts[-1], retain_graph=True)[0]]
            for i in range(last - 1, -1, -1):
                a = pre_acts[i].detach().requires_grad_(True)
                slope = torch.autograd.grad(act(a).sum(), a)[0]  # φ'(a_l), whatever φ is
                grads.insert(0, (grads[0] @ to_t(feedback[i + 1])) * slope)
    batch = inputs[0].shape[0]
    return ([bridge.to_backend(t) for t in inputs], [bridge.to_backend(-batch * g) for g in grads],
            float(value.detach()))
