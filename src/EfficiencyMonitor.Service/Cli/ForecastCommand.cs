using System.CommandLine;
using System.Globalization;
using EfficiencyMonitor.Core.Catalog;
using EfficiencyMonitor.Core.Model;
using EfficiencyMonitor.Jobs;
using EfficiencyMonitor.Jobs.Catalog;
using EfficiencyMonitor.Jobs.Forecasts;
using Microsoft.Extensions.Logging;

namespace EfficiencyMonitor.Service.Cli;

/// <summary>
/// <c>efficiency-monitor forecast create|show|list|what-if</c>: store a planned workload with its predicted spend per
/// successful output, follow its validation against production, and ask what-if questions of the model offline.
/// </summary>
internal static class ForecastCommand
{
    public static Command Create()
    {
        var command = new Command("forecast", "Forecasts (MODEL.md §4.2): store a planned workload and its predicted spend per successful output, show its validation against production, compare what-ifs.");
        command.Subcommands.Add(CreateVerb());
        command.Subcommands.Add(Show());
        command.Subcommands.Add(List());
        command.Subcommands.Add(WhatIf());
        return command;
    }

    private static Option<bool> Json() => new("--json") { Description = "Print JSON (snake_case) instead of text." };

    private static Command CreateVerb()
    {
        var file = new Argument<string>("file") { Description = "Forecast file (YAML; see deploy/forecasts/README.md)." };
        var version = new Option<string?>("--catalog-version") { Description = "Catalog version to evaluate with (default: the file's catalog_version, else the newest stored; the embedded catalog when none is stored)." };
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var json = Json();
        var command = new Command("create", "Validate a forecast file, evaluate it with the catalog, store it in ClickHouse and print its id, predicted spend per successful output, GPUs needed and break-even bandwidths.")
        {
            file, version, url, database, json,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(() => Guard(async () =>
        {
            var spec = ForecastFiles.Load(parse.GetValue(file)!);
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var (_, clickHouse) = EfficiencyCli.ClickHouse(parse, url, database);
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var requested = parse.GetValue(version) ?? spec.CatalogVersion;
            var (catalog, note) = await ForecastOperations.CatalogForCreateAsync(toolkit.Catalogs, requested, cancellationToken);
            if (note is not null) await Console.Error.WriteLineAsync($"note: {note}");
            spec = spec with { CatalogVersion = catalog.Catalog.Version };
            var evaluation = ForecastPlanner.Evaluate(spec, catalog.Catalog, spec.Horizon.From);
            var store = new ForecastStore(toolkit.Client, clickHouse, TimeProvider.System);
            var (forecast, stored) = await store.AddAsync(spec, cancellationToken);
            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(ForecastJson.Serialize(new ForecastShow(forecast, evaluation, [])));
                return 0;
            }

            await Console.Out.WriteAsync(ForecastReport.Created(forecast.ForecastId, evaluation, stored));
            return 0;
        })));
        return command;
    }

    private static Command Show()
    {
        var key = new Argument<string>("forecast") { Description = "Forecast id or name (the newest forecast of that name)." };
        var last = new Option<int>("--last") { Description = "Validated windows to list.", DefaultValueFactory = _ => 10 };
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var json = Json();
        var command = new Command("show", "Print a stored forecast, its predicted figures and its validation so far (windows, rolling MAPE and bias, within tolerance, the last windows with realized vs plan and the top factor).")
        {
            key, last, url, database, json,
        };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(() => Guard(async () =>
        {
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var (_, clickHouse) = EfficiencyCli.ClickHouse(parse, url, database);
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var store = new ForecastStore(toolkit.Client, clickHouse, TimeProvider.System);
            var show = await ForecastOperations.ShowAsync(store, toolkit.Catalogs, parse.GetValue(key)!, cancellationToken);
            if (show is null)
            {
                await Console.Error.WriteLineAsync($"error: no forecast with id or name '{parse.GetValue(key)}'; see `efficiency-monitor forecast list`");
                return CommandLine.BadConfiguration;
            }

            await Console.Out.WriteAsync(parse.GetValue(json) ? ForecastJson.Serialize(show) + Environment.NewLine : ForecastReport.Show(show, Math.Max(1, parse.GetValue(last))));
            return 0;
        })));
        return command;
    }

    private static Command List()
    {
        var url = EfficiencyCli.ClickHouseUrl();
        var database = EfficiencyCli.Database();
        var json = Json();
        var command = new Command("list", "List the stored forecasts, oldest first.") { url, database, json };
        command.SetAction((parse, cancellationToken) => CommandLine.GuardAsync(async () =>
        {
            using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var (_, clickHouse) = EfficiencyCli.ClickHouse(parse, url, database);
            using var toolkit = EfficiencyCli.Toolkit(parse, url, database, logs);
            var store = new ForecastStore(toolkit.Client, clickHouse, TimeProvider.System);
            var forecasts = await store.ListAsync(cancellationToken);
            await Console.Out.WriteAsync(parse.GetValue(json) ? ForecastJson.Serialize(forecasts) + Environment.NewLine : ForecastReport.List(forecasts));
            return 0;
        }));
        return command;
    }

    private static Command WhatIf()
    {
        var file = new Argument<string?>("file") { Description = "Forecast file to compare a variant of (YAML).", Arity = ArgumentArity.ZeroOrOne };
        var hitRate = new Option<string[]>("--hit-rate")
        {
            Description = "Shift a tier's hit rate by points of input tokens, e.g. --hit-rate dram=+10 --hit-rate remote=-5 (tiers: hbm, dram, local_ssd, remote).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var reasoning = new Option<double?>("--reasoning-factor") { Description = "Multiply hidden reasoning tokens (e.g. 1.5)." };
        var compression = new Option<double?>("--kv-compression") { Description = "KV compression ratio replacing the model's (KV bytes scale by old/new)." };
        var gpuType = new Option<string?>("--gpu-type") { Description = "GPU type replacing the deployment's (a catalog hardware entry); with --model, the GPU for the critical batch." };
        var disaggregated = new Option<bool?>("--disaggregated") { Description = "Serve prefill and decode on separate pools (true) or not (false)." };
        var catalogDir = new Option<string?>("--catalog-dir") { Description = "Catalog directory (default: the catalog embedded in the binary)." };
        var model = new Option<string?>("--model") { Description = "Print a model's derived figures instead (catalog model name, or its last path segment)." };
        var kvDtype = new Option<string?>("--kv-dtype") { Description = "With --model: KV element type (fp16, bf16, fp8, int8, int4)." };
        var json = Json();
        var command = new Command("what-if", "Evaluate a forecast file and a variant of it side by side (spend per successful output, busy GPU-s per request, GPUs, break-even bandwidth, delta %), or print a model's figures (--model). Offline: no ClickHouse needed.")
        {
            file, hitRate, reasoning, compression, gpuType, disaggregated, catalogDir, model, kvDtype, json,
        };
        command.SetAction((parse, _) => CommandLine.GuardAsync(() => Guard(async () =>
        {
            var path = parse.GetValue(file);
            var modelName = parse.GetValue(model);
            if (path is null && modelName is null)
            {
                await Console.Error.WriteLineAsync("error: give a forecast file (forecast what-if deploy/forecasts/llama-chat-2027q1.yaml --hit-rate dram=+10) or --model NAME");
                return CommandLine.BadConfiguration;
            }

            var catalog = parse.GetValue(catalogDir) is { Length: > 0 } dir ? CatalogFiles.LoadDirectory(dir) : CatalogFiles.LoadEmbedded();
            var asJson = parse.GetValue(json);
            if (modelName is not null)
            {
                var figures = ModelFigures.For(catalog.Catalog, modelName, parse.GetValue(kvDtype), parse.GetValue(gpuType), TimeProvider.System.GetUtcNow());
                await Console.Out.WriteAsync(asJson ? ForecastJson.Serialize(figures) + Environment.NewLine : ForecastReport.Model(figures));
                if (path is null) return 0;
            }

            var spec = ForecastFiles.Load(path!);
            if (spec.CatalogVersion is { } named && named != catalog.Catalog.Version)
                await Console.Error.WriteLineAsync($"note: the file names catalog {named}; evaluating with {catalog.Catalog.Version} from {catalog.Source}");
            var variant = new ForecastVariant
            {
                HitRatePoints = ForecastOperations.ParseHitRates(parse.GetValue(hitRate) ?? []),
                ReasoningFactor = parse.GetValue(reasoning),
                KvCompression = parse.GetValue(compression),
                GpuType = modelName is null ? parse.GetValue(gpuType) : null,
                Disaggregated = parse.GetValue(disaggregated),
            };
            var comparison = ForecastOperations.Compare(spec, catalog.Catalog, variant);
            await Console.Out.WriteAsync(asJson ? ForecastJson.Serialize(comparison) + Environment.NewLine : ForecastReport.WhatIf(comparison));
            return 0;
        })));
        return command;
    }

    /// <summary>Turns forecast and catalog problems into the listed-problems output and exit code 2.</summary>
    private static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ForecastException e)
        {
            await Console.Error.WriteLineAsync("error: the forecast cannot be used:");
            foreach (var problem in e.Problems) await Console.Error.WriteLineAsync($"  - {problem}");
            return CommandLine.BadConfiguration;
        }
        catch (CatalogException e)
        {
            return await EfficiencyCli.ReportAsync(e);
        }
    }
}

/// <summary>Forecast operations shared by the verbs and the HTTP routes: catalog choice, show, what-if.</summary>
public static class ForecastOperations
{
    /// <summary>
    /// The catalog a new forecast is evaluated with: <paramref name="version"/> (or the newest) from <c>catalog_versions</c>;
    /// when it is not stored and the embedded catalog is that version (or none is stored at all), the embedded catalog is
    /// stored first so the validation job finds the version the forecast names.
    /// </summary>
    public static async Task<(LoadedCatalog Catalog, string? Note)> CatalogForCreateAsync(CatalogStore catalogs, string? version, CancellationToken cancellationToken)
    {
        var stored = await catalogs.GetAsync(version, cancellationToken);
        if (stored is not null) return (stored, null);
        var embedded = CatalogFiles.LoadEmbedded();
        if (version is not null && version != embedded.Catalog.Version)
        {
            var known = (await catalogs.ListAsync(cancellationToken)).Select(v => v.Version).ToList();
            throw new CatalogException($"catalog version '{version}' is not stored (stored: {(known.Count == 0 ? "none" : string.Join(", ", known))}); fix: `efficiency-monitor catalog add DIR` or pass --catalog-version with a stored one");
        }

        await catalogs.AddAsync(embedded, cancellationToken);
        return (embedded, $"catalog {embedded.Catalog.Version} was not stored: stored the embedded catalog (as the service does at start)");
    }

    /// <summary>A stored forecast with its evaluation (null when its catalog version is unavailable) and validation rows; null when not found.</summary>
    public static async Task<ForecastShow?> ShowAsync(ForecastStore store, CatalogStore catalogs, string idOrName, CancellationToken cancellationToken)
    {
        var found = await store.GetWithValidationAsync(idOrName, cancellationToken);
        if (found is not { } f) return null;
        ForecastEvaluation? evaluation = null;
        try
        {
            var catalog = await catalogs.GetAsync(f.Forecast.CatalogVersion, cancellationToken);
            if (catalog is null)
            {
                var embedded = CatalogFiles.LoadEmbedded();
                if (embedded.Catalog.Version == f.Forecast.CatalogVersion) catalog = embedded;
            }

            if (catalog is not null) evaluation = ForecastPlanner.Evaluate(f.Forecast.Spec, catalog.Catalog, f.Forecast.Spec.Horizon.From);
        }
        catch (CatalogException)
        {
            evaluation = null;
        }

        return new ForecastShow(f.Forecast, evaluation, f.Validation);
    }

    /// <summary>Baseline and variant evaluated at the horizon start.</summary>
    public static ForecastComparison Compare(ForecastSpec spec, CostCatalog catalog, ForecastVariant variant)
    {
        var at = spec.Horizon.From;
        var baseline = ForecastPlanner.Evaluate(spec, catalog, at);
        var (variantSpec, variantCatalog) = variant.Apply(spec, catalog, at);
        return new ForecastComparison(variant.Describe(), baseline, ForecastPlanner.Evaluate(variantSpec, variantCatalog, at));
    }

    /// <summary>Parses <c>TIER=±X</c> hit-rate shifts (points); every bad one listed.</summary>
    /// <exception cref="ForecastException">A shift that is not TIER=±X.</exception>
    public static Dictionary<KvTier, double> ParseHitRates(IEnumerable<string> values)
    {
        var shifts = new Dictionary<KvTier, double>();
        var problems = new List<string>();
        foreach (var value in values)
        {
            var parts = value.Split('=', 2, StringSplitOptions.TrimEntries);
            var tier = parts.Length == 2 ? ModelFigures.ParseTier(parts[0]) : null;
            if (tier is null || !double.TryParse(parts[1].TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out var points))
            {
                problems.Add($"--hit-rate '{value}' is not TIER=±POINTS; fix: e.g. dram=+10 or remote=-5 (tiers: hbm, dram, local_ssd, remote)");
                continue;
            }

            shifts[tier.Value] = shifts.GetValueOrDefault(tier.Value) + points;
        }

        if (problems.Count > 0) throw new ForecastException(problems);
        return shifts;
    }
}
