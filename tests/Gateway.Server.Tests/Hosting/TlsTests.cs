using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RabbitMQ.Client;
using TestSupport;

namespace Gateway.Server.Tests.Hosting;

public sealed class TlsTests
{
    [Fact]
    public async Task RabbitMQ_client_connects_over_AMQPS_with_a_configured_certificate()
    {
        var directory = Directory.CreateTempSubdirectory("gateway-tls-").FullName;
        var pfxPath = Path.Combine(directory, "server.pfx");
        await File.WriteAllBytesAsync(pfxPath, CreateSelfSignedPfx("localhost", "secret"));
        var tlsPort = FreePort();

        await using var gateway = await GatewayFixture.StartAsync(
            fakeTime: false,
            "--tls-port", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert", pfxPath,
            "--tls-cert-password", "secret");
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = tlsPort,
            AutomaticRecoveryEnabled = false,
            Ssl = new SslOption
            {
                Enabled = true,
                ServerName = "localhost",
                // Self-signed test certificate: trust it explicitly rather than via a CA.
                AcceptablePolicyErrors = SslPolicyErrors.RemoteCertificateChainErrors,
            },
        };

        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();

        Assert.True(channel.IsOpen);
        Assert.Equal(tlsPort, connection.Endpoint.Port);
        Assert.True(connection.Endpoint.Ssl.Enabled);
    }

    private static byte[] CreateSelfSignedPfx(string subject, string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(subject);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return certificate.Export(X509ContentType.Pfx, password);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
