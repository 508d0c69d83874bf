namespace EfficiencyMonitor.Simulator.Traces;

/// <summary>
/// One request of a production trace: when it arrived and what it asked for. It carries no timings, tiers, power or outcome;
/// those come from the simulator's cache hierarchy and service physics.
/// </summary>
/// <param name="Line">1-based line of the source file (for messages).</param>
/// <param name="TimestampMs">Arrival time in ms since the start of the trace (as recorded; selection does not rebase it).</param>
/// <param name="InputTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="BlockIds">
/// Prefix-chained hashes of the prompt's blocks of <see cref="MooncakeTrace.BlockTokens"/> tokens: equal leading ids mean an
/// equal prefix, so the id at position <c>k</c> identifies the whole prefix up to block <c>k</c>.
/// </param>
public sealed record TraceArrival(long Line, long TimestampMs, int InputTokens, int OutputTokens, long[] BlockIds)
{
    /// <summary>Tokens of block <paramref name="index"/>: a full block, or what remains of the prompt for the last one.</summary>
    public int BlockTokenCount(int index) => Math.Clamp(InputTokens - index * MooncakeTrace.BlockTokens, 0, MooncakeTrace.BlockTokens);
}
