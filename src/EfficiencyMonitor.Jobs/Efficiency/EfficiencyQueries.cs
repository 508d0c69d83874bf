using System.Globalization;
using System.Text.Json.Serialization;
using ClickHouse.Driver;
using Dapper;
using EfficiencyMonitor.Storage;

namespace EfficiencyMonitor.Jobs.Efficiency;

/// <summary>One stored row of <c>efficiency_windows</c> as the API and the report show it (snake_case in JSON).</summary>
public sealed record EfficiencyWindowView
{
    /// <summary>Window start (UTC; the column is UTC, so the kind is set whatever the driver reports and JSON carries the Z).</summary>
    public DateTime WindowStart { get; init => field = DateTime.SpecifyKind(value, DateTimeKind.Utc); }

    /// <summary>Window length, s.</summary>
    public long WindowSeconds { get; init; }

    /// <summary>Deployment.</summary>
    public string Deployment { get; init; } = "";

    /// <summary>Tenant ('' on the deployment row).</summary>
    public string Tenant { get; init; } = "";

    /// <summary>Model ('' on the deployment row).</summary>
    public string Model { get; init; } = "";

    /// <summary>Catalog version used.</summary>
    public string CatalogVersion { get; init; } = "";

    /// <summary>Spend S, USD.</summary>
    public double SpendUsd { get; init; }

    /// <summary>Capacity term, USD.</summary>
    public double CostCapacityUsd { get; init; }

    /// <summary>Energy term, USD.</summary>
    public double CostEnergyUsd { get; init; }

    /// <summary>Space and cooling term, USD.</summary>
    public double CostSpaceUsd { get; init; }

    /// <summary>DRAM tier, USD.</summary>
    public double CostTierDramUsd { get; init; }

    /// <summary>Local SSD tier, USD.</summary>
    public double CostTierLocalSsdUsd { get; init; }

    /// <summary>Remote tier, USD.</summary>
    public double CostTierRemoteUsd { get; init; }

    /// <summary>Network, USD.</summary>
    public double CostNetworkUsd { get; init; }

    /// <summary>Provisioned GPUs.</summary>
    public long Gpus { get; init; }

    /// <summary>Busy / provisioned GPU time.</summary>
    public double Utilization { get; init; }

    /// <summary>Facility energy, J.</summary>
    public double FacilityEnergyJ { get; init; }

    /// <summary>Requests finished.</summary>
    public long Requests { get; init; }

    /// <summary>Successful outputs N.</summary>
    public long SuccessfulOutputs { get; init; }

    /// <summary>Output tokens.</summary>
    public long OutputTokens { get; init; }

    /// <summary>S / N; null when N = 0.</summary>
    public double? SpendPerSuccessUsd { get; init; }

    /// <summary>USD per million output tokens.</summary>
    public double? UsdPerMOutputTokens { get; init; }

    /// <summary>USD per million tokens (input + output).</summary>
    public double? UsdPerMTotalTokens { get; init; }

    /// <summary>Output tokens per facility joule.</summary>
    public double? OutputTokensPerJoule { get; init; }

    /// <summary>Successful outputs per facility kWh.</summary>
    public double? SuccessesPerKwh { get; init; }

    /// <summary>No successful output in the window.</summary>
    public bool NoSuccess { get; init; }

    /// <summary>Cache value, USD, per tier.</summary>
    public double CacheValueHbmUsd { get; init; }

    /// <summary>Cache value of the DRAM tier, USD.</summary>
    public double CacheValueDramUsd { get; init; }

    /// <summary>Cache value of the local SSD tier, USD.</summary>
    public double CacheValueLocalSsdUsd { get; init; }

    /// <summary>Cache value of the remote tier, USD.</summary>
    public double CacheValueRemoteUsd { get; init; }

    /// <summary>Remarks.</summary>
    public string Note { get; init; } = "";
}

/// <summary>The answer of <c>GET /api/efficiency</c>.</summary>
/// <param name="WindowSeconds">Window length, s.</param>
/// <param name="From">Range start (inclusive).</param>
/// <param name="To">Range end (exclusive).</param>
/// <param name="Rows">Rows, by deployment and window start (deployment rows first within a window).</param>
public sealed record EfficiencyResponse(int WindowSeconds, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<EfficiencyWindowView> Rows);

/// <summary>Source-generated JSON for the efficiency API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EfficiencyResponse))]
[JsonSerializable(typeof(ProblemList))]
public sealed partial class EfficiencyJsonContext : JsonSerializerContext;

/// <summary>Validation problems of a request.</summary>
/// <param name="Problems">Every problem.</param>
public sealed record ProblemList(IReadOnlyList<string> Problems);

/// <summary>A parsed efficiency query.</summary>
/// <param name="Deployment">Deployment filter (null = all).</param>
/// <param name="From">Start (inclusive).</param>
/// <param name="To">End (exclusive).</param>
/// <param name="WindowSeconds">Window length, s.</param>
/// <param name="Allocations">Include tenant/model rows.</param>
public sealed record EfficiencyQuery(string? Deployment, DateTimeOffset From, DateTimeOffset To, int WindowSeconds, bool Allocations)
{
    /// <summary>
    /// Parses query parameters: <c>window</c> = <c>5m</c>, <c>1h</c> or seconds (default 5m); <c>to</c> default now,
    /// <c>from</c> default 24 windows before <c>to</c>; ISO-8601 times. Every problem is listed.
    /// </summary>
    public static (EfficiencyQuery? Query, IReadOnlyList<string> Problems) Parse(string? deployment, string? from, string? to, string? window, string? allocations, DateTimeOffset now)
    {
        var problems = new List<string>();
        var seconds = ParseWindow(window);
        if (seconds is null) problems.Add($"window '{window}' is not a window length: use 5m, 1h or seconds (300, 3600)");
        DateTimeOffset? ParseTime(string? text, string name)
        {
            if (string.IsNullOrEmpty(text)) return null;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)) return t;
            problems.Add($"{name} '{text}' is not a time: use ISO-8601, e.g. 2026-12-01T10:00:00Z");
            return null;
        }

        var toTime = ParseTime(to, "to") ?? now;
        var fromTime = ParseTime(from, "from") ?? toTime.AddSeconds(-24.0 * (seconds ?? 300));
        if (fromTime >= toTime) problems.Add($"from {fromTime:O} is not before to {toTime:O}");
        var withAllocations = allocations is null || !bool.TryParse(allocations, out var a) || a;
        if (allocations is { Length: > 0 } && !bool.TryParse(allocations, out _)) problems.Add($"allocations '{allocations}' is not true or false");
        return problems.Count > 0
            ? (null, problems)
            : (new EfficiencyQuery(string.IsNullOrEmpty(deployment) ? null : deployment, fromTime, toTime, seconds!.Value, withAllocations), problems);
    }

    /// <summary><c>5m</c>, <c>1h</c>, <c>300</c> → seconds; null when not a length.</summary>
    public static int? ParseWindow(string? text) => text switch
    {
        null or "" => 300,
        _ when text.EndsWith('m') && int.TryParse(text[..^1], CultureInfo.InvariantCulture, out var m) && m > 0 => m * 60,
        _ when text.EndsWith('h') && int.TryParse(text[..^1], CultureInfo.InvariantCulture, out var h) && h > 0 => h * 3600,
        _ when int.TryParse(text, CultureInfo.InvariantCulture, out var s) && s > 0 => s,
        _ => null,
    };
}

/// <summary>Reads <c>efficiency_windows</c> for the API and the report.</summary>
public sealed class EfficiencyQueries(ClickHouseClient client, ClickHouseOptions options)
{
    private const string RowsSql = """
        SELECT window_start AS WindowStart, toInt64(window_seconds) AS WindowSeconds, deployment AS Deployment, tenant AS Tenant, model AS Model,
               catalog_version AS CatalogVersion, spend_usd AS SpendUsd, cost_capacity_usd AS CostCapacityUsd, cost_energy_usd AS CostEnergyUsd,
               cost_space_usd AS CostSpaceUsd, cost_tier_dram_usd AS CostTierDramUsd, cost_tier_local_ssd_usd AS CostTierLocalSsdUsd,
               cost_tier_remote_usd AS CostTierRemoteUsd, cost_network_usd AS CostNetworkUsd, toInt64(gpus) AS Gpus, utilization AS Utilization,
               facility_energy_j AS FacilityEnergyJ, toInt64(requests) AS Requests, toInt64(successful_outputs) AS SuccessfulOutputs,
               toInt64(output_tokens) AS OutputTokens, spend_per_success_usd AS SpendPerSuccessUsd, usd_per_m_output_tokens AS UsdPerMOutputTokens,
               usd_per_m_total_tokens AS UsdPerMTotalTokens, output_tokens_per_joule AS OutputTokensPerJoule, successes_per_kwh AS SuccessesPerKwh,
               no_success AS NoSuccess, cache_value_hbm_usd AS CacheValueHbmUsd, cache_value_dram_usd AS CacheValueDramUsd,
               cache_value_local_ssd_usd AS CacheValueLocalSsdUsd, cache_value_remote_usd AS CacheValueRemoteUsd, note AS Note
        FROM {0}.efficiency_windows FINAL
        WHERE window_seconds = @w AND window_start >= toDateTime(@fromS, 'UTC') AND window_start < toDateTime(@toS, 'UTC')
          AND (@deployment = '' OR deployment = @deployment) AND (@allocations OR tenant = '')
        ORDER BY deployment, window_start, tenant, model
        """;

    /// <summary>Rows matching <paramref name="query"/>.</summary>
    public async Task<EfficiencyResponse> ReadAsync(EfficiencyQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = client.CreateConnection();
        var rows = await connection.QueryAsync<EfficiencyWindowView>(new CommandDefinition(
            string.Format(CultureInfo.InvariantCulture, RowsSql, options.Database),
            new
            {
                w = query.WindowSeconds,
                fromS = query.From.ToUnixTimeSeconds(),
                toS = query.To.ToUnixTimeSeconds(),
                deployment = query.Deployment ?? "",
                allocations = query.Allocations,
            },
            cancellationToken: cancellationToken));
        return new EfficiencyResponse(query.WindowSeconds, query.From, query.To, [.. rows]);
    }
}
