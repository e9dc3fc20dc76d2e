using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Data;

/// <summary>What a flat Parquet column holds, as the data contract sees it.</summary>
internal enum ParquetValueKind { Floating, Integral, Boolean, String, Timestamp }

/// <summary>One flat Parquet column of the current row group, read into a buffer that is reused for the next row
/// group (so memory follows the row-group size, never the file size).</summary>
internal abstract class ParquetColumnBuffer(DataField field, ParquetValueKind kind)
{
    /// <summary>Options every reader of datasets uses: byte arrays are UTF-8 text, dates are <see cref="DateTime"/>.</summary>
    public static ParquetOptions ReaderOptions { get; } = new() { TreatByteArrayAsString = true, UseDateOnlyTypeForDates = false, UseBigDecimal = false };

    public DataField Field { get; } = field;
    public ParquetValueKind Kind { get; } = kind;

    /// <summary>Decoded bytes per row held by the buffer (for the row-group memory bound).</summary>
    public abstract int BytesPerRow { get; }

    public abstract ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken);

    public abstract bool IsNull(int index);

    /// <summary>The value as a double (numbers, booleans as 0/1); undefined for other kinds.</summary>
    public virtual double GetDouble(int index) => throw new NotSupportedException();

    public virtual bool GetBoolean(int index) => throw new NotSupportedException();

    public virtual string GetString(int index) => throw new NotSupportedException();

    public virtual DateTime GetTimestamp(int index) => throw new NotSupportedException();

    /// <summary>Invariant text of the value (integers exactly, doubles round-trip, timestamps ISO-8601, booleans
    /// <c>true</c>/<c>false</c>); false when <paramref name="destination"/> is too small. Nulls write nothing.</summary>
    public abstract bool TryFormat(int index, Span<char> destination, out int written);

    /// <summary>A buffer for a flat (non-repeated) field of a type the contract can use; null with a reason otherwise.</summary>
    public static ParquetColumnBuffer? Create(Field field, out string? problem)
    {
        problem = null;
        if (field is not DataField data || data.IsArray || data.MaxRepetitionLevel > 0)
        {
            problem = $"a nested or repeated Parquet field ({field.SchemaType})";
            return null;
        }

        var type = data.ClrType;
        ParquetColumnBuffer? buffer =
            type == typeof(double) ? new Number<double>(data, ParquetValueKind.Floating)
            : type == typeof(float) ? new Number<float>(data, ParquetValueKind.Floating)
            : type == typeof(decimal) ? new Number<decimal>(data, ParquetValueKind.Floating)
            : type == typeof(long) ? new Number<long>(data, ParquetValueKind.Integral)
            : type == typeof(int) ? new Number<int>(data, ParquetValueKind.Integral)
            : type == typeof(short) ? new Number<short>(data, ParquetValueKind.Integral)
            : type == typeof(sbyte) ? new Number<sbyte>(data, ParquetValueKind.Integral)
            : type == typeof(ulong) ? new Number<ulong>(data, ParquetValueKind.Integral)
            : type == typeof(uint) ? new Number<uint>(data, ParquetValueKind.Integral)
            : type == typeof(ushort) ? new Number<ushort>(data, ParquetValueKind.Integral)
            : type == typeof(byte) ? new Number<byte>(data, ParquetValueKind.Integral)
            : type == typeof(bool) ? new Boolean(data)
            : type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? new Text(data)
            : type == typeof(DateTime) ? new Timestamp(data)
            : null;
        if (buffer is null)
        {
            problem = $"Parquet type {Describe(data)}, which no contract type reads";
        }

        return buffer;
    }

    /// <summary>The field's Parquet type for messages: physical type, and the logical or converted type when set.</summary>
    public static string Describe(Field field)
    {
        if (field is not DataField data)
        {
            return field.SchemaType.ToString().ToLowerInvariant();
        }

        var element = data.SchemaElement;
        var physical = element?.Type?.ToString() ?? "?";
        var logical = element?.LogicalType switch
        {
            { STRING: not null } => "string",
            { TIMESTAMP: not null } => "timestamp",
            { DATE: not null } => "date",
            { DECIMAL: not null } => "decimal",
            { INTEGER: not null } => "integer",
            { TIME: not null } => "time",
            _ => element?.ConvertedType?.ToString().ToLowerInvariant(),
        };
        return logical is null ? physical : $"{physical} ({logical})";
    }

    private sealed class Number<T>(DataField field, ParquetValueKind kind) : ParquetColumnBuffer(field, kind)
        where T : struct, INumber<T>
    {
        private T?[] _nullable = [];
        private T[] _plain = [];

        public override int BytesPerRow => Unsafe.SizeOf<T?>();

        public override async ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken)
        {
            if (Field.IsNullable)
            {
                if (_nullable.Length < rows)
                {
                    _nullable = new T?[rows];
                }

                await rowGroup.ReadAsync<T>(Field, _nullable.AsMemory(0, rows), null, cancellationToken);
            }
            else
            {
                if (_plain.Length < rows)
                {
                    _plain = new T[rows];
                }

                await rowGroup.ReadAsync<T>(Field, _plain.AsMemory(0, rows), null, cancellationToken);
            }
        }

        private T Value(int index) => Field.IsNullable ? _nullable[index].GetValueOrDefault() : _plain[index];

        public override bool IsNull(int index) => Field.IsNullable && !_nullable[index].HasValue;

        public override double GetDouble(int index) => double.CreateSaturating(Value(index));

        public override bool TryFormat(int index, Span<char> destination, out int written)
        {
            if (IsNull(index))
            {
                written = 0;
                return true;
            }

            return Value(index).TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        }
    }

    private sealed class Boolean(DataField field) : ParquetColumnBuffer(field, ParquetValueKind.Boolean)
    {
        private bool?[] _nullable = [];
        private bool[] _plain = [];

        public override int BytesPerRow => 2;

        public override async ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken)
        {
            if (Field.IsNullable)
            {
                if (_nullable.Length < rows)
                {
                    _nullable = new bool?[rows];
                }

                await rowGroup.ReadAsync<bool>(Field, _nullable.AsMemory(0, rows), null, cancellationToken);
            }
            else
            {
                if (_plain.Length < rows)
                {
                    _plain = new bool[rows];
                }

                await rowGroup.ReadAsync<bool>(Field, _plain.AsMemory(0, rows), null, cancellationToken);
            }
        }

        public override bool IsNull(int index) => Field.IsNullable && !_nullable[index].HasValue;

        public override bool GetBoolean(int index) => Field.IsNullable ? _nullable[index].GetValueOrDefault() : _plain[index];

        public override double GetDouble(int index) => GetBoolean(index) ? 1 : 0;

        public override bool TryFormat(int index, Span<char> destination, out int written)
        {
            written = 0;
            if (IsNull(index))
            {
                return true;
            }

            var text = GetBoolean(index) ? "true" : "false";
            if (!text.AsSpan().TryCopyTo(destination))
            {
                return false;
            }

            written = text.Length;
            return true;
        }
    }

    private sealed class Text(DataField field) : ParquetColumnBuffer(field, ParquetValueKind.String)
    {
        private string?[] _values = [];

        public override int BytesPerRow => 8 + 32;

        public override async ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken)
        {
            if (_values.Length < rows)
            {
                _values = new string?[rows];
            }

            await rowGroup.ReadAsync(Field, _values.AsMemory(0, rows), null, cancellationToken);
        }

        public override bool IsNull(int index) => _values[index] is null;

        public override string GetString(int index) => _values[index] ?? "";

        public override bool TryFormat(int index, Span<char> destination, out int written)
        {
            var value = _values[index] ?? "";
            written = 0;
            if (!value.AsSpan().TryCopyTo(destination))
            {
                return false;
            }

            written = value.Length;
            return true;
        }
    }

    private sealed class Timestamp(DataField field) : ParquetColumnBuffer(field, ParquetValueKind.Timestamp)
    {
        private DateTime?[] _nullable = [];
        private DateTime[] _plain = [];

        public override int BytesPerRow => 16;

        public override async ValueTask ReadAsync(ParquetRowGroupReader rowGroup, int rows, CancellationToken cancellationToken)
        {
            if (Field.IsNullable)
            {
                if (_nullable.Length < rows)
                {
                    _nullable = new DateTime?[rows];
                }

                await rowGroup.ReadAsync<DateTime>(Field, _nullable.AsMemory(0, rows), null, cancellationToken);
            }
            else
            {
                if (_plain.Length < rows)
                {
                    _plain = new DateTime[rows];
                }

                await rowGroup.ReadAsync<DateTime>(Field, _plain.AsMemory(0, rows), null, cancellationToken);
            }
        }

        public override bool IsNull(int index) => Field.IsNullable && !_nullable[index].HasValue;

        public override DateTime GetTimestamp(int index) => Field.IsNullable ? _nullable[index].GetValueOrDefault() : _plain[index];

        public override bool TryFormat(int index, Span<char> destination, out int written)
        {
            if (IsNull(index))
            {
                written = 0;
                return true;
            }

            var value = GetTimestamp(index);
            // Dates (no time of day) print as yyyy-MM-dd; others in round-trip ISO-8601.
            return value.TimeOfDay == TimeSpan.Zero
                ? value.TryFormat(destination, out written, "yyyy-MM-dd", CultureInfo.InvariantCulture)
                : value.TryFormat(destination, out written, "O", CultureInfo.InvariantCulture);
        }
    }
}
