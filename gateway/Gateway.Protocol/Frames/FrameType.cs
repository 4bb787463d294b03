namespace Gateway.Protocol.Frames;

/// <summary>Frame types (spec constants FRAME-METHOD … FRAME-HEARTBEAT).</summary>
public enum FrameType : byte
{
    Method = 1,
    Header = 2,
    Body = 3,
    Heartbeat = 8,
}
