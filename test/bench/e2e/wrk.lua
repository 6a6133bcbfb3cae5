-- Licensed under the Apache License, Version 2.0 (the "License"); you may
-- not use this file except in compliance with the License.  You may obtain
-- a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
--
-- wrk script of the end-to-end benchmark.
--
-- With ZT_TOKENS=FILE (one token a line) every request carries the next
-- token of the file as "Authorization: Bearer": thread T of N sends lines
-- T, T+N, T+2N, ... starting at line ZT_START, so no two requests in
-- flight share a token and no verified-token cache can serve one.  Without
-- ZT_TOKENS wrk sends its one static request (wrk -H), at full speed.
--
-- Either way done() prints one line "RESULT {json}" for the caller.

local tokens_file = os.getenv("ZT_TOKENS")
local start = tonumber(os.getenv("ZT_START") or "0")
local nthreads = tonumber(os.getenv("ZT_THREADS") or "1")

local counter = 0
function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

if tokens_file then
    local tokens, n, i = {}, 0, 0
    local path

    function init(args)
        local f = assert(io.open(tokens_file, "r"))
        local line = 0
        for tok in f:lines() do
            if line % nthreads == id then
                n = n + 1
                tokens[n] = tok
            end
            line = line + 1
        end
        f:close()
        assert(n > 0, "no tokens for thread " .. id .. " in " .. tokens_file)
        i = math.floor(start / nthreads) % n
        path = wrk.path
    end

    function request()
        i = i + 1
        if i > n then i = 1 end
        return wrk.format(nil, path,
                          { ["Authorization"] = "Bearer " .. tokens[i] })
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
        .. '"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,'
        .. '"status":%d,"timeout":%d}\n',
        summary.requests, summary.duration, latency:percentile(50),
        latency:percentile(99), latency.mean, e.connect, e.read, e.write,
        e.status, e.timeout))
end
