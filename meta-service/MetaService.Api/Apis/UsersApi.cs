using MetaService.Api.Hosting;
using MetaService.Api.Logging;
using MetaService.Contracts;
using MetaService.Contracts.Http;
using Microsoft.AspNetCore.Mvc;

namespace MetaService.Api.Apis;

/// <summary>
/// Users: <c>/api/users</c>. A password sent here is hashed at once (RabbitMQ's salted SHA-256 format) and
/// then dropped: it is never stored, logged or returned. Reads never show a password hash either; hashes
/// leave the service only in the definitions export and in the snapshot and change feed that gateways
/// authenticate from.
/// </summary>
internal static class UsersApi
{
    private static readonly MetaServiceJsonContext Json = MetaServiceJsonContext.Default;

    public static RouteGroupBuilder MapUsersApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/users");
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetAsync);
        group.MapPut("/{name}", PutAsync);
        group.MapDelete("/{name}", DeleteAsync);
        return group;
    }

    private static UserView View(UserRecord user) => new(user.Name, user.Tags, user.HashingAlgorithm);

    private static async Task<IResult> ListAsync([FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var users = await store.ListUsersAsync(cancellationToken);
        return TypedResults.Json<IReadOnlyList<UserView>>([.. users.Select(View)], Json.IReadOnlyListUserView);
    }

    private static async Task<IResult> GetAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        var name = RouteNames.Get(context, "name");
        var user = await store.GetUserAsync(name, cancellationToken);
        return user is null ? Problems.NotFound($"no user '{name}'") : TypedResults.Json(View(user), Json.UserView);
    }

    private static async Task<IResult> PutAsync(
        HttpContext context, [FromServices] IMetadataStore store, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var name = RouteNames.Get(context, "name");
        var body = await RequestBody.ReadAsync(context.Request, Json.UserBody, cancellationToken);
        var tags = body.Tags ?? [];
        UserRecord user;
        string source;
        if (body.Password is not null)
        {
            if (body.PasswordHash is not null)
            {
                throw new BadRequestException("give either password or password_hash, not both");
            }

            // A new hash is never MD5: that algorithm is accepted only for imported RabbitMQ users.
            var algorithm = body.HashingAlgorithm ?? RabbitPasswordHashing.Sha256;
            if (algorithm is not (RabbitPasswordHashing.Sha256 or RabbitPasswordHashing.Sha512))
            {
                throw new BadRequestException(
                    $"a password is hashed with {RabbitPasswordHashing.Sha256} or {RabbitPasswordHashing.Sha512}");
            }

            user = new UserRecord(name, RabbitPasswordHashing.Hash(body.Password, algorithm), algorithm, tags);
            source = "password, hashed";
        }
        else if (body.PasswordHash is not null)
        {
            var algorithm = body.HashingAlgorithm ?? RabbitPasswordHashing.Sha256;
            if (!RabbitPasswordHashing.IsSupported(algorithm))
            {
                throw new BadRequestException($"unsupported hashing_algorithm '{algorithm}'");
            }

            if (!IsWellFormedHash(body.PasswordHash))
            {
                throw new BadRequestException("password_hash must be base64 of a 4-byte salt and the digest, or empty (no password login)");
            }

            user = new UserRecord(name, body.PasswordHash, algorithm, tags);
            source = "password_hash";
        }
        else
        {
            throw new BadRequestException("password or password_hash is required");
        }

        await store.PutUserAsync(user, cancellationToken);
        MetaServiceLog.UserPut(loggers.CreateLogger(typeof(UsersApi).FullName!), name, source, string.Join(',', tags));
        return TypedResults.NoContent();
    }

    private static bool IsWellFormedHash(string hash)
    {
        if (hash.Length == 0)
        {
            return true; // RabbitMQ: a user who cannot log in with a password
        }

        var bytes = new byte[(hash.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(hash, bytes, out var length) && length > 4;
    }

    private static async Task<IResult> DeleteAsync(
        HttpContext context, [FromServices] IMetadataStore store, CancellationToken cancellationToken)
    {
        await store.DeleteUserAsync(RouteNames.Get(context, "name"), cancellationToken);
        return TypedResults.NoContent();
    }
}
