"""The torch backend: pure torch, the same code on CPU and CUDA (device chosen by argument).

Every verb is torch operations only — no compiled kernel of another backend — so the CPU tests
run exactly the code a GPU runs; :meth:`fused` has no kernels (the generic paths run)."""

from __future__ import annotations

from bioplast.backends.base import Backend, BackendInfo
from bioplast.backends.counter_rng import bits_torch
from bioplast.errors import ConfigError
from bioplast.optional import require


def torch_infos() -> list:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001
        return [BackendInfo("torch", False, "cpu", "-", f"import failed: {exc}")]
    infos = [BackendInfo("torch", True, "cpu", torch.__version__, f"{torch.get_num_threads()} threads")]
    if torch.cuda.is_available():
        infos.append(BackendInfo("torch", True, "cuda", torch.__version__, torch.cuda.get_device_name(0)))
    else:
        infos.append(BackendInfo("torch", False, "cuda", torch.__version__, "no CUDA device visible"))
    return infos


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, dtype: str = "float32", device: str = "cpu"):
        super().__init__(dtype)
        torch = require("torch", "the torch backend")

        self.torch = torch
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown torch device {device!r}; expected 'cpu', 'cuda' or 'cuda:N'") from None
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(
                f"torch device {device!r} requested but no CUDA device is available here; use device='cpu'"
            )
        if dev.type not in ("cpu", "cuda"):
            raise ConfigError(f"torch device {device!r} is not supported; expected 'cpu' or 'cuda'")
        self.device = str(dev)
        self._dev = dev
        self.dtype = getattr(torch, dtype)

    @classmethod
    def info(cls) -> BackendInfo:
        return torch_infos()[0]

    def asarray(self, x):
        t = self.torch
        if isinstance(x, t.Tensor):
            return x.to(device=self._dev, dtype=self.dtype).contiguous()
        import numpy as np

        return t.as_tensor(np.asarray(x), dtype=self.dtype, device=self._dev).contiguous()

    def to_numpy(self, x):
        return x.detach().cpu().numpy()

    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.dtype, device=self._dev)

    @property
    def xp(self):
        return self.torch

    def to_complex(self, x):
        t = self.torch
        return x.to(t.complex64 if self.dtype == t.float32 else t.complex128)

    def rng(self, seed: int):
        g = self.torch.Generator(device=self._dev)
        g.manual_seed(int(seed))
        return g

    def outer_mean(self, post, pre):
        return (post.T @ pre) / post.shape[0]

    def outer_mean_decay(self, post, pre, w, decay):
        # addmm fuses the product with the decay term: beta·(−decay⊙w) + alpha·postᵀpre
        return self.torch.addmm(-decay[:, None] * w, post.T, pre, alpha=1.0 / post.shape[0])

    def row_scale(self, w, s):
        return s[:, None] * w

    def batch_mean(self, x):
        return x.mean(dim=0)

    def linear(self, x, w, b=None):
        return self.torch.nn.functional.linear(x, w, b)

    def softmax(self, x):
        return self.torch.softmax(x, dim=1)

    def add(self, w, u):
        return w + u

    def to_grid(self, w, step, lo, hi):
        return self.torch.clamp(self.torch.round(w / step) * step, lo, hi)

    def clip(self, w, lo, hi):
        return self.torch.clamp(w, lo, hi)

    def sign_project(self, w, signs):
        return self.torch.where(w * signs[None, :] < 0, self.torch.zeros((), dtype=w.dtype, device=w.device), w)

    def signed_expm1(self, w, d, scale, shrink=0.0):
        t = self.torch
        return w * t.expm1(t.sign(w) * d * scale - shrink)

    def decay_trace(self, trace, events, decay):
        return decay * trace + events

    def _counter_bits(self, key, n):
        return bits_torch(self.torch, key, n, self._dev)

    def normal(self, rng, shape):
        return self.torch.randn(shape, generator=rng, dtype=self.dtype, device=self._dev)

    def uniform(self, rng, shape):
        return self.torch.rand(shape, generator=rng, dtype=self.dtype, device=self._dev)
