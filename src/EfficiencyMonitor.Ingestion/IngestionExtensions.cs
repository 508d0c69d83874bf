using EfficiencyMonitor.Core.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Ingestion;

/// <summary>Registers the Kafka → ClickHouse pipeline.</summary>
public static class IngestionExtensions
{
    /// <summary>Binds and validates the <c>Kafka</c>, <c>Ingestion</c> and <c>TelemetryDecoder</c> sections and hosts the consumers.</summary>
    public static IHostApplicationBuilder AddIngestion(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>();
        builder.Services.AddOptions<IngestionOptions>().BindConfiguration(IngestionOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<IngestionOptions>, IngestionOptionsValidator>();
        builder.Services.AddOptions<TelemetryDecoderOptions>().BindConfiguration(TelemetryDecoderOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelemetryDecoderOptions>, TelemetryDecoderOptionsValidator>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<IngestionMetrics>();
        builder.Services.AddHostedService<IngestionService>();
        return builder;
    }

    private sealed class TelemetryDecoderOptionsValidator : IValidateOptions<TelemetryDecoderOptions>
    {
        public ValidateOptionsResult Validate(string? name, TelemetryDecoderOptions options)
        {
            var failures = options.Validate();
            return failures.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(failures.Select(f => f.StartsWith("TelemetryDecoder:", StringComparison.Ordinal) ? f : $"TelemetryDecoder: {f}"));
        }
    }
}
