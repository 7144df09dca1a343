using System.Text.Json;
using Cleave.Runtime.Serving.Security;

namespace Cleave.Cli.Tests;

/// <summary>`keys add/list/revoke` keep only hashes; `serve` refuses security options that cannot work.</summary>
public sealed class KeysCommandTests
{
    [Fact]
    public void Keys_are_printed_once_stored_as_hashes_listed_by_name_and_revoked()
    {
        using var dir = new TempFolder();
        string file = dir.File("keys");
        var (code, stdout, stderr) = CliRunner.Run("keys", "add", "edge-1", "--file", file, "--quota", "rate=5,concurrent=2");
        Assert.True(code == 0, stderr);
        string key = stdout.Trim();
        Assert.StartsWith(ApiKeyFile.KeyPrefix, key, StringComparison.Ordinal);
        Assert.DoesNotContain(key, File.ReadAllText(file), StringComparison.Ordinal);
        Assert.Equal("edge-1", new ApiKeyStore(file).Find(key)?.Name);

        (code, stdout, stderr) = CliRunner.Run("keys", "add", "edge-2", "--file", file, "--json");
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(stdout)) Assert.StartsWith(ApiKeyFile.KeyPrefix, doc.RootElement.GetProperty("key").GetString(), StringComparison.Ordinal);

        (code, stdout, _) = CliRunner.Run("keys", "list", "--file", file, "--json");
        Assert.Equal(0, code);
        using (var doc = JsonDocument.Parse(stdout))
            Assert.Equal(["edge-1", "edge-2"], doc.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()!));
        Assert.DoesNotContain(key, stdout, StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run("keys", "revoke", "edge-1", "--file", file).ExitCode);
        Assert.Null(new ApiKeyStore(file).Find(key));
        Assert.Equal(1, CliRunner.Run("keys", "revoke", "edge-1", "--file", file).ExitCode);
        Assert.NotEqual(0, CliRunner.Run("keys", "add", "bad name", "--file", file).ExitCode);
    }

    [Fact]
    public void Serve_refuses_a_client_ca_without_its_own_certificate()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("ca.pem"), "not used");
        var (code, _, stderr) = CliRunner.Run("serve", "--full", dir.File("m.onnx"), "--client-ca", dir.File("ca.pem"), "--port", "0");
        Assert.Equal(2, code);
        Assert.Contains("--cert", stderr);
    }
}
