using System.Globalization;
using MLOps.Core.Drift;
using MLOps.Core.Ports;

namespace MLOps.Lifecycle.Handlers;

/// <summary>GET <c>/api/models/{model}/features/{feature}/drift-history?take=N</c>: the raw drift values one feature
/// had in the model's past audits (Table storage), newest first: per audit the deciding method, its value, threshold and
/// verdict, and every metric computed. The model's output is the feature <see cref="PredictionFeature.Name"/>.</summary>
public sealed class DriftHistoryApi(IWorkflowStore workflows, IModelRegistry registry, IMetricHistory history)
{
    /// <summary>Audits returned when <c>take</c> is not given.</summary>
    public const int DefaultTake = 50;

    /// <summary>Most audits one request returns.</summary>
    public const int MaxTake = 1000;

    public async Task<ApiResult> GetAsync(string model, string feature, string? take, CancellationToken cancellationToken = default)
    {
        var count = DefaultTake;
        if (!string.IsNullOrWhiteSpace(take)
            && (!int.TryParse(take, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxTake))
        {
            return ApiResult.Error(400, $"take must be a whole number from 1 to {MaxTake}; got '{take}'");
        }

        if (string.IsNullOrWhiteSpace(feature))
        {
            return ApiResult.Error(400, "a feature name is required");
        }

        var workflow = await workflows.GetCurrentAsync(model, cancellationToken);
        if (workflow is null && (await registry.ListVersionsAsync(model, cancellationToken)).Count == 0)
        {
            return ApiResult.Error(404, $"model '{model}' is not known");
        }

        var points = await history.GetFeatureHistoryAsync(model, feature, count, cancellationToken);
        if (points.Count == 0 && workflow is not null)
        {
            // No history: a known feature that has not been audited yet is an empty list, a name that is no feature a 404.
            var features = ProfileBuilder.FeatureColumns(workflow.Definition).Select(c => c.Name).ToList();
            if (PredictionFeature.Enabled(workflow.Definition))
            {
                features.Add(PredictionFeature.Name);
            }

            if (!features.Contains(feature, StringComparer.Ordinal))
            {
                return ApiResult.Error(404, $"'{feature}' is not a monitored feature of '{model}'; its features: {string.Join(", ", features)}");
            }
        }

        return ApiResult.Ok(new
        {
            model,
            feature,
            isPrediction = points.Count > 0 ? points[0].IsPrediction : feature == PredictionFeature.Name,
            count = points.Count,
            points = points.Select(p => new
            {
                p.AuditId,
                p.Version,
                p.AuditedAt,
                p.WindowStart,
                p.WindowEnd,
                p.Kind,
                p.Method,
                Value = Finite(p.Value),
                Threshold = Finite(p.Threshold),
                p.Drifted,
                p.ReferenceRows,
                p.CurrentRows,
                p.Metrics,
            }),
        });
    }

    // JSON has no NaN: a value a history row could not give back is null.
    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
