using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace EfficiencyMonitor.IntegrationTests.Deploy;

/// <summary>
/// Static checks of <c>deploy/</c>: the files parse, what they reference exists, and the port, environment variables,
/// service names and rules agree between the Dockerfile, docker-compose, Prometheus, Grafana and the Helm chart.
/// No Docker engine or cluster is needed; docker-compose and promtool are run when installed.
/// </summary>
public sealed partial class DeployFileTests
{
    private const string ServicePort = "9464";

    [Fact]
    public void YamlAndJsonFiles_UnderDeploy_Parse()
    {
        // Helm templates are Go templates (YAML only once rendered): their references are checked by the Helm tests.
        var templates = Path.Combine(DeployFiles.ChartDir, "templates") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(DeployFiles.DeployDir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Where(f => !f.StartsWith(templates, StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count >= 10, $"expected the deploy files, found {files.Count}");

        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                if (file.EndsWith(".json", StringComparison.Ordinal)) JsonDocument.Parse(File.ReadAllText(file)).Dispose();
                else DeployFiles.LoadYaml(file);
            }
            catch (Exception e) when (e is JsonException or YamlDotNet.Core.YamlException)
            {
                failures.Add($"{Path.GetRelativePath(DeployFiles.Root, file)}: {e.Message}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void ComposeFile_ReferencedPaths_Exist()
    {
        var missing = new List<string>();
        var checkedPaths = 0;
        foreach (var (name, service) in DeployFiles.ComposeServices.Children.Select(kv => (kv.Key.Scalar()!, kv.Value)))
        {
            if (service.Child("build") is { } build)
            {
                var context = Path.GetFullPath(Path.Combine(DeployFiles.DeployDir, build.Child("context").Scalar() ?? "."));
                var dockerfile = Path.Combine(context, build.Child("dockerfile").Scalar() ?? "Dockerfile");
                if (!Directory.Exists(context)) missing.Add($"{name}: build context {context}");
                if (!File.Exists(dockerfile)) missing.Add($"{name}: dockerfile {dockerfile}");
                Assert.Equal(DeployFiles.Root, context.TrimEnd(Path.DirectorySeparatorChar));
                checkedPaths += 2;
            }

            foreach (var volume in service.Child("volumes").Strings())
            {
                var source = volume.Split(':')[0];
                if (!source.StartsWith('.') && !source.StartsWith('/')) continue; // a named volume
                checkedPaths++;
                var full = Path.GetFullPath(Path.Combine(DeployFiles.DeployDir, source));
                if (!File.Exists(full) && !Directory.Exists(full))
                {
                    missing.Add($"{name}: mounted {source} ({full})");
                }
            }
        }

        Assert.Empty(missing);
        Assert.True(checkedPaths >= 6, $"only {checkedPaths} paths checked");
    }

    [Fact]
    public void Dockerfile_CopySources_ExistInTheBuildContext()
    {
        var lines = File.ReadAllLines(DeployFiles.DockerfilePath);
        var sources = lines
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToList();
        Assert.Contains("src/", sources);
        Assert.Contains("schemas/", sources);           // migrations are embedded resources of Storage
        Assert.Contains("deploy/scenarios/", sources);  // the Service project copies the scenarios
        Assert.All(sources, s => Assert.True(File.Exists(Path.Combine(DeployFiles.Root, s)) || Directory.Exists(Path.Combine(DeployFiles.Root, s)), $"COPY source {s} does not exist"));

        // Every project the service needs is restored from a copied csproj (the restore layer).
        var projects = Directory.GetFiles(Path.Combine(DeployFiles.Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(DeployFiles.Root, p).Replace('\\', '/'));
        Assert.All(projects, p => Assert.Contains(p, sources));

        var text = string.Join('\n', lines);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/sdk:10\.0 AS build$", text);
        Assert.Matches(@"(?m)^FROM mcr\.microsoft\.com/dotnet/aspnet:10\.0 AS runtime$", text);
        Assert.Matches(@"(?m)^USER \$APP_UID$", text);
        Assert.Matches(@"(?m)^ENTRYPOINT \[""efficiency-monitor""\]$", text);
        Assert.Matches(@"(?m)^HEALTHCHECK .*\n.*/healthz", text);
    }

    [Fact]
    public void ServicePort_IsTheSameEverywhere()
    {
        var dockerfile = File.ReadAllText(DeployFiles.DockerfilePath);
        Assert.Matches($@"(?m)^EXPOSE {ServicePort}$", dockerfile);
        Assert.Matches($@"(?m)^CMD \[""run"", ""--urls"", ""http://0\.0\.0\.0:{ServicePort}""\]$", dockerfile);
        Assert.Contains($"/dev/tcp/127.0.0.1/{ServicePort}", dockerfile, StringComparison.Ordinal);

        var service = DeployFiles.ComposeServices["service"];
        Assert.Equal(["run", "--urls", $"http://0.0.0.0:{ServicePort}"], service.Child("command").Strings());
        Assert.Equal([$"127.0.0.1:{ServicePort}:{ServicePort}"], service.Child("ports").Strings());
        Assert.Contains($"/dev/tcp/127.0.0.1/{ServicePort}", string.Join(' ', service.Child("healthcheck").Child("test").Strings()), StringComparison.Ordinal);

        var prometheus = (YamlMappingNode)DeployFiles.LoadYaml(Path.Combine(DeployFiles.DeployDir, "prometheus", "prometheus.yml"));
        var job = ((YamlSequenceNode)prometheus["scrape_configs"]).Single(j => j.Child("job_name").Scalar() == "efficiency-monitor");
        Assert.Equal("/metrics", job.Child("metrics_path").Scalar());
        var targets = ((YamlSequenceNode)job.Child("static_configs")!).SelectMany(c => c.Child("targets").Strings()).ToList();
        Assert.Equal([$"service:{ServicePort}"], targets);

        var values = DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "values.yaml"));
        Assert.Equal(ServicePort, values.Child("service").Child("port").Scalar());
        var deployment = File.ReadAllText(Path.Combine(DeployFiles.ChartDir, "templates", "deployment.yaml"));
        Assert.Contains("containerPort: {{ .Values.service.port }}", deployment, StringComparison.Ordinal);
        Assert.Contains("\"http://0.0.0.0:{{ .Values.service.port }}\"", deployment, StringComparison.Ordinal);
    }

    [Fact]
    public void ComposePorts_AreBoundToLoopbackOnly()
    {
        var ports = DeployFiles.ComposeServices.Children
            .SelectMany(kv => kv.Value.Child("ports").Strings().Select(p => (Service: kv.Key.Scalar(), Port: p)))
            .ToList();
        Assert.NotEmpty(ports);
        Assert.All(ports, p => Assert.True(p.Port.StartsWith("127.0.0.1:", StringComparison.Ordinal), $"{p.Service} publishes {p.Port} beyond loopback"));
    }

    [Fact]
    public void ComposeServices_HaveHealthchecksAndConditionalDependencies()
    {
        var services = DeployFiles.ComposeServices;
        var names = services.Children.Keys.Select(k => k.Scalar()!).ToHashSet();
        Assert.Superset(new HashSet<string> { "kafka", "kafka-init", "clickhouse", "service", "simulator", "prometheus", "grafana" }, names);

        foreach (var (name, service) in services.Children.Select(kv => (kv.Key.Scalar()!, kv.Value)))
        {
            // The one-shot topic creator exits; the simulator serves no HTTP (its image check is disabled explicitly).
            if (name != "kafka-init")
            {
                Assert.True(service.Child("healthcheck") is not null, $"{name} has no healthcheck");
            }

            if (service.Child("depends_on") is YamlNode dependsOn)
            {
                var map = Assert.IsType<YamlMappingNode>(dependsOn);
                foreach (var (dependency, spec) in map.Children.Select(kv => (kv.Key.Scalar()!, kv.Value)))
                {
                    Assert.Contains(dependency, names);
                    Assert.Contains(spec.Child("condition").Scalar(), new[] { "service_healthy", "service_completed_successfully", "service_started" });
                    if (services[dependency].Child("healthcheck") is { } check && check.Child("disable").Scalar() != "true" && dependency != "service")
                    {
                        Assert.Equal("service_healthy", spec.Child("condition").Scalar());
                    }
                }
            }
        }

        Assert.Equal("service_completed_successfully", services["service"].Child("depends_on").Child("kafka-init").Child("condition").Scalar());
        Assert.Equal("service_healthy", services["service"].Child("depends_on").Child("clickhouse").Child("condition").Scalar());
        Assert.Equal("true", services["simulator"].Child("healthcheck").Child("disable").Scalar());
    }

    [Fact]
    public void ComposeKafka_IsKRaftWithTheThreeTopicsCreatedByInit()
    {
        var services = DeployFiles.ComposeServices;
        var kafka = services["kafka"];
        Assert.StartsWith("apache/kafka:3.9.", kafka.Child("image").Scalar(), StringComparison.Ordinal);
        var env = kafka.Environment();
        Assert.Equal("broker,controller", env["KAFKA_PROCESS_ROLES"]);
        Assert.Equal("false", env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]);
        Assert.Contains("PLAINTEXT://kafka:9092", env["KAFKA_ADVERTISED_LISTENERS"], StringComparison.Ordinal);

        var init = string.Join('\n', services["kafka-init"].Child("command").Strings());
        foreach (var topic in new[] { "inference-requests", "gpu-power", "telemetry-dead-letter" })
        {
            Assert.Contains($"--create --if-not-exists --topic {topic} ", init, StringComparison.Ordinal);
        }

        Assert.Equal("kafka:9092", services["service"].Environment()["EM_KAFKA_BOOTSTRAP"]);
        var simulate = services["simulator"].Child("command").Strings();
        Assert.Equal("simulate", simulate[0]);
        Assert.Equal("kafka:9092", simulate[simulate.ToList().IndexOf("--kafka") + 1]);
        var scenario = simulate[simulate.ToList().IndexOf("--scenario") + 1];
        Assert.True(File.Exists(Path.Combine(DeployFiles.Root, scenario)), $"simulator scenario {scenario} does not exist");
    }

    [Fact]
    public void ComposeSecrets_ComeFromTheEnvironmentWithDefaults()
    {
        var secrets = DeployFiles.ComposeServices.Children
            .SelectMany(kv => kv.Value.Environment().Select(e => (Service: kv.Key.Scalar(), e.Key, e.Value)))
            .Where(e => e.Key.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.True(secrets.Count >= 4, $"expected the ClickHouse and Grafana passwords, found {secrets.Count}");
        Assert.All(secrets, s => Assert.Matches(@"^\$\{[A-Z_]+:-[^}]*\}$", s.Value));

        // One password variable for ClickHouse, the service and Grafana's data source.
        var clickhouse = DeployFiles.ComposeServices["clickhouse"].Environment()["CLICKHOUSE_PASSWORD"];
        Assert.Equal(clickhouse, DeployFiles.ComposeServices["service"].Environment()["EM_ClickHouse__Password"]);
        Assert.Equal(clickhouse, DeployFiles.ComposeServices["grafana"].Environment()["CLICKHOUSE_PASSWORD"]);
    }

    [Fact]
    public void EnvironmentVariables_UsedByDeployFiles_AreDocumentedInReadme()
    {
        var used = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in new[] { "service", "simulator" })
        {
            used.UnionWith(DeployFiles.ComposeServices[name].Environment().Keys.Where(k => k.StartsWith("EM_", StringComparison.Ordinal)));
        }

        var chartFiles = Directory.GetFiles(Path.Combine(DeployFiles.ChartDir, "templates")).Append(Path.Combine(DeployFiles.ChartDir, "values.yaml"))
            .Append(DeployFiles.DockerfilePath);
        foreach (var file in chartFiles)
        {
            used.UnionWith(EnvironmentVariableRegex().Matches(File.ReadAllText(file)).Select(m => m.Value));
        }

        Assert.Contains("EM_CLICKHOUSE_URL", used);
        Assert.Contains("EM_KAFKA_BOOTSTRAP", used);
        Assert.Contains("EM_ClickHouse__Password", used);
        Assert.Contains("EM_Kafka__SaslPassword", used);
        var undocumented = used.Where(v => !DeployFiles.IsDocumented(v)).ToList();
        Assert.True(undocumented.Count == 0, "not in README.md 'Configuration': " + string.Join(", ", undocumented));
        Assert.False(DeployFiles.IsDocumented("EM_ClickHouse__Pasword"), "the README check accepts anything");
    }

    [Fact]
    public void GrafanaProvisioning_PointsAtComposeServicesAndTheDashboardMount()
    {
        var grafana = DeployFiles.ComposeServices["grafana"];
        var provisioning = Path.Combine(DeployFiles.DeployDir, "grafana", "provisioning");
        var sources = ((YamlSequenceNode)DeployFiles.LoadYaml(Path.Combine(provisioning, "datasources", "datasources.yml")).Child("datasources")!).ToList();

        var prometheus = sources.Single(s => s.Child("type").Scalar() == "prometheus");
        Assert.Equal("http://prometheus:9090", prometheus.Child("url").Scalar());
        Assert.Contains("127.0.0.1:9090:9090", DeployFiles.ComposeServices["prometheus"].Child("ports").Strings());

        var clickhouse = sources.Single(s => s.Child("type").Scalar() == "grafana-clickhouse-datasource");
        Assert.Contains("grafana-clickhouse-datasource", grafana.Environment()["GF_INSTALL_PLUGINS"], StringComparison.Ordinal);
        Assert.Equal("clickhouse", clickhouse.Child("jsonData").Child("host").Scalar());
        Assert.Equal("8123", clickhouse.Child("jsonData").Child("port").Scalar());
        Assert.Equal(DeployFiles.ComposeServices["clickhouse"].Environment()["CLICKHOUSE_DB"], clickhouse.Child("jsonData").Child("defaultDatabase").Scalar());
        Assert.Equal("$CLICKHOUSE_PASSWORD", clickhouse.Child("secureJsonData").Child("password").Scalar());

        var providers = (YamlSequenceNode)DeployFiles.LoadYaml(Path.Combine(provisioning, "dashboards", "dashboards.yml")).Child("providers")!;
        var path = Assert.Single(providers).Child("options").Child("path").Scalar();
        var volumes = grafana.Child("volumes").Strings();
        Assert.Contains($"../dashboards:{path}:ro", volumes);
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", volumes);
    }

    [Fact]
    public void HelmChart_TemplateReferences_Resolve()
    {
        var values = DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "values.yaml"));
        var chart = DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "Chart.yaml"));
        Assert.Equal("v2", chart.Child("apiVersion").Scalar());
        Assert.Equal("efficiency-monitor", chart.Child("name").Scalar());

        var templates = Directory.GetFiles(Path.Combine(DeployFiles.ChartDir, "templates"));
        var helpers = File.ReadAllText(Path.Combine(DeployFiles.ChartDir, "templates", "_helpers.tpl"));
        var defined = DefineRegex().Matches(helpers).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        var references = 0;
        foreach (var file in templates)
        {
            var text = File.ReadAllText(file);
            var name = Path.GetFileName(file);
            Assert.Equal(Regex.Matches(text, "{{").Count, Regex.Matches(text, "}}").Count);
            foreach (Match m in ValuesRegex().Matches(text))
            {
                references++;
                YamlNode? node = values;
                foreach (var part in m.Groups[1].Value.Split('.')) node = node?.Child(part);
                if (node is null) problems.Add($"{name}: .Values.{m.Groups[1].Value} is not in values.yaml");
            }

            foreach (Match m in IncludeRegex().Matches(text))
            {
                if (!defined.Contains(m.Groups[1].Value)) problems.Add($"{name}: include \"{m.Groups[1].Value}\" is not defined");
            }

            foreach (Match m in FilesGetRegex().Matches(text))
            {
                if (!File.Exists(Path.Combine(DeployFiles.ChartDir, m.Groups[1].Value))) problems.Add($"{name}: .Files.Get \"{m.Groups[1].Value}\" does not exist");
            }
        }

        Assert.Empty(problems);
        Assert.True(references >= 20, $"only {references} .Values references found");
        Assert.Contains("configmap.yaml", templates.Select(Path.GetFileName));
        Assert.Contains("secret.yaml", templates.Select(Path.GetFileName));
    }

    [Fact]
    public void HelmChart_SecretsGoToTheSecretAndEndpointsToTheConfigMap()
    {
        var templates = Path.Combine(DeployFiles.ChartDir, "templates");
        var secret = File.ReadAllText(Path.Combine(templates, "secret.yaml"));
        var configMap = File.ReadAllText(Path.Combine(templates, "configmap.yaml"));
        Assert.Contains("EM_ClickHouse__Password: {{ .Values.secrets.clickhousePassword | quote }}", secret, StringComparison.Ordinal);
        Assert.Contains("EM_Kafka__SaslPassword", secret, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", configMap, StringComparison.Ordinal);
        Assert.Contains("EM_CLICKHOUSE_URL: {{ .Values.clickhouse.url | quote }}", configMap, StringComparison.Ordinal);
        Assert.Contains("EM_KAFKA_BOOTSTRAP: {{ .Values.kafka.bootstrapServers | quote }}", configMap, StringComparison.Ordinal);

        var values = DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "values.yaml"));
        Assert.Equal("", values.Child("secrets").Child("clickhousePassword").Scalar());
        Assert.Equal("true", values.Child("podSecurityContext").Child("runAsNonRoot").Scalar());
        Assert.Equal("false", values.Child("serviceMonitor").Child("enabled").Scalar());
        Assert.Equal("false", values.Child("prometheusRule").Child("enabled").Scalar());
    }

    [Fact]
    public void ApiKey_ComesFromASecretInHelmAndTheEnvironmentInCompose_ProbesAndScrapesUseOpenPaths()
    {
        var templates = Path.Combine(DeployFiles.ChartDir, "templates");
        var values = DeployFiles.LoadYaml(Path.Combine(DeployFiles.ChartDir, "values.yaml"));
        Assert.Equal("", values.Child("api").Child("key").Scalar());
        Assert.Equal("", values.Child("api").Child("existingSecret").Scalar());
        Assert.False(string.IsNullOrEmpty(values.Child("api").Child("secretKey").Scalar()));

        // The key reaches the pod only through a Secret (never the ConfigMap).
        var deployment = File.ReadAllText(Path.Combine(templates, "deployment.yaml"));
        Assert.Matches(@"- name: EM_Api__Key\s+valueFrom:\s+secretKeyRef:\s+name: \{\{ include ""efficiency-monitor.apiSecretName"" \. \}\}\s+key: \{\{ \.Values\.api\.secretKey \}\}", deployment);
        var configMap = File.ReadAllText(Path.Combine(templates, "configmap.yaml"));
        Assert.DoesNotContain("Api__Key", configMap, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(".Values.api.", configMap, StringComparison.Ordinal);
        var apiSecret = File.ReadAllText(Path.Combine(templates, "api-secret.yaml"));
        Assert.Contains("kind: Secret", apiSecret, StringComparison.Ordinal);
        Assert.Contains("{{ .Values.api.secretKey }}: {{ .Values.api.key | quote }}", apiSecret, StringComparison.Ordinal);
        Assert.Contains("(not .Values.api.existingSecret)", apiSecret, StringComparison.Ordinal);

        // Probes and the ServiceMonitor use the endpoints that stay open under Api:Key.
        var open = new[] { "/healthz", "/readyz", "/metrics" };
        foreach (Match m in Regex.Matches(deployment, @"path: (\S+)")) Assert.Contains(m.Groups[1].Value, open);
        Assert.Contains("path: /metrics", File.ReadAllText(Path.Combine(templates, "servicemonitor.yaml")), StringComparison.Ordinal);

        // Compose: from the environment, empty (open API) by default; the healthcheck uses /readyz.
        var service = DeployFiles.ComposeServices["service"];
        Assert.Equal("${EM_API_KEY:-}", service.Environment()["EM_API_KEY"]);
        Assert.Contains("/readyz", string.Join(' ', service.Child("healthcheck").Child("test").Strings()), StringComparison.Ordinal);
    }

    [Fact]
    public void HelmPrometheusRule_IsACopyOfTheRules()
    {
        var template = File.ReadAllText(Path.Combine(DeployFiles.ChartDir, "templates", "prometheusrule.yaml"));
        Assert.True(DeployFiles.RuleFiles.Count >= 2, "expected ingestion.yml and efficiency.yml under deploy/prometheus/rules");
        foreach (var rules in DeployFiles.RuleFiles)
        {
            var name = Path.GetFileName(rules);
            var copy = Path.Combine(DeployFiles.ChartDir, "files", name);
            Assert.True(File.Exists(copy), $"the Helm chart has no copy of {name}: cp deploy/prometheus/rules/{name} deploy/helm/efficiency-monitor/files/");
            Assert.True(File.ReadAllBytes(rules).SequenceEqual(File.ReadAllBytes(copy)),
                $"deploy/helm/efficiency-monitor/files/{name} differs from deploy/prometheus/rules/{name}: cp the latter over the former");
            Assert.Contains($".Files.Get \"files/{name}\" | indent 2", template, StringComparison.Ordinal);
        }

        // No copy without its source; no Prometheus variable inside a Helm action (Helm fails on undefined variables).
        var copies = Directory.GetFiles(Path.Combine(DeployFiles.ChartDir, "files"), "*.yml").Select(Path.GetFileName);
        Assert.Equal(DeployFiles.RuleFiles.Select(Path.GetFileName), copies.Order(StringComparer.Ordinal));
        Assert.DoesNotMatch(@"\{\{[^}]*\$(labels|value)", template);
    }

    [Fact]
    public void PrometheusConfig_RuleFiles_LoadEveryRuleFile()
    {
        // deploy/prometheus/prometheus.yml names rule files by their path in the container; compose mounts
        // ./prometheus/rules there. Every rule file must match one of the rule_files patterns.
        var config = DeployFiles.LoadYaml(Path.Combine(DeployFiles.DeployDir, "prometheus", "prometheus.yml"));
        var patterns = config.Child("rule_files").Strings();
        Assert.NotEmpty(patterns);
        var mount = DeployFiles.ComposeServices["prometheus"].Child("volumes").Strings()
            .Select(v => v.Split(':'))
            .Single(v => v[0] == "./prometheus/rules");
        foreach (var rules in DeployFiles.RuleFiles)
        {
            var inContainer = $"{mount[1].TrimEnd('/')}/{Path.GetFileName(rules)}";
            Assert.True(patterns.Any(p => GlobToRegex(p).IsMatch(inContainer)),
                $"{inContainer} is matched by no rule_files pattern of prometheus.yml ({string.Join(", ", patterns)})");
        }
    }

    [Fact]
    public void PrometheusRuleFiles_ParseIntoGroupsOfRecordingAndAlertingRules()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in DeployFiles.RuleFiles)
        {
            var groups = Assert.IsType<YamlSequenceNode>(DeployFiles.LoadYaml(file).Child("groups"));
            Assert.NotEmpty(groups);
            foreach (var group in groups)
            {
                var name = group.Child("name").Scalar();
                Assert.False(string.IsNullOrEmpty(name), $"{file}: a group has no name");
                Assert.True(names.Add(name!), $"group name {name} is used twice (Prometheus requires unique group names per file; keep them unique overall)");
                var rules = Assert.IsType<YamlSequenceNode>(group.Child("rules"));
                Assert.NotEmpty(rules);
                foreach (var rule in rules)
                {
                    Assert.False(string.IsNullOrWhiteSpace(rule.Child("expr").Scalar()), $"{file}/{name}: a rule has no expr");
                    Assert.True(rule.Child("record") is null != (rule.Child("alert") is null), $"{file}/{name}: a rule must have record or alert (not both)");
                }
            }
        }
    }

    [Fact]
    public void EfficiencyRules_CoverTheIssueAlertsOnTheMetricContract()
    {
        var path = Path.Combine(DeployFiles.RulesDir, "efficiency.yml");
        var rules = DeployFiles.Rules(path);
        var alerts = rules.Where(r => r.Child("alert") is not null).ToDictionary(r => r.Child("alert").Scalar()!, r => r, StringComparer.Ordinal);
        var expected = new Dictionary<string, string>
        {
            ["EfficiencyDriftHigh"] = "em_efficiency_drift_ratio",
            ["ForecastMapeBreach"] = "em_forecast_mape",
            ["ModelAccuracyDegraded"] = "em_efficiency_model_mape",
            ["EfficiencyJobNotRunning"] = "em_jobs_last_success_timestamp_seconds",
            ["EfficiencyJobSuccessMissing"] = "absent(em_jobs_last_success_timestamp_seconds",
            ["EfficiencyDataStale"] = "em_efficiency_window_end_timestamp_seconds",
        };
        foreach (var (alert, metric) in expected)
        {
            Assert.True(alerts.ContainsKey(alert), $"{alert} is missing from efficiency.yml");
            Assert.Contains(metric, alerts[alert].Child("expr").Scalar(), StringComparison.Ordinal);
        }

        Assert.Contains("em_forecast_within_tolerance == 0", alerts["ForecastMapeBreach"].Child("expr").Scalar(), StringComparison.Ordinal);
        Assert.Equal("10m", alerts["EfficiencyDriftHigh"].Child("for").Scalar());
        Assert.Equal("30m", alerts["ForecastMapeBreach"].Child("for").Scalar());
        Assert.Equal("30m", alerts["ModelAccuracyDegraded"].Child("for").Scalar());
        Assert.Equal("30m", alerts["EfficiencyJobSuccessMissing"].Child("for").Scalar());

        // The drift description names the leading factor from the top-factor recording rule.
        var topFactor = rules.Single(r => r.Child("record").Scalar() == "deployment:em_efficiency_drift_contribution:abs_top1");
        Assert.Contains("topk by (deployment) (1, abs(em_efficiency_drift_contribution))", topFactor.Child("expr").Scalar(), StringComparison.Ordinal);
        var description = alerts["EfficiencyDriftHigh"].Child("annotations").Child("description").Scalar()!;
        Assert.Contains("deployment:em_efficiency_drift_contribution:top1", description, StringComparison.Ordinal);
        Assert.Contains(".Labels.factor", description, StringComparison.Ordinal);

        // The jobs' gauge names the job in job_name (never the scrape's own `job` label).
        Assert.Contains("job_name=\"realized_efficiency\"", alerts["EfficiencyJobSuccessMissing"].Child("expr").Scalar(), StringComparison.Ordinal);
        Assert.Contains("job_name=\"forecast_validation\"", alerts["EfficiencyJobSuccessMissing"].Child("expr").Scalar(), StringComparison.Ordinal);
    }

    [Fact]
    public void IngestionRules_KeepTheDeadLetterStalledAndLagAlerts()
    {
        var alerts = DeployFiles.Rules(DeployFiles.RulesPath).Select(r => r.Child("alert").Scalar()).OfType<string>().ToList();
        Assert.Contains("EfficiencyMonitorDeadLetterRateHigh", alerts);
        Assert.Contains("EfficiencyMonitorIngestionStalled", alerts);
        Assert.Contains("EfficiencyMonitorIngestionLagGrowing", alerts);
    }

    [Fact]
    public void PrometheusAlerts_HaveSeverityAnnotationsAndRunbooksInDeployReadme()
    {
        var readme = File.ReadAllText(Path.Combine(DeployFiles.DeployDir, "README.md"));
        var anchors = HeadingRegex().Matches(readme).Select(m => Slug(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var alerts = Alerts();
        Assert.True(alerts.Count >= 12, $"expected the six ingestion and six efficiency alerts, found {alerts.Count}");
        foreach (var alert in alerts)
        {
            var name = alert.Child("alert").Scalar();
            Assert.False(string.IsNullOrEmpty(alert.Child("for").Scalar()), $"{name} has no for:");
            Assert.Contains(alert.Child("labels").Child("severity").Scalar(), new[] { "warning", "critical" });
            var annotations = alert.Child("annotations");
            Assert.False(string.IsNullOrWhiteSpace(annotations.Child("summary").Scalar()), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(annotations.Child("description").Scalar()), $"{name} has no description");
            var runbook = annotations.Child("runbook").Scalar() ?? "";
            Assert.StartsWith("deploy/README.md#", runbook, StringComparison.Ordinal);
            Assert.True(anchors.Contains(runbook["deploy/README.md#".Length..]), $"{name}: runbook {runbook} has no heading in deploy/README.md");
            Assert.True(readme.Contains($"| {name} |", StringComparison.Ordinal), $"{name} is not in the alert tables of deploy/README.md");
        }
    }

    [Fact]
    public void PrometheusAlerts_EachHasAUnitTestThatFiresAndOneThatStaysSilent()
    {
        var testFiles = DeployFiles.RuleTestFiles;
        var tested = testFiles
            .SelectMany(f => DeployFiles.LoadYaml(f).Child("rule_files").Strings().Select(r => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(f)!, r))))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var rules in DeployFiles.RuleFiles)
        {
            Assert.True(tested.Contains(rules), $"no file under deploy/prometheus/tests lists {Path.GetFileName(rules)} in rule_files");
        }

        var cases = testFiles
            .SelectMany(f => ((YamlSequenceNode)DeployFiles.LoadYaml(f).Child("tests")!).Children)
            .SelectMany(t => t.Child("alert_rule_test") is YamlSequenceNode s ? s.Children : [])
            .Select(c => (Alert: c.Child("alertname").Scalar(), Fires: c.Child("exp_alerts") is YamlSequenceNode { Children.Count: > 0 }))
            .ToList();
        foreach (var name in Alerts().Select(a => a.Child("alert").Scalar()))
        {
            Assert.True(cases.Any(c => c.Alert == name && c.Fires), $"{name} has no test case where it fires");
            Assert.True(cases.Any(c => c.Alert == name && !c.Fires), $"{name} has no test case where it stays silent");
        }
    }

    [ToolFact("docker-compose", "docker-compose")]
    public async Task DockerComposeConfig_TheComposeFile_IsValid()
    {
        var (exitCode, output) = await DeployFiles.RunAsync("docker-compose", "-f", "deploy/docker-compose.yml", "config", "-q");
        Assert.True(exitCode == 0, $"docker-compose config failed ({exitCode}):\n{output}");
    }

    [ToolFact("promtool", "prometheus")]
    public async Task TestRulesScript_RulesAndUnitTests_Pass()
    {
        var (exitCode, output) = await DeployFiles.RunAsync("bash", "deploy/prometheus/test-rules.sh");
        Assert.True(exitCode == 0, $"deploy/prometheus/test-rules.sh failed ({exitCode}):\n{output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", output, StringComparison.Ordinal);
    }

    private static List<YamlNode> Alerts() =>
        DeployFiles.RuleFiles.SelectMany(DeployFiles.Rules).Where(r => r.Child("alert") is not null).ToList();

    /// <summary>A Prometheus rule_files pattern (filepath.Match: <c>*</c>, <c>?</c>) as an anchored regex.</summary>
    private static Regex GlobToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", "[^/]*", StringComparison.Ordinal).Replace(@"\?", "[^/]", StringComparison.Ordinal) + "$");

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes.</summary>
    private static string Slug(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^a-z0-9 \-]", "").Replace(' ', '-');

    [GeneratedRegex(@"\bEM_[A-Za-z0-9_]+")]
    private static partial Regex EnvironmentVariableRegex();

    [GeneratedRegex(@"\.Values\.([A-Za-z0-9_.]+)")]
    private static partial Regex ValuesRegex();

    [GeneratedRegex(@"define ""([^""]+)""")]
    private static partial Regex DefineRegex();

    [GeneratedRegex(@"include ""([^""]+)""")]
    private static partial Regex IncludeRegex();

    [GeneratedRegex(@"\.Files\.Get ""([^""]+)""")]
    private static partial Regex FilesGetRegex();

    [GeneratedRegex(@"(?m)^#{1,6} (.+)$")]
    private static partial Regex HeadingRegex();
}
