using System.Text.Json;
using Controller.Contracts;
using Gateway.Server.Control;
using Microsoft.Extensions.Logging;

namespace Gateway.Host.Control;

/// <summary>
/// The last desired state the agent applied, kept in the data directory, so a gateway that restarts while
/// no controller answers comes back enforcing it (pauses stay paused, limits stay limited) rather than
/// with nothing in force. Restored before the gateway listens; the controller's next state replaces it.
/// </summary>
public sealed partial class ControlStateFile(string path, ILogger logger)
{
    public const string FileName = "control-state.json";

    public string Path { get; } = path;

    /// <summary>Writes the state atomically (temp file, then rename), so a crash leaves the old or the new one, never half.</summary>
    public void Save(ControlState state)
    {
        string temporary = Path + ".tmp";
        try
        {
            using (var stream = File.Create(temporary))
            {
                JsonSerializer.Serialize(stream, state, ControllerJsonContext.Default.ControlState);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The state is in force in memory; only a restart without a controller would miss it.
            LogSaveFailed(logger, e, Path);
        }
    }

    /// <summary>Applies the saved state, if there is a readable one; returns it (null when none).</summary>
    public ControlState? Restore(ITrafficControl traffic)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        ControlState? state;
        try
        {
            using var stream = File.OpenRead(Path);
            state = JsonSerializer.Deserialize(stream, ControllerJsonContext.Default.ControlState);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            LogRestoreFailed(logger, e, Path);
            return null;
        }

        if (state is null)
        {
            return null;
        }

        traffic.Apply(state);
        LogRestored(logger, state.ETag, state.Pauses.Count, state.ConsumeLimits.Count, state.PublishLimits.Count, Path);
        return state;
    }

    [LoggerMessage(3011, LogLevel.Warning, "Could not save the control state to {Path}; a restart without a controller would start without it")]
    private static partial void LogSaveFailed(ILogger logger, Exception error, string path);

    [LoggerMessage(3012, LogLevel.Warning, "Could not read the saved control state {Path}; starting without it until a controller answers")]
    private static partial void LogRestoreFailed(ILogger logger, Exception error, string path);

    [LoggerMessage(3013, LogLevel.Information, "Restored the last control state {ETag} ({Pauses} pauses, {ConsumeLimits} consume limits, {PublishLimits} publish limits) from {Path}")]
    private static partial void LogRestored(ILogger logger, string eTag, int pauses, int consumeLimits, int publishLimits, string path);
}
