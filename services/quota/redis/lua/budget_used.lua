-- budget_used.lua: fen used (held + committed) of a budget, after purging holds that ended by now.
--
-- A: now. Answers {used = fen}.
purge(A.now)
return answer('OK', {used = used()})
