using System.Runtime.InteropServices;
using System.Text;

namespace EfficiencyMonitor.Sandbox.Kafka;

/// <summary>
/// Function pointers into the <c>librdkafka.so</c> that Confluent.Kafka ships (<c>librdkafka.redist</c>),
/// resolved once per process. Signatures follow <c>src/rdkafka.h</c> and <c>src/rdkafka_mock.h</c> of
/// librdkafka 2.x; the mock API is experimental upstream, so every export is looked up by name and a missing
/// one is reported instead of crashing.
/// </summary>
internal sealed unsafe class LibrdkafkaMock
{
    /// <summary>RD_KAFKA_PRODUCER in <c>rd_kafka_type_t</c>.</summary>
    internal const int ProducerType = 0;

    /// <summary>RD_KAFKA_CONF_OK in <c>rd_kafka_conf_res_t</c>.</summary>
    internal const int ConfOk = 0;

    private static readonly Lazy<LibrdkafkaMock> Instance = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    private LibrdkafkaMock(nint library, string loadedFrom)
    {
        LoadedFrom = loadedFrom;
        ConfNew = (delegate* unmanaged<nint>)Require(library, "rd_kafka_conf_new");
        ConfSet = (delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int>)Require(library, "rd_kafka_conf_set");
        ConfDestroy = (delegate* unmanaged<nint, void>)Require(library, "rd_kafka_conf_destroy");
        New = (delegate* unmanaged<int, nint, byte*, nuint, nint>)Require(library, "rd_kafka_new");
        Destroy = (delegate* unmanaged<nint, void>)Require(library, "rd_kafka_destroy");
        VersionStr = (delegate* unmanaged<byte*>)Require(library, "rd_kafka_version_str");
        ClusterNew = (delegate* unmanaged<nint, int, nint>)Require(library, "rd_kafka_mock_cluster_new");
        ClusterDestroy = (delegate* unmanaged<nint, void>)Require(library, "rd_kafka_mock_cluster_destroy");
        ClusterBootstraps = (delegate* unmanaged<nint, byte*>)Require(library, "rd_kafka_mock_cluster_bootstraps");
        TopicCreate = (delegate* unmanaged<nint, byte*, int, int, int>)Require(library, "rd_kafka_mock_topic_create");
        GroupInitialRebalanceDelayMs = (delegate* unmanaged<nint, int, void>)Require(library, "rd_kafka_mock_group_initial_rebalance_delay_ms");
        // Newer than the rest (KIP-848 support); optional so an older librdkafka still works.
        SetGroupConsumerHeartbeatIntervalMs = (delegate* unmanaged<nint, int, void>)Optional(library, "rd_kafka_mock_set_group_consumer_heartbeat_interval_ms");
        SetGroupConsumerSessionTimeoutMs = (delegate* unmanaged<nint, int, void>)Optional(library, "rd_kafka_mock_set_group_consumer_session_timeout_ms");
        BrokerSetHostPort = (delegate* unmanaged<nint, int, byte*, int, void>)Optional(library, "rd_kafka_mock_broker_set_host_port");
        BrokerSetDown = (delegate* unmanaged<nint, int, int>)Optional(library, "rd_kafka_mock_broker_set_down");
        BrokerSetUp = (delegate* unmanaged<nint, int, int>)Optional(library, "rd_kafka_mock_broker_set_up");
        Err2Str = (delegate* unmanaged<int, byte*>)Require(library, "rd_kafka_err2str");
    }

    /// <summary>Where the library was loaded from (a path, or the probing name).</summary>
    internal string LoadedFrom { get; }

    internal delegate* unmanaged<nint> ConfNew { get; }

    internal delegate* unmanaged<nint, byte*, byte*, byte*, nuint, int> ConfSet { get; }

    internal delegate* unmanaged<nint, void> ConfDestroy { get; }

    internal delegate* unmanaged<int, nint, byte*, nuint, nint> New { get; }

    internal delegate* unmanaged<nint, void> Destroy { get; }

    internal delegate* unmanaged<byte*> VersionStr { get; }

    internal delegate* unmanaged<nint, int, nint> ClusterNew { get; }

    internal delegate* unmanaged<nint, void> ClusterDestroy { get; }

    internal delegate* unmanaged<nint, byte*> ClusterBootstraps { get; }

    internal delegate* unmanaged<nint, byte*, int, int, int> TopicCreate { get; }

    internal delegate* unmanaged<nint, int, void> GroupInitialRebalanceDelayMs { get; }

    internal delegate* unmanaged<nint, int, void> SetGroupConsumerHeartbeatIntervalMs { get; }

    internal delegate* unmanaged<nint, int, void> SetGroupConsumerSessionTimeoutMs { get; }

    internal delegate* unmanaged<nint, int, byte*, int, void> BrokerSetHostPort { get; }

    /// <summary><c>rd_kafka_mock_broker_set_down(mcluster, broker_id)</c>: the broker drops its connections and refuses new ones.</summary>
    internal delegate* unmanaged<nint, int, int> BrokerSetDown { get; }

    /// <summary><c>rd_kafka_mock_broker_set_up(mcluster, broker_id)</c>.</summary>
    internal delegate* unmanaged<nint, int, int> BrokerSetUp { get; }

    internal delegate* unmanaged<int, byte*> Err2Str { get; }

    /// <summary>The process-wide binding; throws <see cref="SandboxException"/> when the library is not found.</summary>
    internal static LibrdkafkaMock Get() => Instance.Value;

    internal string ErrorText(int err) => Marshal.PtrToStringUTF8((nint)Err2Str(err)) ?? $"error {err}";

    /// <summary>NUL-terminated UTF-8 for a C string argument.</summary>
    internal static byte[] Utf8Z(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    private static LibrdkafkaMock Load()
    {
        // Bind to the very copy Confluent.Kafka's clients use: one librdkafka per process, one version. Confluent
        // picks among several builds at run time (on Debian 12 the generic runtimes/linux-x64/native/librdkafka.so
        // needs libsasl2.so.3, which is absent, so it falls back to centos8-librdkafka.so); rather than re-implement
        // that choice, let it load, then find the file in the process's memory map.
        string? confluentError = null;
        try
        {
            Confluent.Kafka.Library.Load();
        }
        catch (DllNotFoundException ex)
        {
            confluentError = ex.Message;
        }

        var candidates = new List<string>();
        if (LoadedByConfluent() is { } loaded)
        {
            candidates.Add(loaded);
        }

        // Hosts where the map is unreadable: the files Confluent.Kafka ships, in its order of preference.
        var rid = $"linux-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        var confluentDir = Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location);
        foreach (var dir in new[] { AppContext.BaseDirectory, confluentDir }.Where(d => !string.IsNullOrEmpty(d)).Distinct())
        {
            foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" })
            {
                candidates.Add(Path.Combine(dir!, "runtimes", rid, "native", file));
            }
        }

        foreach (var path in candidates)
        {
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle))
            {
                return new LibrdkafkaMock(handle, path);
            }
        }

        throw new SandboxException(
            $"librdkafka could not be loaded ({confluentError ?? "no usable file among " + string.Join(", ", candidates)}): reference the Confluent.Kafka package (it brings librdkafka.redist) and run on {rid}");
    }

    /// <summary>The librdkafka file mapped into this process (Linux), or null.</summary>
    private static string? LoadedByConfluent()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.EndsWith(".so", StringComparison.Ordinal)
                    && Path.GetFileName(line.AsSpan(slash)).Contains("librdkafka", StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    private static nint Require(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw new SandboxException(
                $"the librdkafka in use does not export {name}: use the librdkafka.so shipped with Confluent.Kafka {typeof(Confluent.Kafka.Library).Assembly.GetName().Version} (librdkafka.redist)");

    private static nint Optional(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var address) ? address : 0;
}
