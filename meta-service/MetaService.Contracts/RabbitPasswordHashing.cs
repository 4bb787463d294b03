using System.Security.Cryptography;
using System.Text;

namespace MetaService.Contracts;

/// <summary>
/// RabbitMQ's password hashes (rabbit_password_hashing_sha256 is the default since 3.6; sha512 and
/// the legacy md5 are also accepted): base64(salt ‖ H(salt ‖ UTF-8 password)) with a 4-byte random
/// salt. Matching RabbitMQ's format lets users imported from RabbitMQ definitions keep their passwords.
/// </summary>
public static class RabbitPasswordHashing
{
    public const string Sha256 = "rabbit_password_hashing_sha256";
    public const string Sha512 = "rabbit_password_hashing_sha512";
    public const string Md5 = "rabbit_password_hashing_md5";

    private const int SaltLength = 4;

    /// <summary>A new salted hash with the default algorithm (SHA-256).</summary>
    public static string Hash(string password, string algorithm = Sha256)
    {
        Span<byte> salt = stackalloc byte[SaltLength];
        RandomNumberGenerator.Fill(salt);
        return Hash(password, salt, algorithm);
    }

    public static string Hash(string password, ReadOnlySpan<byte> salt, string algorithm)
    {
        byte[] input = [.. salt, .. Encoding.UTF8.GetBytes(password)];
        byte[] digest = Digest(algorithm, input);
        return Convert.ToBase64String([.. salt, .. digest]);
    }

    /// <summary>Constant-time check of a password against a stored hash; false for malformed hashes.</summary>
    public static bool Verify(string password, string passwordHash, string algorithm)
    {
        if (string.IsNullOrEmpty(passwordHash))
        {
            // RabbitMQ: a user with no password hash cannot log in with a password.
            return false;
        }

        byte[] stored;
        try
        {
            stored = Convert.FromBase64String(passwordHash);
        }
        catch (FormatException)
        {
            return false;
        }

        if (stored.Length <= SaltLength)
        {
            return false;
        }

        var salt = stored.AsSpan(0, SaltLength);
        byte[] input = [.. salt, .. Encoding.UTF8.GetBytes(password)];
        byte[] digest;
        try
        {
            digest = Digest(algorithm, input);
        }
        catch (ArgumentException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(digest, stored.AsSpan(SaltLength));
    }

    public static bool IsSupported(string algorithm) => algorithm is Sha256 or Sha512 or Md5;

    private static byte[] Digest(string algorithm, byte[] input) => algorithm switch
    {
        Sha256 => SHA256.HashData(input),
        Sha512 => SHA512.HashData(input),
#pragma warning disable CA5351 // legacy RabbitMQ hashes; accepted for import compatibility, never produced
        Md5 => MD5.HashData(input),
#pragma warning restore CA5351
        _ => throw new ArgumentException($"unsupported password hashing algorithm '{algorithm}'", nameof(algorithm)),
    };
}
