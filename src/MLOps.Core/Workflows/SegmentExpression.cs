using System.Globalization;

namespace MLOps.Core.Workflows;

/// <summary>The tiny expression language of <c>data.segments[].where</c>: comparisons <c>column op literal</c>
/// (op one of <c>== != &lt; &lt;= &gt; &gt;=</c>; literal a number, a quoted text or <c>true</c>/<c>false</c>),
/// combined with <c>and</c>. Pure; shared by the parser (checks) and the trainer (row filter).</summary>
public static class SegmentExpression
{
    public static IReadOnlyList<string> Operators { get; } = ["==", "!=", "<", "<=", ">", ">="];

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why and
    /// <paramref name="offset"/> is the 0-based character where the problem starts.</summary>
    public static bool TryParse(string text, out IReadOnlyList<SegmentCondition> conditions, out string error, out int offset)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<SegmentCondition>();
        conditions = result;
        error = "";
        offset = 0;
        var i = 0;
        while (true)
        {
            SkipSpace(text, ref i);
            var start = i;
            if (i >= text.Length || !(char.IsAsciiLetter(text[i]) || text[i] == '_'))
            {
                (error, offset) = ("expected a column name", start);
                return false;
            }

            while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
            {
                i++;
            }

            var column = text[start..i];
            SkipSpace(text, ref i);
            var opStart = i;
            while (i < text.Length && text[i] is '=' or '!' or '<' or '>')
            {
                i++;
            }

            var op = text[opStart..i];
            if (!Operators.Contains(op))
            {
                (error, offset) = ($"expected a comparison ({string.Join(" ", Operators)}) after '{column}'", opStart);
                return false;
            }

            SkipSpace(text, ref i);
            var literalStart = i;
            string value;
            bool numeric;
            if (i < text.Length && text[i] is '"' or '\'')
            {
                var quote = text[i];
                var end = text.IndexOf(quote, i + 1);
                if (end < 0)
                {
                    (error, offset) = ("unterminated quoted text", literalStart);
                    return false;
                }

                value = text[(i + 1)..end];
                numeric = false;
                i = end + 1;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    i++;
                }

                var word = text[literalStart..i];
                if (double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    (value, numeric) = (number.ToString("R", CultureInfo.InvariantCulture), true);
                }
                else if (word is "true" or "false")
                {
                    (value, numeric) = (word, false);
                }
                else
                {
                    (error, offset) = (word.Length == 0
                        ? $"expected a value after '{column} {op}'"
                        : $"'{word}' is not a number, a quoted text or true/false", literalStart);
                    return false;
                }
            }

            if (!numeric && op is not ("==" or "!="))
            {
                (error, offset) = ($"'{op}' compares numbers; text compares with == or != only", opStart);
                return false;
            }

            result.Add(new SegmentCondition(column, op, value, numeric));
            SkipSpace(text, ref i);
            if (i >= text.Length)
            {
                return true;
            }

            if (string.CompareOrdinal(text, i, "and", 0, 3) == 0 && i + 3 < text.Length && char.IsWhiteSpace(text[i + 3]))
            {
                i += 3;
                continue;
            }

            (error, offset) = ("expected 'and' or the end of the expression", i);
            return false;
        }
    }

    /// <summary>True when the row satisfies every condition. <paramref name="number"/> gives a numeric column's value
    /// (NaN when missing: every comparison with it is false), <paramref name="text"/> a text column's value.</summary>
    public static bool Matches(IReadOnlyList<SegmentCondition> conditions, Func<string, double> number, Func<string, string?> text)
    {
        ArgumentNullException.ThrowIfNull(conditions);
        ArgumentNullException.ThrowIfNull(number);
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in conditions)
        {
            bool holds;
            if (c.Numeric)
            {
                var actual = number(c.Column);
                var expected = double.Parse(c.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                holds = c.Operator switch
                {
                    "==" => actual == expected,
                    "!=" => !double.IsNaN(actual) && actual != expected,
                    "<" => actual < expected,
                    "<=" => actual <= expected,
                    ">" => actual > expected,
                    ">=" => actual >= expected,
                    _ => false,
                };
            }
            else
            {
                var actual = text(c.Column);
                var equal = string.Equals(actual?.Trim(), c.Value, StringComparison.OrdinalIgnoreCase);
                holds = c.Operator == "==" ? equal : actual is not null && !equal;
            }

            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    private static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }
    }
}
