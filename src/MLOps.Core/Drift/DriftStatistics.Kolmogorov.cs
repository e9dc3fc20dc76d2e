namespace MLOps.Core.Drift;

/// <summary>How the two-sample Kolmogorov–Smirnov p-value is computed (as scipy.stats.ks_2samp's <c>method</c>).</summary>
public enum KsMethod
{
    /// <summary>Exact when both samples have at most 10,000 values, asymptotic otherwise (SciPy's 'auto').</summary>
    Auto,
    /// <summary>Exact probability of the lattice paths (Hodges).</summary>
    Exact,
    /// <summary>One-sample Kolmogorov distribution with n = round(n1·n2/(n1+n2)) (SciPy's 'asymp').</summary>
    Asymptotic,
}

/// <summary>Two-sample KS statistic, its two-sided p-value and the method that produced it.</summary>
public readonly record struct KsResult(double Statistic, double PValue, KsMethod Method);

// The two-sided KS p-values. The asymptotic one is the survival function of the one-sample Kolmogorov
// distribution D_n (scipy.stats.kstwo.sf) evaluated with the same choice of algorithm per region as SciPy
// (Simard & L'Ecuyer 2011): Ruben–Gambino closed forms at the ends, 2×Smirnov (Birnbaum–Tingey sum) for
// large n·x², the Durbin matrix (Marsaglia–Tsang–Wang) for small n·x², Pelz–Good above n = 140. Where SciPy
// uses the Pomeranz recursion (n ≤ 140, 0.754693 &lt; n·x² ≤ 4) this uses the Durbin matrix: both are exact.
public static partial class DriftStatistics
{
    /// <summary>SciPy's 'auto' uses the exact p-value when both sample sizes are at most this.</summary>
    public const int KsExactMaxN = 10_000;
    private static readonly double TwoPow128 = Math.ScaleB(1.0, 128);
    private static readonly double TwoPowMinus128 = Math.ScaleB(1.0, -128);

    /// <summary>Two-sided p-value of a two-sample KS statistic.</summary>
    public static double KolmogorovSmirnovPValue(double statistic, long n1, long n2, KsMethod method = KsMethod.Auto)
        => KolmogorovSmirnovPValueCore(statistic, n1, n2, method).PValue;

    private static KsResult KolmogorovSmirnovPValueCore(double d, long n1, long n2, KsMethod method)
    {
        if (n1 <= 0 || n2 <= 0 || double.IsNaN(d)) return new KsResult(d, double.NaN, method);
        if (method == KsMethod.Auto) method = Math.Max(n1, n2) <= KsExactMaxN ? KsMethod.Exact : KsMethod.Asymptotic;
        if (method == KsMethod.Exact)
        {
            long g = Gcd(n1, n2);
            if (n1 / g >= int.MaxValue / (double)(n2 / g)) method = KsMethod.Asymptotic;
            else
            {
                double p = ExactTwoSidedKs(n1, n2, g, d);
                if (!double.IsNaN(p) && p >= 0 && p <= 1) return new KsResult(d, p, KsMethod.Exact);
                method = KsMethod.Asymptotic;
            }
        }
        double m = Math.Max(n1, n2), n = Math.Min(n1, n2);
        double en = m * n / (m + n);
        long nRounded = (long)Math.Round(en, MidpointRounding.ToEven);
        double prob = KolmogorovSurvival(nRounded, d);
        return new KsResult(d, Math.Clamp(prob, 0.0, 1.0), KsMethod.Asymptotic);
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    /// <summary>Exact P(D ≥ d) for samples of n1 and n2 values, all orderings equally likely.</summary>
    private static double ExactTwoSidedKs(long n1, long n2, long g, double d)
    {
        long lcm = n1 / g * n2;
        long h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
        if (h == 0) return 1.0;
        if (n1 == n2) return ProbOutsideSquare(n1, h);
        return 1.0 - ProbInsideBand(Math.Max(n1, n2), Math.Min(n1, n2), h * g);
    }

    /// <summary>n1 = n2 = n: P = 2·Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n), by nested ratios
    /// A_k = C(2n, n−kh)/C(2n, n−(k−1)h) evaluated from the innermost term outwards.</summary>
    private static double ProbOutsideSquare(long n, long h)
    {
        double p = 0.0;
        for (long k = n / h; k >= 0; k--)
        {
            double a = 1.0;
            for (long j = 0; j < h; j++) a = (n - k * h - j) * a / (n + k * h + j + 1);
            p = a * (1.0 - p);
        }
        return 2.0 * p;
    }

    /// <summary>Probability that a uniformly random lattice path (0,0)→(m,n) keeps |i·n − j·m| &lt; bound at every point.
    /// Forward recursion over transition probabilities (no binomials, no overflow), row by row.</summary>
    private static double ProbInsideBand(long m, long n, long bound)
    {
        // Row i (x-steps taken), column j (y-steps taken). Admissible: |i·n − j·m| < bound.
        var row = new double[n + 1];
        long total = m + n;
        // Row 0.
        row[0] = 1.0;
        for (long j = 1; j <= n; j++)
        {
            row[j] = Math.Abs(-j * m) < bound ? row[j - 1] * (n - j + 1) / (total - j + 1) : 0.0;
        }
        long lo = 0;
        for (long i = 1; i <= m; i++)
        {
            // Admissible j: (i·n − bound)/m < j < (i·n + bound)/m.
            long jLo = Math.Max(0, FloorDiv(i * n - bound, m) + 1);
            long jHi = Math.Min(n, CeilDiv(i * n + bound, m) - 1);
            // Clear entries that left the band on the low side.
            for (long j = lo; j < jLo && j <= n; j++) row[j] = 0.0;
            lo = jLo;
            for (long j = jLo; j <= jHi; j++)
            {
                // From (i−1, j) by an x-step: probability (m − i + 1)/(remaining steps).
                long remaining = total - (i - 1) - j;
                double fromLeft = row[j] * (m - i + 1) / remaining;
                double fromBelow = 0.0;
                if (j > jLo)
                {
                    long remainingBelow = total - i - (j - 1);
                    fromBelow = row[j - 1] * (n - j + 1) / remainingBelow;
                }
                row[j] = fromLeft + fromBelow;
            }
            for (long j = jHi + 1; j <= n; j++)
            {
                if (row[j] == 0.0) break;
                row[j] = 0.0;
            }
        }
        return row[n];
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    private static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    /// <summary>Survival function of the one-sample two-sided Kolmogorov statistic: P(D_n &gt; x) (scipy.stats.kstwo.sf).</summary>
    public static double KolmogorovSurvival(long n, double x)
    {
        if (n <= 0 || double.IsNaN(x)) return double.NaN;
        if (x >= 1.0) return 0.0;
        if (x <= 0.0) return 1.0;
        double t = n * x;
        if (t <= 1.0)
        {
            if (t <= 0.5) return 1.0;
            // Ruben–Gambino: P(D_n ≤ x) = n!/n^n · (2t − 1)^n for 1/(2n) ≤ x ≤ 1/n.
            double cdf = Math.Exp(LogFactorial(n) - n * Math.Log(n) + n * Math.Log(2 * t - 1));
            return Math.Clamp(1.0 - cdf, 0.0, 1.0);
        }
        if (t >= n - 1) return Math.Clamp(2.0 * Math.Pow(1.0 - x, n), 0.0, 1.0);
        if (x >= 0.5) return Math.Clamp(2.0 * Smirnov(n, x), 0.0, 1.0);
        double nx2 = t * x;
        if (n <= 140)
        {
            if (nx2 <= 4.0) return Math.Clamp(1.0 - KolmogorovCdfDurbin(n, x), 0.0, 1.0);
            return Math.Clamp(2.0 * Smirnov(n, x), 0.0, 1.0);
        }
        if (nx2 >= 370.0) return 0.0;
        if (nx2 >= 2.2) return Math.Clamp(2.0 * Smirnov(n, x), 0.0, 1.0);
        double cdfProb = n <= 100_000 && n * Math.Pow(x, 1.5) <= 1.4 ? KolmogorovCdfDurbin(n, x) : KolmogorovCdfPelzGood(n, x);
        return Math.Clamp(1.0 - cdfProb, 0.0, 1.0);
    }

    /// <summary>One-sided Smirnov survival P(D⁺_n ≥ x), Birnbaum–Tingey sum
    /// x·Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (x + j/n)^{j−1} (1 − x − j/n)^{n−j}, each term in log space with Stirling
    /// corrections so that the large n·ln n parts cancel analytically. The sum stops once the terms fall
    /// below 1e-20 of it.</summary>
    public static double Smirnov(long n, double x)
    {
        if (n <= 0 || double.IsNaN(x)) return double.NaN;
        if (x >= 1.0) return 0.0;
        if (x <= 0.0) return 1.0;
        double nn = n;
        long jMax = (long)Math.Floor(nn * (1.0 - x));
        double logX = Math.Log(x);
        // j = 0 term: x · x^{−1} · (1 − x)^n.
        double sum = Math.Exp(nn * Log1P(-x));
        double corrN = LogFactorialCorrection(n);
        double prevLogTerm = double.NegativeInfinity;
        for (long j = 1; j <= jMax; j++)
        {
            double jn = j / nn;
            double omevn = 1.0 - x - jn;
            if (omevn <= 0) break;
            long nj = n - j;
            // ln C(n,j) = −j ln(j/n) − (n−j) ln((n−j)/n) + ½ ln(n / (2π j (n−j))) + δ(n) − δ(j) − δ(n−j).
            double logTerm = j * Log1P(x * nn / j) + nj * Log1P(-x * nn / nj)
                - Math.Log(x + jn)
                + 0.5 * Math.Log(nn / ((double)j * nj)) - LogSqrtTwoPi
                + corrN - LogFactorialCorrection(j) - LogFactorialCorrection(nj)
                + logX;
            if (logTerm > -745) sum += Math.Exp(logTerm);
            // The terms rise to one peak and then fall: stop once they are falling and below 1e-20 of the sum.
            if (logTerm < prevLogTerm && logTerm < Math.Log(sum) - 46.0) break;
            prevLogTerm = logTerm;
        }
        return Math.Min(1.0, sum);
    }

    /// <summary>P(D_n ≤ d) by the Durbin matrix H^n (Marsaglia, Tsang &amp; Wang 2003) with power-of-two scaling.</summary>
    private static double KolmogorovCdfDurbin(long n, double d)
    {
        if (d >= 1.0) return 1.0;
        double nd = n * d;
        if (nd <= 0.5) return 0.0;
        int k = (int)Math.Ceiling(nd);
        double h = k - nd;
        int m = 2 * k - 1;
        var hm = new double[m * m];
        var v = new double[m];
        var w = new double[m];
        double fac = 1.0;
        for (int j = 1; j <= m; j++)
        {
            w[j - 1] = fac; // 1/(j−1)!
            fac /= j;
            v[j - 1] = (1.0 - Math.Pow(h, j)) * fac; // (1 − h^j)/j!
        }
        double tt = Math.Pow(Math.Max(2 * h - 1.0, 0.0), m) - 2 * Math.Pow(h, m);
        v[m - 1] = (1.0 + tt) * fac;
        for (int c = 1; c < m; c++)
            for (int r = c - 1; r < m; r++) hm[r * m + c] = w[r - c + 1];
        for (int r = 0; r < m; r++) hm[r * m] = v[r];
        for (int c = 0; c < m; c++) hm[(m - 1) * m + c] = v[m - 1 - c];

        var result = new double[m * m];
        for (int i = 0; i < m; i++) result[i * m + i] = 1.0;
        var tmp = new double[m * m];
        int resultExp = 0, hExp = 0;
        long power = n;
        while (power > 0)
        {
            if ((power & 1) != 0)
            {
                MatMul(result, hm, tmp, m);
                (result, tmp) = (tmp, result);
                resultExp += hExp;
            }
            power >>= 1;
            if (power == 0) break;
            MatMul(hm, hm, tmp, m);
            (hm, tmp) = (tmp, hm);
            hExp *= 2;
            if (Math.Abs(hm[(k - 1) * m + k - 1]) > TwoPow128)
            {
                for (int i = 0; i < hm.Length; i++) hm[i] = Math.ScaleB(hm[i], -128);
                hExp += 128;
            }
        }
        double p = result[(k - 1) * m + k - 1];
        for (long i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < TwoPowMinus128)
            {
                p = Math.ScaleB(p, 128);
                resultExp -= 128;
            }
        }
        if (resultExp != 0) p = Math.ScaleB(p, resultExp);
        return Math.Clamp(p, 0.0, 1.0);
    }

    private static void MatMul(double[] a, double[] b, double[] c, int m)
    {
        Array.Clear(c);
        for (int i = 0; i < m; i++)
        {
            int ri = i * m;
            for (int k = 0; k < m; k++)
            {
                double aik = a[ri + k];
                if (aik == 0) continue;
                int rk = k * m;
                for (int j = 0; j < m; j++) c[ri + j] += aik * b[rk + j];
            }
        }
    }

    /// <summary>Pelz–Good approximation of P(D_n ≤ x): K0 + K1/√n + K2/n + K3/n^{3/2} in their small-z theta form.</summary>
    private static double KolmogorovCdfPelzGood(long n, double x)
    {
        if (x <= 0.0) return 0.0;
        if (x >= 1.0) return 1.0;
        const double pi2 = Math.PI * Math.PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
        double z = Math.Sqrt(n) * x;
        double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
        double qlog = -pi2 / 8 / z2;
        if (qlog < -708) return 0.0;
        double q = Math.Exp(qlog);
        double k1a = -z2, k1b = pi2 / 4;
        double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
        double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
        double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int maxK = (int)Math.Ceiling(16 * z / Math.PI);
        // Sums over odd m = 2k − 1 of c(m)·q^{m²}, Horner in q^{8k} (m² − (m−2)² = 8k − 8).
        for (int k = maxK; k >= 1; k--)
        {
            double mm = 2 * k - 1, m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
            double qp = Math.Pow(q, 8 * k);
            s0 = s0 * qp + 1.0;
            s1 = s1 * qp + (k1a + k1b * m2);
            s2 = s2 * qp + (k2a + k2b * m2 + k2c * m4);
            s3 = s3 * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
        }
        const double sqrt2Pi = 2.5066282746310005024157652848110;
        double scale = q * sqrt2Pi;
        s0 *= scale / z;
        s1 *= scale / (6 * z4);
        s2 *= scale / (72 * z4 * z3);
        s3 *= scale / (6480 * z4 * z6);
        // Terms over all integers k of q2^{k²} with q2 = e^{−π²/(2z²)}.
        double q2 = Math.Exp(-pi2 / 2 / z2);
        double sumK2 = 0, sumK3 = 0, sqrt3z = Math.Sqrt(3) * z;
        for (int k = maxK; k >= 1; k--)
        {
            double kk = k, k2 = kk * kk, qk = Math.Pow(q2, k2), kpi = Math.PI * kk;
            sumK2 += k2 * qk;
            sumK3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
        }
        s2 += sumK2 * pi2 * sqrt2Pi / (-36 * z3);
        s3 += sumK3 * pi2 * sqrt2Pi / (216 * z6);
        double sn = Math.Sqrt(n);
        return s0 + s1 / sn + s2 / n + s3 / (n * sn);
    }
}
