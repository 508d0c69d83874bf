using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;

namespace EfficiencyMonitor.Benchmarks.Model;

/// <summary>The serving model and request classes both model benchmarks evaluate.</summary>
internal static class ModelBenchData
{
    public const string DeploymentName = "llama-70b-chat-prod";
    public const string GpuType = "H100-SXM5-80GB";

    /// <summary>
    /// Llama-3.1-70B on H100 SXM from the catalog embedded in EfficiencyMonitor.Jobs (= deploy/catalog): the deployment's
    /// tiers, the model's shape, the GPU's peak and bandwidth. Catalog 2026.12.2 has no serving section for the deployment
    /// yet, so an assumed one is supplied (8-GPU instances, batch 64, MFU 0.4, MBU 0.6, decode MFU 0.5) — the cost of an
    /// evaluation does not depend on these figures.
    /// </summary>
    public static (ServingModel Model, string Description) Build()
    {
        var catalog = CatalogFiles.LoadEmbedded().Catalog;
        var deployment = catalog.Deployments.Single(d => d.Name == DeploymentName);
        var model = catalog.Models.Single(m => m.Name == deployment.Model);
        var hardware = catalog.Hardware.Single(h => h.GpuType == GpuType);
        var assumed = deployment.Serving is null;
        deployment = deployment with
        {
            Serving = deployment.Serving ?? new ServingEntry
            {
                GpuType = GpuType, Precision = "bf16", PrefillGpusPerInstance = 8, DecodeGpusPerInstance = 8, DecodeBatch = 64,
                PrefillMfu = 0.4, DecodeMbu = 0.6, DecodeMfu = 0.5, Source = "benchmark assumption",
            },
        };
        var s = deployment.Serving!;
        var description = $"catalog {catalog.Version}: {deployment.Name}, {model.Name} on {hardware.GpuType} " +
                          $"(serving {(assumed ? "assumed" : "from the catalog")}: g_pf {s.PrefillGpusPerInstance}, g_dec {s.DecodeGpusPerInstance}, B {s.DecodeBatch}, " +
                          $"MFU {s.PrefillMfu}, MBU {s.DecodeMbu}, decode MFU {s.DecodeMfu}; kvb {model.EffectiveKvBytesPerToken():N0} B/token)";
        return (new ServingModel(deployment, model, hardware), description);
    }

    /// <summary>
    /// <paramref name="count"/> random classes (seeded): 0–8k uncached tokens, each cache tier hit by a share of classes
    /// with 0–16k prefix tokens and a load share, 1–4k output tokens.
    /// </summary>
    public static RequestClass[] Classes(int count, int seed)
    {
        var random = new Random(seed);
        var classes = new RequestClass[count];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = new RequestClass
            {
                Count = 1 + random.Next(100),
                Uncached = random.Next(8192),
                CachedHbm = random.NextDouble() < 0.3 ? random.Next(4096) : 0,
                CachedDram = random.NextDouble() < 0.5 ? random.Next(16_384) : 0,
                CachedLocalSsd = random.NextDouble() < 0.3 ? random.Next(16_384) : 0,
                CachedRemote = random.NextDouble() < 0.1 ? random.Next(16_384) : 0,
                LoadsDram = random.NextDouble(),
                LoadsLocalSsd = random.NextDouble(),
                LoadsRemote = random.NextDouble(),
                Output = 1 + random.Next(4096),
            };
        }

        return classes;
    }
}
