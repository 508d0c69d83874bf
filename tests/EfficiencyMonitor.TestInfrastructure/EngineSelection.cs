namespace EfficiencyMonitor.TestInfrastructure;

/// <summary>Where the real engines of a test run come from.</summary>
public enum EngineSource
{
    /// <summary><c>EM_CLICKHOUSE_URL</c> and <c>EM_KAFKA_BOOTSTRAP</c> name running engines.</summary>
    Environment,

    /// <summary>A Docker engine answers: official ClickHouse and Apache Kafka images through Testcontainers.</summary>
    Testcontainers,

    /// <summary>No Docker: the embedded sandbox (chDB + librdkafka's mock cluster), started once per run.</summary>
    Sandbox,
}

/// <summary>The fixture's choice, in order: environment → Docker → sandbox.</summary>
public static class EngineSelection
{
    /// <summary>Environment variable naming a running ClickHouse HTTP endpoint.</summary>
    public const string ClickHouseVariable = "EM_CLICKHOUSE_URL";

    /// <summary>Environment variable naming a running Kafka bootstrap list.</summary>
    public const string KafkaVariable = "EM_KAFKA_BOOTSTRAP";

    /// <summary>
    /// Picks the source. Both variables must be set to use the environment (one alone is a configuration mistake and
    /// is reported as such); the Docker probe is only called when the environment does not decide.
    /// </summary>
    public static EngineSource Choose(Func<string, string?> environment, Func<bool> dockerAnswers)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(dockerAnswers);
        var clickHouse = environment(ClickHouseVariable);
        var kafka = environment(KafkaVariable);
        var hasClickHouse = !string.IsNullOrWhiteSpace(clickHouse);
        var hasKafka = !string.IsNullOrWhiteSpace(kafka);
        if (hasClickHouse && hasKafka) return EngineSource.Environment;
        if (hasClickHouse != hasKafka)
        {
            throw new InvalidOperationException(
                $"Only {(hasClickHouse ? ClickHouseVariable : KafkaVariable)} is set: set both {ClickHouseVariable} and {KafkaVariable}, or neither to let the tests start engines");
        }

        return dockerAnswers() ? EngineSource.Testcontainers : EngineSource.Sandbox;
    }
}
