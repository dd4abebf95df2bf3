// The WebSocket to the server: connection registration (CAP, NICK, USER, SASL PLAIN or
// REGISTER before the welcome), PING/PONG, labelled requests and batches, and reconnecting
// with exponential back-off when the socket drops without the person asking for it.
//
// Everything the server sends is handed on as a parsed message ("message" event), with
//   msg.batch  the batch it belongs to ({ref, type, params, label, parent}), if any;
//   msg.label  the label of the request it answers, also for lines nested in batches;
//   msg.claimed true when a request() caller takes care of that line's errors.

import { base64Utf8, buildLine, fold, parseLine } from "./irc.js";

// The capabilities the page uses, requested when the server offers them.
export const WANTED_CAPS = [
  "account-notify", "account-tag", "away-notify", "batch", "draft/account-registration",
  "draft/chathistory", "draft/read-marker", "echo-message", "extended-join", "labeled-response",
  "message-tags", "multi-prefix", "sasl", "server-time", "standard-replies", "userhost-in-names",
];

const BACKOFF_FIRST = 1000; // ms; doubled after each failed attempt
const BACKOFF_MAX = 60000;
const IDLE_PING = 45000; // send a PING after this much silence...
const IDLE_DEAD = 90000; // ...and give the socket up after this much
const REQUEST_TIMEOUT = 30000;
const CONNECT_TIMEOUT = 15000; // a socket not open by then is given up (and retried)
const SASL_CHUNK = 400;
// Verbs whose last parameter is free text: always sent after a ":".
const TEXT_VERBS = new Set(["PRIVMSG", "NOTICE", "QUIT"]);

export function guestNick() {
  return `guest${Math.floor(1000 + Math.random() * 9000)}`;
}

export function socketUrl(loc = window.location) {
  return (loc.protocol === "https:" ? "wss:" : "ws:") + "//" + loc.host + "/socket";
}

export class Connection {
  // Passwords live only in these private fields (not reachable from outside this object):
  // the login to redo after a reconnect, and the one of the exchange in progress.
  #savedAuth = null;
  #password = "";
  #lateAuth = null;

  constructor(url) {
    this.url = url;
    this.listeners = new Map();
    this.ws = null;
    this.phase = "disconnected"; // connecting | registering | ready | waiting | disconnected
    this.everRegistered = false; // only a session that worked once is reconnected by itself
    this.attempt = 0;
    this.retryTimer = null;
    this.retryAt = 0;
    this.idleTimer = null;
    this.lastHeard = 0;
    this.resetSession();
  }

  resetSession() {
    this.caps = new Set();
    this.offered = new Map();
    this.isupport = new Map();
    this.account = null;
    this.batches = new Map();
    this.requests = new Map();
    this.labelSeq = 0;
    this.sasl = null; // {account, mode: "login" | "register"} while in progress
    this.closeReason = "";
    this.nickTries = 0;
    this.#lateAuth = null; // a login that has to wait for the welcome
  }

  // --- events ---------------------------------------------------------------------------

  on(name, handler) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(handler);
  }

  emit(name, data) {
    for (const handler of this.listeners.get(name) || []) {
      try {
        handler(data);
      } catch (err) {
        console.error(`error in ${name} handler`, err);
      }
    }
  }

  // --- opening and closing --------------------------------------------------------------

  /**
   * Open the socket and register as `nick`. `auth` ({mode: "login"|"register", account,
   * password}) is done during registration, before the welcome, when the server allows.
   */
  open(nick, auth = null) {
    this.stopRetry();
    this.closeSocket();
    this.resetSession();
    this.nick = nick;
    this.wantedNick = nick;
    this.pendingAuth = auth ? { mode: auth.mode, account: auth.account } : null;
    this.#password = auth ? auth.password : "";
    this.phase = "connecting";
    this.emit("phase", this.phase);
    let ws;
    try {
      ws = new WebSocket(this.url, ["text.ircv3.net"]);
    } catch (err) {
      this.lost(`could not open the connection (${err.message})`);
      return;
    }
    this.ws = ws;
    // Some failures (a blocked address) leave the socket closed without any event.
    clearTimeout(this.openTimer);
    this.openTimer = setTimeout(() => {
      if (ws === this.ws && ws.readyState !== WebSocket.OPEN) this.lost("the server did not answer");
    }, CONNECT_TIMEOUT);
    ws.onopen = () => {
      if (ws !== this.ws) return;
      clearTimeout(this.openTimer);
      this.phase = "registering";
      this.emit("phase", this.phase);
      this.heard();
      this.sendRaw("CAP LS 302");
      this.send("NICK", nick);
      this.send("USER", "web", "0", "*", "Web chat user");
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws || typeof event.data !== "string") return;
      this.heard();
      for (const line of event.data.split(/\r?\n/)) if (line) this.receive(line);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.lost(this.closeReason || (event.code === 1000 ? "" : "the connection was lost"));
    };
    ws.onerror = () => {}; // onclose follows and says it
  }

  /** The person disconnects: QUIT, close, and do not come back by ourselves. */
  close(reason = "Leaving") {
    this.stopRetry();
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.send("QUIT", reason);
    this.closeSocket();
    this.everRegistered = false;
    this.attempt = 0;
    this.failRequests();
    this.phase = "disconnected";
    this.emit("phase", this.phase);
  }

  closeSocket() {
    clearTimeout(this.openTimer);
    clearInterval(this.idleTimer);
    this.idleTimer = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  /** The socket dropped (or never opened): reconnect later if the session had worked. */
  lost(reason) {
    this.closeSocket();
    this.failRequests();
    const wasRegistered = this.phase === "ready";
    if (this.everRegistered) {
      this.scheduleRetry();
      this.emit("lost", { reason, wasRegistered, retryIn: this.retryAt - Date.now() });
    } else {
      this.phase = "disconnected";
      this.emit("phase", this.phase);
      this.emit("failed", { reason });
    }
  }

  scheduleRetry() {
    const delay = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** this.attempt);
    const jittered = Math.round(delay * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.phase = "waiting";
    this.retryAt = Date.now() + jittered;
    this.emit("phase", this.phase);
    this.retryTimer = setTimeout(() => this.retryNow(), jittered);
  }

  retryNow() {
    if (this.phase !== "waiting") return;
    this.stopRetry();
    this.emit("retrying", { attempt: this.attempt });
    const auth = this.#savedAuth ? { ...this.#savedAuth, mode: "login" } : null;
    this.open(this.wantedNick || this.nick, auth);
  }

  stopRetry() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Credentials kept in memory only, to log in again after a reconnect (see docs/web.md). */
  rememberLogin(account, password) {
    this.#savedAuth = account ? { account, password } : null;
  }

  get loginSaved() {
    return this.#savedAuth !== null;
  }

  heard() {
    this.lastHeard = Date.now();
    if (this.idleTimer) return;
    // A socket can die without a close event (a laptop sleeping, a proxy): ask, then give up.
    this.idleTimer = setInterval(() => {
      const silent = Date.now() - this.lastHeard;
      if (silent > IDLE_DEAD) {
        const ws = this.ws;
        this.closeSocket();
        if (ws) this.lost("the server stopped answering");
      } else if (silent > IDLE_PING && this.phase === "ready") {
        this.send("PING", "keepalive");
      }
    }, 5000);
  }

  // --- sending --------------------------------------------------------------------------

  sendRaw(line) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(line);
    return true;
  }

  /** Send `VERB params...`; the last parameter gets a ":" when it needs one. */
  send(verb, ...params) {
    return this.sendRaw(buildLine(verb, params, { trailing: TEXT_VERBS.has(verb) }));
  }

  /**
   * Send a command with a `label` tag and resolve with every line of its answer (an array,
   * empty for ACK), or null when the answer cannot be told apart (no labeled-response, the
   * connection dropped, or no answer in 30 s). The lines are still handled as usual; with
   * {claimErrors: true} their refusals are the caller's to show (msg.claimed).
   */
  request(verb, params, { claimErrors = true } = {}) {
    const trailing = TEXT_VERBS.has(verb);
    if (!this.caps.has("labeled-response")) {
      this.sendRaw(buildLine(verb, params, { trailing }));
      const answer = Promise.resolve(null);
      answer.label = null;
      return answer;
    }
    const label = `p${++this.labelSeq}`;
    const answer = new Promise((resolve) => {
      const timer = setTimeout(() => this.finishRequest(label, null), REQUEST_TIMEOUT);
      this.requests.set(label, { lines: [], resolve, timer, claimErrors });
    });
    // The caller may need the label at once (to match our echoed messages to it).
    answer.label = label;
    if (!this.sendRaw(buildLine(verb, params, { tags: { label }, trailing }))) this.finishRequest(label, null);
    return answer;
  }

  finishRequest(label, lines) {
    const request = this.requests.get(label);
    if (!request) return;
    this.requests.delete(label);
    clearTimeout(request.timer);
    request.resolve(lines === undefined ? request.lines : lines);
  }

  failRequests() {
    for (const label of [...this.requests.keys()]) this.finishRequest(label, null);
  }

  // --- receiving ------------------------------------------------------------------------

  receive(line) {
    let msg;
    try {
      msg = parseLine(line);
    } catch {
      return;
    }
    if (!msg.verb) return;
    this.track(msg);
    this.handle(msg);
    this.emit("message", msg);
    this.untrack(msg);
  }

  /** Attach batch and label information to a message, before anyone sees it. */
  track(msg) {
    const parent = msg.tags.batch ? this.batches.get(msg.tags.batch) || null : null;
    msg.batch = parent;
    msg.label = msg.tags.label || (parent ? parent.label : null);
    if (msg.verb === "BATCH" && msg.params[0] && msg.params[0].startsWith("+")) {
      const ref = msg.params[0].slice(1);
      this.batches.set(ref, { ref, type: msg.params[1] || "", params: msg.params.slice(2), label: msg.label, parent });
    }
    const request = msg.label ? this.requests.get(msg.label) : null;
    if (request) {
      msg.claimed = request.claimErrors;
      if (msg.verb !== "ACK" && !(msg.verb === "BATCH" && msg.tags.label)) request.lines.push(msg);
    }
  }

  untrack(msg) {
    if (msg.verb === "BATCH" && msg.params[0] && msg.params[0].startsWith("-")) {
      const ref = msg.params[0].slice(1);
      const batch = this.batches.get(ref);
      this.batches.delete(ref);
      // The outermost batch of a labelled answer has ended: the answer is complete.
      if (batch && batch.label && !batch.parent && this.requests.has(batch.label)) this.finishRequest(batch.label);
      return;
    }
    // A labelled answer of one line (or ACK) is complete with that line.
    if (msg.tags.label && msg.verb !== "BATCH") this.finishRequest(msg.tags.label);
  }

  /** What the connection itself must answer: registration, SASL, PING. */
  handle(msg) {
    const p = msg.params;
    switch (msg.verb) {
      case "PING":
        this.send("PONG", p[p.length - 1] || "");
        break;
      case "CAP":
        this.onCap(msg);
        break;
      case "AUTHENTICATE":
        if (p[0] === "+" && this.sasl) {
          const payload = base64Utf8(`\0${this.sasl.account}\0${this.#password}`);
          for (let i = 0; i < payload.length; i += SASL_CHUNK) this.send("AUTHENTICATE", payload.slice(i, i + SASL_CHUNK));
          if (payload.length % SASL_CHUNK === 0) this.send("AUTHENTICATE", "+");
        }
        break;
      case "900":
        this.account = p[2] || null;
        break;
      case "901":
        this.account = null;
        break;
      case "903":
        this.authDone(true, null, msg);
        break;
      case "902": case "904": case "905": case "906": case "907": case "908":
        if (msg.verb !== "908") this.authDone(false, msg, msg);
        break;
      case "REGISTER":
        if (this.sasl && this.sasl.mode === "register") this.authDone(p[0] === "SUCCESS", null, msg);
        break;
      case "FAIL":
        if (p[0] === "REGISTER" && this.sasl && this.sasl.mode === "register") this.authDone(false, msg, msg);
        break;
      case "001":
        this.nick = p[0] || this.nick;
        this.phase = "ready";
        this.everRegistered = true;
        this.attempt = 0;
        this.emit("phase", this.phase);
        if (this.#lateAuth) {
          const { mode, account, password } = this.#lateAuth;
          this.#lateAuth = null;
          this.authenticate(mode, account, password);
        }
        break;
      case "005":
        for (const token of p.slice(1, -1)) {
          const eq = token.indexOf("=");
          const name = eq < 0 ? token : token.slice(0, eq);
          if (name.startsWith("-")) this.isupport.delete(name.slice(1));
          else this.isupport.set(name, eq < 0 ? "" : token.slice(eq + 1));
        }
        break;
      case "NICK":
        // Our new name is also the one to come back with after a reconnect.
        if (fold(msg.source ? msg.source.split("!")[0] : "") === fold(this.nick)) this.nick = this.wantedNick = p[0];
        break;
      case "432":
      case "433":
        if (this.phase !== "ready") {
          // Before the welcome a refused nick would stall registration: try another.
          this.nickTries += 1;
          if (this.nickTries > 8) {
            this.closeReason = "the server refused every name the page tried";
            this.close();
            this.emit("failed", { reason: this.closeReason });
            break;
          }
          const underscored = `${this.wantedNick}${"_".repeat(this.nickTries)}`;
          this.nick = this.nickTries <= 2 && msg.verb === "433" && underscored.length <= 30 ? underscored : guestNick();
          this.send("NICK", this.nick);
        }
        break;
      case "ERROR":
        this.closeReason = p[p.length - 1] || "";
        break;
      default:
        break;
    }
  }

  onCap(msg) {
    const p = msg.params;
    const sub = (p[1] || "").toUpperCase();
    const words = (p[p.length - 1] || "").split(" ").filter(Boolean);
    if (sub === "LS") {
      for (const word of words) {
        const eq = word.indexOf("=");
        this.offered.set(eq < 0 ? word : word.slice(0, eq), eq < 0 ? "" : word.slice(eq + 1));
      }
      if (p.length > 3 && p[2] === "*") return; // more LS lines follow
      if (this.phase === "ready") return;
      const wanted = WANTED_CAPS.filter((cap) => this.offered.has(cap));
      const sasl = this.offered.get("sasl");
      if (sasl && !sasl.toUpperCase().split(",").includes("PLAIN")) wanted.splice(wanted.indexOf("sasl"), 1);
      if (wanted.length) this.sendRaw(buildLine("CAP", ["REQ", wanted.join(" ")], { trailing: true }));
      else this.finishCaps();
    } else if (sub === "ACK" || sub === "NAK") {
      if (sub === "ACK") {
        for (const word of words) {
          if (word.startsWith("-")) this.caps.delete(word.slice(1));
          else this.caps.add(word);
        }
      }
      if (this.phase !== "ready") this.startAuthOrFinish();
    }
  }

  /** Registration: log in or create the account before CAP END when we can. */
  startAuthOrFinish() {
    const auth = this.pendingAuth;
    this.pendingAuth = null;
    if (auth && auth.mode === "login" && this.caps.has("sasl")) {
      this.sasl = auth;
      this.send("AUTHENTICATE", "PLAIN");
      return;
    }
    const registration = this.offered.get("draft/account-registration");
    if (auth && auth.mode === "register" && registration != null && registration.split(",").includes("before-connect")) {
      this.sasl = auth;
      this.send("REGISTER", auth.account, "*", this.#password);
      return;
    }
    if (auth) this.#lateAuth = { ...auth, password: this.#password }; // after the welcome, then
    this.finishCaps();
  }

  finishCaps() {
    this.sendRaw("CAP END");
  }

  authDone(ok, errorMsg, msg) {
    if (!this.sasl) return;
    const auth = this.sasl;
    this.sasl = null;
    if (ok) this.rememberLogin(auth.account, this.#password);
    this.#password = "";
    this.emit("auth", { ok, mode: auth.mode, account: ok ? this.account || auth.account : null, error: errorMsg, msg });
    if (this.phase !== "ready") {
      // The nick was the account's name: a guest must not keep it (nick protection).
      if (!ok && fold(this.nick) === fold(auth.account)) {
        this.nick = this.wantedNick = guestNick();
        this.send("NICK", this.nick);
      }
      this.finishCaps();
    }
  }

  /** Log in (SASL PLAIN) or create an account (REGISTER) on a registered connection. */
  authenticate(mode, account, password) {
    if (this.sasl) return false;
    if (mode === "login") {
      if (!this.caps.has("sasl")) return false;
      this.sasl = { mode, account };
      this.#password = password;
      this.send("AUTHENTICATE", "PLAIN");
      return true;
    }
    if (!this.offered.has("draft/account-registration")) return false;
    this.sasl = { mode, account };
    this.#password = password;
    this.send("REGISTER", account, "*", password);
    return true;
  }

  isupportNumber(name, fallback) {
    const value = Number.parseInt(this.isupport.get(name), 10);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  }
}
