"""The Lua scripts that make limits, the retry budget and leases atomic across replicas.

Redis runs a script as one step (no other command interleaves), so a check and a take cannot
race between replicas. Every script reads the time from Redis itself (``TIME``), so replicas'
clocks do not matter. Times are milliseconds.
"""

from __future__ import annotations

# KEYS: [1] account in-flight zset, [2] account requests zset, [3] account tokens zset,
#       [4] account day hash (minute → tokens), [5] key in-flight, [6] key requests, [7] key tokens
# ARGV: lease, tokens, window_ms, lease_ms, then the limits (0: none): account concurrency, rpm,
#       tpm, tpd, key concurrency, rpm, tpm
# Returns {0, ''} when taken; {wait_ms or -1 (only a release can tell), 'account' | 'key'}.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease, tokens = ARGV[1], tonumber(ARGV[2])
local window, lease_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local function full(key, limit)
  if limit <= 0 then return false end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key) >= limit
end
local function requests(key, limit)
  if limit <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
local function amount(member) return tonumber(string.match(member, ':(%d+)$')) end
-- A token window: the zset of "lease:tokens" members and, beside it, their running total
-- (key .. ':sum'), so a check costs what expires, not the whole window.
local function tokens_expire(key)
  local gone = redis.call('ZRANGEBYSCORE', key, '-inf', now - window)
  if #gone == 0 then return tonumber(redis.call('GET', key .. ':sum') or '0') end
  local freed = 0
  for i = 1, #gone do freed = freed + amount(gone[i]) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  return redis.call('DECRBY', key .. ':sum', freed)
end
local function tokens_wait(key, limit)
  if limit <= 0 then return 0 end
  local total = tokens_expire(key)
  local excess = total + tokens - limit
  if excess <= 0 or total <= 0 then return 0 end
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    excess = excess - amount(entries[i])
    if excess <= 0 then return tonumber(entries[i + 1]) + window - now end
  end
  return window
end
local function day_wait(key, limit)
  if limit <= 0 then return 0 end
  local minute = math.floor(now / 60000)
  local all = redis.call('HGETALL', key)
  local total = 0
  for i = 1, #all, 2 do
    if tonumber(all[i]) <= minute - 1441 then redis.call('HDEL', key, all[i])
    else total = total + tonumber(all[i + 1]) end
  end
  if total == 0 or total + tokens <= limit then return 0 end
  return 60000
end
local a_conc, a_rpm = tonumber(ARGV[5]), tonumber(ARGV[6])
local a_tpm, a_tpd = tonumber(ARGV[7]), tonumber(ARGV[8])
local k_conc, k_rpm, k_tpm = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
if full(KEYS[5], k_conc) then return {-1, 'key'} end
local wait = math.max(requests(KEYS[6], k_rpm), tokens_wait(KEYS[7], k_tpm))
if wait > 0 then return {wait, 'key'} end
if full(KEYS[1], a_conc) then return {-1, 'account'} end
wait = math.max(requests(KEYS[2], a_rpm), tokens_wait(KEYS[3], a_tpm), day_wait(KEYS[4], a_tpd))
if wait > 0 then return {wait, 'account'} end
local member = lease .. ':' .. tokens
for i, limit in ipairs({a_conc, a_rpm, a_tpm, k_conc, k_rpm, k_tpm}) do
  local key = KEYS[({1, 2, 3, 5, 6, 7})[i]]
  if limit > 0 then
    if i == 1 or i == 4 then redis.call('ZADD', key, now + lease_ms, lease)
    elseif i == 2 or i == 5 then redis.call('ZADD', key, now, lease)
    else
      redis.call('ZADD', key, now, member)
      redis.call('INCRBY', key .. ':sum', tokens)
      redis.call('PEXPIRE', key .. ':sum', window + lease_ms)
    end
    redis.call('PEXPIRE', key, window + lease_ms)
  end
end
if a_tpd > 0 then
  redis.call('HINCRBY', KEYS[4], math.floor(now / 60000), tokens)
  redis.call('PEXPIRE', KEYS[4], 86400000 + window)
end
return {0, ''}
"""

# KEYS: in-flight zsets; ARGV: lease_ms, then one lease per key. Moves the leases' expiry on
# (a replica that dies stops doing this, and its leases lapse).
REFRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease_ms = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + lease_ms, ARGV[i + 1])
end
return #KEYS
"""

# KEYS: [1] the budget hash (second → "q" requests / "r" retries). ARGV: requests to add, retries
# wanted (0 or 1), ratio, floor (retries per window), window seconds. Returns 1 if granted.
BUDGET = """
local now = tonumber(redis.call('TIME')[1])
local window = tonumber(ARGV[5])
local added = tonumber(ARGV[1])
if added > 0 then redis.call('HINCRBY', KEYS[1], 'q' .. now, added) end
redis.call('HDEL', KEYS[1], 'q' .. (now - window), 'r' .. (now - window))
redis.call('EXPIRE', KEYS[1], window * 2)
if tonumber(ARGV[2]) == 0 then return 1 end
local q, r = 0, 0
for s = now - window + 1, now do
  q = q + tonumber(redis.call('HGET', KEYS[1], 'q' .. s) or '0')
  r = r + tonumber(redis.call('HGET', KEYS[1], 'r' .. s) or '0')
end
if r + 1 > tonumber(ARGV[3]) * q + tonumber(ARGV[4]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'r' .. now, 1)
return 1
"""
