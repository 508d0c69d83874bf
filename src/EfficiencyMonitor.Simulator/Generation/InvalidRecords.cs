using System.Text;
using System.Text.Json.Nodes;
using EfficiencyMonitor.Core.Telemetry;

namespace EfficiencyMonitor.Simulator.Generation;

/// <summary>
/// Deliberately bad <c>inference-requests</c> records for dead-letter tests (<c>--invalid-rate</c>): each is a valid record
/// with exactly one defect, chosen so the decoder reports one specific reason code from the contract.
/// </summary>
internal static class InvalidRecords
{
    /// <summary>Every reason code; each applies to inference-requests (schemas/telemetry/README.md, "Reason codes").</summary>
    public static readonly RejectReason[] Kinds = [.. RejectReasonCodes.All];

    /// <summary>Turns a valid record into one the decoder rejects with the returned reason.</summary>
    public static (byte[] Payload, RejectReason Reason) Corrupt(byte[] valid, RequestFields fields, ulong draw)
    {
        var reason = Kinds[(int)(draw % (ulong)Kinds.Length)];

        // Two rules only apply to some records: fall back to a rule that always applies.
        if (reason == RejectReason.KvTransferInAggregated && fields.ServingPattern != "aggregated")
        {
            reason = RejectReason.CachedExceedsInput;
        }

        var text = Encoding.UTF8.GetString(valid);
        var node = JsonNode.Parse(valid)!.AsObject();
        switch (reason)
        {
            case RejectReason.MalformedJson:
                return (Encoding.UTF8.GetBytes(text[..(text.Length / 2)]), reason);
            case RejectReason.Oversized:
                // Whitespace is legal JSON, so only the size limit (64 KiB by default) can reject it.
                return (Encoding.UTF8.GetBytes(text[..^1] + new string(' ', 70_000) + "}"), reason);
            case RejectReason.NestingTooDeep:
                node["tenant"] = JsonNode.Parse("""[[[[[[[["nested"]]]]]]]]""");
                break;
            case RejectReason.UnknownSchemaVersion:
                node["schema_version"] = 2;
                break;
            case RejectReason.MissingField:
                node.Remove("tenant");
                break;
            case RejectReason.WrongType:
                node["input_tokens"] = fields.InputTokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case RejectReason.UnknownField:
                node["simulator_note"] = "not in the contract";
                break;
            case RejectReason.DuplicateField:
                {
                    var marker = "\"tenant\":";
                    var at = text.IndexOf(marker, StringComparison.Ordinal);
                    return (Encoding.UTF8.GetBytes(text[..at] + "\"tenant\":\"dup\"," + text[at..]), reason);
                }

            case RejectReason.InvalidNumber:
                node["queue_ms"] = -1.5;
                break;
            case RejectReason.UnknownEnumValue:
                node["status"] = "OK";
                break;
            case RejectReason.InvalidString:
                node["tenant"] = "";
                break;
            case RejectReason.InvalidTimestamp:
                node["started_at"] = RecordWriter.FormatTimestamp(fields.StartedAtMs)[..^1] + "+00:00";
                break;
            case RejectReason.TimestampsOutOfOrder:
                node["started_at"] = RecordWriter.FormatTimestamp(fields.FinishedAtMs + 1000);
                break;
            case RejectReason.TimestampInFuture:
                node["finished_at"] = "2999-01-01T00:00:00.000Z";
                break;
            case RejectReason.CachedExceedsInput:
                node["cached_input_tokens"]!["hbm"] = (long)fields.InputTokens + 1;
                node["cached_input_tokens"]!["dram"] = 0;
                node["cached_input_tokens"]!["local_ssd"] = 0;
                node["cached_input_tokens"]!["remote"] = 0;
                node["kv_load_ms"] = JsonNode.Parse("""{"hbm":0,"dram":0,"local_ssd":0,"remote":0}""");
                break;
            case RejectReason.RecomputedExceedsUncachedInput:
                {
                    var cached = fields.CachedHbm + fields.CachedDram + fields.CachedLocalSsd + fields.CachedRemote;
                    node["recomputed_input_tokens"] = fields.InputTokens - cached + 1;
                    break;
                }

            case RejectReason.ReasoningExceedsOutput:
                node["reasoning_tokens"] = fields.OutputTokens + 1;
                break;
            case RejectReason.KvLoadWithoutCachedTokens:
                node["cached_input_tokens"]!["remote"] = 0;
                node["kv_load_ms"]!["remote"] = 3.5;
                node["recomputed_input_tokens"] = 0;
                node["cached_input_tokens"]!["hbm"] = 0;
                node["cached_input_tokens"]!["dram"] = 0;
                node["cached_input_tokens"]!["local_ssd"] = 0;
                node["kv_load_ms"]!["hbm"] = 0;
                node["kv_load_ms"]!["dram"] = 0;
                node["kv_load_ms"]!["local_ssd"] = 0;
                break;
            case RejectReason.FirstTokenMismatch:
                if (fields.OutputTokens > 0)
                {
                    node.Remove("first_token_at");
                }
                else
                {
                    node["first_token_at"] = RecordWriter.FormatTimestamp(fields.FinishedAtMs);
                }

                break;
            case RejectReason.KvTransferInAggregated:
                node["kv_transfer_ms"] = 4.25;
                break;
        }

        return (Encoding.UTF8.GetBytes(node.ToJsonString()), reason);
    }
}
