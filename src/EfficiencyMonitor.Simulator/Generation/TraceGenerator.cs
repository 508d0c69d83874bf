using System.Globalization;
using EfficiencyMonitor.Simulator.Scenarios;
using EfficiencyMonitor.Simulator.Traces;

namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>
/// The simulator's pure core: scenario + options + seed → a deterministic sequence of telemetry records in event-time
/// order. No clock, no I/O: pacing and producing live in the <c>Output</c> namespace, so tests can generate 100,000 records in
/// memory and the same seed always gives the same bytes.
/// </summary>
/// <remarks>
/// <para>
/// <b>Time.</b> Request finishes form a Poisson process of mean rate <see cref="GeneratorOptions.Rate"/> modulated by the
/// diurnal shape (time-rescaled by thinning). Each record is emitted at its <c>finished_at</c>; <c>started_at</c> is the
/// finish minus the simulated service time. Finishes, not arrivals, drive the clock, so the stream is stationary from the
/// first record (the output of an M/G/∞ system is Poisson with the arrival rate), <c>N</c> records at rate <c>R</c> span
/// about <c>N/R</c> seconds, and no timestamp ever lies ahead of the emission time.
/// </para>
/// <para>
/// <b>Workload plan vs physics.</b> Which request comes next (class, tenant, session, token counts, base outcome) is drawn
/// from one sequential stream that incidents never touch; cache state depends only on the plan and tier capacities; timing
/// noise is a hash of (seed, request, purpose). An incident therefore changes only the fields it acts on.
/// </para>
/// <para>
/// <b>Sessions.</b> A multi-turn class continues the session that has waited longest once its next turn can have finished
/// (previous finish + think/tool gap + a nominal service time); otherwise a new session starts. Turn <c>k</c>'s prompt is the
/// system prompt, every earlier turn's new input and visible output (hidden reasoning is not carried), and the new input.
/// </para>
/// <para>
/// <b>KV cache.</b> A prompt is a chain of segments (system prompt, documents, earlier turns), each keyed by a hash of its
/// parent and content, as engines hash prefix blocks. A segment is served from the tier that holds it while the chain is
/// unbroken; after the first miss, tokens still held somewhere are <c>recomputed_input_tokens</c> (prefix caching cannot use
/// them), as are tokens whose tier would load slower than recomputing. Used segments move to HBM in reverse order (the chain's
/// tail becomes least recent, as engines evict leaves first); overflow demotes down the hierarchy.
/// </para>
/// <para>
/// <b>Physics</b> (deliberately not MODEL.md's roofline): prefill at the deployment's tokens/s with an attention knee,
/// tier loads as latency + bytes/bandwidth, decode per-token time growing with the pool's load (batching contention) and
/// context, queueing growing as ρ/(1−ρ), each with log-normal noise. ρ is an exponential average of offered busy time over
/// the pool's instances and speed. Power follows utilization between the GPU type's idle and max watts, under any cap.
/// </para>
/// <para>
/// <b>Trace mode</b> (the constructor taking <see cref="TraceArrival"/>s): a production trace replaces the plan's arrivals,
/// lengths and prefix identity. Each arrival is a request's <c>started_at</c> (trace time rebased to the run's start; the
/// finish follows from the physics, and a reorder buffer restores event-time order); its prompt is its chain of hashed
/// blocks, so the same KV hierarchy decides which blocks come from which tier. Requests go to the instance holding the
/// longest prefix locally (cache-aware routing, as Mooncake's scheduler does; ties spread by hash). The scenario still
/// supplies the fleet (instance counts as written, not scaled by a rate), model, tenants, reasoning share and status rates;
/// sessions, system prompts and documents are not used: the trace's hash chains already carry that reuse.
/// </para>
/// </remarks>
public sealed class TraceGenerator
{
    private const ulong NoiseQueue = 1;
    private const ulong NoisePrefill = 2;
    private const ulong NoiseLoad = 3;
    private const ulong NoiseTransfer = 8;
    private const ulong NoiseDecode = 9;
    private const ulong DrawPoolError = 10;
    private const ulong DrawInvalid = 11;
    private const ulong DrawInvalidKind = 12;
    private const ulong NoisePower = 13;

    private readonly Scenario _scenario;
    private readonly GeneratorOptions _options;
    private readonly SimRandom _plan;
    private readonly ulong _seed;
    private readonly string _runId;
    private readonly long _startMs;
    private readonly double _endSeconds;
    private readonly DeploymentState[] _deployments;
    private readonly PoolState[] _pools;
    private readonly WorkloadState[] _workloads;
    private readonly double[] _workloadCdf;
    private readonly double[] _tenantCdf;
    private readonly IncidentSpec[] _incidents;
    private readonly RecordWriter _writer = new();
    private readonly List<(ulong Key, int Tokens)> _prefix = [];
    private readonly Queue<SimulatedRecord> _pending = new();
    private readonly double _lambdaMax;
    private readonly IEnumerator<TraceArrival>? _arrivals;
    private readonly PriorityQueue<SimulatedRecord, (long Time, long Order)>? _reorder;
    private TraceArrival? _nextArrival;
    private long _arrivalZeroMs = long.MinValue;
    private long _reorderOrder;
    private double _nextSlot;
    private double _nextTick;
    private long _requests;
    private ulong _sessions;
    private bool _done;

    /// <summary>Creates a generator.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public TraceGenerator(Scenario scenario, GeneratorOptions options)
        : this(scenario, options, null)
    {
    }

    /// <summary>
    /// Creates a generator driven by a production trace: arrivals, lengths and prefix identity come from
    /// <paramref name="arrivals"/> (in arrival order; the first is the run's zero), everything else from the scenario.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public TraceGenerator(Scenario scenario, GeneratorOptions options, IEnumerable<TraceArrival>? arrivals)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        _scenario = scenario;
        _options = options;
        _seed = options.Seed;
        _plan = new SimRandom(options.Seed);
        _runId = (SimRandom.Hash(options.Seed, 0x5EED) >> 32).ToString("x8", CultureInfo.InvariantCulture);
        _startMs = options.Start.ToUnixTimeMilliseconds();
        _endSeconds = options.Duration?.TotalSeconds ?? double.PositiveInfinity;
        _incidents = [.. scenario.Incidents];
        _lambdaMax = options.Rate * (1 + scenario.Diurnal.Amplitude);

        // A trace brings its own rate: the scenario's fleet is taken as written.
        var scale = arrivals is null ? options.Rate / scenario.ReferenceRate : 1;
        if (arrivals is not null)
        {
            _arrivals = arrivals.GetEnumerator();
            _reorder = new PriorityQueue<SimulatedRecord, (long, long)>();
        }

        var pools = new List<PoolState>();
        _deployments = new DeploymentState[scenario.Deployments.Count];
        for (var d = 0; d < _deployments.Length; d++)
        {
            var spec = scenario.Deployments[d];
            PoolState Make(PoolSpec p)
            {
                // The fleet is autoscaled to the offered rate: a faster run is a bigger fleet, not an overloaded one.
                var instances = Math.Max(1, (int)Math.Round(p.Instances * scale));
                var state = new PoolState(p, scenario.GpuTypes.First(g => g.Name == p.GpuType), spec, instances, _seed);
                pools.Add(state);
                return state;
            }

            var prefill = Make(spec.Pools.First(p => p.Role is PoolRole.Aggregated or PoolRole.Prefill));
            var decode = spec.Disaggregated ? Make(spec.Pools.First(p => p.Role == PoolRole.Decode)) : prefill;
            _deployments[d] = new DeploymentState(spec, scenario.Models.First(m => m.Name == spec.Model), prefill, decode);
        }

        _pools = [.. pools];
        _tenantCdf = Cdf(scenario.Tenants.Select(t => t.Weight).ToArray());
        _workloads = new WorkloadState[scenario.Workloads.Count];
        for (var w = 0; w < _workloads.Length; w++)
        {
            var spec = scenario.Workloads[w];
            var tenants = spec.Tenants.Count == 0
                ? Enumerable.Range(0, scenario.Tenants.Count).ToArray()
                : spec.Tenants.Select(t => scenario.Tenants.ToList().FindIndex(x => x.Name == t)).ToArray();
            var weights = tenants.Select(t => Math.Max(scenario.Tenants[t].Weight, 1e-9)).ToArray();
            _workloads[w] = new WorkloadState
            {
                Spec = spec,
                Deployment = _deployments[scenario.Deployments.ToList().FindIndex(d => d.Name == spec.Deployment)],
                Tenants = tenants,
                TenantCdf = Cdf(weights),
                SystemKeys = tenants.Select(t => SimRandom.Hash(SimRandom.HashString(scenario.Tenants[t].Name), SimRandom.HashString(spec.Name), 0xC0FFEE)).ToArray(),
                DocumentCdf = spec.Documents is { } docs ? ZipfCdf(docs.Corpus, docs.ZipfExponent) : null,
            };
        }

        _workloadCdf = Cdf(scenario.Workloads.Select(w => w.Weight).ToArray());
        _nextTick = options.PowerSamples ? scenario.PowerSampleIntervalSeconds : double.PositiveInfinity;
        _nextSlot = NextSlot(0);
    }

    /// <summary>Request records generated so far.</summary>
    public long RequestCount => _requests;

    /// <summary>Event time of the run's start.</summary>
    public DateTimeOffset Start => _options.Start;

    /// <summary>Generates every record (until the count or duration is reached; forever when neither is set).</summary>
    public IEnumerable<SimulatedRecord> Generate()
    {
        while (TryNext(out var record))
        {
            yield return record;
        }
    }

    /// <summary>The next record in event-time order; false when the count or duration is reached.</summary>
    public bool TryNext(out SimulatedRecord record) => _reorder is null ? TryNextInOrder(out record) : TryNextReordered(_reorder, out record);

    /// <summary>
    /// Trace mode: a request is generated at its arrival but emitted at its finish, so records wait in a heap until nothing
    /// still to come can be earlier (every later record's time is at or after the next arrival or power tick).
    /// </summary>
    private bool TryNextReordered(PriorityQueue<SimulatedRecord, (long Time, long Order)> heap, out SimulatedRecord record)
    {
        while (true)
        {
            var watermark = _done ? long.MaxValue : _startMs + (long)Math.Floor(Math.Min(_nextSlot, _nextTick) * 1000.0);
            if (heap.TryPeek(out _, out var head) && head.Time <= watermark && _pending.Count == 0)
            {
                record = heap.Dequeue();
                return true;
            }

            if (!TryNextInOrder(out var next))
            {
                return heap.TryDequeue(out record, out _);
            }

            heap.Enqueue(next, (next.EventTimeUnixMs, _reorderOrder++));
        }
    }

    private bool TryNextInOrder(out SimulatedRecord record)
    {
        if (_pending.TryDequeue(out record))
        {
            return true;
        }

        if (_done || (_options.Count is { } count && _requests >= count))
        {
            _done = true;
            record = default;
            return false;
        }

        if (_arrivals is not null && double.IsPositiveInfinity(_nextSlot))
        {
            // The trace is exhausted: the run ends with its last arrival.
            _done = true;
            record = default;
            return false;
        }

        if (_nextTick <= _nextSlot)
        {
            if (_nextTick > _endSeconds)
            {
                _done = true;
                record = default;
                return false;
            }

            EmitPowerSamples(_nextTick);
            _nextTick += _scenario.PowerSampleIntervalSeconds;
            return _pending.TryDequeue(out record) || TryNextInOrder(out record);
        }

        if (_nextSlot > _endSeconds)
        {
            _done = true;
            record = default;
            return false;
        }

        var slot = _nextSlot;
        var arrival = _nextArrival;
        _nextSlot = NextSlot(slot);
        record = GenerateRequest(slot, arrival);
        return true;
    }

    /// <summary>Diurnal multiplier at <paramref name="seconds"/> after the start (mean 1 over a day).</summary>
    private double Diurnal(double seconds)
    {
        var amplitude = _scenario.Diurnal.Amplitude;
        if (amplitude == 0)
        {
            return 1;
        }

        var hour = (_options.Start.UtcDateTime.TimeOfDay.TotalHours + seconds / 3600.0) % 24.0;
        return 1 + amplitude * Math.Cos(2 * Math.PI * (hour - _scenario.Diurnal.PeakHourUtc) / 24.0);
    }

    private double NextSlot(double from)
    {
        if (_arrivals is not null)
        {
            if (!_arrivals.MoveNext())
            {
                _nextArrival = null;
                return double.PositiveInfinity;
            }

            _nextArrival = _arrivals.Current;
            if (_arrivalZeroMs == long.MinValue)
            {
                _arrivalZeroMs = _nextArrival.TimestampMs;
            }

            return (_nextArrival.TimestampMs - _arrivalZeroMs) / 1000.0;
        }

        // Lewis–Shedler thinning: candidates at the peak rate, kept with probability rate(t)/peak.
        var t = from;
        while (true)
        {
            t += _plan.NextExponential() / _lambdaMax;
            if (_plan.NextDouble() * (1 + _scenario.Diurnal.Amplitude) <= Diurnal(t))
            {
                return t;
            }
        }
    }

    private SimulatedRecord GenerateRequest(double now, TraceArrival? arrival)
    {
        var seq = (ulong)_requests++;
        ApplyIncidents(now);
        var workload = _workloads[Pick(_workloadCdf, _plan.NextDouble())];
        var spec = workload.Spec;
        var dep = workload.Deployment;
        var maxContext = dep.Model.MaxContextTokens;

        // ---- plan: who, what, how long (incidents never touch this) ----
        SessionState? session = null;
        if (arrival is null && workload.HasSessions && workload.Ready.TryPeek(out _, out var ready) && ready.Ready <= now)
        {
            session = workload.Ready.Dequeue();
            session.Turn++;
        }
        else if (arrival is null && workload.HasSessions)
        {
            session = NewSession(workload, maxContext);
        }

        int tenant;
        int newTokens;
        int visibleOutput;
        int reasoning;
        _prefix.Clear();
        ulong parent;
        ulong ownKey;
        if (arrival is not null)
        {
            // The trace's prompt is its block chain (its leading ids are the shared system prompt and earlier turns).
            var ti = Pick(workload.TenantCdf, _plan.NextDouble());
            tenant = workload.Tenants[ti];
            parent = 0;
            for (var i = 0; i < arrival.BlockIds.Length; i++)
            {
                _prefix.Add((SimRandom.Hash(0x7ACE_B10C, unchecked((ulong)arrival.BlockIds[i])), arrival.BlockTokenCount(i)));
            }

            newTokens = 0;

            // The trace's output length is all generated tokens; the scenario says how many of them are hidden reasoning.
            reasoning = Math.Min(Tokens(spec.ReasoningTokens), arrival.OutputTokens);
            visibleOutput = arrival.OutputTokens - reasoning;
            ownKey = 0;
        }
        else if (session is not null)
        {
            tenant = session.Tenant;
            parent = workload.SystemKeys[Array.IndexOf(workload.Tenants, tenant)];
            if (spec.SystemPromptTokens > 0)
            {
                _prefix.Add((parent, spec.SystemPromptTokens));
            }

            _prefix.AddRange(session.Segments);
            newTokens = session.NextNewTokens;
            visibleOutput = session.NextOutputTokens;
            reasoning = session.NextReasoningTokens;
            var last = session.Segments.Count > 0 ? session.Segments[^1].Key : parent;
            ownKey = SimRandom.Hash(last, session.Number, (ulong)session.Turn + 1);
        }
        else
        {
            var ti = Pick(workload.TenantCdf, _plan.NextDouble());
            tenant = workload.Tenants[ti];
            parent = workload.SystemKeys[ti];
            if (spec.SystemPromptTokens > 0)
            {
                _prefix.Add((parent, spec.SystemPromptTokens));
            }

            newTokens = Tokens(spec.FirstInputTokens);
            visibleOutput = Tokens(spec.OutputTokens);
            reasoning = Tokens(spec.ReasoningTokens);
            ownKey = SimRandom.Hash(parent, seq, 0xFEED);
        }

        if (arrival is null && spec.Documents is { } docs && workload.DocumentCdf is { } docCdf)
        {
            // Retrieved chunks, placed in a canonical (id) order so prompts sharing documents share a prefix.
            var count = Tokens(docs.PerRequest);
            Span<int> ids = stackalloc int[Math.Min(count, 64)];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = Pick(docCdf, _plan.NextDouble());
            }

            ids.Sort();
            var chain = _prefix.Count > 0 ? _prefix[^1].Key : parent;
            for (var i = 0; i < ids.Length; i++)
            {
                if (i > 0 && ids[i] == ids[i - 1])
                {
                    continue;
                }

                chain = SimRandom.Hash(chain, (ulong)ids[i] + 1, 0xD0C);
                var docTokens = (int)Math.Max(1, Math.Round(Sample(docs.Tokens, SimRandom.HashUnit(0xD0C5, (ulong)ids[i]), SimRandom.HashGaussian(0xD0C5, (ulong)ids[i], 1))));
                _prefix.Add((chain, docTokens));
            }
        }

        var prefixTokens = 0L;
        foreach (var (_, t) in _prefix)
        {
            prefixTokens += t;
        }

        var inputTokens = (int)Math.Min(int.MaxValue, prefixTokens + newTokens);
        var status = "ok";
        var statusDraw = _plan.NextDouble();
        var rates = spec.Status;
        if (statusDraw < rates.Error)
        {
            status = "error";
        }
        else if (statusDraw < rates.Error + rates.Timeout)
        {
            status = "timeout";
        }
        else if (statusDraw < rates.Error + rates.Timeout + rates.Cancelled)
        {
            status = "cancelled";
        }
        else if (statusDraw < rates.Error + rates.Timeout + rates.Cancelled + rates.Filtered)
        {
            status = "filtered";
        }

        var producedShare = _plan.NextDouble();
        var qualityDraw = _plan.NextGaussian();
        var acceptDraw = _plan.NextDouble();

        // ---- incidents acting on the request itself ----
        var reasoningFactor = 1.0;
        foreach (var inc in _incidents)
        {
            if (inc.Kind == IncidentKind.ReasoningSurge && inc.IsActive(now) && (inc.Workloads.Count == 0 || inc.Workloads.Contains(spec.Name)))
            {
                reasoningFactor *= inc.Factor;
            }
        }

        if (reasoningFactor != 1 && reasoning > 0)
        {
            reasoning = (int)Math.Min(int.MaxValue / 4, Math.Round(reasoning * reasoningFactor));
        }

        if (dep.Prefill.ErrorRate > 0 || dep.Decode.ErrorRate > 0)
        {
            var rate = 1 - (1 - dep.Prefill.ErrorRate) * (dep.Decode == dep.Prefill ? 1 : 1 - dep.Decode.ErrorRate);
            if (SimRandom.HashUnit(_seed, seq, DrawPoolError) < rate)
            {
                status = "error";
            }
        }

        var plannedOut = visibleOutput + reasoning;
        var outputTokens = plannedOut;
        switch (status)
        {
            case "error":
                outputTokens = 0;
                break;
            case "timeout" or "cancelled":
                outputTokens = (int)Math.Floor(outputTokens * producedShare);
                break;
        }

        reasoning = Math.Min(reasoning, outputTokens);

        // ---- KV cache: which prefix tokens come from which tier ----
        var instance = arrival is not null ? RouteByPrefix(dep, seq)
            : session is not null
            ? (SimRandom.HashUnit(_seed, seq, 0xAFF) < dep.Spec.KvCache.SessionAffinity ? session.Home : (int)(SimRandom.Hash(_seed, seq, 0x1A57) % (ulong)dep.Caches.Length))
            : (int)(SimRandom.Hash(_seed, seq, 0x1A57) % (ulong)dep.Caches.Length);
        var cache = dep.Caches[instance];
        for (var t = 0; t < 3; t++)
        {
            cache.SetCapacity(t, (long)(dep.BaseCapacity[t] * dep.CapacityFactor[t]));
        }

        dep.Remote.Capacity = (long)(dep.BaseCapacity[3] * dep.CapacityFactor[3]);
        dep.Remote.Trim();

        Span<long> cached = stackalloc long[4];
        var existing = 0L;
        var chainIntact = true;
        foreach (var (segmentKey, tokens) in _prefix)
        {
            var tier = cache.Find(segmentKey);
            if (tier >= 0 && chainIntact)
            {
                cached[tier] += tokens;
            }
            else
            {
                chainIntact = false;
                if (tier >= 0)
                {
                    existing += tokens;
                }
            }
        }

        for (var i = _prefix.Count - 1; i >= 0; i--)
        {
            cache.Use(_prefix[i].Key, (long)(_prefix[i].Tokens * dep.KvBytesPerToken));
        }

        var ownTokens = newTokens + (session is not null ? visibleOutput : 0);
        if (arrival is null)
        {
            cache.Use(ownKey, (long)(ownTokens * dep.KvBytesPerToken));
        }

        // ---- physics ----
        var phys = dep.Spec.Physics;
        var tiers = dep.Spec.KvCache.Tiers;
        var kvb = dep.KvBytesPerToken;
        var prefillRho = Math.Min(dep.Prefill.Load(now), 0.95);
        var decodeRho = Math.Min(dep.Decode.Load(now), 0.95);
        var prefillRate = phys.PrefillTokensPerSecond * dep.Prefill.Speed;
        Span<double> load = stackalloc double[4];
        var recomputed = existing;
        var loadSeconds = 0.0;
        for (var t = 0; t < 4; t++)
        {
            if (cached[t] == 0)
            {
                continue;
            }

            var bw = tiers[t].BandwidthGbPerSecond * 1e9 * dep.BandwidthFactor[t];
            var loadMs = tiers[t].LatencyMs + dep.ExtraLatencyMs[t] + cached[t] * kvb / bw * 1000.0;
            var recomputeMs = cached[t] / prefillRate * 1000.0;
            if (t > 0 && loadMs > recomputeMs)
            {
                // Loading from this tier would be slower than recomputing: the engine recomputes (MODEL.md's break-even).
                recomputed += cached[t];
                cached[t] = 0;
                continue;
            }

            load[t] = loadMs * Noise(phys.Noise, seq, NoiseLoad + (ulong)t);
            loadSeconds += load[t] / 1000.0;
        }

        var cachedTotal = cached[0] + cached[1] + cached[2] + cached[3];
        var uncached = inputTokens - cachedTotal;
        var knee = phys.AttentionKneeTokens;
        var prefillMs = uncached / prefillRate * 1000.0 * (1 + (cachedTotal + uncached / 2.0) / knee);
        var queueMs = phys.QueueBaseMs * prefillRho / (1 - prefillRho) * -Math.Log(1 - SimRandom.HashUnit(_seed, seq, NoiseQueue));
        prefillMs *= Noise(phys.Noise, seq, NoisePrefill);
        var transferMs = 0.0;
        var transferBytes = 0L;
        if (dep.Spec.Disaggregated)
        {
            transferBytes = (long)(inputTokens * kvb);
            transferMs = (dep.Spec.KvCache.NetworkLatencyMs + transferBytes / (dep.Spec.KvCache.NetworkGbPerSecond * 1e9) * 1000.0) * Noise(phys.Noise, seq, NoiseTransfer);
        }

        var perToken = phys.DecodeMsPerToken * (1 + phys.BatchSlowdown * Math.Pow(decodeRho, 1.5)) * (1 + (inputTokens + outputTokens / 2.0) / knee * 0.5)
            / dep.Decode.Speed * Noise(phys.Noise, seq, NoiseDecode);
        var decodeMs = outputTokens > 1 ? (outputTokens - 1) * perToken : 0;
        var ttftMs = queueMs + prefillMs + loadSeconds * 1000.0 + transferMs + (outputTokens > 0 ? perToken : 0);
        var totalMs = ttftMs + decodeMs;

        // Offered work, from the plan's tokens (a failed request still held its slot).
        var nominalPrefill = uncached / (double)phys.PrefillTokensPerSecond + loadSeconds;
        var nominalDecode = plannedOut * phys.DecodeMsPerToken / 1000.0 / phys.MaxBatch;
        if (dep.Decode == dep.Prefill)
        {
            dep.Prefill.Offer(now, nominalPrefill + nominalDecode);
        }
        else
        {
            dep.Prefill.Offer(now, nominalPrefill);
            dep.Decode.Offer(now, nominalDecode);
        }

        // Generated clock: now is the finish. Trace: now is the arrival, and the finish follows from the physics.
        var finishedMs = _startMs + (long)Math.Round(now * 1000.0);
        var startedMs = finishedMs - (long)Math.Round(totalMs);
        if (arrival is not null)
        {
            startedMs = finishedMs;
            finishedMs = startedMs + (long)Math.Round(totalMs);
        }

        var firstTokenMs = startedMs + (long)Math.Round(ttftMs);
        var kvBytes = transferBytes + (long)((cached[1] + cached[2] + cached[3]) * kvb);

        // ---- session bookkeeping: schedule its next turn ----
        if (session is not null)
        {
            session.Segments.Add((ownKey, ownTokens));
            session.ContextTokens += ownTokens;
            if (session.Turn + 1 < session.TurnsTotal)
            {
                PlanNextTurn(workload, session, now, maxContext);
            }
        }

        var requestId = string.Create(CultureInfo.InvariantCulture, $"req-{_runId}-{seq:D9}");
        var decodePool = dep.Decode.Spec;
        double? quality = null;
        bool? accepted = null;
        if (spec.Quality is { } q && status == "ok")
        {
            quality = Math.Round(Math.Clamp(q.MeanScore + 0.12 * qualityDraw, 0, 1), 3);
            accepted = acceptDraw < q.AcceptedRate;
        }

        var fields = new RequestFields
        {
            RequestId = requestId,
            SessionId = session?.Id,
            Tenant = _scenario.Tenants[tenant].Name,
            Deployment = dep.Spec.Name,
            Model = dep.Model.Name,
            ServingPattern = dep.ServingPattern,
            PrefillPool = dep.Spec.Disaggregated ? dep.Prefill.Spec.Name : null,
            DecodePool = dep.Spec.Disaggregated ? decodePool.Name : null,
            GpuType = decodePool.GpuType,
            Region = dep.Spec.Region,
            StartedAtMs = startedMs,
            FirstTokenAtMs = outputTokens > 0 ? firstTokenMs : null,
            FinishedAtMs = finishedMs,
            InputTokens = inputTokens,
            CachedHbm = cached[0],
            CachedDram = cached[1],
            CachedLocalSsd = cached[2],
            CachedRemote = cached[3],
            RecomputedInputTokens = recomputed,
            OutputTokens = outputTokens,
            ReasoningTokens = reasoning,
            QueueMs = queueMs,
            PrefillMs = prefillMs,
            KvTransferMs = dep.Spec.Disaggregated ? transferMs : null,
            LoadHbm = load[0],
            LoadDram = load[1],
            LoadLocalSsd = load[2],
            LoadRemote = load[3],
            DecodeMs = decodeMs,
            KvBytesTransferred = kvBytes,
            KvCompressionRatio = dep.Model.KvCompressionRatio,
            Status = status,
            QualityScore = quality,
            Accepted = accepted,
        };
        var payload = _writer.WriteRequest(fields);
        var key = session?.Id ?? requestId;
        if (_options.InvalidRate > 0 && SimRandom.HashUnit(_seed, seq, DrawInvalid) < _options.InvalidRate)
        {
            var (bad, reason) = InvalidRecords.Corrupt(payload, fields, SimRandom.Hash(_seed, seq, DrawInvalidKind));
            return new SimulatedRecord(TraceTopic.InferenceRequests, key, finishedMs, bad, reason);
        }

        return new SimulatedRecord(TraceTopic.InferenceRequests, key, finishedMs, payload, null);
    }

    private SessionState NewSession(WorkloadState workload, int maxContext)
    {
        var spec = workload.Spec;
        var number = ++_sessions;
        var ti = Pick(workload.TenantCdf, _plan.NextDouble());
        var session = new SessionState
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"sess-{_runId}-{number}"),
            Number = number,
            Tenant = workload.Tenants[ti],
            Home = _plan.NextInt(workload.Deployment.Caches.Length),
            TurnsTotal = Math.Max(1, Tokens(spec.Turns)),
            NextNewTokens = Math.Min(Tokens(spec.FirstInputTokens), Math.Max(1, maxContext - spec.SystemPromptTokens)),
            NextOutputTokens = Tokens(spec.OutputTokens),
            NextReasoningTokens = Tokens(spec.ReasoningTokens),
        };
        session.ContextTokens = spec.SystemPromptTokens;
        return session;
    }

    private void PlanNextTurn(WorkloadState workload, SessionState session, double now, int maxContext)
    {
        var spec = workload.Spec;
        var nextNew = Tokens(spec.FollowupInputTokens);
        var nextOut = Tokens(spec.OutputTokens);
        var nextReasoning = Tokens(spec.ReasoningTokens);
        var gap = Sample(spec.GapSeconds, _plan.NextDouble(), _plan.NextGaussian());
        if (session.ContextTokens + nextNew + nextOut + nextReasoning > maxContext)
        {
            // The context would overflow the model: the session ends (the client starts a fresh one).
            return;
        }

        session.NextNewTokens = nextNew;
        session.NextOutputTokens = nextOut;
        session.NextReasoningTokens = nextReasoning;

        // Nominal service time from the plan alone (never from realized timings), so incidents cannot reorder sessions.
        var phys = workload.Deployment.Spec.Physics;
        var nominal = nextNew / phys.PrefillTokensPerSecond + (nextOut + nextReasoning) * phys.DecodeMsPerToken * 1.5 / 1000.0 + 0.5;
        workload.Ready.Enqueue(session, (now + gap + nominal, session.Number));
    }

    private void ApplyIncidents(double now)
    {
        foreach (var dep in _deployments)
        {
            for (var t = 0; t < 4; t++)
            {
                dep.CapacityFactor[t] = 1;
                dep.BandwidthFactor[t] = 1;
                dep.ExtraLatencyMs[t] = 0;
            }
        }

        foreach (var pool in _pools)
        {
            pool.Speed = 1;
            pool.PowerCapWatts = double.PositiveInfinity;
            pool.ErrorRate = 0;
        }

        foreach (var inc in _incidents)
        {
            if (!inc.IsActive(now))
            {
                continue;
            }

            switch (inc.Kind)
            {
                case IncidentKind.TierShrunk or IncidentKind.TierDegraded:
                    foreach (var dep in _deployments)
                    {
                        if (inc.Deployment is not null && inc.Deployment != dep.Spec.Name)
                        {
                            continue;
                        }

                        var t = (int)inc.Tier!.Value;
                        if (inc.Kind == IncidentKind.TierShrunk)
                        {
                            dep.CapacityFactor[t] *= inc.Factor;
                        }
                        else
                        {
                            dep.BandwidthFactor[t] *= inc.Factor;
                            dep.ExtraLatencyMs[t] += inc.ExtraLatencyMs;
                        }
                    }

                    break;
                case IncidentKind.PowerCap:
                    foreach (var pool in _pools.Where(p => p.Spec.Name == inc.Pool))
                    {
                        pool.PowerCapWatts = Math.Min(pool.PowerCapWatts, inc.Watts);

                        // Clocks fall roughly with the cube root of power; throughput follows clocks (a simulator choice).
                        var headroom = Math.Clamp((inc.Watts - pool.Gpu.IdleWatts) / (pool.Gpu.MaxWatts - pool.Gpu.IdleWatts), 0.05, 1);
                        pool.Speed *= Math.Pow(headroom, 1.0 / 3.0);
                    }

                    break;
                case IncidentKind.ThermalThrottle:
                    foreach (var pool in _pools.Where(p => p.Spec.Name == inc.Pool))
                    {
                        pool.Speed *= inc.Factor;
                    }

                    break;
                case IncidentKind.PoolErrors:
                    foreach (var pool in _pools.Where(p => p.Spec.Name == inc.Pool))
                    {
                        pool.ErrorRate = 1 - (1 - pool.ErrorRate) * (1 - inc.ErrorRate);
                    }

                    break;
            }
        }
    }

    private void EmitPowerSamples(double tick)
    {
        ApplyIncidents(tick);
        var sampledMs = _startMs + (long)Math.Round(tick * 1000.0);
        var interval = _scenario.PowerSampleIntervalSeconds;
        var tickIndex = (ulong)Math.Round(tick / interval);
        foreach (var dep in _deployments)
        {
            foreach (var pool in dep.Decode == dep.Prefill ? [dep.Prefill] : new[] { dep.Prefill, dep.Decode })
            {
                var rho = Math.Min(pool.Load(tick), 1.0);
                var gpu = pool.Gpu;
                var memory = gpu.MemoryGb * 1e9;
                var weights = dep.Spec.Physics.WeightsGbPerInstance * 1e9 / pool.Spec.GpusPerInstance;
                var poolHash = SimRandom.HashString(pool.Spec.Name);
                for (var g = 0; g < pool.Uuids.Length; g++)
                {
                    var gpuHash = SimRandom.Hash(poolHash, (ulong)g);
                    var utilization = Math.Round(Math.Clamp(rho * (1 + 0.05 * SimRandom.HashGaussian(_seed ^ gpuHash, tickIndex, NoisePower)), 0, 1), 4);

                    // Power grows sub-linearly with busy time; a throttled GPU draws less; a cap clips it.
                    var dynamic = (gpu.MaxWatts - gpu.IdleWatts) * Math.Pow(utilization, 0.85) * pool.Speed * pool.Speed;
                    var power = gpu.IdleWatts * (1 + 0.02 * SimRandom.HashGaussian(_seed ^ gpuHash, tickIndex, NoisePower + 1)) + dynamic;
                    power = Math.Round(Math.Clamp(Math.Min(power, pool.PowerCapWatts), 0, 10_000), 2);
                    pool.Energy[g] = Math.Round(pool.Energy[g] + power * interval, 3);
                    var instance = g / pool.Spec.GpusPerInstance;
                    var kvInHbm = pool == dep.Prefill && instance < dep.Caches.Length
                        ? dep.Caches[instance].HbmBytes / (double)pool.Spec.GpusPerInstance
                        : rho * Math.Max(0, memory - weights) * 0.8;
                    var used = (long)Math.Min(memory, weights + kvInHbm);
                    var payload = _writer.WritePower(new PowerFields
                    {
                        Node = pool.Nodes[g],
                        GpuIndex = pool.GpuIndex[g],
                        GpuUuid = pool.Uuids[g],
                        GpuType = gpu.Name,
                        Pool = pool.Spec.Name,
                        Deployment = dep.Spec.Name,
                        SampledAtMs = sampledMs,
                        PowerWatts = power,
                        EnergyJoulesTotal = pool.Energy[g],
                        Utilization = utilization,
                        MemoryUsedBytes = used,
                    });
                    _pending.Enqueue(new SimulatedRecord(TraceTopic.GpuPower, pool.Uuids[g], sampledMs, payload, null));
                }
            }
        }
    }

    /// <summary>The instance holding the longest prefix of the prompt in its local tiers; ties go to a hashed start.</summary>
    private int RouteByPrefix(DeploymentState dep, ulong seq)
    {
        var n = dep.Caches.Length;
        var first = (int)(SimRandom.Hash(_seed, seq, 0x1A57) % (ulong)n);
        var best = first;
        var bestLength = -1;
        for (var k = 0; k < n; k++)
        {
            var i = (first + k) % n;
            var length = 0;
            while (length < _prefix.Count && dep.Caches[i].Find(_prefix[length].Key) is >= 0 and < 3)
            {
                length++;
            }

            if (length > bestLength)
            {
                best = i;
                bestLength = length;
            }
        }

        return best;
    }

    /// <summary>Mean-one log-normal noise drawn from (seed, request, purpose) alone.</summary>
    private double Noise(double sigma, ulong seq, ulong purpose) =>
        sigma == 0 ? 1 : Math.Exp(sigma * SimRandom.HashGaussian(_seed ^ 0x9015E, seq, purpose) - sigma * sigma / 2);

    private int Tokens(DistributionSpec spec) =>
        (int)Math.Min(int.MaxValue / 4, Math.Max(0, Math.Round(Sample(spec, _plan.NextDouble(), _plan.NextGaussian()))));

    private static double Sample(DistributionSpec spec, double uniform, double gaussian) => spec.Shape switch
    {
        DistributionShape.Constant => spec.Value,
        DistributionShape.Uniform => spec.Min + (spec.Max - spec.Min) * uniform,
        _ => Math.Clamp(spec.Value * Math.Exp(spec.Sigma * gaussian), spec.Min, spec.Max),
    };

    private static int Pick(double[] cdf, double u)
    {
        var i = Array.BinarySearch(cdf, u);
        i = i < 0 ? ~i : i + 1;
        return Math.Min(i, cdf.Length - 1);
    }

    private static double[] Cdf(double[] weights)
    {
        var total = weights.Sum();
        var cdf = new double[weights.Length];
        var acc = 0.0;
        for (var i = 0; i < weights.Length; i++)
        {
            acc += weights[i] / total;
            cdf[i] = acc;
        }

        cdf[^1] = 1.0;
        return cdf;
    }

    private static double[] ZipfCdf(int n, double exponent) =>
        Cdf(Enumerable.Range(1, n).Select(k => 1.0 / Math.Pow(k, exponent)).ToArray());
}
