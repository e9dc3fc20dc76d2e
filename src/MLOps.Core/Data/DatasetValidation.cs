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

    // Signals against the reference (the training data of the production version); null without a reference or
    // for columns it does not profile. See ReferenceSignals.

    /// <summary>Non-null values whose category never appears in the reference (category and boolean columns).</summary>
    public long? UnseenCategoryValues { get; init; }
    /// <summary><see cref="UnseenCategoryValues"/> divided by the column's non-null values.</summary>
    public double? UnseenCategoryRate { get; init; }
    /// <summary>The first distinct categories not in the reference (at most ten).</summary>
    public IReadOnlyList<string>? UnseenCategories { get; init; }
    /// <summary>Category shift: Jensen–Shannon distance (base 2, 0–1) of the category frequencies against the
    /// reference's, over the union of categories.</summary>
    public double? CategoryShift { get; init; }
    /// <summary>PSI of the category frequencies against the reference's (empty categories at 1e-4).</summary>
    public double? CategoryPsi { get; init; }
    /// <summary>Smallest value of the reference (numeric columns): the lower bound of the reference range.</summary>
    public double? ReferenceMin { get; init; }
    /// <summary>Largest value of the reference.</summary>
    public double? ReferenceMax { get; init; }
    /// <summary>Non-null values outside [<see cref="ReferenceMin"/>, <see cref="ReferenceMax"/>] (Azure ML's
    /// out-of-bounds signal when the contract gives no range).</summary>
    public long? OutOfReferenceBounds { get; init; }
    /// <summary><see cref="OutOfReferenceBounds"/> divided by the column's non-null numeric values.</summary>
    public double? OutOfReferenceBoundsRate { get; init; }
}

/// <summary>A row that repeats an earlier one (1-based data rows, as in issues): <c>row 17 duplicates row 3</c>.</summary>
public sealed record DuplicateRowPair(long Row, long FirstRow);

/// <summary>Exact duplicate rows: a dataset-level signal beside the per-column ones.</summary>
/// <remarks>Two rows are duplicates when every compared column holds the same value, compared as the validator decodes
/// it: numbers, integers and booleans by value (<c>1.0</c> equals <c>1</c>, <c>yes</c> equals <c>true</c>), known
/// categories by category, other text as text after trimming, cells that fail their type by their text. The compared columns are the contract's columns present in the file except
/// unique ones (the id column): a re-submitted record with a fresh id is still caught, and a repeated id is already a
/// <c>unique</c> issue. Rows are matched by a 64-bit hash (see the validator's notes for the false-match bound).</remarks>
public sealed record DuplicateRowsSummary
{
    /// <summary>Rows that repeat an earlier row (the first occurrence is not counted).</summary>
    public long Count { get; init; }
    /// <summary><see cref="Count"/> divided by the number of data rows.</summary>
    public double Rate { get; init; }
    /// <summary>The columns compared, in file order.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];
    /// <summary>The first duplicates, each with the row it repeats.</summary>
    public IReadOnlyList<DuplicateRowPair> Examples { get; init; } = [];
    /// <summary>False when more distinct rows came than <see cref="ValidationOptions.MaxDuplicateTrackedRows"/>: the
    /// later ones were compared but not remembered, so <see cref="Count"/> is a lower bound.</summary>
    public bool Complete { get; init; } = true;
    /// <summary>The contract's <c>max_duplicate_rate</c>; without one, duplicates are a warning, not an issue.</summary>
    public double? MaxRate { get; init; }
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
    /// <summary>Exact duplicate rows; null when no column is compared (none present, or all unique).</summary>
    public DuplicateRowsSummary? Duplicates { get; init; }
    /// <summary>Findings that do not fail the dataset (duplicates when the contract sets no <c>max_duplicate_rate</c>).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>A one-line summary fit for a log or an event.</summary>
    public string Summary { get; init; } = "";
    /// <summary>The format the file was read as.</summary>
    public DatasetFormat Format { get; init; } = DatasetFormat.Csv;
    /// <summary>What the reference signals were computed against (e.g. <c>credit-risk v3 (production)</c>); null when
    /// there was no reference.</summary>
    public string? Reference { get; init; }
    /// <summary>Rows of the reference.</summary>
    public long? ReferenceRows { get; init; }
}

public sealed record ValidationOptions
{
    public int MaxIssues { get; init; } = 100;

    /// <summary>Duplicate rows listed with the row they repeat (the count covers them all).</summary>
    public int MaxDuplicateExamples { get; init; } = 10;

    /// <summary>Most distinct rows remembered to find duplicates (16–32 bytes each; 4,000,000 rows take at most 96 MB):
    /// this bounds the memory of the duplicate check. Later rows are still compared with the remembered ones; the
    /// count is then a lower bound. 0 turns the duplicate check off.</summary>
    public int MaxDuplicateTrackedRows { get; init; } = 4_000_000;

    /// <summary>Largest row (and so largest field) read before the file is reported as malformed and reading stops.
    /// Guards against an unterminated quote or a runaway line buffering the whole file.</summary>
    public int MaxRowBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest Parquet footer (file metadata) read; a larger claim is reported as malformed.</summary>
    public int MaxParquetFooterBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Largest Parquet column chunk (uncompressed, as its metadata declares) read; larger is reported as malformed.</summary>
    public long MaxParquetColumnChunkBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Largest Parquet page (uncompressed, as its header declares) read; larger is reported as malformed
    /// before the page is decompressed. Writers use pages of about 1 MB; some write one page per column chunk.</summary>
    public long MaxParquetPageBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Most uncompressed bytes a Parquet page may declare per compressed byte (beyond what its fixed-width
    /// values could fill): a page claiming more is a decompression bomb and is reported as malformed.</summary>
    public int MaxParquetPageCompressionRatio { get; init; } = 1000;

    /// <summary>For the benchmark only: reads Parquet without first walking the page headers, to measure what the walk costs.</summary>
    internal bool SkipParquetPageScan { get; init; }

    /// <summary>Largest decoded row group (rows × bytes per value of the checked columns) held in memory at once.
    /// Parquet is read one row group at a time, so this bounds the validator's memory whatever the file's size.</summary>
    public long MaxParquetRowGroupBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Threads that check the rows of a CSV file while it is read. Null (the default): one per processor
    /// core, at most four, and none on a single core. 0: every row is checked on the reading thread. The reading
    /// thread copies rows into batches; a checking thread checks a whole batch, and the batches' results are merged
    /// in file order, so the report is the same whatever the number.</summary>
    public int? CheckThreads { get; init; }

    /// <summary>Rows in one batch handed to a checking thread (small in tests, to cross many batch boundaries).</summary>
    internal int RowsPerBatch { get; init; } = 4096;
}
