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
    data = {
        "generator": "make_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "numeric": numeric_cases(),
        "kstwo": kolmogorov_cases(),
        "jensenshannon": js_cases(),
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
