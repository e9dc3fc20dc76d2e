using System.Globalization;
using MLOps.Core.Data;

namespace MLOps.Core.Tests.Data;

public class FastDoubleTests
{
    private static double Exact(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("+12")]
    [InlineData("3.25")]
    [InlineData("-1234.5")]
    [InlineData(".5")]
    [InlineData("7.")]
    [InlineData("1e5")]
    [InlineData("1E-05")]
    [InlineData("-2.5e+3")]
    [InlineData("123456789012345")]
    [InlineData("0.000001")]
    [InlineData("9007199254740992")]
    [InlineData("12345678.87654321")]
    public void TryParse_plain_decimals_equals_double_parse_bit_for_bit(string text)
    {
        Assert.True(FastDouble.TryParse(text, out double value, out bool exact));
        Assert.True(exact);
        Assert.Equal(BitConverter.DoubleToInt64Bits(Exact(text)), BitConverter.DoubleToInt64Bits(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("abc")]
    [InlineData("1,5")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0x1F")]
    [InlineData("1e400")]
    [InlineData("12345678901234567890")]
    [InlineData("1.2.3")]
    [InlineData("--1")]
    public void TryParse_leaves_everything_else_to_the_general_parser(string text)
    {
        Assert.False(FastDouble.TryParse(text, out _, out _));
    }

    [Fact]
    public void TryParse_random_round_trip_values_are_exact_or_within_the_stated_error()
    {
        var rng = new Random(11);
        int exactCount = 0, inexactCount = 0;
        for (int i = 0; i < 200_000; i++)
        {
            double v = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-8, 12));
            string text = (i % 3) switch
            {
                0 => v.ToString("R", CultureInfo.InvariantCulture),
                1 => v.ToString("0.######", CultureInfo.InvariantCulture),
                _ => v.ToString("E6", CultureInfo.InvariantCulture),
            };
            double expected = Exact(text);
            if (!FastDouble.TryParse(text, out double value, out bool exact))
            {
                continue;
            }
            if (exact)
            {
                exactCount++;
                Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(value), $"{text}: {value:R} ≠ {expected:R}");
            }
            else
            {
                inexactCount++;
                Assert.True(Math.Abs(value - expected) <= Math.Abs(expected) * FastDouble.InexactRelativeError, $"{text}: {value:R} vs {expected:R}");
            }
        }
        Assert.True(exactCount > 100_000, $"{exactCount} exact");
        Assert.True(inexactCount > 1_000, $"{inexactCount} inexact");
    }

    /// <summary>Both windows (the wide one where the processor has AVX-512 VBMI; elsewhere both runs take the portable
    /// one) give what the span parser gives.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TryParsePadded_equals_TryParse_on_random_shapes_whatever_follows_the_cell(bool wide)
    {
        var rng = new Random(23);
        const string junk = "eE.+- x,é٣\"0";
        int accepted = 0, fastReach = 0;
        for (int i = 0; i < 300_000; i++)
        {
            var cell = new System.Text.StringBuilder();
            switch (rng.Next(4))
            {
                case 0: cell.Append('-'); break;
                case 1 when rng.Next(8) == 0: cell.Append('+'); break;
            }
            int digits = rng.Next(0, 24), point = rng.Next(-digits, digits + 1);
            for (int d = 0; d < digits; d++)
            {
                if (d == point)
                {
                    cell.Append('.');
                }
                cell.Append((char)('0' + rng.Next(10)));
            }
            if (point == digits)
            {
                cell.Append('.');
            }
            if (rng.Next(6) == 0)
            {
                cell.Insert(rng.Next(cell.Length + 1), junk[rng.Next(junk.Length)]);
            }
            if (rng.Next(10) == 0)
            {
                cell.Append(rng.Next(2) == 0 ? "e" : "E").Append(rng.Next(-30, 30));
            }
            string text = cell.ToString();
            if (text.Length == 0)
            {
                continue;
            }
            // Digits before and after the cell (never part of it); sometimes a buffer too short for the fast path.
            int before = rng.Next(0, 5), after = rng.Next(3) == 0 ? 8 : FastDouble.FastPathReach + rng.Next(0, 4);
            var buffer = new char[before + text.Length + after];
            for (int k = 0; k < buffer.Length; k++)
            {
                buffer[k] = (char)('0' + rng.Next(10));
            }
            text.CopyTo(0, buffer, before, text.Length);
            fastReach += before + FastDouble.FastPathReach <= buffer.Length ? 1 : 0;
            bool expected = FastDouble.TryParse(text, out double expectedValue, out bool expectedExact);
            bool actual = FastDouble.TryParsePaddedWith(buffer, before, text.Length, out double value, out bool exact, wide && FastDouble.Wide);
            Assert.True(expected == actual, $"'{text}': TryParse {expected}, TryParsePadded {actual}");
            if (expected)
            {
                accepted++;
                Assert.True(BitConverter.DoubleToInt64Bits(expectedValue) == BitConverter.DoubleToInt64Bits(value), $"'{text}': {value:R} ≠ {expectedValue:R}");
                Assert.True(expectedExact == exact, $"'{text}': exact {exact}, expected {expectedExact}");
                if (exact)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(Exact(text)), BitConverter.DoubleToInt64Bits(value));
                }
            }
        }
        Assert.True(accepted > 100_000, $"{accepted} accepted");
        Assert.True(fastReach > 100_000, $"{fastReach} could take the fast path");
    }
}
