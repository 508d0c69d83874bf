using EfficiencyMonitor.Ingestion;
using EfficiencyMonitor.Storage;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Service.Configuration;

/// <summary>
/// Configuration for every verb: <c>appsettings.json</c> beside the binary, then environment variables
/// (<c>EM_Section__Key</c>), then the variables that override everything (<c>EM_CLICKHOUSE_URL</c>,
/// <c>EM_KAFKA_BOOTSTRAP</c>, <c>EM_API_KEY</c>), then command-line options.
/// </summary>
public static class ServiceConfiguration
{
    /// <summary>Environment variable that overrides <c>Kafka:BootstrapServers</c> everywhere.</summary>
    public const string KafkaBootstrapEnvironmentVariable = "EM_KAFKA_BOOTSTRAP";

    /// <summary>Adds the product's sources, in precedence order, to <paramref name="builder"/>.</summary>
    public static IConfigurationBuilder AddEfficiencyMonitorSources(this IConfigurationBuilder builder, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        builder.AddEnvironmentVariables("EM_");
        var endpoints = new Dictionary<string, string?>();
        if (Environment.GetEnvironmentVariable(ClickHouseOptions.UrlEnvironmentVariable) is { Length: > 0 } url)
        {
            endpoints[$"{ClickHouseOptions.SectionName}:Url"] = url;
        }

        if (Environment.GetEnvironmentVariable(KafkaBootstrapEnvironmentVariable) is { Length: > 0 } kafka)
        {
            endpoints["Kafka:BootstrapServers"] = kafka;
        }

        if (Environment.GetEnvironmentVariable(ApiOptions.KeyEnvironmentVariable) is { Length: > 0 } apiKey)
        {
            endpoints[$"{ApiOptions.SectionName}:Key"] = apiKey;
        }

        builder.AddInMemoryCollection(endpoints);
        if (overrides is { Count: > 0 })
        {
            builder.AddInMemoryCollection(overrides);
        }

        return builder;
    }

    /// <summary>Builds the configuration a CLI verb runs with.</summary>
    public static IConfigurationRoot Build(IReadOnlyDictionary<string, string?>? overrides = null) =>
        new ConfigurationBuilder().AddEfficiencyMonitorSources(overrides).Build();

    /// <summary>Binds and validates <see cref="ClickHouseOptions"/>; throws <see cref="OptionsValidationException"/> listing every problem.</summary>
    public static ClickHouseOptions ClickHouse(IConfiguration configuration)
    {
        var options = configuration.GetSection(ClickHouseOptions.SectionName).Get<ClickHouseOptions>() ?? new ClickHouseOptions();
        var result = new ClickHouseOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(ClickHouseOptions.SectionName, typeof(ClickHouseOptions), result.Failures);
        }

        return options;
    }

    /// <summary>Binds and validates <see cref="KafkaOptions"/>; throws <see cref="OptionsValidationException"/> listing every problem.</summary>
    public static KafkaOptions Kafka(IConfiguration configuration)
    {
        var options = configuration.GetSection(KafkaOptions.SectionName).Get<KafkaOptions>() ?? new KafkaOptions();
        var result = new KafkaOptionsValidator().Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(KafkaOptions.SectionName, typeof(KafkaOptions), result.Failures);
        }

        return options;
    }
}
