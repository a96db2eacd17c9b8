-- wrk script: GET one path with a client token, pacing each connection with a fixed delay so
-- the total rate is about connections * 1000 / delay_ms requests per second.
local delay_ms = tonumber(os.getenv("DELAY_MS") or "10")
wrk.headers["X-Client-Token"] = os.getenv("TOKEN") or "bench-client-token-01"
function delay() return delay_ms end
