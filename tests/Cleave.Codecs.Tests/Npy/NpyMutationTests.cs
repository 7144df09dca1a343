using Cleave.Codecs.Npy;

namespace Cleave.Codecs.Tests.Npy;

/// <summary>Cut and corrupted files: the reader either returns a consistent array or throws FrameFormatException.</summary>
public sealed class NpyMutationTests
{
    private static readonly DecodeLimits SmallLimits = new() { MaxDecodedBytes = 1 << 20 };

    // Characters that turn a mutated header into other plausible Python literals rather than plain garbage.
    private const string HeaderSyntax = "{}()[],:'\"0123456789-LTFN \n";

    private static IEnumerable<byte[]> ValidFiles()
    {
        yield return NpyTestBytes.WriteBytes(NpyArray.FromFloat32([1f, -2f, 3.5f, 0f, 7f, 8f], new TensorShape(2, 3)));
        yield return NpyTestBytes.WriteBytes(NpyArray.Create(TensorDataType.Float16, new TensorShape(), [0x00, 0x3c]));
        yield return NpyTestBytes.WriteBytes(NpyArray.Create(TensorDataType.Int64, new TensorShape(1, 2, 1, 1), new byte[16]));
        yield return NpyTestBytes.WriteBytes(NpyArray.Create(TensorDataType.UInt8, new TensorShape(4, 0), []));
        yield return NpyTestBytes.Build("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", new byte[24], major: 2, alignment: 16);
        yield return NpyTestBytes.Build("{\"shape\":[1,4],\"descr\":\"|i1\",\"fortran_order\":True}", [1, 2, 3, 4], alignment: 16);
    }

    [Fact]
    public void TruncationsAndMutationsOnlyThrowFrameFormatException()
    {
        var random = new Random(20261126);
        int cases = 0, accepted = 0;
        foreach (byte[] valid in ValidFiles())
        {
            Assert.NotNull(NpyTestBytes.ReadBytes(valid, SmallLimits)); // the seed file itself is valid

            for (int length = 0; length < valid.Length; length++)
                accepted += Survives(valid[..length], ref cases);

            for (int round = 0; round < 600; round++)
            {
                byte[] mutated = (byte[])valid.Clone();
                int edits = 1 + random.Next(3);
                for (int e = 0; e < edits; e++)
                {
                    int at = random.Next(mutated.Length);
                    mutated[at] = random.Next(4) switch
                    {
                        0 => (byte)random.Next(256),
                        1 => (byte)(mutated[at] ^ (1 << random.Next(8))),
                        2 => (byte)HeaderSyntax[random.Next(HeaderSyntax.Length)],
                        _ => (byte)(mutated[at] + 1),
                    };
                }
                accepted += Survives(mutated, ref cases);
            }
        }
        Assert.True(cases > 3000, $"only {cases} cases ran");
        Assert.True(accepted > 0, "no mutation was accepted; the loop is not exercising the success path");
    }

    private static int Survives(byte[] file, ref int cases)
    {
        cases++;
        try
        {
            NpyArray array = NpyTestBytes.ReadBytes(file, SmallLimits);
            // Whatever was accepted must be self-consistent and convertible.
            Assert.Equal((long)array.ElementCount * array.DataType.SizeInBytes(), array.Data.Length);
            Assert.Equal(array.ElementCount, array.ToFloat32().Length);
            return 1;
        }
        catch (FrameFormatException)
        {
            return 0;
        }
    }
}
