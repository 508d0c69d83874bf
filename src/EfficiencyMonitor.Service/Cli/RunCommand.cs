using System.CommandLine;

namespace EfficiencyMonitor.Service.Cli;

/// <summary><c>efficiency-monitor run</c>: the service.</summary>
internal static class RunCommand
{
    internal static readonly Option<string> Urls = new("--urls")
    {
        Description = $"Where /metrics, /healthz, /readyz and /api/* listen (default {ServiceHost.DefaultUrls}; loopback unless you choose otherwise; set Api:Key / EM_API_KEY before listening beyond it).",
        DefaultValueFactory = _ => ServiceHost.DefaultUrls,
    };

    public static Command Create()
    {
        var command = new Command("run", "Run the service: apply migrations, ingest Kafka telemetry into ClickHouse (nothing lost, nothing doubled), expose /metrics, /healthz, /readyz. Endpoints from configuration or EM_CLICKHOUSE_URL / EM_KAFKA_BOOTSTRAP.")
        {
            Urls,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            await using var app = ServiceHost.Build(parse.GetValue(Urls)!);
            await app.RunAsync(cancellationToken);
            return 0;
        }));
        return command;
    }
}
