"""Backend arrays in and out of torch autograd: the bridge the backprop baselines cross."""

from __future__ import annotations

from bioplast.optional import require


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
        torch = require("torch", "autograd (backprop, feedback alignment and Dale's gradients)")

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
