// What the page's parts share: the connection, the state, finding and changing
// conversations, drawing them (batched), read markers, and small form helpers.

import { Connection, socketUrl } from "./connection.js";
import { $ } from "./dom.js";
import { fold, isChannel, isoTime, sameName } from "./irc.js";
import { Buffer, makeEntry, personKey, roomKey } from "./model.js";
import * as view from "./view.js";
import { describeRefusal } from "./words.js";

export const SERVICES = new Set(["nickserv", "chanserv", "memoserv"]);

export const conn = new Connection(socketUrl());

export const state = {
  phase: "disconnected", // connection phases, plus "exited"
  nick: "",
  account: null,
  network: "",
  buffers: new Map(), // key -> Buffer (rooms by folded name, "@nick" people, "inbox")
  active: "home", // a buffer key, "home" or "directory"
  motd: [],
  names: new Map(), // folded room -> members gathered from 353 until 366
  listing: [], // 322 lines until 323
  listWaiters: [], // LIST answers, in the order asked
  catchUp: new Set(), // labels of CHATHISTORY requests that catch up after a reconnect
  historyBlocks: new Map(), // chathistory batch ref -> [{buffer, entry}] until the batch ends
  membersOpen: true, // on wide screens; elsewhere the Members button opens it over the messages
  canHistory: false,
  stay: false, // "stay logged in" was ticked for the login in progress
  reconnecting: false,
  connected: () => state.phase === "ready",
};

const chantypes = () => conn.isupport.get("CHANTYPES") || "#";
export const isRoomName = (name) => isChannel(name, chantypes());
/** Whether a nick (or the account a message came from) is us. */
export const isMe = (nick, account = null) =>
  sameName(nick, state.nick) || (!!account && !!state.account && sameName(account, state.account));

export function ensureRoom(name) {
  let buffer = state.buffers.get(roomKey(name));
  if (!buffer) {
    buffer = new Buffer("room", name);
    state.buffers.set(buffer.key, buffer);
  }
  return buffer;
}

export function ensurePerson(nick) {
  let buffer = state.buffers.get(personKey(nick));
  if (!buffer) {
    buffer = new Buffer("private", nick);
    state.buffers.set(buffer.key, buffer);
  }
  return buffer;
}

export function bufferFor(target) {
  return state.buffers.get(isRoomName(target) ? roomKey(target) : personKey(target)) || null;
}

export function addLine(buffer, type, text, time = Date.now()) {
  if (!buffer) return null;
  const entry = buffer.add(makeEntry({ type, text, time }));
  changed(buffer);
  return entry;
}

export function mentions(text) {
  if (!state.nick) return false;
  const escaped = state.nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w-])${escaped}($|[^\\w-])`, "i").test(text);
}

/** Refusals in an answer to a request, as sentences ([{target, text}]). */
export function refusals(lines) {
  const out = [];
  for (const msg of lines || []) {
    const text = describeRefusal(msg);
    if (!text) continue;
    let target = null;
    if (msg.verb === "FAIL") target = msg.params.length > 3 ? msg.params[2] : null;
    else if (msg.params.length > 2) target = msg.params[1];
    out.push({ target, text, msg });
  }
  return out;
}

export function countTalk(lines) {
  return (lines || []).filter((m) => (m.verb === "PRIVMSG" || m.verb === "NOTICE") && historyBatch(m)).length;
}

export function historyBatch(msg) {
  for (let batch = msg.batch; batch; batch = batch.parent) if (batch.type === "chathistory") return batch;
  return null;
}

const dirty = new Set();
let renderQueued = false;

export function changed(buffer) {
  if (buffer) dirty.add(buffer.key);
  if (!renderQueued) {
    renderQueued = true;
    setTimeout(flush, 0);
  }
}

function flush() {
  renderQueued = false;
  const active = state.buffers.get(state.active);
  if (active && dirty.has(active.key)) {
    view.conversationHead(active);
    view.messages(active);
    view.members(active);
    markRead(active);
  }
  dirty.clear();
  view.sidebar();
}

export function isViewing(buffer) {
  return buffer.key === state.active && document.visibilityState === "visible" && !$("#conversation-view").hidden && view.isAtBottom();
}

export function wide() {
  return window.matchMedia("(min-width: 1100px)").matches;
}

export function narrow() {
  return window.matchMedia("(max-width: 759px)").matches;
}

/** The person sees the end of a conversation: everything in it is read, on every device. */
export function markRead(buffer) {
  if (!buffer || !isViewing(buffer)) return;
  const hadUnread = buffer.unreadCount() > 0;
  buffer.markAllRead();
  const newest = buffer.newest();
  if (newest && buffer.kind !== "inbox" && state.connected() && conn.caps.has("draft/read-marker")
      && (buffer.marker == null || newest.time > buffer.marker)) {
    buffer.applyMarker(newest.time);
    // Not a correspondent yet (a conversation we only tried to start) is refused: fine.
    conn.request("MARKREAD", [buffer.name, `timestamp=${isoTime(newest.time)}`]);
  }
  if (hadUnread) view.sidebar();
}

export function formError(el, text) {
  el.textContent = text || "";
  el.hidden = !text;
}

export function busy(form, on) {
  for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = on;
  form.setAttribute("aria-busy", String(on));
}

export function showDialog(dialog, focus = null) {
  for (const el of dialog.querySelectorAll(".form-error")) formError(el, "");
  if (!dialog.open) dialog.showModal();
  const target = focus || dialog.querySelector("input:not([type=checkbox]), textarea");
  if (target) target.focus();
}

/** Refusals nobody is waiting for: in the conversation they name, else as a toast. */
export function showRefusals(refused) {
  for (const refusal of refused) {
    const buffer = refusal.target ? bufferFor(refusal.target) : null;
    if (buffer) addLine(buffer, "error", refusal.text);
    else view.toast(refusal.text, "error");
  }
}

export function eachRoomWith(nick, fn) {
  for (const buffer of state.buffers.values()) {
    if (buffer.kind !== "room") continue;
    const member = buffer.members.get(fold(nick));
    if (member) fn(buffer, member);
  }
}
