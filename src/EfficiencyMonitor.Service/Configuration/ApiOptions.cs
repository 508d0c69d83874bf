using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Service.Configuration;

/// <summary>The HTTP API of the service (section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Api";

    /// <summary>Environment variable that overrides <c>Api:Key</c> everywhere (a convenience beside <c>EM_Api__Key</c>).</summary>
    public const string KeyEnvironmentVariable = "EM_API_KEY";

    /// <summary>Shortest accepted key: shorter ones are guessable and stop the service at start.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>
    /// Shared secret for the HTTP API. When set, every request except <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>
    /// (every <c>/api/*</c> endpoint among them) must carry it in <c>X-Api-Key</c> or <c>Authorization: Bearer</c>.
    /// Empty or missing: the API is open (the default bind is loopback only).
    /// </summary>
    public string? Key { get; set; }

    /// <summary>Whether a key is configured.</summary>
    public bool KeyRequired => !string.IsNullOrEmpty(Key);
}

/// <summary>Validates <see cref="ApiOptions"/>, naming the setting and the fix. Never echoes the key.</summary>
public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.KeyRequired) return ValidateOptionsResult.Success;
        var key = options.Key!;
        var failures = new List<string>();
        if (key.Length < ApiOptions.MinimumKeyLength)
        {
            failures.Add(
                $"Api:Key (EM_API_KEY / EM_Api__Key) is {key.Length} characters long: use at least {ApiOptions.MinimumKeyLength} random characters " +
                "(e.g. `openssl rand -hex 32`), or leave it empty to run without a key");
        }

        if (key.Trim().Length != key.Length || key.Any(char.IsControl))
        {
            failures.Add("Api:Key (EM_API_KEY / EM_Api__Key) starts or ends with whitespace or contains control characters, which HTTP headers cannot carry: remove them");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
