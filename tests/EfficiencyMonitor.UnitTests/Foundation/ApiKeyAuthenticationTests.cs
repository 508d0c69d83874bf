using System.Text.Json;
using EfficiencyMonitor.Service;
using EfficiencyMonitor.Service.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EfficiencyMonitor.UnitTests.Foundation;

/// <summary>The API key middleware and the validation of <c>Api:Key</c>, without a server (the real binary: ApiKeyTests).</summary>
public sealed class ApiKeyAuthenticationTests
{
    private const string Key = "k3y-0123456789abcdef-xyz";

    [Theory]
    [InlineData("X-Api-Key", Key)]
    [InlineData("Authorization", "Bearer " + Key)]
    [InlineData("Authorization", "bearer " + Key)]
    public async Task RightKey_PassesTheRequestOn(string header, string value)
    {
        var (status, passed, _) = await InvokeAsync(Key, "/api/efficiency", (header, value));
        Assert.True(passed);
        Assert.Equal(200, status);
    }

    [Theory]
    [InlineData("X-Api-Key", "k3y-0123456789abcdef-xy")]          // a prefix
    [InlineData("X-Api-Key", Key + "z")]                           // longer
    [InlineData("X-Api-Key", "K3Y-0123456789ABCDEF-XYZ")]          // case matters
    [InlineData("X-Api-Key", "")]
    [InlineData("Authorization", "Basic " + Key)]                  // another scheme
    [InlineData("Authorization", Key)]                             // no scheme
    [InlineData("Authorization", "Bearer ")]
    [InlineData("X-Key", Key)]                                     // another header
    public async Task WrongOrMissingKey_Is401WithAJsonProblem(string header, string value)
    {
        var (status, passed, context) = await InvokeAsync(Key, "/api/efficiency", (header, value));
        Assert.False(passed);
        Assert.Equal(401, status);
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        Assert.Equal("Bearer realm=\"efficiency-monitor\"", context.Response.Headers.WWWAuthenticate.ToString());
        context.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("API key required", problem.RootElement.GetProperty("title").GetString());
        Assert.DoesNotContain(Key, problem.RootElement.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task XApiKey_WhenPresent_Decides()
    {
        // A wrong X-Api-Key is not rescued by a right bearer token (one credential per request, no guessing game).
        var (status, passed, _) = await InvokeAsync(Key, "/api/efficiency", ("X-Api-Key", "wrong-wrong-wrong-wrong"), ("Authorization", "Bearer " + Key));
        Assert.False(passed);
        Assert.Equal(401, status);
    }

    [Theory]
    [InlineData("/api/efficiency")]
    [InlineData("/API/Efficiency")]       // routing ignores case: so does the check
    [InlineData("/api/")]
    [InlineData("/api/not-an-endpoint")]  // 401, not 404: no probing for endpoints
    [InlineData("/metrics/extra")]
    [InlineData("/healthz/")]
    [InlineData("/")]
    public async Task EverythingButTheOpenEndpoints_NeedsTheKey(string path)
    {
        var (status, passed, _) = await InvokeAsync(Key, path);
        Assert.False(passed);
        Assert.Equal(401, status);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    [InlineData("/METRICS")]
    public async Task OpenEndpoints_NeedNoKey(string path)
    {
        var (_, passed, _) = await InvokeAsync(Key, path);
        Assert.True(passed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task NoKeyConfigured_EverythingIsOpen(string? key)
    {
        var (_, passed, _) = await InvokeAsync(key, "/api/efficiency");
        Assert.True(passed);
    }

    [Theory]
    [InlineData("short", "5 characters long")]
    [InlineData("0123456789abcde", "15 characters long")]
    [InlineData(" 0123456789abcdef", "whitespace")]
    [InlineData("0123456789abcdef\n", "whitespace")]
    public void BadKey_FailsValidationNamingTheSettingAndTheFix(string key, string expected)
    {
        var result = new ApiOptionsValidator().Validate(null, new ApiOptions { Key = key });
        Assert.True(result.Failed);
        var message = string.Join('\n', result.Failures!);
        Assert.Contains("Api:Key", message, StringComparison.Ordinal);
        Assert.Contains("EM_API_KEY", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Trim(), message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0123456789abcdef")]
    public void EmptyOrLongEnoughKey_IsValid(string? key) =>
        Assert.True(new ApiOptionsValidator().Validate(null, new ApiOptions { Key = key }).Succeeded);

    [Fact]
    public void EmApiKey_OverridesTheSectionVariable()
    {
        Environment.SetEnvironmentVariable(ApiOptions.KeyEnvironmentVariable, "from-the-convenience-variable");
        Environment.SetEnvironmentVariable("EM_Api__Key", "from-the-section-variable");
        try
        {
            Assert.Equal("from-the-convenience-variable", ServiceConfiguration.Build()["Api:Key"]);
            Environment.SetEnvironmentVariable(ApiOptions.KeyEnvironmentVariable, null);
            Assert.Equal("from-the-section-variable", ServiceConfiguration.Build()["Api:Key"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ApiOptions.KeyEnvironmentVariable, null);
            Environment.SetEnvironmentVariable("EM_Api__Key", null);
        }
    }

    private static async Task<(int Status, bool Passed, DefaultHttpContext Context)> InvokeAsync(string? key, string path, params (string Name, string Value)[] headers)
    {
        var passed = false;
        var middleware = new ApiKeyAuthentication(
            _ => { passed = true; return Task.CompletedTask; },
            Options.Create(new ApiOptions { Key = key }),
            NullLogger<ApiKeyAuthentication>.Instance);
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider(),
        };
        context.Request.Method = "GET";
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        await middleware.InvokeAsync(context);
        return (context.Response.StatusCode, passed, context);
    }
}
