-- A quarantined line whose text holds U+0000 or half of a UTF-16 surrogate pair cannot go in the jsonb `line`
-- (jsonb refuses `\u0000` and unpaired surrogate escapes). Such a line is kept here instead, as its JSON text with
-- those characters escaped as six ASCII characters (`\u0000`, `\ud800`), which text accepts; JSON.parse gives the
-- line back exactly. For every other line it is null and `line` holds it.
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS line_text text;
