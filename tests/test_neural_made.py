"""MADE (samplers.neural.made), the training utilities and maximum-likelihood training against exact laws.

Bounds.  For a trained network the *exact* TV distance TV(q, mu) = (1/2) sum_x |q(x) - mu(x)| is
computed by enumerating q on every configuration; ML on M = 6000 exact samples (whose own empirical law
sits at TV 0.03-0.11 from mu) must reach TV(q, mu) < TV_TRAINED = 0.12, while the untrained network
(TV 0.53-0.97) must not.  For samples drawn by a sampler, the bound is, by the triangle inequality,
1.1 · (0.999 quantile of the TV of S exact i.i.d. samples, simulated) + TV_TRAINED.

Torch runs on the CPU with one intra-op thread inside this module (restored afterwards): the networks are
tiny and thread oversubscription on a shared machine costs 20-100x.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import spinglass as sg
from analysis.measures.metrics import empirical_tv, total_variation, tv_null_quantile
from samplers.neural import (
    MADE,
    NeuralAutoregressiveSampler,
    NonFiniteLossError,
    TrainConfig,
    TrainHistory,
    as_index_tensor,
    count_parameters,
    fit,
    index_to_alphabet,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    train_made_ml,
)

TV_TRAINED = 0.12
N_TRAIN = 6000
N_SAMPLES = 4000
CPU = dict(device="cpu")


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def exact_q(made: MADE, model) -> np.ndarray:
    """q(x) of the network on the model's enumeration order."""
    idx = as_index_tensor(model, model.exact().configurations)
    with torch.no_grad():
        return made.log_prob(idx).double().exp().numpy()


def multinomial_tv_quantile(p: np.ndarray, n_samples: int, quantile: float = 0.999, repeats: int = 200,
                            seed: int = 0) -> float:
    """The quantile of TV(p_hat, p) for the empirical law p_hat of n_samples i.i.d. draws from p."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_samples, p / p.sum(), size=repeats)
    return float(np.quantile(0.5 * np.abs(counts / n_samples - p).sum(axis=1), quantile))


# -- masks --------------------------------------------------------------------------------------------------
MASK_CASES = {
    "binary_identity": dict(n=6, K=2, hidden=16, order=None, direct=True),
    "binary_order_deep_nodirect": dict(n=7, K=2, hidden=(24, 24), order=[3, 0, 6, 1, 5, 2, 4], direct=False),
    "q3_order": dict(n=5, K=3, hidden=32, order=[4, 2, 0, 3, 1], direct=True),
    "q3_no_hidden": dict(n=5, K=3, hidden=(), order=[1, 0, 4, 2, 3], direct=True),
}


@pytest.mark.parametrize("case", list(MASK_CASES))
def test_masks_make_the_network_autoregressive(case):
    c = MASK_CASES[case]
    n, K = c["n"], c["K"]
    made = MADE(n, K, hidden=c["hidden"], order=c["order"], direct=c["direct"], activation="tanh", seed=1)
    order = list(range(n)) if c["order"] is None else c["order"]
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    x = torch.rand(8, n, K, dtype=torch.float32)  # a relaxed input, so that every input unit is active
    jac = torch.autograd.functional.jacobian(lambda z: made.forward_onehot(z).sum(dim=0), x)  # (n, K, B, n, K)
    dep = jac.abs().sum(dim=(1, 2, 4)).numpy()  # dep[i, j] = total |d logits_i / d input_j|
    for i in range(n):
        for j in range(n):
            if rank[j] >= rank[i]:
                assert dep[i, j] == 0.0, f"logits of site {i} depend on site {j} (not earlier in the order)"
        earlier = [j for j in range(n) if rank[j] < rank[i]]
        if earlier:
            assert dep[i, earlier].max() > 0, f"logits of site {i} ignore every earlier site"
            if c["direct"]:  # the direct connections reach every earlier site
                assert np.all(dep[i, earlier] > 0)


def test_log_prob_is_normalised_and_conditionals_ignore_later_sites():
    model = sg.PlantedColoring(5, 3, 2.0, beta=1.0, seed=0)
    made = MADE(5, 3, hidden=(16, 8), order=[2, 4, 0, 1, 3], seed=3)
    q = exact_q(made, model)
    assert abs(q.sum() - 1.0) < 1e-5
    idx = torch.randint(0, 3, (50, 5), generator=torch.Generator().manual_seed(0))
    cond = made.conditionals(idx)
    assert torch.allclose(cond.sum(-1), torch.ones(50, 5))
    changed = idx.clone()
    changed[:, 3] = (changed[:, 3] + 1) % 3  # the last site of the order
    assert torch.equal(made.conditionals(changed)[:, [2, 4, 0, 1]], cond[:, [2, 4, 0, 1]])
    lp = made.log_prob(idx)
    manual = torch.log(cond.gather(-1, idx.unsqueeze(-1)).squeeze(-1)).sum(-1)
    assert torch.allclose(lp, manual, atol=1e-5)


@pytest.mark.parametrize("hidden,direct", [(32, True), ((16, 8), False), ((), True), ((5, 6, 7), True)])
def test_parameter_count_formula(hidden, direct):
    made = MADE(7, 3, hidden=hidden, direct=direct)
    assert made.n_parameters == count_parameters(made) == MADE.parameter_count(7, 3, list(
        hidden if isinstance(hidden, tuple) else [hidden]), direct)
    D = 21
    if hidden == 32:
        assert made.n_parameters == D * 32 + 32 + 32 * D + D + D * D


def test_sample_follows_the_network_law():
    """MADE.sample draws from q itself: empirical TV to the enumerated q below its 0.999 null quantile x 1.1."""
    model = sg.SK(6, 1.0, seed=0)
    made = MADE(6, 2, hidden=16, order=[5, 1, 3, 0, 2, 4], seed=2)
    q = exact_q(made, model)
    idx = made.sample(N_SAMPLES, torch.Generator().manual_seed(1))
    assert idx.dtype == torch.int64 and idx.shape == (N_SAMPLES, 6)
    hist = model.exact().histogram(index_to_alphabet(model, idx))
    tv = total_variation(hist, q / q.sum())
    assert tv < 1.1 * multinomial_tv_quantile(q, N_SAMPLES)
    # and not from some other law: the uniform law is far from q here
    assert total_variation(hist, np.full(64, 1 / 64)) > 1.1 * multinomial_tv_quantile(q, N_SAMPLES)


# -- input validation -------------------------------------------------------------------------------------------
def test_made_rejects_bad_inputs():
    made = MADE(4, 3, hidden=8)
    with pytest.raises(ValueError, match=r"idx must have shape \(B, n\)"):
        made.log_prob(torch.zeros(5, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="idx must have shape"):
        made.log_prob(torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="idx must hold integers"):
        made.log_prob(torch.zeros(2, 4))
    with pytest.raises(TypeError, match="idx must hold integers"):
        made.log_prob(torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"entries must lie in \[0, 2\]"):
        made.log_prob(torch.full((2, 4), 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"entries must lie in \[0, 2\]"):
        made.conditionals(torch.full((2, 4), -1, dtype=torch.long))
    with pytest.raises(TypeError, match="idx must be a torch.Tensor"):
        made.log_prob([[0, 1, 2, 0]])
    with pytest.raises(ValueError, match=r"x must have shape \(B, n, K\)"):
        made.forward_onehot(torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        made.sample(0)
    with pytest.raises(TypeError, match="n_samples"):
        made.sample(2.0)
    with pytest.raises(ValueError, match="CPU torch.Generator") if torch.cuda.is_available() else \
            pytest.raises(TypeError, match="generator"):
        made.sample(2, generator=torch.Generator("cuda") if torch.cuda.is_available() else 3)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(n=0, n_values=2), ValueError, "n must be an integer >= 1"),
    (dict(n=3.0, n_values=2), TypeError, "n must be an integer"),
    (dict(n=3, n_values=1), ValueError, "n_values must be an integer >= 2"),
    (dict(n=3, n_values=2, hidden=0), ValueError, "hidden must be an integer >= 1"),
    (dict(n=3, n_values=2, hidden=(8, -1)), ValueError, r"hidden\[1\]"),
    (dict(n=3, n_values=2, hidden="8"), TypeError, "hidden must be an int or a sequence"),
    (dict(n=3, n_values=2, hidden=(), direct=False), ValueError, "no connections"),
    (dict(n=3, n_values=2, order=[0, 0, 1]), ValueError, "order must be a permutation"),
    (dict(n=3, n_values=2, order=[0, 1]), ValueError, "order must be a permutation"),
    (dict(n=3, n_values=2, activation="sigmoid"), ValueError, "activation must be one of"),
    (dict(n=3, n_values=2, seed=-1), ValueError, "seed must be an integer >= 0"),
    (dict(n=3, n_values=2, dtype=torch.int32), ValueError, "dtype"),
])
def test_made_constructor_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        MADE(**kwargs)


def test_as_index_tensor_maps_alphabets_and_rejects_bad_values():
    ising = sg.SK(3, 1.0, seed=0)
    idx = as_index_tensor(ising, np.array([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]]))
    assert idx.dtype == torch.int64 and idx.tolist() == [[0, 1, 1], [1, 0, 0]]
    sparse = sg.SpikedWigner(3, 1.0, sg.SparseRademacher(0.25), seed=0)  # alphabet -2, 0, 2
    assert as_index_tensor(sparse, torch.tensor([[-2.0, 0.0, 2.0]])).tolist() == [[0, 1, 2]]
    assert np.array_equal(index_to_alphabet(sparse, np.array([[0, 1, 2]])), [[-2.0, 0.0, 2.0]])
    potts = sg.PlantedColoring(4, 3, 1.0, seed=0)
    assert as_index_tensor(potts, np.array([[0, 2, 1, 2]])).tolist() == [[0, 2, 1, 2]]
    with pytest.raises(ValueError, match=r"x must have shape \(B, n\) = \(B, 3\)"):
        as_index_tensor(ising, np.ones(3))
    with pytest.raises(ValueError, match="x must have shape"):
        as_index_tensor(ising, np.ones((2, 4)))
    with pytest.raises(ValueError, match="off the alphabet"):
        as_index_tensor(ising, np.array([[1.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match="off the alphabet"):
        as_index_tensor(potts, np.array([[0, 3, 1, 2]]))
    with pytest.raises(ValueError, match="nan"):
        as_index_tensor(ising, np.array([[1.0, np.nan, 1.0]]))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        as_index_tensor(ising, np.array([[True, False, True]]))
    with pytest.raises(TypeError, match="continuous prior"):
        as_index_tensor(sg.SpikedWigner(3, 1.0, sg.Gaussian(), seed=0), np.zeros((1, 3)))
    with pytest.raises(TypeError, match="model must be a spinglass Model"):
        as_index_tensor("SK", np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"idx entries must lie in \[0, 2\]"):
        index_to_alphabet(potts, np.array([[0, 3, 1, 2]]))


# -- training utilities ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value,exc", [
    ("epochs", 0, ValueError), ("epochs", 1.5, TypeError), ("batch_size", 0, ValueError),
    ("lr", 0.0, ValueError), ("lr", math.inf, ValueError), ("lr", "1e-3", TypeError),
    ("weight_decay", -1.0, ValueError), ("val_fraction", 1.0, ValueError), ("val_fraction", -0.1, ValueError),
    ("patience", 0, ValueError), ("min_delta", -1e-3, ValueError), ("max_grad_norm", 0.0, ValueError),
    ("seed", -1, ValueError), ("device", "gpu", ValueError), ("device", 0, TypeError),
    ("progress", 1, TypeError), ("compile", "yes", TypeError),
])
def test_train_config_validation_names_the_field(field, value, exc):
    with pytest.raises(exc, match=f"TrainConfig.{field}"):
        TrainConfig(**{field: value})


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected and pick_device(None).type == expected
    with pytest.raises(ValueError, match="device must be"):
        pick_device("gpu")
    with pytest.raises(TypeError, match="device must be"):
        pick_device(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda:0")


def _toy_regression(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    return x, y


def _mse(module, batch, generator):
    x, y = batch
    noise = 0.01 * torch.randn(x.shape, generator=generator).to(x.device)  # exercises the generator
    return ((module(x + noise).squeeze(-1) - y) ** 2).mean()


def test_fit_early_stopping_restores_the_best_weights():
    x, y = _toy_regression()
    xv, yv = _toy_regression(seed=1, n=32)
    yv = -yv  # a held-out set the training makes worse: the best epoch is early, training stops
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 1)
    hist = fit(lin, _mse, (x, y), TrainConfig(epochs=200, batch_size=16, lr=0.05, patience=3, **CPU),
               val_data=(xv, yv))
    assert isinstance(hist, TrainHistory)
    assert hist.stopped_early and hist.epochs_run < 200 and hist.epochs_run == len(hist.train_loss)
    assert hist.epochs_run - 1 - hist.best_epoch == 3
    assert hist.best_val_loss == min(hist.val_loss) == hist.val_loss[hist.best_epoch]
    with torch.no_grad():
        g = torch.Generator().manual_seed((0 + 0x9E3779B97F4A7C15) % 2**63)
        v = _mse(lin, (xv, yv), g).item()
    assert v == pytest.approx(hist.best_val_loss, rel=1e-6)
    # without a held-out set: no early stopping, the loss goes down
    torch.manual_seed(0)
    lin2 = torch.nn.Linear(3, 1)
    h2 = fit(lin2, _mse, (x, y), TrainConfig(epochs=30, batch_size=16, lr=0.05, val_fraction=0.0, **CPU))
    assert h2.val_loss == [] and h2.epochs_run == 30 and not h2.stopped_early and math.isnan(h2.best_val_loss)
    assert h2.train_loss[-1] < 0.1 * h2.train_loss[0]


def test_fit_is_reproducible_and_the_seed_matters():
    model = sg.SK(8, 1.0, seed=0)
    x = model.exact().sample(600, seed=0)
    runs = []
    for seed in (3, 3, 4):
        made = MADE(8, 2, hidden=16, seed=0)
        h = train_made_ml(made, model, x, TrainConfig(epochs=3, batch_size=64, lr=1e-2, seed=seed, **CPU))
        runs.append((h, {k: v.clone() for k, v in made.state_dict().items()}))
    (h1, s1), (h2, s2), (h3, s3) = runs
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert h1.train_loss != h3.train_loss
    assert not all(torch.equal(s1[k], s3[k]) for k in s1)
    assert all(torch.equal(a, b) for a, b in zip(MADE(8, 2, 16, seed=5).parameters(),
                                                 MADE(8, 2, 16, seed=5).parameters(), strict=True))


def test_non_finite_losses_raise():
    x, y = _toy_regression()
    lin = torch.nn.Linear(3, 1)
    calls = []

    def nan_later(module, batch, generator):
        calls.append(1)
        loss = _mse(module, batch, generator)
        return loss * float("nan") if len(calls) == 3 else loss

    with pytest.raises(NonFiniteLossError, match="epoch 0, batch 2"):
        fit(lin, nan_later, (x, y), TrainConfig(epochs=5, batch_size=16, val_fraction=0.0, **CPU))
    model = sg.SK(6, 1.0, seed=0)
    xs = model.exact().sample(512, seed=0)
    with pytest.raises(NonFiniteLossError, match="epoch"):
        train_made_ml(MADE(6, 2, hidden=16), model, xs, TrainConfig(epochs=20, batch_size=32, lr=1e30, **CPU))
    assert issubclass(NonFiniteLossError, ValueError)


def test_fit_rejects_bad_arguments():
    x, y = _toy_regression()
    lin = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=1, **CPU)
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        fit("net", _mse, (x, y), cfg)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        fit(lin, _mse, (x, y), {"epochs": 1})
    with pytest.raises(ValueError, match="same number of rows"):
        fit(lin, _mse, (x, y[:10]), cfg)
    with pytest.raises(TypeError, match=r"data\[1\] must be a torch.Tensor"):
        fit(lin, _mse, (x, y.numpy()), cfg)
    with pytest.raises(TypeError, match="loss_fn must return a scalar"):
        fit(lin, lambda m, b, g: (m(b[0]).squeeze(-1) - b[1]) ** 2, (x, y), cfg)
    with pytest.raises(ValueError, match="too few to hold out"):
        fit(lin, _mse, (x[:1], y[:1]), TrainConfig(epochs=1, val_fraction=0.5, **CPU))
    model = sg.SK(6, 1.0, seed=0)
    with pytest.raises(ValueError, match="the network has n = 5"):
        train_made_ml(MADE(5, 2), model, np.ones((4, 6)), cfg)


def test_compile_failure_falls_back_with_a_warning(monkeypatch):
    x, y = _toy_regression()
    lin = torch.nn.Linear(3, 1)

    def broken_compile(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(lin, "compile", broken_compile)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        hist = fit(lin, _mse, (x, y), TrainConfig(epochs=2, val_fraction=0.0, compile=True, **CPU))
    assert hist.epochs_run == 2
    assert any("torch.compile failed" in str(w.message) for w in rec)


def test_checkpoint_round_trip(tmp_path):
    made = MADE(6, 3, hidden=(12, 12), order=[5, 4, 3, 2, 1, 0], seed=7)
    with torch.no_grad():
        for p in made.parameters():
            p.add_(0.1)
    cfg = TrainConfig(epochs=7, lr=2e-3, **CPU)
    path = tmp_path / "made.pt"
    save_checkpoint(path, made, config=cfg, extra={"note": "test", "tv": 0.05, "list": [1, 2]})
    fresh = MADE(6, 3, hidden=(12, 12), order=[5, 4, 3, 2, 1, 0], seed=8)
    idx = torch.randint(0, 3, (20, 6), generator=torch.Generator().manual_seed(0))
    assert not torch.equal(fresh.log_prob(idx), made.log_prob(idx))
    info = load_checkpoint(path, fresh)
    assert torch.equal(fresh.log_prob(idx), made.log_prob(idx))
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(fresh.sample(50, g1), made.sample(50, g2))
    assert info["config"] == cfg and info["extra"]["note"] == "test" and info["module_class"] == "MADE"
    assert info["hparams"]["order"] == [5, 4, 3, 2, 1, 0] and isinstance(info["version"], str)
    with pytest.raises(ValueError, match="order"):
        load_checkpoint(path, MADE(6, 3, hidden=(12, 12)))
    with pytest.raises(ValueError, match="do not fit"):
        load_checkpoint(path, MADE(6, 3, hidden=(12, 13), order=[5, 4, 3, 2, 1, 0]))
    with pytest.raises(TypeError, match="extra"):
        save_checkpoint(tmp_path / "bad.pt", made, extra={"array": np.zeros(3)})


# -- maximum likelihood against exact laws ---------------------------------------------------------------------
ML_MODELS = {
    "sk10": lambda: sg.SK(10, 1.0, seed=1),
    "wigner_sparse7": lambda: sg.SpikedWigner(7, 3.0, sg.SparseRademacher(0.3), seed=2),
    "coloring_q3_6": lambda: sg.PlantedColoring(6, 3, 3.0, beta=1.5, seed=6),
}
_ML: dict[str, tuple] = {}


def _trained(name):
    if name not in _ML:
        model = ML_MODELS[name]()
        exact = model.exact()
        made = MADE(model.n, model.n_values, hidden=32, seed=0)
        tv_untrained = total_variation(exact_q(made, model), exact.probabilities)
        untrained = MADE(model.n, model.n_values, hidden=32, seed=0)
        x = exact.sample(N_TRAIN, seed=1)
        hist = train_made_ml(made, model, x, TrainConfig(epochs=40, batch_size=500, lr=1e-2, patience=5, **CPU))
        _ML[name] = (model, exact, made, untrained, tv_untrained, hist)
    return _ML[name]


@pytest.mark.parametrize("name", list(ML_MODELS))
def test_ml_training_reaches_the_exact_law(name):
    model, exact, made, untrained, tv_untrained, hist = _trained(name)
    tv = total_variation(exact_q(made, model), exact.probabilities)
    assert tv < TV_TRAINED, f"{name}: trained TV(q, mu) = {tv:.4f} >= {TV_TRAINED}"
    assert tv_untrained > TV_TRAINED, f"{name}: untrained TV(q, mu) = {tv_untrained:.4f} <= {TV_TRAINED}"
    assert hist.best_val_loss < hist.val_loss[0]
    # the held-out NLL is close to the exact entropy H(mu) (= min over q of the cross entropy)
    p = exact.probabilities[exact.probabilities > 0]
    entropy = float(-(p * np.log(p)).sum())
    assert entropy - 0.1 < hist.best_val_loss < entropy + 0.1


@pytest.mark.parametrize("name", list(ML_MODELS))
def test_neural_autoregressive_sampler_law(name):
    model, exact, made, untrained, _, _ = _trained(name)
    bound = 1.1 * tv_null_quantile(exact, N_SAMPLES, quantile=0.999, repeats=100, seed=0) + TV_TRAINED
    res = NeuralAutoregressiveSampler(made).sample(model, N_SAMPLES, seed=11)
    assert res.x.shape == (N_SAMPLES, model.n) and np.all(np.isin(res.x, model.alphabet))
    tv = empirical_tv(exact, res.x)
    assert tv < bound, f"{name}: trained sampler TV {tv:.4f} >= {bound:.4f}"
    tv0 = empirical_tv(exact, NeuralAutoregressiveSampler(untrained).sample(model, N_SAMPLES, seed=11).x)
    assert tv0 > bound, f"{name}: untrained sampler TV {tv0:.4f} <= {bound:.4f}"
    assert res.sampler["name"] == "NeuralAutoregressive" and res.model == model.describe()
    assert res.work["network_evaluations"] >= model.n and res.seed == 11 and res.chain is None
    log_q = made.log_prob(as_index_tensor(model, res.x)).detach().double().numpy()
    assert np.allclose(res.trace["log_q"], log_q, atol=1e-5)
    again = NeuralAutoregressiveSampler(made).sample(model, N_SAMPLES, seed=11)
    assert np.array_equal(again.x, res.x)
    other = NeuralAutoregressiveSampler(made).sample(model, N_SAMPLES, seed=np.random.default_rng(11))
    assert other.seed == "Generator"


def test_sampler_rejects_a_mismatched_model():
    made = MADE(6, 2, hidden=8)
    with pytest.raises(ValueError, match="n_values = 2"):
        NeuralAutoregressiveSampler(made).sample(sg.PlantedColoring(6, 3, 1.0, seed=0), 10)
    with pytest.raises(TypeError, match="network must be a samplers.neural.MADE"):
        NeuralAutoregressiveSampler(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        NeuralAutoregressiveSampler(made).sample(sg.SK(6, 1.0, seed=0), 0)


def test_progress_bars_run(capsys):
    x, y = _toy_regression()
    hist = fit(torch.nn.Linear(3, 1), _mse, (x, y), TrainConfig(epochs=2, progress=True, **CPU))
    assert hist.epochs_run == 2
    model = sg.SK(6, 1.0, seed=0)
    made = MADE(6, 2, hidden=8)
    from samplers.neural import NeuralMCMC, train_van

    train_van(made, model, n_steps=2, batch_size=8, progress=True, device="cpu")
    NeuralMCMC(made, n_steps=2).sample(model, 8, seed=0, progress=True)
    assert "fit Linear" in capsys.readouterr().err
