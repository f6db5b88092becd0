-- wrk's script for POST /bid: a body of its own per request (a distinct request id, the next
-- user of the benchmark's mix), closed loop or paced at a constant offered rate.
--
--   wrk -t1 -c64 -d10s -s loadtest/bid.lua URL -- USERS_FILE RATE RUN_ID [SITE]
--
-- USERS_FILE holds one user id per line, drawn by loadtest/traffic.py; requests take them in
-- turn. Request ids are RUN_ID-1, RUN_ID-2, ...; SITE is the site's domain (news.example).
-- RATE 0 is closed loop (each connection sends again as soon as it is answered: the maximum).
-- RATE > 0 paces the sends on one schedule shared by all connections: request n is due at
-- start + n / RATE, and a connection that is free waits until the next due time. Late sends
-- (every connection busy when one was due, so the offered rate was not kept) are counted and
-- printed; wrk measures each latency from the moment its request is written.
-- One thread (-t1): the schedule lives in that thread's Lua state.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clock, timespec *now);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1e3 + tonumber(now_ts.tv_nsec) / 1e6
end

local users = {}
local interval_ms = 0
local next_due = nil
local run = "run"
local site = "news.example"
-- Globals of the thread's state, read by done() (in the main state) through setup's thread:
-- requests written (answered or not) and sends that were late.
counter = 0
late = 0
local threads = {}

function setup(thread) threads[#threads + 1] = thread end

function init(args)
  for line in io.lines(args[1]) do users[#users + 1] = line end
  local rate = tonumber(args[2]) or 0
  if rate > 0 then interval_ms = 1000 / rate end
  run = args[3] or run
  site = args[4] or site
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
end

function delay()
  if interval_ms == 0 then return 0 end
  local now = now_ms()
  if next_due == nil then next_due = now end
  local due = next_due
  next_due = next_due + interval_ms
  local wait = due - now
  if wait < -1 then late = late + 1 end
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end

function request()
  counter = counter + 1
  local body = string.format('{"request_id":"%s-%d","user_id":"%s","site":{"domain":"%s"}}',
                             run, counter, users[(counter - 1) % #users + 1], site)
  return wrk.format(nil, "/bid", nil, body)
end

function done(summary, latency, requests)
  local late_total, sent = 0, 0
  for _, thread in ipairs(threads) do
    late_total = late_total + thread:get("late")
    sent = sent + thread:get("counter")
  end
  -- Answers that were not 2xx/3xx, then connections that failed (connect, read, write,
  -- timeout); requests still in flight when the run ends are in neither.
  io.write(string.format("RESULT %d %d %d %d %.0f %.0f %.0f %.0f %d %d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, late_total, sent))
end
