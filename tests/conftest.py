import pytest

from bioplast.backends import available_backends, get_backend

BACKEND_IDS = [f"{n}-{d}" for n, d in available_backends()]


@pytest.fixture(params=[(n, d, t) for n, d in available_backends() for t in ("float32", "float64")],
                ids=[f"{n}-{d}-{t}" for n, d in available_backends() for t in ("float32", "float64")])
def backend(request):
    name, device, dtype = request.param
    return get_backend(name, device=device, dtype=dtype)
