namespace CompatSuite.MassTransit.Fixtures;

/// <summary>Polls a condition that another thread (a MassTransit consumer) makes true.</summary>
public static class Eventually
{
    public static async Task<bool> HoldsAsync(Func<bool> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
