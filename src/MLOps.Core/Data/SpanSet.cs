namespace MLOps.Core.Data;

/// <summary>A set of strings stored in one growing character arena, looked up by span: adding a value allocates
/// nothing per value (unlike a <see cref="HashSet{T}"/> of strings), which matters for a unique id column of
/// millions of rows. Each value remembers the row it was first seen in. Hashes are randomized per process
/// (<see cref="string.GetHashCode(ReadOnlySpan{char})"/>), so crafted input cannot force collisions.</summary>
internal sealed class SpanSet
{
    private char[] _chars = new char[4096];
    private int _charCount;
    private Entry[] _entries = new Entry[256];
    // Hash and entry index + 1 (0 = empty) side by side: a probe that misses never touches the entries.
    private Bucket[] _buckets = new Bucket[256];

    private struct Bucket
    {
        public int Hash;
        public int Index;
    }

    private struct Entry
    {
        public int Hash;
        public int Start;
        public int Length;
        public long Row;
    }

    public int Count { get; private set; }

    /// <summary>Sizes the set for about <paramref name="capacity"/> values of <paramref name="averageLength"/> characters,
    /// so a large unique column is not rehashed and copied again and again while it grows.</summary>
    public void EnsureCapacity(int capacity, int averageLength)
    {
        capacity = Math.Clamp(capacity, 0, 1 << 26);
        if (capacity <= _entries.Length)
        {
            return;
        }
        Array.Resize(ref _entries, capacity);
        var chars = (long)capacity * Math.Max(averageLength, 1);
        if (chars > _chars.Length && chars <= Array.MaxLength / 2)
        {
            Array.Resize(ref _chars, (int)chars);
        }
        while (_buckets.Length < 2 * capacity)
        {
            Rehash();
        }
    }

    /// <summary>Adds <paramref name="value"/>; false (with the row it was first added at) when it is already present.</summary>
    public bool TryAdd(ReadOnlySpan<char> value, long row, out long firstRow)
    {
        var hash = string.GetHashCode(value);
        var mask = _buckets.Length - 1;
        var slot = Slot(hash, mask);
        while (true)
        {
            var b = _buckets[slot];
            if (b.Index == 0)
            {
                break;
            }
            if (b.Hash == hash)
            {
                ref var e = ref _entries[b.Index - 1];
                if (_chars.AsSpan(e.Start, e.Length).SequenceEqual(value))
                {
                    firstRow = e.Row;
                    return false;
                }
            }
            slot = (slot + 1) & mask;
        }

        if (_charCount + value.Length > _chars.Length)
        {
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _charCount + value.Length));
        }
        value.CopyTo(_chars.AsSpan(_charCount));
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }
        _entries[Count] = new Entry { Hash = hash, Start = _charCount, Length = value.Length, Row = row };
        _charCount += value.Length;
        _buckets[slot] = new Bucket { Hash = hash, Index = ++Count };
        if (Count * 2 > _buckets.Length)
        {
            Rehash();
        }
        firstRow = row;
        return true;
    }

    /// <summary>True when <paramref name="value"/> is in the set.</summary>
    public bool Contains(ReadOnlySpan<char> value)
    {
        var hash = string.GetHashCode(value);
        var mask = _buckets.Length - 1;
        for (var slot = Slot(hash, mask); _buckets[slot].Index != 0; slot = (slot + 1) & mask)
        {
            if (_buckets[slot].Hash != hash)
            {
                continue;
            }
            ref var e = ref _entries[_buckets[slot].Index - 1];
            if (_chars.AsSpan(e.Start, e.Length).SequenceEqual(value))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Fibonacci hashing: spreads the hash's bits over the slot index before masking.</summary>
    private static int Slot(int hash, int mask) => (int)(((uint)hash * 0x9E3779B9u) >> 7) & mask;

    private void Rehash()
    {
        var buckets = new Bucket[_buckets.Length * 2];
        var mask = buckets.Length - 1;
        for (var i = 0; i < Count; i++)
        {
            var hash = _entries[i].Hash;
            var slot = Slot(hash, mask);
            while (buckets[slot].Index != 0)
            {
                slot = (slot + 1) & mask;
            }
            buckets[slot] = new Bucket { Hash = hash, Index = i + 1 };
        }
        _buckets = buckets;
    }
}
