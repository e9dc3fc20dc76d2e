using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLOps.Core.Data;

/// <summary>
/// A fast parse of the plain decimal numbers that make up almost every numeric CSV cell:
/// <c>[+-]digits[.digits][(e|E)[+-]digits]</c>, at most 19 significant-or-not digits and a decimal exponent in
/// [−22, 22]. Digits are read eight at a time (SIMD narrowing of UTF-16 to bytes, then a SWAR combine).
/// </summary>
/// <remarks>
/// <para>Exactness: when the digits form an integer m ≤ 2^53 the value m·10^e is computed with one correctly rounded
/// multiplication or division by an exact power of ten (Clinger's fast path), so it equals
/// <see cref="double.Parse(ReadOnlySpan{char}, IFormatProvider?)"/> bit for bit and <c>exact</c> is true. Otherwise
/// (17–19 digits) the value can be one unit in the last place away from the correctly rounded one (two roundings):
/// <c>exact</c> is false and callers that need the exact value (range bounds, minimum and maximum, stored values)
/// parse again with the general parser.</para>
/// <para>Anything else (whitespace, hexadecimal, "NaN", "Infinity", more digits, larger exponents) returns false so
/// the caller uses the general parser; text accepted here is always accepted by
/// <see cref="double.TryParse(ReadOnlySpan{char}, System.Globalization.NumberStyles, IFormatProvider?, out double)"/>
/// with <see cref="System.Globalization.NumberStyles.Float"/> and the invariant culture, with the same value within
/// one ulp.</para>
/// </remarks>
internal static class FastDouble
{
    /// <summary>Relative error bound of an inexact result (a few ulps), for callers deciding whether to re-parse.</summary>
    public const double InexactRelativeError = 1e-15;

    private static readonly double[] PowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Parses <paramref name="text"/> if it is a plain decimal number this parser handles.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out double value, out bool exact)
    {
        value = 0;
        exact = false;
        int n = text.Length;
        if (n is 0 or > 64)
        {
            return false;
        }
        int i = 0;
        bool negative = false;
        char first = text[0];
        if (first == '-')
        {
            negative = true;
            i = 1;
        }
        else if (first == '+')
        {
            i = 1;
        }
        ulong mantissa = 0;
        int digits = ReadDigits(text, ref i, ref mantissa);
        int scale = 0;
        if (i < n && text[i] == '.')
        {
            i++;
            int fraction = ReadDigits(text, ref i, ref mantissa);
            digits += fraction;
            scale = -fraction;
        }
        if (digits is 0 or > 19)
        {
            return false;
        }
        if (i < n)
        {
            if ((text[i] | 0x20) != 'e')
            {
                return false;
            }
            i++;
            bool negativeExponent = false;
            if (i < n && text[i] is '-' or '+')
            {
                negativeExponent = text[i] == '-';
                i++;
            }
            int start = i, exponent = 0;
            for (; i < n; i++)
            {
                uint d = (uint)(text[i] - '0');
                if (d > 9)
                {
                    return false;
                }
                if (exponent < 10_000)
                {
                    exponent = (exponent * 10) + (int)d;
                }
            }
            if (i == start)
            {
                return false;
            }
            scale += negativeExponent ? -exponent : exponent;
        }
        if (scale is < -22 or > 22)
        {
            return false;
        }
        double v = mantissa;
        v = scale < 0 ? v / PowersOfTen[-scale] : v * PowersOfTen[scale];
        exact = mantissa <= (1UL << 53);
        value = negative ? -v : v;
        return true;
    }

    /// <summary>As <see cref="TryParse(ReadOnlySpan{char}, out double, out bool)"/>, for text inside a buffer that can be
    /// read at least eight characters past its end (the validator's row batches guarantee it). Every run of digits
    /// is read in chunks of eight characters whatever its length: the digits of a partial chunk are found with one
    /// compare and shifted into place, so a number costs a few fixed steps instead of a branch per digit.</summary>
    /// <remarks>The commonest cell, <c>[+-]digits[.digits]</c> in at most 24 characters after the sign, takes a path
    /// with no loop and no branch on the digits: three 8-character windows (and the same shifted by one, to step over
    /// the point) are loaded at once, the point and the end found from one mask, and the three chunks combined
    /// independently. It needs the buffer readable 26 characters from <paramref name="start"/>
    /// (<see cref="FastPathReach"/>); otherwise, and for anything else, the chunked path below is taken. Both give
    /// exactly what <see cref="TryParse(ReadOnlySpan{char}, out double, out bool)"/> gives.</remarks>
    /// <param name="buffer">The buffer holding the text.</param>
    /// <param name="start">Where the text starts in <paramref name="buffer"/>.</param>
    /// <param name="length">Its length; <c>start + length + 8 ≤ buffer.Length</c>.</param>
    /// <param name="value">The number.</param>
    /// <param name="exact">Whether it is the correctly rounded value.</param>
    public static bool TryParsePadded(char[] buffer, int start, int length, out double value, out bool exact) =>
        TryParsePaddedWith(buffer, start, length, out value, out exact, Wide);

    /// <summary>Whether <see cref="TryParsePadded"/> takes the one-load window
    /// (AVX-512 with VBMI: 32 characters compared at once, the point squeezed out by one byte permutation).</summary>
    public static readonly bool Wide = Avx512BW.IsSupported && Avx512Vbmi.VL.IsSupported;

    /// <summary>As <see cref="TryParsePadded"/>, choosing the window: the one-load
    /// window (<paramref name="wide"/>, only where <see cref="Wide"/>) or the portable one. Both give the same results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryParsePaddedWith(char[] buffer, int start, int length, out double value, out bool exact, bool wide)
    {
        value = 0;
        exact = false;
        if (length is 0 or > 64 || (uint)(start + length + 8) > (uint)buffer.Length)
        {
            return length is > 0 and <= 64 && TryParse(buffer.AsSpan(start, length), out value, out exact);
        }
        ref char text = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(buffer), start);
        if ((uint)(start + FastPathReach) <= (uint)buffer.Length)
        {
            if (wide)
            {
                (value, exact) = WideWindow(ref text, length);
                if (!double.IsNaN(value))
                {
                    return true;
                }
            }
            else if (TryParseWindow(ref text, length, out value, out exact) is { } parsed)
            {
                return parsed;
            }
        }
        return TryParseChunked(ref text, length, out value, out exact);
    }

    /// <summary>The value <see cref="TryParsePadded"/> gives when the wide window takes the text, else NaN (then call
    /// <see cref="TryParsePadded"/>): a value with no flags or out parameters, so that a caller's hot loop keeps it in a
    /// register. Always NaN without the wide window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double WideOrNaN(char[] buffer, int start, int length)
    {
        if (!Wide || length is 0 or > 64 || (uint)(start + FastPathReach) > (uint)buffer.Length)
        {
            return double.NaN;
        }
        return WideWindow(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(buffer), start), length).Value;
    }

    /// <summary>The chunked path of <see cref="TryParsePadded"/>.</summary>
    private static bool TryParseChunked(ref char text, int length, out double value, out bool exact)
    {
        value = 0;
        exact = false;
        int i = 0;
        bool negative = false;
        char first = text;
        if (first == '-')
        {
            negative = true;
            i = 1;
        }
        else if (first == '+')
        {
            i = 1;
        }
        ulong mantissa = 0;
        int digits = ReadDigitsPadded(ref text, length, ref i, ref mantissa);
        int scale = 0;
        if (i < length && Unsafe.Add(ref text, i) == '.')
        {
            i++;
            int fraction = ReadDigitsPadded(ref text, length, ref i, ref mantissa);
            digits += fraction;
            scale = -fraction;
        }
        if (i < length)
        {
            // An exponent (or not a number): the general path of this parser.
            return TryParse(MemoryMarshal.CreateReadOnlySpan(ref text, length), out value, out exact);
        }
        if (digits is 0 or > 19 || scale < -22)
        {
            return false;
        }
        double v = mantissa;
        v = scale < 0 ? v / PowersOfTen[-scale] : v;
        exact = mantissa <= (1UL << 53);
        value = negative ? -v : v;
        return true;
    }

    /// <summary>10^0 to 10^22, then −10^0 to −10^22.</summary>
    private static readonly double[] SignedPowersOfTen = [.. PowersOfTen, .. PowersOfTen.Select(p => -p)];

    private static readonly ulong[] IntegerPowersOfTen =
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
    ];

    /// <summary>Characters from the start of a cell that the fast paths of <see cref="TryParsePadded"/>
    /// read: the sign and 32 (the wide window; the portable one reads 25).</summary>
    public const int FastPathReach = 33;

    /// <summary>The wide fast path: as <see cref="TryParseWindow"/>, with one 32-character load; NaN for text it does
    /// not take (the chunked path then decides, as it does for the portable window's false and null). The digits are
    /// narrowed to bytes, moved right-aligned into 32 bytes with the point squeezed out (one VBMI byte permutation
    /// whose indexes are computed, not looked up), and combined by two multiply-adds into eight groups of four digits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double Value, bool Exact) WideWindow(ref char text, int length)
    {
        char first = text;
        int negative = first == '-' ? 1 : 0;
        int sign = negative | (first == '+' ? 1 : 0);
        int rest = length - sign;
        if (rest > 24)
        {
            return (double.NaN, false);
        }
        ref ushort chars = ref Unsafe.Add(ref Unsafe.As<char, ushort>(ref text), sign);
        var lanes = Vector512.LoadUnsafe(ref chars) - Vector512.Create((ushort)'0');
        // One bit per character that is not a digit, and every bit from the end of the text on.
        ulong stops = Vector512.GreaterThan(lanes, Vector512.Create((ushort)9)).ExtractMostSignificantBits() | (~0UL << rest);
        int point = BitOperations.TrailingZeroCount(stops);
        int digits, fraction;
        if (point == rest)
        {
            digits = rest;
            fraction = 0;
        }
        else if (Unsafe.Add(ref chars, point) == '.' && BitOperations.TrailingZeroCount(stops & (stops - 1)) == rest)
        {
            digits = rest - 1;
            fraction = rest - 1 - point;
        }
        else
        {
            return (double.NaN, false);
        }
        if (digits is 0 or > 19)
        {
            return (double.NaN, false);
        }
        // Output byte k holds digit t = k − (32 − digits), which is character t, or t + 1 from the point on; none for t < 0.
        var bytes = Avx512BW.ConvertToVector256Byte(lanes);
        var t = Vector256.Create((sbyte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31)
            - Vector256.Create((sbyte)(32 - digits));
        var source = t - Vector256.GreaterThanOrEqual(t, Vector256.Create((sbyte)point));
        var placed = Avx512Vbmi.VL.PermuteVar32x8(bytes, source.AsByte()) & Vector256.GreaterThanOrEqual(t, Vector256<sbyte>.Zero).AsByte();
        // Pairs, then groups of four digits (eight 32-bit values, the most significant first).
        var pairs = Avx2.MultiplyAddAdjacent(placed, Vector256.Create((sbyte)10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1));
        var quads = Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)100, 1, 100, 1, 100, 1, 100, 1, 100, 1, 100, 1, 100, 1, 100, 1)).AsUInt64();
        // Digits 8–31 (19 digits at most fit there): three groups of eight, each two groups of four.
        ulong g1 = quads.GetElement(1), g2 = quads.GetElement(2), g3 = quads.GetElement(3);
        ulong mantissa = (((((uint)g1 * 10_000UL) + (g1 >> 32)) * 100_000_000UL) + ((uint)g2 * 10_000UL) + (g2 >> 32)) * 100_000_000UL
            + ((uint)g3 * 10_000UL) + (g3 >> 32);
        // One division by a signed power of ten (1 when there is no fraction) gives the value and its sign, −0 included,
        // bit for bit as dividing and then negating, without moving the value out of the vector registers.
        double v = mantissa / Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(SignedPowersOfTen), (negative * PowersOfTen.Length) + fraction);
        return (v, mantissa <= (1UL << 53));
    }

    /// <summary>The fast path of <see cref="TryParsePadded"/>: null when the text is not <c>[+-]digits[.digits]</c> in
    /// at most 24 characters after the sign (the caller takes the chunked path); otherwise the result, the same as
    /// <see cref="TryParse(ReadOnlySpan{char}, out double, out bool)"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool? TryParseWindow(ref char text, int length, out double value, out bool exact)
    {
        value = 0;
        exact = false;
        // No branch on the sign (half the cells of a column may be negative, in no order).
        char first = text;
        int negative = first == '-' ? 1 : 0;
        int sign = negative | (first == '+' ? 1 : 0);
        int rest = length - sign;
        if (rest > 24)
        {
            return null;
        }
        ref ushort chars = ref Unsafe.Add(ref Unsafe.As<char, ushort>(ref text), sign);
        var zero = Vector128.Create((ushort)'0');
        var nine = Vector128.Create((ushort)9);
        var a0 = Vector128.LoadUnsafe(ref chars) - zero;
        var a1 = Vector128.LoadUnsafe(ref chars, 8) - zero;
        var a2 = Vector128.LoadUnsafe(ref chars, 16) - zero;
        // One bit per character that is not a digit, and every bit from the end of the text on.
        uint stops = Vector128.GreaterThan(a0, nine).ExtractMostSignificantBits()
            | (Vector128.GreaterThan(a1, nine).ExtractMostSignificantBits() << 8)
            | (Vector128.GreaterThan(a2, nine).ExtractMostSignificantBits() << 16)
            | (~0u << rest);
        int point = BitOperations.TrailingZeroCount(stops);
        int digits, fraction;
        if (point == rest)
        {
            digits = rest;
            fraction = 0;
        }
        else if (Unsafe.Add(ref chars, point) == '.' && BitOperations.TrailingZeroCount(stops & (stops - 1)) == rest)
        {
            digits = rest - 1;
            fraction = rest - 1 - point;
        }
        else
        {
            return null;
        }
        if (digits is 0 or > 19)
        {
            return false;
        }
        // The digits without the point: before it from the windows, after it from the windows shifted by one.
        var at = Vector128.Create((ushort)0, 1, 2, 3, 4, 5, 6, 7);
        var pointAt = Vector128.Create((ushort)point);
        var eight = Vector128.Create((ushort)8);
        var c0 = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(at, pointAt), Vector128.LoadUnsafe(ref chars, 1) - zero, a0);
        at += eight;
        var c1 = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(at, pointAt), Vector128.LoadUnsafe(ref chars, 9) - zero, a1);
        at += eight;
        var c2 = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(at, pointAt), Vector128.LoadUnsafe(ref chars, 17) - zero, a2);
        int n0 = Math.Min(digits, 8), n1 = Math.Clamp(digits - 8, 0, 8), n2 = Math.Max(digits - 16, 0);
        ref ulong powers = ref MemoryMarshal.GetArrayDataReference(IntegerPowersOfTen);
        ulong mantissa = (((Chunk(c0, n0) * Unsafe.Add(ref powers, n1)) + Chunk(c1, n1)) * Unsafe.Add(ref powers, n2)) + Chunk(c2, n2);
        double v = mantissa;
        if (fraction != 0)
        {
            v /= Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(PowersOfTen), fraction);
        }
        exact = mantissa <= (1UL << 53);
        value = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(v) | ((long)negative << 63));
        return true;
    }

    /// <summary>The value of the first <paramref name="count"/> (0–8) lanes of <paramref name="lanes"/> (digit values,
    /// most significant first); the other lanes are ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Chunk(Vector128<ushort> lanes, int count)
    {
        // The digits are the first `count` bytes; shifting them to the top (in two steps, so that a count of 0 shifts
        // everything out) leaves zeros (leading zeros) below.
        int shift = (8 - count) * 4;
        ulong eight = (Vector128.Narrow(lanes, lanes).AsUInt64().ToScalar() << shift) << shift;
        eight = (eight * 10) + (eight >> 8);
        eight = (((eight & 0x0000_00FF_0000_00FF) * 0x000F_4240_0000_0064) + (((eight >> 16) & 0x0000_00FF_0000_00FF) * 0x0000_2710_0000_0001)) >> 32;
        return (uint)eight;
    }

    /// <summary>Reads a run of ASCII digits eight characters at a time, reading up to eight characters past the text's
    /// end (never using them); wraps past 19 digits like <see cref="ReadDigits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadDigitsPadded(ref char text, int length, ref int i, ref ulong mantissa)
    {
        int start = i;
        ref ushort chars = ref Unsafe.As<char, ushort>(ref text);
        while (true)
        {
            var lanes = Vector128.LoadUnsafe(ref chars, (nuint)i) - Vector128.Create((ushort)'0');
            uint stop = Vector128.GreaterThan(lanes, Vector128.Create((ushort)9)).ExtractMostSignificantBits()
                | (0xFFu << Math.Min(length - i, 8)) | 0x100u;
            int count = BitOperations.TrailingZeroCount(stop);
            if (count == 0)
            {
                break;
            }
            // The digits are the first `count` bytes; shifting them to the top leaves zeros (leading zeros) below.
            ulong eight = Vector128.Narrow(lanes, lanes).AsUInt64().ToScalar() << ((8 - count) * 8);
            eight = (eight * 10) + (eight >> 8);
            eight = (((eight & 0x0000_00FF_0000_00FF) * 0x000F_4240_0000_0064) + (((eight >> 16) & 0x0000_00FF_0000_00FF) * 0x0000_2710_0000_0001)) >> 32;
            mantissa = (mantissa * IntegerPowersOfTen[count]) + (uint)eight;
            i += count;
            if (count < 8)
            {
                break;
            }
        }
        return i - start;
    }

    /// <summary>Reads a run of ASCII digits into <paramref name="mantissa"/> (wrapping past 19 digits: the caller rejects
    /// those); returns how many were read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadDigits(ReadOnlySpan<char> text, ref int i, ref ulong mantissa)
    {
        int start = i, n = text.Length;
        ref ushort chars = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(text));
        while (n - i >= 8)
        {
            var lanes = Vector128.LoadUnsafe(ref chars, (nuint)i) - Vector128.Create((ushort)'0');
            if (!Vector128.LessThanOrEqualAll(lanes, Vector128.Create((ushort)9)))
            {
                break;
            }
            // Eight digit bytes, most significant first in memory: combine pairs, then quads, then the two halves.
            ulong eight = Vector128.Narrow(lanes, lanes).AsUInt64().ToScalar();
            eight = (eight * 10) + (eight >> 8);
            eight = (((eight & 0x0000_00FF_0000_00FF) * 0x000F_4240_0000_0064) + (((eight >> 16) & 0x0000_00FF_0000_00FF) * 0x0000_2710_0000_0001)) >> 32;
            mantissa = (mantissa * 100_000_000) + (uint)eight;
            i += 8;
        }
        for (; i < n; i++)
        {
            uint d = (uint)(text[i] - '0');
            if (d > 9)
            {
                break;
            }
            mantissa = (mantissa * 10) + d;
        }
        return i - start;
    }
}
