using System.Text;

namespace EfficiencyMonitor.Storage.Migrations;

/// <summary>Splits a SQL script into statements (the HTTP interface takes one statement per request).</summary>
public static class SqlScript
{
    /// <summary>
    /// Splits on <c>;</c> outside quotes, back-quoted identifiers and comments; drops comments and empty statements.
    /// </summary>
    public static IReadOnlyList<string> SplitStatements(string script)
    {
        ArgumentNullException.ThrowIfNull(script);
        var statements = new List<string>();
        var current = new StringBuilder();
        var i = 0;
        while (i < script.Length)
        {
            var c = script[i];
            if (c == '-' && i + 1 < script.Length && script[i + 1] == '-')
            {
                while (i < script.Length && script[i] != '\n') i++;
                continue;
            }

            if (c == '/' && i + 1 < script.Length && script[i + 1] == '*')
            {
                var end = script.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? script.Length : end + 2;
                continue;
            }

            if (c is '\'' or '"' or '`')
            {
                var start = i++;
                while (i < script.Length && script[i] != c)
                {
                    i += script[i] == '\\' ? 2 : 1;
                }

                i = Math.Min(i + 1, script.Length);
                current.Append(script, start, i - start);
                continue;
            }

            if (c == ';')
            {
                Flush();
                i++;
                continue;
            }

            current.Append(c);
            i++;
        }

        Flush();
        return statements;

        void Flush()
        {
            var statement = current.ToString().Trim();
            if (statement.Length > 0) statements.Add(statement);
            current.Clear();
        }
    }
}
