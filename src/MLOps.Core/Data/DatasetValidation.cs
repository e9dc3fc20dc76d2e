using MLOps.Core.Workflows;

namespace MLOps.Core.Data;

/// <summary>One failing cell or row: where it is (1-based data row, column), which rule, which value.</summary>
public sealed record ValidationIssue(long Row, string? Column, string Rule, string? Value, string Message);

/// <summary>Azure ML–style signals for one column, plus simple descriptive figures.</summary>
public sealed record ColumnSummary
{
    public required string Name { get; init; }
    public required ColumnType Type { get; init; }
    public long Nulls { get; init; }
    public long TypeErrors { get; init; }
    public long OutOfBounds { get; init; }
    public double NullRate { get; init; }
    public double TypeErrorRate { get; init; }
    public double OutOfBoundsRate { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public double? Mean { get; init; }
    public int? DistinctValues { get; init; }
}

/// <summary>The machine-readable result of validating one dataset against a data contract.</summary>
public sealed record DatasetValidationReport
{
    public required string File { get; init; }
    public required bool IsValid { get; init; }
    public long Rows { get; init; }
    /// <summary>Lowercase hex SHA-256 of the file's bytes, computed while streaming.</summary>
    public required string Sha256 { get; init; }
    public long Bytes { get; init; }
    public IReadOnlyList<string> Header { get; init; } = [];
    public IReadOnlyList<ColumnSummary> Columns { get; init; } = [];
    /// <summary>The first issues found (at most the configured number).</summary>
    public IReadOnlyList<ValidationIssue> Issues { get; init; } = [];
    /// <summary>All issues found, including those not listed.</summary>
    public long IssueCount { get; init; }
    /// <summary>A one-line summary fit for a log or an event.</summary>
    public string Summary { get; init; } = "";
    /// <summary>The format the file was read as.</summary>
    public DatasetFormat Format { get; init; } = DatasetFormat.Csv;
}

public sealed record ValidationOptions
{
    public int MaxIssues { get; init; } = 100;

    /// <summary>Largest row (and so largest field) read before the file is reported as malformed and reading stops.
    /// Guards against an unterminated quote or a runaway line buffering the whole file.</summary>
    public int MaxRowBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest Parquet footer (file metadata) read; a larger claim is reported as malformed.</summary>
    public int MaxParquetFooterBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest Parquet column chunk (uncompressed, as its metadata declares) read; larger is reported as malformed.</summary>
    public long MaxParquetColumnChunkBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Largest decoded row group (rows × bytes per value of the checked columns) held in memory at once.
    /// Parquet is read one row group at a time, so this bounds the validator's memory whatever the file's size.</summary>
    public long MaxParquetRowGroupBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Checks the cells of Number columns on a second thread while the file is read (on machines with more
    /// than one core). The report is the same either way. Off by default: it only pays when a core is free (on a
    /// loaded machine the hand-offs cost more than they save, as the benchmark shows).</summary>
    public bool CheckNumbersInParallel { get; init; }
}
