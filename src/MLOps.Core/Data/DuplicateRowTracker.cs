using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace MLOps.Core.Data;

/// <summary>
/// Finds exact duplicate rows while a dataset streams, in bounded memory. Each compared cell gets a 64-bit key from
/// the value the validator has already decoded (a number's bits, a category's index, a boolean; XXH3 of the text for
/// text, timestamps and cells that failed their type; a fixed key for an empty cell). The keys of a row are chained
/// with a 128-bit multiply-and-fold step (as wyhash does) under per-process random secrets, and the row's 64-bit
/// hash is kept with the row it was first seen in, in an open-addressing table (12 bytes a slot, at most 75% full).
/// Rows are looked up 32 at a time: their slots are first touched together, so the cache misses of a table larger
/// than the cache overlap instead of stalling one row at a time (in row order all the same). The table comes from the
/// shared array pool and goes back to it (<see cref="Release"/>): a fresh table of a million rows is 24 MB of new
/// pages, and first-touching them costs more than the lookups themselves, validation after validation.
/// </summary>
/// <remarks>
/// Rows are compared by hash, not by text: two different rows are taken for duplicates only when their 64-bit hashes
/// collide. For a well-mixing 64-bit hash the chance of any such false duplicate among <c>n</c> distinct rows is about
/// n²/2⁶⁵ (3·10⁻⁸ for a million rows, 4·10⁻⁷ for the default limit of four million); the secrets are random per
/// process, so crafted input cannot aim for a collision. At most <see cref="ValidationOptions.MaxDuplicateTrackedRows"/>
/// distinct rows are remembered (16–32 bytes each; rows numbered beyond 2³² are not remembered); rows after that are
/// still compared with the remembered ones but not added, so the count becomes a lower bound and <see cref="Complete"/>
/// says so. Decoding first means a number is compared by value (<c>1.0</c> equals <c>1</c>, in CSV as in Parquet).
/// </remarks>
internal sealed class DuplicateRowTracker(int maxTracked, int maxExamples)
{
    private static readonly ulong Secret1 = RandomSecret();
    private static readonly ulong Secret2 = RandomSecret();
    private static readonly long TextSeed = (long)RandomSecret();

    /// <summary>The key of an empty cell (a Parquet null).</summary>
    public static readonly ulong NullKey = RandomSecret();

    /// <summary>The chain's start value for every row.</summary>
    public static readonly ulong Start = RandomSecret();

    private const int Batch = 32;

    private Slot[] _slots = Rent(1024);
    private readonly ulong[] _pendingHashes = new ulong[Batch];
    private readonly long[] _pendingRows = new long[Batch];
    private int _pending;
    private int _count;
    private readonly List<DuplicateRowPair> _examples = [];

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Slot
    {
        public ulong Hash;
        public uint Row;
    }

    /// <summary>Rows found to repeat an earlier row.</summary>
    public long Duplicates { get; private set; }

    /// <summary>False once the table is full and later distinct rows were no longer remembered.</summary>
    public bool Complete { get; private set; } = true;

    /// <summary>The first duplicates found, each with the earlier row it repeats.</summary>
    public IReadOnlyList<DuplicateRowPair> Examples => _examples;

    /// <summary>The key of a number: its bits, with −0 as 0 and one NaN.</summary>
    public static ulong NumberKey(double value) =>
        value == 0 ? 0 : double.IsNaN(value) ? 0x7FF8000000000000UL : BitConverter.DoubleToUInt64Bits(value);

    /// <summary>The key of a text cell (already trimmed by the caller).</summary>
    public static ulong TextKey(ReadOnlySpan<char> value) => XxHash3.HashToUInt64(MemoryMarshal.AsBytes(value), TextSeed);

    /// <summary>Chains one cell's key into the row's hash: a 64×64→128-bit multiply of both (each masked by a
    /// secret), folded to 64 bits.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong hash, ulong key)
    {
        var high = Math.BigMul(key ^ Secret1, hash ^ Secret2, out var low);
        return high ^ low;
    }

    /// <summary>Sizes the table for about <paramref name="rows"/> rows (capped), so a large file is not rehashed as it grows.</summary>
    public void EnsureCapacity(long rows)
    {
        var wanted = Math.Min(rows, maxTracked);
        var slots = (long)_slots.Length;
        while (slots * 3 / 4 < wanted && slots < 1 << 30)
        {
            slots *= 2;
        }
        if (slots > _slots.Length)
        {
            Resize((int)slots);
        }
    }

    /// <summary>Ends a row whose chained hash is <paramref name="hash"/>. Rows are looked up in batches, in order;
    /// <see cref="Flush"/> before reading the results.</summary>
    public void EndRow(ulong hash, long row)
    {
        // A last multiply so the final cells are as well mixed as the first.
        hash = Mix(hash, Secret2);
        _pendingHashes[_pending] = hash == 0 ? 1 : hash; // 0 marks an empty slot
        _pendingRows[_pending] = row;
        if (++_pending == Batch)
        {
            Flush();
        }
    }

    /// <summary>Looks up the rows still waiting.</summary>
    public void Flush()
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        ulong touched = 0;
        for (var i = 0; i < _pending; i++)
        {
            // Independent loads: the processor has them all in flight at once.
            touched ^= slots[(int)(_pendingHashes[i] >> 34) & mask].Hash;
        }
        _touched = touched;
        for (var i = 0; i < _pending; i++)
        {
            Look(_pendingHashes[i], _pendingRows[i]);
        }
        _pending = 0;
    }

    /// <summary>Keeps the touching loads from being optimized away.</summary>
    private ulong _touched;

    private void Look(ulong hash, long row)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var slot = (int)(hash >> 34) & mask;
        while (true)
        {
            ref var s = ref slots[slot];
            if (s.Hash == 0)
            {
                break;
            }
            if (s.Hash == hash)
            {
                long firstRow = s.Row;
                Duplicates++;
                if (_examples.Count < maxExamples)
                {
                    _examples.Add(new DuplicateRowPair(row, firstRow));
                }
                return;
            }
            slot = (slot + 1) & mask;
        }

        if (_count >= maxTracked || row > uint.MaxValue)
        {
            Complete = false;
            return;
        }
        slots[slot] = new Slot { Hash = hash, Row = (uint)row };
        if (++_count > slots.Length * 3L / 4)
        {
            Resize(slots.Length * 2);
        }
    }

    /// <summary>Tables from this length up to <see cref="SpareMaxLength"/> are kept in <see cref="_spare"/> when released.</summary>
    private const int SpareMinLength = 1 << 16;

    /// <summary>The largest table kept (24 MB: the one presized for a file of a million rows or more).</summary>
    private const int SpareMaxLength = 1 << 21;

    /// <summary>The last table released (one, at most 24 MB, none while memory is short), for the next tracker of its
    /// size. The shared pool keeps a returned array in the returning thread's own slot first (here a thread-pool thread
    /// finishing the report), out of reach of the next validation's reading thread, which then first-touched a fresh
    /// table: slower than the lookups.</summary>
    private static Slot[]? _spare;

    /// <summary>Gives the table back (to <see cref="_spare"/> or the pool); the tracker must not be used after.</summary>
    public void Release()
    {
        var slots = _slots;
        _slots = [];
        if (slots.Length is >= SpareMinLength and <= SpareMaxLength && !MemoryIsShort())
        {
            if (Interlocked.Exchange(ref _spare, slots) is { } previous)
            {
                ArrayPool<Slot>.Shared.Return(previous);
            }
        }
        else if (slots.Length > 0)
        {
            ArrayPool<Slot>.Shared.Return(slots);
        }
    }

    private static bool MemoryIsShort()
    {
        var info = GC.GetGCMemoryInfo();
        return info.MemoryLoadBytes >= info.HighMemoryLoadThresholdBytes;
    }

    private static Slot[] Rent(int size)
    {
        if (size >= SpareMinLength && Interlocked.Exchange(ref _spare, null) is { } spare)
        {
            if (spare.Length == size)
            {
                spare.AsSpan().Clear();
                return spare;
            }
            // Another size (a table growing on its way): keep the spare for a tracker of its size.
            if (Interlocked.CompareExchange(ref _spare, spare, null) is not null)
            {
                ArrayPool<Slot>.Shared.Return(spare);
            }
        }
        var slots = ArrayPool<Slot>.Shared.Rent(size);
        if (slots.Length != size)
        {
            // The pool rounds up to a power of two; the table's mask needs its exact size.
            ArrayPool<Slot>.Shared.Return(slots);
            slots = new Slot[size];
        }
        else
        {
            slots.AsSpan().Clear();
        }
        return slots;
    }

    private void Resize(int size)
    {
        var slots = Rent(size);
        var mask = size - 1;
        foreach (var s in _slots)
        {
            if (s.Hash == 0)
            {
                continue;
            }
            var slot = (int)(s.Hash >> 34) & mask;
            while (slots[slot].Hash != 0)
            {
                slot = (slot + 1) & mask;
            }
            slots[slot] = s;
        }
        ArrayPool<Slot>.Shared.Return(_slots);
        _slots = slots;
    }

    private static ulong RandomSecret() => BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8)) | 1;
}
