using MLOps.Core.Data;
using MLOps.Core.Workflows;
using Parquet;
using Parquet.Schema;

namespace MLOps.Benchmarks;

/// <summary>Parquet validation of 1,000,000 rows × 12 columns (10 doubles, a category, a boolean; Snappy, row groups
/// of 100,000) against the bare Parquet.Net read of the same columns in the same run, and memory at 100k vs 1M rows.</summary>
internal static class ParquetBenchmark
{
    private const int GroupRows = 100_000;
    private const int SmallGroupRows = 2_000;

    public static async Task RunAsync(List<Result> results)
    {
        var large = Path.Combine(Path.GetTempPath(), $"mlops-bench-{Environment.ProcessId}-1m.parquet");
        var small = Path.Combine(Path.GetTempPath(), $"mlops-bench-{Environment.ProcessId}-100k.parquet");
        var huge = Path.Combine(Path.GetTempPath(), $"mlops-bench-{Environment.ProcessId}-3m.parquet");
        var paged = Path.Combine(Path.GetTempPath(), $"mlops-bench-{Environment.ProcessId}-1m-small-groups.parquet");
        try
        {
            Console.WriteLine("parquet: writing 1,000,000, 100,000 and 3,000,000 rows × 12 columns …");
            await WriteAsync(large, 1_000_000);
            await WriteAsync(small, 100_000);
            await WriteAsync(huge, 3_000_000);
            await WriteAsync(paged, 1_000_000, SmallGroupRows);
            double mb = new FileInfo(large).Length / (1024.0 * 1024.0);
            var contract = Contract();

            long cells = 0;
            void Bare()
            {
                cells = BareReadAsync(large).GetAwaiter().GetResult();
            }

            DatasetValidationReport? report = null;
            void Validate(string path, ValidationOptions? options = null)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                report = DatasetValidator.ValidateParquetAsync(stream, Path.GetFileName(path), contract, options).GetAwaiter().GetResult();
            }

            Bare();
            Validate(large);
            var bare = new List<double>();
            var validate = new List<double>();
            for (int i = 0; i < 3; i++)
            {
                bare.Add(Timing.Median(Bare, 0, 1));
                validate.Add(Timing.Median(() => Validate(large), 0, 1));
            }

            double tb = bare.Order().ElementAt(1), tv = validate.Order().ElementAt(1);
            if (report is null || !report.IsValid || report.Rows != 1_000_000) throw new InvalidOperationException("benchmark data did not validate: " + report?.Summary);

            Machine.Out($"parquet: file {mb:0.0} MB, {report.Rows} rows; bare Parquet.Net read {Timing.S(tb)}, validator {Timing.S(tv)} (checksum {cells})");

            // The validator walks every page header of a chunk before Parquet.Net decodes it (reading only header bytes).
            // Its cost: the validator with and without the walk, alternated in the same run, on this file and on one of
            // many small row groups (50× the chunks, so 50× the headers, each a seek and a small read); and the walk alone.
            var unscanned = new ValidationOptions { SkipParquetPageScan = true };
            (double Scanned, double Unscanned) WithAndWithout(string path)
            {
                Validate(path);
                Validate(path, unscanned);
                var with = new List<double>();
                var without = new List<double>();
                for (int i = 0; i < 5; i++)
                {
                    with.Add(Timing.Median(() => Validate(path), 0, 1));
                    without.Add(Timing.Median(() => Validate(path, unscanned), 0, 1));
                }

                if (report is null || !report.IsValid || report.Rows != 1_000_000) throw new InvalidOperationException("benchmark data did not validate: " + report?.Summary);
                return (with.Order().ElementAt(2), without.Order().ElementAt(2));
            }

            var (scanned, bareValidation) = WithAndWithout(large);
            var (scannedPaged, bareValidationPaged) = WithAndWithout(paged);
            int chunks = 0, chunksPaged = 0;
            double ts = Timing.Median(() => chunks = ScanPagesAsync(large).GetAwaiter().GetResult(), 1, 5);
            double tsp = Timing.Median(() => chunksPaged = ScanPagesAsync(paged).GetAwaiter().GetResult(), 1, 5);
            Machine.Out($"parquet: page-header walk, {chunks} chunks: validator {Timing.S(scanned)} with, {Timing.S(bareValidation)} without; the walk alone {Timing.S(ts)}");
            Machine.Out($"parquet: page-header walk, {chunksPaged} chunks (row groups of {SmallGroupRows}): validator {Timing.S(scannedPaged)} with, {Timing.S(bareValidationPaged)} without; the walk alone {Timing.S(tsp)}");

            // The streaming part (row groups into reused buffers) must stay flat as rows grow; the duplicate-row table grows
            // with distinct rows by design, up to its cap, so it is measured on its own.
            var streaming = new ValidationOptions { MaxDuplicateTrackedRows = 0 };
            (long Growth, long Allocated) Memory(string path, ValidationOptions? options)
            {
                GC.Collect();
                long before = GC.GetTotalAllocatedBytes(precise: true);
                long growth = Machine.PeakHeapAfterCollections(() => Validate(path, options));
                return (growth, GC.GetTotalAllocatedBytes(precise: true) - before);
            }

            Validate(small, streaming);
            var (growthSmall, allocatedSmall) = Memory(small, streaming);
            var (growthLarge, allocatedLarge) = Memory(large, streaming);
            var (growthHuge, allocatedHuge) = Memory(huge, streaming);
            var (growthHugeDuplicates, _) = Memory(huge, null);
            const long duplicateTableCap = 96L * 1024 * 1024;
            // A collection can land while one row group's decoded buffers and strings are still live (≈ 34 MB here): 3× the
            // rows may show that once more, but not 3× the heap.
            var rowGroupBytes = Math.Max(allocatedLarge / (1_000_000 / GroupRows), 16L * 1024 * 1024);
            static string M(long bytes) => $"{Timing.F(bytes / (1024.0 * 1024.0))} MB";


            results.Add(new("Parquet file (1M rows × 12 columns, Snappy)", $"{Timing.F(mb, "0.0")} MB", "", null));
            results.Add(new("bare Parquet.Net read of the 12 columns", $"{Timing.F(mb / tb)} MB/s", "", null));
            results.Add(new("Parquet validator (hash, types, bounds, categories)", $"{Timing.F(mb / tv)} MB/s", "", null));
            results.Add(new("Parquet validator rows per second", $"{Timing.F(1_000_000 / tv / 1e6, "0.00")} M rows/s", "", null));
            results.Add(new("Parquet validator speed / bare read", Timing.F(tb / tv, "0.00"), "≥ 0.5", tb / tv >= 0.5));
            results.Add(new($"  validator speed, page-header walk on / off ({chunks} chunks)", Timing.F(bareValidation / scanned, "0.00"), "≥ 0.95", bareValidation / scanned >= 0.95));
            results.Add(new($"  same, {chunksPaged} chunks (row groups of {SmallGroupRows})", Timing.F(bareValidationPaged / scannedPaged, "0.00"), "≥ 0.95", bareValidationPaged / scannedPaged >= 0.95));
            results.Add(new("Parquet retained heap growth, 100k rows (no duplicate table)", M(growthSmall), "", null));
            // Parquet.Net allocates its page buffers and strings per row group (≈ 34 MB per 100k rows here, short-lived, much
            // of it on the large-object heap). What must not grow with the file is what survives collections: the largest
            // heap after any collection during the run (the working set would also count garbage not yet collected).
            results.Add(new("Parquet retained heap growth, 1M rows (no duplicate table)", M(growthLarge), "≤ 64 MB", growthLarge <= 64L * 1024 * 1024));
            results.Add(new("Parquet retained heap growth, 3M rows (no duplicate table)", M(growthHuge), "≤ 1M rows + 1 row group", growthHuge <= growthLarge + rowGroupBytes));
            results.Add(new("  same, 3M distinct rows with the duplicate table", M(growthHugeDuplicates), "≤ above + 96 MB cap", growthHugeDuplicates <= growthHuge + duplicateTableCap));
            results.Add(new("Parquet allocation, 100k → 1M → 3M rows (transient)", $"{M(allocatedSmall)} → {M(allocatedLarge)} → {M(allocatedHuge)}", "", null));
        }
        finally
        {
            File.Delete(large);
            File.Delete(small);
            File.Delete(huge);
            File.Delete(paged);
        }
    }

    private static DataContract Contract() => new()
    {
        Columns =
        [
            .. Enumerable.Range(0, 10).Select(i => new ColumnSpec { Name = $"x{i}", Type = ColumnType.Number, Min = -1e6, Max = 1e6 }),
            new ColumnSpec { Name = "region", Type = ColumnType.Category, Values = ["EU", "US", "APAC", "LATAM"] },
            new ColumnSpec { Name = "flag", Type = ColumnType.Boolean },
        ],
        Label = "flag",
    };

    private static DataField[] Fields() =>
    [
        .. Enumerable.Range(0, 10).Select(i => (DataField)new DataField<double>($"x{i}")),
        new DataField<string>("region", false),
        new DataField<bool>("flag"),
    ];

    private static async Task WriteAsync(string path, int rows, int groupRows = GroupRows)
    {
        var rng = new Random(42);
        string[] regions = ["EU", "US", "APAC", "LATAM"];
        var fields = Fields();
        await using var file = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy });
        var numbers = new double[GroupRows];
        var text = new string[GroupRows];
        var flags = new bool[GroupRows];
        for (int start = 0; start < rows; start += groupRows)
        {
            int n = Math.Min(groupRows, rows - start);
            using var group = writer.CreateRowGroup();
            for (int c = 0; c < 10; c++)
            {
                for (int r = 0; r < n; r++) numbers[r] = (rng.NextDouble() - 0.5) * 2000 * (c + 1);
                await group.WriteAsync<double>(fields[c], numbers.AsMemory(0, n));
            }
            for (int r = 0; r < n; r++) text[r] = regions[rng.Next(4)];
            await group.WriteAsync(fields[10], new ArraySegment<string>(text, 0, n), null);
            for (int r = 0; r < n; r++) flags[r] = rng.Next(2) == 0;
            await group.WriteAsync<bool>(fields[11], flags.AsMemory(0, n));
        }
    }

    /// <summary>Walks the page headers of every column chunk as the validator does; returns the chunks scanned.</summary>
    private static async Task<int> ScanPagesAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await using var reader = await ParquetReader.CreateAsync(stream, leaveStreamOpen: true);
        var scanner = new ParquetPageScanner(stream, 256L * 1024 * 1024, 1000);
        int chunks = 0;
        foreach (var group in reader.Metadata!.RowGroups)
        {
            foreach (var column in group.Columns)
            {
                var data = column.MetaData!;
                var start = new[] { data.DictionaryPageOffset ?? 0, data.DataPageOffset, data.IndexPageOffset ?? 0 }.Where(o => o != 0).Min();
                var width = data.Type == Parquet.Meta.Type.DOUBLE ? 8 : data.Type == Parquet.Meta.Type.BOOLEAN ? 1 : 0;
                var problem = await scanner.ScanAsync(new ParquetChunk(start, data.TotalCompressedSize, (int)data.Codec, group.NumRows, data.NumValues, width, true), CancellationToken.None);
                if (problem is not null) throw new InvalidOperationException($"page {problem.Value.Page}: {problem.Value.Problem}");
                chunks++;
            }
        }

        return chunks;
    }

    /// <summary>Reads every value of every column with Parquet.Net into reused buffers and touches each.</summary>
    private static async Task<long> BareReadAsync(string path)
    {
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.GetDataFields();
        var numbers = new double[GroupRows];
        var text = new string?[GroupRows];
        var flags = new bool[GroupRows];
        long touched = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            var group = reader.OpenRowGroupReader(g);
            int n = (int)group.RowCount;
            for (int c = 0; c < 10; c++)
            {
                await group.ReadAsync<double>(fields[c], numbers.AsMemory(0, n));
                for (int r = 0; r < n; r++) touched += numbers[r] > 0 ? 1 : 0;
            }
            await group.ReadAsync(fields[10], text.AsMemory(0, n));
            for (int r = 0; r < n; r++) touched += text[r]?.Length ?? 0;
            await group.ReadAsync<bool>(fields[11], flags.AsMemory(0, n));
            for (int r = 0; r < n; r++) touched += flags[r] ? 1 : 0;
        }
        return touched;
    }
}
