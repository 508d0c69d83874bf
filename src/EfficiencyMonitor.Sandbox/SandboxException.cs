namespace EfficiencyMonitor.Sandbox;

/// <summary>A sandbox failure whose message is one line naming the cause and the fix.</summary>
public sealed class SandboxException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SandboxException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public SandboxException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception.</summary>
    public SandboxException() { }
}
