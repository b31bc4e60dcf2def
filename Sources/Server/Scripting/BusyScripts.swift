/*
 * BusyScripts: a script that runs too long — Redis 7.0's scriptInterrupt and
 * processEventsWhileBlocked.
 *
 * A count hook runs every 100,000 Lua instructions. Past busy-reply-threshold (alias
 * lua-time-limit) the script is "timed out": from then on each hook call serves the event loop
 * for a moment, so other clients are answered — with -BUSY, except the allow-busy commands:
 * SCRIPT KILL stops a script that has not written (a script that wrote is UNKILLABLE: stopping it
 * would leave half a change), SHUTDOWN NOSAVE ends the process. The client running the script
 * is left alone (its socket is not read until the script ends) and the master link's commands
 * wait in its buffer, to run afterwards in order.
 */
import CLua
import Glibc
import Platform

extension Server {
    static let busyScriptError: StaticString =
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"

    /// True while a script has run past busy-reply-threshold.
    @inline(__always)
    var scriptTimedOut: Bool { scripting.pointee.running && scripting.pointee.run.timedOut }

    /// From the count hook: returns 1 with the error pushed to stop the script.
    mutating func scriptInterrupt(_ L: OpaquePointer) -> Int32 {
        let engine = scripting
        if !engine.pointee.run.timedOut {
            let elapsed = (Clock.monotonicMicros() - engine.pointee.run.startMicros) / 1000
            // Read here, not per EVAL: the hook runs every 100,000 instructions only.
            if elapsed < Int64(settings.storedValue("busy-reply-threshold")) ?? 5000 { return 0 }
            engine.pointee.run.timedOut = true
            Log.warning("Slow script detected: still in execution after \(elapsed) milliseconds. "
                + "You can try killing the script using the SCRIPT KILL command. Script name is: \(engine.pointee.run.sha.hex).")
        }
        processEventsWhileBusy()
        if engine.pointee.run.killRequested {
            // From now on every instruction checks, so a pcall cannot swallow the kill for long.
            tandem_lua_set_count_hook(L, LuaRedisAPI.hook, 1)
            LuaRedisAPI.pushError(L, "ERR Script killed by user with SCRIPT KILL...")
            return 1
        }
        return 0
    }

    /// A few non-blocking turns of the event loop (Redis's processEventsWhileBlocked).
    mutating func processEventsWhileBusy() {
        for _ in 0..<4 {
            let n = loop.wait(timeoutMillis: 0)
            if n == 0 { break }
            handleReadyEvents(n)
        }
        flushPendingWrites()
    }

    mutating func scriptKillCommand(_ c: ClientRef) {
        let engine = scripting
        if !engine.pointee.running {
            addError(c, "-NOTBUSY No scripts in execution right now.\r\n")
        } else if engine.pointee.run.caller?.pointee.isMaster ?? false {
            addError(c, "-UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.\r\n")
        } else if engine.pointee.run.wrote {
            addError(c, "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
        } else {
            engine.pointee.run.killRequested = true
            addOK(c)
        }
    }

    /// SHUTDOWN while a script is busy: only NOSAVE, at once (the script never returns).
    mutating func shutdownDuringBusyScript(_ c: ClientRef, noSave: Bool) {
        if !noSave {
            addError(c, "-UNKILLABLE Errors trying to SHUTDOWN. Check logs.\r\n")
            return
        }
        Log.warning("User requested shutdown...")
        _ = finishShutdownSteps(.noSave, force: true)
        exit(finishShutdown())
    }
}
