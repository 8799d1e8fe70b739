"""Options that carry secrets (passwords, keys, tokens), and their masking wherever sqlstream prints or stores
text: DESCRIBE and SHOW CREATE TABLE, SET listings, error messages and the source line under their caret, job
summaries, logs and the shell's history file.

One rule decides what is secret: the keys below, which Kafka, JDBC and Iceberg/S3 tables use, and any key whose
name says password, secret, token, credential, jaas or private key. Secret values a script sets are remembered
for the process, so text that repeats one (an error from a connector, a log line) is masked too.
"""
from __future__ import annotations

import re
import threading

MASK = "******"

SECRET_KEYS = frozenset({
    "properties.sasl.jaas.config", "properties.sasl.password", "properties.sasl.oauthbearer.client.secret",
    "properties.ssl.key.password", "properties.ssl.keystore.password", "properties.ssl.keystore.key",
    "properties.ssl.truststore.password", "properties.ssl.key.pem", "password", "s3.secret-access-key",
    "s3.access-key-id", "s3.session-token", "credential", "token",
})
_SECRET_WORDS = re.compile(r"password|passwd|secret|token|credential|jaas|private[._-]?key|keystore[._-]key|"
                           r"ssl[._-]key[._-]pem|access[._-]key", re.IGNORECASE)
MIN_REMEMBERED = 6  # shorter values are masked where they stand, not searched for in other text

_known: set[str] = set()
_known_lock = threading.Lock()


def is_secret(key: str) -> bool:
    """Whether an option or setting named `key` carries a secret."""
    k = key.strip().strip("'`\"").lower()
    return k in SECRET_KEYS or bool(_SECRET_WORDS.search(k))


def mask_value(key: str, value: str | None) -> str | None:
    """The value as it may be shown: MASK for a secret key."""
    return MASK if value is not None and is_secret(key) else value


def mask_options(options: dict) -> dict:
    return {k: mask_value(k, v) for k, v in options.items()}


def remember(value: str | None) -> None:
    """Mask this secret value in any text shown or stored later in this process."""
    if value and len(value) >= MIN_REMEMBERED:
        with _known_lock:
            _known.add(value)


def redact(text: str) -> str:
    """`text` with every remembered secret value replaced by MASK where it stands as a whole word: a password
    'postgres' is masked in `user:postgres@host`, but the connector name 'postgres-cdc' stays readable."""
    if not _known or not text:
        return text
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for v in known:
        if v in text:
            text = re.sub(r"(?<![\w-])" + re.escape(v) + r"(?![\w-])", MASK, text)
    return text


# ---- secrets written in SQL text ------------------------------------------------------------------------------
_TOKEN = re.compile(r"""(?P<skip>\s+|--[^\n]*|/\*(?!\+).*?(?:\*/|\Z))
                      |(?P<str>'(?:[^']|'')*(?P<str_end>')?)
                      |(?P<ident>`(?:[^`]|``)*(?P<ident_end>`)?|"(?:[^"]|"")*(?P<dq_end>")?)
                      |(?P<word>[\w.$-]+)
                      |(?P<sym>.)""", re.S | re.X)


def _lex(sql: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the SQL's words, quoted strings, quoted identifiers and symbols, without comments.

    A string without its closing quote runs to the end of the text (kind 'open')."""
    out = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup if m.lastgroup in ("skip", "word", "sym") else None
        if m.group("skip") is not None:
            continue
        if m.group("str") is not None:
            kind = "str" if m.group("str_end") else "open"
        elif m.group("ident") is not None:
            kind = "ident" if m.group("ident_end") or m.group("dq_end") else "open"
        out.append((kind, m.start(), m.end()))
    return out


def secret_spans(sql: str) -> list[tuple[int, int]]:
    """Character spans of the values given to secret keys: `'key' = 'value'` in WITH (..), OPTIONS hints and SET
    (also unquoted, as SET allows). A value without its closing quote runs to the end of the text."""
    toks = _lex(sql)
    spans = []
    for i in range(len(toks) - 2):
        (kk, ks, ke), (_, es, ee), (vk, vs, ve) = toks[i], toks[i + 1], toks[i + 2]
        if sql[es:ee] != "=" or vk in ("sym", "ident"):
            continue
        after_set = i > 0 and toks[i - 1][0] == "word" and sql[toks[i - 1][1]:toks[i - 1][2]].upper() == "SET"
        if kk == "str":
            key = sql[ks + 1:ke - 1].replace("''", "'")
        elif kk == "word" and after_set:
            key = sql[ks:ke]  # SET key = value, as the SQL client allows
        else:
            continue  # `password = 'x'` in a query compares a column, it sets no option
        if not is_secret(key):
            continue
        if vk == "word":  # an unquoted SET value runs to the end of the statement or line
            stop = [sql.find(c, vs) for c in ";\n"]
            ve = min([s for s in stop if s >= 0] or [len(sql)])
            ve = vs + len(sql[vs:ve].rstrip())
        spans.append((vs, ve))
    return spans


def _literal(sql: str, start: int, end: int) -> str:
    """The value inside a quoted literal span (the span itself when unquoted)."""
    text = sql[start:end]
    if text[:1] == "'":
        text = text[1:-1] if text.endswith("'") and len(text) > 1 else text[1:]
        return text.replace("''", "'")
    return text


def secret_values(sql: str) -> list[str]:
    """The secret values the SQL text sets, and the passwords inside a JAAS configuration among them."""
    out = []
    for s, e in secret_spans(sql):
        value = _literal(sql, s, e).strip()
        out.append(value)
        out += [m.group(2) for m in _JAAS_SECRET.finditer(value)]
    return out


_JAAS_SECRET = re.compile(r"(password|secret|token)\s*=\s*\"([^\"]*)\"", re.IGNORECASE)


def remember_sql(sql: str) -> None:
    """Remember the secret values a script sets (see `remember`)."""
    for value in secret_values(sql):
        remember(value)


def mask_sql(sql: str) -> str:
    """The SQL text with every secret value replaced by '******' (a statement as it may be shown or stored)."""
    return mask_spans(sql, secret_spans(sql))[0]


def mask_spans(sql: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """The text with these spans replaced by a quoted MASK, and (offset, length change) per replacement."""
    out, at, shifts = [], 0, []
    for s, e in spans:
        out.append(sql[at:s])
        quoted = sql[s:e].startswith("'")
        repl = f"'{MASK}'" if quoted else MASK
        if quoted and not sql[s:e].endswith("'") or e - s == 1:
            repl = f"'{MASK}" if quoted else MASK
        out.append(repl)
        shifts.append((s, len(repl) - (e - s)))
        at = e
    out.append(sql[at:])
    return "".join(out), shifts


def shift_offset(offset: int, shifts: list[tuple[int, int]]) -> int:
    """Where a character offset of the original text lands in the masked text."""
    return offset + sum(d for s, d in shifts if s < offset)
