using System.Text.Json;
using Microsoft.DurableTask.Client;

namespace MLOps.Lifecycle.Services;

/// <summary>Why an orchestration instance ended without a result, read the same way from both engines.</summary>
public static class InstanceFailure
{
    /// <summary>The failure's message where the backend keeps failure details (Azure Functions), else the instance's
    /// output (the Azure Storage backend behind the local sidecar keeps the message there, without details or type),
    /// else the runtime status. Never the failure's type: the engines do not report it alike.</summary>
    public static string MessageOf(OrchestrationMetadata state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FailureDetails?.ErrorMessage is { Length: > 0 } message)
        {
            return message;
        }

        var output = state.SerializedOutput;
        if (string.IsNullOrWhiteSpace(output))
        {
            return state.RuntimeStatus.ToString().ToLowerInvariant() + " without details";
        }

        try
        {
            return output.StartsWith('"') ? JsonSerializer.Deserialize<string>(output) ?? output : output;
        }
        catch (JsonException)
        {
            return output;
        }
    }
}
