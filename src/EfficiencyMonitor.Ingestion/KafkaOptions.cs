using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Ingestion;

/// <summary>How to reach Kafka (section <c>Kafka</c>; <c>EM_KAFKA_BOOTSTRAP</c> overrides the bootstrap list).</summary>
public sealed class KafkaOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated <c>host:port</c> list.</summary>
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary>Prefix of the ingestion consumer groups: one group per topic, <c>{GroupId}.{topic}</c>.</summary>
    public string GroupId { get; set; } = "efficiency-monitor";

    /// <summary>Topic of per-request records.</summary>
    public string RequestsTopic { get; set; } = "inference-requests";

    /// <summary>Topic of per-GPU power samples.</summary>
    public string PowerTopic { get; set; } = "gpu-power";

    /// <summary>Topic that receives every rejected record with its reason.</summary>
    public string DeadLetterTopic { get; set; } = "telemetry-dead-letter";

    /// <summary><c>Plaintext</c>, <c>Ssl</c>, <c>SaslPlaintext</c> or <c>SaslSsl</c>.</summary>
    public string SecurityProtocol { get; set; } = "Plaintext";

    /// <summary><c>Plain</c>, <c>ScramSha256</c>, <c>ScramSha512</c>, <c>Gssapi</c> or <c>OAuthBearer</c> (SASL only).</summary>
    public string? SaslMechanism { get; set; }

    /// <summary>SASL user name.</summary>
    public string? SaslUsername { get; set; }

    /// <summary>SASL password (never logged).</summary>
    public string? SaslPassword { get; set; }

    /// <summary>CA bundle for TLS.</summary>
    public string? SslCaLocation { get; set; }

    /// <summary>Client certificate for mutual TLS.</summary>
    public string? SslCertificateLocation { get; set; }

    /// <summary>Client key for mutual TLS.</summary>
    public string? SslKeyLocation { get; set; }

    /// <summary>Password of the client key (never logged).</summary>
    public string? SslKeyPassword { get; set; }

    /// <summary>Consumer session timeout; a crashed consumer's partitions move after this long.</summary>
    public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>Consumer heartbeat interval (a third of the session timeout or less).</summary>
    public int HeartbeatIntervalMs { get; set; } = 3_000;

    /// <summary>Any other librdkafka property, passed through as is (e.g. <c>"socket.keepalive.enable": "true"</c>).</summary>
    public Dictionary<string, string> Properties { get; set; } = [];

    /// <summary>Applies connection and security settings to a Confluent client config.</summary>
    public void ApplyTo(ClientConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.BootstrapServers = BootstrapServers;
        config.SecurityProtocol = Enum.Parse<SecurityProtocol>(SecurityProtocol, ignoreCase: true);
        if (SaslMechanism is { Length: > 0 }) config.SaslMechanism = Enum.Parse<SaslMechanism>(SaslMechanism, ignoreCase: true);
        if (SaslUsername is { Length: > 0 }) config.SaslUsername = SaslUsername;
        if (SaslPassword is { Length: > 0 }) config.SaslPassword = SaslPassword;
        if (SslCaLocation is { Length: > 0 }) config.SslCaLocation = SslCaLocation;
        if (SslCertificateLocation is { Length: > 0 }) config.SslCertificateLocation = SslCertificateLocation;
        if (SslKeyLocation is { Length: > 0 }) config.SslKeyLocation = SslKeyLocation;
        if (SslKeyPassword is { Length: > 0 }) config.SslKeyPassword = SslKeyPassword;
        foreach (var (key, value) in Properties) config.Set(key, value);
    }

    /// <summary>A description safe to log: secrets are replaced by <c>***</c>.</summary>
    public override string ToString() =>
        $"bootstrap={BootstrapServers} group={GroupId} topics={RequestsTopic},{PowerTopic} dead-letter={DeadLetterTopic} security={SecurityProtocol}" +
        (SaslMechanism is { Length: > 0 } ? $" sasl={SaslMechanism} user={SaslUsername} password={(string.IsNullOrEmpty(SaslPassword) ? "(none)" : "***")}" : "");
}

/// <summary>Validates <see cref="KafkaOptions"/>, listing every problem with the setting to change.</summary>
public sealed class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var servers = (options.BootstrapServers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (servers.Length == 0 || servers.Any(s => !IsHostPort(s)))
        {
            failures.Add($"Kafka:BootstrapServers '{options.BootstrapServers}' is not a host:port list: set it (or EM_KAFKA_BOOTSTRAP) to e.g. 127.0.0.1:9092");
        }

        if (string.IsNullOrWhiteSpace(options.GroupId)) failures.Add("Kafka:GroupId is empty: set a consumer group name (e.g. efficiency-monitor)");
        foreach (var (setting, topic) in new[] { ("RequestsTopic", options.RequestsTopic), ("PowerTopic", options.PowerTopic), ("DeadLetterTopic", options.DeadLetterTopic) })
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Length > 249 || topic.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            {
                failures.Add($"Kafka:{setting} '{topic}' is not a valid topic name: use 1-249 characters of [a-zA-Z0-9._-]");
            }
        }

        if (options.DeadLetterTopic == options.RequestsTopic || options.DeadLetterTopic == options.PowerTopic || options.RequestsTopic == options.PowerTopic)
        {
            failures.Add("Kafka:RequestsTopic, PowerTopic and DeadLetterTopic must be three different topics: rejected records must not loop back into ingestion");
        }

        if (!Enum.TryParse<SecurityProtocol>(options.SecurityProtocol, ignoreCase: true, out var protocol))
        {
            failures.Add($"Kafka:SecurityProtocol '{options.SecurityProtocol}' is unknown: use Plaintext, Ssl, SaslPlaintext or SaslSsl");
        }
        else if (protocol is Confluent.Kafka.SecurityProtocol.SaslPlaintext or Confluent.Kafka.SecurityProtocol.SaslSsl)
        {
            if (!Enum.TryParse<SaslMechanism>(options.SaslMechanism, ignoreCase: true, out var mechanism))
            {
                failures.Add($"Kafka:SaslMechanism '{options.SaslMechanism}' is missing or unknown for {options.SecurityProtocol}: use Plain, ScramSha256, ScramSha512, Gssapi or OAuthBearer");
            }
            else if (mechanism is Confluent.Kafka.SaslMechanism.Plain or Confluent.Kafka.SaslMechanism.ScramSha256 or Confluent.Kafka.SaslMechanism.ScramSha512
                     && (string.IsNullOrEmpty(options.SaslUsername) || string.IsNullOrEmpty(options.SaslPassword)))
            {
                failures.Add($"Kafka:SaslUsername and Kafka:SaslPassword are required with SASL {options.SaslMechanism}: set both (e.g. EM_Kafka__SaslPassword from a secret)");
            }
        }

        if (options.SessionTimeoutMs is < 1_000 or > 300_000) failures.Add($"Kafka:SessionTimeoutMs {options.SessionTimeoutMs} is out of range: use 1000..300000");
        if (options.HeartbeatIntervalMs <= 0 || options.HeartbeatIntervalMs * 3 > options.SessionTimeoutMs)
        {
            failures.Add($"Kafka:HeartbeatIntervalMs {options.HeartbeatIntervalMs} must be positive and at most a third of Kafka:SessionTimeoutMs ({options.SessionTimeoutMs})");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), out var port) && port is > 0 and < 65536;
    }
}
