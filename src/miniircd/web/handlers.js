// What the server sends: each line changes the state (messages, members, markers...),
// and the connection's events (registered, lost, logged in) change the page.

import { $ } from "./dom.js";
import { fold, nickOf, parsePrefix, sameName, tagTime } from "./irc.js";
import { makeEntry, personKey } from "./model.js";
import * as remember from "./remember.js";
import * as view from "./view.js";
import { describeRefusal, isErrorNumeric } from "./words.js";
import {
  afterLogin,
  firstRoomKey,
  joinRooms,
  keepRooms,
  loadLatest,
  open,
  takePassword,
} from "./actions.js";
import {
  addLine,
  bufferFor,
  busy,
  changed,
  conn,
  eachRoomWith,
  ensurePerson,
  ensureRoom,
  formError,
  historyBatch,
  isMe,
  isRoomName,
  isViewing,
  mentions,
  SERVICES,
  showDialog,
  showRefusals,
  state,
} from "./state.js";

const WHOX_TOKEN = "151";

conn.on("phase", (phase) => {
  const wasReady = state.phase === "ready";
  state.phase = phase;
  if (phase === "disconnected") {
    endSession();
  } else if (phase === "waiting") {
    state.reconnecting = true;
    // Every request still waiting will never be answered; rooms are rejoined later.
    for (const waiter of state.listWaiters.splice(0)) waiter(null);
    state.historyBlocks.clear();
    state.names.clear();
    for (const buffer of state.buffers.values()) buffer.historyLoading = buffer.loadingOlder = false;
    countdown();
  } else if (phase === "ready") {
    view.banner("");
  }
  if (wasReady && phase !== "ready") for (const b of state.buffers.values()) changed(b);
  view.status();
  changed(null);
});

let countdownTimer = null;
function countdown() {
  clearInterval(countdownTimer);
  const tick = () => {
    if (state.phase !== "waiting") {
      clearInterval(countdownTimer);
      if (state.phase === "connecting" || state.phase === "registering") view.banner("Connection lost. Reconnecting…", false);
      return;
    }
    const seconds = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
    view.banner(`Connection lost. Trying again in ${seconds} s.`, true);
  };
  tick();
  countdownTimer = setInterval(tick, 500);
}

conn.on("lost", ({ reason, wasRegistered }) => {
  if (!wasRegistered) return; // a failed attempt to come back: the banner says it
  const why = reason && reason !== "the connection was lost" ? ` (${reason})` : "";
  view.toast(`The connection was lost${why}. The page will reconnect by itself.`, "error");
});

conn.on("failed", ({ reason }) => {
  const why = reason && reason !== "the connection was lost" ? ` (${reason})` : "";
  const text = `Could not reach the chat server${why}. Try again in a moment.`;
  const dialog = [$("#login-dialog"), $("#register-dialog")].find((d) => d.open);
  if (dialog) {
    formError(dialog.querySelector(".form-error"), text);
    busy(dialog.querySelector("form"), false);
  } else {
    formError($("#connect-error"), text);
  }
  busy($("#connect-form"), false);
});

/** The session is over (disconnect, exit, or the first connection failed). */
function endSession() {
  state.account = null;
  state.buffers.clear();
  state.names.clear();
  state.historyBlocks.clear();
  state.listing = [];
  for (const waiter of state.listWaiters.splice(0)) waiter(null);
  conn.rememberLogin(null);
  clearInterval(countdownTimer);
  view.banner("");
  $("#app").classList.remove("sidebar-open", "members-open");
  if (state.active !== "goodbye") open("welcome");
}

/** 001: registered. Rejoin after a reconnect; after a login, fetch the personal conversations. */
function onWelcome() {
  if (!sameName(conn.nick, conn.wantedNick)) {
    view.toast(`Someone is already using the name ${conn.wantedNick}, so others see you as ${conn.nick}.`);
  }
  state.nick = conn.nick;
  state.canHistory = conn.caps.has("draft/chathistory") && conn.caps.has("batch");
  busy($("#connect-form"), false);
  formError($("#connect-error"), "");
  const rejoin = [...state.buffers.values()].filter((b) => b.kind === "room" && b.joined).map((b) => b.name);
  if (state.reconnecting) {
    state.reconnecting = false;
    view.toast("Reconnected.");
    if (rejoin.length) joinRooms(rejoin).then(showRefusals);
  }
  if (state.account) afterLogin(rejoin.length === 0);
  if (state.active === "welcome" || state.active === "home") open("home");
  view.status();
}

conn.on("auth", ({ ok, mode, account, error }) => {
  const dialog = mode === "register" ? $("#register-dialog") : $("#login-dialog");
  const form = dialog.querySelector("form");
  busy(form, false);
  const password = takePassword() || "";
  if (ok && state.reconnecting) {
    state.account = account; // logged in again after a reconnect: nothing to show
    return;
  }
  if (!ok && password.startsWith(remember.TOKEN_PREFIX)) {
    remember.forget(); // revoked, or the password changed: log in by hand
    if (!dialog.open) showDialog(dialog);
    formError(dialog.querySelector(".form-error"), "Your saved login has ended. Log in again.");
    return;
  }
  if (!ok) {
    const text = error ? describeRefusal(error) : "That did not work.";
    if (!dialog.open) showDialog(dialog);
    const wrong = mode === "login" && error && error.verb === "904";
    formError(dialog.querySelector(".form-error"), wrong ? "Wrong user name or password. Check both and try again." : text);
    return;
  }
  state.account = account;
  if (!state.stay) remember.forget();
  else if (!password.startsWith(remember.TOKEN_PREFIX)) {
    remember.keep(account);
    conn.send("PRIVMSG", "NickServ", "TOKEN"); // the answer is kept, not shown (serviceNotice)
  }
  form.reset();
  if (dialog.open) dialog.close();
  view.toast(mode === "register" ? `Your account ${account} is ready, and you are logged in.` : `You are logged in as ${account}.`);
  if (state.connected()) {
    if (!sameName(conn.nick, account)) conn.send("NICK", account);
    afterLogin(true);
  }
  view.status();
  if (state.active === "home") view.home();
});

function onLoggedOut() {
  state.account = null;
  conn.rememberLogin(null);
  remember.forget(); // its token was revoked before the LOGOUT (actions.logout)
  // Personal conversations belong to the account: someone else may use this device next.
  for (const [key, buffer] of state.buffers) if (buffer.kind !== "room") state.buffers.delete(key);
  if (!state.buffers.has(state.active) && state.active !== "directory") open("home");
  view.toast(`You are logged out. Others now see you as ${state.nick}.`);
  view.status();
  changed(null);
}

const HANDLERS = {
  "001": onWelcome,
  "005": () => {
    state.network = conn.isupport.get("NETWORK") || state.network;
    view.status();
  },
  375: () => {
    state.motdNext = [];
  },
  372: (msg) => {
    (state.motdNext ||= []).push((msg.params[1] || "").replace(/^- ?/, ""));
  },
  376: () => {
    state.motd = state.motdNext || [];
    if (state.active === "home") view.home();
  },
  422: () => {
    state.motd = [];
  },
  PRIVMSG: onTalk,
  NOTICE: onTalk,
  BATCH: onBatch,
  JOIN: onJoin,
  PART: onPart,
  KICK: onKick,
  QUIT: onQuit,
  NICK: onNick,
  TOPIC: (msg) => {
    const buffer = bufferFor(msg.params[0]);
    if (!buffer) return;
    buffer.topic = msg.params[1] || "";
    const who = nickOf(msg.source);
    const what = buffer.topic ? `${who} changed the topic to: ${buffer.topic}` : `${who} removed the topic`;
    addLine(buffer, "event", what, tagTime(msg.tags) ?? Date.now());
  },
  332: (msg) => {
    const buffer = bufferFor(msg.params[1]);
    if (buffer) {
      buffer.topic = msg.params[2] || "";
      changed(buffer);
    }
  },
  353: (msg) => {
    const key = fold(msg.params[2] || "");
    if (!state.names.has(key)) state.names.set(key, []);
    state.names.get(key).push(...(msg.params[3] || "").split(" ").filter(Boolean));
  },
  366: onNamesEnd,
  MODE: onMode,
  AWAY: (msg) => eachRoomWith(nickOf(msg.source), (buffer, member) => {
    member.away = msg.params.length > 0 && msg.params[0] !== "";
    changed(buffer);
  }),
  ACCOUNT: (msg) => eachRoomWith(nickOf(msg.source), (buffer, member) => {
    member.account = msg.params[0] === "*" ? null : msg.params[0];
    changed(buffer);
  }),
  354: (msg) => {
    // WHO #room %tnfa,151 -> 354 me 151 <nick> <flags> <account>
    if (msg.params[1] !== WHOX_TOKEN) return;
    const [, , nick, flags, account] = msg.params;
    eachRoomWith(nick, (buffer, member) => {
      member.away = (flags || "").startsWith("G");
      member.account = account && account !== "0" ? account : null;
      changed(buffer);
    });
  },
  322: (msg) => {
    state.listing.push({ name: msg.params[1], users: Number(msg.params[2]) || 0, topic: msg.params[3] || "" });
  },
  323: () => {
    const rooms = state.listing;
    state.listing = [];
    const waiter = state.listWaiters.shift();
    if (waiter) waiter(rooms);
  },
  MARKREAD: (msg) => {
    const [target, value] = msg.params;
    const buffer = target ? bufferFor(target) : null;
    if (!buffer || !value || !value.startsWith("timestamp=")) return;
    const ms = Date.parse(value.slice("timestamp=".length));
    if (!Number.isNaN(ms) && buffer.applyMarker(ms)) changed(buffer);
  },
  900: (msg) => {
    state.account = msg.params[2] || state.account;
  },
  901: onLoggedOut,
  INVITE: (msg) => {
    if (isMe(msg.params[0])) view.toast(`${nickOf(msg.source)} invites you to ${msg.params[1]}. Find it in All rooms to join.`);
  },
};

function onMessage(msg) {
  const handler = HANDLERS[msg.verb];
  if (handler) {
    handler(msg);
  } else if ((msg.verb === "FAIL" || isErrorNumeric(msg.verb)) && !msg.claimed) {
    unclaimedRefusal(msg);
  }
}

/** A refusal nobody was waiting for: in the conversation it names, else as a toast. */
function unclaimedRefusal(msg) {
  if (["432", "433"].includes(msg.verb) && state.phase !== "ready") return; // the connection picks another nick
  if (conn.sasl || (msg.verb >= "902" && msg.verb <= "908")) return; // the login form shows those
  if (msg.verb === "FAIL" && ["REGISTER", "MARKREAD"].includes(msg.params[0])) return;
  const text = describeRefusal(msg);
  const target = msg.verb === "FAIL" ? msg.params[2] : msg.params[1];
  const buffer = target ? bufferFor(target) : null;
  if (buffer) addLine(buffer, "error", text);
  else view.toast(text, "error");
}

function onTalk(msg) {
  if (msg.params.length < 2) return;
  const target = msg.params[0];
  let text = msg.params[msg.params.length - 1];
  const sender = nickOf(msg.source);
  const notice = msg.verb === "NOTICE";
  if (!msg.source || !msg.source.includes("!")) return serverNotice(text);
  if (SERVICES.has(fold(sender))) return serviceNotice(sender, text);
  let type = notice ? "notice" : "privmsg";
  if (text.startsWith("\x01")) {
    const inner = text.replace(/^\x01|\x01$/g, "");
    const space = inner.indexOf(" ");
    const command = (space < 0 ? inner : inner.slice(0, space)).toUpperCase();
    if (command !== "ACTION" || notice) return; // other CTCP: not shown
    type = "action";
    text = space < 0 ? "" : inner.slice(space + 1);
  }
  const own = isMe(sender, msg.tags.account);
  const history = historyBatch(msg);
  // Unread personal messages the server delivers at login come in a batch nobody asked for.
  const delivery = !!history && !history.label && !isRoomName(history.params[0] || "") && !own;
  const room = isRoomName(target);
  if (!room && !own && !isMe(target, target) && !history) return; // not for us
  const buffer = room ? ensureRoom(target) : ensurePerson(own ? target : sender);
  const time = tagTime(msg.tags) ?? Date.now();
  const msgid = msg.tags.msgid || null;
  if (own && !history && msg.label) {
    const confirmed = buffer.confirm(msg.label, { id: msgid || undefined, msgid, time });
    if (confirmed) return changed(buffer);
  }
  if (msgid && buffer.byId.has(msgid)) return;
  let unread = false;
  if (!own && (type !== "notice" || !room)) {
    if (delivery) unread = true;
    else if (history) unread = buffer.marker != null ? time > buffer.marker : state.catchUp.has(msg.label) && !isViewing(buffer);
    else unread = !isViewing(buffer);
  }
  const entry = makeEntry({
    id: msgid || undefined, msgid, time, type, nick: sender, account: msg.tags.account || null, text, own,
    unread, delivered: delivery, mention: room && !own && mentions(text),
  });
  if (history) {
    // Stored messages are put in place as one block when their batch ends.
    if (!state.historyBlocks.has(history.ref)) state.historyBlocks.set(history.ref, []);
    state.historyBlocks.get(history.ref).push({ buffer, entry });
    return;
  }
  buffer.add(entry);
  changed(buffer);
}

function onBatch(msg) {
  const ref = msg.params[0] || "";
  if (!ref.startsWith("-")) return;
  const block = state.historyBlocks.get(ref.slice(1));
  if (!block) return;
  state.historyBlocks.delete(ref.slice(1));
  const byBuffer = new Map();
  for (const { buffer, entry } of block) {
    if (!byBuffer.has(buffer)) byBuffer.set(buffer, []);
    byBuffer.get(buffer).push(entry);
  }
  for (const [buffer, entries] of byBuffer) {
    buffer.addHistory(entries);
    changed(buffer);
  }
}

function serverNotice(text) {
  const offline = /^(\S+) is offline; your message will be delivered when they log in$/.exec(text);
  if (offline) {
    const buffer = ensurePerson(offline[1]);
    addLine(buffer, "info", `${offline[1]} is not online. They will get your message when they log in.`);
    return;
  }
  const unread = /^You have (\d+) unread message/.exec(text);
  if (unread) {
    view.toast(`You have ${unread[1]} unread personal ${unread[1] === "1" ? "message" : "messages"}. They are under Personal messages.`);
    return;
  }
  if (/^\*\*\* /.test(text)) return; // replay markers (only without the batch capability)
  if (state.phase === "ready") view.toast(text.replace(/^(\w+) failed: /, ""));
}

function serviceNotice(service, text) {
  if (/^You are now logged (in|out)|registered; you are now logged in|^\(\/msg NickServ IDENTIFY/i.test(text)) return;
  const token = /^Your login token: (\S+)$/.exec(text);
  if (token) {
    if (state.account) remember.keepToken(state.account, token[1]);
    return;
  }
  // The rest of TOKEN's and TOKEN REVOKE's answers are for people typing commands.
  if (/^Log in with it in place of your password|^IDENTIFY\)\. It stops working|login token/.test(text)) return;
  const claim = /^(\S+) is a registered account\. Log in within (\d+) seconds/.exec(text);
  if (claim) {
    const [, name, seconds] = claim;
    view.toast(`The name ${name} belongs to an account. Log in within ${seconds} seconds, or the chat will give you another name.`, "error");
    return;
  }
  if (/^You did not log in in time/.test(text)) {
    view.toast(`You did not log in in time, so your name was changed to ${state.nick}.`, "error");
    return;
  }
  view.toast(`${service}: ${text}`);
}

function onJoin(msg) {
  const name = msg.params[0];
  const nick = nickOf(msg.source);
  if (!name) return;
  if (isMe(nick)) {
    const buffer = ensureRoom(name);
    buffer.name = name;
    buffer.joined = true;
    buffer.joining = true;
    buffer.members.clear();
    if (state.showOnJoin === fold(name) || state.creating === fold(name)) {
      state.showOnJoin = null;
      open(buffer.key);
    }
    keepRooms();
    changed(buffer);
    return;
  }
  const buffer = bufferFor(name);
  if (!buffer) return;
  const account = msg.params.length > 2 && msg.params[1] !== "*" ? msg.params[1] : null;
  buffer.setMember(nick, { account, away: false });
  addLine(buffer, "event", `${nick} joined`, tagTime(msg.tags) ?? Date.now());
}

function onNamesEnd(msg) {
  const key = fold(msg.params[1] || "");
  const names = state.names.get(key) || [];
  state.names.delete(key);
  const buffer = state.buffers.get(key);
  if (!buffer || buffer.kind !== "room") return;
  const { modes, symbols } = parsePrefix(conn.isupport.get("PREFIX"));
  buffer.members.clear();
  for (const item of names) {
    let i = 0;
    let memberModes = "";
    while (i < item.length && symbols.includes(item[i])) memberModes += modes[symbols.indexOf(item[i++])];
    buffer.setMember(nickOf(item.slice(i)).split("@")[0], { modes: memberModes });
  }
  if (buffer.joining) {
    buffer.joining = false;
    afterJoin(buffer);
  }
  changed(buffer);
}

/** The room is joined (its names are in): history, or what was missed while away; who is away. */
function afterJoin(buffer) {
  if (state.creating === buffer.key) {
    state.creating = null;
    const others = [...buffer.members.keys()].filter((k) => k !== fold(state.nick));
    addLine(buffer, "info", others.length
      ? `${buffer.name} existed already (it is hidden from the room list); you joined it.`
      : `You created ${buffer.name}. Others can find it under All rooms.`);
  }
  if (state.canHistory) {
    const newest = buffer.newest();
    if (buffer.historyLoaded && newest) loadLatest(buffer, { after: newest.time });
    else loadLatest(buffer);
  }
  if (conn.isupport.has("WHOX")) conn.send("WHO", buffer.name, `%tnfa,${WHOX_TOKEN}`);
}

function onPart(msg) {
  const buffer = bufferFor(msg.params[0] || "");
  const nick = nickOf(msg.source);
  if (!buffer) return;
  if (isMe(nick)) {
    // Leaving a room takes it off the list; the next room opens.
    state.buffers.delete(buffer.key);
    keepRooms();
    if (state.active === buffer.key) open(firstRoomKey() || "home");
    view.toast(`You left ${buffer.name}.`);
    changed(null);
    return;
  }
  buffer.removeMember(nick);
  const reason = msg.params[1] ? ` (${msg.params[1]})` : "";
  addLine(buffer, "event", `${nick} left${reason}`, tagTime(msg.tags) ?? Date.now());
}

function onKick(msg) {
  const [room, victim, comment] = msg.params;
  const buffer = bufferFor(room || "");
  if (!buffer) return;
  const by = nickOf(msg.source);
  const why = comment && comment !== by ? ` (${comment})` : "";
  if (isMe(victim)) {
    buffer.joined = false;
    buffer.members.clear();
    keepRooms();
    addLine(buffer, "error", `${by} removed you from ${buffer.name}${why}.`);
    return;
  }
  buffer.removeMember(victim);
  addLine(buffer, "event", `${by} removed ${victim}${why}`);
}

function onQuit(msg) {
  const nick = nickOf(msg.source);
  const reason = msg.params[0] ? ` (${msg.params[0].replace(/^Quit: /, "")})` : "";
  eachRoomWith(nick, (buffer) => {
    buffer.removeMember(nick);
    addLine(buffer, "event", `${nick} left the chat${reason}`, tagTime(msg.tags) ?? Date.now());
  });
}

function onNick(msg) {
  const old = nickOf(msg.source);
  const nick = msg.params[0];
  if (!nick) return;
  if (isMe(old)) {
    state.nick = nick;
    view.status();
  }
  eachRoomWith(old, (buffer) => {
    buffer.renameMember(old, nick);
    addLine(buffer, "event", `${old} is now called ${nick}`);
  });
  const conversation = state.buffers.get(personKey(old));
  if (conversation && !state.buffers.has(personKey(nick)) && !isMe(nick)) {
    state.buffers.delete(conversation.key);
    conversation.name = nick;
    conversation.key = personKey(nick);
    state.buffers.set(conversation.key, conversation);
    if (state.active === personKey(old)) state.active = conversation.key;
    addLine(conversation, "event", `${old} is now called ${nick}`);
  }
}

function onMode(msg) {
  const [target, modestring = "", ...args] = msg.params;
  const buffer = bufferFor(target || "");
  if (!buffer || buffer.kind !== "room") return;
  const { modes: prefixModes } = parsePrefix(conn.isupport.get("PREFIX"));
  const [listModes = "b", alwaysArg = "k", setArg = "l"] = (conn.isupport.get("CHANMODES") || "b,k,l,imnst").split(",");
  let sign = "+";
  for (const letter of modestring) {
    if (letter === "+" || letter === "-") {
      sign = letter;
      continue;
    }
    const takesArg = prefixModes.includes(letter) || listModes.includes(letter) || alwaysArg.includes(letter)
      || (setArg.includes(letter) && sign === "+");
    const arg = takesArg ? args.shift() : null;
    if (!prefixModes.includes(letter) || !arg) continue;
    const member = buffer.members.get(fold(arg));
    if (!member) continue;
    member.modes = sign === "+" ? (member.modes.includes(letter) ? member.modes : member.modes + letter) : member.modes.replace(letter, "");
    const words = { o: ["made", "a moderator", "is no longer a moderator"], v: ["allowed", "to talk", "may no longer talk"] }[letter];
    if (words) {
      const by = nickOf(msg.source);
      addLine(buffer, "event", sign === "+" ? `${by} ${words[0]} ${arg} ${words[1]}` : `${arg} ${words[2]} (by ${by})`);
    }
  }
  changed(buffer);
}

conn.on("message", onMessage);
