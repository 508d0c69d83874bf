using EfficiencyMonitor.Ingestion;

namespace EfficiencyMonitor.UnitTests.Ingestion;

public sealed class IngestionOptionsTests
{
    [Fact]
    public void KafkaValidate_Defaults_Succeed()
    {
        Assert.True(new KafkaOptionsValidator().Validate(null, new KafkaOptions()).Succeeded);
    }

    [Fact]
    public void KafkaValidate_ManyProblems_ListsEachWithItsSettingAndFix()
    {
        var options = new KafkaOptions
        {
            BootstrapServers = "nohost",
            GroupId = " ",
            DeadLetterTopic = "inference-requests",
            SecurityProtocol = "SaslSsl",
            SaslMechanism = "ScramSha512",
            SessionTimeoutMs = 500,
        };
        var failures = new KafkaOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Kafka:BootstrapServers 'nohost'", StringComparison.Ordinal) && f.Contains("EM_KAFKA_BOOTSTRAP", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kafka:GroupId", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("three different topics", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kafka:SaslUsername and Kafka:SaslPassword are required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kafka:SessionTimeoutMs 500", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kafka:HeartbeatIntervalMs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Tls")]
    [InlineData("")]
    public void KafkaValidate_UnknownSecurityProtocol_NamesTheChoices(string protocol)
    {
        var failures = new KafkaOptionsValidator().Validate(null, new KafkaOptions { SecurityProtocol = protocol }).Failures!;
        Assert.Contains(failures, f => f.Contains("Plaintext, Ssl, SaslPlaintext or SaslSsl", StringComparison.Ordinal));
    }

    [Fact]
    public void KafkaToString_WithSecrets_NeverShowsThem()
    {
        var options = new KafkaOptions { SecurityProtocol = "SaslSsl", SaslMechanism = "Plain", SaslUsername = "svc", SaslPassword = "hunter2-secret", SslKeyPassword = "key-secret" };
        var text = options.ToString();
        Assert.DoesNotContain("hunter2-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("key-secret", text, StringComparison.Ordinal);
        Assert.Contains("password=***", text, StringComparison.Ordinal);
    }

    [Fact]
    public void KafkaApplyTo_SecurityAndPassThrough_ReachTheClientConfig()
    {
        var options = new KafkaOptions
        {
            SecurityProtocol = "SaslSsl",
            SaslMechanism = "ScramSha256",
            SaslUsername = "svc",
            SaslPassword = "pw",
            SslCaLocation = "/etc/ca.pem",
            Properties = { ["socket.keepalive.enable"] = "true" },
        };
        var config = new Confluent.Kafka.ConsumerConfig();
        options.ApplyTo(config);
        Assert.Equal(Confluent.Kafka.SecurityProtocol.SaslSsl, config.SecurityProtocol);
        Assert.Equal(Confluent.Kafka.SaslMechanism.ScramSha256, config.SaslMechanism);
        Assert.Equal("pw", config.SaslPassword);
        Assert.Equal("/etc/ca.pem", config.SslCaLocation);
        Assert.Equal("true", config.Get("socket.keepalive.enable"));
    }

    [Fact]
    public void GroupIdFor_Topic_OneGroupPerTopic()
    {
        var kafka = new KafkaOptions { GroupId = "em" };
        Assert.Equal("em.inference-requests", TopicIngestor<Core.Telemetry.InferenceRequestRow>.GroupIdFor(kafka, "inference-requests"));
        Assert.NotEqual(
            TopicIngestor<Core.Telemetry.InferenceRequestRow>.GroupIdFor(kafka, "inference-requests"),
            TopicIngestor<Core.Telemetry.GpuPowerRow>.GroupIdFor(kafka, "gpu-power"));
    }

    [Fact]
    public void IngestionValidate_BadKnobs_ListsEveryOne()
    {
        var options = new IngestionOptions
        {
            BatchMaxRows = 0,
            BatchMaxBytes = 10,
            BatchMaxDelay = TimeSpan.Zero,
            InsertRetryInitialBackoff = TimeSpan.FromSeconds(2),
            InsertRetryMaxBackoff = TimeSpan.FromSeconds(1),
            ShutdownTimeout = TimeSpan.Zero,
        };
        var failures = new IngestionOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Equal(5, failures.Count);
        Assert.All(failures, f => Assert.StartsWith("Ingestion:", f, StringComparison.Ordinal));
    }

    [Fact]
    public void IngestionValidate_Defaults_Succeed()
    {
        Assert.True(new IngestionOptionsValidator().Validate(null, new IngestionOptions()).Succeeded);
    }
}
