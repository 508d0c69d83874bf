using System.Text;

namespace EfficiencyMonitor.Sandbox.ClickHouse;

/// <summary>
/// HTTP sessions (<c>session_id</c>): each holds its own chDB connection, so a <c>SET</c> or <c>USE</c> inside the session
/// persists for that session only. URL settings and <c>database</c> on a session request apply to that request and are put
/// back afterwards, as ClickHouse applies them to the query context rather than the session. Used only under an engine lease.
/// </summary>
internal sealed class ChdbSessions(TimeProvider timeProvider)
{
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    public ChdbConnection Get(ChdbEngine.Lease lease, string sessionId, TimeSpan timeout, bool mustExist)
    {
        if (_sessions.TryGetValue(sessionId, out var session))
        {
            session.Timeout = timeout;
            session.LastUsed = timeProvider.GetTimestamp();
            return session.Connection;
        }

        if (mustExist)
        {
            throw new ChdbException(372, "SESSION_NOT_FOUND", $"Code: 372. DB::Exception: Session {sessionId} not found. (SESSION_NOT_FOUND)");
        }

        session = new Session(lease.OpenConnection(), timeout, timeProvider.GetTimestamp());
        _sessions.Add(sessionId, session);
        return session.Connection;
    }

    public void CloseExpired(ChdbEngine.Lease lease)
    {
        if (_sessions.Count == 0)
        {
            return;
        }

        foreach (var (id, session) in _sessions.ToList())
        {
            if (timeProvider.GetElapsedTime(session.LastUsed) > session.Timeout)
            {
                lease.Close(session.Connection);
                _sessions.Remove(id);
            }
        }
    }

    public void CloseAll(ChdbEngine.Lease lease)
    {
        foreach (var session in _sessions.Values)
        {
            lease.Close(session.Connection);
        }

        _sessions.Clear();
    }

    /// <summary>Reads what a request is about to change on a session connection, so <see cref="Restore"/> can put it back.</summary>
    public SessionState Snapshot(ChdbEngine.Lease lease, ChdbConnection connection, IReadOnlyList<KeyValuePair<string, string>> settings, bool changesDatabase)
    {
        var state = new SessionState();
        if (changesDatabase)
        {
            var current = lease.Query(connection, "SELECT currentDatabase()"u8, "TabSeparatedRaw", null);
            state.Database = current.Error is null ? Encoding.UTF8.GetString(current.Data).TrimEnd('\n') : null;
        }

        if (settings.Count > 0)
        {
            var names = string.Join(", ", settings.Select(s => ClickHouseHttpServer.QuoteString(s.Key)));
            var current = lease.Query(
                connection,
                Encoding.UTF8.GetBytes($"SELECT name, value, changed FROM system.settings WHERE name IN ({names})"),
                "TabSeparated",
                null);
            if (current.Error is null)
            {
                foreach (var line in Encoding.UTF8.GetString(current.Data).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var fields = line.Split('\t');
                    if (fields.Length == 3)
                    {
                        state.Settings.Add((fields[0], fields[2] == "1" ? Unescape(fields[1]) : null));
                    }
                }
            }
        }

        return state;
    }

    public void Restore(ChdbEngine.Lease lease, ChdbConnection connection, SessionState state)
    {
        foreach (var (name, value) in state.Settings)
        {
            var sql = value is null
                ? $"SET {ClickHouseHttpServer.QuoteIdentifier(name)} = DEFAULT"
                : ClickHouseHttpServer.SetStatement([new(name, value)]);
            _ = lease.Query(connection, Encoding.UTF8.GetBytes(sql), "TabSeparated", null);
        }

        if (state.Database is not null)
        {
            _ = lease.Query(connection, Encoding.UTF8.GetBytes($"USE {ClickHouseHttpServer.QuoteIdentifier(state.Database)}"), "TabSeparated", null);
        }
    }

    /// <summary>TabSeparated escaping (\t, \n, \\, \') undone.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 1 < field.Length)
            {
                i++;
                builder.Append(field[i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', '0' => '\0', 'b' => '\b', 'f' => '\f', _ => field[i] });
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }

    internal sealed class SessionState
    {
        public string? Database { get; set; }
        public List<(string Name, string? Value)> Settings { get; } = [];
    }

    private sealed class Session(ChdbConnection connection, TimeSpan timeout, long lastUsed)
    {
        public ChdbConnection Connection { get; } = connection;
        public TimeSpan Timeout { get; set; } = timeout;
        public long LastUsed { get; set; } = lastUsed;
    }
}
