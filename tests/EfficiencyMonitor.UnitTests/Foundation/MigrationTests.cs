using EfficiencyMonitor.Storage.Migrations;

namespace EfficiencyMonitor.UnitTests.Foundation;

public sealed class MigrationTests
{
    [Fact]
    public void SplitStatements_SemicolonsInStringsAndComments_SplitsOnlyBetweenStatements()
    {
        const string script = """
            -- a comment; not a statement
            CREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory;
            /* block; comment */
            INSERT INTO a VALUES ('it\'s; fine');
            SELECT `odd;name` FROM a
            """;
        var statements = SqlScript.SplitStatements(script);
        Assert.Equal(3, statements.Count);
        Assert.Equal("CREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory", statements[0]);
        Assert.Equal("INSERT INTO a VALUES ('it\\'s; fine')", statements[1]);
        Assert.Equal("SELECT `odd;name` FROM a", statements[2]);
    }

    [Fact]
    public void LoadEmbedded_ShipsOrderedMigrationsStartingWithRawTables()
    {
        var migrations = Migration.LoadEmbedded();
        Assert.NotEmpty(migrations);
        Assert.Equal("0001_raw_tables.sql", migrations[0].Name);
        Assert.Equal(migrations.OrderBy(m => m.Version).Select(m => m.Version), migrations.Select(m => m.Version));
    }

    [Fact]
    public void Render_FillsPlaceholders_LeavesNoneBehind()
    {
        var statements = Migration.LoadEmbedded()[0].Render("telemetry_db", 30);
        Assert.Equal(2, statements.Count); // two raw tables
        Assert.All(statements, s => Assert.DoesNotContain("{database}", s, StringComparison.Ordinal));
        Assert.All(statements, s => Assert.DoesNotContain("{raw_retention_days}", s, StringComparison.Ordinal));
        Assert.Contains("telemetry_db.inference_requests", statements[0], StringComparison.Ordinal);
        Assert.Contains("INTERVAL 30 DAY", statements[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1_x.sql")]
    [InlineData("0001-x.sql")]
    [InlineData("0001_X.sql")]
    [InlineData("0001_x.txt")]
    public void Parse_BadFileName_NamesTheFileAndTheFix(string fileName)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Migration.Parse(fileName, "SELECT 1"));
        Assert.Contains(fileName, error.Message, StringComparison.Ordinal);
        Assert.Contains("NNNN_description.sql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checksum_DependsOnTemplateText()
    {
        Assert.NotEqual(Migration.Parse("0001_a.sql", "SELECT 1").Checksum, Migration.Parse("0001_a.sql", "SELECT 2").Checksum);
        Assert.Equal(Migration.Parse("0001_a.sql", "SELECT 1").Checksum, Migration.Parse("0001_b.sql", "SELECT 1").Checksum);
    }
}
