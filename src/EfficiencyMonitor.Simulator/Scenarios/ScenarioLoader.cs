using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.Simulator.Scenarios;

/// <summary>A scenario file that cannot be used; <see cref="Problems"/> lists every problem found, not just the first.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScenarioException(IReadOnlyList<string> problems)
        : base(problems.Count == 1 ? problems[0] : $"{problems.Count} problems:\n  " + string.Join("\n  ", problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException()
        : this(["invalid scenario"])
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public ScenarioException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Each problem as <c>file:line:column: path: problem; fix</c>.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>
/// Loads and validates scenario YAML. Every problem is reported with the file, line, the path inside the document
/// (e.g. <c>deployments[1].kv_cache.tiers.dram.capacity_gb</c>), what is wrong and how to fix it.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>Loads a scenario file.</summary>
    /// <exception cref="ScenarioException">The file is missing, not YAML, or not a valid scenario.</exception>
    public static Scenario LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ScenarioException($"{path}: the scenario file does not exist; pass an existing file, e.g. deploy/scenarios/default.yaml");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses scenario YAML.</summary>
    /// <param name="yaml">The document.</param>
    /// <param name="sourceName">File name used in error messages.</param>
    /// <exception cref="ScenarioException">The text is not YAML or not a valid scenario.</exception>
    public static Scenario Parse(string yaml, string sourceName = "scenario")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ScenarioException($"{sourceName}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}; fix the syntax", e);
        }

        if (stream.Documents.Count != 1)
        {
            throw new ScenarioException($"{sourceName}: expected exactly one YAML document, found {stream.Documents.Count}");
        }

        var reader = new Reader(sourceName);
        var scenario = reader.ReadScenario(stream.Documents[0].RootNode);
        if (reader.Problems.Count > 0 || scenario is null)
        {
            throw new ScenarioException(reader.Problems.Count > 0 ? reader.Problems : ["invalid scenario"]);
        }

        return scenario;
    }

    private sealed class Reader(string file)
    {
        private static readonly string[] TierNames = ["hbm", "dram", "local_ssd", "remote"];

        public List<string> Problems { get; } = [];

        public Scenario? ReadScenario(YamlNode root)
        {
            if (Map(root, "(root)") is not { } map)
            {
                return null;
            }

            Known(map, "(root)", "name", "description", "reference_rate", "power_sample_interval_s", "diurnal", "gpu_types", "models", "tenants", "deployments", "workloads", "incidents");
            var diurnalNode = Get(map, "diurnal");
            var diurnal = new DiurnalShape();
            if (diurnalNode is not null && Map(diurnalNode, "diurnal") is { } d)
            {
                Known(d, "diurnal", "amplitude", "peak_hour_utc");
                diurnal = new DiurnalShape
                {
                    Amplitude = Number(d, "amplitude", "diurnal", 0, 0, 0.95),
                    PeakHourUtc = Number(d, "peak_hour_utc", "diurnal", 15, 0, 24),
                };
            }

            var gpuTypes = List(map, "gpu_types", "(root)", ReadGpuType, required: true);
            var models = List(map, "models", "(root)", ReadModel, required: true);
            var tenants = List(map, "tenants", "(root)", ReadTenant, required: true);
            var deployments = List(map, "deployments", "(root)", ReadDeployment, required: true);
            var workloads = List(map, "workloads", "(root)", ReadWorkload, required: true);
            var incidents = List(map, "incidents", "(root)", ReadIncident, required: false);
            var scenario = new Scenario
            {
                Name = Name(map, "name", "(root)", required: true) ?? "",
                Description = Text(map, "description"),
                ReferenceRate = Number(map, "reference_rate", "(root)", null, 0.001, 10_000_000),
                PowerSampleIntervalSeconds = Number(map, "power_sample_interval_s", "(root)", 10, 0.1, 3600),
                Diurnal = diurnal,
                GpuTypes = gpuTypes,
                Models = models,
                Tenants = tenants,
                Deployments = deployments,
                Workloads = workloads,
                Incidents = incidents,
            };
            CrossCheck(map, scenario);
            return scenario;
        }

        private void CrossCheck(YamlMappingNode root, Scenario s)
        {
            Unique(root, "gpu_types", s.GpuTypes.Select(g => g.Name));
            Unique(root, "models", s.Models.Select(m => m.Name));
            Unique(root, "tenants", s.Tenants.Select(t => t.Name));
            Unique(root, "deployments", s.Deployments.Select(d => d.Name));
            Unique(root, "workloads", s.Workloads.Select(w => w.Name));
            var pools = s.Deployments.SelectMany(d => d.Pools).Select(p => p.Name).ToList();
            if (pools.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dupPool)
            {
                Add(root, "deployments", $"pool name '{dupPool.Key}' is used twice", "give every pool a unique name (gpu-power records and incidents name pools)");
            }

            var gpuNames = s.GpuTypes.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            var modelNames = s.Models.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            var tenantNames = s.Tenants.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var deploymentNames = s.Deployments.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
            var workloadNames = s.Workloads.Select(w => w.Name).ToHashSet(StringComparer.Ordinal);
            var poolNames = pools.ToHashSet(StringComparer.Ordinal);
            var deploymentNodes = Get(root, "deployments") as YamlSequenceNode;
            for (var i = 0; i < s.Deployments.Count; i++)
            {
                var dep = s.Deployments[i];
                var node = deploymentNodes?.Children.ElementAtOrDefault(i) ?? root;
                var path = $"deployments[{i}]";
                if (!modelNames.Contains(dep.Model))
                {
                    Add(node, path + ".model", $"model '{dep.Model}' is not defined", $"add it under models: or use one of: {string.Join(", ", modelNames)}");
                }

                foreach (var pool in dep.Pools.Where(p => !gpuNames.Contains(p.GpuType)))
                {
                    Add(node, path + ".pools", $"gpu_type '{pool.GpuType}' of pool '{pool.Name}' is not defined", $"add it under gpu_types: or use one of: {string.Join(", ", gpuNames)}");
                }
            }

            var workloadNodes = Get(root, "workloads") as YamlSequenceNode;
            for (var i = 0; i < s.Workloads.Count; i++)
            {
                var w = s.Workloads[i];
                var node = workloadNodes?.Children.ElementAtOrDefault(i) ?? root;
                if (w.Deployment.Length > 0 && !deploymentNames.Contains(w.Deployment))
                {
                    Add(node, $"workloads[{i}].deployment", $"deployment '{w.Deployment}' is not defined", $"use one of: {string.Join(", ", deploymentNames)}");
                }

                foreach (var t in w.Tenants.Where(t => !tenantNames.Contains(t)))
                {
                    Add(node, $"workloads[{i}].tenants", $"tenant '{t}' is not defined", $"add it under tenants: or use one of: {string.Join(", ", tenantNames)}");
                }
            }

            if (s.Workloads.Count > 0 && s.Workloads.Sum(w => w.Weight) <= 0)
            {
                Add(root, "workloads", "every workload weight is 0", "give at least one workload a positive weight");
            }

            var incidentNodes = Get(root, "incidents") as YamlSequenceNode;
            for (var i = 0; i < s.Incidents.Count; i++)
            {
                var inc = s.Incidents[i];
                var node = incidentNodes?.Children.ElementAtOrDefault(i) ?? root;
                var path = $"incidents[{i}]";
                if (inc.Deployment is { } d && !deploymentNames.Contains(d))
                {
                    Add(node, path + ".deployment", $"deployment '{d}' is not defined", $"use one of: {string.Join(", ", deploymentNames)}");
                }

                if (inc.Pool is { } p && !poolNames.Contains(p))
                {
                    Add(node, path + ".pool", $"pool '{p}' is not defined", $"use one of: {string.Join(", ", poolNames)}");
                }

                foreach (var w in inc.Workloads.Where(w => !workloadNames.Contains(w)))
                {
                    Add(node, path + ".workloads", $"workload '{w}' is not defined", $"use one of: {string.Join(", ", workloadNames)}");
                }
            }
        }

        private void Unique(YamlMappingNode root, string key, IEnumerable<string> names)
        {
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dup)
            {
                Add(Get(root, key) ?? root, key, $"name '{dup.Key}' appears twice", "names must be unique within the list");
            }
        }

        private GpuTypeSpec ReadGpuType(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "idle_watts", "max_watts", "memory_gb");
            var idle = Number(m, "idle_watts", path, null, 0, 10_000);
            var max = Number(m, "max_watts", path, null, 1, 10_000);
            if (max <= idle && max > 0)
            {
                Add(m, path + ".max_watts", $"max_watts {Fmt(max)} is not above idle_watts {Fmt(idle)}", "set max_watts to the board's TDP, above idle");
            }

            return new GpuTypeSpec { Name = Name(m, "name", path, true) ?? "", IdleWatts = idle, MaxWatts = max, MemoryGb = Number(m, "memory_gb", path, null, 1, 10_000) };
        }

        private ModelSpec ReadModel(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "kv_bytes_per_token", "kv_compression_ratio", "max_context_tokens");
            return new ModelSpec
            {
                Name = Name(m, "name", path, true) ?? "",
                KvBytesPerToken = Number(m, "kv_bytes_per_token", path, null, 1, 100_000_000),
                KvCompressionRatio = Number(m, "kv_compression_ratio", path, 1, 1, 1000),
                MaxContextTokens = (int)Number(m, "max_context_tokens", path, 131_072, 1024, 100_000_000, integer: true),
            };
        }

        private TenantSpec ReadTenant(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "weight");
            return new TenantSpec { Name = Name(m, "name", path, true) ?? "", Weight = Number(m, "weight", path, 1, 0, 1e9) };
        }

        private DeploymentSpec ReadDeployment(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "model", "region", "serving_pattern", "pools", "kv_cache", "physics");
            var pattern = Text(m, "serving_pattern") ?? "aggregated";
            if (pattern is not ("aggregated" or "disaggregated"))
            {
                Add(m, path + ".serving_pattern", $"'{pattern}' is not a serving pattern", "use aggregated or disaggregated");
            }

            var disaggregated = pattern == "disaggregated";
            var pools = List(m, "pools", path, ReadPool, required: true);
            var roles = pools.Select(p => p.Role).Order().ToList();
            if (pools.Count > 0)
            {
                if (disaggregated && !roles.SequenceEqual([PoolRole.Prefill, PoolRole.Decode]))
                {
                    Add(m, path + ".pools", "a disaggregated deployment needs exactly one prefill and one decode pool", "give it two pools with role: prefill and role: decode");
                }
                else if (!disaggregated && !roles.SequenceEqual([PoolRole.Aggregated]))
                {
                    Add(m, path + ".pools", "an aggregated deployment needs exactly one pool with role: aggregated", "give it one pool with role: aggregated (or set serving_pattern: disaggregated)");
                }
            }

            var kv = Get(m, "kv_cache") is { } kvNode && Map(kvNode, path + ".kv_cache") is { } kvMap ? ReadKvCache(kvMap, path + ".kv_cache") : Missing<KvCacheSpec>(m, path, "kv_cache", "add a kv_cache: block with tiers: hbm, dram, local_ssd, remote");
            var physics = Get(m, "physics") is { } phNode && Map(phNode, path + ".physics") is { } phMap ? ReadPhysics(phMap, path + ".physics") : Missing<PhysicsSpec>(m, path, "physics", "add a physics: block with prefill_tokens_per_s and decode_ms_per_token");
            return new DeploymentSpec
            {
                Name = Name(m, "name", path, true) ?? "",
                Model = Name(m, "model", path, true) ?? "",
                Region = Name(m, "region", path, true) ?? "",
                Disaggregated = disaggregated,
                Pools = pools,
                KvCache = kv!,
                Physics = physics!,
            };
        }

        private PoolSpec ReadPool(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "role", "gpu_type", "instances", "gpus_per_instance");
            var roleText = Text(m, "role") ?? "aggregated";
            PoolRole role = PoolRole.Aggregated;
            switch (roleText)
            {
                case "aggregated": role = PoolRole.Aggregated; break;
                case "prefill": role = PoolRole.Prefill; break;
                case "decode": role = PoolRole.Decode; break;
                default: Add(m, path + ".role", $"'{roleText}' is not a pool role", "use aggregated, prefill or decode"); break;
            }

            return new PoolSpec
            {
                Name = Name(m, "name", path, true) ?? "",
                Role = role,
                GpuType = Name(m, "gpu_type", path, true) ?? "",
                Instances = (int)Number(m, "instances", path, null, 1, 100_000, integer: true),
                GpusPerInstance = (int)Number(m, "gpus_per_instance", path, 1, 1, 64, integer: true),
            };
        }

        private KvCacheSpec? ReadKvCache(YamlMappingNode m, string path)
        {
            Known(m, path, "tiers", "session_affinity", "network_gb_s", "network_latency_ms", "eviction");
            var eviction = Text(m, "eviction") ?? "lru";
            if (eviction != "lru")
            {
                Add(m, path + ".eviction", $"eviction '{eviction}' is not supported", "use lru (least recently used, demoting hbm → dram → local_ssd → remote)");
            }

            var tiers = new TierSpec[4];
            var tiersNode = Get(m, "tiers");
            var tiersMap = tiersNode is null ? null : Map(tiersNode, path + ".tiers");
            if (tiersNode is null)
            {
                Add(m, path + ".tiers", "missing", "add tiers: with at least hbm (capacity_gb, bandwidth_gb_s, latency_ms)");
            }

            if (tiersMap is not null)
            {
                Known(tiersMap, path + ".tiers", TierNames);
            }

            for (var t = 0; t < 4; t++)
            {
                var tierPath = $"{path}.tiers.{TierNames[t]}";
                if (tiersMap is not null && Get(tiersMap, TierNames[t]) is { } tn && Map(tn, tierPath) is { } tm)
                {
                    Known(tm, tierPath, "capacity_gb", "bandwidth_gb_s", "latency_ms");
                    tiers[t] = new TierSpec
                    {
                        CapacityGb = Number(tm, "capacity_gb", tierPath, null, 0, 1e9),
                        BandwidthGbPerSecond = Number(tm, "bandwidth_gb_s", tierPath, null, 0.001, 1e6),
                        LatencyMs = Number(tm, "latency_ms", tierPath, 0, 0, 60_000),
                    };
                }
                else
                {
                    if (t == 0 && tiersMap is not null)
                    {
                        Add(tiersMap, path + ".tiers.hbm", "missing", "every deployment needs an hbm tier (capacity_gb per instance left for KV after weights)");
                    }

                    tiers[t] = new TierSpec { CapacityGb = 0, BandwidthGbPerSecond = 1, LatencyMs = 0 };
                }
            }

            return new KvCacheSpec
            {
                Tiers = tiers,
                SessionAffinity = Number(m, "session_affinity", path, 0.95, 0, 1),
                NetworkGbPerSecond = Number(m, "network_gb_s", path, 50, 0.001, 1e6),
                NetworkLatencyMs = Number(m, "network_latency_ms", path, 0.5, 0, 60_000),
            };
        }

        private PhysicsSpec ReadPhysics(YamlMappingNode m, string path)
        {
            Known(m, path, "prefill_tokens_per_s", "decode_ms_per_token", "max_batch", "batch_slowdown", "queue_base_ms", "attention_knee_tokens", "noise", "weights_gb_per_instance");
            return new PhysicsSpec
            {
                PrefillTokensPerSecond = Number(m, "prefill_tokens_per_s", path, null, 1, 1e9),
                DecodeMsPerToken = Number(m, "decode_ms_per_token", path, null, 0.01, 10_000),
                MaxBatch = (int)Number(m, "max_batch", path, 64, 1, 100_000, integer: true),
                BatchSlowdown = Number(m, "batch_slowdown", path, 1.2, 0, 100),
                QueueBaseMs = Number(m, "queue_base_ms", path, 15, 0, 60_000),
                AttentionKneeTokens = Number(m, "attention_knee_tokens", path, 65_536, 1, 1e9),
                Noise = Number(m, "noise", path, 0.08, 0, 1),
                WeightsGbPerInstance = Number(m, "weights_gb_per_instance", path, 140, 0, 1e6),
            };
        }

        private WorkloadSpec ReadWorkload(YamlMappingNode m, string path)
        {
            Known(m, path, "name", "kind", "weight", "deployment", "tenants", "system_prompt_tokens", "turns", "gap_s", "first_input_tokens", "followup_input_tokens", "output_tokens", "reasoning_tokens", "documents", "status", "quality");
            var kindText = Text(m, "kind") ?? "";
            WorkloadKind kind = WorkloadKind.Chat;
            switch (kindText)
            {
                case "chat": kind = WorkloadKind.Chat; break;
                case "agentic": kind = WorkloadKind.Agentic; break;
                case "rag": kind = WorkloadKind.Rag; break;
                case "reasoning": kind = WorkloadKind.Reasoning; break;
                case "batch": kind = WorkloadKind.Batch; break;
                default: Add(m, path + ".kind", kindText.Length == 0 ? "missing" : $"'{kindText}' is not a workload kind", "use chat, agentic, rag, reasoning or batch"); break;
            }

            DocumentsSpec? docs = null;
            if (Get(m, "documents") is { } dn && Map(dn, path + ".documents") is { } dm)
            {
                Known(dm, path + ".documents", "corpus", "per_request", "tokens", "zipf_exponent");
                docs = new DocumentsSpec
                {
                    Corpus = (int)Number(dm, "corpus", path + ".documents", null, 1, 1_000_000, integer: true),
                    PerRequest = Dist(dm, "per_request", path + ".documents", null, 0, 1000),
                    Tokens = Dist(dm, "tokens", path + ".documents", null, 1, 10_000_000),
                    ZipfExponent = Number(dm, "zipf_exponent", path + ".documents", 1.1, 0, 5),
                };
            }

            var status = new StatusRates();
            if (Get(m, "status") is { } sn && Map(sn, path + ".status") is { } sm)
            {
                Known(sm, path + ".status", "error", "timeout", "cancelled", "filtered");
                status = new StatusRates
                {
                    Error = Number(sm, "error", path + ".status", 0, 0, 1),
                    Timeout = Number(sm, "timeout", path + ".status", 0, 0, 1),
                    Cancelled = Number(sm, "cancelled", path + ".status", 0, 0, 1),
                    Filtered = Number(sm, "filtered", path + ".status", 0, 0, 1),
                };
                if (status.Error + status.Timeout + status.Cancelled + status.Filtered > 1)
                {
                    Add(sm, path + ".status", "the rates add up to more than 1", "lower them: the rest of the requests are ok");
                }
            }

            QualitySpec? quality = null;
            if (Get(m, "quality") is { } qn && Map(qn, path + ".quality") is { } qm)
            {
                Known(qm, path + ".quality", "mean_score", "accepted_rate");
                quality = new QualitySpec
                {
                    MeanScore = Number(qm, "mean_score", path + ".quality", 0.8, 0.01, 0.99),
                    AcceptedRate = Number(qm, "accepted_rate", path + ".quality", 0.7, 0, 1),
                };
            }

            var tenants = new List<string>();
            if (Get(m, "tenants") is { } tn)
            {
                if (tn is YamlSequenceNode seq)
                {
                    tenants.AddRange(seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? ""));
                }
                else
                {
                    Add(tn, path + ".tenants", "is not a list", "write tenants: [name, ...]");
                }
            }

            return new WorkloadSpec
            {
                Name = Name(m, "name", path, true) ?? "",
                Kind = kind,
                Weight = Number(m, "weight", path, null, 0, 1e9),
                Deployment = Name(m, "deployment", path, true) ?? "",
                Tenants = tenants,
                SystemPromptTokens = (int)Number(m, "system_prompt_tokens", path, 0, 0, 10_000_000, integer: true),
                Turns = Dist(m, "turns", path, DistributionSpec.Constant(1), 1, 100_000),
                GapSeconds = Dist(m, "gap_s", path, new DistributionSpec { Shape = DistributionShape.LogNormal, Value = 20, Sigma = 0.6, Min = 1, Max = 600 }, 0, 86_400),
                FirstInputTokens = Dist(m, "first_input_tokens", path, null, 0, 10_000_000),
                FollowupInputTokens = Dist(m, "followup_input_tokens", path, DistributionSpec.Constant(0), 0, 10_000_000),
                OutputTokens = Dist(m, "output_tokens", path, null, 0, 10_000_000),
                ReasoningTokens = Dist(m, "reasoning_tokens", path, DistributionSpec.Constant(0), 0, 10_000_000),
                Documents = docs,
                Status = status,
                Quality = quality,
            };
        }

        private IncidentSpec ReadIncident(YamlMappingNode m, string path)
        {
            Known(m, path, "kind", "at_s", "duration_s", "deployment", "pool", "tier", "workloads", "factor", "extra_latency_ms", "watts", "error_rate", "item", "note");
            var kindText = Text(m, "kind") ?? "";
            IncidentKind? kind = kindText switch
            {
                "tier_degraded" => IncidentKind.TierDegraded,
                "tier_shrunk" => IncidentKind.TierShrunk,
                "reasoning_surge" => IncidentKind.ReasoningSurge,
                "power_cap" => IncidentKind.PowerCap,
                "thermal_throttle" => IncidentKind.ThermalThrottle,
                "pool_errors" => IncidentKind.PoolErrors,
                "price_change" => IncidentKind.PriceChange,
                _ => null,
            };
            if (kind is null)
            {
                Add(m, path + ".kind", kindText.Length == 0 ? "missing" : $"'{kindText}' is not an incident kind", "use tier_degraded, tier_shrunk, reasoning_surge, power_cap, thermal_throttle, pool_errors or price_change");
            }

            KvTier? tier = null;
            if (Text(m, "tier") is { } tierText)
            {
                var index = Array.IndexOf(TierNames, tierText);
                if (index < 0)
                {
                    Add(m, path + ".tier", $"'{tierText}' is not a tier", "use hbm, dram, local_ssd or remote");
                }
                else
                {
                    tier = (KvTier)index;
                }
            }

            var workloads = (Get(m, "workloads") as YamlSequenceNode)?.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList() ?? [];
            var incident = new IncidentSpec
            {
                Kind = kind ?? IncidentKind.PriceChange,
                AtSeconds = Number(m, "at_s", path, null, 0, 1e9),
                DurationSeconds = Number(m, "duration_s", path, double.PositiveInfinity, 0.001, double.PositiveInfinity),
                Deployment = Text(m, "deployment"),
                Pool = Text(m, "pool"),
                Tier = tier,
                Workloads = workloads,
                Factor = Number(m, "factor", path, 1, 0.0001, 10_000),
                ExtraLatencyMs = Number(m, "extra_latency_ms", path, 0, 0, 600_000),
                Watts = Number(m, "watts", path, 0, 0, 10_000),
                ErrorRate = Number(m, "error_rate", path, 0, 0, 1),
                Item = Text(m, "item"),
                Note = Text(m, "note"),
            };
            switch (kind)
            {
                case IncidentKind.TierDegraded or IncidentKind.TierShrunk when tier is null:
                    Add(m, path + ".tier", "missing", "name the tier: hbm, dram, local_ssd or remote");
                    break;
                case IncidentKind.TierShrunk when incident.Factor >= 1:
                    Add(m, path + ".factor", $"capacity factor {Fmt(incident.Factor)} does not shrink the tier", "use a factor below 1 (e.g. 0.1 keeps 10%)");
                    break;
                case IncidentKind.TierDegraded when incident.Factor > 1:
                    Add(m, path + ".factor", $"bandwidth factor {Fmt(incident.Factor)} speeds the tier up", "use a factor at most 1 (e.g. 0.25 keeps a quarter of the bandwidth)");
                    break;
                case IncidentKind.PowerCap when incident.Pool is null || incident.Watts <= 0:
                    Add(m, path, "power_cap needs pool and watts", "add pool: <pool name> and watts: <cap in W>");
                    break;
                case IncidentKind.ThermalThrottle when incident.Pool is null || incident.Factor >= 1:
                    Add(m, path, "thermal_throttle needs pool and a speed factor below 1", "add pool: <pool name> and factor: 0.7");
                    break;
                case IncidentKind.PoolErrors when incident.Pool is null || incident.ErrorRate <= 0:
                    Add(m, path, "pool_errors needs pool and error_rate above 0", "add pool: <pool name> and error_rate: 0.3");
                    break;
                case IncidentKind.PriceChange when incident.Item is null:
                    Add(m, path + ".item", "missing", "name the priced item, e.g. gpu_hour:H100-SXM5-80GB or energy_kwh");
                    break;
            }

            return incident;
        }

        private DistributionSpec Dist(YamlMappingNode m, string key, string path, DistributionSpec? fallback, double lo, double hi)
        {
            var full = $"{path}.{key}";
            var node = Get(m, key);
            if (node is null)
            {
                if (fallback is null)
                {
                    Add(m, full, "missing", "add it as a number or {dist: lognormal, median: M, sigma: S, min: A, max: B} or {dist: uniform, min: A, max: B}");
                    return DistributionSpec.Constant(lo);
                }

                return fallback;
            }

            if (node is YamlScalarNode scalar)
            {
                var v = ParseNumber(scalar, full, lo, hi, false);
                return DistributionSpec.Constant(v);
            }

            if (Map(node, full) is not { } dm)
            {
                return DistributionSpec.Constant(lo);
            }

            Known(dm, full, "dist", "median", "sigma", "min", "max", "value");
            var shape = Text(dm, "dist") ?? "";
            switch (shape)
            {
                case "constant":
                    return DistributionSpec.Constant(Number(dm, "value", full, null, lo, hi));
                case "uniform":
                    {
                        var min = Number(dm, "min", full, null, lo, hi);
                        var max = Number(dm, "max", full, null, lo, hi);
                        if (max < min)
                        {
                            Add(dm, full, $"max {Fmt(max)} is below min {Fmt(min)}", "swap them");
                        }

                        return new DistributionSpec { Shape = DistributionShape.Uniform, Min = min, Max = max };
                    }

                case "lognormal":
                    {
                        var median = Number(dm, "median", full, null, Math.Max(lo, 1e-9), hi);
                        var min = Number(dm, "min", full, lo, lo, hi);
                        var max = Number(dm, "max", full, hi, lo, hi);
                        if (max < min)
                        {
                            Add(dm, full, $"max {Fmt(max)} is below min {Fmt(min)}", "swap them");
                        }

                        return new DistributionSpec { Shape = DistributionShape.LogNormal, Value = median, Sigma = Number(dm, "sigma", full, 0.5, 0, 5), Min = min, Max = max };
                    }

                default:
                    Add(dm, full + ".dist", shape.Length == 0 ? "missing" : $"'{shape}' is not a distribution", "use constant, uniform or lognormal");
                    return DistributionSpec.Constant(lo);
            }
        }

        private List<T> List<T>(YamlMappingNode m, string key, string path, Func<YamlMappingNode, string, T> read, bool required)
        {
            var result = new List<T>();
            var node = Get(m, key);
            var full = path == "(root)" ? key : $"{path}.{key}";
            if (node is null)
            {
                if (required)
                {
                    Add(m, full, "missing", $"add a {key}: list");
                }

                return result;
            }

            if (node is not YamlSequenceNode seq)
            {
                Add(node, full, "is not a list", $"write {key}: as a YAML list (items starting with '- ')");
                return result;
            }

            if (required && seq.Children.Count == 0)
            {
                Add(node, full, "is empty", $"add at least one entry to {key}");
            }

            for (var i = 0; i < seq.Children.Count; i++)
            {
                if (Map(seq.Children[i], $"{full}[{i}]") is { } item)
                {
                    result.Add(read(item, $"{full}[{i}]"));
                }
            }

            return result;
        }

        private T? Missing<T>(YamlMappingNode m, string path, string key, string fix)
            where T : class
        {
            Add(m, $"{path}.{key}", "missing", fix);
            return null;
        }

        private YamlMappingNode? Map(YamlNode node, string path)
        {
            if (node is YamlMappingNode map)
            {
                return map;
            }

            Add(node, path, "is not a mapping", "write it as key: value pairs");
            return null;
        }

        private static YamlNode? Get(YamlMappingNode m, string key) =>
            m.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        private static string? Text(YamlMappingNode m, string key) =>
            Get(m, key) is YamlScalarNode { Value: { Length: > 0 } v } && v != "~" && v != "null" ? v : null;

        private void Known(YamlMappingNode m, string path, params string[] allowed)
        {
            foreach (var key in m.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "?";
                if (!allowed.Contains(name, StringComparer.Ordinal))
                {
                    Add(key, $"{path}.{name}", "unknown key", $"remove it or use one of: {string.Join(", ", allowed)}");
                }
            }
        }

        private string? Name(YamlMappingNode m, string key, string path, bool required)
        {
            var node = Get(m, key);
            var full = $"{path}.{key}";
            if (node is null)
            {
                if (required)
                {
                    Add(m, full, "missing", $"add {key}: <name>");
                }

                return null;
            }

            var value = (node as YamlScalarNode)?.Value ?? "";
            if (value.Length is 0 or > 128 || value.Any(c => c is < ' ' or > '~'))
            {
                Add(node, full, $"'{value}' is not a name", "use 1-128 printable ASCII characters (the telemetry contract carries names as printable ASCII)");
            }

            return value;
        }

        private double Number(YamlMappingNode m, string key, string path, double? fallback, double lo, double hi, bool integer = false)
        {
            var node = Get(m, key);
            var full = $"{path}.{key}";
            if (node is null)
            {
                if (fallback is null)
                {
                    Add(m, full, "missing", $"add {key}: <number between {Fmt(lo)} and {Fmt(hi)}>");
                    return lo;
                }

                return fallback.Value;
            }

            if (node is not YamlScalarNode scalar)
            {
                Add(node, full, "is not a number", $"write a number between {Fmt(lo)} and {Fmt(hi)}");
                return lo;
            }

            return ParseNumber(scalar, full, lo, hi, integer);
        }

        private double ParseNumber(YamlScalarNode scalar, string full, double lo, double hi, bool integer)
        {
            var text = (scalar.Value ?? "").Replace("_", "", StringComparison.Ordinal);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                Add(scalar, full, $"'{scalar.Value}' is not a number", $"write a number between {Fmt(lo)} and {Fmt(hi)}");
                return lo;
            }

            if (value < lo || value > hi)
            {
                Add(scalar, full, $"{Fmt(value)} is out of range", $"use a value between {Fmt(lo)} and {Fmt(hi)}");
                return Math.Clamp(value, lo, hi);
            }

            if (integer && value != Math.Floor(value))
            {
                Add(scalar, full, $"{Fmt(value)} is not a whole number", "use an integer");
            }

            return value;
        }

        private void Add(YamlNode node, string path, string problem, string fix) =>
            Problems.Add($"{file}:{node.Start.Line}:{node.Start.Column}: {(path.StartsWith("(root).", StringComparison.Ordinal) ? path[7..] : path)}: {problem}; fix: {fix}");

        private static string Fmt(double v) => double.IsPositiveInfinity(v) ? "infinity" : v.ToString("G", CultureInfo.InvariantCulture);
    }
}
