// IRC lines: parsing and building them, IRCv3 tag escaping, names and times.
// Pure functions, no DOM and no socket, so they can be checked on their own.

const TAG_ESCAPES = { ";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n" };
const TAG_UNESCAPES = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

export function escapeTagValue(value) {
  return value.replace(/[; \\\r\n]/g, (ch) => TAG_ESCAPES[ch]);
}

export function unescapeTagValue(value) {
  // "\x" for an unknown x is x; a lone "\" at the end is dropped (message-tags spec).
  return value.replace(/\\(.?)/g, (_, ch) => (ch in TAG_UNESCAPES ? TAG_UNESCAPES[ch] : ch));
}

/** `[@tags ][:source ]VERB params... [:trailing]` -> {tags, source, verb, params}. */
export function parseLine(line) {
  let rest = line.replace(/[\r\n]+$/, "");
  const tags = {};
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    const raw = space < 0 ? rest.slice(1) : rest.slice(1, space);
    rest = space < 0 ? "" : rest.slice(space + 1);
    for (const item of raw.split(";")) {
      if (!item) continue;
      const eq = item.indexOf("=");
      if (eq < 0) tags[item] = "";
      else tags[item.slice(0, eq)] = unescapeTagValue(item.slice(eq + 1));
    }
  }
  rest = rest.replace(/^ +/, "");
  let source = null;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    source = space < 0 ? rest.slice(1) : rest.slice(1, space);
    rest = space < 0 ? "" : rest.slice(space + 1);
  }
  const params = [];
  let verb = "";
  while ((rest = rest.replace(/^ +/, ""))) {
    if (verb && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space + 1);
    if (!verb) verb = word.toUpperCase();
    else params.push(word);
  }
  return { tags, source, verb, params };
}

/**
 * Build a line. Every parameter but the last must be one non-empty word that does not
 * start with ":" (anything else would let text inject parameters); the last gets a ":"
 * when it needs one, or always with {trailing: true}. CR, LF and NUL are never sent.
 */
export function buildLine(verb, params = [], { tags = null, trailing = false } = {}) {
  const clean = params.map((p) => String(p).replace(/[\r\n\0]/g, " "));
  const parts = [];
  if (tags && Object.keys(tags).length) {
    const items = Object.entries(tags).map(([k, v]) => (v === "" || v === true ? k : `${k}=${escapeTagValue(String(v))}`));
    parts.push("@" + items.join(";"));
  }
  parts.push(verb);
  clean.forEach((param, i) => {
    const last = i === clean.length - 1;
    if (last && (trailing || param === "" || param.includes(" ") || param.startsWith(":"))) {
      parts.push(":" + param);
    } else if (param === "" || param.includes(" ") || param.startsWith(":")) {
      throw new Error(`bad IRC parameter ${JSON.stringify(param)}`);
    } else {
      parts.push(param);
    }
  });
  return parts.join(" ");
}

/** The nick of a `nick!user@host` source. */
export function nickOf(source) {
  if (!source) return "";
  const bang = source.indexOf("!");
  return bang < 0 ? source : source.slice(0, bang);
}

/** rfc1459 case folding (the server's CASEMAPPING): []\~ are the upper case of {}|^. */
export function fold(name) {
  return name.toLowerCase().replace(/[[\]\\~]/g, (ch) => ({ "[": "{", "]": "}", "\\": "|", "~": "^" })[ch]);
}

export function sameName(a, b) {
  return a != null && b != null && fold(a) === fold(b);
}

export function isChannel(name, chantypes = "#") {
  return !!name && chantypes.includes(name[0]);
}

/** A room name the server accepts: # then 1 to len-1 characters, no space , : BEL NUL CR LF. */
export function isValidRoom(name, maxLength = 50) {
  return /^#[^\s,:\x07\0]+$/.test(name) && name.length <= maxLength;
}

/** A nick the server accepts (also what account names must be). */
export function isValidNick(name, maxLength = 30) {
  return /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/.test(name) && name.length <= maxLength;
}

const encoder = new TextEncoder();

export function byteLength(text) {
  return encoder.encode(text).length;
}

/** Cut `text` into pieces of at most `limit` UTF-8 bytes, at spaces where possible. */
export function splitText(text, limit) {
  const pieces = [];
  let rest = text;
  while (byteLength(rest) > limit) {
    // The longest prefix that fits, never cutting a character (code points, not units).
    let cut = 0;
    let bytes = 0;
    for (const ch of rest) {
      const size = byteLength(ch);
      if (bytes + size > limit) break;
      bytes += size;
      cut += ch.length;
    }
    const space = rest.lastIndexOf(" ", cut);
    if (space > cut / 2) cut = space;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ +/, "");
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** The server-time tag as milliseconds since the epoch, or null. */
export function tagTime(tags) {
  if (!tags || !tags.time) return null;
  const ms = Date.parse(tags.time);
  return Number.isNaN(ms) ? null : ms;
}

/** Milliseconds -> the exact form server-time uses (YYYY-MM-DDThh:mm:ss.sssZ). */
export function isoTime(ms) {
  return new Date(ms).toISOString();
}

/** Base64 of a string's UTF-8 bytes (SASL payloads). */
export function base64Utf8(text) {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** ISUPPORT PREFIX=(ov)@+ -> {modes: "ov", symbols: "@+"}. */
export function parsePrefix(value) {
  const match = /^\(([^)]*)\)(.*)$/.exec(value || "");
  return match ? { modes: match[1], symbols: match[2] } : { modes: "ov", symbols: "@+" };
}
