using System.Globalization;
using MLOps.Core.Workflows;
using nietras.SeparatedValues;
using Parquet;
using Parquet.Schema;

namespace MLOps.Core.Data;

/// <summary>Converts datasets between CSV and Parquet, streaming one row group at a time: Parquet to CSV for the
/// trainer and the drift profiles (which read CSV), CSV to Parquet for <c>mlops data generate --format parquet</c>.</summary>
public static class ParquetConversion
{
    /// <summary>Rows per row group written by <see cref="CsvToParquetAsync"/> unless told otherwise.</summary>
    public const int DefaultRowGroupRows = 100_000;

    /// <summary>Writes every flat top-level column of a (validated) Parquet file as RFC 4180 CSV with a header.
    /// Numbers in invariant round-trip form, booleans <c>true</c>/<c>false</c>, timestamps ISO-8601, nulls empty.</summary>
    public static async Task ParquetToCsvAsync(Stream parquet, TextWriter csv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parquet);
        ArgumentNullException.ThrowIfNull(csv);
        await using var reader = await ParquetReader.CreateAsync(parquet, ParquetColumnBuffer.ReaderOptions, leaveStreamOpen: true, cancellationToken);
        var columns = new List<ParquetColumnBuffer>();
        foreach (var field in reader.Schema.Fields)
        {
            columns.Add(ParquetColumnBuffer.Create(field, out var problem)
                ?? throw new InvalidDataException($"column '{field.Name}': {problem}; cannot be converted to CSV"));
        }

        csv.Write(string.Join(',', columns.Select(c => Quote(c.Field.Name))));
        csv.Write('\n');
        var scratch = new char[256];
        for (var group = 0; group < reader.RowGroupCount; group++)
        {
            var rowGroup = reader.OpenRowGroupReader(group);
            var rows = (int)rowGroup.RowCount;
            foreach (var column in columns)
            {
                await column.ReadAsync(rowGroup, rows, cancellationToken);
            }

            for (var i = 0; i < rows; i++)
            {
                for (var c = 0; c < columns.Count; c++)
                {
                    if (c > 0)
                    {
                        csv.Write(',');
                    }

                    var column = columns[c];
                    if (column.IsNull(i))
                    {
                        continue;
                    }

                    if (column.Kind == ParquetValueKind.String)
                    {
                        csv.Write(Quote(column.GetString(i)));
                    }
                    else
                    {
                        int written;
                        while (!column.TryFormat(i, scratch, out written))
                        {
                            scratch = new char[scratch.Length * 2];
                        }

                        csv.Write(scratch, 0, written);
                    }
                }

                csv.Write('\n');
            }
        }

        await csv.FlushAsync(cancellationToken);
    }

    /// <summary>Converts a local Parquet file to a CSV file.</summary>
    public static async Task ParquetFileToCsvAsync(string parquetPath, string csvPath, CancellationToken cancellationToken = default)
    {
        await using var input = File.OpenRead(parquetPath);
        await using var output = new StreamWriter(csvPath, false, new System.Text.UTF8Encoding(false), 1 << 16);
        await ParquetToCsvAsync(input, output, cancellationToken);
    }

    /// <summary>Writes a CSV (header first) as Parquet, typing the columns by <paramref name="contract"/>: number →
    /// DOUBLE, integer → INT64, boolean → BOOLEAN, timestamp → TIMESTAMP, others (and columns not in the contract)
    /// → UTF-8 strings. Empty cells are nulls. A cell that does not parse as its type is an error naming row and column.</summary>
    public static async Task CsvToParquetAsync(TextReader csv, Stream parquet, DataContract? contract, int rowGroupRows = DefaultRowGroupRows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(parquet);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupRows, 1);
        using var reader = Sep.New(',').Reader(o => o with { HasHeader = true, Unescape = true, CultureInfo = CultureInfo.InvariantCulture }).From(csv);
        var names = reader.Header.ColNames;
        var types = names.Select(n => contract?.Columns.FirstOrDefault(c => c.Name == n)?.Type ?? ColumnType.String).ToArray();
        var fields = names.Select((n, i) => types[i] switch
        {
            ColumnType.Number => (DataField)new DataField<double?>(n),
            ColumnType.Integer => new DataField<long?>(n),
            ColumnType.Boolean => new DataField<bool?>(n),
            ColumnType.Timestamp => new DataField<DateTime?>(n),
            _ => new DataField<string>(n, true),
        }).ToArray();
        var columns = types.Select(t => new List<object?>(rowGroupRows)).ToArray();
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), parquet,
            new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, cancellationToken: cancellationToken);

        long row = 0;
        foreach (var line in reader)
        {
            row++;
            for (var i = 0; i < names.Count; i++)
            {
                columns[i].Add(Parse(line[i].Span.Trim(), types[i], row, names[i]));
            }

            if (columns[0].Count == rowGroupRows)
            {
                await WriteRowGroupAsync(writer, fields, columns, cancellationToken);
            }
        }

        if (columns.Length > 0 && columns[0].Count > 0)
        {
            await WriteRowGroupAsync(writer, fields, columns, cancellationToken);
        }
    }

    private static object? Parse(ReadOnlySpan<char> text, ColumnType type, long row, string column)
    {
        if (text.IsEmpty)
        {
            return null;
        }

        object? value = type switch
        {
            ColumnType.Number => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
            ColumnType.Integer => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null,
            ColumnType.Boolean => text switch
            {
                "1" or "true" or "True" or "TRUE" or "yes" => true,
                "0" or "false" or "False" or "FALSE" or "no" => false,
                _ => null,
            },
            ColumnType.Timestamp => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.UtcDateTime : null,
            _ => text.ToString(),
        };
        return value ?? throw new InvalidDataException($"row {row}, column '{column}': '{text}' is not a {type.ToString().ToLowerInvariant()}");
    }

    private static async Task WriteRowGroupAsync(ParquetWriter writer, DataField[] fields, List<object?>[] columns, CancellationToken cancellationToken)
    {
        using var rowGroup = writer.CreateRowGroup();
        for (var i = 0; i < fields.Length; i++)
        {
            var values = columns[i];
            var field = fields[i];
            if (field.ClrType == typeof(double))
            {
                await rowGroup.WriteAsync<double>(field, values.Select(v => (double?)v).ToArray(), null, null, cancellationToken);
            }
            else if (field.ClrType == typeof(long))
            {
                await rowGroup.WriteAsync<long>(field, values.Select(v => (long?)v).ToArray(), null, null, cancellationToken);
            }
            else if (field.ClrType == typeof(bool))
            {
                await rowGroup.WriteAsync<bool>(field, values.Select(v => (bool?)v).ToArray(), null, null, cancellationToken);
            }
            else if (field.ClrType == typeof(DateTime))
            {
                await rowGroup.WriteAsync<DateTime>(field, values.Select(v => (DateTime?)v).ToArray(), null, null, cancellationToken);
            }
            else
            {
                await rowGroup.WriteAsync(field, values.Select(v => (string?)v).ToArray()!, null);
            }

            values.Clear();
        }
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 && (value.Length == 0 || (value[0] != ' ' && value[^1] != ' '))
            ? value
            : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
