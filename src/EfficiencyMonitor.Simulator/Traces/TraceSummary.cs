using System.Globalization;
using System.Text;

namespace EfficiencyMonitor.Simulator.Traces;

/// <summary>
/// What a trace asks of a fleet, before any simulation: volume, token totals, arrival burstiness, and the prefix reuse an
/// unbounded cache would reach (the ceiling no tier configuration can beat).
/// </summary>
public sealed record TraceSummary
{
    /// <summary>Requests.</summary>
    public long Requests { get; init; }

    /// <summary>Time from the first arrival to the last.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Sum of input tokens.</summary>
    public long InputTokens { get; init; }

    /// <summary>Sum of output tokens.</summary>
    public long OutputTokens { get; init; }

    /// <summary>Distinct block hashes (the KV an unbounded cache would end up holding, in blocks).</summary>
    public long DistinctBlocks { get; init; }

    /// <summary>Input tokens an unbounded, never-evicting cache would serve: each request's leading blocks seen before.</summary>
    public long ReusableInputTokens { get; init; }

    /// <summary>Reusable share of input tokens (the ceiling of any cache's hit ratio).</summary>
    public double UnboundedReuse => InputTokens == 0 ? 0 : ReusableInputTokens / (double)InputTokens;

    /// <summary>Mean arrivals per second over the duration.</summary>
    public double MeanRatePerSecond { get; init; }

    /// <summary>Most arrivals in one whole second of trace time.</summary>
    public long PeakPerSecond { get; init; }

    /// <summary>Coefficient of variation of inter-arrival times (1 for a Poisson process; above 1 is burstier).</summary>
    public double InterArrivalCv { get; init; }

    /// <summary>Share of arrivals sharing their timestamp with the previous one (batched arrivals).</summary>
    public double SimultaneousShare { get; init; }

    /// <summary>Summarizes arrivals (one pass; holds only the set of block hashes).</summary>
    public static TraceSummary Compute(IEnumerable<TraceArrival> arrivals)
    {
        ArgumentNullException.ThrowIfNull(arrivals);
        var seen = new HashSet<long>();
        var perSecond = new Dictionary<long, long>();
        long requests = 0, input = 0, output = 0, reusable = 0, simultaneous = 0;
        long first = 0, previous = 0;
        double sum = 0, sumSquares = 0;
        foreach (var a in arrivals)
        {
            if (requests == 0)
            {
                first = a.TimestampMs;
            }
            else
            {
                var gap = (a.TimestampMs - previous) / 1000.0;
                sum += gap;
                sumSquares += gap * gap;
                if (gap == 0)
                {
                    simultaneous++;
                }
            }

            previous = a.TimestampMs;
            requests++;
            input += a.InputTokens;
            output += a.OutputTokens;
            var second = (a.TimestampMs - first) / 1000;
            perSecond[second] = perSecond.GetValueOrDefault(second) + 1;

            // Hashes are prefix-chained, so a block seen before implies its whole prefix was: reuse ends at the first new block.
            var reuse = true;
            for (var i = 0; i < a.BlockIds.Length; i++)
            {
                var known = !seen.Add(a.BlockIds[i]);
                reuse &= known;
                if (reuse)
                {
                    reusable += a.BlockTokenCount(i);
                }
            }
        }

        var gaps = Math.Max(requests - 1, 0);
        var mean = gaps == 0 ? 0 : sum / gaps;
        var variance = gaps == 0 ? 0 : Math.Max(0, sumSquares / gaps - mean * mean);
        var duration = TimeSpan.FromMilliseconds(previous - first);
        return new TraceSummary
        {
            Requests = requests,
            Duration = duration,
            InputTokens = input,
            OutputTokens = output,
            DistinctBlocks = seen.Count,
            ReusableInputTokens = reusable,
            MeanRatePerSecond = duration.TotalSeconds > 0 ? requests / duration.TotalSeconds : requests,
            PeakPerSecond = perSecond.Count == 0 ? 0 : perSecond.Values.Max(),
            InterArrivalCv = mean == 0 ? 0 : Math.Sqrt(variance) / mean,
            SimultaneousShare = requests == 0 ? 0 : simultaneous / (double)requests,
        };
    }

    /// <summary>A human-readable report.</summary>
    public string Format()
    {
        var b = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        b.AppendLine(c, $"requests            {Requests:N0}");
        b.AppendLine(c, $"duration            {Duration.TotalSeconds:N1} s");
        b.AppendLine(c, $"input tokens        {InputTokens:N0} (mean {(Requests == 0 ? 0 : InputTokens / (double)Requests):N0}/request)");
        b.AppendLine(c, $"output tokens       {OutputTokens:N0} (mean {(Requests == 0 ? 0 : OutputTokens / (double)Requests):N0}/request)");
        b.AppendLine(c, $"arrival rate        mean {MeanRatePerSecond:N2}/s, peak {PeakPerSecond:N0} in one second ({(MeanRatePerSecond == 0 ? 0 : PeakPerSecond / MeanRatePerSecond):N1}x mean)");
        b.AppendLine(c, $"burstiness          inter-arrival CV {InterArrivalCv:N2} (Poisson = 1); {SimultaneousShare:P1} share the previous arrival's timestamp");
        b.AppendLine(c, $"distinct blocks     {DistinctBlocks:N0} x {MooncakeTrace.BlockTokens} tokens");
        b.Append(c, $"unbounded reuse     {UnboundedReuse:P2} of input tokens ({ReusableInputTokens:N0}): the ceiling of any cache configuration");
        return b.ToString();
    }
}
