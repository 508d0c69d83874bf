using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs.Catalog;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.Jobs.Validation;

/// <summary>A plan to validate production against: the deployment's calibrated baseline, or a stored forecast.</summary>
/// <param name="ForecastId">'' for the baseline.</param>
/// <param name="Deployment">Deployment.</param>
/// <param name="Plan">The plan.</param>
/// <param name="Tolerance">|drift| within which the window counts as on plan.</param>
/// <param name="FromS">First window start to validate (Unix s), or null from the first realized window.</param>
/// <param name="ToS">End of the horizon (Unix s), or null open.</param>
public sealed record PlanTarget(string ForecastId, string Deployment, WorkloadPlan Plan, double Tolerance, long? FromS, long? ToS);

/// <summary>
/// Validates closed windows of every window length against the model and the plans (MODEL.md §4): per window, the model on the observed mix
/// (model accuracy), the plan (baseline or forecast) and the drift decomposition; rolling MAPE and bias over the last
/// <see cref="JobsOptions.ValidationRollingWindows"/> windows. Runs after the realized-efficiency job has closed a window
/// (never past its progress mark), resumes from <c>forecast_progress</c>, and replaces rows on recompute.
/// </summary>
public sealed partial class ValidationRunner(
    ValidationStore store, CatalogStore catalogs, IOptions<JobsOptions> options, TimeProvider time, JobsMetrics metrics, ILogger<ValidationRunner> logger)
{
    /// <summary>Extra plans to validate (stored forecasts); the baseline plans come from the catalog.</summary>
    public Func<CostCatalog, CancellationToken, Task<IReadOnlyList<PlanTarget>>>? ForecastSource { get; set; }

    /// <summary>One pass: every deployment with a plan, every active forecast. Returns the windows validated.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var loaded = await catalogs.GetAsync(o.CatalogVersion is { Length: > 0 } v ? v : null, cancellationToken);
        if (loaded is null) return 0;
        var catalog = loaded.Catalog;
        var now = time.GetUtcNow();
        var done = 0;
        List<PlanTarget>? forecastTargets = null;
        foreach (var minutes in o.EffectiveWindowMinutes)
        {
            var w = minutes * 60;
            var realized = await store.ReadRealizedProgressAsync(w, cancellationToken);
            var targets = new List<PlanTarget>();
            foreach (var deployment in realized.Keys.Order(StringComparer.Ordinal))
            {
                var entry = CostCatalog.EffectiveAt(catalog.Deployments.Where(d => d.Name == deployment), now);
                if (entry?.Plan is { } plan && entry.Serving is not null) targets.Add(new PlanTarget("", deployment, plan, o.DriftTolerance, null, null));
                else if (_unplanned.Add(deployment)) LogNoPlan(logger, deployment, catalog.Version);
            }

            if (ForecastSource is { } source) targets.AddRange(forecastTargets ??= [.. await source(catalog, cancellationToken)]);
            foreach (var target in targets)
            {
                if (!realized.TryGetValue(target.Deployment, out var realizedDone)) continue;
                try
                {
                    done += await ValidateAsync(target, catalog, w, realizedDone, now, publish: minutes == o.ValidationWindowMinutes, cancellationToken);
                }
                catch (CatalogException e)
                {
                    LogUnmodelled(logger, target.Deployment, target.ForecastId, e.Message);
                }
            }
        }

        metrics.JobSucceeded("forecast_validation", time.GetUtcNow());
        return done;
    }

    private readonly HashSet<string> _unplanned = new(StringComparer.Ordinal);

    private async Task<int> ValidateAsync(PlanTarget target, CostCatalog catalog, int w, long realizedDone, DateTimeOffset now, bool publish, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var progress = await store.ReadProgressAsync(target.ForecastId, w, cancellationToken);
        long from;
        if (progress.TryGetValue(target.Deployment, out var mark))
        {
            // Late data recomputed some realized windows after they were validated: validate again from the first.
            var horizon = Math.Max(mark - (long)o.LatenessHorizon.TotalSeconds, target.FromS ?? 0);
            from = await store.StaleFromAsync(target.ForecastId, target.Deployment, w, horizon, mark, cancellationToken) is { } stale ? Math.Min(stale, mark) : mark;
        }
        else
        {
            var floor = target.FromS ?? now.ToUnixTimeSeconds() - (long)o.MaxCatchUp.TotalSeconds;
            if (await store.FirstWindowAsync(target.Deployment, w, floor, cancellationToken) is not { } first) return 0;
            from = first;
        }

        var to = Math.Min(realizedDone, from + (long)o.MaxWindowsPerRun * w);
        if (target.ToS is { } end) to = Math.Min(to, end);
        if (to <= from) return 0;

        var windows = await store.ReadWindowsAsync(target.Deployment, w, from, to, cancellationToken);
        var recent = (await store.ReadRecentAsync(target.ForecastId, target.Deployment, w, from, o.ValidationRollingWindows - 1, cancellationToken)).Reverse().ToList();
        var rows = new List<ValidationRow>();
        foreach (var (observation, _, spend) in windows)
        {
            var pricing = catalog.Resolve(target.Deployment, observation.Start, [CostCatalog.EffectiveAt(catalog.Deployments.Where(d => d.Name == target.Deployment), observation.Start)?.Serving?.GpuType ?? ""]);
            var model = new ServingModel(pricing.Deployment, pricing.Model, pricing.Hardware.Values.Single());
            var row = Compute(target, model, observation, spend, pricing.Facility.Pue, w, catalog.Version);
            recent.Add((row.ModelError, row.DriftRatio));
            if (recent.Count > o.ValidationRollingWindows) recent.RemoveAt(0);
            row = row with
            {
                RollingModelMape = MeanAbs(recent.Select(r => r.ModelError)),
                RollingPlanMape = MeanAbs(recent.Select(r => r.Drift)),
                RollingPlanBias = Mean(recent.Select(r => r.Drift)),
            };
            rows.Add(row);
        }

        await store.WriteAsync(rows, time.GetUtcNow(), cancellationToken);
        await store.SaveProgressAsync(target.ForecastId, target.Deployment, w, to, time.GetUtcNow(), cancellationToken);
        if (publish && rows.Count > 0) metrics.Validated(rows[^1], (rows[^1].WindowStart + TimeSpan.FromSeconds(w)).ToUnixTimeSeconds());
        return rows.Count;
    }

    /// <summary>The validation row of one window (pure: the model, the observation and the plan).</summary>
    public static ValidationRow Compute(PlanTarget target, ServingModel model, WindowObservation observation, double spendUsd, double pue, int windowSeconds, string catalogVersion)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(observation);
        var profiles = WindowProfileBuilder.Build(model, observation, pue);
        var plan = EfficiencyProfile.FromPlan(target.Plan);
        var u = target.Plan.Utilization;
        var realizedWork = profiles.Realized.SpendPerSuccess(u);
        var modelSps = profiles.Model.SpendPerSuccess(u);
        var planSps = plan.SpendPerSuccess(u);
        var bill = observation.Successes > 0 ? spendUsd / observation.Successes : (double?)null;
        var drift = realizedWork is not null && planSps is not null ? DriftDecomposition.Decompose(profiles.Realized, plan, u) : null;
        var driftRatio = drift?.DriftRatio;
        var r = profiles.Realized;
        var m = profiles.Model;
        double LoadPerRequest(EfficiencyProfile x) => x.LoadHbm.GpuSeconds + x.LoadDram.GpuSeconds + x.LoadLocalSsd.GpuSeconds + x.LoadRemote.GpuSeconds;
        return new ValidationRow
        {
            ForecastId = target.ForecastId,
            WindowSeconds = windowSeconds,
            Deployment = target.Deployment,
            WindowStart = observation.Start,
            CatalogVersion = catalogVersion,
            Requests = (long)observation.Requests,
            SuccessfulOutputs = (long)observation.Successes,
            RealizedBill = bill,
            RealizedWork = realizedWork,
            Model = modelSps,
            Plan = planSps,
            ModelError = realizedWork is { } rw && modelSps is { } ms && ms > 0 ? rw / ms - 1 : null,
            DriftRatio = driftRatio,
            UtilizationLogRatio = bill is { } b && realizedWork is { } rw2 && b > 0 && rw2 > 0 ? Math.Log(b / rw2) : 0,
            Factors = drift?.Factors ?? new Dictionary<string, double>(),
            TopFactor = drift?.TopFactor ?? "",
            Explanation = drift?.Explanation ?? (observation.Successes > 0 ? "no plan comparison" : "no successful output in window"),
            PrefillRealized = r.Prefill.GpuSecondsPerToken,
            PrefillPredicted = m.Prefill.GpuSecondsPerToken,
            DecodeRealized = r.Decode.GpuSecondsPerToken,
            DecodePredicted = m.Decode.GpuSecondsPerToken,
            LoadRealized = LoadPerRequest(r),
            LoadPredicted = LoadPerRequest(m),
            EnergyRealized = profiles.RealizedEnergyJoulesPerToken,
            EnergyPredicted = profiles.PredictedEnergyJoulesPerToken,
            OutputTokensPerJoule = observation.FacilityEnergyJoules > 0 ? observation.OutputTokens / observation.FacilityEnergyJoules : null,
            UtilizationRealized = profiles.RealizedUtilization,
            UtilizationPlanned = u,
            HitRates = [r.HitRate(KvTier.Hbm), r.HitRate(KvTier.Dram), r.HitRate(KvTier.LocalSsd), r.HitRate(KvTier.Remote)],
            BreakEvenGbps = [.. profiles.BreakEvenBytesPerSecond.Select(x => x / 1e9)],
            WithinTolerance = driftRatio is { } d && Math.Abs(d) <= target.Tolerance,
        };
    }

    private static double? MeanAbs(IEnumerable<double?> values)
    {
        var xs = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => Math.Abs(v!.Value)).ToList();
        return xs.Count > 0 ? xs.Average() : null;
    }

    private static double? Mean(IEnumerable<double?> values)
    {
        var xs = values.Where(v => v is { } x && double.IsFinite(x)).Select(v => v!.Value).ToList();
        return xs.Count > 0 ? xs.Average() : null;
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Deployment {Deployment} has no plan in catalog {Version}: drift is not computed until `efficiency-monitor calibrate` stores one")]
    private static partial void LogNoPlan(ILogger logger, string deployment, string version);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Deployment {Deployment} (forecast '{ForecastId}') cannot be modelled: {Problem}")]
    private static partial void LogUnmodelled(ILogger logger, string deployment, string forecastId, string problem);
}
