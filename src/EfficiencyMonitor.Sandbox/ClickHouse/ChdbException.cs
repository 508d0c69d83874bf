using System.Globalization;
using System.Text.RegularExpressions;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>An error reported by the chDB engine, with ClickHouse's error code and name.</summary>
public sealed partial class ChdbException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChdbException(int code, string name, string message) : base(message)
    {
        Code = code;
        Name = name;
    }

    /// <summary>Creates the exception.</summary>
    public ChdbException() : this(1002, "UNKNOWN_EXCEPTION", "chDB error") { }

    /// <summary>Creates the exception.</summary>
    public ChdbException(string message) : this(1002, "UNKNOWN_EXCEPTION", message) { }

    /// <summary>Creates the exception.</summary>
    public ChdbException(string message, Exception innerException) : base(message, innerException)
    {
        Code = 1002;
        Name = "UNKNOWN_EXCEPTION";
    }

    /// <summary>ClickHouse's error code (src/Common/ErrorCodes.cpp), e.g. 62 for SYNTAX_ERROR.</summary>
    public int Code { get; }

    /// <summary>ClickHouse's error name, e.g. <c>SYNTAX_ERROR</c>.</summary>
    public string Name { get; }

    /// <summary>Parses chDB's error text (<c>Code: N. DB::Exception: … (NAME)</c>); text without a code becomes 1002 UNKNOWN_EXCEPTION.</summary>
    public static ChdbException FromEngineMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (code, name) = ParseCode(message);
        return new ChdbException(code, name, message.TrimEnd());
    }

    internal static (int Code, string Name) ParseCode(string message)
    {
        var codeMatch = CodePattern().Match(message);
        var code = codeMatch.Success && int.TryParse(codeMatch.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : 1002;
        var nameMatch = NamePattern().Match(message);
        return (code, nameMatch.Success ? nameMatch.Groups[1].Value : code == 1002 ? "UNKNOWN_EXCEPTION" : "");
    }

    [GeneratedRegex(@"Code:\s*(\d+)")]
    private static partial Regex CodePattern();

    // ClickHouse ends its message with the error name in parentheses: "... (SYNTAX_ERROR)".
    [GeneratedRegex(@"\(([A-Z][A-Z0-9_]+)\)\s*$")]
    private static partial Regex NamePattern();
}
