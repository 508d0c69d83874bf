using System.Globalization;

namespace EfficiencyMonitor.Core.Catalog;

/// <summary>
/// Checks a catalog before it is stored or used: units and ranges, exactly one of ownership/rental, references between
/// sections, and effective-date intervals that do not overlap for the same key. Every problem is reported, each as
/// <c>location: path: problem; fix: …</c>.
/// </summary>
public static class CatalogValidator
{
    private static readonly string[] KnownStatuses = ["ok", "error", "timeout", "cancelled", "filtered"];

    /// <summary>Validates <paramref name="catalog"/>; <paramref name="locate"/> maps a path (e.g. <c>hardware[0].tdp_watts</c>) to <c>file:line:column</c>.</summary>
    public static IReadOnlyList<string> Validate(CostCatalog catalog, Func<string, string>? locate = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        locate ??= _ => "catalog";
        var problems = new List<string>();
        void Add(string path, string problem, string fix) => problems.Add($"{locate(path)}: {path}: {problem}; fix: {fix}");
        void Range(string path, double value, double min, double max, string unit)
        {
            if (double.IsNaN(value) || value < min || value > max)
                Add(path, string.Create(CultureInfo.InvariantCulture, $"{value} is out of range {min}..{max} {unit}"), $"give the value in {unit}");
        }

        if (string.IsNullOrWhiteSpace(catalog.Version) || catalog.Version.Length > 64 || catalog.Version.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            Add("version", $"'{catalog.Version}' is not a version label", "use letters, digits, '.', '-' or '_' (e.g. 2026.12.1)");

        for (var i = 0; i < catalog.Hardware.Count; i++)
        {
            var h = catalog.Hardware[i];
            var p = $"hardware[{i}]";
            if (string.IsNullOrWhiteSpace(h.Source)) Add($"{p}.source", "missing", "cite the vendor datasheet the figures come from");
            foreach (var (precision, tflops) in h.PeakDenseTflops) Range($"{p}.peak_dense_tflops.{precision}", tflops, 1, 100_000, "TFLOP/s (dense, no sparsity)");
            Range($"{p}.hbm_gb", h.HbmGb, 1, 4096, "GB");
            Range($"{p}.hbm_tb_per_s", h.HbmTbPerS, 0.1, 100, "TB/s");
            Range($"{p}.tdp_watts", h.TdpWatts, 50, 5000, "W");
            Range($"{p}.idle_watts", h.IdleWatts, 0, 5000, "W");
            if (h.IdleWatts >= h.TdpWatts) Add($"{p}.idle_watts", $"idle {h.IdleWatts} W is not below TDP {h.TdpWatts} W", "check both figures (watts, not kW)");
            Range($"{p}.host_watts_per_gpu", h.HostWattsPerGpu, 0, 5000, "W");
            if ((h.Ownership is null) == (h.Rental is null))
                Add(p, "needs exactly one of ownership and rental", "give ownership {usd_per_gpu, amortization_years, maintenance_fraction_per_year} or rental {usd_per_gpu_hour}");
            if (h.Ownership is { } o)
            {
                Range($"{p}.ownership.usd_per_gpu", o.UsdPerGpu, 1, 10_000_000, "USD per GPU");
                Range($"{p}.ownership.amortization_years", o.AmortizationYears, 0.5, 15, "years");
                Range($"{p}.ownership.maintenance_fraction_per_year", o.MaintenanceFractionPerYear, 0, 1, "fraction of the price per year (0.1 = 10 %)");
            }

            if (h.Rental is { } r) Range($"{p}.rental.usd_per_gpu_hour", r.UsdPerGpuHour, 0.01, 1000, "USD per GPU-hour");
        }

        for (var i = 0; i < catalog.Models.Count; i++)
        {
            var m = catalog.Models[i];
            var p = $"models[{i}]";
            Range($"{p}.total_params_b", m.TotalParamsB, 0.01, 100_000, "billions of parameters");
            Range($"{p}.active_params_b", m.ActiveParamsB, 0.01, 100_000, "billions of parameters");
            if (m.ActiveParamsB > m.TotalParamsB) Add($"{p}.active_params_b", "exceeds total_params_b", "active parameters are a subset of the total");
            Range($"{p}.layers", m.Layers, 1, 1000, "layers");
            Range($"{p}.attention_heads", m.AttentionHeads, 1, 4096, "heads");
            Range($"{p}.kv_heads", m.KvHeads, 1, 4096, "heads");
            Range($"{p}.head_dim", m.HeadDim, 1, 4096, "elements");
            Range($"{p}.weight_bytes_per_element", m.WeightBytesPerElement, 0.125, 8, "bytes");
            Range($"{p}.kv_bytes_per_element", m.KvBytesPerElement, 0.125, 8, "bytes");
            if (m.KvBytesPerToken is { } kvb) Range($"{p}.kv_bytes_per_token", kvb, 1, 1e9, "bytes per token");
            Range($"{p}.kv_compression_ratio", m.KvCompressionRatio, 1, 1000, "(≥ 1; 10 = a tenth of the memory)");
        }

        for (var i = 0; i < catalog.Facilities.Count; i++)
        {
            var f = catalog.Facilities[i];
            var p = $"facilities[{i}]";
            Range($"{p}.pue", f.Pue, 1, 3, "(facility energy / IT energy)");
            Range($"{p}.space_cooling_usd_per_kw_month", f.SpaceCoolingUsdPerKwMonth, 0, 10_000, "USD per kW-month");
            if (f.UsdPerKwh is null && f.TimeOfUse is not { Count: > 0 })
                Add(p, "has no energy price", "give usd_per_kwh or time_of_use bands");
            if (f.UsdPerKwh is { } price) Range($"{p}.usd_per_kwh", price, 0, 10, "USD per kWh (not per MWh)");
            if (f.TimeOfUse is { Count: > 0 } bands)
            {
                var covered = new bool[24];
                for (var b = 0; b < bands.Count; b++)
                {
                    var band = bands[b];
                    var bp = $"{p}.time_of_use[{b}]";
                    Range($"{bp}.usd_per_kwh", band.UsdPerKwh, 0, 10, "USD per kWh");
                    if (band.FromHour < 0 || band.ToHour > 24 || band.FromHour >= band.ToHour)
                    {
                        Add(bp, $"hours {band.FromHour}..{band.ToHour} are not a UTC range 0 ≤ from < to ≤ 24", "use whole UTC hours");
                        continue;
                    }

                    for (var h = band.FromHour; h < band.ToHour; h++)
                    {
                        if (covered[h]) Add(bp, $"hour {h} is already in another band", "make the bands disjoint");
                        covered[h] = true;
                    }
                }

                if (f.UsdPerKwh is null && covered.Contains(false))
                    Add($"{p}.time_of_use", "bands do not cover all 24 hours", "cover 0..24 or give usd_per_kwh as the default");
            }
        }

        for (var i = 0; i < catalog.Deployments.Count; i++)
        {
            var d = catalog.Deployments[i];
            var p = $"deployments[{i}]";
            if (!catalog.Models.Any(m => m.Name == d.Model)) Add($"{p}.model", $"model '{d.Model}' is not in models", "add the model or fix the name");
            if (!catalog.Facilities.Any(f => f.Name == d.Facility)) Add($"{p}.facility", $"facility '{d.Facility}' is not in facilities", "add the facility or fix the name");
            foreach (var (name, tier) in new[] { ("dram", d.Tiers.Dram), ("local_ssd", d.Tiers.LocalSsd), ("remote", d.Tiers.Remote) })
            {
                if (tier is null) continue;
                var tp = $"{p}.tiers.{name}";
                Range($"{tp}.provisioned_gb", tier.ProvisionedGb, 0, 1e9, "GB");
                Range($"{tp}.usd_per_gb_month", tier.UsdPerGbMonth, 0, 100, "USD per GB-month");
                Range($"{tp}.bandwidth_gb_per_s", tier.BandwidthGbPerS, 0.001, 100_000, "GB/s");
                Range($"{tp}.first_byte_latency_ms", tier.FirstByteLatencyMs, 0, 10_000, "ms");
            }

            if (d.Serving is { } sv)
            {
                var sp = $"{p}.serving";
                var hw = catalog.Hardware.FirstOrDefault(h => h.GpuType == sv.GpuType);
                if (hw is null) Add($"{sp}.gpu_type", $"gpu_type '{sv.GpuType}' is not in hardware", "add the GPU to hardware.yaml or fix the name");
                else if (sv.Precision is null || !hw.PeakDenseTflops.ContainsKey(sv.Precision))
                    Add($"{sp}.precision", $"'{sv.Precision}' has no peak_dense_tflops on {sv.GpuType}", $"use one of {string.Join(", ", hw.PeakDenseTflops.Keys)}");
                Range($"{sp}.prefill_gpus_per_instance", sv.PrefillGpusPerInstance, 1, 1024, "GPUs");
                Range($"{sp}.decode_gpus_per_instance", sv.DecodeGpusPerInstance, 1, 1024, "GPUs");
                Range($"{sp}.decode_batch", sv.DecodeBatch, 1, 65536, "sequences");
                Range($"{sp}.prefill_mfu", sv.PrefillMfu, 1e-4, 1, "fraction of peak");
                Range($"{sp}.decode_mbu", sv.DecodeMbu, 1e-4, 1, "fraction of HBM bandwidth");
                Range($"{sp}.decode_mfu", sv.DecodeMfu, 1e-4, 1, "fraction of peak");
                if (sv.Disaggregated && d.Network is null) Add($"{sp}.disaggregated", "is true but the deployment has no network", "add network: { gb_per_s, usd_per_gb } or set disaggregated: false");
            }

            if (d.Plan is { } pl)
            {
                var pp = $"{p}.plan";
                if (d.Serving is null) Add(pp, "a plan needs the deployment's serving section", "add serving: (gpu_type, gpus per instance, decode_batch, mfu/mbu)");
                Range($"{pp}.success_rate", pl.SuccessRate, 1e-6, 1, "fraction");
                // Busy time comes from request timings at the catalog's decode batch, so it can exceed the provisioned time
                // when instances batch more than decode_batch says; 10x is beyond any plausible error.
                Range($"{pp}.utilization", pl.Utilization, 1e-6, 10, "busy / provisioned GPU time");
                Range($"{pp}.input_tokens", pl.InputTokens, 0, 1e8, "tokens");
                Range($"{pp}.output_tokens", pl.OutputTokens, 0, 1e8, "tokens");
                Range($"{pp}.reasoning_tokens", pl.ReasoningTokens, 0, Math.Max(pl.OutputTokens, 0), "tokens (≤ output_tokens)");
                var hits = pl.HitRateHbm + pl.HitRateDram + pl.HitRateLocalSsd + pl.HitRateRemote;
                foreach (var (name, v) in new[] { ("hit_rate_hbm", pl.HitRateHbm), ("hit_rate_dram", pl.HitRateDram), ("hit_rate_local_ssd", pl.HitRateLocalSsd), ("hit_rate_remote", pl.HitRateRemote) })
                    Range($"{pp}.{name}", v, 0, 1, "fraction of input tokens");
                if (hits > 1 + 1e-9) Add($"{pp}.hit_rate_*", string.Create(CultureInfo.InvariantCulture, $"hit rates sum to {hits:0.###} > 1"), "hit rates are shares of input tokens; they sum to at most 1");
                foreach (var (name, v) in new[]
                         {
                             ("prefill_gpu_seconds_per_token", pl.PrefillGpuSecondsPerToken), ("load_hbm_gpu_seconds_per_token", pl.LoadHbmGpuSecondsPerToken),
                             ("load_dram_gpu_seconds_per_token", pl.LoadDramGpuSecondsPerToken), ("load_local_ssd_gpu_seconds_per_token", pl.LoadLocalSsdGpuSecondsPerToken),
                             ("load_remote_gpu_seconds_per_token", pl.LoadRemoteGpuSecondsPerToken), ("decode_gpu_seconds_per_token", pl.DecodeGpuSecondsPerToken),
                             ("fixed_usd_per_gpu_second", pl.FixedUsdPerGpuSecond), ("energy_usd_per_busy_gpu_second", pl.EnergyUsdPerBusyGpuSecond),
                         })
                    Range($"{pp}.{name}", v, 0, 1e6, "per token or per GPU-second");
            }

            if (d.Network is { } n)
            {
                Range($"{p}.network.gb_per_s", n.GbPerS, 0.001, 100_000, "GB/s");
                Range($"{p}.network.usd_per_gb", n.UsdPerGb, 0, 10, "USD per GB");
            }
        }

        for (var i = 0; i < catalog.SuccessPolicies.Count; i++)
        {
            var s = catalog.SuccessPolicies[i];
            var p = $"success_policies[{i}]";
            if (s.Statuses.Count == 0) Add($"{p}.statuses", "is empty", "list the statuses that count, e.g. [ok]");
            foreach (var status in s.Statuses.Where(st => !KnownStatuses.Contains(st)))
                Add($"{p}.statuses", $"unknown status '{status}'", $"use {string.Join(", ", KnownStatuses)}");
            if (s.MinQualityScore is { } q && (q < 0 || q > 1 || Math.Abs(q * 100 - Math.Round(q * 100)) > 1e-9))
                Add($"{p}.min_quality_score", string.Create(CultureInfo.InvariantCulture, $"{q} is not in 0..1 at 0.01 resolution"), "use e.g. 0.7 (scores are counted per hundredth)");
        }

        if (catalog.SuccessPolicies.Count == 0) Add("success_policies", "no success policy", "add one, e.g. {effective_from: 2024-01-01T00:00:00Z, statuses: [ok]}");

        CheckDates(catalog.Hardware, "hardware", h => h.GpuType, Add);
        CheckDates(catalog.Models, "models", m => m.Name, Add);
        CheckDates(catalog.Facilities, "facilities", f => f.Name, Add);
        CheckDates(catalog.Deployments, "deployments", d => d.Name, Add);
        CheckDates(catalog.SuccessPolicies, "success_policies", _ => "policy", Add);
        return problems;
    }

    private static void CheckDates<T>(IReadOnlyList<T> entries, string section, Func<T, string> key, Action<string, string, string> add)
        where T : IEffectiveDated
    {
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.EffectiveTo is { } to && to <= e.EffectiveFrom)
                add($"{section}[{i}].effective_to", $"{to:O} is not after effective_from {e.EffectiveFrom:O}", "end an entry after it starts");
            for (var j = 0; j < i; j++)
            {
                var other = entries[j];
                if (key(other) != key(e)) continue;
                var overlap = e.EffectiveFrom < (other.EffectiveTo ?? DateTimeOffset.MaxValue) && other.EffectiveFrom < (e.EffectiveTo ?? DateTimeOffset.MaxValue);
                if (overlap)
                    add($"{section}[{i}].effective_from", $"'{key(e)}' overlaps {section}[{j}] ({other.EffectiveFrom:O} .. {(other.EffectiveTo is { } t ? t.ToString("O", CultureInfo.InvariantCulture) : "open")})",
                        $"set effective_to on {section}[{j}] to {e.EffectiveFrom:O}, or start this entry after it ends");
            }
        }
    }
}
