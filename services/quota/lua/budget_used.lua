-- budget_used.lua: fen used (held + committed) of a budget, after purging holds that ended by now.
--
-- ARGV: now. Returns an integer.
purge(ARGV[1])
return used()
