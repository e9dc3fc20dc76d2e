using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MLOps.Core.Data;

/// <summary>
/// Finds exact duplicate rows while a dataset streams, in bounded memory. Each row's compared cells are written into
/// one reusable key buffer (each cell length-prefixed, so <c>"a,bc"</c> and <c>"ab,c"</c> differ), hashed to 64 bits
/// with XXH3 under a per-process random seed, and the hash is kept with the row it was first seen in, in an
/// open-addressing table (12 bytes a slot, at most 75% full, so 16–32 bytes per remembered row).
/// </summary>
/// <remarks>
/// Rows are compared by hash, not by text: two different rows are taken for duplicates only when their 64-bit hashes
/// collide. Among <c>n</c> distinct rows the chance of any such false duplicate is at most n²/2⁶⁵ (about 3·10⁻⁸ for a
/// million rows, 4·10⁻⁷ for the default limit of four million); the seed is random per process, so crafted input
/// cannot aim for a collision. At most <see cref="ValidationOptions.MaxDuplicateTrackedRows"/> distinct rows are
/// remembered (memory ≤ 32 bytes each, and rows numbered beyond 2³² are not remembered); rows after that are still compared with the remembered ones but not added,
/// so the count becomes a lower bound and <see cref="Complete"/> says so.
/// </remarks>
internal sealed class DuplicateRowTracker(int maxTracked, int maxExamples)
{
    private static readonly long Seed = BinaryPrimitives.ReadInt64LittleEndian(RandomNumberGenerator.GetBytes(8));

    private byte[] _key = new byte[256];
    private int _keyLength;
    private ulong[] _hashes = new ulong[1024];
    private uint[] _rows = new uint[1024];
    private int _count;
    private readonly List<DuplicateRowPair> _examples = [];

    /// <summary>Rows found to repeat an earlier row.</summary>
    public long Duplicates { get; private set; }

    /// <summary>False once the table is full and later distinct rows were no longer remembered.</summary>
    public bool Complete { get; private set; } = true;

    /// <summary>The first duplicates found, each with the earlier row it repeats.</summary>
    public IReadOnlyList<DuplicateRowPair> Examples => _examples;

    /// <summary>Sizes the table for about <paramref name="rows"/> rows (capped), so a large file is not rehashed as it grows.</summary>
    public void EnsureCapacity(long rows)
    {
        var wanted = Math.Min(rows, maxTracked);
        var slots = (long)_hashes.Length;
        while (slots * 3 / 4 < wanted && slots < 1 << 30)
        {
            slots *= 2;
        }
        if (slots > _hashes.Length)
        {
            Resize((int)slots);
        }
    }

    /// <summary>Appends one text cell of the current row (the caller trims it).</summary>
    public void AddText(ReadOnlySpan<char> value)
    {
        var bytes = MemoryMarshal.AsBytes(value);
        var need = _keyLength + 4 + bytes.Length;
        if (need > _key.Length)
        {
            Array.Resize(ref _key, Math.Max(_key.Length * 2, need));
        }
        BinaryPrimitives.WriteInt32LittleEndian(_key.AsSpan(_keyLength), value.Length);
        bytes.CopyTo(_key.AsSpan(_keyLength + 4));
        _keyLength = need;
    }

    /// <summary>Appends one typed cell (Parquet): its 8 bytes under a marker, so a number never equals a text.</summary>
    public void AddValue(double value)
    {
        EnsureKey(12);
        // -0 and 0 are the same value; every NaN is the same value.
        var bits = value == 0 ? 0 : double.IsNaN(value) ? BitConverter.DoubleToInt64Bits(double.NaN) : BitConverter.DoubleToInt64Bits(value);
        BinaryPrimitives.WriteInt32LittleEndian(_key.AsSpan(_keyLength), -2);
        BinaryPrimitives.WriteInt64LittleEndian(_key.AsSpan(_keyLength + 4), bits);
        _keyLength += 12;
    }

    /// <summary>Appends a missing cell (a Parquet null); an empty CSV cell is the empty text.</summary>
    public void AddNull()
    {
        EnsureKey(4);
        BinaryPrimitives.WriteInt32LittleEndian(_key.AsSpan(_keyLength), -1);
        _keyLength += 4;
    }

    /// <summary>Forgets the cells appended for the current row (a row that is not compared, e.g. a malformed one).</summary>
    public void Reset() => _keyLength = 0;

    /// <summary>Ends the current row: true when it repeats an earlier one (named in <paramref name="firstRow"/>).</summary>
    public bool EndRow(long row, out long firstRow)
    {
        var hash = XxHash3.HashToUInt64(_key.AsSpan(0, _keyLength), Seed);
        _keyLength = 0;
        hash = hash == 0 ? 1 : hash; // 0 marks an empty slot
        var mask = _hashes.Length - 1;
        var slot = (int)(hash >> 34) & mask;
        while (true)
        {
            var h = _hashes[slot];
            if (h == 0)
            {
                break;
            }
            if (h == hash)
            {
                firstRow = _rows[slot];
                Duplicates++;
                if (_examples.Count < maxExamples)
                {
                    _examples.Add(new DuplicateRowPair(row, firstRow));
                }
                return true;
            }
            slot = (slot + 1) & mask;
        }

        firstRow = row;
        if (_count >= maxTracked || row > uint.MaxValue)
        {
            Complete = false;
            return false;
        }
        _hashes[slot] = hash;
        _rows[slot] = (uint)row;
        if (++_count > _hashes.Length * 3L / 4)
        {
            Resize(_hashes.Length * 2);
        }
        return false;
    }

    private void EnsureKey(int extra)
    {
        if (_keyLength + extra > _key.Length)
        {
            Array.Resize(ref _key, _key.Length * 2 + extra);
        }
    }

    private void Resize(int slots)
    {
        var hashes = new ulong[slots];
        var rows = new uint[slots];
        var mask = hashes.Length - 1;
        for (var i = 0; i < _hashes.Length; i++)
        {
            var h = _hashes[i];
            if (h == 0)
            {
                continue;
            }
            var slot = (int)(h >> 34) & mask;
            while (hashes[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }
            hashes[slot] = h;
            rows[slot] = _rows[i];
        }
        _hashes = hashes;
        _rows = rows;
    }
}
