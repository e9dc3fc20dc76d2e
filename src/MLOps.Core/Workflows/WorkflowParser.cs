namespace MLOps.Core.Workflows;

/// <summary>One problem found in a workflow file, with its place.</summary>
public sealed record WorkflowError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}({Line},{Column}): {Message}";
}

/// <summary>Thrown when a workflow file cannot be used; carries every problem found.</summary>
public sealed class WorkflowValidationException : Exception
{
    public WorkflowValidationException(IReadOnlyList<WorkflowError> errors)
        : base(string.Join(Environment.NewLine, errors)) => Errors = errors;

    public WorkflowValidationException() : this([]) { }
    public WorkflowValidationException(string message) : base(message) => Errors = [];
    public WorkflowValidationException(string message, Exception inner) : base(message, inner) => Errors = [];

    public IReadOnlyList<WorkflowError> Errors { get; }
}

/// <summary>Parses and checks workflow YAML. TODO(helper A1): implement.</summary>
public static class WorkflowParser
{
    /// <summary>Parses <paramref name="yaml"/>; throws <see cref="WorkflowValidationException"/> naming file, line and column.</summary>
    public static WorkflowDefinition Parse(string yaml, string fileName) => throw new NotImplementedException();

    /// <summary>Content hash (lowercase hex SHA-256 of the text with line endings normalised to LF).</summary>
    public static string ComputeHash(string yaml) => throw new NotImplementedException();
}
