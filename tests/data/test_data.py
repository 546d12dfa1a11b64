import gzip

import numpy as np
import pytest

from bioplast import ConfigError, DataError
from bioplast.data import encoders, load_idx_dataset, load_task, read_idx, stratified_split, teacher_student, write_idx
from bioplast.testing import libm_disagreement, tolerance


def test_digits_split_is_stratified_and_deterministic():
    a, b = load_task("digits", seed=3), load_task("digits", seed=3)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.x_train.shape == (1438, 64) and a.x_test.shape == (359, 64)
    assert a.x_train.dtype == np.float32 and 0 <= a.x_train.min() and a.x_train.max() <= 1
    counts = np.bincount(a.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    c = load_task("digits", seed=4)
    assert not np.array_equal(a.y_test, c.y_test)


def test_mnist5k_is_4000_1000_balanced():
    d = load_task("mnist5k", seed=0)
    assert d.x_train.shape == (4000, 784) and d.x_test.shape == (1000, 784)
    np.testing.assert_array_equal(np.bincount(d.y_test), [100] * 10)
    assert d.x_train.max() == 1.0


def test_mnist1d_generated_locally(monkeypatch):
    import mnist1d.data

    def no_download(*a, **k):
        raise AssertionError("mnist1d download path used")

    monkeypatch.setattr(mnist1d.data, "get_dataset", no_download, raising=False)
    d = load_task("mnist1d", seed=0)
    assert d.x_train.shape == (4000, 40) and d.x_test.shape == (1000, 40)
    np.testing.assert_array_equal(d.x_test, load_task("mnist1d", seed=0).x_test)


def test_unknown_task_lists_valid():
    with pytest.raises(ConfigError, match="did you mean 'digits'.*valid tasks: cifar10, cifar100, digits, fashion"):
        load_task("digit")


def _write_mnist(folder, n_train=20, n_test=8, gz=False):
    rng = np.random.default_rng(0)
    sfx = ".gz" if gz else ""
    write_idx(folder / f"train-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n_train, 28, 28)))
    write_idx(folder / f"train-labels-idx1-ubyte{sfx}", rng.permutation(np.arange(n_train) % 10))  # every class
    write_idx(folder / f"t10k-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n_test, 28, 28)))
    write_idx(folder / f"t10k-labels-idx1-ubyte{sfx}", np.arange(n_test) % 10)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_dataset_roundtrip(tmp_path, gz):
    _write_mnist(tmp_path, gz=gz)
    d = load_idx_dataset(tmp_path, "fashion")
    assert d.x_train.shape == (20, 784) and d.x_test.shape == (8, 784)
    np.testing.assert_array_equal(d.y_test, np.arange(8) % 10)
    raw = read_idx(tmp_path / f"train-images-idx3-ubyte{'.gz' if gz else ''}")
    # exact: the loader's float32 k / 255 is correctly rounded, and so is float32(float64(k / 255)) —
    # double rounding could only differ if k / 255 lay within 2^-53 of a float32 midpoint, i.e. had a
    # run of ~28 equal bits, which its period-8 binary expansion (255 = 2^8 − 1) never has
    np.testing.assert_array_equal(d.x_train, (raw.reshape(20, -1) / 255.0).astype(np.float32))
    d2 = load_task("mnist", data_dir=str(tmp_path))
    np.testing.assert_array_equal(d2.x_test, d.x_test)


def test_idx_errors(tmp_path):
    with pytest.raises(DataError, match="IDX directory not found"):
        load_idx_dataset(tmp_path / "nope")
    with pytest.raises(DataError, match="needs the directory"):
        load_task("mnist")
    with pytest.raises(DataError, match="not found in"):
        load_idx_dataset(tmp_path)
    good = tmp_path / "ok"
    write_idx(good, np.zeros((3, 4, 4)))
    data = good.read_bytes()
    (tmp_path / "trunc").write_bytes(data[:-5])
    with pytest.raises(DataError, match="truncated.*needs 48 data bytes, file has 43"):
        read_idx(tmp_path / "trunc")
    (tmp_path / "magic").write_bytes(b"\x12\x34" + data[2:])
    with pytest.raises(DataError, match="not an IDX file: magic bytes 1234"):
        read_idx(tmp_path / "magic")
    (tmp_path / "hdr").write_bytes(data[:6])
    with pytest.raises(DataError, match="header .* truncated"):
        read_idx(tmp_path / "hdr")
    with gzip.open(tmp_path / "bad.gz", "wb") as fh:
        fh.write(data)
    (tmp_path / "cut.gz").write_bytes((tmp_path / "bad.gz").read_bytes()[:20])
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(tmp_path / "cut.gz")


def test_stratified_split_validates():
    with pytest.raises(ConfigError, match=r"test_fraction must be in \[0.0, 1.0\], got 1.5"):
        stratified_split(np.zeros((4, 2)), np.zeros(4, int), 1.5, 0)
    with pytest.raises(DataError, match="must be finite"):
        stratified_split(np.full((4, 2), np.nan), np.zeros(4, int), 0.5, 0)
    with pytest.raises(DataError, match=r"y must have shape \(4\)"):
        stratified_split(np.zeros((4, 2)), np.zeros(3, int), 0.5, 0)


def test_teacher_student_shapes_and_determinism():
    a = teacher_student(10, 40, 3, 100, 50, "tanh", seed=1)
    b = teacher_student(10, 40, 3, 100, 50, "tanh", seed=1)
    assert a.x_train.shape == (100, 10) and a.y_test.shape == (50, 3)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    # the generator ran its matmuls on all 150 rows, this check on the 100 training rows: BLAS may
    # block the two differently, so they agree to rounding.  |Δz| ≤ tol(10)·|x||W₁|ᵀ (10-term sums);
    # tanh is 1-Lipschitz, each side's tanh within LIBM_ULPS; |Δy| ≤ |W₂| |Δh| + tol(40)·|h||W₂|ᵀ
    h = np.tanh(a.x_train @ a.w1.T)
    dz = tolerance("float64", 10) * (np.abs(a.x_train) @ np.abs(a.w1).T)
    dh = dz + libm_disagreement("float64") * np.abs(h)
    bound = (dh + tolerance("float64", 40) * np.abs(h)) @ np.abs(a.w2).T
    assert np.all(np.abs(a.y_train - h @ a.w2.T) <= bound)
    with pytest.raises(ConfigError, match="n_hidden must be an integer > 0"):
        teacher_student(10, 0, 3, 100)


def test_poisson_encoder_rates():
    rates = np.array([[0.0, 20.0, 100.0, 400.0]])
    spikes = encoders.poisson(rates, n_steps=20000, dt=1e-3, seed=0)
    assert spikes.shape == (20000, 1, 4) and spikes.dtype == bool
    est = spikes.mean(0)[0] / 1e-3
    # binomial standard error of the rate estimate: sqrt(p(1-p)/n)/dt; 5 standard errors.  At rate 0
    # (se = 0) no spike can be drawn, so the estimate is exactly 0 and needs no floor
    p = rates[0] * 1e-3
    se = np.sqrt(p * (1 - p) / 20000) / 1e-3
    assert np.all(np.abs(est - rates[0]) <= 5 * se)
    np.testing.assert_array_equal(spikes, encoders.poisson(rates, 20000, 1e-3, seed=0))


def test_regular_encoder_counts_and_errors():
    s = encoders.regular(np.array([10.0, 50.0, 0.0]), n_steps=1000, dt=1e-3)
    np.testing.assert_array_equal(s.sum(0), [10, 50, 0])
    with pytest.raises(DataError, match="rates must be >= 0 Hz, got minimum -1"):
        encoders.poisson(np.array([-1.0]), 10, 1e-3, 0)
    with pytest.raises(DataError, match=r"rates must be <= 1/dt = 1000 Hz.*2000 Hz"):
        encoders.poisson(np.array([2000.0]), 10, 1e-3, 0)
    with pytest.raises(ConfigError, match="dt must be a finite number > 0"):
        encoders.regular(np.array([1.0]), 10, -1e-3)
