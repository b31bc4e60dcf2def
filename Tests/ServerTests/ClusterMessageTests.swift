// ClusterMessageTests.swift — unit tests for the cluster bus codec (Sources/Server/Cluster/ClusterMessage.swift).
//
// Covers the header's byte offsets as Redis 7.0 lays them out (signature, total length, version,
// big-endian fields, the slot bitmap's bit order, the sender/master/ip fields, flags), a PING
// with gossip and the hostname extension decoded back field for field, FAIL/UPDATE/PUBLISH and
// the header-only voting messages, and the length checks that make a malformed message decode
// to nil rather than be read past its end. (ClusterBusTests checks the same bytes against
// redis-server nodes.)
@testable import Server
import Testing

private func decode(_ bytes: [UInt8]) -> ClusterMessage? {
    bytes.withUnsafeBytes { ClusterMessage.decode($0) }
}

@Test func headerLayoutAsRedis() {
    var m = ClusterMessage()
    m.type = ClusterMessageType.pong.rawValue
    m.port = 7000
    m.currentEpoch = 0x0102_0304_0506_0708
    m.configEpoch = 9
    m.offset = 1234
    m.sender = String(repeating: "a", count: 40)
    m.master = String(repeating: "b", count: 40)
    m.ip = "10.0.0.1"
    m.plaintextPort = 7001
    m.busPort = 17000
    m.flags = 17
    m.slots[0] |= 1        // slot 0
    m.slots[2047] |= 0x80  // slot 16383
    let b = m.encoded()
    #expect(b.count == 2256)
    #expect(Array(b[0..<4]) == Array("RCmb".utf8))
    #expect(Array(b[4..<8]) == [0, 0, 0x08, 0xD0])  // 2256, big-endian
    #expect(Array(b[8..<10]) == [0, 1])
    #expect(Array(b[10..<12]) == [0x1B, 0x58])       // 7000
    #expect(Array(b[12..<14]) == [0, 1])              // PONG
    #expect(Array(b[16..<24]) == [1, 2, 3, 4, 5, 6, 7, 8])
    #expect(b[40] == UInt8(ascii: "a") && b[79] == UInt8(ascii: "a"))
    #expect(b[80] == 1 && b[2127] == 0x80)
    #expect(b[2128] == UInt8(ascii: "b"))
    #expect(Array(b[2168..<2176]) == Array("10.0.0.1".utf8) && b[2176] == 0)
    #expect(Array(b[2246..<2252]) == [0x1B, 0x59, 0x42, 0x68, 0, 17])
    let d = decode(b)
    #expect(d?.hasSlot(0) == true && d?.hasSlot(16383) == true && d?.hasSlot(1) == false)
    #expect(d?.sender == m.sender && d?.master == m.master && d?.ip == "10.0.0.1" && d?.busPort == 17000)
    #expect(d?.currentEpoch == m.currentEpoch && d?.offset == 1234 && d?.flags == 17)
}

@Test func pingWithGossipAndHostnameRoundTrips() {
    var m = ClusterMessage()
    m.type = ClusterMessageType.ping.rawValue
    m.sender = String(repeating: "c", count: 40)
    m.gossip = (0..<3).map {
        ClusterGossipEntry(name: String(repeating: "\($0)", count: 40), pingSentSeconds: 1, pongReceivedSeconds: UInt32($0),
                           ip: "127.0.0.\($0)", port: UInt16(7000 + $0), busPort: UInt16(17000 + $0), flags: 1, plaintextPort: 0)
    }
    m.hostname = "node-a.example"
    let b = m.encoded()
    // 2256 + 3 × 104 + an extension of 8 + 16 (hostname, NUL, padding to 8).
    #expect(b.count == 2256 + 312 + 24)
    #expect(b[2253] & ClusterMessageFlag.extensionData != 0)
    #expect(Array(b[2214..<2216]) == [0, 1])
    let d = decode(b)
    #expect(d?.gossip.count == 3)
    #expect(d?.gossip[2].ip == "127.0.0.2" && d?.gossip[2].port == 7002 && d?.gossip[2].busPort == 17002)
    #expect(d?.hostname == "node-a.example")
}

@Test func bodiesRoundTrip() {
    var fail = ClusterMessage()
    fail.type = ClusterMessageType.fail.rawValue
    fail.about = String(repeating: "f", count: 40)
    #expect(fail.encoded().count == 2296)
    #expect(decode(fail.encoded())?.about == fail.about)
    var update = ClusterMessage()
    update.type = ClusterMessageType.update.rawValue
    update.updateEpoch = 77
    update.about = String(repeating: "u", count: 40)
    update.updateSlots = [UInt8](repeating: 0xFF, count: 2048)
    #expect(update.encoded().count == 4352)
    #expect(decode(update.encoded())?.updateEpoch == 77)
    var publish = ClusterMessage()
    publish.type = ClusterMessageType.publishShard.rawValue
    publish.channel = Array("news".utf8)
    publish.payload = Array("hello".utf8)
    #expect(publish.encoded().count == 2264 + 9)
    #expect(decode(publish.encoded())?.payload == Array("hello".utf8))
    var vote = ClusterMessage()
    vote.type = ClusterMessageType.failoverAuthAck.rawValue
    #expect(vote.encoded().count == 2256 && decode(vote.encoded()) != nil)
}

@Test func malformedMessagesDecodeToNil() {
    var ping = ClusterMessage()
    ping.type = ClusterMessageType.ping.rawValue
    ping.gossip = [ClusterGossipEntry(name: "x", pingSentSeconds: 0, pongReceivedSeconds: 0, ip: "", port: 0, busPort: 0,
                                      flags: 0, plaintextPort: 0)]
    let good = ping.encoded()
    #expect(decode(good) != nil)
    #expect(decode(Array(good.prefix(2256 + 50))) == nil)  // gossip cut short
    var wrongVersion = good
    wrongVersion[9] = 2
    #expect(decode(wrongVersion) == nil)
    var badExtension = good
    badExtension[2253] |= ClusterMessageFlag.extensionData
    badExtension[2215] = 1  // one extension announced, none there
    #expect(decode(badExtension) == nil)
    var fail = ClusterMessage()
    fail.type = ClusterMessageType.fail.rawValue
    #expect(decode(Array(fail.encoded().prefix(2270))) == nil)
    var publish = ClusterMessage()
    publish.type = ClusterMessageType.publish.rawValue
    publish.channel = [1, 2, 3]
    var lying = publish.encoded()
    lying[2259] = 200  // channel length beyond the message
    #expect(decode(lying) == nil)
    #expect(decode([UInt8](repeating: 0, count: 100)) == nil)
}
