"""Dale's law: DANN layers, E/I networks, sign-frozen and EG training keep their constraints."""

import numpy as np
import pytest

from bioplast import ConfigError, get_backend
from bioplast.dynamics.dann import DANNLayer, column_signs, dann_forward, init_dann
from bioplast.testing import tolerance, worst_case
from bioplast.training import TrainConfig, train
from bioplast.training import model_for as build_model


def test_subtractive_dann_layer_is_an_effective_weight_matrix():
    """ẑ = W_EX x − W_EI (W_IX x) = (W_EX − W_EI W_IX) x: inhibition through interneurons.

    The two sides associate the products differently; each is a chain of ≤ 6 + 2 + 3 correctly
    rounded operations per path (sums over 6 inputs and 2 interneurons, the subtraction, the bias),
    within γ₁₁ of the exact value relative to the paths' magnitudes |x|(|W_EX| + |W_EI||W_IX|)ᵀ + |b|."""
    rng = np.random.default_rng(0)
    p = DANNLayer(rng.random((4, 6)), rng.random((2, 6)), rng.random((4, 2)), rng.random(4), None, None)
    x = rng.random((3, 6))
    size = np.abs(x) @ (np.abs(p.wex) + np.abs(p.wei) @ np.abs(p.wix)).T + np.abs(p.b)
    diff = dann_forward(np, [p], x, None) - (x @ (p.wex - p.wei @ p.wix).T + p.b)
    assert np.all(np.abs(diff) <= 2 * worst_case("float64", 6 + 2 + 3) * size)


def test_dann_init_is_balanced_and_non_negative():
    """W_EI = 1/n_i makes E[ẑ] = 0: for positive inputs the mean drive is ≈ 0 against its spread."""
    k = get_backend("numpy", dtype="float64")
    layers = init_dann(k, [784, 200, 10], 0, inhibitory_fraction=0.1)
    assert [l.wix.shape[0] for l in layers] == [20, 1]
    for l in layers:
        assert all((getattr(l, n) >= 0).all() for n in ("wex", "wix", "wei", "g"))
    x = np.random.default_rng(1).random((500, 784))
    zhat = x @ layers[0].wex.T - (x @ layers[0].wix.T) @ layers[0].wei.T
    assert abs(zhat.mean()) < 0.1 * zhat.std()


def test_dann_gradient_matches_finite_differences():
    """The model's direction for W_EX is −∂L/∂W_EX (autograd) — checked by central differences."""
    import torch

    from bioplast.dynamics.feedforward import torch_loss

    k = get_backend("numpy", dtype="float64")
    cfg = TrainConfig(rule="backprop", network="dann", hidden=(5,), lr=1.0)
    model = build_model(k, cfg, 4, 3)
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 4)), np.eye(3)[[0, 1, 2, 0, 1, 2]]

    def loss(params):
        out = model._forward(np, params, x)
        return float(torch_loss("cross_entropy")(torch.tensor(out), torch.tensor(y)))

    before = [p.copy() for p in model.params]
    model.scales = [1.0] * len(model.scales)  # no correction: compare the raw gradient
    model.chains = [model.chains[0][:1]] * len(model.chains)  # plain SGD, no projection
    model.states = [tuple(t.init(model.k, p) for t in c) for c, p in zip(model.chains, model.params, strict=True)]
    model.train_batch(x, y)
    moved = model.params[0] - before[0]  # = −lr ∂L/∂W_EX
    eps = 1e-6
    # Central differences at h = eps.  Rounding: the loss is a float64 reduction through each
    # layer's inputs and interneurons, the 3-class softmax and the mean over 6 samples (n terms),
    # off by ≤ tolerance(n)·|L|, so the quotient by ≤ tolerance(n)·|L|/eps; truncation
    # eps²|∂³L|/6 is negligible next to it.
    layers = [model.params[i : i + 6] for i in range(0, len(model.params), 6)]
    n = sum(wex.shape[1] + wix.shape[0] for wex, wix, *_ in layers) + 3 + len(x)
    atol = tolerance("float64", n) * abs(loss(before)) / eps
    for i, j in [(0, 0), (2, 3), (4, 1)]:
        plus, minus = [p.copy() for p in before], [p.copy() for p in before]
        plus[0][i, j] += eps
        minus[0][i, j] -= eps
        fd = (loss(plus) - loss(minus)) / (2 * eps)
        assert moved[i, j] == pytest.approx(-fd, rel=0, abs=atol)


@pytest.mark.parametrize(
    "network,optimizer,lr,floor",
    [("dann", "sgd", 0.05, 0.75), ("dann", "eg", 0.5, 0.75), ("ei_mlp", "sgd", 0.05, 0.3), ("ei_mlp", "eg", 1.0, 0.2)],
)
def test_e_i_networks_learn_and_keep_dale(network, optimizer, lr, floor):
    """Two epochs on digits (chance 0.1; measured: DANN ≈ 0.8–0.9, ColumnEi ≈ 0.3–0.7) without
    any constrained parameter changing sign."""
    from bioplast.data import load_task, one_hot
    from bioplast.models.base import predicted_accuracy as accuracy

    k = get_backend("numba", dtype="float32")
    cfg = TrainConfig(rule="backprop", network=network, optimizer=optimizer, lr=lr, hidden=(64,))
    model = build_model(k, cfg, 64, 10)
    signs0 = [np.sign(k.to_numpy(p)) for p in model.params]
    d = load_task("digits", 0)
    y = one_hot(d.y_train, 10)
    for _ in range(2):
        for b in range(0, len(d.x_train), 32):
            model.train_batch(k.asarray(d.x_train[b : b + 32]), k.asarray(y[b : b + 32]))
    assert accuracy(model, k, d.x_test, d.y_test) > floor
    constrained = [len(c) > 1 or c[0].name.startswith("exponentiated") for c in model.chains]
    assert sum(constrained) >= len(model.params) // 2
    for p, s0, keep in zip(model.params, signs0, constrained, strict=True):
        if keep:
            s = np.sign(k.to_numpy(p))
            assert ((s == s0) | (s == 0)).all()


def test_sign_frozen_training_never_flips_a_weight():
    k = get_backend("numpy", dtype="float64")
    cfg = TrainConfig(rule="backprop", task="digits", sign_frozen=True, hidden=(32,), lr=0.1)
    model = build_model(k, cfg, 64, 10)
    w0 = [np.sign(w) for w in model.params.weights]
    from bioplast.data import load_task, one_hot

    d = load_task("digits", 0)
    for b in range(0, 1400, 50):
        model.train_batch(k.asarray(d.x_train[b : b + 50]), k.asarray(one_hot(d.y_train[b : b + 50], 10)))
    for w, s0 in zip(model.params.weights, w0, strict=True):
        assert (np.sign(w) * s0 >= 0).all()
        assert (w == 0).any()  # the projection did act


def test_column_signs_and_bad_input():
    assert column_signs(10, 0.2).tolist() == [1] * 8 + [-1] * 2
    with pytest.raises(ConfigError, match="inhibitory_fraction must be in"):
        TrainConfig(rule="backprop", inhibitory_fraction=1.5).validate()
    with pytest.raises(ConfigError, match="unknown network 'dan'; did you mean 'dann'"):
        TrainConfig(rule="backprop", network="dan").validate()
    with pytest.raises(ConfigError, match="network 'dann' is trained by the backprop baseline; got rule 'oja'"):
        train(TrainConfig(rule="oja", network="dann"), progress=False)
