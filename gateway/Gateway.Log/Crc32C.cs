using System.Buffers.Binary;
using System.Runtime.Intrinsics.Arm;
using X86 = System.Runtime.Intrinsics.X86;

namespace Gateway.Log;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum on every commit-log record.
/// Hand-written because System.IO.Hashing (10.x and 11.0) ships CRC-32 (IEEE) and CRC-64 but no
/// CRC-32C. Uses the SSE4.2 / ARMv8 CRC32C instructions when present (several GB/s) and a
/// slicing-by-one table otherwise.
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();

    /// <summary>CRC-32C of <paramref name="data"/> (initial value and final xor 0xFFFFFFFF).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>Continues a running (non-finalised) CRC; start with 0xFFFFFFFF and complement at the end.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (X86.Sse42.X64.IsSupported)
        {
            while (data.Length >= 8)
            {
                crc = (uint)X86.Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
        }
        else if (Crc32.Arm64.IsSupported)
        {
            while (data.Length >= 8)
            {
                crc = Crc32.Arm64.ComputeCrc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
        }

        if (X86.Sse42.IsSupported)
        {
            foreach (byte b in data)
            {
                crc = X86.Sse42.Crc32(crc, b);
            }

            return crc;
        }

        if (Crc32.IsSupported)
        {
            foreach (byte b in data)
            {
                crc = Crc32.ComputeCrc32C(crc, b);
            }

            return crc;
        }

        return UpdateSoftware(crc, data);
    }

    /// <summary>The table-driven path, exposed so tests can check it against the hardware path.</summary>
    internal static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] table = Table;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
