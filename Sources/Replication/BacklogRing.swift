/*
 * BacklogRing: Redis 7's shared replication buffer — the replication stream's recent bytes,
 * kept once however many replicas follow it — as a ring buffer in shared memory. The primary
 * appends the RESP of every propagated write; sender workers (other processes, forked by the
 * primary when the fan-out first needs them and handed the ring's descriptor over a Unix socket)
 * read it from each replica's offset and stream it (docs/architecture.md, "Writes to replicas").
 *
 * Retention. As in Redis 7.0, the backlog and the replicas' pending output are one buffer: a
 * byte is released only when it is older than repl-backlog-size *and* no reader still needs it.
 * The ring does not know its readers: the writer passes, with each append (or `release`), the
 * number of the first byte that must stay (`keepingFrom`), and the ring drops older bytes only.
 * Its `capacity` is a hard bound, sized by the server well above repl-backlog-size (the output
 * limits plus slack, docs/operations.md); a reader still behind when the ring laps it fails its
 * read and is dropped.
 *
 * Memory. The ring is a sparse memfd: a large capacity costs address space, not memory. Pages
 * are committed as the writer first touches them, and returned to the kernel (fallocate
 * PUNCH_HOLE) in batches once every byte on them has been released, so an idle ring holds about
 * repl-backlog-size bytes and a ring holding a burst for a slow replica shrinks again when the
 * replica catches up. (A memfd, unlike /dev/shm, is not bounded by that mount's size, which is
 * 64 MB in a default Docker container.) Rings whose capacity is not a whole number of pages
 * (tests' tiny rings) never punch.
 *
 * Offsets. They are Redis's master_repl_offset: the stream's bytes are numbered from 1 and
 * master_repl_offset is the number of the last byte produced. A ring made by
 * `init(…startOffset: O)` or `reset(…startOffset: O)` is empty and its next byte is O+1.
 *   endOffset    = the number of the last byte appended = master_repl_offset (O when empty).
 *   startOffset  = the number of the last byte dropped (or O): the ring holds exactly the
 *                  bytes startOffset+1 … endOffset, i.e. (startOffset, endOffset].
 *   histlen      = endOffset - startOffset ≤ capacity (Redis's repl_backlog->histlen).
 *   firstByteOffset = startOffset + 1 (Redis's repl_backlog->offset, INFO's
 *                  repl_backlog_first_byte_offset; for an empty ring, the next byte's number).
 * Reads take a PSYNC offset: the number of the first byte wanted (a replica sends its
 * processed offset + 1). As in masterTryPartialResynchronization, it can be served when
 * firstByteOffset ≤ offset ≤ firstByteOffset + histlen = endOffset + 1; offset = endOffset + 1
 * is a replica that is caught up, and it gets zero bytes. The byte numbered x sits at data
 * index x % capacity.
 *
 * Layout of the mapping (one shared-memory object, `headerSize` + capacity bytes):
 *     0 magic "TDMBKLOG"   8 version   16 capacity   24 headerSize
 *    64 startOffset       72 endOffset             (own cache line: written on every append)
 *   128 generation       136 retired    144 replid (40 bytes)
 *  4096 data (capacity bytes; page-aligned, so whole data pages can be punched)
 *
 * Concurrency: one writer (the primary; any process may hold the writable mapping, but only
 * one appends), any number of readers in any processes, no locks. It is a seqlock in spirit
 * (Linux's seqcount, and Valkey's io_threads.c justifies each ordering the same way):
 *   - The writer's bytes become visible by a release store of endOffset after the memcpy;
 *     a reader acquire-loads endOffset before reading, so every byte up to it is there.
 *   - When an append or a release drops held bytes, the writer first stores the new
 *     startOffset, then a release fence, then overwrites (or punches) them. A reader copies,
 *     then an acquire fence, then reloads startOffset: if it has moved to or past the first
 *     byte it read, the bytes may be torn and the read reports failure (the replica fell
 *     behind and must be dropped). Oldest bytes go first, so "the first byte read is still
 *     held" proves every later one was too.
 *   - `generation` is even while the history is stable and odd while `reset` or
 *     `setReplID` rewrites it. A reader that passes the generation it started streaming
 *     under is refused once the history changed, and `replID` retries a torn read.
 *   - `resize` builds a new mapping and sets `retired` on the old one; readers still mapped
 *     there keep valid (frozen) memory and must attach to the new descriptor.
 * The data bytes themselves are read and written with memcpy, as in every seqlock: formally a
 * race, harmless because a read is only used after the validation above. A reader attached by
 * descriptor maps the ring read-only, which the atomics allow: an aligned 64-bit acquire load
 * is a plain load on x86-64 and AArch64.
 *
 * Life cycle: memfd_create (nothing to unlink; the memory lives while a descriptor or a
 * mapping does, here and in forked children), ftruncate to the full size (sparse), mmap
 * MAP_SHARED. The descriptor stays open so the primary can pass it with SCM_RIGHTS. Nothing
 * here is reference counted: a forked reader touches only the header and the bytes it reads.
 */
import CTandem
import Glibc
import Platform

public struct BacklogRing: ~Copyable {
    /// Bytes before the data region: one page, so the data starts on a page boundary.
    public static let headerSize = 4096
    /// The unit in which released memory is given back, and the smallest batch worth a syscall.
    static let pageSize = 4096
    static let releaseBatch = 256 * 1024
    /// A Redis replication id is 40 characters (CONFIG_RUN_ID_SIZE).
    public static let replIDLength = 40

    static let magic: UInt64 = 0x474F_4C4B_424D_4454  // "TDMBKLOG" in memory order
    static let version: UInt64 = 2

    /// Byte offsets of the header's words.
    enum Field {
        static let magic = 0, version = 8, capacity = 16, headerSize = 24
        static let start = 64, end = 72
        static let generation = 128, retired = 136, replID = 144
    }

    private var region: UnsafeMutableRawPointer
    private var regionSize: Int
    private var data: UnsafeMutablePointer<UInt8>
    /// Data bytes in the ring (repl-backlog-size).
    public private(set) var capacity: Int
    /// The shared-memory descriptor (close-on-exec), to hand to workers; -1 for a ring made by
    /// `init(attaching:)`, whose caller keeps its own descriptor.
    public private(set) var fd: Int32
    private let writable: Bool
    /// Writer only: every data page holding only bytes numbered ≤ this has been punched.
    private var releasedThrough: Int64 = 0

    // MARK: - Creating and attaching

    /// A new, empty ring whose first byte will be numbered `startOffset + 1`.
    /// `replID` must be 40 bytes; `capacity` is used exactly (the config layer applies
    /// Redis's 16 KB minimum).
    public init(capacity: Int, replID: String, startOffset: Int64) throws(SystemError) {
        precondition(capacity > 0 && startOffset >= 0, "bad backlog capacity or offset")
        let id = Self.replIDBytes(replID)
        let size = Self.headerSize + capacity
        let (fd, region) = try Self.createSharedMemory(size: size)
        Self.writeHeader(region, capacity: capacity, start: startOffset, end: startOffset, generation: 0, replID: id)
        self.region = region
        self.regionSize = size
        self.data = Self.bindData(region, capacity)
        self.capacity = capacity
        self.fd = fd
        self.writable = true
        self.releasedThrough = Self.pageFloor(startOffset + 1) - 1
    }

    /// Maps, read-only, a ring another process created and passed as `fd`. The caller keeps
    /// (and eventually closes) `fd`; the mapping does not need it. Throws EINVAL when `fd` does
    /// not hold a backlog ring of this version.
    public init(attaching fd: Int32) throws(SystemError) {
        var st = stat()
        if fstat(fd, &st) == -1 { throw SystemError("fstat") }
        let size = Int(st.st_size)
        if size < Self.headerSize { throw SystemError("attach backlog", errno: EINVAL) }
        let region = try Self.map(fd: fd, size: size, writable: false)
        let words = region.bindMemory(to: UInt64.self, capacity: Field.replID / 8)
        let capacity = Int(words[Field.capacity / 8])
        guard words[Field.magic / 8] == Self.magic, words[Field.version / 8] == Self.version,
            words[Field.headerSize / 8] == UInt64(Self.headerSize), capacity > 0,
            capacity <= size - Self.headerSize
        else {
            munmap(region, size)
            throw SystemError("attach backlog", errno: EINVAL)
        }
        self.region = region
        self.regionSize = size
        self.data = Self.bindData(region, capacity)
        self.capacity = capacity
        self.fd = -1
        self.writable = false
    }

    deinit {
        munmap(region, regionSize)
        if fd >= 0 { Glibc.close(fd) }
    }

    // MARK: - State (any process)

    /// The number of the last byte dropped; the ring holds (startOffset, endOffset].
    public var startOffset: Int64 { load(Field.start) }

    /// The number of the last byte appended: master_repl_offset.
    public var endOffset: Int64 { load(Field.end) }

    /// Redis's repl_backlog->offset: the number of the oldest byte held (or of the next byte
    /// when the ring is empty).
    public var firstByteOffset: Int64 { startOffset + 1 }

    /// Bytes held (Redis's repl_backlog_histlen). Exact in the writer; a reader racing an
    /// append may see a slightly stale value, never a negative one.
    public var histlen: Int {
        let end = load(Field.end)
        return Int(max(0, end - load(Field.start)))
    }

    /// Memory the ring's data holds now (pages committed in the sparse object), for INFO.
    public var committedBytes: Int {
        var st = stat()
        guard writable, fstat(fd, &st) == 0 else { return 0 }
        return max(0, Int(st.st_blocks) * 512 - Self.headerSize)
    }

    /// Changes on every `reset` and `setReplID`: a reader compares it with the value it
    /// started under to learn that the offsets it holds belong to another history.
    /// Odd while a change is in progress.
    public var generation: UInt64 { tandem_load_acquire_u64(word(Field.generation)) }

    /// True once the writer moved to a new mapping (`resize`): this one no longer changes,
    /// and a reader must attach to the writer's new `fd`.
    public var isRetired: Bool { tandem_load_acquire_u64(word(Field.retired)) != 0 }

    /// The replication id of the history the ring holds.
    public var replID: String {
        var id = [UInt8](repeating: 0, count: Self.replIDLength)
        while true {
            let before = generation
            if before & 1 == 0 {
                id.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, region + Field.replID, Self.replIDLength) }
                tandem_fence_acquire()
                if tandem_load_relaxed_u64(word(Field.generation)) == before { break }
            }
            sched_yield()
        }
        return String(decoding: id, as: UTF8.self)
    }

    /// Whether a PSYNC asking for bytes from `offset` (the replica's offset + 1) can be served
    /// from the ring: firstByteOffset ≤ offset ≤ endOffset + 1, exactly as Redis decides.
    public func contains(offset: Int64) -> Bool {
        let end = load(Field.end)
        return offset > load(Field.start) && offset <= end + 1
    }

    // MARK: - Reading (any process)

    /// Copies the bytes numbered `offset` … endOffset, at most `maxBytes` of them, to `into`.
    /// Returns the count copied (0 when the reader is caught up), or nil when `offset` is not
    /// held — before the first byte, past endOffset + 1, overwritten during the copy, or (when
    /// `generation` is given) the history changed since. On nil the caller's buffer holds
    /// garbage and the replica must resync.
    public func copy(
        from offset: Int64, maxBytes: Int, into: UnsafeMutableRawPointer, generation: UInt64? = nil
    ) -> Int? {
        guard let read = beginRead(from: offset, maxBytes: maxBytes, generation: generation) else { return nil }
        let (at, first) = Self.split(offset, read.count, capacity)
        memcpy(into, data + at, first)
        if read.count > first { memcpy(into + first, data, read.count - first) }
        return readIsIntact(from: offset, generation: read.generation) ? read.count : nil
    }

    /// Calls `body` with the bytes numbered `offset` … endOffset (at most `maxBytes`) as two
    /// views into the ring — the second is empty unless the run wraps — ready for one writev.
    /// Returns body's result, or nil when `offset` is not held (then body is not called) or was
    /// overwritten while body ran (then whatever body sent is garbage: drop the replica).
    /// The views must not escape body: the writer reuses the memory.
    public func withChunks<R>(
        from offset: Int64, maxBytes: Int = .max, generation: UInt64? = nil, _ body: (ByteView, ByteView) -> R
    ) -> R? {
        guard let read = beginRead(from: offset, maxBytes: maxBytes, generation: generation) else { return nil }
        let (at, first) = Self.split(offset, read.count, capacity)
        let result = body(ByteView(data + at, first), ByteView(data, read.count - first))
        return readIsIntact(from: offset, generation: read.generation) ? result : nil
    }

    /// The first half of a validated read: how many bytes from `offset` can be read now, and
    /// the generation to check afterwards. Nil when `offset` is not held.
    @inline(__always)
    private func beginRead(from offset: Int64, maxBytes: Int, generation wanted: UInt64?)
        -> (count: Int, generation: UInt64)?
    {
        let gen = generation
        if gen & 1 != 0 || (wanted != nil && wanted != gen) { return nil }
        // endOffset before startOffset: the writer stores start before end, so this start
        // is at least as new as this end, and a start that moved past `offset` is seen.
        let end = load(Field.end)
        let start = load(Field.start)
        guard offset > start && offset <= end + 1 else { return nil }
        return (Int(min(Int64(max(0, maxBytes)), end + 1 - offset)), gen)
    }

    /// The second half: after the acquire fence, the bytes read are good if the byte numbered
    /// `offset` is still held and the history did not change.
    @inline(__always)
    private func readIsIntact(from offset: Int64, generation: UInt64) -> Bool {
        tandem_fence_acquire()
        let start = Int64(bitPattern: tandem_load_relaxed_u64(word(Field.start)))
        return start < offset && tandem_load_relaxed_u64(word(Field.generation)) == generation
    }

    // MARK: - Writing (the one writer)

    /// Appends `count` bytes. Bytes numbered below `keepingFrom` may be dropped (the writer's
    /// retention rule: older than repl-backlog-size and sent to every reader); others are
    /// dropped only when the ring is full, oldest first. An append larger than the capacity
    /// keeps only its last `capacity` bytes; endOffset still advances by `count`
    /// (master_repl_offset counts every byte produced). The default keeps all it can.
    public mutating func append(_ bytes: UnsafeRawPointer, count: Int, keepingFrom: Int64 = 0) {
        precondition(writable, "append to a read-only backlog mapping")
        if count <= 0 { return }
        let start = load(Field.start)
        let end = load(Field.end)
        let newEnd = end + Int64(count)
        let newStart = max(start, newEnd - Int64(capacity), min(keepingFrom - 1, newEnd))
        if newStart != start {
            // Publish the drop before overwriting, so a reader's re-check sees it.
            tandem_store_relaxed_u64(word(Field.start), UInt64(bitPattern: newStart))
            tandem_fence_release()
        }
        let kept = min(count, capacity)
        Self.copyIn(bytes + (count - kept), kept, at: newEnd - Int64(kept) + 1, data, capacity)
        // Release: the bytes above are visible to whoever acquires the new end.
        tandem_store_release_u64(word(Field.end), UInt64(bitPattern: newEnd))
        if newStart - releasedThrough >= Self.releaseBatch { releasePages(through: newStart) }
    }

    public mutating func append(_ bytes: ByteView, keepingFrom: Int64 = 0) {
        append(UnsafeRawPointer(bytes.base), count: bytes.count, keepingFrom: keepingFrom)
    }

    /// Drops the held bytes numbered below `keepingFrom` (never past endOffset) without
    /// appending: the retention rule applied when a reader caught up, or from the cron.
    public mutating func release(keepingFrom: Int64) {
        precondition(writable, "release on a read-only backlog mapping")
        let start = load(Field.start)
        let newStart = min(keepingFrom - 1, load(Field.end))
        if newStart > start {
            tandem_store_release_u64(word(Field.start), UInt64(bitPattern: newStart))
        }
        if max(start, newStart) - releasedThrough >= Self.pageSize { releasePages(through: max(start, newStart)) }
    }

    /// Gives back the data pages that hold only bytes numbered ≤ `last` (all released: the
    /// caller published the new startOffset first). A no-op unless the capacity is a whole
    /// number of pages, so that a page of offsets is a page of the mapping.
    private mutating func releasePages(through last: Int64) {
        guard capacity % Self.pageSize == 0, fd >= 0 else { return }
        // Page-aligned; never a page whose memory already holds newer bytes (a full ring reuses
        // the indices of bytes older than endOffset - capacity).
        let oldestIntact = load(Field.end) - Int64(capacity) + 1
        let from = max(releasedThrough + 1, Self.pageFloor(oldestIntact + Int64(Self.pageSize) - 1))
        let to = Self.pageFloor(last + 1)  // the first byte of the page still (partly) held
        releasedThrough = max(releasedThrough, to - 1)
        if to <= from { return }
        if to - from >= Int64(capacity) {
            _ = tandem_punch_hole(fd, Int64(Self.headerSize), Int64(capacity))
        } else {
            var at = from
            while at < to {
                let index = at % Int64(capacity)
                let n = min(to - at, Int64(capacity) - index)
                _ = tandem_punch_hole(fd, Int64(Self.headerSize) + index, n)
                at += n
            }
        }
    }

    /// The number of the first byte of the page holding the byte numbered `offset`.
    @inline(__always)
    static func pageFloor(_ offset: Int64) -> Int64 { offset - offset % Int64(pageSize) }

    /// Starts a new replication history: empty, next byte numbered `startOffset + 1`, new id.
    /// Readers that pass their generation are refused from now on.
    public mutating func reset(replID: String, startOffset: Int64) {
        precondition(writable && startOffset >= 0, "bad backlog reset")
        let id = Self.replIDBytes(replID)
        let gen = beginHistoryChange()
        tandem_store_relaxed_u64(word(Field.start), UInt64(bitPattern: startOffset))
        tandem_store_relaxed_u64(word(Field.end), UInt64(bitPattern: startOffset))
        Self.writeReplID(region, id)
        endHistoryChange(gen)
        if capacity % Self.pageSize == 0 { _ = tandem_punch_hole(fd, Int64(Self.headerSize), Int64(capacity)) }
        releasedThrough = Self.pageFloor(startOffset + 1) - 1
    }

    /// Changes the replication id and keeps the bytes and offsets (a promoted replica's
    /// shiftReplicationId; Redis disconnects sub-replicas then, and so does the generation).
    public mutating func setReplID(_ replID: String) {
        precondition(writable, "setReplID on a read-only backlog mapping")
        let id = Self.replIDBytes(replID)
        let gen = beginHistoryChange()
        Self.writeReplID(region, id)
        endHistoryChange(gen)
    }

    /// CONFIG SET repl-backlog-size: moves to a new mapping of `newCapacity` bytes keeping the
    /// newest min(histlen, newCapacity) bytes, as Redis 7.0 does (its resizeReplicationBacklog
    /// trims the oldest blocks until histlen fits; before 7.0 a resize emptied the backlog).
    /// Offsets, id and generation are unchanged; the old mapping is marked retired, and `fd`
    /// is the new descriptor. On failure the ring is left as it was.
    public mutating func resize(capacity newCapacity: Int) throws(SystemError) {
        precondition(writable && newCapacity > 0, "bad backlog resize")
        if newCapacity == capacity { return }
        let size = Self.headerSize + newCapacity
        let (newFD, newRegion) = try Self.createSharedMemory(size: size)
        let end = load(Field.end)
        let kept = min(histlen, newCapacity)
        let newData = Self.bindData(newRegion, newCapacity)
        let (at, first) = Self.split(end - Int64(kept) + 1, kept, capacity)
        Self.copyIn(data + at, first, at: end - Int64(kept) + 1, newData, newCapacity)
        Self.copyIn(data, kept - first, at: end - Int64(kept - first) + 1, newData, newCapacity)
        Self.writeHeader(
            newRegion, capacity: newCapacity, start: end - Int64(kept), end: end,
            generation: tandem_load_relaxed_u64(word(Field.generation)),
            replID: Array(UnsafeRawBufferPointer(start: region + Field.replID, count: Self.replIDLength)))
        tandem_store_release_u64(word(Field.retired), 1)
        munmap(region, regionSize)
        Glibc.close(fd)
        region = newRegion
        regionSize = size
        data = newData
        capacity = newCapacity
        fd = newFD
        releasedThrough = Self.pageFloor(end - Int64(kept) + 1) - 1
    }

    /// Makes the generation odd before the history's words change; the release fence keeps
    /// that store ahead of them, so a reader that sees any of them fails its re-check.
    private func beginHistoryChange() -> UInt64 {
        let gen = tandem_load_relaxed_u64(word(Field.generation))
        tandem_store_relaxed_u64(word(Field.generation), gen &+ 1)
        tandem_fence_release()
        return gen
    }

    /// Makes the generation even again, one step past where it was; release publishes the
    /// new words to whoever acquires it.
    private func endHistoryChange(_ gen: UInt64) {
        tandem_store_release_u64(word(Field.generation), gen &+ 2)
    }

    // MARK: - Helpers

    @inline(__always)
    private func word(_ field: Int) -> UnsafeMutablePointer<UInt64> {
        (region + field).assumingMemoryBound(to: UInt64.self)
    }

    @inline(__always)
    private func load(_ field: Int) -> Int64 {
        Int64(bitPattern: tandem_load_acquire_u64(word(field)))
    }

    /// Where a run of `count` bytes starting with the byte numbered `offset` sits: its data
    /// index, and how many bytes fit before the end of the data region.
    @inline(__always)
    static func split(_ offset: Int64, _ count: Int, _ capacity: Int) -> (at: Int, first: Int) {
        let at = Int(offset % Int64(capacity))
        return (at, min(count, capacity - at))
    }

    /// Copies `count` ≤ capacity bytes into a ring's data, the first one being numbered `offset`.
    @inline(__always)
    static func copyIn(
        _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int64, _ data: UnsafeMutablePointer<UInt8>, _ capacity: Int
    ) {
        if count <= 0 { return }
        let (at, first) = split(offset, count, capacity)
        memcpy(data + at, bytes, first)
        if count > first { memcpy(data, bytes + first, count - first) }
    }

    static func replIDBytes(_ replID: String) -> [UInt8] {
        let bytes = Array(replID.utf8)
        precondition(bytes.count == replIDLength, "a replication id is 40 characters")
        return bytes
    }

    static func writeReplID(_ region: UnsafeMutableRawPointer, _ id: [UInt8]) {
        id.withUnsafeBytes { _ = memcpy(region + Field.replID, $0.baseAddress!, replIDLength) }
    }

    /// Fills in a fresh mapping's header (no reader can see it yet, so plain stores).
    static func writeHeader(
        _ region: UnsafeMutableRawPointer, capacity: Int, start: Int64, end: Int64, generation: UInt64,
        replID: [UInt8]
    ) {
        let words = region.bindMemory(to: UInt64.self, capacity: Field.replID / 8)
        words[Field.magic / 8] = magic
        words[Field.version / 8] = version
        words[Field.capacity / 8] = UInt64(capacity)
        words[Field.headerSize / 8] = UInt64(headerSize)
        words[Field.start / 8] = UInt64(bitPattern: start)
        words[Field.end / 8] = UInt64(bitPattern: end)
        words[Field.generation / 8] = generation
        words[Field.retired / 8] = 0
        writeReplID(region, replID)
    }

    static func bindData(_ region: UnsafeMutableRawPointer, _ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        (region + headerSize).bindMemory(to: UInt8.self, capacity: capacity)
    }

    // MARK: - Shared memory

    /// A new sparse shared-memory object of `size` bytes (a memfd: nothing to unlink), and its
    /// writable mapping. Pages are committed as they are first written.
    static func createSharedMemory(size: Int) throws(SystemError) -> (fd: Int32, region: UnsafeMutableRawPointer) {
        let fd = tandem_memfd_create("tandem-backlog")
        if fd < 0 { throw SystemError("memfd_create") }
        do throws(SystemError) {
            if ftruncate(fd, off_t(size)) != 0 { throw SystemError("ftruncate") }
            return (fd, try map(fd: fd, size: size, writable: true))
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    static func map(fd: Int32, size: Int, writable: Bool) throws(SystemError) -> UnsafeMutableRawPointer {
        let prot = writable ? PROT_READ | PROT_WRITE : PROT_READ
        let p = mmap(nil, size, prot, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw SystemError("mmap") }
        return p
    }
}
