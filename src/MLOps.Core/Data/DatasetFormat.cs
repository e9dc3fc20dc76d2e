namespace MLOps.Core.Data;

/// <summary>The dataset file formats the platform reads.</summary>
public enum DatasetFormat { Csv, Parquet }

/// <summary>Tells a dataset's format from its name and its first bytes.</summary>
public static class DatasetFormats
{
    /// <summary>The four bytes a Parquet file starts and ends with.</summary>
    public static ReadOnlySpan<byte> ParquetMagic => "PAR1"u8;

    /// <summary>True for names ending in <c>.parquet</c> or <c>.pq</c>.</summary>
    public static bool IsParquetName(string name) =>
        name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".pq", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for the names uploads may have: <c>.csv</c>, <c>.parquet</c>, <c>.pq</c>.</summary>
    public static bool IsDatasetName(string name) => name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || IsParquetName(name);

    /// <summary>Parquet when the name says so or the bytes start with <c>PAR1</c>; CSV otherwise. A <c>.parquet</c> name
    /// with other bytes stays Parquet, so the Parquet reader reports what the file really is.</summary>
    public static DatasetFormat Detect(string name, ReadOnlySpan<byte> head) =>
        IsParquetName(name) || head.StartsWith(ParquetMagic) ? DatasetFormat.Parquet : DatasetFormat.Csv;

    /// <summary>Detects the format of a local file (name, then its first four bytes).</summary>
    public static DatasetFormat DetectFile(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var file = File.OpenRead(path);
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(path, head[..read]);
    }

    /// <summary>The file extension (with the dot) of a format.</summary>
    public static string Extension(DatasetFormat format) => format == DatasetFormat.Parquet ? ".parquet" : ".csv";
}
