using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Storage;

/// <summary>How to reach ClickHouse (section <c>ClickHouse</c>; <c>EM_CLICKHOUSE_URL</c> overrides the URL).</summary>
public sealed class ClickHouseOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "ClickHouse";

    /// <summary>Environment variable that overrides <see cref="Url"/> everywhere.</summary>
    public const string UrlEnvironmentVariable = "EM_CLICKHOUSE_URL";

    /// <summary>ClickHouse HTTP(S) interface, e.g. <c>http://127.0.0.1:8123</c>.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8123";

    /// <summary>Database holding every table of the product.</summary>
    public string Database { get; set; } = "efficiency";

    /// <summary>User name.</summary>
    public string Username { get; set; } = "default";

    /// <summary>Password (never logged).</summary>
    public string Password { get; set; } = "";

    /// <summary>Apply pending migrations when the service starts.</summary>
    public bool MigrateAtStart { get; set; } = true;

    /// <summary>Days raw telemetry rows are kept (TTL of the raw tables).</summary>
    public int RawRetentionDays { get; set; } = 90;

    /// <summary>Builds the driver's connection string for <paramref name="database"/> (default: <see cref="Database"/>).</summary>
    public string ToConnectionString(string? database = null)
    {
        var url = new Uri(Url);
        var protocol = url.Scheme;
        var port = url.IsDefaultPort ? (protocol == "https" ? 8443 : 8123) : url.Port;
        var path = url.AbsolutePath.Trim('/');
        var builder = new System.Data.Common.DbConnectionStringBuilder
        {
            ["Host"] = url.Host,
            ["Port"] = port,
            ["Protocol"] = protocol,
            ["Username"] = Username,
            ["Password"] = Password,
            ["Database"] = database ?? Database,
        };
        if (path.Length > 0)
        {
            builder["Path"] = path;
        }

        return builder.ConnectionString;
    }
}

/// <summary>Validates <see cref="ClickHouseOptions"/>, listing every problem with the setting to change.</summary>
public sealed partial class ClickHouseOptionsValidator : IValidateOptions<ClickHouseOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ClickHouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https"))
        {
            failures.Add($"ClickHouse:Url '{options.Url}' is not an http(s) URL: set it (or {ClickHouseOptions.UrlEnvironmentVariable}) to e.g. http://127.0.0.1:8123");
        }

        if (!IsIdentifier(options.Database))
        {
            failures.Add($"ClickHouse:Database '{options.Database}' is not a plain identifier: use letters, digits and '_' (e.g. efficiency)");
        }

        if (string.IsNullOrWhiteSpace(options.Username))
        {
            failures.Add("ClickHouse:Username is empty: set it to the ClickHouse user (e.g. default)");
        }

        if (options.RawRetentionDays is < 1 or > 3650)
        {
            failures.Add($"ClickHouse:RawRetentionDays {options.RawRetentionDays} is out of range: use 1..3650 days");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>True for names that are safe to splice into DDL unquoted.</summary>
    public static bool IsIdentifier(string? value) => value is { Length: > 0 and <= 128 } && IdentifierPattern().IsMatch(value);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();
}
