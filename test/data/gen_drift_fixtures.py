#!/usr/bin/python3
"""Reference values for the fs.profile / fs.drift accuracy tests.

Run once with Debian's python3 (numpy and scipy):
    /usr/bin/python3 test/data/gen_drift_fixtures.py > test/data/drift_fixtures.csv

The data are generated, never stored: row i (1-based) of every data set is a
pure function of i that SQL computes with the same IEEE float8 operations
(sql/drift_accuracy.sql defines drift_acc_z() identically):

    u1 = frac(i * 0.6180339887498949)     (Kronecker sequence, golden ratio)
    u2 = frac(i * 0.41421356237309503)    (sqrt(2) - 1)
    z  = sqrt(-2 ln(1 - u1)) * cos(2 pi u2)    (Box-Muller: a standard normal)

Multiplication and frac are exact IEEE operations in both; ln and cos may differ
in the last bit between libm and numpy, far below every tolerance tested.

Data sets (N = 1,000,000 rows each):
    ref   z(i),               i = 1..N
    cur   0.1 + 1.1 z(i),     i = N+1..2N       (drifted)
    same  z(i),               i = N+1..2N       (not drifted)
    big   1e6 + z(i),         i = 1..N          (naive sum of squares fails)
    cat_ref / cat_cur  'c' || floor(20 u1^2) / floor(20 u1^1.6), i = 1..100000
    cat_small         the same with u1^2 / u1^1.7, i = 1..1000
"""
import csv
import math
import sys

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

N = 1_000_000
A = 0.6180339887498949
B = 0.41421356237309503


def u(i, c):
    x = i.astype(np.float64) * c
    return x - np.floor(x)


def z(lo, hi):
    i = np.arange(lo, hi + 1, dtype=np.int64)
    u1, u2 = u(i, A), u(i, B)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


def decile_shares(ref, cur):
    """Shares of ref and cur in the bins (-inf,q1], (q1,q2], ..., (q9,inf) at ref's deciles."""
    edges = np.quantile(ref, np.arange(1, 10) / 10.0)
    def shares(x):
        xs = np.sort(x)
        cum = np.searchsorted(xs, edges, side="right") / len(xs)
        return np.diff(np.concatenate(([0.0], cum, [1.0])))
    return shares(ref), shares(cur)


def psi(r, c):
    r = np.where(r == 0, 0.0001, r)
    c = np.where(c == 0, 0.0001, c)
    return float(np.sum((c - r) * np.log(c / r)))


def main():
    rows = []
    ref = z(1, N)
    cur = 0.1 + 1.1 * z(N + 1, 2 * N)
    same = z(N + 1, 2 * N)
    big = 1e6 + z(1, N)

    rows.append(("big_mean", math.fsum(big) / N))
    m = math.fsum(big) / N
    rows.append(("big_variance", math.fsum((big - m) ** 2) / (N - 1)))
    rows.append(("ref_mean", math.fsum(ref) / N))
    m = math.fsum(ref) / N
    rows.append(("ref_variance", math.fsum((ref - m) ** 2) / (N - 1)))
    for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        rows.append((f"ref_q{q}", float(np.quantile(ref, q, method="lower"))))
        rows.append((f"big_q{q}", float(np.quantile(big, q, method="lower"))))

    for name, other in (("cur", cur), ("same", same)):
        rs, cs = decile_shares(ref, other)
        rows.append((f"{name}_psi", psi(rs, cs)))
        rows.append((f"{name}_js", float(jensenshannon(rs, cs))))
        rows.append((f"{name}_ks", float(stats.ks_2samp(ref, other).statistic)))
        rows.append((f"{name}_wasserstein_norm",
                     float(stats.wasserstein_distance(ref, other) / np.std(ref))))

    # categorical
    i = np.arange(1, 100_001, dtype=np.int64)
    u1 = u(i, A)
    cref = np.floor(20.0 * u1 ** 2).astype(int)
    ccur = np.floor(20.0 * u1 ** 1.6).astype(int)
    cats = np.arange(20)
    rc = np.array([np.sum(cref == k) for k in cats], dtype=float)
    cc = np.array([np.sum(ccur == k) for k in cats], dtype=float)
    keep = (rc > 0) | (cc > 0)
    rc, cc = rc[keep], cc[keep]
    rs, cs = rc / rc.sum(), cc / cc.sum()
    rows.append(("cat_psi", psi(rs, cs)))
    rows.append(("cat_js", float(jensenshannon(rs, cs))))
    rows.append(("cat_linf", float(np.max(np.abs(rs - cs)))))
    exp = np.maximum(rs, 0.0001)
    exp = exp / exp.sum() * cc.sum()
    rows.append(("cat_chi2_p", float(stats.chisquare(cc, exp).pvalue)))
    # a mild categorical drift whose p-value is not zero: the first 1000 rows of each
    rc2 = np.array([np.sum(cref[:1000] == k) for k in cats], dtype=float)
    cc2 = np.array([np.sum(np.floor(20.0 * u1[:1000] ** 1.7).astype(int) == k) for k in cats], dtype=float)
    keep = (rc2 > 0) | (cc2 > 0)
    rc2, cc2 = rc2[keep], cc2[keep]
    exp = np.maximum(rc2 / rc2.sum(), 0.0001)
    exp = exp / exp.sum() * cc2.sum()
    rows.append(("cat_small_chi2_p", float(stats.chisquare(cc2, exp).pvalue)))

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(("name", "value"))
    for name, value in rows:
        w.writerow((name, repr(value)))


if __name__ == "__main__":
    main()
