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

    /// <summary>
    /// Compares a stored reference with current data one feature at a time, as a drift audit's analysis does: the
    /// reference features judged (<see cref="PredictionFeature.JudgedReference"/> on the reference's outline, with
    /// <paramref name="currentHasPrediction"/>) are read one by one (<see cref="StoredProfile.ReadFeatureAsync"/>),
    /// each with its current profile from <paramref name="current"/> (null: the window has no such feature), compared,
    /// handed to <paramref name="onFeature"/> (e.g. to draw its histogram) and let go. A binary reference is thus never
    /// held whole. The report equals <see cref="DriftAnalyzer.Compare"/> on the whole profiles.
    /// </summary>
    public static async Task<DriftReport> CompareAsync(StoredProfile reference, Func<string, CancellationToken, Task<FeatureProfile?>> current,
        long currentRows, bool currentHasPrediction, MonitoringSpec monitoring, Action<FeatureProfile, FeatureProfile?, FeatureDrift>? onFeature = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var comparison = new DriftComparison(monitoring, reference.Rows, currentRows);
        var judged = PredictionFeature.JudgedReference(reference.Outline, currentHasPrediction, monitoring, out var note);
        comparison.AddNote(note);
        foreach (var outline in judged.Features)
        {
            var referenceFeature = await reference.ReadFeatureAsync(outline, cancellationToken).ConfigureAwait(false);
            var currentFeature = await current(outline.Name, cancellationToken).ConfigureAwait(false);
            var drift = comparison.Add(referenceFeature, currentFeature);
            onFeature?.Invoke(referenceFeature, currentFeature, drift);
        }

        return comparison.Finish();
    }

    /// <summary>The report over every feature added.</summary>
    public DriftReport Finish()
    {
        if (_finished) throw new InvalidOperationException("the comparison is finished");
        _finished = true;
        return DriftAnalyzer.Finish(_settings, _monitoring, _results, _referenceRows, _currentRows, _notes);
    }
}
