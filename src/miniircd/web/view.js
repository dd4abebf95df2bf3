// Drawing the page from the app's state: the sidebar, the open conversation, members,
// the room directory, the status line. Only DOM here; what clicks do is in app.js
// (passed in as `actions`).

import {
  $,
  clear,
  clockTime,
  dayKey,
  dayLabel,
  fullTime,
  h,
  initial,
  linkify,
  nickClass,
  plain,
} from "./dom.js";
import { fold, isoTime } from "./irc.js";
import { TALK } from "./model.js";

const GROUP_GAP = 5 * 60 * 1000; // messages closer than this from one person share a header
const NEAR_BOTTOM = 48; // px: "at the bottom" for sticking to new messages

let state;
let actions;

export function init(appState, appActions) {
  state = appState;
  actions = appActions;
}

// --- the whole page -------------------------------------------------------------------------

export function showView(name) {
  for (const id of ["welcome-view", "home-view", "goodbye-view", "directory-view", "conversation-view"]) {
    $(`#${id}`).hidden = id !== `${name}-view`;
  }
}

export function status() {
  const app = $("#app");
  const phase = state.phase;
  app.dataset.phase = phase;
  const loggedIn = !!state.account;
  const connected = phase === "ready";
  const active = phase !== "disconnected" && phase !== "exited";
  let text = "Not connected";
  if (phase === "connecting" || phase === "registering") text = "Connecting…";
  else if (phase === "waiting") text = "Connection lost";
  else if (connected) text = loggedIn ? `Connected as ${state.nick}` : `Connected as ${state.nick} (guest)`;
  $("#status-text").textContent = text;
  $("#who").hidden = true;
  $("#login-button").hidden = loggedIn;
  $("#register-button").hidden = loggedIn;
  $("#logout-button").hidden = !loggedIn;
  $("#connect-button").hidden = active;
  $("#disconnect-button").hidden = !active;
  $("#exit-button").hidden = phase === "exited";
  $("#network-name").textContent = state.network || "Chat";
  const composerOff = !connected;
  $("#composer-input").disabled = composerOff;
  $("#send-button").disabled = composerOff;
}

export function banner(text, showButton) {
  $("#banner").hidden = !text;
  $("#banner-text").textContent = text || "";
  $("#reconnect-button").hidden = !showButton;
}

export function toast(text, kind = "info") {
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "×");
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, h("span", {}, text), close);
  const remove = () => el.remove();
  close.addEventListener("click", remove);
  $("#toasts").append(el);
  setTimeout(remove, kind === "error" ? 12000 : 7000);
  while ($("#toasts").children.length > 4) $("#toasts").firstElementChild.remove();
}

export function title() {
  const unread = [...state.buffers.values()].reduce((n, b) => n + (b.kind === "inbox" ? 0 : b.unreadCount()), 0);
  const buffer = state.buffers.get(state.active);
  const where = buffer ? `${buffer.kind === "inbox" ? "Inbox" : buffer.name} – ` : "";
  document.title = `${unread ? `(${unread}) ` : ""}${where}${state.network || "Chat"}`;
  const badge = $("#menu-badge");
  badge.hidden = !unread;
  badge.textContent = String(unread);
}

// --- sidebar -----------------------------------------------------------------------------

function badge(count, mention) {
  if (!count) return null;
  return h("span", { class: `badge${mention ? " mention" : ""}`, "aria-label": `${count} unread` }, String(count));
}

function bufferButton(buffer, label, extra) {
  const count = buffer.unreadCount();
  const current = buffer.key === state.active;
  return h("li", {},
    h("button", {
      type: "button",
      class: ["buffer-button", current && "current", count && "has-unread", buffer.kind === "room" && !buffer.joined && "parted"]
        .filter(Boolean).join(" "),
      "aria-current": current ? "page" : null,
      dataset: { key: buffer.key },
      onclick: () => actions.open(buffer.key),
    }, extra, h("span", { class: "buffer-name" }, label), badge(count, buffer.hasMention())));
}

export function sidebar() {
  const rooms = [...state.buffers.values()].filter((b) => b.kind === "room").sort((a, b) => fold(a.name).localeCompare(fold(b.name)));
  clear($("#room-list")).append(...rooms.map((b) => bufferButton(b, b.name.slice(1), h("span", { class: "hash" }, "#"))));
  $("#no-rooms").hidden = rooms.length > 0;

  const people = [...state.buffers.values()]
    .filter((b) => b.kind === "private")
    .sort((a, b) => b.lastActivity - a.lastActivity || fold(a.name).localeCompare(fold(b.name)));
  const inbox = state.buffers.get("inbox");
  const list = clear($("#people-list"));
  if (inbox) {
    // The inbox badge counts every unread personal message.
    const unread = people.reduce((n, b) => n + b.unreadCount(), 0);
    const item = bufferButton(inbox, "Inbox", h("span", { class: "icon-inbox", "aria-hidden": "true" }));
    const button = item.firstChild;
    button.classList.toggle("has-unread", unread > 0);
    const old = button.querySelector(".badge");
    if (old) old.remove();
    const b = badge(unread, false);
    if (b) button.append(b);
    list.append(item);
  }
  const avatar = (b) => h("span", { class: `avatar tiny ${nickClass(b.name)}`, "aria-hidden": "true" }, initial(b.name));
  list.append(...people.map((b) => bufferButton(b, b.name, avatar(b))));
  title();
}

// --- the conversation --------------------------------------------------------------------

export function conversationHead(buffer) {
  $("#conv-title").textContent = buffer.kind === "inbox" ? "Inbox" : buffer.name;
  let topic = "";
  if (buffer.kind === "room") topic = buffer.joined ? buffer.topic : "You are not in this room any more.";
  else if (buffer.kind === "private") topic = "Personal conversation";
  else topic = state.account ? "Your latest personal messages, read or not." : "Log in to see the personal messages sent to your account.";
  clear($("#conv-topic")).append(...linkify(plain(topic)));
  const isRoom = buffer.kind === "room";
  $("#members-button").hidden = !isRoom;
  $("#leave-button").hidden = !isRoom || !buffer.joined;
  $("#close-conv-button").hidden = isRoom ? buffer.joined : buffer.kind !== "private";
  $("#multi-send-button").hidden = !isRoom || !buffer.joined;
  $("#member-count").textContent = isRoom ? String(buffer.members.size) : "";
  $("#composer").hidden = buffer.kind === "inbox" || (isRoom && !buffer.joined);
  $("#composer-label").textContent = `Message to ${buffer.name}`;
  $("#composer-input").placeholder = buffer.kind === "private" ? `Message to ${buffer.name}` : `Message ${buffer.name}`;
  const top = state.canHistory && (isRoom ? buffer.joined : buffer.kind === "private" && !!state.account);
  $("#older-button").hidden = !top || buffer.atStart || !state.connected();
  $("#older-button").disabled = buffer.loadingOlder;
  $("#older-button").textContent = buffer.loadingOlder ? "Loading earlier messages…" : "Load earlier messages";
  $("#history-start").hidden = !(top && buffer.atStart);
  $("#history-start").textContent = buffer.kind === "room"
    ? `This is the beginning of ${buffer.name}.`
    : `This is the beginning of your conversation with ${buffer.name}.`;
}

function entryElement(entry, previous, buffer) {
  if (entry.type === "event" || entry.type === "info" || entry.type === "error") {
    return h("li", { class: `line line-${entry.type}`, role: entry.type === "error" ? "alert" : null, dataset: { id: entry.id } },
      h("span", { class: "line-text" }, ...linkify(entry.text)),
      h("time", { datetime: isoTime(entry.time), title: fullTime(entry.time) }, clockTime(entry.time)));
  }
  const grouped = previous && TALK.has(previous.type) && previous.type !== "action" && entry.type !== "action"
    && fold(previous.nick) === fold(entry.nick) && entry.time - previous.time < GROUP_GAP
    && dayKey(previous.time) === dayKey(entry.time) && !previous.failed;
  const classes = ["msg", entry.type];
  if (grouped) classes.push("grouped");
  if (entry.own) classes.push("own");
  if (entry.pending) classes.push("pending");
  if (entry.failed) classes.push("failed");
  if (entry.mention && !entry.own) classes.push("mention");
  const time = h("time", { datetime: isoTime(entry.time), title: fullTime(entry.time) }, clockTime(entry.time));
  const text = plain(entry.text);
  const body = entry.type === "action"
    ? h("div", { class: "msg-text" }, h("span", { class: `nick ${nickClass(entry.nick)}` }, entry.nick), " ", ...linkify(text))
    : h("div", { class: "msg-text" }, ...linkify(text));
  const head = grouped ? null : h("div", { class: "msg-head" },
    h("span", { class: `nick ${nickClass(entry.nick)}` }, entry.nick),
    entry.type === "notice" ? h("span", { class: "tag" }, "notice") : null,
    buffer.kind === "inbox" ? h("span", { class: "muted" }, "to you") : null,
    time);
  const main = h("div", { class: "msg-main" }, head, body);
  if (grouped) main.prepend(h("span", { class: "side-time" }, time));
  if (entry.pending) main.append(h("p", { class: "msg-status" }, "Sending…"));
  if (entry.failed) main.append(h("p", { class: "msg-error", role: "alert" }, entry.error || "Not sent."));
  if (buffer.kind === "inbox") {
    const reply = () => actions.openPerson(entry.nick);
    main.append(h("button", { type: "button", class: "small reply", onclick: reply }, `Open conversation with ${entry.nick}`));
  }
  const avatar = grouped ? h("div", { class: "avatar-space", "aria-hidden": "true" })
    : h("div", { class: `avatar ${nickClass(entry.nick)}`, "aria-hidden": "true" }, initial(entry.nick));
  return h("li", { class: classes.join(" "), dataset: { id: entry.id } }, avatar, main);
}

function separators(entry, previous, buffer) {
  const out = [];
  if (!previous || dayKey(previous.time) !== dayKey(entry.time)) {
    out.push(h("li", { class: "day", role: "separator" }, h("span", {}, dayLabel(entry.time))));
  }
  if (buffer.dividerBefore && buffer.dividerBefore === entry) {
    out.push(h("li", { class: "new-divider", role: "separator" }, h("span", {}, "New messages")));
  }
  return out;
}

/**
 * Draw the open conversation's messages. Only what changed is drawn when possible (new
 * messages at the end, a message whose state changed); otherwise everything is redrawn,
 * keeping the view where it was: at the bottom, or on the same message when older ones
 * were put above it.
 */
export function messages(buffer, { force = false } = {}) {
  const box = $("#messages");
  const list = $("#message-list");
  const rendered = list._entries || [];
  const same = list._key === buffer.key && !force;
  const entries = buffer.entries;
  const wasAtBottom = !same || isAtBottom();
  const prefixOk = same && rendered.length <= entries.length && rendered.every((e, i) => entries[i] === e);
  if (prefixOk) {
    for (let i = 0; i < rendered.length; i += 1) {
      const entry = entries[i];
      if (entry._drawn !== version(entry)) {
        const old = list.querySelector(`li[data-id="${CSS.escape(entry._drawnId)}"]`);
        const fresh = entryElement(entry, entries[i - 1], buffer);
        if (old) old.replaceWith(fresh);
        stamp(entry);
      }
    }
    for (let i = rendered.length; i < entries.length; i += 1) {
      list.append(...separators(entries[i], entries[i - 1], buffer), entryElement(entries[i], entries[i - 1], buffer));
      stamp(entries[i]);
    }
  } else {
    const firstBefore = same ? rendered[0] : null;
    const fromBottom = box.scrollHeight - box.scrollTop;
    const items = [];
    entries.forEach((entry, i) => {
      items.push(...separators(entry, entries[i - 1], buffer), entryElement(entry, entries[i - 1], buffer));
      stamp(entry);
    });
    list.replaceChildren(...items);
    if (same && firstBefore && !wasAtBottom) box.scrollTop = box.scrollHeight - fromBottom;
  }
  list._entries = entries.slice();
  list._key = buffer.key;
  if (wasAtBottom) scrollToBottom();
  else if (prefixOk && entries.length > rendered.length) $("#jump-button").hidden = false;
}

function version(entry) {
  return `${entry.id}|${entry.pending}|${entry.failed}|${entry.error || ""}`;
}

function stamp(entry) {
  entry._drawn = version(entry);
  entry._drawnId = entry.id;
}

export function isAtBottom() {
  const box = $("#messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM;
}

export function scrollToBottom() {
  const box = $("#messages");
  box.scrollTop = box.scrollHeight;
  $("#jump-button").hidden = true;
}

// --- members -------------------------------------------------------------------------------

function rank(member) {
  if (member.modes.includes("o")) return 0;
  if (member.modes.includes("v")) return 1;
  return 2;
}

export function members(buffer) {
  const list = clear($("#member-list"));
  if (!buffer || buffer.kind !== "room") return;
  const sorted = [...buffer.members.values()].sort((a, b) => rank(a) - rank(b) || fold(a.nick).localeCompare(fold(b.nick)));
  // Group headings only when there is more than one group ("Members" alone says nothing).
  const grouped = new Set(sorted.map(rank)).size > 1;
  let group = -1;
  for (const member of sorted) {
    if (grouped && rank(member) !== group) {
      group = rank(member);
      const label = ["Moderators", "Allowed to talk", "Everyone else"][group];
      list.append(h("li", { class: "member-group" }, label));
    }
    const me = fold(member.nick) === fold(state.nick);
    const note = [me ? "you" : null, member.away ? "away" : null, member.account ? null : "guest"].filter(Boolean).join(", ");
    list.append(h("li", { class: `member${member.away ? " away" : ""}` },
      h("button", {
        type: "button",
        class: "member-button",
        disabled: me ? true : null,
        title: me ? "This is you" : `Send ${member.nick} a personal message`,
        onclick: () => actions.openPerson(member.nick),
      },
      h("span", { class: `avatar small ${nickClass(member.nick)}`, "aria-hidden": "true" }, initial(member.nick)),
      h("span", { class: "member-name" }, member.nick),
      note ? h("span", { class: "member-note" }, note) : null)));
  }
  $("#member-count").textContent = String(buffer.members.size);
}

export function membersPanel(open) {
  $("#members").hidden = !open;
  $("#members-button").setAttribute("aria-expanded", String(open));
  $("#app").classList.toggle("members-open", open);
}

// --- the room directory --------------------------------------------------------------------

export function directory(rooms, statusText) {
  $("#directory-status").textContent = statusText;
  const list = clear($("#directory-list"));
  for (const room of rooms) {
    const joined = state.buffers.get(fold(room.name));
    const inIt = joined && joined.joined;
    list.append(h("li", { class: "directory-item" },
      h("div", { class: "directory-text" },
        h("span", { class: "directory-name" }, room.name),
        h("span", { class: "muted" }, `${room.users} ${room.users === 1 ? "member" : "members"}`),
        room.topic ? h("p", { class: "directory-topic" }, ...linkify(plain(room.topic))) : null),
      h("button", {
        type: "button",
        class: inIt ? "small" : "small primary",
        "aria-label": `${inIt ? "Open" : "Join"} ${room.name}`,
        onclick: (event) => actions.joinFromDirectory(room.name, event.currentTarget),
      }, inIt ? "Open" : "Join"),
      h("p", { class: "form-error directory-error", role: "alert" })));
  }
}

// --- home ------------------------------------------------------------------------------------

export function home() {
  $("#home-who").textContent = state.account
    ? `You are logged in as ${state.account}. Open a room from the list, or find one among all rooms.`
    : `Others see you as ${state.nick}. Create a room, or find one among all rooms. Log in to keep your name.`;
  $("#motd").hidden = state.motd.length === 0;
  clear($("#motd-text")).append(...state.motd.map((line) => h("p", {}, ...linkify(plain(line)))));
}
