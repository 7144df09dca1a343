using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Cleave.Runtime.Serving.Security;

/// <summary>
/// Who a call comes from, as the server knows it: <c>key:NAME</c> for an API key, <c>cert:THUMBPRINT</c> for a client
/// certificate, or <c>ip:ADDRESS</c> when the server does not authenticate; with the quota that applies to it.
/// </summary>
internal sealed record CallerIdentity(string Name, ClientQuota Quota)
{
    private const string ItemKey = "cleave.caller";

    /// <summary>The identity <see cref="AuthInterceptor"/> attached to this call, or the peer's address.</summary>
    public static CallerIdentity Of(ServerCallContext context, ClientQuota defaultQuota)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.GetHttpContext();
        if (http.Items.TryGetValue(ItemKey, out var found) && found is CallerIdentity identity) return identity;
        return new CallerIdentity($"ip:{http.Connection.RemoteIpAddress}", defaultQuota);
    }

    internal void AttachTo(HttpContext http) => http.Items[ItemKey] = this;
}
