"""Datasets from the user's files: npz arrays, CIFAR binaries, PNG folders, IDX — tested on small
files the tests write, with every malformed input a DataError naming the file and the problem."""

import gzip

import numpy as np
import pytest

from bioplast.data import load_task
from bioplast.data.formats import load_cifar, load_image_folder, load_npz, write_cifar
from bioplast.data.idx import load_idx_dataset, write_idx
from bioplast.errors import ConfigError, DataError


def _npz(path, **over):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((30, 2, 3, 3)).astype(np.float32),
        "y_train": np.arange(30) % 3,
        "x_test": rng.random((9, 2, 3, 3)).astype(np.float32),
        "y_test": np.arange(9) % 3,
        **over,
    }
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_npz_task_flattens_keeps_the_shape_and_trains(tmp_path):
    from bioplast.training import TrainConfig, train

    path = _npz(tmp_path / "mine.npz")
    d = load_task("npz", data_dir=path)
    assert d.x_train.shape == (30, 18) and d.shape == (2, 3, 3) and d.n_classes == 3 and d.name == "mine"
    assert d.x_train.dtype == np.float32
    records = train(TrainConfig(rule="backprop", task="npz", data_dir=str(path), epochs=1, hidden=(4,)), progress=False)
    assert len(records) == 2
    # uint8 inputs are pixels, scaled to [0, 1]
    pix = _npz(tmp_path / "pix.npz", x_train=np.full((30, 4), 255, np.uint8), x_test=np.zeros((9, 4), np.uint8))
    assert load_npz(pix).x_train.max() == 1.0


@pytest.mark.parametrize(
    "over, message",
    [
        ({"y_test": None}, "lacks \\['y_test'\\]"),
        ({"y_train": np.arange(29) % 3}, "y_train must be \\[30\\] labels"),
        ({"x_train": np.full((30, 18), np.nan, np.float32)}, "non-finite value"),
        ({"y_train": np.r_[np.arange(29) % 3, 255]}, "label 255 makes 256 classes"),
        ({"y_train": -(np.arange(30) % 3)}, "labels must be >= 0"),
        ({"y_train": np.arange(30) % 3 + 0.5}, "labels must be integers"),
        ({"x_test": np.zeros((9, 5), np.float32)}, "train samples have shape"),
        ({"x_train": np.zeros((30, 18), complex)}, "real numbers"),
        ({"n_classes": np.array(2)}, "out of range for 2 classes"),
    ],
)
def test_malformed_npz_files_are_data_errors_naming_the_file(tmp_path, over, message):
    path = _npz(tmp_path / "bad.npz", **over)
    with pytest.raises(DataError, match=message) as err:
        load_npz(path)
    assert "bad.npz" in str(err.value)


def test_npz_files_that_are_not_plain_arrays(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="cannot read .*junk.npz"):
        load_npz(tmp_path / "junk.npz")
    np.savez(
        tmp_path / "obj.npz",
        x_train=np.array([{"a": 1}], dtype=object),
        y_train=np.zeros(1),
        x_test=np.zeros((1, 1)),
        y_test=np.zeros(1),
    )
    with pytest.raises(DataError, match="plain arrays"):  # object arrays would need pickle: refused
        load_npz(tmp_path / "obj.npz")
    with pytest.raises(DataError, match="npz file not found"):
        load_npz(tmp_path / "missing.npz")
    with pytest.raises(DataError, match="needs a path"):
        load_task("npz")


def _cifar(folder, task="cifar10", n=6):
    rng = np.random.default_rng(1)
    files = (
        ([f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"])
        if task == "cifar10"
        else ["train.bin", "test.bin"]
    )
    classes = 10 if task == "cifar10" else 100
    images = {f: rng.integers(0, 256, (n if task == "cifar10" else classes, 3, 32, 32)) for f in files}
    labels = {f: np.arange(len(images[f])) % classes for f in files}
    write_cifar(folder, task, images, labels)
    return images, labels


@pytest.mark.parametrize("task", ["cifar10", "cifar100"])
def test_cifar_binary_distributions_read_as_written(tmp_path, task):
    folder = tmp_path / ("cifar-10-batches-bin" if task == "cifar10" else "cifar-100-binary")
    images, labels = _cifar(folder, task)
    d = load_task(task, data_dir=tmp_path)  # the parent folder is enough
    test_file = "test_batch.bin" if task == "cifar10" else "test.bin"
    assert d.shape == (3, 32, 32) and d.n_classes == (10 if task == "cifar10" else 100)
    # exact: k/255 in float64, rounded once to float32, on both sides
    np.testing.assert_array_equal(
        d.x_test, (images[test_file].reshape(len(images[test_file]), -1) / 255.0).astype(np.float32)
    )
    np.testing.assert_array_equal(d.y_test, labels[test_file])
    assert d.x_train.shape[0] == sum(len(images[f]) for f in images if f != test_file)


def test_cifar_errors(tmp_path):
    _cifar(tmp_path)
    raw = (tmp_path / "test_batch.bin").read_bytes()
    (tmp_path / "test_batch.bin").write_bytes(raw[:-10])
    with pytest.raises(DataError, match="test_batch.bin' is truncated"):
        load_cifar(tmp_path)
    pickled = tmp_path / "py" / "cifar-10-batches-py"
    pickled.mkdir(parents=True)
    for name in ("data_batch_1", "batches.meta"):
        (pickled / name).write_bytes(b"\x80\x04")
    with pytest.raises(DataError, match="python \\(pickle\\) distribution.*binary distribution"):
        load_cifar(tmp_path / "py")
    with pytest.raises(DataError, match="binary files not found"):
        load_cifar(tmp_path / "py" / "cifar-10-batches-py" / "..", "cifar100")
    with pytest.raises(DataError, match="directory not found"):
        load_cifar(tmp_path / "nowhere")


def _png(path, value, size=(5, 4), mode="L"):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size[1], size[0]) + ((3,) if mode == "RGB" else ())
    Image.fromarray(np.full(shape, value, np.uint8), mode=mode).save(path)


def test_image_folders_read_with_a_stratified_split_or_their_own(tmp_path):
    for c, name in enumerate(("cat", "dog", "eel")):
        for i in range(10):
            _png(tmp_path / "flat" / name / f"{i}.png", 20 * c + i)
    d = load_image_folder(tmp_path / "flat", seed=0)
    assert d.n_classes == 3 and d.shape == (1, 4, 5) and len(d.x_train) == 24 and len(d.x_test) == 6
    assert sorted(np.bincount(d.y_test).tolist()) == [2, 2, 2]  # stratified
    again = load_image_folder(tmp_path / "flat", seed=0)
    np.testing.assert_array_equal(again.x_test, d.x_test)
    for split, n in (("train", 4), ("test", 2)):
        for name in ("a", "b"):
            for i in range(n):
                _png(tmp_path / "split" / split / name / f"{i}.png", 100 if name == "b" else 0, mode="RGB")
    s = load_task("images", data_dir=tmp_path / "split")
    assert s.shape == (3, 4, 5) and len(s.x_train) == 8 and len(s.x_test) == 4
    np.testing.assert_array_equal(s.y_test, [0, 0, 1, 1])
    assert np.all(s.x_test[s.y_test == 1] == np.float32(100 / 255))


def test_image_folder_errors(tmp_path):
    _png(tmp_path / "one" / "only" / "0.png", 1)
    with pytest.raises(DataError, match="one sub-folder per class"):
        load_image_folder(tmp_path / "one")
    for name in ("a", "b"):
        _png(tmp_path / "mixed" / name / "0.png", 3)
    _png(tmp_path / "mixed" / "b" / "1.png", 3, size=(6, 4))
    with pytest.raises(DataError, match="1.png' is L 6×4.*every image must have one size"):
        load_image_folder(tmp_path / "mixed")
    for name in ("a", "b"):
        _png(tmp_path / "broken" / name / "0.png", 3)
    (tmp_path / "broken" / "b" / "1.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="cannot read image .*1.png"):
        load_image_folder(tmp_path / "broken")
    outside = tmp_path / "secret.png"
    _png(outside, 9)
    for name in ("a", "b"):
        _png(tmp_path / "links" / name / "0.png", 3)
    (tmp_path / "links" / "a" / "1.png").symlink_to(outside)
    with pytest.raises(DataError, match="may not link outside"):
        load_image_folder(tmp_path / "links")


def test_idx_files_with_no_images_a_stray_label_or_corrupt_gzip(tmp_path):
    def write(folder, n_train=20, stray=None, gz=""):
        folder.mkdir()
        labels = np.arange(n_train) % 10
        if stray is not None:
            labels[0] = stray
        write_idx(folder / f"train-images-idx3-ubyte{gz}", np.zeros((n_train, 28, 28)))
        write_idx(folder / f"train-labels-idx1-ubyte{gz}", labels)
        write_idx(folder / f"t10k-images-idx3-ubyte{gz}", np.zeros((4, 28, 28)))
        write_idx(folder / f"t10k-labels-idx1-ubyte{gz}", np.arange(4))
        return folder

    with pytest.raises(DataError, match="label 255 makes 256 classes"):
        load_idx_dataset(write(tmp_path / "stray", stray=255, n_train=30))
    with pytest.raises(DataError, match="hold no images"):
        load_idx_dataset(write(tmp_path / "empty", n_train=0))
    folder = write(tmp_path / "gz", gz=".gz")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00" * 40)[:-9] + b"garbage!!")
    with pytest.raises(DataError, match="cannot read IDX file"):
        load_idx_dataset(folder)


def test_a_task_from_a_module_loader_or_a_dataset_object(tmp_path, monkeypatch):
    from bioplast.data import Dataset

    (tmp_path / "mytasks.py").write_text(
        "import numpy as np\nfrom bioplast.data import Dataset\n"
        "def load(seed, data_dir):\n"
        "    x = np.eye(4, dtype=np.float32)\n"
        "    return Dataset('eye', x, np.arange(4) % 2, x, np.arange(4) % 2, 2)\n"
        "def wrong(seed, data_dir):\n    return 'not a dataset'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    d = load_task("mytasks:load")
    assert d.name == "eye" and load_task(d) is d
    with pytest.raises(DataError, match="returned a str; expected a bioplast.data.Dataset"):
        load_task("mytasks:wrong")
    with pytest.raises(ConfigError, match="has no attribute 'nothing'"):
        load_task("mytasks:nothing")
    assert isinstance(d, Dataset)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _idx_header(dtype_byte: int, shape: list) -> bytes:
    return bytes([0, 0, dtype_byte, len(shape)]) + b"".join(int(n).to_bytes(4, "big") for n in shape)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda t, shape, body: _idx_header(t, shape) + body,
            st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07, 0xFF]),
            st.lists(st.integers(0, 5), max_size=4),
            st.binary(max_size=80),
        ),
    ),
    st.booleans(),
)
def test_idx_parser_fuzz_gives_data_errors_or_arrays(tmp_path_factory, data, gz):
    """Any bytes as an IDX file (plain or gzip): an array of the declared shape, or a DataError."""
    from bioplast.data.idx import read_idx

    folder = tmp_path_factory.mktemp("idx")
    path = folder / ("f.idx.gz" if gz else "f.idx")
    path.write_bytes(gzip.compress(data) if gz and data[:1] != b"\x00" else data)
    try:
        a = read_idx(path)
    except DataError:
        return
    assert a.ndim == data[3] if not gz or data[:1] == b"\x00" else True


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(["x_train", "y_train", "x_test", "y_test", "n_classes", "other"]),
        st.one_of(
            st.lists(st.integers(-3, 300), min_size=0, max_size=6).map(np.array),
            st.lists(st.floats(), min_size=1, max_size=6).map(np.array),
            st.integers(0, 4).map(lambda n: np.zeros((n, 2), np.float32)),
            st.just(np.array("text")),
        ),
        min_size=0,
        max_size=6,
    )
)
def test_npz_task_fuzz_gives_data_errors_or_a_dataset(tmp_path_factory, arrays):
    folder = tmp_path_factory.mktemp("npz")
    np.savez(folder / "d.npz", **arrays)
    try:
        load_npz(folder / "d.npz")
    except (DataError, ConfigError):
        pass
