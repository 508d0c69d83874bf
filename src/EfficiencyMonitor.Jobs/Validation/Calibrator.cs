using System.Globalization;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>What <see cref="Calibrator.CalibrateAsync"/> did.</summary>
/// <param name="Catalog">The new catalog version (stored), or null when nothing could be calibrated.</param>
/// <param name="Base">The version it was derived from.</param>
/// <param name="Results">Per deployment: the fitted entry, windows used and notes.</param>
/// <param name="Skipped">Deployments not calibrated, with the reason.</param>
public sealed record CalibrationRun(LoadedCatalog? Catalog, CostCatalog Base, IReadOnlyList<CalibrationResult> Results, IReadOnlyList<string> Skipped);

/// <summary>
/// Calibrates deployments on the realized windows in a range and stores the result as a new catalog version: the fitted
/// serving fractions and tier bandwidths, and the plan (baseline) drift is measured against from then on.
/// </summary>
public sealed class Calibrator(ValidationStore store, CatalogStore catalogs)
{
    /// <summary>Fits every deployment with a serving section (or only <paramref name="deployment"/>) on <c>[from, to)</c>.</summary>
    /// <param name="from">Range start.</param>
    /// <param name="to">Range end.</param>
    /// <param name="windowSeconds">Window length the realized windows were computed with.</param>
    /// <param name="deployment">Only this deployment, or all.</param>
    /// <param name="baseVersion">Catalog version to start from (default: newest stored).</param>
    /// <param name="newVersion">Version label of the result (default: base + <c>-cal.yyyyMMddHHmm</c> of <paramref name="to"/>).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public async Task<CalibrationRun> CalibrateAsync(
        DateTimeOffset from, DateTimeOffset to, int windowSeconds, string? deployment, string? baseVersion, string? newVersion, CancellationToken cancellationToken)
    {
        var loaded = await catalogs.GetAsync(baseVersion, cancellationToken)
            ?? throw new CatalogException($"catalog version '{baseVersion ?? "(newest)"}' is not stored: run `efficiency-monitor catalog add deploy/catalog` or see `catalog list`");
        var catalog = loaded.Catalog;
        var results = new List<CalibrationResult>();
        var skipped = new List<string>();
        var deployments = catalog.Deployments.Where(d => deployment is null || d.Name == deployment).Select(d => d.Name).Distinct().ToList();
        if (deployment is not null && deployments.Count == 0) throw new CatalogException($"deployment '{deployment}' is not in catalog {catalog.Version}");
        var replaced = new List<DeploymentEntry>(catalog.Deployments);
        foreach (var name in deployments)
        {
            var entry = CostCatalog.EffectiveAt(catalog.Deployments.Where(d => d.Name == name), to);
            if (entry?.Serving is null)
            {
                skipped.Add($"{name}: no serving section in catalog {catalog.Version} (add gpu_type, gpus per instance, decode_batch, mfu/mbu)");
                continue;
            }

            var windows = (await store.ReadWindowsAsync(name, windowSeconds, from.ToUnixTimeSeconds(), to.ToUnixTimeSeconds(), cancellationToken)).Select(w => w.Observation).ToList();
            if (windows.All(w => w.Requests <= 0))
            {
                skipped.Add($"{name}: no realized window with requests in the range (has the realized-efficiency job run over it?)");
                continue;
            }

            var pricing = catalog.Resolve(name, to, [entry.Serving.GpuType]);
            var result = Calibration.Fit(entry, pricing.Model, pricing.Hardware[entry.Serving.GpuType], pricing.Facility, windows);
            results.Add(result);
            replaced[replaced.IndexOf(entry)] = result.Deployment;
        }

        if (results.Count == 0) return new CalibrationRun(null, catalog, results, skipped);
        var version = newVersion ?? string.Create(CultureInfo.InvariantCulture, $"{catalog.Version}-cal.{to.UtcDateTime:yyyyMMddHHmm}");
        var calibrated = catalog with
        {
            Version = version,
            Description = string.Create(CultureInfo.InvariantCulture, $"{catalog.Version} calibrated on {from:yyyy-MM-ddTHH:mm}Z..{to:yyyy-MM-ddTHH:mm}Z ({string.Join(", ", results.Select(r => r.Deployment.Name))})"),
            Deployments = replaced,
        };
        var problems = CatalogValidator.Validate(calibrated);
        if (problems.Count > 0) throw new CatalogException(problems);
        var stored = LoadedCatalog.From(calibrated, $"calibrate {from:O}..{to:O}");
        await catalogs.AddAsync(stored, cancellationToken);
        return new CalibrationRun(stored, catalog, results, skipped);
    }
}
