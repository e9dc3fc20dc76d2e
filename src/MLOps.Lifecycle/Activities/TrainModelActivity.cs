using Microsoft.Extensions.Logging;
using MLOps.Core.Data;
using MLOps.Core.Drift;
using MLOps.Core.Ports;
using MLOps.Core.Registry;
using MLOps.Core.Training;
using MLOps.Lifecycle.Contracts;
using MLOps.Lifecycle.Logging;
using MLOps.Lifecycle.Services;

namespace MLOps.Lifecycle.Activities;

/// <summary>Trains the workflow's model on the dataset snapshot, scores the champion on the same holdout,
/// stores the candidate and the training reference profile. Idempotent: a run that already trained returns
/// its stored result instead of training again. A grid candidate (<see cref="TrainInput.Candidate"/>) trains with its
/// own parameters on the training part minus the validation share, under <c>runs/{runId}/candidates/{n}/</c>.</summary>
public sealed class TrainModelActivity(
    IWorkflowStore workflows,
    IDatasetStore datasets,
    IArtifactStore artifacts,
    IModelRegistry registry,
    ILogger<TrainModelActivity> logger)
{
    public async Task<TrainOutput> RunAsync(TrainInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var folder = input.Candidate is { } n ? $"{input.Model}/runs/{input.RunId}/candidates/{n}" : $"{input.Model}/runs/{input.RunId}";
        var resultPath = $"{folder}/training.json";
        var previous = await artifacts.TryReadJsonAtAsync<TrainOutput>(resultPath, cancellationToken);
        if (previous is not null)
        {
            return previous;
        }

        var workflow = (await workflows.GetAsync(input.Model, input.WorkflowHash, cancellationToken)
            ?? throw new InvalidDataException($"workflow {input.WorkflowHash} of model '{input.Model}' is not registered")).Definition;
        if (input.Parameters is not null)
        {
            workflow = workflow with { Training = workflow.Training with { Parameters = input.Parameters } };
        }

        var work = Directory.CreateTempSubdirectory("mlops-train-");
        try
        {
            var csvPath = Path.Combine(work.FullName, "dataset.csv");
            await datasets.DownloadAsync(input.DatasetUri, csvPath, cancellationToken);
            if (DatasetFormats.DetectFile(csvPath) == DatasetFormat.Parquet)
            {
                // The trainer and the profile read CSV: a Parquet snapshot is converted here, row group by row group.
                var parquetPath = Path.Combine(work.FullName, "dataset.parquet");
                File.Move(csvPath, parquetPath);
                await ParquetConversion.ParquetFileToCsvAsync(parquetPath, csvPath, cancellationToken);
                File.Delete(parquetPath);
            }

            // The champion is the version production serves now; it is scored on this run's holdout.
            var champion = await registry.GetAliasAsync(input.Model, Aliases.Production, cancellationToken);
            ModelVersion? championVersion = champion is null ? null : await registry.GetVersionAsync(input.Model, champion.Version, cancellationToken);
            Stream? championModel = null;
            if (championVersion is not null)
            {
                var championPath = Path.Combine(work.FullName, "champion.zip");
                await datasets.DownloadAsync(championVersion.ArtifactUri, championPath, cancellationToken);
                championModel = File.OpenRead(championPath);
            }

            var modelPath = Path.Combine(work.FullName, "model.zip");
            TrainingResult result;
            await using (championModel)
            await using (var modelOut = File.Create(modelPath))
            {
                result = input.Validation is { } validation
                    ? ModelTrainer.Train(workflow, csvPath, modelOut, championModel, validation, cancellationToken)
                    : ModelTrainer.Train(workflow, csvPath, modelOut, championModel, cancellationToken);
            }

            ArtifactRef candidate;
            await using (var modelIn = File.OpenRead(modelPath))
            {
                candidate = await artifacts.SaveAsync($"{folder}/model.zip", modelIn, cancellationToken);
            }

            DatasetProfile profile;
            await using (var csv = File.OpenRead(csvPath))
            {
                profile = ProfileBuilder.FromCsv(csv, workflow);
            }

            // The model's predictions on its holdout are the reference of prediction drift.
            profile = PredictionFeature.Append(profile, result.HoldoutPredictions);

            // JSON for people and commands, the binary form beside it for drift audits (read feature by feature).
            var reference = await artifacts.SaveReferenceProfileAsync($"{folder}/reference-profile.json", profile, cancellationToken);
            var output = new TrainOutput
            {
                CandidateUri = candidate.Uri,
                CandidateSha256 = candidate.Sha256,
                ReferenceProfileUri = reference.Uri,
                Metrics = result.Metrics,
                ChampionVersion = championVersion?.Version,
                ChampionMetrics = result.ChampionMetrics,
                TrainRows = result.TrainRows,
                HoldoutRows = result.HoldoutRows,
                TrainSeconds = Math.Round(result.TrainSeconds, 3),
                Trainer = workflow.Training.Trainer,
                SegmentMetrics = result.SegmentMetrics,
                ChampionSegmentMetrics = result.ChampionSegmentMetrics,
                Candidate = input.Candidate,
                Parameters = input.Parameters,
                ValidationMetrics = result.ValidationMetrics,
                ModelBytes = candidate.Length,
            };
            await artifacts.SaveJsonAsync(resultPath, output, cancellationToken);
            Log.ModelTrained(logger, input.Model, input.RunId, result.TrainRows, result.TrainSeconds);
            return output;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
