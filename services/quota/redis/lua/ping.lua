-- ping.lua: health. A real script round trip (EVALSHA, or SCRIPT LOAD after NOSCRIPT), not just TCP.
return answer('PONG')
