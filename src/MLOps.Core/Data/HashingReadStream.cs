using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace MLOps.Core.Data;

/// <summary>A forward-only read-through stream that hashes (SHA-256) and counts every byte read from the inner
/// stream, and (for the validator) stops a reader that buffers too much without completing a row. It does not
/// dispose the inner stream.</summary>
/// <remarks>With <c>hashInBackground</c> the bytes read are copied to pooled buffers and hashed on another thread
/// (at most <see cref="BackgroundQueueDepth"/> buffers wait, so memory stays flat): the reader's thread only copies.
/// The hash is then final once taken: <see cref="HashHex"/> ends the stream.</remarks>
public sealed class HashingReadStream : Stream
{
    /// <summary>Buffers that may wait for the background hasher before a read waits for it.</summary>
    public const int BackgroundQueueDepth = 16;

    private readonly Stream _inner;
    private readonly long _maxBytesWithoutRow;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Channel<(byte[] Buffer, int Length)>? _pending;
    private readonly Task? _hasher;
    private long _bytesAtLastRow;
    private string? _finalHash;

    /// <summary>Hashes and counts with no row guard (e.g. while uploading an artifact).</summary>
    public HashingReadStream(Stream inner)
        : this(inner, long.MaxValue / 2)
    {
    }

    /// <summary>Hashes and counts on the reader's thread; <paramref name="maxBytesWithoutRow"/> guards against runaway rows.</summary>
    public HashingReadStream(Stream inner, long maxBytesWithoutRow)
        : this(inner, maxBytesWithoutRow, hashInBackground: false)
    {
    }

    /// <summary>As <see cref="HashingReadStream(Stream, long)"/>; with <paramref name="hashInBackground"/> the hash is
    /// computed on another thread while the reader goes on.</summary>
    public HashingReadStream(Stream inner, long maxBytesWithoutRow, bool hashInBackground)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _maxBytesWithoutRow = maxBytesWithoutRow;
        if (hashInBackground)
        {
            _pending = Channel.CreateBounded<(byte[] Buffer, int Length)>(new BoundedChannelOptions(BackgroundQueueDepth)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            var reader = _pending.Reader;
            _hasher = Task.Run(async () =>
            {
                while (await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    while (reader.TryRead(out var item))
                    {
                        _hash.AppendData(item.Buffer, 0, item.Length);
                        ArrayPool<byte>.Shared.Return(item.Buffer);
                    }
                }
            });
        }
    }

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
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            while (await ReadAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Lowercase hex SHA-256 of the bytes read so far. When hashing in the background this waits for the
    /// hasher and ends the stream (further reads throw).</summary>
    public string HashHex()
    {
        if (_pending is null)
        {
            return Convert.ToHexStringLower(_hash.GetCurrentHash());
        }
        if (_finalHash is null)
        {
            _pending.Writer.TryComplete();
            _hasher!.GetAwaiter().GetResult();
            _finalHash = Convert.ToHexStringLower(_hash.GetCurrentHash());
        }
        return _finalHash;
    }

    /// <summary>As <see cref="HashHex"/>, waiting for the background hasher asynchronously.</summary>
    public async Task<string> HashHexAsync()
    {
        if (_pending is not null && _finalHash is null)
        {
            _pending.Writer.TryComplete();
            await _hasher!.ConfigureAwait(false);
        }
        return HashHex();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        var read = buffer[..n];
        EnsureOpen(n);
        if (_pending is null)
        {
            _hash.AppendData(read);
        }
        else if (n > 0)
        {
            var item = Copy(read);
            if (!_pending.Writer.TryWrite(item))
            {
                _pending.Writer.WriteAsync(item).AsTask().GetAwaiter().GetResult();
            }
        }
        Count(n);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        var read = buffer[..n];
        EnsureOpen(n);
        if (_pending is null)
        {
            _hash.AppendData(read.Span);
        }
        else if (n > 0)
        {
            var item = Copy(read.Span);
            if (!_pending.Writer.TryWrite(item))
            {
                await _pending.Writer.WriteAsync(item, cancellationToken);
            }
        }
        Count(n);
        return n;
    }

    private void EnsureOpen(int read)
    {
        if (_finalHash is not null && read > 0)
        {
            throw new InvalidOperationException("the hash was already taken; the stream cannot be read further");
        }
    }

    /// <summary>Counts bytes already hashed (or queued), then applies the row guard.</summary>
    private void Count(int read)
    {
        BytesRead += read;
        if (BytesRead - _bytesAtLastRow > _maxBytesWithoutRow)
        {
            throw new RowTooLongException(BytesRead);
        }
    }

    private static (byte[] Buffer, int Length) Copy(ReadOnlySpan<byte> read)
    {
        var copy = ArrayPool<byte>.Shared.Rent(read.Length);
        read.CopyTo(copy);
        return (copy, read.Length);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_pending is not null)
            {
                // Let the hasher finish what was queued (it returns the pooled buffers) before the hash goes away.
                _pending.Writer.TryComplete();
                try
                {
                    _hasher!.GetAwaiter().GetResult();
                }
                catch (ObjectDisposedException)
                {
                }
            }
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
