using System.Globalization;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace EfficiencyMonitor.Sandbox.Kafka;

/// <summary>
/// librdkafka's mock cluster (real Kafka wire protocol, in memory) created through the native API of the
/// <c>librdkafka.so</c> that Confluent.Kafka ships, so no broker, JVM or Docker is needed.
/// For laptops and CI only: data lives in memory and is lost on <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>What the mock supports.</b> Produce (idempotent and transactional too, all codecs), fetch, metadata,
/// topic auto-creation (always 4 partitions), consumer groups (classic and KIP-848 <c>group.protocol=consumer</c>)
/// with offset commits that survive a consumer restart. Any process on the machine can connect — Confluent.Kafka
/// clients, <c>kcat</c>, ClickHouse's Kafka engine.
/// </para>
/// <para>
/// <b>What it does not.</b> Admin CreateTopics/DeleteTopics/CreatePartitions/DescribeConfigs/DescribeCluster time
/// out (create topics with <see cref="CreateTopic"/> instead); DescribeConsumerGroups is unsupported;
/// <b>Admin ListConsumerGroups crashes the client process — never call it</b>. No SSL/SASL.
/// <b>Retention is 5 MiB or 100,000 batches per partition; older data is silently dropped</b>: spread volume
/// over many partitions or consume while producing.
/// </para>
/// <para>
/// <b>Fast rebalances.</b> The cluster is created with <c>group.initial.rebalance.delay.ms = 0</c> (the broker
/// default of 3 s would otherwise delay every first join) and, for the KIP-848 protocol, a 500 ms heartbeat
/// interval and 3 s session timeout. A classic-protocol consumer must in addition use
/// <c>SessionTimeoutMs = 3000</c> and <c>HeartbeatIntervalMs = 500</c> (see <see cref="UseFastRebalance"/>):
/// a member joining or leaving then settles in about 2 s instead of about 44 s at librdkafka's defaults (the
/// mock waits up to the session timeout for every known member to rejoin). <c>GroupProtocol = Consumer</c>
/// settles in about 1 s and needs no client-side timeouts (the broker dictates them).
/// </para>
/// <para>
/// <b>Addresses.</b> Each mock broker listens on its own random 127.0.0.1 port (<see cref="Bootstraps"/>) and
/// advertises that address in metadata. A client that bootstraps through a <see cref="TcpForwarder"/> on a fixed
/// port therefore makes its first request through the forwarder and then talks to the broker's own port
/// directly — fine on one machine. <see cref="AdvertiseBroker"/> makes a broker advertise the forwarder instead,
/// so every byte flows through the fixed port (needed only when the random port is not reachable).
/// </para>
/// <para>Thread-safe; the native calls hand their work to the mock's own thread.</para>
/// </remarks>
public sealed class MockKafkaCluster : IDisposable
{
    /// <summary>Classic-protocol session timeout that lets the mock settle a rebalance in about 2 s.</summary>
    public const int FastSessionTimeoutMs = 3000;

    /// <summary>Classic-protocol heartbeat interval paired with <see cref="FastSessionTimeoutMs"/>.</summary>
    public const int FastHeartbeatIntervalMs = 500;

    private readonly Lock _gate = new();
    private readonly LibrdkafkaMock _lib;
    private nint _handle;
    private nint _cluster;

    private MockKafkaCluster(LibrdkafkaMock lib, nint handle, nint cluster, int brokers, string bootstraps)
    {
        _lib = lib;
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokers;
        Bootstraps = bootstraps;
    }

    /// <summary>The mock's own bootstrap list (<c>127.0.0.1:port</c> per broker, comma-separated; random ports).</summary>
    public string Bootstraps { get; }

    /// <summary>Number of brokers; their ids are 1 to <see cref="BrokerCount"/>.</summary>
    public int BrokerCount { get; }

    /// <summary>Version of the librdkafka that runs the mock (and Confluent.Kafka's clients), e.g. <c>2.16.0</c>.</summary>
    public static unsafe string LibrdkafkaVersion => Marshal.PtrToStringUTF8((nint)LibrdkafkaMock.Get().VersionStr()) ?? "";

    /// <summary>The librdkafka file in use: the one Confluent.Kafka loaded (e.g. <c>runtimes/linux-x64/native/centos8-librdkafka.so</c> on Debian 12).</summary>
    public static string LibrdkafkaPath => LibrdkafkaMock.Get().LoadedFrom;

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers with fast group rebalances.</summary>
    /// <param name="brokers">Number of brokers, 1 or more; replication factor of created topics is capped at it.</param>
    /// <exception cref="SandboxException">librdkafka is missing or the cluster cannot start.</exception>
    public static unsafe MockKafkaCluster Start(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var lib = LibrdkafkaMock.Get();

        var conf = lib.ConfNew();
        // The owning handle never connects anywhere: silence its "no bootstrap.servers" warning but keep errors.
        SetConf(lib, conf, "log_level", "3");
        SetConf(lib, conf, "client.id", "efficiency-monitor-mock-owner");

        var errstr = stackalloc byte[512];
        var handle = lib.New(LibrdkafkaMock.ProducerType, conf, errstr, 512);
        if (handle == 0)
        {
            // On failure rd_kafka_new leaves the configuration with the caller.
            lib.ConfDestroy(conf);
            throw new SandboxException(
                $"librdkafka could not create the mock cluster's owner handle ({Marshal.PtrToStringUTF8((nint)errstr)}): check the librdkafka shipped with Confluent.Kafka");
        }

        var cluster = lib.ClusterNew(handle, brokers);
        if (cluster == 0)
        {
            lib.Destroy(handle);
            throw new SandboxException(
                "librdkafka could not start the mock cluster (it binds random ports on 127.0.0.1): check that the loopback interface is up and ports are available");
        }

        lib.GroupInitialRebalanceDelayMs(cluster, 0);
        if (lib.SetGroupConsumerHeartbeatIntervalMs != null)
        {
            lib.SetGroupConsumerHeartbeatIntervalMs(cluster, FastHeartbeatIntervalMs);
        }

        if (lib.SetGroupConsumerSessionTimeoutMs != null)
        {
            lib.SetGroupConsumerSessionTimeoutMs(cluster, FastSessionTimeoutMs);
        }

        var bootstraps = Marshal.PtrToStringUTF8((nint)lib.ClusterBootstraps(cluster)) ?? "";
        return new MockKafkaCluster(lib, handle, cluster, brokers, bootstraps);
    }

    /// <summary>
    /// Sets the classic-protocol timeouts that make rebalances against the mock take about 2 s
    /// (<see cref="FastSessionTimeoutMs"/>, <see cref="FastHeartbeatIntervalMs"/>). Harmless against a real broker
    /// on a healthy network, but too tight for production.
    /// </summary>
    /// <returns><paramref name="config"/>, for chaining.</returns>
    public static ConsumerConfig UseFastRebalance(ConsumerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.SessionTimeoutMs = FastSessionTimeoutMs;
        config.HeartbeatIntervalMs = FastHeartbeatIntervalMs;
        return config;
    }

    /// <summary>Creates <paramref name="topic"/> with <paramref name="partitions"/> partitions.</summary>
    /// <param name="topic">Topic name (Kafka's rules: up to 249 of <c>[a-zA-Z0-9._-]</c>).</param>
    /// <param name="partitions">Partition count, 1 or more.</param>
    /// <param name="replicationFactor">Replicas per partition; 1 or more, at most <see cref="BrokerCount"/>.</param>
    /// <exception cref="SandboxException">The topic exists already or the mock refused it.</exception>
    public unsafe void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicationFactor, BrokerCount);

        var name = LibrdkafkaMock.Utf8Z(topic);
        int err;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == 0, this);
            fixed (byte* p = name)
            {
                err = _lib.TopicCreate(_cluster, p, partitions, replicationFactor);
            }
        }

        if (err == (int)ErrorCode.TopicAlreadyExists)
        {
            throw new SandboxException(
                $"topic {topic} already exists in the mock cluster (created earlier, or auto-created with 4 partitions by a client that used it first): create topics before clients touch them, or pick another name");
        }

        if (err != 0)
        {
            throw new SandboxException(
                $"the mock cluster refused topic {topic} with {partitions} partitions ({_lib.ErrorText(err)}): check the name and partition count");
        }
    }

    /// <summary>
    /// Makes broker <paramref name="brokerId"/> advertise <paramref name="host"/>:<paramref name="port"/> in metadata
    /// (it keeps listening on its own port), e.g. a <see cref="TcpForwarder"/> in front of it, so clients send all
    /// traffic through that address. Clients connected before the call learn it on their next metadata refresh.
    /// </summary>
    /// <exception cref="SandboxException">The librdkafka in use lacks the call.</exception>
    public unsafe void AdvertiseBroker(int brokerId, string host, int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokerId, BrokerCount);
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (_lib.BrokerSetHostPort == null)
        {
            throw new SandboxException(
                $"librdkafka {LibrdkafkaVersion} cannot change a mock broker's advertised address: bootstrap through the forwarder and let clients reach the broker's own port");
        }

        var name = LibrdkafkaMock.Utf8Z(host);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == 0, this);
            fixed (byte* p = name)
            {
                _lib.BrokerSetHostPort(_cluster, brokerId, p, port);
            }
        }
    }

    /// <summary>Takes broker <paramref name="brokerId"/> down (connections dropped, new ones refused) or back up: broker-loss tests.</summary>
    /// <exception cref="SandboxException">The librdkafka in use lacks the call.</exception>
    public unsafe void SetBrokerUp(int brokerId, bool up)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(brokerId, BrokerCount);
        var call = up ? _lib.BrokerSetUp : _lib.BrokerSetDown;
        if (call == null)
        {
            throw new SandboxException($"librdkafka {LibrdkafkaVersion} cannot take a mock broker down or up: use a newer librdkafka");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == 0, this);
            var err = call(_cluster, brokerId);
            if (err != 0) throw new SandboxException($"the mock cluster refused to set broker {brokerId} {(up ? "up" : "down")} ({_lib.ErrorText(err)})");
        }
    }

    /// <summary>Destroys the cluster (closing every client connection to it), then its owning handle.</summary>
    public void Dispose()
    {
        nint cluster;
        nint handle;
        lock (_gate)
        {
            cluster = _cluster;
            handle = _handle;
            _cluster = 0;
            _handle = 0;
        }

        unsafe
        {
            if (cluster != 0)
            {
                _lib.ClusterDestroy(cluster);
            }

            if (handle != 0)
            {
                _lib.Destroy(handle);
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"librdkafka mock cluster, {BrokerCount} broker(s) at {Bootstraps}");

    private static unsafe void SetConf(LibrdkafkaMock lib, nint conf, string name, string value)
    {
        var n = LibrdkafkaMock.Utf8Z(name);
        var v = LibrdkafkaMock.Utf8Z(value);
        var errstr = stackalloc byte[512];
        fixed (byte* pn = n, pv = v)
        {
            if (lib.ConfSet(conf, pn, pv, errstr, 512) != LibrdkafkaMock.ConfOk)
            {
                lib.ConfDestroy(conf);
                throw new SandboxException(
                    $"librdkafka rejected {name}={value} ({Marshal.PtrToStringUTF8((nint)errstr)}): check the librdkafka shipped with Confluent.Kafka");
            }
        }
    }
}
