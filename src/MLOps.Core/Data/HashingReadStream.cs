using System.Security.Cryptography;

namespace MLOps.Core.Data;

/// <summary>A forward-only read-through stream that hashes (SHA-256) and counts every byte read from the inner
/// stream, and (for the validator) stops a reader that buffers too much without completing a row. It does not
/// dispose the inner stream.</summary>
public sealed class HashingReadStream(Stream inner, long maxBytesWithoutRow) : Stream
{
    /// <summary>Hashes and counts with no row guard (e.g. while uploading an artifact).</summary>
    public HashingReadStream(Stream inner)
        : this(inner, long.MaxValue / 2)
    {
    }

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _bytesAtLastRow;

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Called when the reader completed a row: the guard counts from here.</summary>
    public void MarkRow() => _bytesAtLastRow = BytesRead;

    /// <summary>Turns the guard off (e.g. to drain the rest of the file into the hash).</summary>
    public void DisableGuard() => _bytesAtLastRow = long.MaxValue / 2;

    /// <summary>Reads the rest of the inner stream into the hash and the byte count.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        DisableGuard();
        var buffer = new byte[81920];
        while (await ReadAsync(buffer, cancellationToken) > 0)
        {
        }
    }

    /// <summary>Lowercase hex SHA-256 of the bytes read so far.</summary>
    public string HashHex() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n]);
    }

    private int Account(ReadOnlySpan<byte> read)
    {
        if (read.Length > 0)
        {
            _hash.AppendData(read);
            BytesRead += read.Length;
            if (BytesRead - _bytesAtLastRow > maxBytesWithoutRow)
            {
                throw new RowTooLongException(BytesRead);
            }
        }
        return read.Length;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A row (or a field in it) is longer than the validator allows.</summary>
internal sealed class RowTooLongException(long bytesRead)
    : IOException($"more than the allowed bytes were read without completing a row (at byte {bytesRead})")
{
    public long BytesRead { get; } = bytesRead;
}
