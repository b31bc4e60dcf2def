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
    static let busyFunctionError: StaticString =
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"

    /// The -BUSY reply while a script or a function runs (Redis's slowevalerr / slowscripterr).
    var busyError: StaticString { scriptRun.pointee.isFunction ? Self.busyFunctionError : Self.busyScriptError }

    /// True while a script has run past busy-reply-threshold.
    @inline(__always)
    var scriptTimedOut: Bool { scriptRun.pointee.active && scriptRun.pointee.timedOut }

    /// From the count hook: returns 1 with the error pushed to stop the script.
    mutating func scriptInterrupt(_ L: OpaquePointer) -> Int32 {
        let run = scriptRun
        if !run.pointee.timedOut {
            let elapsed = (Clock.monotonicMicros() - run.pointee.startMicros) / 1000
            // Read here, not per EVAL: the hook runs every 100,000 instructions only.
            if elapsed < Int64(settings.storedValue("busy-reply-threshold")) ?? 5000 { return 0 }
            run.pointee.timedOut = true
            Log.warning("Slow script detected: still in execution after \(elapsed) milliseconds. "
                + "You can try killing the script using the \(run.pointee.killCommand) command. Script name is: \(run.pointee.name).")
        }
        processEventsWhileBusy()
        if run.pointee.killRequested {
            // From now on every instruction checks, so a pcall cannot swallow the kill for long.
            tandem_lua_enable_count_hook(L, 1)
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

    /// SCRIPT KILL (function: false) and FUNCTION KILL: each stops only its own kind.
    mutating func scriptKillCommand(_ c: ClientRef, function: Bool) {
        let run = scriptRun
        if !run.pointee.active {
            addError(c, "-NOTBUSY No scripts in execution right now.\r\n")
        } else if run.pointee.isFunction != function {
            addError(c, busyError)
        } else if run.pointee.caller?.pointee.isMaster ?? false {
            addError(c, "-UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.\r\n")
        } else if run.pointee.wrote {
            addError(c, "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
        } else {
            run.pointee.killRequested = true
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
