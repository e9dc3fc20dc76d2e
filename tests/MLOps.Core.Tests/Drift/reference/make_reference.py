#!/usr/bin/env python3
"""Generates scipy_reference.json: deterministic inputs and SciPy's drift statistics on them.

Run with a Python that has NumPy and SciPy (e.g. Debian's python3-scipy):
    python3 make_reference.py
The C# tests read the JSON only; they never need Python.
"""
import json
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance


def r(x):
    return [float(v) for v in x]


def numeric_cases():
    rng = np.random.default_rng(20240601)
    cases = []

    def add(name, a, b):
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        auto = stats.ks_2samp(a, b, method="auto")
        asymp = stats.ks_2samp(a, b, method="asymp")
        cases.append({
            "name": name,
            "a": r(a),
            "b": r(b),
            "ks_statistic": float(auto.statistic),
            "ks_pvalue_auto": float(auto.pvalue),
            "ks_pvalue_asymp": float(asymp.pvalue),
            "wasserstein": float(stats.wasserstein_distance(a, b)),
            "std_a_population": float(np.std(a)),
        })

    add("normal_50_vs_shifted_80", rng.normal(0, 1, 50), rng.normal(0.5, 1, 80))
    add("normal_50_vs_normal_80", rng.normal(0, 1, 50), rng.normal(0, 1, 80))
    add("normal_60_vs_60", rng.normal(0, 1, 60), rng.normal(0.3, 1, 60))
    add("normal_2000_vs_shifted_3000", rng.normal(0, 1, 2000), rng.normal(0.1, 1, 3000))
    add("normal_2000_vs_normal_3000", rng.normal(0, 1, 2000), rng.normal(0, 1, 3000))
    add("lognormal_2000_vs_3000", rng.lognormal(0, 1, 2000), rng.lognormal(0.05, 1.1, 3000))
    add("ties_integers_300_vs_400", rng.integers(0, 12, 300), rng.integers(1, 12, 400))
    add("normal_12000_vs_15000", rng.normal(0, 1, 12000), rng.normal(0.02, 1, 15000))
    add("normal_12000_vs_shifted_15000", rng.normal(0, 1, 12000), rng.normal(0.05, 1, 15000))
    add("uniform_400_vs_500", rng.uniform(0, 1, 400), rng.uniform(0.1, 1.1, 500))
    return cases


def kolmogorov_cases():
    # kstwo.sf(d, n) on points that reach every branch of SciPy's algorithm choice.
    out = []
    for n in [5, 31, 100, 140, 141, 500, 1000, 5000, 20000, 120000, 500000]:
        for nx2 in [0.3, 0.7, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0]:
            d = (nx2 / n) ** 0.5
            if d >= 1:
                continue
            out.append({"n": n, "d": float(d), "sf": float(stats.kstwo.sf(d, n))})
        for d in [0.6 / n, 0.9 / n, 0.55, 0.8]:
            out.append({"n": n, "d": float(d), "sf": float(stats.kstwo.sf(d, n))})
    return out


def js_cases():
    rng = np.random.default_rng(7)
    out = []
    vectors = [
        ([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
        ([1, 0, 0, 3], [0, 2, 1, 1]),
        ([5, 5, 5, 5], [5, 5, 5, 5]),
        ([0.5, 0.5, 0.0], [0.0, 0.0, 1.0]),
        (list(rng.integers(0, 100, 20)), list(rng.integers(0, 100, 20))),
    ]
    for p, q in vectors:
        out.append({"p": r(p), "q": r(q), "distance": float(distance.jensenshannon(p, q, base=2))})
    return out


JS_BINS = 20
PSI_BINS = 10
PSI_EPSILON = 1e-4


def binned_js(a, b, bins=JS_BINS):
    """numpy.histogram of both samples over the union's [min, max] (equal-width bins from numpy.linspace, every bin
    half-open but the last), then SciPy's Jensen-Shannon distance in base 2."""
    lo = min(a.min(), b.min())
    hi = max(a.max(), b.max())
    if not hi > lo:
        return 0.0, [], []
    p, edges = np.histogram(a, bins=bins, range=(lo, hi))
    q, _ = np.histogram(b, bins=bins, range=(lo, hi))
    return float(distance.jensenshannon(p, q, base=2)), r(p), r(q)


def binned_js_cases():
    rng = np.random.default_rng(31)
    out = []

    def add(name, a, b):
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        d, p, q = binned_js(a, b)
        out.append({"name": name, "a": r(a), "b": r(b), "hist_a": p, "hist_b": q, "distance": d})

    add("normal_300_vs_shifted_400", rng.normal(0, 1, 300), rng.normal(0.4, 1.2, 400))
    add("normal_2000_vs_normal_2500", rng.normal(10, 3, 2000), rng.normal(10, 3, 2500))
    add("lognormal_1000_vs_1500", rng.lognormal(0, 1, 1000), rng.lognormal(0.1, 1, 1500))
    # Values on the bin grid: 0.05 steps over [0, 1]. numpy's edges are k * ((hi - lo) / 20) + lo, which is not the
    # double nearest to k / 20 for several k (0.15000000000000002 for k = 3): a value of 0.15 falls below that edge.
    grid = np.round(np.arange(0, 21) * 0.05, 2)
    add("grid_0.05_steps", rng.choice(grid, 500), rng.choice(grid, 600))
    add("grid_each_value_once", grid, grid[::-1][:15])
    # Integers whose range does not divide into 20 equal bins; one sample entirely in the lower half.
    add("integers_0_37", rng.integers(0, 38, 700), rng.integers(0, 19, 300))
    # Disjoint supports: the distance is 1.
    add("disjoint", rng.uniform(0, 1, 50), rng.uniform(2, 3, 60))
    # Negative range whose edges are not exact.
    add("negative_range", rng.uniform(-7.3, -0.1, 400), rng.uniform(-6.9, 0.4, 450))
    return out


def categorical_js_cases():
    out = []

    def add(name, ref, cur):
        keys = sorted(set(k for k, v in ref.items() if v > 0) | set(k for k, v in cur.items() if v > 0))
        p = [ref.get(k, 0) for k in keys]
        q = [cur.get(k, 0) for k in keys]
        out.append({"name": name, "reference": ref, "current": cur,
                    "distance": float(distance.jensenshannon(p, q, base=2))})

    add("same_categories", {"north": 500, "south": 300, "east": 150, "west": 50},
        {"north": 420, "south": 330, "east": 190, "west": 60})
    add("unseen_in_reference", {"north": 500, "south": 300, "east": 200},
        {"north": 380, "south": 300, "east": 180, "islands": 40})
    add("unseen_in_current", {"a": 10, "b": 20, "c": 30, "d": 5}, {"a": 12, "b": 25, "c": 31})
    add("each_side_has_one_of_its_own", {"x": 70, "y": 30, "only_ref": 9}, {"x": 50, "y": 45, "only_cur": 11})
    add("binary", {"true": 900, "false": 100}, {"true": 700, "false": 300})
    add("zero_count_ignored", {"a": 5, "b": 0, "c": 7}, {"a": 6, "b": 0, "c": 2})
    return out


def psi_numeric(ref, cur, bins=PSI_BINS, eps=PSI_EPSILON):
    """PSI as DriftStatistics defines it, computed with NumPy: inner edges are np.quantile of the reference at
    k / bins (linear, NumPy's default), tied edges collapse, outer bins are open, every bin is [lower, upper);
    empty proportions take eps; PSI = sum (cur - ref) * ln(cur / ref)."""
    ref = np.sort(ref)
    cur = np.sort(cur)
    quantiles = np.quantile(ref, [k / bins for k in range(1, bins)])
    edges = []
    for e in quantiles:
        if not edges or e > edges[-1]:
            edges.append(e)
    def proportions(s):
        ends = np.concatenate([[0], np.searchsorted(s, edges, side="left"), [len(s)]])
        p = np.diff(ends) / len(s)
        return np.where(p == 0, eps, p)
    rp, cp = proportions(ref), proportions(cur)
    return float(np.sum((cp - rp) * np.log(cp / rp))), [float(e) for e in edges]


def psi_categorical(ref, cur, eps=PSI_EPSILON):
    keys = sorted(set(k for k, v in ref.items() if v > 0) | set(k for k, v in cur.items() if v > 0))
    rp = np.array([ref.get(k, 0) for k in keys], dtype=float)
    cp = np.array([cur.get(k, 0) for k in keys], dtype=float)
    rp, cp = rp / rp.sum(), cp / cp.sum()
    rp = np.where(rp == 0, eps, rp)
    cp = np.where(cp == 0, eps, cp)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def psi_cases():
    rng = np.random.default_rng(43)
    numeric = []

    def add(name, a, b):
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        value, edges = psi_numeric(a, b)
        numeric.append({"name": name, "a": r(a), "b": r(b), "edges": edges, "psi": value})

    add("normal_1000_vs_shifted_800", rng.normal(0, 1, 1000), rng.normal(0.3, 1, 800))
    add("normal_1000_vs_normal_1200", rng.normal(5, 2, 1000), rng.normal(5, 2, 1200))
    # Ties: quantiles collapse to fewer edges; a current value on an edge counts in the bin above it.
    add("integers_0_4", rng.integers(0, 5, 600), rng.integers(0, 5, 500))
    # Current beyond the reference's range on both sides (open outer bins) and an empty current bin.
    add("current_wider", rng.uniform(0, 1, 400), np.concatenate([rng.uniform(-1, 0.4, 150), rng.uniform(0.9, 2, 150)]))
    add("small_13_vs_7", rng.normal(0, 1, 13), rng.normal(0, 1, 7))
    categorical = []
    for name, ref, cur in [
        ("regions", {"north": 500, "south": 300, "east": 150, "west": 50}, {"north": 350, "south": 300, "east": 250, "west": 100}),
        ("unseen_in_reference", {"a": 80, "b": 20}, {"a": 60, "b": 25, "c": 15}),
        ("unseen_in_current", {"a": 80, "b": 20, "c": 1}, {"a": 70, "b": 30}),
    ]:
        categorical.append({"name": name, "reference": ref, "current": cur, "psi": psi_categorical(ref, cur)})
    return numeric, categorical


def chisquare_cases():
    out = []
    rng = np.random.default_rng(11)
    tables = [
        ([30, 50, 20], [100, 150, 50]),
        ([10, 12, 9, 11, 8], [1000, 1000, 1000, 1000, 1000]),
        (list(rng.integers(50, 500, 12)), list(rng.integers(50, 500, 12))),
        ([400, 100], [300, 200]),
        ([5000, 2000, 1500, 1500], [4000, 3000, 2000, 1000]),
    ]
    for obs, ref in tables:
        obs = np.asarray(obs, dtype=float)
        ref = np.asarray(ref, dtype=float)
        exp = ref / ref.sum() * obs.sum()
        res = stats.chisquare(obs, exp)
        out.append({"observed": r(obs), "reference": r(ref), "expected": r(exp),
                    "statistic": float(res.statistic), "pvalue": float(res.pvalue)})
    # chi2.sf directly, larger degrees of freedom
    sf = []
    for x, k in [(0.5, 1), (3.84, 1), (10.0, 3), (50.0, 30), (200.0, 150), (1000.0, 999), (5.0, 40)]:
        sf.append({"x": x, "dof": k, "sf": float(stats.chi2.sf(x, k))})
    return out, sf


def normal_cases():
    out = []
    for z in [0.0, 0.1, 0.5, 1.0, 1.959963984540054, 2.5, 3.0, 4.0, 6.0, 8.0, 10.0, 20.0, -1.3]:
        out.append({"z": z, "p": float(2 * stats.norm.sf(abs(z)))})
    return out


def main():
    chi, chi_sf = chisquare_cases()
    psi_num, psi_cat = psi_cases()
    data = {
        "generator": "make_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "numeric": numeric_cases(),
        "kstwo": kolmogorov_cases(),
        "jensenshannon": js_cases(),
        "jensenshannon_binned": binned_js_cases(),
        "jensenshannon_categorical": categorical_js_cases(),
        "psi_numeric": psi_num,
        "psi_categorical": psi_cat,
        "chisquare": chi,
        "chi2_sf": chi_sf,
        "normal_two_sided": normal_cases(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scipy_reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
