using Cleave.Runtime.Serving.Security;

namespace Cleave.Runtime.Tests.Security;

public sealed class ApiKeyFileTests
{
    [Fact]
    public void A_key_file_stores_only_hashes_and_parses_quotas()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            string key = ApiKeyFile.Add(path, "edge-1", ClientQuota.Parse("rate=5,concurrent=2"));
            string text = File.ReadAllText(path);
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            Assert.Contains(ApiKeyFile.Hash(key), text, StringComparison.Ordinal);
            var entry = Assert.Single(ApiKeyFile.Parse(text));
            Assert.Equal(("edge-1", 5.0, 2), (entry.Name, entry.Quota!.RequestsPerSecond, entry.Quota.MaxConcurrent));
            Assert.Throws<ArgumentException>(() => ApiKeyFile.Add(path, "edge-1"));
            var store = new ApiKeyStore(path);
            Assert.Equal("edge-1", store.Find(key)?.Name);
            Assert.Null(store.Find(key + "0"));
            Assert.Null(store.Find(""));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("alice:1234")]
    [InlineData("bad name:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("a:0000000000000000000000000000000000000000000000000000000000000000:rate=-1")]
    [InlineData("a:0000000000000000000000000000000000000000000000000000000000000000:speed=1")]
    [InlineData("a:0000000000000000000000000000000000000000000000000000000000000000\na:1111111111111111111111111111111111111111111111111111111111111111")]
    public void Malformed_entries_are_refused_with_a_reason(string text) =>
        Assert.Throws<FormatException>(() => ApiKeyFile.Parse(text));

    [Fact]
    public void A_revoked_key_stops_working_once_the_reload_interval_has_passed()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            string alice = ApiKeyFile.Add(path, "alice");
            string carol = ApiKeyFile.Add(path, "carol");
            var clock = new ManualClock();
            var store = new ApiKeyStore(path, time: clock) { ReloadInterval = TimeSpan.FromSeconds(1) };
            Assert.Equal("alice", store.Find(alice)?.Name);
            Assert.True(ApiKeyFile.Revoke(path, "alice"));
            clock.Advance(TimeSpan.FromMilliseconds(999));
            Assert.Equal("alice", store.Find(alice)?.Name); // the file is looked at no more than once per interval
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Null(store.Find(alice));
            Assert.Equal("carol", store.Find(carol)?.Name);
            Assert.Equal(0, store.ReloadFailures);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_broken_file_on_reload_keeps_the_previous_keys()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cleave-keys-{Guid.NewGuid():N}");
        try
        {
            string key = ApiKeyFile.Add(path, "a");
            var store = new ApiKeyStore(path);
            File.AppendAllText(path, "garbage line\n");
            store.Reload();
            Assert.Equal(1, store.ReloadFailures);
            Assert.Equal("a", store.Find(key)?.Name);
        }
        finally { File.Delete(path); }
    }
}
