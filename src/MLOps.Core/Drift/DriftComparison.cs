using MLOps.Core.Workflows;

namespace MLOps.Core.Drift;

/// <summary>
/// <see cref="DriftAnalyzer.Compare"/> one feature at a time: <see cref="Add"/> each reference feature (in reference
/// order) with its current profile as soon as it is known, then <see cref="Finish"/>. Only the per-feature results are
/// kept, so a caller that builds each current feature on demand (a merge of partition profiles) holds one feature's
/// values at a time. The report equals <see cref="DriftAnalyzer.Compare"/> on the same profiles.
/// </summary>
public sealed class DriftComparison
{
    private readonly MonitoringSpec _monitoring;
    private readonly DriftAnalyzer.Settings _settings;
    private readonly List<FeatureDrift> _results = [];
    private readonly List<string> _notes = [];
    private readonly long _referenceRows;
    private readonly long _currentRows;
    private bool _finished;

    /// <summary>Validates the spec's drift settings (unknown method, mode or FDR control throw here).</summary>
    public DriftComparison(MonitoringSpec monitoring, long referenceRows, long currentRows)
    {
        ArgumentNullException.ThrowIfNull(monitoring);
        _monitoring = monitoring;
        _settings = DriftAnalyzer.Validate(monitoring);
        _referenceRows = referenceRows;
        _currentRows = currentRows;
    }

    /// <summary>Compares one feature; <paramref name="current"/> null means the window has no such feature (all nulls).
    /// Returns the feature's result before FDR control and the minimum-rows rule (which <see cref="Finish"/> applies).</summary>
    public FeatureDrift Add(FeatureProfile reference, FeatureProfile? current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (_finished) throw new InvalidOperationException("the comparison is finished");
        var result = DriftAnalyzer.CompareOne(_settings, _monitoring, reference, current, _currentRows);
        _results.Add(result);
        return result;
    }

    /// <summary>Records why something was not judged (see <see cref="PredictionFeature.JudgedReference"/>); null is ignored.</summary>
    public void AddNote(string? note)
    {
        if (note is not null) _notes.Add(note);
    }

    /// <summary>The report over every feature added.</summary>
    public DriftReport Finish()
    {
        if (_finished) throw new InvalidOperationException("the comparison is finished");
        _finished = true;
        return DriftAnalyzer.Finish(_settings, _monitoring, _results, _referenceRows, _currentRows, _notes);
    }
}
