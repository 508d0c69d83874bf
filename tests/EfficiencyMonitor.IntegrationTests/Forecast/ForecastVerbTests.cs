using System.Text.Json;
using System.Text.RegularExpressions;
using ClickHouse.Driver.ADO;
using Dapper;
using EfficiencyMonitor.Storage;
using EfficiencyMonitor.Storage.Migrations;
using EfficiencyMonitor.TestInfrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace EfficiencyMonitor.IntegrationTests.Forecast;

/// <summary>
/// The real binary: <c>forecast create</c> against a migrated ClickHouse database, <c>show</c> before and after a
/// validated window, <c>list</c>, and the offline <c>what-if</c> (file variant and <c>--model</c>).
/// </summary>
public sealed partial class ForecastVerbTests(ITestOutputHelper output)
{
    private static string Repo(params string[] parts) => Path.Combine([ServiceProcess.RepositoryRoot, .. parts]);

    private async Task<(string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string>? environment, int expectedExit, params string[] arguments)
    {
        await using var process = ServiceProcess.Start(arguments, environment);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"$ efficiency-monitor {string.Join(' ', arguments)}  (exit {exit})\n{process.Stdout}{process.Stderr}");
        Assert.True(expectedExit == exit, $"exit {exit}, expected {expectedExit}:\n{process.Stdout}\n{process.Stderr}");
        return (process.Stdout, process.Stderr);
    }

    [Fact]
    public async Task Create_Show_List_AgainstClickHouse_ThenAValidatedWindowShows()
    {
        var endpoints = await TestEngines.GetAsync();
        var options = new ClickHouseOptions { Url = endpoints.ClickHouseUrl.ToString(), Database = $"fc_{Guid.NewGuid():N}"[..20] };
        await new MigrationRunner(options, NullLogger<MigrationRunner>.Instance).ApplyAsync(CancellationToken.None);
        var environment = new Dictionary<string, string>
        {
            ["EM_CLICKHOUSE_URL"] = endpoints.ClickHouseUrl.ToString(),
            ["EM_ClickHouse__Database"] = options.Database,
        };
        var file = Repo("deploy", "forecasts", "llama-chat-2027q1.yaml");

        var created = await RunAsync(environment, 0, "forecast", "create", file);
        var id = CreatedId().Match(created.Stdout).Groups[1].Value;
        Assert.Matches("^llama-chat-2027q1-[0-9a-f]{10}$", id);
        Assert.Contains("predicted spend per successful output", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("GPUs needed", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("break-even GB/s", created.Stdout, StringComparison.Ordinal);
        Assert.Contains("stored the embedded catalog", created.Stderr, StringComparison.Ordinal); // a fresh database has none

        await using var connection = new ClickHouseConnection(options.ToConnectionString());
        await connection.OpenAsync();
        var scenario = await connection.ExecuteScalarAsync<string>($"SELECT scenario FROM {options.Database}.forecasts FINAL WHERE forecast_id = @id", new { id });
        using (var json = JsonDocument.Parse(scenario!))
        {
            Assert.Equal("2026.12.3", json.RootElement.GetProperty("catalog_version").GetString());
            Assert.Equal(60, json.RootElement.GetProperty("requests_per_second").GetDouble());
        }

        var again = await RunAsync(environment, 0, "forecast", "create", file);
        Assert.Contains("already stored", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(1UL, await connection.ExecuteScalarAsync<ulong>($"SELECT count() FROM {options.Database}.forecasts FINAL"));

        var shown = await RunAsync(environment, 0, "forecast", "show", id);
        Assert.Contains(id, shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("no window validated yet", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("predicted spend per successful output", shown.Stdout, StringComparison.Ordinal);

        var byName = await RunAsync(environment, 0, "forecast", "show", "llama-chat-2027q1", "--json");
        using (var json = JsonDocument.Parse(byName.Stdout))
        {
            Assert.Equal(id, json.RootElement.GetProperty("forecast").GetProperty("forecast_id").GetString());
            Assert.True(json.RootElement.GetProperty("evaluation").GetProperty("spend_per_success_usd").GetDouble() > 0);
            Assert.Equal(0, json.RootElement.GetProperty("validation").GetArrayLength());
        }

        var listed = await RunAsync(environment, 0, "forecast", "list");
        Assert.Contains(id, listed.Stdout, StringComparison.Ordinal);
        var listedJson = await RunAsync(environment, 0, "forecast", "list", "--json");
        using (var json = JsonDocument.Parse(listedJson.Stdout))
            Assert.Equal(id, json.RootElement[0].GetProperty("forecast_id").GetString());

        // One validated window, as the validation runner writes it.
        await connection.ExecuteAsync($"""
            INSERT INTO {options.Database}.forecast_validation
                (forecast_id, window_seconds, deployment, window_start, catalog_version, requests, successful_outputs,
                 realized_work_spend_per_success_usd, plan_spend_per_success_usd, model_error, efficiency_drift_ratio, utilization_log_ratio,
                 factors, top_factor, explanation, rolling_model_mape, rolling_plan_mape, rolling_plan_bias, within_tolerance, computed_at)
            VALUES (@id, 300, 'llama-70b-chat-prod', toDateTime('2027-01-01 00:05:00', 'UTC'), '2026.12.3', 18000, 17280,
                    0.00265, 0.0025, 0.02, 0.06, 0.0, map('reasoning_depth', 0.058), 'reasoning_depth', 'reasoning depth +6% (310 -> 329 output tokens)',
                    0.02, 0.06, 0.06, true, now64(3))
            """, new { id });

        var validated = await RunAsync(environment, 0, "forecast", "show", id);
        Assert.DoesNotContain("no window validated yet", validated.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 window(s) validated", validated.Stdout, StringComparison.Ordinal);
        Assert.Contains("rolling plan MAPE 6.0", validated.Stdout, StringComparison.Ordinal);
        Assert.Contains("within tolerance (±10", validated.Stdout, StringComparison.Ordinal);
        Assert.Contains("reasoning_depth", validated.Stdout, StringComparison.Ordinal);

        var missing = await RunAsync(environment, 2, "forecast", "show", "no-such-forecast");
        Assert.Contains("forecast list", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_InvalidFile_ListsEveryProblemAndExits2()
    {
        var path = Path.Combine(Path.GetTempPath(), $"forecast-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(path, """
            name: broken
            deployment: llama-70b-chat-prod
            horizon: { from: 2027-01-01T00:00:00Z, to: 2027-04-01T00:00:00Z }
            requests_per_second: 0
            success_rate: 0.9
            classes:
              - { share: 0.6, input_tokens: 100, output_tokens: 10 }
            """);
        try
        {
            // Validation comes before any ClickHouse access: no endpoint needed to be told what is wrong.
            var result = await RunAsync(null, 2, "forecast", "create", path);
            Assert.Contains("requests_per_second", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("neither fleet nor utilization", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("shares sum to 0.6", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WhatIf_ModelAndFileVariant_Offline()
    {
        var model = await RunAsync(null, 0, "forecast", "what-if", "--model", "Llama-3.1-70B-Instruct", "--kv-dtype", "fp16", "--gpu-type", "H100-SXM5-80GB");
        Assert.Contains("327,680", model.Stdout, StringComparison.Ordinal);
        Assert.Contains("critical", model.Stdout, StringComparison.Ordinal);

        var fp8 = await RunAsync(null, 0, "forecast", "what-if", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--kv-dtype", "fp8");
        Assert.Contains("163,840", fp8.Stdout, StringComparison.Ordinal);

        var variant = await RunAsync(null, 0, "forecast", "what-if", Repo("deploy", "forecasts", "llama-chat-2027q1.yaml"),
            "--hit-rate", "dram=+10", "--reasoning-factor", "1.5", "--catalog-dir", Repo("deploy", "catalog"));
        Assert.Contains("dram hit rate +10 points", variant.Stdout, StringComparison.Ordinal);
        Assert.Contains("spend per successful output", variant.Stdout, StringComparison.Ordinal);
        Assert.Contains("break-even GB/s dram", variant.Stdout, StringComparison.Ordinal);

        var json = await RunAsync(null, 0, "forecast", "what-if", Repo("deploy", "forecasts", "deepseek-v3-agent-2027q1.yaml"), "--gpu-type", "MI300X-OAM-192GB", "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("MI300X-OAM-192GB", doc.RootElement.GetProperty("variant").GetProperty("gpu_type").GetString());
        Assert.Equal("H200-SXM-141GB", doc.RootElement.GetProperty("baseline").GetProperty("gpu_type").GetString());

        await RunAsync(null, 2, "forecast", "what-if", Repo("deploy", "forecasts", "llama-chat-2027q1.yaml"), "--gpu-type", "TPU-v9");
    }

    [GeneratedRegex(@"forecast (\S+) (?:stored|was already stored)")]
    private static partial Regex CreatedId();
}
