using System.Text;
using System.Text.Json;
using CompatSuite.MassTransit.Fixtures;
using MassTransit;
using RabbitMQ.Client;

namespace CompatSuite.MassTransit.Scenarios;

/// <summary>
/// A consumer that always throws: MassTransit retries it in memory, then moves the message to
/// "&lt;queue&gt;_error" with the fault described in MT-Fault-* headers, and acks the original.
/// </summary>
public sealed class ErrorQueueScenarios
{
    private const int ImmediateRetries = 2;

    [Fact]
    public async Task After_the_retries_a_failing_message_lands_in_the_error_queue_with_fault_headers()
    {
        var runId = Guid.NewGuid();
        string queue = $"compat-mt-seats-{runId.ToString("N")[..12]}";
        string errorQueue = $"{queue}_error";
        string failure = $"compat-suite refuses seat {runId:N}";
        int attempts = 0;

        try
        {
            await using (var bus = await TestBus.StartAsync(cfg =>
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.UseMessageRetry(r => r.Immediate(ImmediateRetries));
                    e.Handler<ReserveSeat>(context =>
                    {
                        Interlocked.Increment(ref attempts);
                        throw new InvalidOperationException(failure);
                    });
                })))
            {
                ISendEndpoint endpoint = await bus.Instance.GetSendEndpoint(new Uri($"queue:{queue}"));
                await endpoint.Send(new ReserveSeat(runId, "12C"), TestBus.OperationTimeout());

                BasicGetResult? faulted = await BrokerAdmin.GetAsync(errorQueue, TimeSpan.FromSeconds(30));
                Assert.NotNull(faulted);

                // One first attempt plus the immediate retries, then no more.
                Assert.Equal(1 + ImmediateRetries, Volatile.Read(ref attempts));

                IDictionary<string, object?> headers = faulted.BasicProperties.Headers ?? new Dictionary<string, object?>();
                Assert.Equal("fault", HeaderText(headers, "MT-Reason"));
                Assert.Equal(typeof(InvalidOperationException).FullName, HeaderText(headers, "MT-Fault-ExceptionType"));
                Assert.Equal(failure, HeaderText(headers, "MT-Fault-Message"));
                // The stack trace is the consumer's, where the exception was thrown.
                Assert.Contains(nameof(ErrorQueueScenarios), HeaderText(headers, "MT-Fault-StackTrace"), StringComparison.Ordinal);
                Assert.Equal(ImmediateRetries.ToString(System.Globalization.CultureInfo.InvariantCulture), HeaderText(headers, "MT-Fault-RetryCount"));
                Assert.NotNull(HeaderText(headers, "MT-Fault-Timestamp"));

                // The body is the original envelope, unchanged: same message, addressed to the endpoint's queue.
                using JsonDocument envelope = JsonDocument.Parse(Encoding.UTF8.GetString(faulted.Body.Span));
                JsonElement message = envelope.RootElement.GetProperty("message");
                Assert.Equal(runId, message.GetProperty("runId").GetGuid());
                Assert.Equal("12C", message.GetProperty("seat").GetString());
                Assert.EndsWith($"/{queue}", new Uri(envelope.RootElement.GetProperty("destinationAddress").GetString()!).AbsolutePath, StringComparison.Ordinal);
                Assert.Contains(envelope.RootElement.GetProperty("messageType").EnumerateArray(),
                    t => t.GetString() == $"urn:message:{typeof(ReserveSeat).Namespace}:{nameof(ReserveSeat)}");

                // Moved, not copied: the input queue is empty and the error queue held exactly this one.
                Assert.Equal(0u, await BrokerAdmin.MessageCountAsync(queue));
                Assert.Equal(0u, await BrokerAdmin.MessageCountAsync(errorQueue));
            }
        }
        finally
        {
            await BrokerAdmin.DeleteAsync([queue, errorQueue], [queue, errorQueue]);
        }
    }

    /// <summary>A header value as text: the AMQP client hands longstr values over as bytes.</summary>
    private static string? HeaderText(IDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out object? value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        } : null;
}
