using Cleave.Runtime.Generation;
using Cleave.Runtime.Serving;
using Cleave.Runtime.Serving.Security;
using Cleave.Runtime.Tests.Generation;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Cleave.Runtime.Tests;

/// <summary>The standard gRPC health service (grpc.health.v1) beside /healthz, as a load balancer or grpc_health_probe calls it.</summary>
public sealed class GrpcHealthTests
{
    private static async Task<HealthCheckResponse.Types.ServingStatus> CheckAsync(Uri server, string service)
    {
        using var channel = GrpcChannel.ForAddress(server);
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = service },
            deadline: DateTime.UtcNow.AddSeconds(30));
        return reply.Status;
    }

    [Fact]
    public async Task The_classification_server_answers_serving_without_credentials_and_not_found_for_other_services()
    {
        using var keys = new TempKeyFile();
        await using var server = await SplitServer.StartAsync(new SplitServerOptions
        {
            SplitDirectory = TinySplit.SplitPath, Port = 0, Threads = 1, Security = new ServerSecurityOptions { ApiKeyFile = keys.Path },
        });
        // The server demands an API key for its own service; a health probe carries none and is still answered.
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await CheckAsync(server.Url, ""));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await CheckAsync(server.Url, "cleave.v1.SplitInference"));
        var unknown = await Assert.ThrowsAsync<RpcException>(() => CheckAsync(server.Url, "cleave.v1.Nothing"));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [StoriesFact]
    public async Task The_generation_server_answers_serving_beside_healthz()
    {
        await using var server = await GenerationServer.StartAsync(StoriesModel.Options(2));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await CheckAsync(server.Address, "cleave.v1.Generation"));
        using var http = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        Assert.Equal("ok generation\n", await http.GetStringAsync(new Uri(server.Address, "/healthz")));
    }

    /// <summary>An API key file with one key in it, removed afterwards.</summary>
    private sealed class TempKeyFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(Directory.CreateTempSubdirectory("cleave-health-").FullName, "keys");
        public TempKeyFile() => ApiKeyFile.Add(Path, "someone");
        public void Dispose() => Directory.Delete(System.IO.Path.GetDirectoryName(Path)!, recursive: true);
    }
}
