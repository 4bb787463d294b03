using System.Text;

namespace Gateway.Log.Tests;

public sealed class Crc32CTests
{
    [Fact]
    public void Matches_the_standard_check_value()
    {
        // The CRC-32C check value: the checksum of the ASCII digits "123456789".
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Hardware_and_table_paths_agree()
    {
        var random = new Random(7);
        for (int length = 0; length < 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(~Crc32C.UpdateSoftware(0xFFFFFFFFu, data), Crc32C.Compute(data));
        }
    }
}
