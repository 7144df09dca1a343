using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// Refuses every gRPC call (split inference and generation alike) whose caller <see cref="ClientAuthenticator"/> does
/// not recognise, with status UNAUTHENTICATED and a message that says nothing about which keys or CAs exist; attaches
/// the recognised caller to the call for quotas and idempotency.
/// </summary>
internal sealed class AuthInterceptor(ClientAuthenticator authenticator, ServerSecurityMetrics metrics, ILogger<AuthInterceptor> log) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Admit(ServerCallContext context)
    {
        // Health checks carry no credentials (a load balancer's or Kubernetes' probe), as GET /healthz needs none.
        if (context.Method.StartsWith(GrpcHealth.MethodPrefix, StringComparison.Ordinal)) return;
        var http = context.GetHttpContext();
        if (authenticator.Authenticate(http) is not { } caller)
        {
            metrics.Refused();
            log.Unauthenticated(context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing, unknown or revoked credentials (send an API key as 'authorization: Bearer KEY', or a client certificate)"));
        }
        caller.AttachTo(http);
    }
}
