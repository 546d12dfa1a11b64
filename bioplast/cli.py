"""The ``bioplast`` command.

bioplast rules                      list rules (name, family, role, reads, backends, citation)
bioplast backends                   list backends with availability and device
bioplast tasks                      list datasets
bioplast substrates                 list device profiles (presets and installed third-party ones)
bioplast train --rule R --task T    train one rule, write metrics atomically
bioplast gradcheck --rule R         an EP rule's estimate against the autograd oracle
bioplast geometry-test BEFORE AFTER which plasticity geometry produced a weight change
bioplast bench --suite quick        a benchmark suite: resumable, tidy results table, report
bioplast demo --out DIR             small rule comparison with table and plots
bioplast reproduce --list           the paper claims bioplast reproduces, with their verdicts
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from pathlib import Path

from bioplast import __version__
from bioplast.errors import BioplastError, BioplastWarning


def _table(rows: list, headers: list) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [fmt.format(*headers), fmt.format(*("-" * w for w in widths))] + [fmt.format(*map(str, r)) for r in rows]
    )


def cmd_rules(args) -> int:
    from bioplast.rules.registry import REGISTRY, RULE_BACKENDS

    rows = []
    for entry in REGISTRY.listing():
        if entry.error is not None:
            rows.append([entry.name, "—", "—", "—", "—", entry.origin, f"error: {entry.error}"])
            continue
        try:
            spec = entry.value().spec
        except Exception as exc:  # noqa: BLE001 - a plugin whose factory fails still lists, with its error
            rows.append([entry.name, "—", "—", "—", "—", entry.origin, f"error: {type(exc).__name__}: {exc}"])
            continue
        rows.append(
            [
                entry.name,
                spec.family,
                spec.role,
                ",".join(sorted(spec.reads)),
                ",".join(RULE_BACKENDS),
                entry.origin,
                spec.citation,
            ]
        )
    print(_table(rows, ["rule", "family", "role", "reads", "backends", "origin", "citation"]))
    return 0


def cmd_backends(args) -> int:
    from bioplast.backends import REGISTRY, list_backends

    rows = [[i.name, i.device, "yes" if i.available else "no", i.version, "built-in", i.note] for i in list_backends()]
    for entry in REGISTRY.listing():
        if entry.origin != "built-in":
            rows.append(
                [
                    entry.name,
                    "—",
                    "no" if entry.error else "yes",
                    "—",
                    entry.origin,
                    f"error: {entry.error}" if entry.error else "plugin",
                ]
            )
    print(_table(rows, ["backend", "device", "available", "version", "origin", "note"]))
    return 0


def cmd_substrates(args) -> int:
    from bioplast.hardware.substrates import REGISTRY

    rows = []
    for entry in REGISTRY.listing():
        if entry.error is not None:
            rows.append([entry.name, "—", "—", entry.origin, f"error: {entry.error}"])
            continue
        name, p = entry.name, entry.value
        physics = [f"{p.bits}-bit {p.rounding}" if p.bits else "float"]
        physics += ["unbounded"] if p.bounds == "none" else [f"{p.bounds} bounds", f"[{p.w_min:g}, {p.w_max:g}]"]
        physics += [f"step nonlinearity γ {p.step_nonlinearity:g}"] if p.bounds == "exponential" else []
        physics += [f"{p.sign_mode} synapses {list(p.weight_range)}"] if p.sign_mode != "mixed" else []
        physics += [f"up/down {p.up:g}/{p.down:g}"] if (p.up, p.down) != (1, 1) else []
        physics += [f"c2c {p.write_noise:g}"] if p.write_noise else []
        physics += [f"d2d {p.d2d:g}"] if p.d2d else []
        physics += [f"read noise {p.read_noise:g}"] if p.read_noise else []
        physics += [f"{p.update_bits}-bit updates"] if p.update_bits else []
        physics += [f"learning epoch {p.learning_epoch}"] if p.learning_epoch > 1 else []
        physics += ["differential pair"] if p.differential else []
        physics += [f"stuck {p.stuck:g}"] if p.stuck else []
        physics += [f"drift ν {p.drift_nu:g}±{p.drift_nu_std:g}"] if p.drift_nu or p.drift_nu_std else []
        physics += (
            [f"neuron gain/offset mismatch {p.gain_mismatch:g}/{p.offset_mismatch:g}"]
            if p.gain_mismatch or p.offset_mismatch
            else []
        )
        physics += ["inference only"] if p.inference_only else []
        physics += [f"fan-in {p.fan_in}"] if p.fan_in else []
        physics += [f"≤ {p.max_neurons} neurons"] if p.max_neurons else []
        energy = "—" if p.energy is None else f"{p.energy.synop * 1e12:g}"
        rows.append([name, ", ".join(physics), energy, entry.origin, p.sources])
    print(_table(rows, ["substrate", "device", "pJ/synop", "origin", "sources"]))
    return 0


def cmd_tasks(args) -> int:
    from bioplast.data import datasets

    rows = []
    for e in datasets.REGISTRY.listing():
        source, split = datasets.TASK_NOTES.get(e.name, ("—", "—"))
        if e.error is not None:
            source, split = f"error: {e.error}", "—"
        elif e.origin != "built-in":
            doc = (getattr(e.value, "__doc__", None) or "").strip()
            source = doc.split("\n", 1)[0] if doc else "(no docstring)"
        rows.append([e.name, source, split, e.origin])
    print(_table(rows, ["task", "source", "split", "origin"]))
    return 0


def _rule_params(items, flag: str = "--param") -> dict:
    """``["beta=0.1", "estimator=symmetric"]`` → ``{"beta": 0.1, "estimator": "symmetric"}``."""
    import json

    from bioplast.errors import ConfigError

    params = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"{flag} expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def cmd_train(args) -> int:
    from bioplast.analysis.alignment import UNMEASURED, standard_measures
    from bioplast.training import TrainConfig, train

    cfg = TrainConfig(
        rule=args.rule,
        task=args.task,
        backend=args.backend,
        device=args.device,
        dtype=args.dtype,
        epochs=args.epochs,
        seed=args.seed,
        batch_size=args.batch_size,
        lr=args.lr,
        hidden=tuple(args.hidden),
        activation=args.activation,
        loss=args.loss,
        optimizer=args.optimizer,
        network=args.network,
        inhibitory_fraction=args.inhibitory_fraction,
        sign_frozen=args.sign_frozen,
        data_dir=args.data_dir,
        rule_params=_rule_params(args.param),
        substrate=args.substrate,
        substrate_params=_rule_params(args.substrate_param, "--substrate-param"),
        model=args.model,
    )
    measures = standard_measures()
    if "grad_alignment" not in measures:
        print(f"bioplast: note: {UNMEASURED}", file=sys.stderr)
    records = train(cfg, out=args.out, progress=not args.quiet, resume=not args.restart, measures=measures)
    last = records[-1]
    model = f" in a {args.model} model" if args.model else ""
    print(
        f"{args.rule}{model} on {args.task} ({args.backend}): epoch {last['epoch']} test accuracy "
        f"{last['test_acc']:.4f}, train accuracy {last['train_acc']:.4f}, {last['wall_time_s']:.2f} s"
        + (f"; results in {args.out}" if args.out else "")
    )
    return 0


def cmd_gradcheck(args) -> int:
    from bioplast.analysis.gradcheck import ep_gradcheck

    params = _rule_params(args.param)
    for name in ("beta", "estimator", "free_steps", "nudge_steps"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    rows = ep_gradcheck(
        rule=args.rule,
        task=args.task,
        hidden=tuple(args.hidden),
        samples=args.samples,
        activation=args.activation,
        backend=args.backend,
        dtype=args.dtype,
        seed=args.seed,
        data_dir=args.data_dir,
        **params,
    )
    shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "rule defaults"
    print(
        f"{args.rule} ({shown}) vs float64 backprop through the last nudge_steps relaxation steps, "
        f"{args.samples} samples of {args.task}:"
    )
    print(
        _table(
            [
                [r["param"], "" if r["cosine"] != r["cosine"] else f"{r['cosine']:.6f}", f"{r['relative_error']:.3e}"]
                for r in rows
            ],
            ["param", "cosine", "relative error"],
        )
    )
    return 0


def _load_weights(path):
    """An ``.npy`` array or an ``.npz`` of arrays (as a dict), never executing code."""
    import numpy as np

    from bioplast.errors import DataError

    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"weights file {str(path)!r} does not exist") from None
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {str(path)!r} as .npy/.npz without pickle: {exc}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            return {name: data[name] for name in data.files}
    return data


def cmd_geometry_test(args) -> int:
    import numpy as np

    from bioplast.geometry import geometry_test

    rows = geometry_test(_load_weights(args.before), _load_weights(args.after), potentials=args.potential)
    floor = 0.87 / np.sqrt(max(r["n"] for r in rows))
    print(
        _table(
            [[r["potential"], f"{r['ks_distance']:.4f}", r["n"], r["excluded"]] for r in rows],
            ["potential", "KS distance to N(0,1)", "synapses", "excluded"],
        )
    )
    best, nxt = rows[0], rows[1] if len(rows) > 1 else None
    line = (
        f"most likely geometry: {best['potential']} (KS {best['ks_distance']:.4f}; "
        f"a Gaussian sample of this size sits near {floor:.4f})"
    )
    if nxt is not None and best["ks_distance"] > 0:
        line += f"; next: {nxt['potential']}, {nxt['ks_distance'] / best['ks_distance']:.1f}x farther"
    print(line)
    return 0


def cmd_bench(args) -> int:
    from bioplast.bench.sweep import run_suite

    result = run_suite(
        args.suite,
        args.out,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    failed = sorted({r["label"] for r in result["rows"] if r["status"] != "done"})
    if failed:  # the table is written; the exit status says it is not all there
        runs = len({r["run_id"] for r in result["rows"] if r["status"] != "done"})
        print(
            f"bioplast: {runs} run(s) failed ({', '.join(failed)}); each run's error is in results.csv "
            f"and its run.log under {args.out}/runs/",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_demo(args) -> int:
    from bioplast.bench.demo import run_demo

    run_demo(
        args.out,
        tasks=tuple(args.task),
        seeds=tuple(range(args.seeds)),
        epochs=args.epochs,
        backend=args.backend,
        progress=not args.quiet,
    )
    return 0


def cmd_reproduce(args) -> int:
    from bioplast.errors import ConfigError
    from bioplast.reproduce import CLAIMS, COMMITTED, last_row, run_claim

    if args.list or (not args.claim and not args.all):
        rows = []
        for claim in CLAIMS.values():
            status = "not run"
            for folder, where in ((args.out, args.out), (COMMITTED, "committed")):
                line = last_row(folder, claim.name)
                if line is not None:
                    status = f"{line['verdict']} ({line['budget']} budget, {where})"
                    break
            rows.append([claim.name, "long" if claim.long else "quick", status, claim.source])
        print(_table(rows, ["claim", "runtime", "status", "source"]))
        return 0
    if args.claim and args.all:
        raise ConfigError(f"give one claim or --all, not both (got {args.claim!r} and --all)")
    names = [args.claim] if args.claim else [c.name for c in CLAIMS.values() if not c.long]
    for name in names:
        if not args.quiet:
            print(f"bioplast: reproducing {name} ({args.budget} budget) ...", file=sys.stderr)
        line = run_claim(name, args.out, args.budget, args.seed)
        print(f"{name}: {line['verdict']} — ours: {line['ours']} — paper: {line['paper']}")
        print(f"  {Path(args.out) / name / 'report.md'} ({line['seconds']:.0f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bioplast", description="local plasticity rules, checked against references")
    p.add_argument("--version", action="version", version=f"bioplast {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("rules", help="list the registered rules").set_defaults(fn=cmd_rules)
    sub.add_parser("backends", help="list backends and devices").set_defaults(fn=cmd_backends)
    sub.add_parser("tasks", help="list datasets").set_defaults(fn=cmd_tasks)
    sub.add_parser("substrates", help="list device profiles").set_defaults(fn=cmd_substrates)

    t = sub.add_parser("train", help="train one rule on one task")
    t.add_argument("--rule", required=True, help="a rule name (bioplast rules), a plugin's, or package.module:factory")
    t.add_argument(
        "--task",
        default="digits",
        help="a task name (bioplast tasks), a plugin's, or package.module:loader (default: digits)",
    )
    t.add_argument("--backend", default="numpy", help="numpy, numba, torch, torch:cuda, … (bioplast backends)")
    t.add_argument("--device", default="cpu", help="torch device for the torch backend (cpu, cuda, cuda:1)")
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("--epochs", type=int, default=5, help="passes over the training set (default: 5)")
    t.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds the split, the initial weights, the order and every device draw (default: 0)",
    )
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=0.05, help="learning rate (default: 0.05)")
    t.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden layer widths (default: 128)")
    t.add_argument("--activation", default=None, help="default: tanh for eqprop, relu otherwise")
    t.add_argument("--loss", default="cross_entropy", help="cross_entropy or mse")
    t.add_argument(
        "--optimizer",
        default="sgd",
        help="sgd (additive), adam, or eg (exponentiated: sign-preserving, Dale); biases step additively under eg",
    )
    t.add_argument("--network", default="mlp", help="mlp, dann or ei_mlp (Dale's law; trained by backprop)")
    t.add_argument(
        "--inhibitory-fraction",
        type=float,
        default=0.1,
        help="share of inhibitory units in Dale networks (default: 0.1)",
    )
    t.add_argument("--sign-frozen", action="store_true", help="project every step back onto the initial signs")
    t.add_argument(
        "--data-dir",
        default=None,
        help="where the task's files are: IDX files (mnist, fashion), CIFAR binaries, an .npz file, "
        "a folder of class folders of PNG images",
    )
    t.add_argument("--substrate", default="ideal", help="device profile for every weight update (bioplast substrates)")
    t.add_argument(
        "--substrate-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a field of the substrate's profile, e.g. --substrate-param bits=4",
    )
    t.add_argument(
        "--model",
        default=None,
        help="a model kind in place of the one the rule implies (a plugin's, or package.module:builder)",
    )
    t.add_argument("--out", default=None, help="results folder (config.json, metrics.csv/json, weights.npz)")
    t.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="rule parameter, e.g. --param beta=0.1 --param estimator=one_sided",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--restart",
        action="store_true",
        help="start over in --out: an existing checkpoint is moved aside (kept, never read again); "
        "without it a run resumes from its checkpoint",
    )
    t.set_defaults(fn=cmd_train)

    g = sub.add_parser("gradcheck", help="compare a rule's gradient estimate with an independent oracle")
    g.add_argument(
        "--rule",
        default="eqprop",
        help="a two-phase rule: eqprop, holo_eqprop, gen_eqprop, a plugin's or package.module:factory",
    )
    g.add_argument("--task", default="mnist5k", help="the task whose samples are used (default: mnist5k)")
    g.add_argument("--hidden", type=int, nargs="+", default=[512], help="hidden layer widths (default: 512)")
    g.add_argument("--samples", type=int, default=20, help="samples compared (default: 20)")
    g.add_argument("--beta", type=float, default=None, help="nudging strength β (default: the rule's)")
    g.add_argument("--estimator", default=None, help="one_sided, symmetric, random_sign or holomorphic")
    g.add_argument("--free-steps", type=int, default=None, help="relaxation steps of the free phase")
    g.add_argument("--nudge-steps", type=int, default=None, help="relaxation steps of each nudged phase")
    g.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="other rule parameters, e.g. --param cost=cross_entropy --param points=12",
    )
    g.add_argument("--activation", default="tanh", help="tanh, sigmoid, hard_sigmoid, … (default: tanh)")
    g.add_argument("--backend", default="numpy", help="numpy, numba or torch (default: numpy)")
    g.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--data-dir", default=None, help="where the task's files are (see train --help)")
    g.set_defaults(fn=cmd_gradcheck)

    gt = sub.add_parser(
        "geometry-test", help="which plasticity geometry produced a weight change (Pogodin et al. 2024)"
    )
    gt.add_argument("before", help=".npy array or .npz of arrays (e.g. weights.npz) before learning")
    gt.add_argument("after", help="the same after learning (arrays matched by name)")
    gt.add_argument(
        "--potential",
        nargs="+",
        default=None,
        help="candidates (default all): '2-norm', 'negative entropy', '3/2-norm', '3-norm'",
    )
    gt.set_defaults(fn=cmd_geometry_test)

    bn = sub.add_parser("bench", help="run a benchmark suite (rules × tasks × backends × seeds), resumably")
    from bioplast.bench.suite import BUILTIN

    bn.add_argument("--suite", default="quick", help=f"a built-in suite ({', '.join(BUILTIN)}) or a TOML suite file")
    bn.add_argument(
        "--out",
        default="results/bench",
        help="results folder; a run that is there already is skipped, a broken one redone",
    )
    bn.add_argument("--executor", default="local", help="local (processes here) or dask (--scheduler ADDRESS)")
    bn.add_argument("--workers", type=int, default=1, help="local worker processes (1 = in this process)")
    bn.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    bn.add_argument("--quiet", action="store_true", help="no progress bars")
    bn.set_defaults(fn=cmd_bench)

    d = sub.add_parser("demo", help="small rule comparison with a table and plots")
    d.add_argument("--out", default="results/demo", help="results folder (default: results/demo)")
    d.add_argument("--task", nargs="+", default=["digits", "mnist5k"], help="tasks (default: digits mnist5k)")
    d.add_argument("--epochs", type=int, default=5, help="epochs per run (default: 5)")
    d.add_argument("--seeds", type=int, default=2, help="seeds per rule and task (default: 2)")
    d.add_argument("--backend", default="numba", help="backend for every run (default: numba)")
    d.add_argument("--quiet", action="store_true", help="no progress bars")
    d.set_defaults(fn=cmd_demo)

    r = sub.add_parser("reproduce", help="reproduce a paper's claim: its figure beside the paper's value")
    r.add_argument("claim", nargs="?", help="the claim to run (see --list)")
    r.add_argument("--list", action="store_true", help="list the claims and the verdicts found in --out")
    r.add_argument("--all", action="store_true", help="run every claim not marked long")
    r.add_argument(
        "--budget",
        choices=("full", "quick"),
        default="full",
        help="full: the paper comparison (default); quick: a tiny run that checks the pipeline, not the claim",
    )
    r.add_argument("--out", default="results/reproduce", help="results folder (default: results/reproduce)")
    r.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    r.add_argument("--quiet", action="store_true", help="no progress messages")
    r.set_defaults(fn=cmd_reproduce)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings bioplast raises on purpose read as one line; others keep Python's form."""
    if issubclass(category, BioplastWarning):
        print(f"bioplast: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        status = args.fn(args)
        sys.stdout.flush()  # a reader that left shows up here, inside the handler below
        return status
    except BioplastError as exc:
        print(f"bioplast: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "bioplast: error: out of memory; use a smaller model, batch or task (or a machine with more memory)",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # the reader left (`bioplast substrates | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except KeyboardInterrupt:
        print("bioplast: interrupted; finished results are kept, nothing half-written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours: a short message, the details on request
        if os.environ.get("BIOPLAST_TRACEBACK"):
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            f"bioplast: internal error: {type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno}).\n"
            "This is a bug in bioplast or a plugin, not in your input: please report it to the bioplast developers "
            "with the command you ran and its full traceback (rerun with BIOPLAST_TRACEBACK=1 to see it).",
            file=sys.stderr,
        )
        return 3
    finally:
        warnings.showwarning = _python_show_warning


if __name__ == "__main__":
    sys.exit(main())
