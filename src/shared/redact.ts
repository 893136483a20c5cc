// Secrets out of text that leaves the machine: the diagnostic report is pasted into
// issues, and it quotes every holder's full command line, where people put API keys,
// tokens and passwords (`--api-key=sk-…`, `Authorization: Bearer …`, `postgres://u:p@h`).
// Pure: text in, text out. What is kept: the option's name, so the report still says
// what was passed; what goes: the value.

const MASK = '[REDACTED]';

/** Option and variable names whose value is a secret (matched case-insensitively, `-`/`_` alike). */
const SECRET_NAME = String.raw`(?:[A-Za-z0-9]+[-_])*(?:api[-_]?key|apikey|access[-_]?key|secret[-_]?key|secret|token|auth[-_]?token|access[-_]?token|refresh[-_]?token|password|passwd|pass|credentials?|private[-_]?key|client[-_]?secret|session[-_]?key|signature|sig)`;

const RULES: [RegExp, string | ((...m: string[]) => string)][] = [
  // PEM blocks: the whole key.
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, MASK],
  // Authorization headers: Bearer / Basic / Token and whatever scheme follows.
  [
    /\b(authorization\s*[:=]\s*)(?:"|')?(?:(bearer|basic|token|digest)\s+)?[^\s"',;]+/gi,
    (_m, head: string, scheme?: string) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`,
  ],
  [/\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${MASK}`],
  // user:password@ in URLs (postgres://, https://, redis://…).
  [/\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@"']+):([^\s@/"']+)@/gi, `$1$2:${MASK}@`],
  // --api-key=VALUE, --token VALUE, -p=…: a secret-named option and its value, `=` or a space.
  [new RegExp(String.raw`(--?${SECRET_NAME})(=|\s+)("[^"]*"|'[^']*'|[^\s"']+)`, 'gi'), (_m, name: string, sep: string) => `${name}${sep}${MASK}`],
  // token=…, API_KEY=…, "password": "…", password: … (env assignments, query strings, JSON).
  [new RegExp(String.raw`(\b${SECRET_NAME}["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s&"',;}]+)`, 'gi'), (_m, head: string) => `${head}${MASK}`],
  // Shapes that are secrets wherever they stand.
  [/\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{16,}/g, MASK],
  [/\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, MASK],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, MASK],
  [/\bgithub_pat_[A-Za-z0-9_]{40,}\b/g, MASK],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g, MASK],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, MASK],
  [/\bhf_[A-Za-z0-9]{30,}\b/g, MASK],
  [/\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g, MASK],
  // JSON web tokens: three base64url parts, the first one a JSON header.
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, MASK],
];

/** `text` with every secret-looking value replaced by [REDACTED]. */
export function redact(text: string): string {
  let out = text;
  for (const [re, to] of RULES) out = out.replace(re, to as never);
  return out;
}
