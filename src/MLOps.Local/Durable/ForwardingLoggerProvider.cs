
namespace MLOps.Local.Durable;

/// <summary>Hands loggers of a caller-owned factory to the engine's own factory, so the engine's level filters
/// apply and disposing the engine leaves the caller's factory alone.</summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

    public void Dispose()
    {
    }
}
