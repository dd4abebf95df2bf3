// The operations a person does on the page (the course spec's sixteen, by name): connect,
// accounts, rooms, history, messages, and opening conversations.

import { guestNick } from "./connection.js";
import { $ } from "./dom.js";
import {
  byteLength,
  fold,
  isoTime,
  isValidNick,
  isValidRoom,
  nickOf,
  sameName,
  splitText,
  tagTime,
} from "./irc.js";
import { Buffer, makeEntry, personKey, roomKey } from "./model.js";
import * as remember from "./remember.js";
import * as view from "./view.js";
import {
  addLine,
  bufferFor,
  busy,
  changed,
  conn,
  countTalk,
  ensurePerson,
  ensureRoom,
  formError,
  historyBatch,
  isMe,
  isRoomName,
  markRead,
  narrow,
  refusals,
  SERVICES,
  showRefusals,
  state,
  wide,
} from "./state.js";

const HISTORY_PAGE = 50; // messages per CHATHISTORY request when scrolling back
const CATCH_UP = 100; // messages fetched per conversation after a reconnect
const PRIVATE_PRELOAD = 20; // personal conversations whose history is fetched at login

// The password of the login in progress, until the server answers (never in `state`,
// which the tests can read).
let authPassword = null;

/** The password of the login that just ended, handed over once. */
export function takePassword() {
  const password = authPassword;
  authPassword = null;
  return password;
}

/** Staying logged in: connect and log in with the saved login token. */
export function loginAtStart(account, password) {
  state.stay = true;
  authPassword = password;
  connect(account, { mode: "login", account, password });
}

export function connect(nick, auth = null) {
  state.reconnecting = false;
  state.nick = nick;
  conn.open(nick, auth);
}

export function submitAuth(mode) {
  const prefix = mode === "register" ? "register" : "login";
  const form = $(`#${prefix}-form`);
  const error = $(`#${prefix}-error`);
  const account = $(`#${prefix}-user`).value.trim();
  const password = $(`#${prefix}-password`).value;
  formError(error, "");
  if (!account) return formError(error, "Write your user name.");
  if (!isValidNick(account, conn.isupportNumber("NICKLEN", 30))) {
    return formError(error, "A user name has 1 to 30 letters, digits or - _ [ ] { } \\ | ^ `, and does not start with a digit or -.");
  }
  if (!password) return formError(error, "Write your password.");
  if (mode === "register") {
    if (/\s/.test(password)) return formError(error, "The password may not contain spaces.");
    if (password.length < 8 || password.length > 128) return formError(error, "The password must be 8 to 128 characters long.");
    if (password !== $("#register-password2").value) return formError(error, "The two passwords are not the same.");
  }
  if (state.account) return formError(error, `You are already logged in as ${state.account}. Log out first.`);
  state.stay = $(`#${prefix}-stay`).checked;
  authPassword = password;
  busy(form, true);
  if (state.phase === "disconnected") {
    connect(account, { mode, account, password });
  } else if (state.connected()) {
    if (!conn.authenticate(mode, account, password)) {
      busy(form, false);
      const missing = mode === "register" ? "cannot create accounts" : "does not support logging in from the page";
      formError(error, `This server ${missing}.`);
    }
  } else {
    busy(form, false);
    formError(error, "The page is not connected right now. Wait until it has reconnected.");
  }
}

export function logout() {
  if (!state.account || !state.connected()) return;
  const saved = remember.saved();
  if (saved && saved.token && sameName(saved.account, state.account)) {
    conn.send("PRIVMSG", "NickServ", `TOKEN REVOKE ${saved.token}`); // this device's login ends
  }
  // A guest may not keep an account's name (nick protection), so change it first.
  if (sameName(conn.nick, state.account)) conn.send("NICK", guestNick());
  conn.send("PRIVMSG", "NickServ", "LOGOUT");
}

/** Logged in: the inbox, the rooms to rejoin, and the personal conversations with their unread counts. */
export async function afterLogin(fresh) {
  if (!state.buffers.has("inbox")) state.buffers.set("inbox", new Buffer("inbox", "Inbox"));
  const saved = remember.saved();
  if (fresh && saved && saved.account === state.account && saved.rooms.length) {
    joinRooms(saved.rooms.filter((name) => !state.buffers.get(roomKey(name))?.joined)).then(showRefusals);
  }
  changed(null);
  if (!state.canHistory) return;
  const now = Date.now();
  const day = 86400000;
  const since = `timestamp=${isoTime(now - 365 * day)}`;
  const lines = await conn.request("CHATHISTORY", ["TARGETS", since, `timestamp=${isoTime(now + day)}`, "50"]);
  const people = [];
  for (const msg of lines || []) {
    if (msg.verb !== "CHATHISTORY" || msg.params[0] !== "TARGETS" || isRoomName(msg.params[1] || "")) continue;
    if (SERVICES.has(fold(msg.params[1]))) continue;
    const buffer = ensurePerson(msg.params[1]);
    buffer.lastActivity = Math.max(buffer.lastActivity, Date.parse(msg.params[2]) || 0);
    people.push(buffer);
  }
  people.sort((a, b) => b.lastActivity - a.lastActivity);
  for (const buffer of people.slice(0, PRIVATE_PRELOAD)) {
    // The marker first (answers come in order), so the history's unread count is right.
    if (conn.caps.has("draft/read-marker")) conn.send("MARKREAD", buffer.name);
    if (buffer.historyLoaded && buffer.newest()) loadLatest(buffer, { after: buffer.newest().time });
    else loadLatest(buffer);
  }
  changed(null);
}

/** LIST [names]: resolves with [{name, users, topic}], or null if the connection dropped. */
function listRooms(names = []) {
  return new Promise((resolve) => {
    state.listWaiters.push(resolve);
    if (!(names.length ? conn.send("LIST", names.join(",")) : conn.send("LIST"))) {
      state.listWaiters.pop();
      resolve(null);
    }
  });
}

/** JOIN; resolves with the refusals as [{target, text}]. Rooms joined are opened if `show`. */
export async function joinRooms(names, { show = false } = {}) {
  if (!names.length) return [];
  if (show) state.showOnJoin = fold(names[0]);
  const lines = await conn.request("JOIN", [names.join(",")]);
  return refusals(lines);
}

export async function refreshDirectory() {
  if (!state.connected()) {
    view.directory([], "Connect to see the rooms.");
    return;
  }
  view.directory(state.directoryRooms || [], "Looking for rooms…");
  const rooms = await listRooms();
  if (!rooms) return;
  rooms.sort((a, b) => b.users - a.users || fold(a.name).localeCompare(fold(b.name)));
  state.directoryRooms = rooms;
  if (state.active === "directory") {
    const count = `${rooms.length} ${rooms.length === 1 ? "room" : "rooms"}.`;
    view.directory(rooms, rooms.length ? count : "There are no rooms yet. Create the first one!");
  }
}

export async function joinFromDirectory(name, button) {
  const existing = state.buffers.get(roomKey(name));
  if (existing && existing.joined) return open(existing.key);
  const error = button.parentElement.querySelector(".form-error");
  formError(error, "");
  button.disabled = true;
  const refused = await joinRooms([name], { show: true });
  button.disabled = false;
  if (refused.length) formError(error, refused.map((r) => r.text).join(" "));
}

function roomName(raw) {
  const name = raw.trim();
  return name && !isRoomName(name) ? `#${name}` : name;
}

function roomNameProblem(name) {
  if (!name || name === "#") return "Write the room's name.";
  if (!isValidRoom(name, conn.isupportNumber("CHANNELLEN", 50))) {
    const longest = conn.isupportNumber("CHANNELLEN", 50);
    return `${name} cannot be a room name: it starts with # and has no spaces, commas or colons (at most ${longest} characters).`;
  }
  return null;
}

export async function submitJoin() {
  const error = $("#join-error");
  formError(error, "");
  const name = roomName($("#join-name").value);
  const problem = roomNameProblem(name);
  if (problem) return formError(error, problem);
  if (!state.connected()) return formError(error, "Connect first.");
  const existing = state.buffers.get(roomKey(name));
  if (existing && existing.joined) return open(existing.key);
  busy($("#join-form"), true);
  // As the terminal client does: JOIN would create a missing room, so ask first.
  const found = await listRooms([name]);
  if (found && !found.some((r) => sameName(r.name, name))) {
    busy($("#join-form"), false);
    return formError(error, `There is no room called ${name}. You can make it with Create room.`);
  }
  const refused = await joinRooms([name], { show: true });
  busy($("#join-form"), false);
  if (refused.length) formError(error, refused.map((r) => r.text).join(" "));
  else $("#join-name").value = "";
}

export async function submitCreateRoom() {
  const error = $("#create-room-error");
  formError(error, "");
  const name = roomName($("#create-room-name").value);
  const problem = roomNameProblem(name);
  if (problem) return formError(error, problem);
  if (!state.connected()) return formError(error, "Connect first.");
  const existing = state.buffers.get(roomKey(name));
  if (existing && existing.joined) return formError(error, `You are already in ${existing.name}.`);
  busy($("#create-room-form"), true);
  const found = await listRooms([name]);
  if (found && found.some((r) => sameName(r.name, name))) {
    busy($("#create-room-form"), false);
    return formError(error, `There is already a room called ${name}. Join it from All rooms.`);
  }
  state.creating = fold(name);
  const refused = await joinRooms([name], { show: true });
  busy($("#create-room-form"), false);
  if (refused.length) {
    state.creating = null;
    return formError(error, refused.map((r) => r.text).join(" "));
  }
  $("#create-room-form").reset();
  $("#create-room-dialog").close();
}

/** PART; a refusal is shown in `where` (the room, or the conversation the command was typed in). */
export async function leaveRoom(name, where = bufferFor(name)) {
  if (!name || !state.connected()) return;
  const lines = await conn.request("PART", [name]);
  for (const refusal of refusals(lines)) {
    if (where) addLine(where, "error", refusal.text);
    else view.toast(refusal.text, "error");
  }
}

export function closeConversation(buffer) {
  if (!buffer) return;
  state.buffers.delete(buffer.key);
  open(firstRoomKey() || "home");
}

export function firstRoomKey() {
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "room").sort((a, b) => fold(a.name).localeCompare(fold(b.name)));
  return rooms.length ? rooms[0].key : null;
}

export function keepRooms() {
  if (!state.account) return;
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "room" && b.joined).map((b) => b.name);
  remember.keepRooms(state.account, rooms);
}

function canLoadHistory(buffer) {
  if (!state.canHistory) return false;
  if (buffer.kind === "room") return buffer.joined;
  return buffer.kind === "private" && !!state.account;
}

/** The latest messages of a conversation, or (after a reconnect) those since the last one seen. */
export async function loadLatest(buffer, { after = null } = {}) {
  if (!canLoadHistory(buffer) || buffer.historyLoading) return;
  buffer.historyLoading = true;
  const limit = after ? CATCH_UP : HISTORY_PAGE;
  const request = conn.request("CHATHISTORY", ["LATEST", buffer.name, after ? `timestamp=${isoTime(after)}` : "*", String(limit)]);
  if (after && request.label) state.catchUp.add(request.label);
  const lines = await request;
  buffer.historyLoading = false;
  state.catchUp.delete(request.label);
  if (lines && !after) {
    buffer.historyLoaded = true;
    if (countTalk(lines) < limit) buffer.atStart = true;
  }
  for (const refusal of refusals(lines)) {
    // A conversation nobody has written in yet has no history: not worth a sentence.
    if (refusal.msg.params[1] === "INVALID_TARGET" && buffer.kind === "private") buffer.atStart = true;
    else addLine(buffer, "error", refusal.text);
  }
  changed(buffer);
}

/** Scrolled to the top: the messages before the oldest one shown. */
export async function loadOlder(buffer) {
  if (!buffer || buffer.loadingOlder || buffer.atStart || !state.connected() || !canLoadHistory(buffer)) return;
  const oldest = buffer.oldest();
  if (!oldest) return loadLatest(buffer);
  buffer.loadingOlder = true;
  changed(buffer);
  const ref = oldest.msgid ? `msgid=${oldest.msgid}` : `timestamp=${isoTime(oldest.time)}`;
  const lines = await conn.request("CHATHISTORY", ["BEFORE", buffer.name, ref, String(HISTORY_PAGE)]);
  buffer.loadingOlder = false;
  if (lines && countTalk(lines) < HISTORY_PAGE) buffer.atStart = true;
  for (const refusal of refusals(lines)) addLine(buffer, "error", refusal.text);
  changed(buffer);
}

async function loadInbox() {
  const inbox = state.buffers.get("inbox");
  if (!inbox || !state.account || !state.connected()) return;
  const lines = await conn.request("INBOX", ["50"]);
  for (const msg of lines || []) {
    if ((msg.verb !== "PRIVMSG" && msg.verb !== "NOTICE") || !historyBatch(msg)) continue;
    const sender = nickOf(msg.source);
    if (isMe(sender, msg.tags.account)) continue;
    const text = msg.params[msg.params.length - 1];
    inbox.add(makeEntry({
      id: `inbox:${msg.tags.msgid || Math.random()}`,
      time: tagTime(msg.tags) ?? Date.now(),
      type: msg.verb === "NOTICE" ? "notice" : "privmsg",
      nick: sender,
      text,
    }));
  }
  if (lines && !inbox.entries.length) addLine(inbox, "info", "Your inbox is empty. Personal messages sent to you will be kept here.");
  for (const refusal of refusals(lines)) addLine(inbox, "error", refusal.text);
  changed(inbox);
}

/** How many bytes of text fit in a PRIVMSG the server relays (its line is 512 bytes). */
function textRoom(targets) {
  const longest = Math.max(...targets.map(byteLength));
  return Math.max(64, 512 - 2 - byteLength(`:${state.nick}!${"u".repeat(10)}@${"h".repeat(63)} PRIVMSG  :`) - longest);
}

/**
 * Send `text` to the targets (rooms and/or people) with as few PRIVMSG lines as the
 * server allows (TARGMAX targets a line). Each target shows the message as "sending" until
 * the server echoes it; a refusal is shown under it, in that conversation. Resolves with
 * the refusals as [{target, text}].
 */
async function sendMessage(targets, text, { action = false } = {}) {
  const max = Number(/PRIVMSG:(\d+)/.exec(conn.isupport.get("TARGMAX") || "")?.[1]) || 4;
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  const pending = conn.caps.has("echo-message") && conn.caps.has("labeled-response");
  const failed = [];
  const jobs = [];
  for (let i = 0; i < targets.length; i += max) {
    const group = targets.slice(i, i + max);
    for (const line of lines) {
      for (const piece of splitText(line, textRoom(group) - (action ? 9 : 0))) {
        const body = action ? `\x01ACTION ${piece}\x01` : piece;
        const request = conn.request("PRIVMSG", [group.join(","), body]);
        for (const target of group) {
          const buffer = isRoomName(target) ? ensureRoom(target) : ensurePerson(target);
          if (pending || !conn.caps.has("echo-message")) {
            const type = action ? "action" : "privmsg";
            buffer.add(makeEntry({ type, nick: state.nick, text: piece, own: true, pending, label: request.label }));
            changed(buffer);
          }
        }
        jobs.push(request.then((answer) => settle(group, request.label, answer, failed)));
      }
    }
  }
  await Promise.all(jobs);
  return failed;
}

function settle(group, label, answer, failed) {
  const refused = refusals(answer);
  for (const target of group) {
    const buffer = bufferFor(target);
    if (!buffer) continue;
    const mine = refused.filter((r) => r.target && sameName(r.target, target));
    for (const entry of buffer.pendingFor(label)) {
      if (answer === null) {
        entry.failed = true;
        entry.error = "Not sent: the connection was lost. Send it again once the page has reconnected.";
      } else if (mine.length) {
        entry.failed = true;
        entry.error = mine.map((r) => privateSentence(r, buffer)).join(" ");
      }
      entry.pending = false;
    }
    for (const r of mine) failed.push({ target, text: privateSentence(r, buffer) });
    changed(buffer);
  }
}

function privateSentence(refusal, buffer) {
  if (buffer.kind === "private" && refusal.msg.verb === "401") {
    return `There is no one called ${buffer.name} (no one online and no account by that name), so your message was not delivered.`;
  }
  return refusal.text;
}

const COMMANDS = {
  me: (buffer, rest) => (rest ? sendMessage([buffer.name], rest, { action: true }) : usage("/me does something")),
  join: (buffer, rest) => joinRooms(rest.split(/[\s,]+/).filter(Boolean).map(roomName), { show: true })
    .then((refused) => refused.forEach((r) => addLine(buffer, "error", r.text))),
  leave: (buffer, rest) => leaveRoom(rest ? roomName(rest) : buffer.name, buffer),
  msg: (buffer, rest) => {
    const [nick, ...words] = rest.split(" ");
    if (!nick || !words.join(" ").trim()) return usage("/msg name message");
    return sendMessage([nick], words.join(" ")).then(() => open(personKey(nick)));
  },
  nick: (buffer, rest) => (isValidNick(rest) ? conn.send("NICK", rest) : usage("/nick newname")),
};
COMMANDS.part = COMMANDS.leave;

function usage(text) {
  $("#composer-note").textContent = `Write it like this: ${text}`;
}

export function submitComposer() {
  const buffer = state.buffers.get(state.active);
  const input = $("#composer-input");
  const text = input.value;
  $("#composer-note").textContent = "";
  if (!buffer || !text.trim() || !state.connected()) return;
  if (text.startsWith("/") && !text.startsWith("//")) {
    const [name, ...rest] = text.slice(1).split(" ");
    const command = COMMANDS[name.toLowerCase()];
    if (!command) {
      $("#composer-note").textContent = `There is no command /${name}. To send a message that starts with /, begin it with //.`;
      return;
    }
    command(buffer, rest.join(" ").trim());
  } else {
    sendMessage([buffer.name], text.startsWith("//") ? text.slice(1) : text);
  }
  input.value = "";
  buffer.draft = "";
  autosize();
  view.scrollToBottom();
}

export async function submitPm() {
  const error = $("#pm-error");
  formError(error, "");
  const to = $("#pm-to").value.trim();
  const text = $("#pm-text").value;
  if (!to) return formError(error, "Write who the message is for.");
  if (isRoomName(to)) return formError(error, `${to} is a room. Join it to talk there, or use Send to several rooms.`);
  if (!isValidNick(to, conn.isupportNumber("NICKLEN", 30))) return formError(error, `${to} is not a name anyone can have here.`);
  if (!text.trim()) return formError(error, "Write a message first.");
  if (!state.connected()) return formError(error, "Connect first.");
  const existed = state.buffers.has(personKey(to));
  busy($("#pm-form"), true);
  const failed = await sendMessage([to], text);
  busy($("#pm-form"), false);
  if (failed.length) {
    if (!existed) state.buffers.delete(personKey(to));
    changed(null);
    return formError(error, failed.map((f) => f.text).join(" "));
  }
  $("#pm-form").reset();
  $("#pm-dialog").close();
  open(personKey(to));
}

export async function submitMulti() {
  const error = $("#multi-error");
  formError(error, "");
  const rooms = [...document.querySelectorAll("#multi-rooms input:checked")].map((box) => box.value);
  const text = $("#multi-text").value;
  if (rooms.length === 0) return formError(error, "Tick at least one room.");
  if (!text.trim()) return formError(error, "Write a message first.");
  if (!state.connected()) return formError(error, "Connect first.");
  busy($("#multi-form"), true);
  const failed = await sendMessage(rooms, text);
  busy($("#multi-form"), false);
  if (failed.length) {
    return formError(error, failed.map((f) => `${f.target}: ${f.text}`).join(" "));
  }
  $("#multi-form").reset();
  $("#multi-dialog").close();
}

export function open(key) {
  closeDrawer();
  const previous = state.buffers.get(state.active);
  if (previous) {
    previous.draft = $("#composer-input").value;
    previous.dividerBefore = null;
  }
  if (key === "home" && state.phase === "disconnected") key = "welcome";
  state.active = key;
  if (key === "welcome" || key === "home" || key === "goodbye") {
    view.showView(key);
    if (key === "home") view.home();
    view.membersPanel(false);
  } else if (key === "directory") {
    view.showView("directory");
    view.membersPanel(false);
    refreshDirectory();
  } else {
    const buffer = state.buffers.get(key);
    if (!buffer) return open("home");
    view.showView("conversation");
    buffer.dividerBefore = buffer.entries.find((e) => e.unread) || null;
    view.conversationHead(buffer);
    view.messages(buffer, { force: true });
    view.members(buffer);
    // The members panel stays open beside the messages only where there is room for it.
    view.membersPanel(buffer.kind === "room" && state.membersOpen && wide());
    $("#composer-input").value = buffer.draft || "";
    autosize();
    if (buffer.kind === "inbox") loadInbox();
    else if (!buffer.historyLoaded && state.connected() && canLoadHistory(buffer)) loadLatest(buffer);
    markRead(buffer);
    if (!narrow()) $("#composer-input").focus({ preventScroll: true });
  }
  view.sidebar();
}

export function closeDrawer() {
  $("#app").classList.remove("sidebar-open");
  $("#menu-button").setAttribute("aria-expanded", "false");
  $("#scrim").hidden = !$("#app").classList.contains("members-open") || wide();
}

export function openDrawer() {
  $("#app").classList.add("sidebar-open");
  $("#menu-button").setAttribute("aria-expanded", "true");
  $("#scrim").hidden = false;
  const current = $("#sidebar .buffer-button.current") || $("#sidebar button");
  if (current) current.focus();
}

/** Alt+Up / Alt+Down: the conversation above or below in the sidebar. */
export function switchBy(step) {
  const keys = [...document.querySelectorAll("#sidebar .buffer-button")].map((b) => b.dataset.key);
  if (!keys.length) return;
  const at = keys.indexOf(state.active);
  const next = at < 0 ? (step > 0 ? 0 : keys.length - 1) : (at + step + keys.length) % keys.length;
  open(keys[next]);
}

export function openPerson(nick) {
  if (isMe(nick)) return;
  open(ensurePerson(nick).key);
}

export function autosize() {
  const input = $("#composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}
