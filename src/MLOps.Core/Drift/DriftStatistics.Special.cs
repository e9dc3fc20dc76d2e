namespace MLOps.Core.Drift;

// Special functions the drift tests need, written for this project: log-gamma (Stirling series with an
// upward shift), the regularized upper incomplete gamma function (series / continued fraction), erfc
// (positive-term series / continued fraction) and log-factorials.
public static partial class DriftStatistics
{
    private const double LogSqrtTwoPi = 0.91893853320467274178032973640562; // ln(sqrt(2π))
    private const double InvSqrtPi = 0.56418958354775628694807945156077; // 1/sqrt(π)
    private const double Sqrt2 = 1.4142135623730950488016887242097;
    private const int MaxSpecialIterations = 100_000;

    /// <summary>ln(1 + x), accurate for small x (Goldberg's correction; .NET's LogP1 is ln(x + 1)).</summary>
    public static double Log1P(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        if (double.IsInfinity(u) || u <= 0) return Math.Log(u);
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>Stirling-series correction δ(x) = lnΓ(x) − [(x − ½)ln x − x + ln√(2π)], for x ≥ 15.</summary>
    private static double StirlingCorrection(double x)
    {
        double r = 1.0 / x, r2 = r * r;
        // Bernoulli coefficients B2j / (2j(2j−1)), j = 1..7.
        return r * (1.0 / 12 + r2 * (-1.0 / 360 + r2 * (1.0 / 1260 + r2 * (-1.0 / 1680 + r2 * (1.0 / 1188
            + r2 * (-691.0 / 360360 + r2 * (1.0 / 156)))))));
    }

    /// <summary>Natural logarithm of the gamma function for x &gt; 0 (relative error near 1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (double.IsNaN(x) || x <= 0) return double.NaN;
        if (x == 1.0 || x == 2.0) return 0.0;
        double shift = 0.0;
        if (x < 15.0)
        {
            // lnΓ(x) = lnΓ(x + k) − ln(x (x+1) … (x+k−1)); the product stays far from overflow.
            double product = 1.0;
            while (x < 15.0)
            {
                product *= x;
                x += 1.0;
            }
            shift = Math.Log(product);
        }
        return (x - 0.5) * Math.Log(x) - x + LogSqrtTwoPi + StirlingCorrection(x) - shift;
    }

    private static readonly double[] SmallLogFactorials = BuildSmallLogFactorials();

    private static double[] BuildSmallLogFactorials()
    {
        var table = new double[32];
        double f = 1.0;
        for (int i = 1; i < table.Length; i++)
        {
            f *= i; // exact up to 22!, then rounded once per step: far below 1e-15 relative
            table[i] = Math.Log(f);
        }
        return table;
    }

    /// <summary>ln(k!) for k ≥ 0.</summary>
    public static double LogFactorial(long k)
    {
        if (k < 0) return double.NaN;
        if (k < SmallLogFactorials.Length) return SmallLogFactorials[k];
        double x = k + 1.0;
        return (x - 0.5) * Math.Log(x) - x + LogSqrtTwoPi + StirlingCorrection(x);
    }

    /// <summary>Stirling correction of ln(k!) = k ln k − k + ½ ln(2πk) + δ(k), for k ≥ 1.</summary>
    private static double LogFactorialCorrection(long k)
    {
        if (k >= 15) return StirlingCorrection(k);
        double kk = k;
        return SmallLogFactorials[k] - (kk * Math.Log(kk) - kk + 0.5 * Math.Log(kk) + LogSqrtTwoPi);
    }

    /// <summary>The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a).</summary>
    public static double RegularizedUpperGamma(double a, double x)
    {
        if (double.IsNaN(a) || double.IsNaN(x) || a <= 0 || x < 0) return double.NaN;
        if (x == 0) return 1.0;
        if (double.IsPositiveInfinity(x)) return 0.0;
        double logPrefix = -x + a * Math.Log(x) - LogGamma(a);
        if (x < a + 1.0)
        {
            // P(a, x) = e^{−x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n)); Q = 1 − P.
            double term = 1.0 / a, sum = term, ap = a;
            for (int n = 0; n < MaxSpecialIterations; n++)
            {
                ap += 1.0;
                term *= x / ap;
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-17) break;
            }
            double p = sum * Math.Exp(logPrefix);
            return p >= 1.0 ? 0.0 : 1.0 - p;
        }
        // Continued fraction for Q (modified Lentz): Q = e^{−x} x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− …)).
        const double tiny = 1e-300;
        double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
        for (int i = 1; i < MaxSpecialIterations; i++)
        {
            double an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1.0 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16) break;
        }
        return Math.Exp(logPrefix) * h;
    }

    /// <summary>Survival function of the chi-square distribution: P(X ≥ x) with <paramref name="dof"/> degrees of freedom.</summary>
    public static double ChiSquareSurvival(double x, double dof)
    {
        if (double.IsNaN(x) || double.IsNaN(dof) || dof <= 0) return double.NaN;
        if (x <= 0) return 1.0;
        return RegularizedUpperGamma(0.5 * dof, 0.5 * x);
    }

    /// <summary>The complementary error function, accurate to ~1e-15 relative for every x.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2.0 - Erfc(-x);
        if (x < 2.0)
        {
            // erf(x) = 2/√π · e^{−x²} · Σ 2^n x^{2n+1} / (1·3·…·(2n+1)): every term positive.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 200; n++)
            {
                term *= 2.0 * x2 / (2 * n + 1);
                sum += term;
                if (term < sum * 1e-17) break;
            }
            double erf = 2.0 * InvSqrtPi * Math.Exp(-x2) * sum;
            return 1.0 - erf;
        }
        if (x > 27.3) return 0.0;
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) — modified Lentz.
        const double tiny = 1e-300;
        double f = x, cc = x, dd = 0.0;
        for (int i = 1; i < 5000; i++)
        {
            double an = 0.5 * i;
            dd = x + an * dd;
            if (Math.Abs(dd) < tiny) dd = tiny;
            cc = x + an / cc;
            if (Math.Abs(cc) < tiny) cc = tiny;
            dd = 1.0 / dd;
            double delta = cc * dd;
            f *= delta;
            if (Math.Abs(delta - 1.0) < 1e-16) break;
        }
        return Math.Exp(-x * x) * InvSqrtPi / f;
    }

    /// <summary>Two-sided p-value of a standard normal statistic: 2·(1 − Φ(|z|)) = erfc(|z|/√2).</summary>
    public static double NormalTwoSidedPValue(double z)
    {
        if (double.IsNaN(z)) return double.NaN;
        return Math.Min(1.0, Erfc(Math.Abs(z) / Sqrt2));
    }
}
