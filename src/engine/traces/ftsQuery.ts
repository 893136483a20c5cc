// Full-text search through traces_fts: what the user typed, as an FTS5 query, and what
// to tell them when FTS5 rejects it.
const FTS_COLUMNS = new Set(['endpoint', 'request_content', 'response_content', 'model']);
const FTS_OPERATORS = new Set(['AND', 'OR', 'NOT']);
const BAREWORD = /^[\p{L}\p{N}_]+$/u;

/**
 * What the user typed, as an FTS5 query: words with punctuation are quoted, as
 * TraceForge's own search does (`gpt-4o` would otherwise read `4o` as a column and fail
 * with "no such column"), while FTS5's own syntax keeps working: "phrases", prefix*,
 * AND / OR / NOT, parentheses, column:term and NEAR(…) (passed through as written).
 */
export function ftsQuery(input: string): string {
  const q = input.trim();
  if (/\bNEAR\s*\(/.test(q)) return q;
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  const term = (t: string): string => {
    const prefix = t.length > 1 && t.endsWith('*');
    const word = prefix ? t.slice(0, -1) : t;
    if (BAREWORD.test(word)) return t;
    return `${quote(word)}${prefix ? '*' : ''}`;
  };
  const out: string[] = [];
  for (const m of q.matchAll(/"(?:[^"]|"")*("|$)|[()]|[^\s()"]+/g)) {
    const tok = m[0];
    if (tok.startsWith('"'))
      out.push(m[1] ? tok : `${tok}"`); // an unterminated phrase closes itself
    else if (tok === '(' || tok === ')' || FTS_OPERATORS.has(tok)) out.push(tok);
    else {
      const col = /^([A-Za-z_]+):(.+)$/.exec(tok);
      out.push(col && FTS_COLUMNS.has(col[1]) ? `${col[1]}:${term(col[2])}` : term(tok));
    }
  }
  return out.join(' ');
}

/** An SQLITE_ERROR from a statement with a MATCH: the only user-written SQL there is the search. */
export function searchSyntaxMessage(msg: string): string {
  return `Search syntax error (${msg.replace(/^SQLITE_ERROR: /, '')}). Full-text search takes words, "quoted phrases", prefix* and AND / OR / NOT; quote text with punctuation.`;
}
