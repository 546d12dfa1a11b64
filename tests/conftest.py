# the `backend` fixture (every available backend × float32/float64, or those named by
# --bioplast-backend) comes from bioplast's pytest plugin
pytest_plugins = ["bioplast.testing.plugin"]


_LIMITS = None


def pytest_configure(config):
    """Under pytest-xdist each worker process is one stream of tests: one thread each for BLAS,
    torch and numba's parallel loops, so two workers on two cores do not contend for them."""
    import os

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import numba
    import threadpoolctl

    global _LIMITS
    _LIMITS = threadpoolctl.threadpool_limits(1)  # kept: the limits hold while the object lives
    numba.set_num_threads(1)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
