using EfficiencyMonitor.Core.Accounting;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Jobs.Catalog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Jobs.Efficiency;

/// <summary>What one run did.</summary>
/// <param name="Computed">Windows computed for the first time (catch-up included).</param>
/// <param name="Recomputed">Windows recomputed because late data changed their inputs.</param>
/// <param name="Failed">Windows that could not be priced (missing catalog entries).</param>
public sealed record RunSummary(int Computed, int Recomputed, int Failed);

/// <summary>
/// Decides which windows to compute and computes them: closed windows after the recorded progress, in order (catch-up
/// after downtime, bounded per run), and windows within the lateness horizon whose rollup counts changed since they were
/// computed (late data). Each window is read, priced by <see cref="RealizedSpend"/> and written as one insert into a
/// ReplacingMergeTree, and progress is saved after each window, so a kill at any point is repaired by the next run.
/// </summary>
public sealed partial class RealizedEfficiencyRunner(
    EfficiencyStore store, CatalogStore catalogs, IOptions<JobsOptions> options, TimeProvider time, JobsMetrics metrics, ILogger<RealizedEfficiencyRunner> logger)
{
    /// <summary>One pass over every window length and deployment.</summary>
    public async Task<RunSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var catalog = await catalogs.GetAsync(o.CatalogVersion is { Length: > 0 } v ? v : null, cancellationToken);
        if (catalog is null)
        {
            LogNoCatalog(logger, o.CatalogVersion ?? "(latest)");
            return new RunSummary(0, 0, 0);
        }

        int computed = 0, recomputed = 0, failed = 0;
        foreach (var minutes in o.EffectiveWindowMinutes)
        {
            var w = minutes * 60;
            var now = time.GetUtcNow();
            var closableEnd = Floor((now - o.ClosingDelay).ToUnixTimeSeconds(), w);
            var progress = await store.ReadProgressAsync(w, cancellationToken);
            var catchUpFloor = now.ToUnixTimeSeconds() - (long)o.MaxCatchUp.TotalSeconds;

            // Deployments with a progress mark, plus the ones without: discovered from MaxCatchUp back, so a deployment
            // whose first windows were not reached before a restart still starts at its first data (discovering only
            // within the lateness horizon once any mark existed lost those windows — a kill-and-restart test caught it).
            // A known deployment is resumed from its mark even after a long outage.
            var series = progress.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            foreach (var (deployment, firstS) in await store.DiscoverAsync(catchUpFloor, cancellationToken))
            {
                series.TryAdd(deployment, Floor(Math.Max(firstS, catchUpFloor), w));
            }

            foreach (var (deployment, mark) in series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var done = mark;
                // Late data: windows already computed within the horizon whose rollup counts moved since.
                var lateFrom = Math.Max(Floor(closableEnd - (long)o.LatenessHorizon.TotalSeconds, w), 0);
                if (lateFrom < done)
                {
                    var current = await store.ReadFingerprintsAsync(deployment, w, lateFrom, done, stored: false, cancellationToken);
                    var stored = await store.ReadFingerprintsAsync(deployment, w, lateFrom, done, stored: true, cancellationToken);
                    foreach (var (start, counts) in current.OrderBy(kv => kv.Key))
                    {
                        if (stored.TryGetValue(start, out var before) && before == counts) continue;
                        var outcome = await ComputeAsync(deployment, start, w, catalog.Catalog, cancellationToken);
                        if (outcome) recomputed++;
                        else failed++;
                        metrics.Window(w, outcome ? "recomputed" : "failed");
                    }
                }

                // Catch-up: every closed window after the progress mark, oldest first, up to the window holding the
                // deployment's latest data (a deployment that stopped reporting is not extended with empty windows; if
                // it comes back, the gap's windows are computed then, priced for its provisioned tiers).
                var lastData = await store.LastDataAsync(deployment, done, cancellationToken);
                var end = lastData is { } last ? Math.Min(closableEnd, Floor(last, w) + w) : done;
                var count = 0;
                for (var start = done; start + w <= end && count < o.MaxWindowsPerRun; start += w, count++)
                {
                    if (!await ComputeAsync(deployment, start, w, catalog.Catalog, cancellationToken))
                    {
                        failed++;
                        metrics.Window(w, "failed");
                        break;
                    }

                    await store.SaveProgressAsync(deployment, w, start + w, time.GetUtcNow(), cancellationToken);
                    done = start + w;
                    computed++;
                    metrics.Window(w, "computed");
                }

                metrics.Lag(w, deployment, Math.Max(0, end - done));
            }
        }

        return new RunSummary(computed, recomputed, failed);
    }

    /// <summary>Recomputes every window of length <paramref name="windowSeconds"/> in <c>[from, to)</c> with <paramref name="catalog"/> (reprice).</summary>
    public async Task<int> RepriceAsync(int windowSeconds, DateTimeOffset from, DateTimeOffset to, CostCatalog catalog, string? deployment, CancellationToken cancellationToken)
    {
        var fromS = Floor(from.ToUnixTimeSeconds(), windowSeconds);
        var toS = to.ToUnixTimeSeconds();
        var done = 0;
        foreach (var (dep, _) in await store.DiscoverAsync(fromS, cancellationToken))
        {
            if (deployment is not null && dep != deployment) continue;
            var lastData = await store.LastDataAsync(dep, fromS, cancellationToken);
            var end = lastData is { } last ? Math.Min(toS, Floor(last, windowSeconds) + windowSeconds) : fromS;
            for (var start = fromS; start + windowSeconds <= end; start += windowSeconds)
            {
                if (await ComputeAsync(dep, start, windowSeconds, catalog, cancellationToken)) done++;
            }
        }

        return done;
    }

    private async Task<bool> ComputeAsync(string deployment, long startS, int w, CostCatalog catalog, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var input = await store.ReadWindowAsync(deployment, startS, startS + w, startS - (long)o.PowerLookback.TotalSeconds, cancellationToken);
        var startMs = startS * 1000;
        var gpuTypes = input.Power.Where(p => p.MinuteUnixMs >= startMs).Select(p => p.GpuType);
        ResolvedPricing pricing;
        try
        {
            pricing = catalog.Resolve(deployment, input.Start, gpuTypes);
        }
        catch (CatalogException e)
        {
            LogUnpriced(logger, deployment, input.Start, e.Message);
            return false;
        }

        var result = RealizedSpend.Compute(input, pricing, (long)o.PowerLookback.TotalMilliseconds);
        var samples = input.Power.Where(p => p.MinuteUnixMs >= startMs).Sum(p => p.Samples);
        await store.WriteAsync(result, input.Requests.Sum(r => r.Requests), samples, time.GetUtcNow(), cancellationToken);
        return true;
    }

    private static long Floor(long seconds, long w) => seconds >= 0 ? seconds / w * w : -((-seconds + w - 1) / w * w);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "No catalog version {Version} stored: realized efficiency not computed (run `efficiency-monitor catalog add deploy/catalog`)")]
    private static partial void LogNoCatalog(ILogger logger, string version);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Deployment {Deployment} window {WindowStart} cannot be priced: {Problem}")]
    private static partial void LogUnpriced(ILogger logger, string deployment, DateTimeOffset windowStart, string problem);
}
