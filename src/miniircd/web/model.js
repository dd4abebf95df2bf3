// What the page knows: conversations ("buffers": rooms, personal conversations, the
// inbox), their messages in time order without repeats, members, and what is unread.
// No DOM here.

import { fold } from "./irc.js";

let localIds = 0;

export function roomKey(name) {
  return fold(name);
}

export function personKey(nick) {
  return "@" + fold(nick);
}

/** One message or line shown in a conversation. */
export function makeEntry(fields) {
  return {
    id: fields.id || `local${++localIds}`,
    time: fields.time ?? Date.now(),
    type: "privmsg", // privmsg | notice | action | event | info | error
    nick: "",
    account: null,
    text: "",
    own: false,
    pending: false, // sent, waiting for the server's echo
    failed: false,
    unread: false,
    delivered: false, // part of the unread messages the server delivered at login
    mention: false,
    ...fields,
  };
}

export const TALK = new Set(["privmsg", "notice", "action"]);

export class Buffer {
  constructor(kind, name) {
    this.kind = kind; // room | private | inbox
    this.name = name;
    this.key = kind === "room" ? roomKey(name) : kind === "private" ? personKey(name) : kind;
    this.entries = [];
    this.byId = new Map();
    this.members = new Map(); // folded nick -> {nick, modes, away, account}
    this.topic = "";
    this.joined = false;
    this.marker = null; // read marker, ms; null when the server has none
    this.atStart = false; // no earlier messages on the server
    this.historyLoaded = false;
    this.historyLoading = false;
    this.loadingOlder = false;
    this.lastActivity = 0;
    this.draft = "";
  }

  /**
   * Insert in time order; an entry whose id is known already is not added again. Many
   * messages share a millisecond, so `early` puts the entry before those of the same
   * time (stored history is older than what is shown; see addHistory).
   */
  add(entry, { early = false } = {}) {
    const known = this.byId.get(entry.id);
    if (known) return null;
    this.byId.set(entry.id, entry);
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1].time > entry.time || (early && this.entries[i - 1].time === entry.time))) i -= 1;
    this.entries.splice(i, 0, entry);
    if (TALK.has(entry.type)) this.lastActivity = Math.max(this.lastActivity, entry.time);
    return entry;
  }

  /** A batch of stored messages, oldest first, placed as one block before equal times. */
  addHistory(entries) {
    let added = 0;
    for (let i = entries.length - 1; i >= 0; i -= 1) if (this.add(entries[i], { early: true })) added += 1;
    return added;
  }

  /** The server echoed a message we sent: the pending copy becomes the real one. */
  confirm(label, fields) {
    const entry = this.entries.find((e) => e.pending && e.label === label);
    if (!entry) return null;
    this.byId.delete(entry.id);
    Object.assign(entry, fields, { pending: false });
    this.byId.set(entry.id, entry);
    return entry;
  }

  pendingFor(label) {
    return this.entries.filter((e) => e.pending && e.label === label);
  }

  /** Messages from others; the oldest and newest of what the server stored. */
  talk() {
    return this.entries.filter((e) => TALK.has(e.type) && !e.pending && !e.failed);
  }

  oldest() {
    return this.talk()[0] || null;
  }

  newest() {
    const talk = this.talk();
    return talk[talk.length - 1] || null;
  }

  unreadCount() {
    let count = 0;
    for (const e of this.entries) if (e.unread) count += 1;
    return count;
  }

  hasMention() {
    return this.entries.some((e) => e.unread && e.mention);
  }

  /** The read marker moved (here or on another device): older messages are read. */
  applyMarker(ms) {
    if (ms == null) return false;
    if (this.marker != null && ms <= this.marker) return false;
    this.marker = ms;
    for (const e of this.entries) {
      // Messages delivered at login moved the marker themselves; only viewing them here
      // makes them read (see docs/web.md, "Unread counts").
      if (e.unread && !e.delivered && e.time <= ms) e.unread = false;
    }
    return true;
  }

  markAllRead() {
    for (const e of this.entries) e.unread = false;
  }

  setMember(nick, fields = {}) {
    const key = fold(nick);
    const member = this.members.get(key) || { nick, modes: "", away: false, account: null };
    Object.assign(member, { nick }, fields);
    this.members.set(key, member);
    return member;
  }

  removeMember(nick) {
    return this.members.delete(fold(nick));
  }

  hasMember(nick) {
    return this.members.has(fold(nick));
  }

  renameMember(old, nick) {
    const member = this.members.get(fold(old));
    if (!member) return false;
    this.members.delete(fold(old));
    member.nick = nick;
    this.members.set(fold(nick), member);
    return true;
  }
}
