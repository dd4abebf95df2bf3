// The chat page: the entry point. It wires the page's buttons, forms and keys to the
// operations (actions.js); what the server sends is handled in handlers.js, drawing is in
// view.js, the socket in connection.js, IRC syntax in irc.js.

import { guestNick } from "./connection.js";
import { $ } from "./dom.js";
import { fold, isValidNick } from "./irc.js";
import * as remember from "./remember.js";
import * as view from "./view.js";
import "./handlers.js";
import {
  autosize,
  closeConversation,
  closeDrawer,
  connect,
  joinFromDirectory,
  leaveRoom,
  loadOlder,
  loginAtStart,
  logout,
  open,
  openDrawer,
  openPerson,
  refreshDirectory,
  submitAuth,
  submitComposer,
  submitCreateRoom,
  submitJoin,
  submitMulti,
  submitPm,
  switchBy,
} from "./actions.js";
import { busy, conn, formError, isMe, markRead, showDialog, state, wide } from "./state.js";

function openLogin() {
  const hint = $("#login-stay-hint");
  hint.hidden = false;
  hint.textContent = "This device keeps a login token, never your password. Log out to end it.";
  const saved = remember.saved();
  if (saved && !$("#login-user").value) {
    $("#login-user").value = saved.account;
    $("#login-stay").checked = true;
  }
  showDialog($("#login-dialog"), $("#login-user").value ? $("#login-password") : null);
}

function openMulti() {
  const active = state.buffers.get(state.active);
  const rooms = [...state.buffers.values()]
    .filter((b) => b.kind === "room" && b.joined)
    .sort((a, b) => fold(a.name).localeCompare(fold(b.name)));
  const box = $("#multi-rooms");
  box.replaceChildren(...rooms.map((b) => {
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = b.name;
    input.checked = !!active && active.key === b.key;
    const label = document.createElement("label");
    label.className = "check";
    label.append(input, ` ${b.name}`);
    return label;
  }));
  showDialog($("#multi-dialog"), $("#multi-text"));
}

function openPm(nick = "") {
  const known = new Set();
  for (const buffer of state.buffers.values()) {
    if (buffer.kind === "room") for (const m of buffer.members.values()) if (!isMe(m.nick)) known.add(m.nick);
    if (buffer.kind === "private") known.add(buffer.name);
  }
  $("#known-people").replaceChildren(...[...known].sort().map((n) => Object.assign(document.createElement("option"), { value: n })));
  $("#pm-to").value = nick;
  showDialog($("#pm-dialog"), nick ? $("#pm-text") : null);
}

function exit() {
  state.active = "goodbye";
  conn.close("Leaving");
  state.phase = "exited";
  view.showView("goodbye");
  view.status();
  view.sidebar();
  window.close(); // works only for windows a script opened; otherwise the goodbye view stays
}

function on(selector, event, handler) {
  $(selector).addEventListener(event, handler);
}

function submit(selector, handler) {
  on(selector, "submit", (event) => {
    event.preventDefault();
    handler();
  });
}

function wire() {
  view.init(state, { open, openPerson, joinFromDirectory });
  // A window made narrow (a phone turned, a window resized) must not keep the members over
  // the messages: there, that panel is an overlay opened on purpose.
  window.matchMedia("(min-width: 1100px)").addEventListener("change", (change) => {
    if (!change.matches) {
      view.membersPanel(false);
      closeDrawer();
    }
  });
  submit("#connect-form", () => {
    const nick = $("#connect-nick").value.trim();
    formError($("#connect-error"), "");
    if (nick && !isValidNick(nick)) {
      const rule = "A name has 1 to 30 letters, digits or - _ [ ] { } \\ | ^ `, and does not start with a digit or -.";
      return formError($("#connect-error"), rule);
    }
    busy($("#connect-form"), true);
    connect(nick || guestNick());
  });
  on("#connect-button", "click", () => {
    open("welcome");
    $("#connect-nick").focus();
  });
  on("#disconnect-button", "click", () => conn.close("Leaving"));
  on("#exit-button", "click", exit);
  on("#start-again", "click", () => {
    state.phase = "disconnected";
    view.status();
    open("welcome");
  });
  on("#reconnect-button", "click", () => conn.retryNow());
  on("#login-button", "click", openLogin);
  on("#welcome-login", "click", openLogin);
  on("#register-button", "click", () => showDialog($("#register-dialog")));
  on("#welcome-register", "click", () => showDialog($("#register-dialog")));
  on("#logout-button", "click", logout);
  submit("#login-form", () => submitAuth("login"));
  submit("#register-form", () => submitAuth("register"));
  on("#create-room-button", "click", () => showDialog($("#create-room-dialog")));
  on("#home-create", "click", () => showDialog($("#create-room-dialog")));
  submit("#create-room-form", submitCreateRoom);
  on("#browse-button", "click", () => open("directory"));
  on("#home-browse", "click", () => open("directory"));
  on("#refresh-rooms", "click", refreshDirectory);
  submit("#join-form", submitJoin);
  on("#new-pm-button", "click", () => openPm());
  submit("#pm-form", submitPm);
  on("#multi-send-button", "click", openMulti);
  submit("#multi-form", submitMulti);
  on("#leave-button", "click", () => {
    const buffer = state.buffers.get(state.active);
    if (buffer) leaveRoom(buffer.name, buffer);
  });
  on("#close-conv-button", "click", () => closeConversation(state.buffers.get(state.active)));
  on("#older-button", "click", () => loadOlder(state.buffers.get(state.active)));
  on("#jump-button", "click", () => {
    view.scrollToBottom();
    markRead(state.buffers.get(state.active));
  });
  on("#members-button", "click", () => {
    const show = $("#members").hidden;
    if (wide()) state.membersOpen = show;
    view.membersPanel(show);
    $("#scrim").hidden = !(show && !wide());
  });
  on("#members-close", "click", () => {
    view.membersPanel(false);
    $("#scrim").hidden = true;
    $("#members-button").focus();
  });
  on("#menu-button", "click", () => ($("#app").classList.contains("sidebar-open") ? closeDrawer() : openDrawer()));
  on("#scrim", "click", () => {
    closeDrawer();
    if (!wide()) view.membersPanel(false);
    $("#scrim").hidden = true;
  });
  submit("#composer", submitComposer);
  on("#composer-input", "keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitComposer();
    }
  });
  on("#composer-input", "input", autosize);
  on("#messages", "scroll", () => {
    const box = $("#messages");
    const buffer = state.buffers.get(state.active);
    if (box.scrollTop < 120) loadOlder(buffer);
    if (view.isAtBottom()) {
      $("#jump-button").hidden = true;
      markRead(buffer);
    }
  });
  for (const dialog of document.querySelectorAll("dialog")) {
    for (const cancel of dialog.querySelectorAll(".cancel")) cancel.addEventListener("click", () => dialog.close());
  }
  document.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      switchBy(event.key === "ArrowUp" ? -1 : 1);
    } else if (event.key === "Escape" && $("#app").classList.contains("sidebar-open")) {
      closeDrawer();
      $("#menu-button").focus();
    }
  });
  // Arrow keys move between the conversations of the sidebar.
  on("#sidebar", "keydown", (event) => {
    if (event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    const buttons = [...document.querySelectorAll("#sidebar .buffer-button")];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    buttons[(at + (event.key === "ArrowUp" ? -1 : 1) + buttons.length) % buttons.length].focus();
  });
  document.addEventListener("visibilitychange", () => markRead(state.buffers.get(state.active)));
  window.addEventListener("focus", () => markRead(state.buffers.get(state.active)));
  window.addEventListener("online", () => {
    if (state.phase === "waiting") conn.retryNow();
  });
  window.addEventListener("pagehide", () => {
    if (state.phase !== "disconnected") conn.close("Page closed");
  });
}

function start() {
  wire();
  view.status();
  open("welcome");
  // Staying logged in: the saved login token logs in as the password would.
  const saved = remember.saved();
  if (!saved) return;
  $("#login-user").value = saved.account;
  $("#login-stay").checked = true;
  if (saved.token) loginAtStart(saved.account, saved.token);
}

// For the browser tests and for debugging from the console: read-only views of the state.
window.chatDebug = { state, conn };

start();
