using Cleave.Runtime.Protocol;
using Google.Protobuf;

namespace Cleave.Runtime.Tests;

public sealed class ProtocolTests
{
    [Fact]
    public void Request_round_trips_through_protobuf_bytes()
    {
        var message = new ClientMessage
        {
            Request = new InferRequest { RequestId = "c1-7", Payload = ByteString.CopyFrom(1, 2, 3), TopK = 5 },
        };

        var parsed = ClientMessage.Parser.ParseFrom(message.ToByteArray());

        Assert.Equal(ClientMessage.KindOneofCase.Request, parsed.KindCase);
        Assert.Equal("c1-7", parsed.Request.RequestId);
        Assert.Equal(new byte[] { 1, 2, 3 }, parsed.Request.Payload.ToByteArray());
    }
}
