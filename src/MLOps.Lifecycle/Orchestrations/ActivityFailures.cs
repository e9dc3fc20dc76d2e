using Microsoft.DurableTask;

namespace MLOps.Lifecycle.Orchestrations;

/// <summary>
/// Which failed activities the orchestrations retry (<see cref="RetryPolicy.HandleFailure"/>), in one place.
/// </summary>
/// <remarks>
/// <para>A retry handler sees the activity's own failure details, and both engines keep their type: the Azure Storage
/// backend of the local host stores them with the <c>TaskFailed</c> event (measured: the type survives a replay) and
/// Azure Functions passes them on. What the engines do not keep alike is the failure of a whole orchestration: the
/// local backend keeps only its message, Azure Functions reports it as a <c>TaskFailedException</c> with the
/// activity's failure inside. So nothing outside an orchestration may branch on failure types: an outcome a caller
/// must tell apart is in the orchestration's output (<see cref="Contracts.DataProblem"/> of a drift audit,
/// <see cref="Contracts.RunOutcome.Failed"/> of a run).</para>
/// <para>Bad data (<see cref="InvalidDataException"/>: a file, row, column or record that is wrong stays wrong) is never
/// retried; bad arguments (<see cref="ArgumentException"/>) are not retried where they come from the data, as in training.</para>
/// </remarks>
public static class ActivityFailures
{
    /// <summary>True when a retry may cure the failure: anything but bad data.</summary>
    public static bool IsRetryable(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return !failure.IsCausedBy<InvalidDataException>();
    }

    /// <summary>True when a retry may cure a training failure: anything but bad data or parameters the data refuses.</summary>
    public static bool IsRetryableTraining(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return IsRetryable(failure) && !failure.IsCausedBy<ArgumentException>();
    }
}
