namespace Controller.Tests.Support;

/// <summary>Polls a condition until it holds or a generous deadline passes: timing on a shared machine is noisy, so tests wait for outcomes, not for fixed sleeps.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = e;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not happen within {timeout}", last);
            }

            await Task.Delay(50);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        await GetAsync<object>(async () => await probe() ? new object() : null, timeout, what);

    public static Task TrueAsync(Func<bool> probe, TimeSpan timeout, string what) =>
        TrueAsync(() => Task.FromResult(probe()), timeout, what);
}
